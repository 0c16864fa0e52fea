"""Model identity on the bundled data: which records are one release, which releases one family, the
records' links derived from them, and the merges the rules must not make (a fine-tune is not its base
model; a repository link that contradicts a record's own name ties nothing)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from server.ingest.identity import (
    OverrideError,
    RecordIdentity,
    family_key,
    hf_consistent,
    load_overrides,
    org_keys,
    plausible_alias,
    read_identities,
    release_key,
    resolve,
)
from server.ingest.loading import load_bundled
from server.settings import Settings
from server.store import OxigraphStore

OWL_SAME = "http://www.w3.org/2002/07/owl#sameAs"
FAMILY = "https://w3id.org/openness-graph/ontology#sameFamilyAs"
LINKS = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
SELECT ?p ?a ?b WHERE {
  GRAPH ?g { ?x ?p ?y }
  ?x og:recordId ?a . ?y og:recordId ?b .
  FILTER(?p IN (<http://www.w3.org/2002/07/owl#sameAs>, og:sameFamilyAs))
}"""
MEMBERSHIP = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
SELECT ?id (COUNT(DISTINCT ?r) AS ?n) WHERE {
  ?m a og:ModelRelease ; og:recordId ?id . OPTIONAL { ?m og:ofRelease ?r . ?r a og:Release }
} GROUP BY ?id"""

# What the identity rules make of the bundled data (docs/consolidation.md quotes these figures).
RELEASES, FAMILIES, MULTI_RECORD_RELEASES, CROSS_SOURCE_RELEASES, INDEX_BASES = 453, 341, 12, 8, 12


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    settings = Settings(store=tmp_path_factory.mktemp("identity") / "store", _env_file=None)
    store = OxigraphStore(None)  # in memory: these tests only read what load_bundled wrote
    assert load_bundled(store, settings).ok
    identity = resolve(read_identities(store), load_overrides())
    links: dict[str, set[tuple[str, str]]] = {OWL_SAME: set(), FAMILY: set()}
    for row in store.select(LINKS):
        links[row["p"].value].add((row["a"].value, row["b"].value))
    return store, identity, links


def release_of(identity, record_id: str) -> str:
    return next(rel.release_id for rel in identity.releases.values() if record_id in {r.record_id for r in rel.records})


def family_of(identity, record_id: str) -> str:
    return identity.releases[release_of(identity, record_id)].family_id


def test_counts(bundled):
    _store, identity, _links = bundled
    multi = [r for r in identity.releases.values() if len(r.records) > 1]
    cross = [r for r in multi if len({x.source for x in r.records}) > 1]
    bases = sum(len(r.base_of) for r in identity.releases.values())
    print(f"{len(identity.releases)} releases, {len(identity.families)} families, {len(multi)} multi-record "
          f"releases ({len(cross)} across sources), {bases} Index base-model ties, "
          f"{len(identity.unmatched)} records tied to nothing")
    assert (len(identity.releases), len(identity.families), len(multi), len(cross), bases) == (
        RELEASES, FAMILIES, MULTI_RECORD_RELEASES, CROSS_SOURCE_RELEASES, INDEX_BASES)


def test_every_record_belongs_to_exactly_one_release_in_the_graph(bundled):
    store, _identity, _links = bundled
    counts = {row["id"].value: int(row["n"].value) for row in store.select(MEMBERSHIP)}
    assert len(counts) == 466 and set(counts.values()) == {1}


@pytest.mark.parametrize(("a", "b"), [
    ("mot/CrystalChat", "osai-index/Crystal"),  # the same Hugging Face repository, LLM360/CrystalChat
    ("mot/Granite-4.0-H-Small", "osai-index/Granite"),  # the Index's end model
    ("mot/gpt-oss-120b", "osai-index/GPT-OSS"),
    ("mot/Llama-2-chat-70B", "osai-index/llama-2-chat"),  # 'Llama-2-70B-Chat': word order ignored
    ("mot/Llama-3-70B-Instruct", "mot/Meta-Llama-3-70B-Instruct"),  # the MOT lists it twice
])
def test_same_release(bundled, a, b):
    _store, identity, links = bundled
    assert release_of(identity, a) == release_of(identity, b)
    assert (a, b) in links[OWL_SAME] and (b, a) in links[OWL_SAME]


@pytest.mark.parametrize(("index_record", "base_release"), [
    ("osai-index/amber", "amber"),  # grades AmberSafe, trained from Amber (the MOT's record)
    ("osai-index/T5", "t5"),
    ("osai-index/Pythia", "pythia-6-9b"),  # grades Pythia-Chat-Base-7B, trained from Pythia-6.9B
    ("osai-index/llama-2-chat", "llama-2-70b"),
])
def test_index_base_model_is_graded_as_another_release(bundled, index_record, base_release):
    _store, identity, _links = bundled
    base = identity.releases[base_release]
    assert index_record in {r.record_id for r in base.base_of}
    assert release_of(identity, index_record) != base_release


@pytest.mark.parametrize(("a", "b", "family"), [
    ("mot/OLMo-7B", "osai-index/OLMo", "olmo"),
    ("mot/OLMo-7B-Twin-2T-hf", "mot/OLMo-1B-hf", "olmo"),
    ("mot/Llama-2-7B", "osai-index/llama-2-chat", "llama-2"),
    ("mot/Pythia-70M", "mot/Pythia-12B", "pythia"),
    ("mot/CrystalCoder", "osai-index/Crystal", "crystal"),  # the MOT names Crystal as CrystalCoder's origin
    ("mot/Claude-1", "mot/Claude-2", "claude-1"),
])
def test_same_family_different_release(bundled, a, b, family):
    _store, identity, links = bundled
    assert family_of(identity, a) == family_of(identity, b) == family
    assert release_of(identity, a) != release_of(identity, b)
    if a.split("/")[0] != b.split("/")[0]:
        assert (a, b) in links[FAMILY]


@pytest.mark.parametrize(("a", "b"), [
    # Index fine-tunes whose base model is a MOT release: the fine-tune is neither its base nor its family
    ("mot/Llama-2-13B", "osai-index/BELLE"),
    ("mot/Llama-2-70B", "osai-index/CodeLlama"),
    ("mot/Mistral-7B-v0.1", "osai-index/Geitje"),
    ("mot/Pythia-12B", "osai-index/dolly"),
    # SynLogic's file swaps base and end model names ("endmodelname: Qwen2.5-32B")
    ("mot/Qwen2.5-7B", "osai-index/SynLogic"),
    # the MOT links Salesforce/codet5p-16b from its 220M record: a contradicted link ties nothing
    ("mot/CodeT5+-220M", "mot/CodeT5+-16B"),
    ("mot/dbrx-instruct", "mot/DeepSeek-MoE-16B-base"),
])
def test_no_false_merge(bundled, a, b):
    _store, identity, links = bundled
    assert release_of(identity, a) != release_of(identity, b)
    assert (a, b) not in links[OWL_SAME]
    if not a.startswith("mot/CodeT5"):
        assert family_of(identity, a) != family_of(identity, b)


def test_names():
    assert release_key("Llama-2-chat-70B") == release_key("Llama-2-70B-Chat")
    assert release_key("Meta-Llama-3-8B-Instruct", frozenset({"meta"})) == release_key("Llama-3-8B-Instruct")
    assert release_key("OLMo-7B") != release_key("OLMo-7B-hf")
    assert family_key("Llama-2-7B-chat") == "llama-2"
    assert family_key("OLMo-7B-Twin-2T-hf") == family_key("OLMo") == "olmo"
    assert family_key("T5") == ""  # too short to group on
    assert hf_consistent(["OpenLLaMA-3Bv2"], "openlm-research/open_llama_3b_v2")
    assert hf_consistent(["T5-11b"], "google-t5/t5-11b")
    assert not hf_consistent(["CodeT5+-220M"], "Salesforce/codet5p-16b")  # the sizes contradict
    assert not hf_consistent(["dbrx-instruct"], "deepseek-ai/deepseek-moe-16b-base")
    assert plausible_alias("Crystal", "CrystalChat") and plausible_alias("Tülu", "Llama-3.1-Tulu-3-405B")
    assert not plausible_alias("SynLogic", "Qwen2.5-32B")
    assert org_keys("Ai2", "allenai/Olmo-3.1-32B-Think") & org_keys("Allen Institute for AI", "allenai/OLMo-7B")


def _record(record_id: str, title: str, hf: str | None = None, producer: str | None = "Acme") -> RecordIdentity:
    rec = RecordIdentity(f"https://example.org/{record_id}", record_id, record_id.split("/")[0], title, [title])
    rec.hf_id = hf
    rec.orgs = org_keys(producer, hf)
    return rec


def test_curated_overrides_decide(tmp_path: Path):
    records = {r.iri: r for r in (_record("a/x", "Widget-7B"), _record("b/y", "Widget-7B"),
                                  _record("c/z", "Gadget-1B"), _record("d/w", "Other-2B"))}
    plain = resolve(records)
    assert len(plain.releases) == 3  # a/x and b/y share a name and producer
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("""
not-same:
  - records: [a/x, b/y]
    evidence: different checkpoints with one name
same-release:
  - records: [c/z, d/w]
    evidence: renamed on release
same-family:
  - records: [a/x, c/z]
    evidence: one product line
""")
    decided = resolve(records, load_overrides(str(overrides)))
    rel = {r.record_id: rel.release_id for rel in decided.releases.values() for r in rel.records}
    assert rel["a/x"] != rel["b/y"] and rel["c/z"] == rel["d/w"]
    fam = {rid: decided.releases[r].family_id for rid, r in rel.items()}
    assert fam["a/x"] == fam["c/z"] == fam["b/y"]  # not-same parts releases; the family name still joins them
    plain_family = {r.record_id: rel.family_id for rel in plain.releases.values() for r in rel.records}
    assert plain_family["c/z"] != plain_family["a/x"]  # the curated same-family joined them
    assert any("renamed on release" in e for e in decided.releases[rel["c/z"]].evidence)


def test_a_repository_conflict_keeps_records_apart():
    records = {r.iri: r for r in (_record("a/x", "Widget-7B", hf="acme/widget-7b"),
                                  _record("b/y", "Widget-7B", hf="acme/widget-7b-v2"))}
    assert len(resolve(records).releases) == 2


@pytest.mark.parametrize(("text", "message"), [
    ("same-release:\n  - records: [a/x]\n    evidence: e\n", "two or more record ids"),
    ("not-same:\n  - records: [a/x, b/y]\n", "needs 'evidence'"),
    ("same-as: []\n", "unknown section"),
])
def test_malformed_overrides_say_what_to_fix(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(OverrideError, match=message):
        load_overrides(str(path))


def test_sources_per_release(bundled):
    _store, identity, _links = bundled
    sizes = Counter(len(r.records) for r in identity.releases.values())
    assert sizes[1] == RELEASES - MULTI_RECORD_RELEASES
