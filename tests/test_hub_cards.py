"""Hugging Face cards as they are in the wild (issue #19 item 4), through the pure loader: licence lists, licences
in tags only, ``license: other`` with and without ``license_name``, ``base_model`` as a string, a list or a Hub
URL with each relation, no front matter, a card unread (gated) loaded from the API; the licence KB knows the
``license_name`` slugs real cards use; the 349 real ``license: other`` models of hub-docs resolve."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdflib import RDF, Literal, URIRef

from loaders.errors import RecordError
from loaders.hf_card import load_hf_hub
from loaders.license_names import resolve_license
from loaders.record import SourceInfo
from loaders.vocab import DCT, FAIR4ML, LICSTATE, OG, Minter
from tests.fakehub import FakeModel, real_cards

MINTER = Minter()
OGLIC = "https://w3id.org/openness-graph/licenses/"
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "licenses" / "hf_models_license_other_sample.csv"


def hub_record(card: str | None, **info):
    model = FakeModel(info.pop("id", "org/model"), card)
    data = model.info() | info
    return load_hf_hub(card, data, SourceInfo("hf", "hf:org/model", model.sha, retrieved="2026-01-01T00:00:00Z"),
                       MINTER, None if card is not None else "gated repository (test)")


def weights(rec):
    artifact = URIRef(MINTER.artifact(rec.record_id, "model-parameters-final"))
    return ({str(x) for x in rec.graph.objects(artifact, DCT.license)}, rec.graph.value(artifact, OG.licenseState),
            rec.graph.value(artifact, OG.licenseStatement))


@pytest.mark.parametrize(("front", "ids", "statement"), [
    ("license: [apache-2.0, cc-by-4.0]", {"http://spdx.org/licenses/Apache-2.0", "http://spdx.org/licenses/CC-BY-4.0"},
     "apache-2.0 AND cc-by-4.0"),
    ("license: [other, mit]\nlicense_name: gemma-terms-of-use",
     {f"{OGLIC}LicenseRef-scancode-gemma-tou-2025-03-24", "http://spdx.org/licenses/MIT"},
     "gemma-terms-of-use AND mit"),
    ("license: other\nlicense_name: stabilityai-ai-community",
     {f"{OGLIC}LicenseRef-scancode-stability-ai-community-2024"}, "stabilityai-ai-community"),
    ("license: other", set(), "other"),
])
def test_licence_shapes(front, ids, statement):
    rec = hub_record(f"---\n{front}\n---\n# card\n")
    found, state, stated = weights(rec)
    assert found == ids and str(stated) == statement
    assert state == (LICSTATE.licensed if ids else LICSTATE.undisclosed)


def test_licence_only_in_the_hub_tags():
    rec = hub_record("---\nlibrary_name: transformers\n---\n", tags=["transformers", "license:apache-2.0"])
    assert weights(rec)[0] == {"http://spdx.org/licenses/Apache-2.0"}


def test_no_front_matter_is_a_model_with_no_stated_licence():
    rec = hub_record("# A card without metadata\n")
    assert weights(rec)[1:] == (LICSTATE.unlicensed, None)


def test_malformed_yaml_is_refused_with_its_line():
    with pytest.raises(RecordError) as info:
        hub_record(real_cards()["replicate/flux-lora-template"])
    assert info.value.line == 20 and info.value.message.startswith("malformed YAML")


@pytest.mark.parametrize(("front", "extra", "links"), [
    ("base_model: org/base", {}, {("finetunedFrom", "org/base")}),
    ("base_model: https://huggingface.co/Org/Base\nbase_model_relation: quantized", {},
     {("quantizedFrom", "Org/Base")}),
    ("base_model: [org/a, org/b]", {}, {("mergedFrom", "org/a"), ("mergedFrom", "org/b")}),
    ("base_model: [org/teacher, org/student]\nbase_model_relation: distillation", {},
     {("baseModel", "org/teacher"), ("baseModel", "org/student")}),
    ("base_model: org/base\nlibrary_name: peft", {}, {("adapterOf", "org/base")}),
    ("base_model: org/base", {"tags": ["base_model:quantized:org/base"]}, {("quantizedFrom", "org/base")}),
    ("base_model: org/base", {"siblings": [{"rfilename": "model-Q4_K_M.gguf"}]}, {("quantizedFrom", "org/base")}),
    ("base_model: not a repo id!", {}, set()),
])
def test_base_model_links_to_a_placeholder_parent(front, extra, links):
    rec = hub_record(f"---\nlicense: mit\n{front}\n---\n", **extra)
    props = {"finetunedFrom", "adapterOf", "quantizedFrom", "mergedFrom", "baseModel"}
    found = {(str(p).split("#")[1], str(rec.graph.value(o, OG.huggingFaceId)))
             for p, o in rec.graph.predicate_objects(rec.iri) if str(p).split("#")[-1] in props}
    assert found == links
    for _, parent_id in links:
        parent = URIRef(MINTER.hub_model(parent_id))
        assert str(parent) == MINTER.base + "hf/" + parent_id.lower()
        assert (parent, RDF.type, FAIR4ML.MLModel) in rec.graph
        assert (parent, OG.huggingFaceId, Literal(parent_id)) in rec.graph


def test_card_unread_loads_what_the_api_says():
    card = "---\nlicense: other\nlicense_name: gemma-terms-of-use\nbase_model: google/gemma-2b\n---\n"
    model = FakeModel("org/gated", card, gated="manual")
    rec = load_hf_hub(None, model.info(), SourceInfo("hf", "hf:org/gated", model.sha), MINTER, "gated (test)")
    assert rec.record_id == "hf/org/gated" and str(rec.graph.value(rec.iri, OG.cardUnreadReason)) == "gated (test)"
    assert weights(rec)[0] == {f"{OGLIC}LicenseRef-scancode-gemma-tou-2025-03-24"}
    assert str(rec.graph.value(rec.iri, OG.gatedAccess)) == "manual"
    assert rec.graph.value(rec.iri, OG.finetunedFrom) == URIRef(MINTER.hub_model("google/gemma-2b"))


@pytest.mark.parametrize(("slug", "license_id", "restriction"), [
    ("gemma-terms-of-use", "LicenseRef-scancode-gemma-tou-2025-03-24", "field-of-use"),
    ("stabilityai-ai-community", "LicenseRef-scancode-stability-ai-community-2024", "revenue-cap"),
    ("sai-nc-community", "LicenseRef-scancode-stability-ai-nc-2023-12-06", "non-commercial"),
    ("flux-1-dev-non-commercial-license", "LicenseRef-scancode-flux-1-nc", "non-commercial"),
    ("lfm1.0", "LicenseRef-og-lfm-open-1.0", None),
    ("falcon-llm-license", "LicenseRef-og-tii-falcon-llm", None),
    ("tencent-hunyuan-community", "LicenseRef-og-tencent-hunyuan-community", None),
    ("yi-license", "LicenseRef-og-yi-community", None),
    ("exaone", "LicenseRef-og-exaone-unspecified", None),
])
def test_license_name_slugs_of_real_cards_resolve_to_kb_licences(slug, license_id, restriction):
    from loaders.bundled_data import data_dir
    from loaders.license_kb import license_entries_cached

    resolution = resolve_license(slug)
    assert resolution.state == "licensed" and resolution.ids == (license_id,)
    entry = license_entries_cached(data_dir())[license_id]
    assert restriction is None or restriction in entry.restrictions


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"{SAMPLE} not found (../shared beside the repo)")
def test_the_349_real_license_other_models_resolve():
    rows = list(csv.DictReader(SAMPLE.open(encoding="utf-8")))
    assert len(rows) == 349
    states = {}
    for row in rows:
        card = {"license": "other", **({"license_name": row["suggested_license_name"]}
                                       if row["suggested_license_name"] else {})}
        front = "\n".join(f"{k}: {v}" for k, v in card.items())
        rec = hub_record(f"---\n{front}\n---\n", id=row["model_id"])
        found, state, _ = weights(rec)
        states[row["model_id"]] = (row["suggested_license_name"], state, found)
    named = {k: v for k, v in states.items() if v[0]}
    assert all(state == LICSTATE.licensed and len(found) == 1 for _, state, found in named.values())
    assert all(state == LICSTATE.undisclosed for name, state, _ in states.values() if not name)
    assert len(named) == 267
