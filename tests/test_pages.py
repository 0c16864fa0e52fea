"""Linked-Data pages over the bundled data: content negotiation, the verdict object per record (equal to
``openness assess``), filters, the comparison view, 404s, dereferenceable IRIs and safe HTML."""

from __future__ import annotations

import pytest
import rdflib
from fastapi.testclient import TestClient

from loaders.detect import load_text
from loaders.vocab import OG, Minter
from server.app import create_app
from server.ingest.loading import load_reference
from server.ingest.records import list_records
from server.store import OxigraphStore, graph_quads
from server.web.pages import local_path, model_path, safe_href

HTML = {"accept": "text/html"}
TURTLE = {"accept": "text/turtle"}
JSONLD = {"accept": "application/ld+json"}
JSON = {"accept": "application/json"}
BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def by_id(results: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in results}


# --- model pages ----------------------------------------------------------------------------------------

def test_model_page_html_shows_its_verdicts(pages_client):
    r = pages_client.get("/models/mot/OLMo-7B", headers=BROWSER)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    for text in ("OLMo-7B", "osaid-1.0", "mof-1.0", "class 1", "Artifacts and licenses", "Apache License 2.0",
                 "Provenance", "8b5d30e90a7c62d7d6ece48b91e69ff495920a4d", "github.com/lfai/model_openness_tool"):
        assert text in r.text
    assert 'class="v pass"' in r.text
    assert 'href="/models/osai-index/OLMo"' in r.text  # the same model family from the Index


def test_model_page_turtle_and_jsonld_parse(pages_client, bundled_settings):
    settings = bundled_settings
    record = rdflib.URIRef(Minter(settings.base_iri).record("mot/OLMo-7B"))
    ttl = pages_client.get("/models/mot/OLMo-7B", headers=TURTLE)
    assert ttl.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=ttl.text, format="turtle")
    assert str(graph.value(record, OG.recordId)) == "mot/OLMo-7B"
    assert (None, OG.assessedRecord, record) in graph  # its stored assessments come along
    jsonld = pages_client.get("/models/mot/OLMo-7B", headers=JSONLD)
    assert len(rdflib.Graph().parse(data=jsonld.text, format="json-ld")) == len(graph)


def test_assessments_json_is_the_verdict_object(pages_client, bundled_results):
    results = bundled_results
    r = pages_client.get("/models/mot/OLMo-7B/assessments")
    assert r.status_code == 200
    assert r.json()["verdicts"]["mof-1.0"]["class"] == 1
    assert r.json() == by_id(results)["mot/OLMo-7B"]


def test_assessments_equal_openness_assess_for_many_records(pages_client, bundled_results):
    results = bundled_results
    sample = results[::15] + [r for r in results if any(c in r["id"] for c in " +(")][:10]
    assert len(sample) > 30
    for expected in sample:
        r = pages_client.get(model_path(expected["id"]) + "/assessments")
        assert r.status_code == 200, expected["id"]
        assert r.json() == expected, expected["id"]


def test_assessments_in_html_turtle_jsonld(pages_client):
    html = pages_client.get("/models/mot/Llama-2-7B/assessments", headers=HTML)
    assert "parameters-osi-terms" in html.text and "restricted" in html.text
    ttl = rdflib.Graph().parse(data=pages_client.get("/models/mot/Llama-2-7B/assessments", headers=TURTLE).text,
                               format="turtle")
    assert len(set(ttl.subjects(rdflib.RDF.type, OG.Assessment))) == 6
    jsonld = pages_client.get("/models/mot/Llama-2-7B/assessments", headers=JSONLD)
    assert len(rdflib.Graph().parse(data=jsonld.text, format="json-ld")) == len(ttl)


def test_record_names_with_spaces_plus_and_parentheses(pages_client, bundled_store):
    store = bundled_store
    odd = [r["id"] for r in list_records(store) if any(c in r["id"] for c in " +()")]
    assert odd, "the bundled data has names with spaces, '+' or '()'"
    for record_id in odd[:12]:
        r = pages_client.get(model_path(record_id), headers=HTML)
        assert r.status_code == 200, record_id
    spaced = next(i for i in odd if " " in i)
    raw = "/models/" + spaced  # an unencoded space is decoded the same way
    assert pages_client.get(raw.replace(" ", "%20"), headers=JSON).json()["id"] == spaced


@pytest.mark.parametrize("path", ["/models/mot/No-Such-Model", "/models/mot/No-Such-Model/assessments",
                                  "/models/nosource/x", "/licenses/No-Such-License", "/definitions/nope",
                                  "/organizations/no-such-org", "/families/no-such-family", "/datasets/nope"])
def test_unknown_is_404_in_json_and_html(pages_client, path):
    r = pages_client.get(path, headers=JSON)
    assert r.status_code == 404
    assert r.json()["error"] == "not-found" and r.json()["message"]
    h = pages_client.get(path, headers=BROWSER)
    assert h.status_code == 404
    assert h.headers["content-type"].startswith("text/html")


# --- lists, filters, comparison --------------------------------------------------------------------------

def test_models_json_is_the_list_records_format(pages_client, bundled_store):
    store = bundled_store
    r = pages_client.get("/models")
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == list_records(store)


def test_models_filters(pages_client, bundled_results):
    results = bundled_results
    passing = sorted(r["id"] for r in results if r["verdicts"]["osaid-1.0"]["verdict"] == "pass")
    assert [e["id"] for e in pages_client.get("/models?verdict=osaid-1.0:pass").json()] == passing
    class3 = sorted(r["id"] for r in results if r["verdicts"]["mof-1.0"]["class"] == 3)
    assert [e["id"] for e in pages_client.get("/models?verdict=mof-1.0:3").json()] == class3
    index = pages_client.get("/models?source=osai-index").json()
    assert index and all(e["source"] == "osai-index" for e in index)
    allen = pages_client.get("/models?producer=allen").json()
    assert "mot/OLMo-7B" in [e["id"] for e in allen]
    y2025 = pages_client.get("/models?year=2025&type=text").json()  # the Index gives release dates
    assert "osai-index/OLMo" in [e["id"] for e in y2025]
    assert "mot/OLMo-7B" not in [e["id"] for e in y2025]  # a MOT record's date is the record's, not a release
    html = pages_client.get("/models?source=mot", headers=HTML)
    assert 'href="/compare?source=mot"' in html.text


def test_compare_matrix_filters_sorts_and_charts(pages_client):
    r = pages_client.get("/compare?source=mot&producer=Allen&sort=osaid-1.0", headers=HTML)
    assert r.status_code == 200
    assert "OLMo-7B" in r.text and 'href="/releases/olmo-7b"' in r.text  # one row per release by default
    assert "Llama-2-7B" not in r.text  # Meta's releases are filtered out
    assert 'class="cell pass"' in r.text
    assert "<script" not in r.text.lower()
    dated = pages_client.get("/compare?source=osai-index", headers=HTML)  # the Index gives release dates
    assert "<svg" in dated.text and ("polyline" in dated.text or "circle" in dated.text)
    everything = pages_client.get("/compare?per_page=500", headers=HTML)
    assert everything.text.count("<tr>") > 400
    per_record = pages_client.get("/compare?view=records&source=mot&producer=Allen", headers=HTML)
    assert 'href="/models/mot/OLMo-7B"' in per_record.text and "one row per release" in per_record.text


# --- definitions, licenses, organizations, families, datasets, ontology -----------------------------------

def test_definitions(pages_client):
    listing = pages_client.get("/definitions", headers=JSON).json()
    assert [d["id"] for d in listing] == ["osaid-1.0", "mof-1.0", "owd-0.3", "fsf-free-ml", "eu-ai-act-foss",
                                          "osai-index"]
    osaid = pages_client.get("/definitions/osaid-1.0", headers=JSON).json()
    assert "parameters-osi-terms" in [r["id"] for r in osaid["requirements"]]
    assert osaid["counts"]["pass"] > 0
    html = pages_client.get("/definitions/osaid-1.0", headers=HTML)
    assert 'id="parameters-osi-terms"' in html.text and "Preferred form" in html.text


def test_license_pages(pages_client):
    apache = pages_client.get("/licenses/Apache-2.0", headers=JSON).json()
    assert apache["freedoms_granted"] == ["modify", "share", "study", "use"]
    assert any(u["id"] == "mot/OLMo-7B" for u in apache["used_by"])
    llama = pages_client.get("/licenses/LicenseRef-scancode-llama-2-license-2023", headers=JSON).json()
    assert "user-count-cap" in [r["kind"] for r in llama["restrictions"]]
    assert set(llama["freedoms_withheld"]) == {"share", "use"}
    assert any(u["id"] == "mot/Llama-2-7B" for u in llama["used_by"])
    html = pages_client.get("/licenses/LicenseRef-scancode-llama-2-license-2023", headers=HTML)
    assert "user-count-cap" in html.text and "s.2" in html.text


def test_organizations_families_datasets(pages_client):
    org = pages_client.get("/organizations/allen-institute-for-ai", headers=JSON).json()
    assert "mot/OLMo-7B" in [m["id"] for m in org["models"]]
    fam = pages_client.get("/families/olmo", headers=JSON).json()
    assert "mot/OLMo-7B" in [rid for r in fam["releases"] for rid in r["records"]]
    datasets = pages_client.get("/datasets", headers=JSON).json()
    assert len(datasets) > 20
    one = pages_client.get(f"/datasets/{datasets[0]['id']}", headers=HTML)
    assert one.status_code == 200 and datasets[0]["title"] in one.text


def test_ontology_html_and_turtle(pages_client):
    html = pages_client.get("/ontology", headers=BROWSER)
    assert html.status_code == 200
    assert 'id="ModelRelease"' in html.text and "Concept schemes" in html.text and 'id="freedom-use"' in html.text
    ttl = pages_client.get("/ontology", headers=TURTLE)
    assert (None, rdflib.RDF.type, rdflib.OWL.Ontology) in rdflib.Graph().parse(data=ttl.text, format="turtle")
    concept = pages_client.get("/freedom/use", follow_redirects=False)
    assert concept.status_code == 303 and concept.headers["location"] == "/ontology#freedom-use"


def test_every_minted_iri_dereferences(pages_client, bundled_settings, bundled_store):
    settings, store = bundled_settings, bundled_store
    base = Minter(settings.base_iri).base
    rows = store.select(f"""SELECT DISTINCT ?s WHERE {{ ?s ?p ?o .
      FILTER(STRSTARTS(STR(?s), "{base}models/") || STRSTARTS(STR(?s), "{base}organizations/")
             || STRSTARTS(STR(?s), "{base}families/") || STRSTARTS(STR(?s), "{base}datasets/")) }}""")
    iris = sorted(r["s"].value for r in rows)
    assert len(iris) > 500
    paths = sorted({local_path(i, base) for i in iris})
    assert None not in paths
    by_kind: dict[str, list[str]] = {}
    for path in paths:
        by_kind.setdefault(path.split("/")[1], []).append(path)
    assert set(by_kind) == {"models", "organizations", "families", "datasets"}
    for kind_paths in by_kind.values():  # every kind, a spread of each
        for path in kind_paths[:: max(1, len(kind_paths) // 12)]:
            assert pages_client.get(path, headers=JSON).status_code == 200, path


# --- safety ---------------------------------------------------------------------------------------------

def test_safe_href():
    assert safe_href("https://example.org/x") == "https://example.org/x"
    assert safe_href("/models/mot/x") == "/models/mot/x"
    for bad in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:x", "data:text/html,x", "//evil.org",
                "vbscript:x", "http://x\" onmouseover=\"x"):
        assert safe_href(bad) is None, bad


def test_javascript_links_are_never_rendered_as_links(bundled_settings):
    settings = bundled_settings
    store = OxigraphStore(None)
    minter = Minter(settings.base_iri)
    load_reference(store, minter)
    record = load_text(
        '@prefix og: <https://w3id.org/openness-graph/ontology#> .\n'
        '@prefix dct: <http://purl.org/dc/terms/> .\n'
        '@prefix dcat: <http://www.w3.org/ns/dcat#> .\n'
        '@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n'
        '<https://example.org/evil> a og:ModelRelease ; dct:title "<b>Evil</b> model" ;\n'
        '  dcat:landingPage <javascript:alert(1)> ; rdfs:seeAlso <https://example.org/fine> .\n',
        "evil.ttl", minter)
    store.bulk_add(graph_quads(record.graph, record.graph_iri))
    with TestClient(create_app(settings, store)) as client:
        r = client.get("/models/native/evil", headers=HTML)
    assert r.status_code == 200
    assert "javascript:alert(1)" in r.text  # shown as text ...
    assert 'href="javascript:' not in r.text.lower()  # ... never as a link
    assert 'href="https://example.org/fine"' in r.text
    assert "<b>Evil</b>" not in r.text and "&lt;b&gt;Evil&lt;/b&gt; model" in r.text
