"""Each loader on real bundled records and on small fixtures (tests/data/loaders): license resolution
exactly as the MOT does it, the Index's 12 dimensions with "closed" kept apart from "not stated", Hugging
Face cards (LicenseRef for ``license: other``, base-model relations, datasets, gating), native RDF (one
og:ModelRelease, no remote JSON-LD context), and provenance on every record."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from rdflib import RDF, Literal, URIRef

from loaders.bundled_data import data_file
from loaders.components import BY_NAME, INDEX_DIMENSIONS
from loaders.detect import load_text
from loaders.errors import RecordError
from loaders.mot import load_mot
from loaders.osai_index import header_tags, load_index
from loaders.record import MAX_YAML_DEPTH, SourceInfo, parse_yaml
from loaders.vocab import DCAT, DCT, GRADE, LICSTATE, OG, PROV, SDO, SPDX_LICENSE, Minter
from server.ingest.loading import bundled_files, bundled_source_info
from server.store import graph_quads

FIXTURES = Path(__file__).parent / "data" / "loaders"
MOT_DIR = data_file("mot", "models")
INDEX_DIR = data_file("osai-index", "models")
MINTER = Minter()


def load_mot_file(name: str):
    path = MOT_DIR / name
    return load_mot(path.read_text(encoding="utf-8"), bundled_source_info("mot", path), MINTER, path.stem)


def load_index_file(name: str):
    path = INDEX_DIR / name
    return load_index(path.read_text(encoding="utf-8"), bundled_source_info("osai-index", path), MINTER, path.stem)


def artifact_of(record, component: str) -> URIRef:
    kind = BY_NAME[component]
    found = [a for a in record.graph.objects(record.iri, OG.hasArtifact)
             if record.graph.value(a, OG.artifactKind) == kind.iri]
    assert len(found) == 1, (component, found)
    return found[0]


def license_of(record, artifact: URIRef) -> tuple[str | None, str, set[str], str]:
    g = record.graph
    statement = g.value(artifact, OG.licenseStatement)
    return (None if statement is None else str(statement), str(g.value(artifact, OG.licenseResolvedFrom)),
            {str(x) for x in g.objects(artifact, DCT.license)}, str(g.value(artifact, OG.licenseState)))


def mot_text(release_license: str, components: str) -> str:
    return f"""framework:
  name: 'Model Openness Framework'
  version: '1.0'
  date: '2024-12-15'
release:
  name: Test-Model-7B
  version: 7B
  date: '2025-01-02'
  type: language
  architecture: transformer
  origin: Test
  producer: 'Test Lab'
  contact: ''
  repository: 'https://github.com/example/test-model'
  huggingface: 'https://huggingface.co/example/Test-Model-7B'
{release_license}
  components:
{components}
"""


# --- MOT -------------------------------------------------------------------------------------------------


def test_mot_license_resolution_order_on_a_constructed_record():
    """component license > release.license.<content_type>.name > distribution > unlicensed."""
    text = mot_text("""  license:
    distribution:
      name: 'Apache 2.0'
      path: ''
    code:
      name: MIT
      path: ''
    data:
      name: ''
      path: ''""", """    -
      name: 'Training code'
      description: 'code: takes release.license.code'
    -
      name: 'Model parameters (Final)'
      description: 'data: release.license.data is empty, so distribution'
    -
      name: 'Model card'
      description: 'document: no release.license.document, so distribution'
    -
      name: 'Datasets'
      description: 'own license wins'
      license: 'CC-BY-4.0'
    -
      name: 'Evaluation code'
      description: 'an empty own license means unlicensed, not the global one'
      license: ''""")
    rec = load_mot(text, SourceInfo("mot", "models/Test-Model-7B.yml"), MINTER, "Test-Model-7B")
    assert license_of(rec, artifact_of(rec, "Training code")) == (
        "MIT", "release.license.code", {str(SPDX_LICENSE["MIT"])}, str(LICSTATE.licensed))
    statement, origin, iris, state = license_of(rec, artifact_of(rec, "Model parameters (Final)"))
    assert (statement, origin) == ("Apache 2.0", "release.license.distribution")
    assert iris == {str(SPDX_LICENSE["Apache-2.0"])}
    assert license_of(rec, artifact_of(rec, "Model card"))[:2] == ("Apache 2.0", "release.license.distribution")
    assert license_of(rec, artifact_of(rec, "Datasets")) == (
        "CC-BY-4.0", "component", {str(SPDX_LICENSE["CC-BY-4.0"])}, str(LICSTATE.licensed))
    statement, origin, iris, state = license_of(rec, artifact_of(rec, "Evaluation code"))
    assert (statement, origin, iris, state) == ("unlicensed", "component", set(), str(LICSTATE.unlicensed))


def test_mot_no_license_anywhere_is_unlicensed():
    text = mot_text("  license: {}", """    -
      name: 'Model architecture'
      description: 'x'""")
    rec = load_mot(text, SourceInfo("mot", "models/x.yml"), MINTER, "x")
    assert license_of(rec, artifact_of(rec, "Model architecture")) == (
        "unlicensed", "none", set(), str(LICSTATE.unlicensed))


def test_mot_real_record_amber():
    """Amber: distribution Apache-2.0 for everything but the Datasets component's own MIT."""
    rec = load_mot_file("Amber.yml")
    assert rec.record_id == "mot/Amber" and rec.name == "Amber"
    assert (rec.iri, RDF.type, OG.ModelRelease) in rec.graph
    assert license_of(rec, artifact_of(rec, "Datasets"))[:3] == ("MIT", "component", {str(SPDX_LICENSE["MIT"])})
    weights = license_of(rec, artifact_of(rec, "Model parameters (Final)"))
    assert weights[:3] == ("Apache-2.0", "release.license.distribution", {str(SPDX_LICENSE["Apache-2.0"])})
    assert rec.graph.value(rec.iri, OG.huggingFaceId) == Literal("LLM360/Amber")
    components = yaml.safe_load((MOT_DIR / "Amber.yml").read_text())["release"]["components"]
    assert len(list(rec.graph.objects(rec.iri, OG.hasArtifact))) == len(components) == 16


def test_mot_real_record_galactica_uses_content_type_licenses():
    """Galactica: release.license.code Apache-2.0 for code, distribution CC-BY-NC-4.0 for the rest."""
    rec = load_mot_file("Galactica.yml")
    assert license_of(rec, artifact_of(rec, "Model architecture"))[:2] == ("Apache-2.0", "release.license.code")
    assert license_of(rec, artifact_of(rec, "Inference code"))[:2] == ("Apache-2.0", "release.license.code")
    weights = license_of(rec, artifact_of(rec, "Model parameters (Final)"))
    assert weights[:3] == ("CC-BY-NC-4.0", "release.license.distribution", {str(SPDX_LICENSE["CC-BY-NC-4.0"])})
    assert license_of(rec, artifact_of(rec, "Model card"))[:2] == ("CC-BY-NC-4.0", "release.license.distribution")


def test_mot_provenance():
    rec = load_mot_file("OLMo-7B.yml")
    g, graph_iri = rec.graph, URIRef(rec.graph_iri)
    assert (graph_iri, RDF.type, PROV.Entity) in g
    assert g.value(graph_iri, OG.record) == rec.iri
    assert str(g.value(graph_iri, OG.source)) == "mot"
    assert str(g.value(graph_iri, OG.sourceFile)) == "models/OLMo-7B.yml"
    assert len(str(g.value(graph_iri, OG.sourceCommit))) == 40
    assert str(g.value(graph_iri, PROV.hadPrimarySource)).startswith("https://github.com/lfai/model_openness_tool/blob/")
    assert g.value(graph_iri, DCT.license) == SPDX_LICENSE["MIT"]
    activity = g.value(graph_iri, PROV.wasGeneratedBy)
    assert g.value(activity, PROV.endedAtTime) is not None


def test_mot_every_bundled_record_loads_and_converts():
    for path, info in bundled_files():
        if info.source != "mot":
            continue
        rec = load_mot(path.read_text(encoding="utf-8"), info, MINTER, path.stem)
        assert sum(1 for _ in graph_quads(rec.graph, rec.graph_iri)) == len(rec.graph)
        for artifact in rec.graph.objects(rec.iri, OG.hasArtifact):
            # every MOT artifact keeps the exact string it was resolved from
            assert rec.graph.value(artifact, OG.licenseStatement) is not None, (path.name, artifact)


def test_mot_unknown_component_is_refused_with_its_line():
    text = mot_text("  license: {}", """    -
      name: 'Model architecture'
      description: 'ok'
    -
      name: 'Model weights'
      description: 'not a MOF component'""")
    with pytest.raises(RecordError) as info:
        load_text(text, "bad-component.yml", MINTER)
    err = info.value
    assert err.file == "bad-component.yml"
    assert "unknown component name 'Model weights'" in err.message
    assert err.line == text.splitlines().index("      name: 'Model weights'") + 1


def test_mot_duplicate_component_is_refused():
    text = mot_text("  license: {}", """    -
      name: 'Model card'
      description: 'a'
    -
      name: 'Model card'
      description: 'b'""")
    with pytest.raises(RecordError, match="listed twice"):
        load_text(text, "dup.yml", MINTER)


def test_mot_schema_violation_names_the_field():
    text = mot_text("  license: {}", "    - name: 'Model card'").replace("name: Test-Model-7B", "name: ''")
    with pytest.raises(RecordError, match="release/name") as info:
        load_text(text, "schema.yml", MINTER)
    assert info.value.line is not None


# --- Open Source AI Index ----------------------------------------------------------------------------------


def test_index_header_tags_and_org():
    path = INDEX_DIR / "AMD OLMo.yaml"
    tags = header_tags(path.read_text(encoding="utf-8"))
    assert tags["National origin"] == "United States"
    assert tags["Contributor type"] == "Non-academic (Company)"
    rec = load_index_file("AMD OLMo.yaml")
    org = rec.graph.value(rec.iri, OG.producer)
    assert rec.graph.value(org, SDO.location) == Literal("United States")
    assert rec.graph.value(org, SDO.additionalType) == Literal("Non-academic (Company)")
    assert rec.graph.value(rec.iri, OG.huggingFaceId) == Literal("amd/AMD-OLMo-1B-SFT-DPO")
    # the end model is another name of the record; the base model is not
    assert rec.graph.value(rec.iri, SDO.alternateName) == Literal("AMD-OLMo-1B-SFT-DPO")
    assert rec.graph.value(rec.iri, OG.baseModelName) == Literal("AMD-OLMo-1B")


def grades(rec) -> dict[str, URIRef]:
    g = rec.graph
    return {str(g.value(n, OG.indexDimension)): g.value(n, OG.indexGrade) for n in g.objects(rec.iri, OG.hasGrade)}


def test_index_twelve_dimensions_on_a_full_record():
    rec = load_index_file("AMD OLMo.yaml")
    found = grades(rec)
    assert set(found) == set(INDEX_DIMENSIONS) and len(found) == 12
    assert found["datasources_basemodel"] == GRADE.open
    # graded artifacts: availability follows the grade; 'licenses' is a record-level grade only
    artifacts = {str(rec.graph.value(a, OG.indexDimension)) for a in rec.graph.objects(rec.iri, OG.hasArtifact)}
    assert artifacts == {d for d, kind in INDEX_DIMENSIONS.items() if kind}
    weights = URIRef(MINTER.artifact(rec.record_id, "weights_endmodel"))
    assert license_of(rec, weights)[:3] == ("Apache-2.0", "system.endmodellicense", {str(SPDX_LICENSE["Apache-2.0"])})


INDEX_TEMPLATE = """system:
    name: Test-Index-Model
    link: https://huggingface.co/example/test-index-model
    type: text
    endmodellicense: MIT
org:
    name: Example Org
datasources_basemodel:
    class: closed
    link:
    notes: graders looked, nothing is open
weights_endmodel:
    class: open
    link: https://huggingface.co/example/test-index-model
    notes: open weights
"""


def test_index_closed_is_not_the_same_as_not_stated():
    rec = load_text(INDEX_TEMPLATE, "test-index-model.yaml", MINTER)
    assert rec.record_id == "osai-index/test-index-model"
    found = grades(rec)
    assert found == {"datasources_basemodel": GRADE.closed, "weights_endmodel": GRADE.open}
    g = rec.graph
    closed = URIRef(MINTER.artifact(rec.record_id, "datasources_basemodel"))
    assert str(g.value(closed, OG.availability)).endswith("/not-released")
    # a dimension the file does not state has no node at all (neither grade nor artifact)
    assert URIRef(MINTER.artifact(rec.record_id, "trainingcode")) not in set(g.subjects())
    assert URIRef(MINTER.artifact(rec.record_id, "grade-trainingcode")) not in set(g.subjects())
    assert g.value(rec.iri, OG.completeComponentList) == Literal(False)


def test_index_bad_grade_names_its_line():
    text = INDEX_TEMPLATE.replace("class: closed", "class: mostly-open")
    with pytest.raises(RecordError, match="must be open, partial or closed") as info:
        load_text(text, "bad-grade.yaml", MINTER)
    assert info.value.line == text.splitlines().index("    class: mostly-open") + 1


def test_index_every_bundled_record_loads():
    count = 0
    for path, info in bundled_files():
        if info.source != "osai-index":
            continue
        rec = load_index(path.read_text(encoding="utf-8"), info, MINTER, path.stem)
        assert 1 <= len(grades(rec)) <= 12
        assert sum(1 for _ in graph_quads(rec.graph, rec.graph_iri)) == len(rec.graph)
        count += 1
    assert count == 193


# --- Hugging Face cards -----------------------------------------------------------------------------------


def test_hf_readme_card():
    path = FIXTURES / "tiny-llama-adapter" / "README.md"
    rec = load_text(path.read_text(encoding="utf-8"), str(path), MINTER)
    g = rec.graph
    assert rec.record_id == "hf/tiny-llama-adapter"  # README.md records are named after their folder
    weights = URIRef(MINTER.artifact(rec.record_id, "model-parameters-final"))
    statement, origin, iris, state = license_of(rec, weights)
    # license: other + license_name -> the license_name resolved to a LicenseRef of the knowledge base
    assert statement == "llama3.1" and state == str(LICSTATE.licensed)
    assert len(iris) == 1 and "LicenseRef-" in next(iter(iris))
    card = URIRef(MINTER.artifact(rec.record_id, "model-card"))
    assert g.value(card, OG.licenseDocument) == URIRef("https://llama.meta.com/llama3_1/license/")
    # base_model_relation: adapter
    parent = URIRef(MINTER.hub_model("meta-llama/Llama-3.1-8B"))
    assert g.value(rec.iri, OG.adapterOf) == parent == URIRef(MINTER.base + "hf/meta-llama/llama-3.1-8b")
    assert g.value(parent, OG.huggingFaceId) == Literal("meta-llama/Llama-3.1-8B")  # as the card writes it
    assert g.value(rec.iri, OG.finetunedFrom) is None
    # datasets: a known one linked to the dataset KB, an unknown one a dcat:Dataset with its hub URL
    trained = set(g.objects(rec.iri, OG.trainedOn))
    assert URIRef(MINTER.dataset("dolma")) in trained
    unknown = URIRef(MINTER.dataset("hf/example-org/tiny-instructions"))
    assert unknown in trained
    assert (unknown, RDF.type, DCAT.Dataset) in g
    assert g.value(unknown, DCAT.landingPage) == URIRef("https://huggingface.co/datasets/example-org/tiny-instructions")
    # extra_gated_prompt -> gated (manual approval)
    assert g.value(rec.iri, OG.gatedAccess) == Literal("manual")
    assert g.value(rec.iri, OG.libraryName) == Literal("peft")


@pytest.mark.parametrize(("relation", "prop"), [("finetune", OG.finetunedFrom), ("adapter", OG.adapterOf),
                                                ("merge", OG.mergedFrom), ("quantized", OG.quantizedFrom)])
def test_hf_base_model_relations(relation, prop):
    text = f"---\nlicense: mit\nbase_model: org/base-1B\nbase_model_relation: {relation}\n---\n# card\n"
    rec = load_text(text, f"cards/{relation}/README.md", MINTER)
    assert rec.graph.value(rec.iri, prop) == URIRef(MINTER.hub_model("org/base-1B"))
    others = {OG.finetunedFrom, OG.adapterOf, OG.mergedFrom, OG.quantizedFrom} - {prop}
    assert not any(rec.graph.value(rec.iri, p) for p in others)


def test_hf_hub_api_json():
    path = FIXTURES / "hub_api.json"
    rec = load_text(path.read_text(encoding="utf-8"), str(path), MINTER)
    g = rec.graph
    assert rec.name == "example-org/Tiny-Merge-2B"
    assert g.value(rec.iri, OG.huggingFaceId) == Literal("example-org/Tiny-Merge-2B")
    assert g.value(rec.iri, DCAT.landingPage) == URIRef("https://huggingface.co/example-org/Tiny-Merge-2B")
    # two base models: a merge
    assert set(g.objects(rec.iri, OG.mergedFrom)) == {URIRef(MINTER.hub_model("example-org/Tiny-A-1B")),
                                                     URIRef(MINTER.hub_model("example-org/Tiny-B-1B"))}
    assert g.value(rec.iri, OG.gatedAccess) == Literal("auto")
    weights = URIRef(MINTER.artifact(rec.record_id, "model-parameters-final"))
    assert license_of(rec, weights)[:3] == ("apache-2.0", "card.license", {str(SPDX_LICENSE["Apache-2.0"])})
    assert URIRef(MINTER.dataset("fineweb")) in set(g.objects(rec.iri, OG.trainedOn))
    assert g.value(URIRef(rec.graph_iri), OG.source) == Literal("hf")


def test_hf_card_without_front_matter_is_a_model_with_no_stated_license():
    rec = load_text("# just a README\n", "x/README.md", MINTER)
    weights = URIRef(MINTER.artifact(rec.record_id, "model-parameters-final"))
    assert rec.record_id == "hf/x"
    assert rec.graph.value(weights, OG.licenseState) == LICSTATE.unlicensed
    assert rec.graph.value(weights, OG.licenseStatement) is None
    with pytest.raises(RecordError, match="not closed"):
        load_text("---\nlicense: mit\n# no closing line\n", "y/README.md", MINTER)


# --- native RDF --------------------------------------------------------------------------------------------


def test_native_turtle_and_jsonld():
    for name, title in (("native_record.ttl", "Tiny-Native-1"), ("native_record.jsonld", "Tiny-Native-2")):
        path = FIXTURES / name
        rec = load_text(path.read_text(encoding="utf-8"), str(path), MINTER)
        assert rec.name == title
        assert list(rec.graph.subjects(RDF.type, OG.ModelRelease)) == [rec.iri]
        assert rec.graph.value(rec.iri, OG.source) == Literal("native")
        assert rec.graph.value(URIRef(rec.graph_iri), OG.record) == rec.iri
        assert sum(1 for _ in graph_quads(rec.graph, rec.graph_iri)) == len(rec.graph)


def test_native_needs_exactly_one_model_release():
    two = (FIXTURES / "native_record.ttl").read_text() + (
        "\n<https://example.org/models/other> a og:ModelRelease .\n")
    with pytest.raises(RecordError, match="exactly one og:ModelRelease; found 2"):
        load_text(two, "two.ttl", MINTER)
    with pytest.raises(RecordError, match="found 0"):
        load_text("<https://example.org/a> <https://example.org/p> 1 .\n", "none.ttl", MINTER)


def test_native_malformed_turtle_names_file():
    with pytest.raises(RecordError) as info:
        load_text("@prefix og: <https://w3id.org/openness-graph/ontology#> .\n<a> og:x \"unterminated .\n",
                  "broken.ttl", MINTER)
    assert info.value.file == "broken.ttl" and "malformed turtle" in info.value.message


@pytest.mark.parametrize("context", [
    '"https://example.org/remote-context.jsonld"',
    '["https://example.org/remote-context.jsonld", {"og": "https://w3id.org/openness-graph/ontology#"}]',
])
def test_jsonld_remote_context_refused_without_network(monkeypatch, context):
    def no_network(*args, **kwargs):
        raise AssertionError("the loader tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    text = '{"@context": ' + context + ', "@id": "https://example.org/m", "@type": "og:ModelRelease"}'
    with pytest.raises(RecordError, match="remote JSON-LD @context"):
        load_text(text, "remote.jsonld", MINTER)
    # nested contexts too
    nested = ('{"@context": {"og": "https://w3id.org/openness-graph/ontology#"}, "@id": "https://example.org/m",'
              ' "@type": "og:ModelRelease", "og:x": {"@context": "http://example.org/c", "@id": "https://e.org/y"}}')
    with pytest.raises(RecordError, match="remote JSON-LD @context"):
        load_text(nested, "nested.jsonld", MINTER)


# --- detection ---------------------------------------------------------------------------------------------


def test_yaml_that_is_neither_source_is_refused():
    with pytest.raises(RecordError, match="neither a MOT record"):
        load_text("name: something\n", "other.yml", MINTER)


def test_unknown_suffix_is_refused():
    with pytest.raises(RecordError, match="unknown record format"):
        load_text("x", "record.txt", MINTER)


def test_alias_bomb_is_refused():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join(['*' + chr(96 + i)] * 10)}]")
    with pytest.raises(RecordError, match="alias bomb"):
        load_text("\n".join(lines) + "\n", "bomb.yml", MINTER)


@pytest.mark.parametrize("text", ["[" * 100 + "]" * 100,  # past our limit, within libyaml's: our own check
                                  "[" * 100_000 + "]" * 100_000,  # past libyaml's own limit (PyYAML >= 6.0.3)
                                  "".join(" " * i + "- \n" for i in range(1200))])
def test_deep_yaml_refused_in_the_products_words_whichever_layer_refuses(text: str) -> None:
    """libyaml now refuses ~1000 levels itself, in its scanner, ahead of the product's depth check: the
    user gets the same one-line reason either way."""
    with pytest.raises(RecordError) as caught:
        parse_yaml(text, "deep.yaml")
    assert caught.value.message == f"YAML nested more than {MAX_YAML_DEPTH} levels deep; refused"
    assert caught.value.line is not None
