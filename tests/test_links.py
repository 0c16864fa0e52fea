"""Cross-source links on the bundled data: how many owl:sameAs and og:sameFamilyAs links, none inside one
source, a few right ones, and the false merges the rules must not make (a fine-tune is not its base model)."""

from __future__ import annotations

from collections import Counter

import pytest
from server.ingest.links import family_key, name_key, plausible_alias

from loaders.vocab import Minter
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

# The bundled data's links with the rules of server/ingest/loading.py (see the test's printout).
SAME_AS_PAIRS = 22
FAMILY_PAIRS = 60


@pytest.fixture(scope="module")
def links(tmp_path_factory) -> dict[str, set[tuple[str, str]]]:
    settings = Settings(store=tmp_path_factory.mktemp("links") / "store", _env_file=None)
    store = OxigraphStore(None)  # in memory: these tests only read what load_bundled wrote
    report = load_bundled(store, settings)
    assert report.ok
    out: dict[str, set[tuple[str, str]]] = {OWL_SAME: set(), FAMILY: set()}
    for row in store.select(LINKS):
        out[row["p"].value].add((row["a"].value, row["b"].value))
    return out


def pairs(directed: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for p in directed}


def test_link_counts(links):
    same, family = links[OWL_SAME], links[FAMILY]
    print(f"owl:sameAs: {len(pairs(same))} pairs ({len(same)} triples); "
          f"og:sameFamilyAs: {len(pairs(family))} pairs ({len(family)} triples)")
    # both directions are stated
    assert all((b, a) in same for a, b in same) and all((b, a) in family for a, b in family)
    assert len(pairs(same)) == SAME_AS_PAIRS
    assert len(pairs(family)) == FAMILY_PAIRS
    assert not pairs(same) & pairs(family)  # a pair is linked one way, not both


def test_no_links_within_one_source(links):
    for directed in links.values():
        for a, b in directed:
            assert a.split("/", 1)[0] != b.split("/", 1)[0], (a, b)


def test_every_linked_index_record_is_matched_by_few_mot_records(links):
    per_index = Counter(b for a, b in links[OWL_SAME] if b.startswith("osai-index/"))
    # the only Index record with two MOT sameAs partners: MOT lists Llama 3 70B Instruct twice
    assert {k: v for k, v in per_index.items() if v > 1} == {"osai-index/llama-3-instruct": 2}


@pytest.mark.parametrize(("a", "b"), [
    ("mot/Amber", "osai-index/amber"),  # the same Hugging Face repository, LLM360/Amber
    ("mot/Granite-4.0-H-Small", "osai-index/Granite"),  # the Index's endmodelname
    ("mot/gpt-oss-120b", "osai-index/GPT-OSS"),
    ("mot/CrystalChat", "osai-index/Crystal"),
])
def test_right_same_as(links, a, b):
    assert (a, b) in links[OWL_SAME] and (b, a) in links[OWL_SAME]


@pytest.mark.parametrize(("a", "b"), [
    ("mot/OLMo-7B", "osai-index/OLMo"),
    ("mot/Llama-2-7B", "osai-index/llama-2-chat"),
    ("mot/Granite-4.0-H-Small-Base", "osai-index/Granite"),  # the base of the graded release: a family
])
def test_right_family(links, a, b):
    assert (a, b) in links[FAMILY]
    assert (a, b) not in links[OWL_SAME]


@pytest.mark.parametrize(("a", "b"), [
    # Index fine-tunes whose basemodelname is a MOT release: the fine-tune is not the base model
    ("mot/Llama-2-13B", "osai-index/BELLE"),
    ("mot/Llama-2-70B", "osai-index/CodeLlama"),
    ("mot/Mistral-7B-v0.1", "osai-index/Geitje"),
    ("mot/Pythia-12B", "osai-index/dolly"),
    ("mot/Pythia-6.9B", "osai-index/Pythia"),  # the Index grades Pythia-Chat-Base-7B, a fine-tune
    # SynLogic's file swaps base and end model names ("endmodelname: Qwen2.5-32B")
    ("mot/Qwen2.5-7B", "osai-index/SynLogic"),
])
def test_no_false_same_as(links, a, b):
    assert (a, b) not in links[OWL_SAME]


def test_swapped_alias_makes_no_family_either(links):
    linked = {b for a, b in links[FAMILY] | links[OWL_SAME] if a.startswith("mot/Qwen2.5")}
    assert "osai-index/SynLogic" not in linked and "osai-index/Guru" not in linked


def test_keys():
    assert name_key("Llama-2-7B") == name_key("llama 2 7b") == name_key("LLAMA_2_7B")
    assert family_key("Llama-2-7B-chat") == "llama-2"
    assert family_key("OLMo-7B-hf") == family_key("OLMo") == "olmo"
    assert family_key("T5") == ""  # too short to link families on
    assert plausible_alias("Snowflake Arctic", "Snowflake-Arctic-Instruct")
    assert plausible_alias("Crystal", "Crystal-Chat")
    assert not plausible_alias("SynLogic", "Qwen2.5-32B")


def test_minter_links_graph_name():
    assert Minter().links_graph.endswith("/graph/links")
