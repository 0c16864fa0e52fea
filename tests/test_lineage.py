"""Lineage between releases (issue #19 item 3): a Hugging Face card's ``base_model`` links its release to the
base's release, or to a placeholder release with the Hub id; a derivative stays under its base's license,
and one that states a more permissive license is flagged ``license-conflict-with-base``."""

from __future__ import annotations

from pathlib import Path

from loaders.vocab import Minter
from server.assess.consolidate import assess_releases
from server.assess.engine import read_licenses, read_records
from server.ingest.loading import load_sources
from server.store import OxigraphStore

ROOT = Path(__file__).resolve().parent.parent
LLAMA3 = ROOT / "data" / "mot" / "models" / "Meta-Llama-3-8B-Instruct.yml"


def card(folder: Path, front_matter: str) -> Path:
    folder.mkdir(parents=True)
    path = folder / "README.md"
    path.write_text(f"---\n{front_matter.strip()}\n---\n# {folder.name}\n\nA model card.\n", encoding="utf-8")
    return path


def releases_of(paths: list[Path]) -> tuple[OxigraphStore, dict[str, dict]]:
    store = OxigraphStore(None)
    report = load_sources(store, Minter(), [(p, None) for p in paths], workers=1)
    assert report.ok, [str(e) for e in report.errors]
    results = assess_releases(store, read_records(store), read_licenses(store))
    return store, {r["id"]: r for r in results}


def test_a_permissive_license_on_a_llama_fine_tune_conflicts_with_its_base(tmp_path):
    tune = card(tmp_path / "acme-llama3-ft", """
license: apache-2.0
base_model: meta-llama/Meta-Llama-3-8B-Instruct
base_model_relation: finetune
""")
    _store, releases = releases_of([LLAMA3, tune])
    derivative = releases["acme-llama3-ft"]
    assert derivative["bases"] == [{"id": "meta-llama-3-8b-instruct", "name": "Meta-Llama-3-8B-Instruct",
                                    "relation": "finetunedFrom"}]
    (flag,) = [f for f in derivative["flags"] if f["kind"] == "license-conflict-with-base"]
    assert flag["license"] == "Apache License 2.0" and "Llama 3" in flag["base_license"]
    assert "user count cap" in flag["clause"] and flag["base"] == "Meta-Llama-3-8B-Instruct"
    owd = derivative["verdicts"]["owd-0.3"]
    assert owd["verdict"] == "fail"
    inherited = [r for r in owd["reasons"] if r.get("rule") == "base-license-inherited"]
    assert {r["kind"] for r in inherited} == {"restricted", "not-open"}
    assert all("inherited from its base model Meta-Llama-3-8B-Instruct" in r["message"] for r in inherited)
    for definition in ("osaid-1.0", "fsf-free-ml"):
        assert derivative["verdicts"][definition]["verdict"] != "pass"
    # the base keeps its own verdicts; nothing flows the other way
    assert not [f for f in releases["meta-llama-3-8b-instruct"]["flags"] if f["kind"] == "license-conflict-with-base"]


def test_an_open_base_imposes_nothing(tmp_path):
    olmo = ROOT / "data" / "mot" / "models" / "OLMo-7B.yml"
    tune = card(tmp_path / "acme-olmo-ft", """
license: apache-2.0
base_model: allenai/OLMo-7B
""")
    _store, releases = releases_of([olmo, tune])
    derivative = releases["acme-olmo-ft"]
    assert derivative["bases"][0]["id"] == "olmo-7b"
    assert not [f for f in derivative["flags"] if f["kind"] == "license-conflict-with-base"]
    assert not [r for d in derivative["verdicts"].values() for r in d.get("reasons", [])
                if r.get("rule") == "base-license-inherited"]


def test_a_base_not_loaded_is_a_placeholder_release_and_merges_list_every_parent(tmp_path):
    merged = card(tmp_path / "acme-merge", """
license: mit
base_model:
  - org-a/Alpha-7B
  - org-b/Beta-7B
base_model_relation: merge
""")
    store, releases = releases_of([merged])
    assert [(b["name"], b["relation"]) for b in releases["acme-merge"]["bases"]] == [
        ("org-a/Alpha-7B", "mergedFrom"), ("org-b/Beta-7B", "mergedFrom")]
    placeholders = store.select("""PREFIX og: <https://w3id.org/openness-graph/ontology#>
        SELECT ?hf WHERE { ?r a og:Release ; og:huggingFaceId ?hf FILTER NOT EXISTS { ?m og:ofRelease ?r } }
        ORDER BY ?hf""")
    assert [r["hf"].value for r in placeholders] == ["org-a/Alpha-7B", "org-b/Beta-7B"]
    assert set(releases) == {"acme-merge"}  # a placeholder is no release to assess: no record describes it
