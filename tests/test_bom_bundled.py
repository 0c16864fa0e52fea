"""Every bundled release's AI BOMs (issue #21, "must show"): each SPDX export conforms to the SPDX 3.0.1 SHACL
and the AI/Dataset profile shapes with 0 violations and passes the JSON schema; each CycloneDX export passes
the strict 1.6 validator with every reference resolved. And every record's export, loaded back with
``openness load``'s code (which runs each document through its official validator first), gets the same
verdicts as the record it came from, in both formats.

pySHACL takes ~0.1 s per BOM and the CycloneDX strict validator ~50 ms per URL: the SHACL check and the loads
run in two processes each."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from bom_validators import cyclonedx_error, spdx3_validate, spdx_violations_parallel
from license_expression import get_spdx_licensing

from loaders.vocab import Minter
from server.assess.consolidate import assess_releases
from server.assess.engine import assess_store, read_licenses, read_records
from server.bom.cyclonedx import unresolved_refs
from server.bom.export import FORMATS, export_records, export_releases, file_name
from server.ingest.loading import load_sources
from server.store import OxigraphStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(bundled_store, bundled_settings, bundled_results, tmp_path_factory) -> dict[str, list[Path]]:
    """Every bundled record's BOM in both formats, as ``openness export --out`` writes them."""
    out = tmp_path_factory.mktemp("boms")
    minter = Minter(bundled_settings.base_iri)
    return {fmt: export_records(bundled_store, minter, fmt, out / fmt, bundled_results) for fmt in FORMATS}


@pytest.fixture(scope="module")
def release_results(bundled_store) -> list[dict]:
    return assess_releases(bundled_store, read_records(bundled_store), read_licenses(bundled_store))


@pytest.fixture(scope="module")
def exported_releases(bundled_store, bundled_settings, release_results, tmp_path_factory) -> dict[str, list[Path]]:
    """Every bundled release's BOM in both formats, as ``openness export --out`` writes them."""
    out = tmp_path_factory.mktemp("release-boms")
    minter = Minter(bundled_settings.base_iri)
    return {fmt: export_releases(bundled_store, minter, fmt, out / fmt, release_results) for fmt in FORMATS}


def test_every_record_and_release_is_exported_once_per_format(exported, bundled_results, exported_releases,
                                                               release_results):
    for fmt, paths in exported.items():
        assert sorted(p.name for p in paths) == sorted(file_name(v["id"], fmt) for v in bundled_results)
    for fmt, paths in exported_releases.items():
        assert sorted(p.name for p in paths) == sorted(file_name(r["id"], fmt) for r in release_results)


def test_every_release_spdx_export_conforms_to_spdx_3_0_1_and_the_ai_dataset_profiles(exported_releases):
    found = spdx_violations_parallel(exported_releases["spdx3"])
    assert found == {"schema": [], "spdx-model.ttl": [], "profile shapes": []}


def _cyclonedx_errors(paths: list[Path]) -> dict[str, str]:
    return {p.name: error for p in paths if (error := cyclonedx_error(p.read_text(encoding="utf-8")))}


def test_every_release_cyclonedx_export_passes_the_strict_validator(exported_releases):
    paths = exported_releases["cyclonedx"]
    with ProcessPoolExecutor(2) as pool:
        errors = {k: v for part in pool.map(_cyclonedx_errors, [paths[0::2], paths[1::2]]) for k, v in part.items()}
    assert not errors, list(errors.items())[:3]
    unresolved = {p.name: found for p in paths if (found := unresolved_refs(json.loads(p.read_text())))}
    assert not unresolved


def test_llama_2_release_bom_carries_its_license_and_consolidated_verdicts(exported_releases):
    doc = json.loads(next(p for p in exported_releases["cyclonedx"] if p.name == "llama-2-7b.cdx.json").read_text())
    properties = {p["name"]: p["value"] for p in doc["metadata"]["component"].get("properties", [])}
    assert any("Llama 2" in str(v) for v in properties.values())
    spdx = json.loads(next(p for p in exported_releases["spdx3"] if p.name == "llama-2-7b.spdx3.json").read_text())
    names = {n.get("name") for n in spdx["@graph"] if "CustomLicense" in n.get("type", "")}
    assert "Llama 2 Community License Agreement" in names
    annotations = [json.loads(n["statement"]) for n in spdx["@graph"] if n.get("type") == "Annotation"]
    osaid = next(a for a in annotations if a["definition"] == "osaid-1.0")
    restricted = [r for r in osaid["failed_requirements"] if r["kind"] == "restricted"]
    assert restricted and all(r["records"] == ["mot/Llama-2-7B"] for r in restricted)  # each reason names its record


def test_every_license_expression_is_valid(exported):
    licensing = get_spdx_licensing()
    expressions = {node["simplelicensing_licenseExpression"] for path in exported["spdx3"]
                   for node in json.loads(path.read_text())["@graph"]
                   if node.get("type") == "simplelicensing_LicenseExpression"}
    expressions |= {choice["expression"] for path in exported["cyclonedx"]
                    for component in _components(json.loads(path.read_text()))
                    for choice in component.get("licenses", []) if "expression" in choice}
    unknown = sorted({key for e in expressions for key in licensing.unknown_license_keys(e)
                      if not key.startswith("LicenseRef-")})
    assert not unknown
    assert all(str(licensing.parse(e, strict=True)) == e for e in expressions)


def test_spdx3_validate_accepts_an_export_offline(exported):
    """``spdx3-validate`` itself (jsonschema + pySHACL), its three spdx.org URLs served from ../shared; on the
    smallest export (its ``jsonschema`` check takes seconds per document)."""
    smallest = min(exported["spdx3"], key=lambda p: (p.stat().st_size, p.name))
    assert spdx3_validate(smallest) == []


def test_every_cyclonedx_export_resolves_its_references(exported):
    """The strict 1.6 validator itself runs on every export in the round trip below: the CycloneDX loader
    refuses a document it rejects (tests/test_bom.py shows both)."""
    unresolved = {p.name: found for p in exported["cyclonedx"] if (found := unresolved_refs(json.loads(p.read_text())))}
    assert not unresolved


def test_round_trip_gives_the_same_verdicts(exported, bundled_results, bundled_settings, tmp_path):
    """Export -> ``openness load`` -> assess: every record, both formats, the same verdict object. Loading runs
    each document through its official validator first (SPDX 3.0.1 JSON schema; CycloneDX's strict 1.6 JSON
    validator), so every export passing here passed it."""
    minter = Minter(bundled_settings.base_iri)
    store = OxigraphStore(tmp_path / "store")
    try:
        files = [(path, None) for paths in exported.values() for path in paths]
        report = load_sources(store, minter, files, workers=2)  # the loaders in two processes, as a big load
        assert report.ok, [str(e) for e in report.errors][:3]
        loaded = {v["id"]: v["verdicts"] for v in assess_store(store)}
    finally:
        store.close()
    prefix = {"spdx3": "spdx3/", "cyclonedx": "cyclonedx/"}
    mismatched = []
    for original in bundled_results:
        for fmt in FORMATS:
            record_id = prefix[fmt] + file_name(original["id"], fmt)[:-len(FORMATS[fmt].suffix)]
            if loaded.get(record_id) != original["verdicts"]:
                mismatched.append((original["id"], fmt))
    assert len(loaded) == 2 * len(bundled_results)
    assert not mismatched


def _components(doc: dict) -> list[dict]:
    return [doc["metadata"]["component"], *doc.get("components", [])]
