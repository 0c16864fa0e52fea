"""Training datasets as first-class entities: the curated knowledge base, its RDF and mention matching."""

from __future__ import annotations

from collections import Counter

import pytest
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import FOAF

from loaders.datasets_kb import (
    DATA_CLASSES,
    DEFAULT_KB_PATH,
    DatasetMatcher,
    coverage,
    dataset_graph,
    index_datasource_mentions,
    license_iri,
    load_dataset_kb,
    load_kb,
    match_dataset,
    miss_reason,
    mot_dataset_mentions,
    normalize_url,
    validate_entries,
)
from loaders.vocab import DATACLASS, DCAT, DCT, OG, OGLIC, PROV, SKOS, Minter

# The 15 datasets the issue names, by our ids.
NAMED = {
    "wikimedia-dumps": "Wikipedia",
    "mnist": "MNIST",
    "openwebtext": "OpenWebText",
    "imagenet": "ImageNet",
    "coco": "COCO",
    "librispeech": "LibriSpeech",
    "common-voice": "Common Voice",
    "common-crawl": "Common Crawl",
    "the-pile": "The Pile",
    "redpajama-v1": "RedPajama",
    "dolma": "Dolma",
    "fineweb": "FineWeb",
    "c4": "C4",
    "laion-5b": "LAION-5B",
    "the-stack": "The Stack",
}


@pytest.fixture(scope="module")
def kb():
    return load_kb(DEFAULT_KB_PATH)


@pytest.fixture(scope="module")
def entries(kb):
    return list(kb.entries)


@pytest.fixture(scope="module")
def by_id(entries):
    return {e.id: e for e in entries}


@pytest.fixture(scope="module")
def minter():
    return Minter("https://example.org/og/")


@pytest.fixture(scope="module")
def graph(kb, minter):
    g = dataset_graph(kb, minter)
    # the graph must survive a Turtle round trip
    return Graph().parse(data=g.serialize(format="turtle"), format="turtle")


# --- the knowledge base ---------------------------------------------------------------------------------


def test_kb_loads_and_is_consistent(kb, entries):
    assert len(entries) >= 60
    assert validate_entries(entries, kb.license_refs) == []
    assert kb.license == "CC-BY-4.0"
    assert "CC-BY-4.0" in kb.attribution
    assert load_dataset_kb(DEFAULT_KB_PATH) == entries


@pytest.mark.parametrize("dataset_id", sorted(NAMED))
def test_named_datasets_present_with_licence_and_class(by_id, dataset_id):
    e = by_id[dataset_id]
    assert e.licenses, dataset_id
    assert all(lic.source for lic in e.licenses), dataset_id
    assert e.data_class in DATA_CLASSES
    assert e.data_class_reason
    assert e.publisher.name and e.publisher.url
    assert e.landing_page.startswith("http")
    assert e.sources


def test_every_entry_is_complete(entries):
    for e in entries:
        assert e.licenses and e.data_class in DATA_CLASSES and e.sources, e.id
        for src in e.sources:
            assert src.startswith(("http://", "https://")), (e.id, src)


def test_multi_part_licences_say_what_they_cover(by_id):
    coco = by_id["coco"]
    parts = {lic.id: lic.applies_to for lic in coco.licenses}
    assert parts["CC-BY-4.0"].startswith("annotations")
    assert "images" in parts["LicenseRef-og-flickr-tou"]
    laion = {lic.id: lic.applies_to for lic in by_id["laion-5b"].licenses}
    assert "metadata" in laion["CC-BY-4.0"]


def test_validation_catches_problems(entries):
    e = entries[0]
    bad = type(e)(**{**e.__dict__, "data_class": "closed", "licenses": ()})
    problems = validate_entries([bad])
    assert any("data_class" in p for p in problems)
    assert any("no licence" in p for p in problems)
    clash = type(e)(**{**entries[1].__dict__, "match": (e.title,)})
    assert any("claimed by both" in p for p in validate_entries([e, clash]))
    assert any("duplicate dataset id" in p for p in validate_entries([e, type(e)(**e.__dict__)]))


def test_data_classes_follow_the_faq_reading(by_id):
    assert by_id["common-voice"].data_class == "open"          # CC0
    assert by_id["common-crawl"].data_class == "public"        # crawled copyrighted pages
    assert by_id["laion-5b"].data_class == "public"            # links to images
    assert by_id["imagenet"].data_class == "obtainable"        # registration + terms
    assert by_id["llama-2-pretraining-data"].data_class == "unshareable"


# --- RDF ------------------------------------------------------------------------------------------------


def test_graph_types_and_required_properties(graph, entries, minter):
    for e in entries:
        ds = URIRef(minter.dataset(e.id))
        assert (ds, RDF.type, DCAT.Dataset) in graph, e.id
        assert (ds, RDF.type, OG.TrainingDataset) in graph, e.id
        assert graph.value(ds, DCT.title) is not None, e.id
        assert graph.value(ds, DCAT.landingPage) is not None, e.id
        assert list(graph.objects(ds, DCT.license)), e.id
        assert graph.value(ds, OG.dataClass) == DATACLASS[e.data_class], e.id
        assert graph.value(ds, SKOS.scopeNote) is not None, e.id
        pub = graph.value(ds, DCT.publisher)
        assert pub == URIRef(minter.organization(e.publisher.name)), e.id
        assert (pub, RDF.type, FOAF.Agent) in graph and (pub, RDF.type, PROV.Organization) in graph
        assert graph.value(pub, FOAF.name) is not None


def test_graph_licence_iris_and_parts(graph, minter):
    coco = URIRef(minter.dataset("coco"))
    licences = set(graph.objects(coco, DCT.license))
    assert URIRef("http://spdx.org/licenses/CC-BY-4.0") in licences
    assert OGLIC["LicenseRef-og-flickr-tou"] in licences
    parts = list(graph.objects(coco, DCAT.distribution))
    assert len(parts) == 2
    described = {str(graph.value(p, DCT.description)): graph.value(p, DCT.license) for p in parts}
    cc_by = license_iri("CC-BY-4.0")
    assert any(d.startswith("annotations") and lic == cc_by for d, lic in described.items())
    assert (OGLIC["LicenseRef-og-flickr-tou"], RDF.type, DCT.LicenseDocument) in graph


def test_graph_identifiers(graph, minter):
    imagenet = URIRef(minter.dataset("imagenet"))
    assert (imagenet, SKOS.exactMatch, URIRef("http://www.wikidata.org/entity/Q24901201")) in graph
    pile = URIRef(minter.dataset("the-pile"))
    see_also = set(graph.objects(pile, URIRef("http://www.w3.org/2000/01/rdf-schema#seeAlso")))
    assert URIRef("https://huggingface.co/datasets/EleutherAI/pile") in see_also
    assert (pile, DCT.isReferencedBy, URIRef("https://arxiv.org/abs/2101.00027")) in graph
    dedup = URIRef(minter.dataset("the-pile-deduplicated"))
    assert (dedup, PROV.wasDerivedFrom, pile) in graph
    assert list(graph.objects(pile, DCT.source))


def test_graph_catalog_carries_our_licence(graph, minter):
    catalog = URIRef(f"{minter.base}datasets")
    assert (catalog, RDF.type, DCAT.Catalog) in graph
    assert graph.value(catalog, DCT.license) == license_iri("CC-BY-4.0")
    assert len(list(graph.objects(catalog, DCAT.dataset))) >= 60


# --- matching -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    # real links from the Open Source AI Index records
    ("https://huggingface.co/datasets/EleutherAI/the_pile_deduplicated", "the-pile-deduplicated"),
    ("https://huggingface.co/datasets/bigcode/the-stack", "the-stack"),
    ("https://huggingface.co/datasets/togethercomputer/RedPajama-Data-1T", "redpajama-v1"),
    ("https://huggingface.co/datasets/allenai/dolma", "dolma"),
    ("https://huggingface.co/datasets/c4", "c4"),
    ("https://www.tensorflow.org/datasets/catalog/c4#c4multilingual", "mc4"),
    ("https://laion.ai/blog/laion-5b/", "laion-5b"),
    ("https://arxiv.org/abs/2210.08402", "laion-5b"),
    ("https://arxiv.org/pdf/2402.19173", "the-stack-v2"),
    ("https://pile.eleuther.ai/", "the-pile"),
    ("https://github.com/tatsu-lab/stanford_alpaca#data-release", "alpaca"),
    ("https://github.com/LianjiaTech/BELLE/tree/main/data/1.5M", "belle-train-data"),
    ("https://github.com/bigscience-workshop/xmtf?tab=readme-ov-file#data", "xp3"),
    ("https://github.com/facebookresearch/llama/blob/main/MODEL_CARD.md#training-dataset",
     "llama-1-pretraining-data"),
    ("https://ai.meta.com/research/publications/llama-2-open-foundation-and-fine-tuned-chat-models/",
     "llama-2-pretraining-data"),
    ("https://huggingface.co/datasets/WizardLM/WizardLM_evol_instruct_V2_196k",
     "wizardlm-evol-instruct-v2-196k"),
    ("https://huggingface.co/datasets/WizardLMTeam/WizardLM_evol_instruct_V2_196k",
     "wizardlm-evol-instruct-v2-196k"),
    # sub-paths, scheme/www/trailing-slash/case variations
    ("https://huggingface.co/datasets/allenai/dolma/tree/main", "dolma"),
    ("http://www.huggingface.co/datasets/HuggingFaceFW/fineweb/blob/main/README.md", "fineweb"),
    ("huggingface.co/datasets/huggingfacefw/FineWeb/", "fineweb"),
    ("https://huggingface.co/datasets/mozilla-foundation/common_voice_13_0", "common-voice"),
    # Hugging Face ids and names (MOT writes these)
    ("EleutherAI/pile", "the-pile"),
    ("togethercomputer/RedPajama-Data-1T", "redpajama-v1"),
    ("mc4", "mc4"),
    ("cc100", "cc100"),
    ("wikipedia", "wikimedia-dumps"),
    ("The Pile", "the-pile"),
    ("the_pile", "the-pile"),
    ("Common Crawl", "common-crawl"),
    ("LAION-5B", "laion-5b"),
    ("ImageNet", "imagenet"),
    ("MS COCO", "coco"),
])
def test_match_dataset(text, expected):
    assert match_dataset(text) == expected


@pytest.mark.parametrize("text", [
    "https://huggingface.co/mistralai/Mistral-Nemo-Base-2407",      # a model card
    "https://huggingface.co/datasets/HuggingFaceTB/smollm3-configs",  # configs, not training data
    "https://arxiv.org/pdf/2408.07410",                              # a model paper
    "https://github.com/google-research/bert",
    "https://huggingface.co/datasets/allenai/dolma-unknown",         # near miss, no fuzzy guessing
    "https://laion.ai/blog/leo-lm/",
    "https://github.com/bigscience-workshop/xmtf",                   # the repository, not its #data section
    "https://huggingface.co/",
    "the stacks",
    "piles",
    "",
])
def test_no_mislinks(text):
    assert match_dataset(text) is None


def test_normalize_url():
    assert normalize_url("https://www.HuggingFace.co/datasets/Org/Name/tree/main/") == \
        "huggingface.co/datasets/org/name"
    assert normalize_url("https://huggingface.co/datasets/c4/viewer") == "huggingface.co/datasets/c4"
    assert normalize_url("https://arxiv.org/pdf/2210.08402v3.pdf") == "arxiv.org/abs/2210.08402"
    assert normalize_url("https://huggingface.co/papers/2404.14619") == "arxiv.org/abs/2404.14619"
    assert normalize_url("https://github.com/a/b/blob/master/x/y.md#sec") == "github.com/a/b/x/y.md#sec"


def test_matcher_works_on_given_entries(entries):
    only_mnist = [e for e in entries if e.id == "mnist"]
    m = DatasetMatcher(only_mnist)
    assert m.match("https://huggingface.co/datasets/ylecun/mnist") == "mnist"
    assert m.match("https://huggingface.co/datasets/allenai/c4") is None
    assert match_dataset("mnist", entries=only_mnist) == "mnist"


# --- coverage of the bundled records --------------------------------------------------------------------


def test_index_datasource_link_coverage():
    mentions = index_datasource_mentions()
    urls = [m for m in mentions if m.is_url]
    assert len(urls) >= 200
    resolved, total, misses = coverage(mentions)
    share = resolved / total
    print(f"\nOpen Source AI Index datasource links resolved to a dataset entity: "
          f"{resolved}/{total} ({share:.1%})")
    print("What stops the rest:")
    for reason, n in Counter(miss_reason(m.text) for m in misses).most_common():
        print(f"  {n:4d}  {reason}")
    for text, n in Counter(m.text for m in misses).most_common(10):
        print(f"        {n}x {text}")
    assert share >= 0.60


def test_mot_dataset_mentions_resolve():
    mentions = mot_dataset_mentions()
    assert mentions, "the MOT records name some datasets"
    resolved, total, misses = coverage(mentions, urls_only=False)
    print(f"\nMOT Datasets mentions resolved: {resolved}/{total}; unresolved: {[m.text for m in misses]}")
    assert resolved / total >= 0.8


def test_unmatched_script_mode(capsys):
    from loaders.datasets_kb import main

    assert main(["--unmatched"]) == 0
    out = capsys.readouterr().out
    assert "Open Source AI Index datasources:" in out
    assert "MOT Datasets components:" in out
    assert "https://arxiv.org/pdf/2408.07410" in out
