"""AI bills of materials (issue #21): SPDX 3.0.1 and CycloneDX 1.6 exports of records, checked by the official
validators offline (tests/bom_validators.py), served by the CLI and HTTP, and read back as records.

The whole bundled data is exported and validated in tests/test_bom_bundled.py (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bom_validators import SPDX_DIR, cyclonedx_error, spdx_violations
from license_expression import get_spdx_licensing

from loaders.errors import RecordError
from loaders.vocab import Minter
from server.assess.validation import validate_text
from server.bom.cyclonedx import unresolved_refs
from server.bom.export import file_name, record_bom
from server.web.page_queries import record_verdict

ROOT = Path(__file__).resolve().parents[1]
LLAMA = "mot/Llama-2-7B"
LLAMA_LICENSE_URL = "https://github.com/meta-llama/llama-models/blob/main/models/llama2/LICENSE"
SPDX_JSON = {"accept": "application/spdx+json"}
CDX_JSON = {"accept": "application/vnd.cyclonedx+json"}


def export(store, settings, record_id: str, fmt: str) -> dict:
    minter = Minter(settings.base_iri)
    return json.loads(record_bom(store, minter, record_id, fmt, record_verdict(store, minter, record_id)))


def elements(doc: dict) -> dict[str, dict]:
    return {n["spdxId"]: n for n in doc["@graph"] if "spdxId" in n}


def relationships(doc: dict, source: str, kind: str) -> list[list[str]]:
    return [n["to"] for n in doc["@graph"] if n.get("type") == "Relationship" and n["from"] == source
            and n["relationshipType"] == kind]


def of_type(doc: dict, kind: str) -> list[dict]:
    return [n for n in doc["@graph"] if n.get("type") == kind]


def properties(component: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in component.get("properties", []):
        out.setdefault(p["name"], []).append(p["value"])
    return out


def assert_valid_expressions(expressions: list[str]) -> None:
    """Every expression parses and names only SPDX-listed ids or LicenseRef- ids (made-up ids pass every other
    SPDX check)."""
    licensing = get_spdx_licensing()
    for expression in expressions:
        unknown = [k for k in licensing.unknown_license_keys(expression) if not k.startswith("LicenseRef-")]
        assert not unknown, (expression, unknown)
        assert str(licensing.parse(expression, strict=True)) == expression


@pytest.fixture(scope="module")
def llama_spdx(bundled_store, bundled_settings) -> dict:
    return export(bundled_store, bundled_settings, LLAMA, "spdx3")


@pytest.fixture(scope="module")
def llama_cdx(bundled_store, bundled_settings) -> dict:
    return export(bundled_store, bundled_settings, LLAMA, "cyclonedx")


@pytest.fixture(scope="module")
def olmo_spdx(bundled_store, bundled_settings) -> dict:
    return export(bundled_store, bundled_settings, "osai-index/OLMo", "spdx3")


@pytest.fixture(scope="module")
def olmo_cdx(bundled_store, bundled_settings) -> dict:
    return export(bundled_store, bundled_settings, "osai-index/OLMo", "cyclonedx")


# --- SPDX 3.0.1 ---------------------------------------------------------------------------------------------

def test_spdx_exports_conform_to_the_model_shapes_profile_shapes_and_schema(llama_spdx, olmo_spdx, bundled_store,
                                                                            bundled_settings):
    olmo_mot = export(bundled_store, bundled_settings, "mot/OLMo-7B", "spdx3")
    found = spdx_violations([llama_spdx, olmo_spdx, olmo_mot])
    assert found == {"schema": [], "spdx-model.ttl": [], "profile shapes": []}
    assert llama_spdx["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"


def test_the_profile_shapes_would_catch_a_missing_required_field(llama_spdx):
    """The check is not vacuous: an AIPackage without its supplier fails the profile shapes (the official SHACL
    lets it pass, ../shared/data/spdx3/README.md caveat 3)."""
    broken = json.loads(json.dumps(llama_spdx))
    model = next(n for n in broken["@graph"] if n.get("type") == "ai_AIPackage")
    del model["suppliedBy"]
    found = spdx_violations([broken])
    assert found["spdx-model.ttl"] == [] and found["profile shapes"] == [f"{model['spdxId']}: AIPackage: suppliedBy "
                                                                         "minCount 1"]


def test_llama_2_spdx_carries_its_custom_license_with_url_and_use_restrictions(llama_spdx):
    by_id = elements(llama_spdx)
    model = next(iter(of_type(llama_spdx, "ai_AIPackage")))
    assert model["name"] == "Llama-2-7B" and model["software_packageVersion"] == "7B"
    assert by_id[model["suppliedBy"]]["type"] == "Organization" and by_id[model["suppliedBy"]]["name"] == "Meta"
    declared, concluded = (relationships(llama_spdx, model["spdxId"], k)
                           for k in ("hasDeclaredLicense", "hasConcludedLicense"))
    assert len(declared) == len(concluded) == 1 and declared == concluded
    custom = by_id[declared[0][0]]
    assert custom["type"] == "expandedlicensing_CustomLicense"
    assert custom["name"] == "Llama 2 Community License Agreement"
    assert custom["expandedlicensing_seeAlso"] == [LLAMA_LICENSE_URL]
    assert custom["expandedlicensing_isOsiApproved"] is False
    assert "user count cap (s.2)" in custom["comment"]
    annotations = of_type(llama_spdx, "Annotation")
    verdicts = {a["spdxId"].split("#verdict-")[1]: json.loads(a["statement"]) for a in annotations}
    assert all(a["subject"] == model["spdxId"] for a in annotations)
    assert set(verdicts) == {"osaid-1.0", "mof-1.0", "owd-0.3", "fsf-free-ml", "eu-ai-act-foss", "osai-index"}
    osaid = verdicts["osaid-1.0"]
    assert osaid["verdict"] == "fail" and osaid["title"] == "OSI Open Source AI Definition 1.0"
    failed = {r["requirement"]: r for r in osaid["failed_requirements"]}
    assert failed["parameters-osi-terms"]["kind"] == "restricted"
    assert "user count cap, s.2" in failed["parameters-osi-terms"]["message"]
    restrictions = {(r["license"], r["kind"], r["clause"]) for r in osaid["use_restrictions"]}
    assert ("LicenseRef-scancode-llama-2-license-2023", "user-count-cap", "s.2") in restrictions
    assert ("LicenseRef-scancode-llama-2-license-2023", "field-of-use", "s.1.b.iv (Acceptable Use Policy)") \
        in restrictions
    assert verdicts["mof-1.0"]["class"] == 0
    # the research paper is released without a license: NoneLicense, the statement kept as declared
    paper = next(n for n in of_type(llama_spdx, "software_File") if n["name"].endswith("Research paper"))
    assert relationships(llama_spdx, paper["spdxId"], "hasDeclaredLicense") == [["expandedlicensing_NoneLicense"]]
    assert ["hasDocumentation"] == [n["relationshipType"] for n in of_type(llama_spdx, "Relationship")
                                    if n["to"] == [paper["spdxId"]]]


def test_olmo_spdx_carries_its_training_datasets_with_their_licenses(olmo_spdx, bundled_store, bundled_settings):
    by_id = elements(olmo_spdx)
    model = next(iter(of_type(olmo_spdx, "ai_AIPackage")))
    trained = [t for targets in relationships(olmo_spdx, model["spdxId"], "trainedOn") for t in targets]
    kb = {t.split("#dataset-")[1]: by_id[t] for t in trained if "#dataset-" in t}
    assert set(kb) == {"dolma-3-mix", "dolma-3-dolmino-mix", "dolma-3-longmino-mix", "dolci-think-rl-32b"}
    for dataset in kb.values():
        assert dataset["type"] == "dataset_DatasetPackage"
        assert dataset["software_downloadLocation"].startswith("https://huggingface.co/datasets/allenai/")
        assert by_id[dataset["originatedBy"][0]]["name"] == "Allen Institute for AI"
        assert dataset["comment"].startswith("OSAID data class ")
        (license_ref,) = relationships(olmo_spdx, dataset["spdxId"], "hasDeclaredLicense")
        expression = by_id[license_ref[0]]["simplelicensing_licenseExpression"]
        assert "ODC-By-1.0" in expression
    expressions = [n["simplelicensing_licenseExpression"]
                   for n in of_type(olmo_spdx, "simplelicensing_LicenseExpression")]
    assert_valid_expressions(expressions)
    # a custom id in an expression points at its CustomLicense element
    for node in of_type(olmo_spdx, "simplelicensing_LicenseExpression"):
        for entry in node.get("simplelicensing_customIdToUri", []):
            assert by_id[entry["value"]]["type"] == "expandedlicensing_CustomLicense"
    # the MOT's OLMo-7B names no dataset: its Datasets component (Apache-2.0) is the DatasetPackage it is trained on
    mot = export(bundled_store, bundled_settings, "mot/OLMo-7B", "spdx3")
    mot_by_id = elements(mot)
    mot_model = next(iter(of_type(mot, "ai_AIPackage")))
    (trained_on,) = relationships(mot, mot_model["spdxId"], "trainedOn")
    data = mot_by_id[trained_on[0]]
    assert data["type"] == "dataset_DatasetPackage" and data["name"] == "OLMo-7B: Datasets"
    (declared,) = relationships(mot, data["spdxId"], "hasDeclaredLicense")
    assert mot_by_id[declared[0]]["simplelicensing_licenseExpression"] == "Apache-2.0"
    (tested_on,) = relationships(mot, mot_model["spdxId"], "testedOn")
    assert mot_by_id[tested_on[0]]["name"] == "OLMo-7B: Evaluation data"


# --- CycloneDX 1.6 ------------------------------------------------------------------------------------------

def test_cyclonedx_exports_pass_the_strict_validator_and_refs_resolve(llama_cdx, olmo_cdx):
    for doc in (llama_cdx, olmo_cdx):
        assert cyclonedx_error(json.dumps(doc)) is None
        assert unresolved_refs(doc) == []
        assert doc["specVersion"] == "1.6" and doc["serialNumber"].startswith("urn:uuid:")
    broken = json.loads(json.dumps(olmo_cdx))
    broken["metadata"]["component"]["modelCard"]["modelParameters"]["datasets"].append({"ref": "no-such-ref"})
    assert cyclonedx_error(json.dumps(broken)) is None, "the schema does not check references"
    assert unresolved_refs(broken) == ["no-such-ref"]


def test_llama_2_cyclonedx_carries_the_custom_license_and_verdict_properties(llama_cdx):
    model = llama_cdx["metadata"]["component"]
    assert model["type"] == "machine-learning-model" and model["name"] == "Llama-2-7B"
    assert model["supplier"]["name"] == model["manufacturer"]["name"] == "Meta"
    concluded = [c["license"] for c in model["licenses"] if c["license"]["acknowledgement"] == "concluded"]
    assert concluded[0]["name"] == "Llama 2 Community License Agreement"
    assert concluded[0]["url"] == LLAMA_LICENSE_URL
    restrictions = properties(concluded[0])
    assert restrictions["openness:restriction:user-count-cap"][0].startswith("s.2: ")
    declared = [c["license"]["name"] for c in model["licenses"] if c["license"]["acknowledgement"] == "declared"]
    assert declared == ["Llama 2 Community License"]
    props = properties(model)
    assert props["openness:verdict:osaid-1.0"] == ["fail"]
    assert props["openness:class:mof-1.0"] == ["0"]
    assert "user count cap, s.2" in props["openness:reason:osaid-1.0:parameters-osi-terms"][0]
    assert any("user count cap" in u for u in model["modelCard"]["considerations"]["useCases"])


def test_olmo_cyclonedx_carries_its_training_datasets_as_data_components(olmo_cdx):
    components = {c["bom-ref"]: c for c in olmo_cdx["components"]}
    refs = [d["ref"] for d in olmo_cdx["metadata"]["component"]["modelCard"]["modelParameters"]["datasets"]]
    dolma = components[next(r for r in refs if r.endswith("/datasets/dolma-3-mix"))]
    assert dolma["type"] == "data"
    assert {c["license"].get("id") for c in dolma["licenses"]} >= {"ODC-By-1.0"}
    assert dolma["data"][0]["type"] == "dataset" and dolma["data"][0]["classification"].startswith("OSAID data class")
    assert properties(dolma)["openness:dataClass"] == ["public"]
    assert dolma["supplier"]["name"] == "Allen Institute for AI"


# --- deterministic output ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["spdx3", "cyclonedx"])
def test_the_same_record_exports_to_the_same_bytes(bundled_store, bundled_settings, fmt):
    minter = Minter(bundled_settings.base_iri)
    verdict = record_verdict(bundled_store, minter, LLAMA)
    first = record_bom(bundled_store, minter, LLAMA, fmt, verdict)
    assert record_bom(bundled_store, minter, LLAMA, fmt, json.loads(json.dumps(verdict))) == first
    assert "2024-10-03T00:00:00" in first  # the record's release date, not the clock


# --- CLI and HTTP ----------------------------------------------------------------------------------------------

def openness(*args: str, store: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from server.cli import main; main()", *args, "--store", str(store)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_cli_exports_one_record_to_stdout_and_refuses_bad_arguments(bundled_store, bundled_settings, llama_cdx):
    bundled_store.oxigraph.flush()
    done = openness("export", "--format", "cyclonedx", "--model", LLAMA, store=bundled_settings.store)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == llama_cdx
    done = openness("export", "--format", "spdx3", "--model", "mot/No-Such-Model", store=bundled_settings.store)
    assert done.returncode == 1 and "no record 'mot/No-Such-Model' is loaded" in done.stderr
    done = openness("export", "--format", "spdx3", store=bundled_settings.store)
    assert done.returncode == 2 and "needs --model ID" in done.stderr


def test_http_bom_is_negotiated_by_accept_or_format(pages_client, llama_spdx, llama_cdx):
    path = "/models/mot/Llama-2-7B/bom"
    r = pages_client.get(path, headers=SPDX_JSON)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/spdx+json")
    assert r.json() == llama_spdx
    r = pages_client.get(path, headers=CDX_JSON)
    assert r.headers["content-type"].startswith("application/vnd.cyclonedx+json") and r.json() == llama_cdx
    assert f'filename="{file_name(LLAMA, "cyclonedx")}"' in r.headers["content-disposition"]
    assert pages_client.get(path + "?format=cyclonedx").json() == llama_cdx
    assert pages_client.get(path).json()["@context"].startswith("https://spdx.org/rdf/3.0.1/")  # */* -> SPDX
    r = pages_client.get(path, headers={"accept": "application/json"})
    assert r.status_code == 406 and r.json()["error"] == "not-acceptable"
    assert "application/spdx+json" in r.json()["message"]
    r = pages_client.get(path + "?format=xml")
    assert r.status_code == 406 and "?format=spdx3" in r.json()["message"]
    assert pages_client.get("/models/mot/No-Such-Model/bom", headers=SPDX_JSON).status_code == 404


# --- import ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,media", [("spdx3", "application/spdx+json"),
                                       ("cyclonedx", "application/vnd.cyclonedx+json")])
def test_post_validate_reads_a_bom_back_to_the_same_verdicts(pages_client, bundled_results, fmt, media):
    body = pages_client.get(f"/models/mot/Llama-2-7B/bom?format={fmt}").content
    r = pages_client.post(f"/validate?name=Llama-2-7B.{fmt}", content=body, headers={"content-type": media})
    assert r.status_code == 200, r.text
    original = next(v for v in bundled_results if v["id"] == LLAMA)
    assert r.json()["well_formed"] and r.json()["verdicts"] == original["verdicts"]
    assert r.json()["id"] == f"{fmt}/Llama-2-7B"


def test_a_bom_failing_its_schema_is_refused_with_the_validators_first_message(llama_spdx, llama_cdx,
                                                                              bundled_settings):
    spdx = json.loads(json.dumps(llama_spdx))
    model = next(n for n in spdx["@graph"] if n.get("type") == "ai_AIPackage")
    model["software_primaryPurpose"] = "weights"  # not a software purpose
    outcome = validate_text(json.dumps(spdx), "bad.spdx3.json", bundled_settings)
    (problem,) = outcome.problems
    assert problem["message"].startswith("fails the SPDX 3.0.1 JSON schema at ")
    assert "\n" not in problem["message"] and len(problem["message"]) <= 300
    cdx = json.loads(json.dumps(llama_cdx))
    cdx["metadata"]["component"]["modelCard"]["modelParameters"]["approach"] = {"type": "guessing"}
    outcome = validate_text(json.dumps(cdx), "bad.cdx.json", bundled_settings)
    (problem,) = outcome.problems
    assert problem["message"].startswith("fails the CycloneDX 1.6 JSON schema at ")
    assert "guessing" in problem["message"] and "\n" not in problem["message"]


def test_other_tools_boms_are_read_from_their_standard_fields(bundled_settings):
    """The official SPDX AI example and a plain CycloneDX ML-BOM (no openness: properties) load as records."""
    example = (SPDX_DIR / "examples" / "minimal-ai-bom.spdx3.json").read_text()
    outcome = validate_text(example, "pythia.spdx3.json", bundled_settings)
    assert outcome.record is not None, outcome.problems
    graph_text = outcome.record.graph.serialize(format="nt")
    assert "http://spdx.org/licenses/Apache-2.0" in graph_text  # the weights' declared license, resolved
    assert "/datasets/the-pile" in graph_text  # "The Pile" matched in the dataset knowledge base
    osaid = outcome.verdict["verdicts"]["osaid-1.0"]
    assert osaid["verdict"] in ("fail", "insufficient-evidence")
    cdx = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [
        {"type": "data", "bom-ref": "data-1", "name": "Dolma",
         "externalReferences": [{"type": "website", "url": "https://huggingface.co/datasets/allenai/dolma"}]}],
        "metadata": {"component": {
            "type": "machine-learning-model", "bom-ref": "m", "name": "OLMo-7B",
            "licenses": [{"license": {"id": "Apache-2.0"}}], "purl": "pkg:huggingface/allenai/OLMo-7B",
            "modelCard": {"modelParameters": {"datasets": [{"ref": "data-1"}]}}}}}
    outcome = validate_text(json.dumps(cdx), "olmo.cdx.json", bundled_settings)
    assert outcome.record is not None, outcome.problems
    triples = outcome.record.graph.serialize(format="nt")
    assert "/datasets/dolma>" in triples and "allenai/OLMo-7B" in triples
    # no BOM says it lists every component: what it leaves out is not stated, not missing
    reasons = {r["requirement"]: r["kind"] for r in outcome.verdict["verdicts"]["osaid-1.0"]["reasons"]}
    assert reasons["training-code-osi-license"] == "unknown"


def test_a_bom_without_a_model_is_refused(bundled_settings):
    from loaders.detect import load_text

    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
           "components": [{"type": "library", "name": "x", "bom-ref": "x"}]}
    with pytest.raises(RecordError, match="machine-learning-model component"):
        load_text(json.dumps(doc), "lib.cdx.json", Minter(bundled_settings.base_iri))
    doc["specVersion"] = "1.4"
    with pytest.raises(RecordError, match="specVersion 1.5 or 1.6"):
        load_text(json.dumps(doc), "old.cdx.json", Minter(bundled_settings.base_iri))
