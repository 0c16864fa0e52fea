"""SPARQL 1.1 Query/Update Protocol and Graph Store Protocol over the app, with TestClient.

Includes a replay of the W3C protocol test suite (../shared/data/w3c-sparql/protocol/manifest.ttl)."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from server.sparql.endpoint import negotiate
from server.store import OxigraphStore
from server.web.query_page import example_queries
from tests.conftest import FIXTURE_GRAPH, load_fixture

EX = "https://example.org/test/"
TITLE = "http://purl.org/dc/terms/title"
RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"


# --- negotiate() -------------------------------------------------------------------------------------

OFFER = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv"]


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "application/sparql-results+json"),
    ("", "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("text/csv", "text/csv"),
    ("application/sparql-results+xml;q=0.9, text/csv;q=0.5", "application/sparql-results+xml"),
    ("application/*;q=0.2, text/csv;q=0.8", "text/csv"),
    ("text/*, application/sparql-results+json;q=0.1", "text/csv"),
    ("*/*;q=0.1, application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv;q=0, */*", "application/sparql-results+json"),
    ("application/sparql-results+json;q=0, application/*", "application/sparql-results+xml"),
    ("image/png", None),
    ("text/csv;q=0", None),
    ("APPLICATION/SPARQL-RESULTS+XML", "application/sparql-results+xml"),
    ("application/sparql-results+json,text/turtle", "application/sparql-results+json"),
])
def test_negotiate(accept, expected):
    assert negotiate(accept, OFFER) == expected


# --- the query protocol --------------------------------------------------------------------------------

SELECT_TITLES = f"SELECT ?t WHERE {{ <{EX}olmo> <{TITLE}> ?t }} ORDER BY ?t"


def test_get_post_form_and_direct_agree(client):
    get = client.get("/sparql", params={"query": SELECT_TITLES})
    form = client.post("/sparql", data={"query": SELECT_TITLES})
    direct = client.post("/sparql", content=SELECT_TITLES, headers={"content-type": "application/sparql-query"})
    assert get.status_code == form.status_code == direct.status_code == 200
    assert get.headers["content-type"] == RESULTS_JSON
    assert get.json() == form.json() == direct.json()


def test_datatypes_and_language_tags_survive_json_and_xml(client):
    query = (f"SELECT ?t ?d WHERE {{ <{EX}olmo> <{TITLE}> ?t ; "
             f"<http://purl.org/dc/terms/issued> ?d FILTER(lang(?t) = 'fr') }}")
    body = client.get("/sparql", params={"query": query}).json()
    row = body["results"]["bindings"][0]
    assert row["t"] == {"type": "literal", "value": "OLMo 7B (modèle)", "xml:lang": "fr"}
    assert row["d"] == {"type": "literal", "value": "2024-02-01",
                        "datatype": "http://www.w3.org/2001/XMLSchema#date"}
    xml = client.get("/sparql", params={"query": query}, headers={"accept": RESULTS_XML})
    assert xml.headers["content-type"].startswith(RESULTS_XML)
    parsed = ox.parse_query_results(xml.content, format=ox.QueryResultsFormat.XML)
    solution = next(iter(parsed))
    assert solution["t"] == ox.Literal("OLMo 7B (modèle)", language="fr")
    assert solution["d"] == ox.Literal("2024-02-01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))


@pytest.mark.parametrize(("accept", "fmt", "media"), [
    ("text/csv", None, "text/csv"),
    ("text/tab-separated-values", None, "text/tab-separated-values"),
    ("application/json", None, RESULTS_JSON),
    (None, "xml", RESULTS_XML),
    ("text/csv", "tsv", "text/tab-separated-values"),  # format= wins over Accept
])
def test_select_formats(client, accept, fmt, media):
    params = {"query": SELECT_TITLES} | ({"format": fmt} if fmt else {})
    r = client.get("/sparql", params=params, headers={"accept": accept} if accept else {})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media
    assert "OLMo-7B" in r.text


@pytest.mark.parametrize(("accept", "rdflib_format"), [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"),
    ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml"),
])
def test_construct_formats(client, accept, rdflib_format):
    query = f"CONSTRUCT {{ ?m <{TITLE}> ?t }} WHERE {{ ?m <{TITLE}> ?t }}"
    r = client.post("/sparql", data={"query": query}, headers={"accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == accept
    graph = rdflib.Graph().parse(data=r.content, format=rdflib_format)
    assert (rdflib.URIRef(EX + "olmo"), rdflib.URIRef(TITLE), rdflib.Literal("OLMo 7B (modèle)", lang="fr")) in graph
    assert len(graph) == 4


def test_describe_prefers_turtle_for_star(client):
    r = client.get("/sparql", params={"query": f"DESCRIBE <{EX}llama>"}, headers={"accept": "*/*"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")


def test_errors(client):
    bad = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/plain")
    assert "1:" in bad.text  # the parser's position
    assert client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D").status_code == 400
    both = client.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"})
    assert both.status_code == 400
    assert client.post("/sparql", content="ASK {}", headers={"content-type": "text/plain"}).status_code == 415
    assert client.post("/sparql", content="ASK {}").status_code == 415
    utf16 = client.post("/sparql", content="ASK {}".encode("utf-16"),
                        headers={"content-type": "application/sparql-query; charset=UTF-16"})
    assert utf16.status_code == 415
    assert client.get("/sparql", params={"query": "ASK {}"}, headers={"accept": "image/png"}).status_code == 406
    construct_as_csv = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "csv"})
    assert construct_as_csv.status_code == 406
    assert client.put("/sparql", params={"query": "ASK {}"}).status_code == 405
    assert client.get("/sparql", params={"query": "ASK {}", "format": "pdf"}).status_code == 400


def test_body_limit(tmp_path):
    settings = Settings(store=tmp_path / "s", max_body_bytes=1000, _env_file=None)
    with TestClient(create_app(settings, OxigraphStore(None))) as c:
        big = "ASK {} #" + "x" * 2000
        assert c.post("/sparql", content=big, headers={"content-type": "application/sparql-query"}).status_code == 413
        assert c.post("/sparql", data={"query": big}).status_code == 413
        assert c.post("/sparql", data={"query": "ASK {}"}).status_code == 200
        # a chunked body has no Content-Length: it is counted while it streams in
        chunked = c.post("/sparql", content=(part.encode() for part in (big[:900], big[900:])),
                         headers={"content-type": "application/sparql-query"})
        assert chunked.status_code == 413 and "OPENNESS_MAX_BODY_BYTES" in chunked.text
        small = c.post("/sparql", content=(part.encode() for part in ("ASK ", "{}")),
                       headers={"content-type": "application/sparql-query", "accept": "text/csv"})
        assert small.status_code == 200 and small.text.strip() == "true"


def test_dataset_parameters(client):
    g = FIXTURE_GRAPH
    ask = f"ASK {{ <{EX}olmo> <{TITLE}> ?t }}"
    assert client.get("/sparql", params={"query": ask}).json()["boolean"] is True  # union default graph
    # default-graph-uri restricts the default graph
    r = client.get("/sparql", params={"query": ask, "default-graph-uri": "https://example.org/none"})
    assert r.json()["boolean"] is False
    r = client.get("/sparql", params={"query": ask, "default-graph-uri": g})
    assert r.json()["boolean"] is True
    # named-graph-uri restricts GRAPH ?g
    named = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    r = client.get("/sparql", params={"query": named, "named-graph-uri": "https://example.org/none"})
    assert r.json()["results"]["bindings"] == []
    r = client.get("/sparql", params={"query": named, "named-graph-uri": g})
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [g]
    # protocol parameters override FROM in the query
    from_none = f"ASK FROM <https://example.org/none> {{ <{EX}olmo> <{TITLE}> ?t }}"
    assert client.get("/sparql", params={"query": from_none}).json()["boolean"] is False
    r = client.get("/sparql", params={"query": from_none, "default-graph-uri": g})
    assert r.json()["boolean"] is True


def test_result_rows_capped(tmp_path, oxigraph_store):
    settings = Settings(store=tmp_path / "store", max_result_rows=3, _env_file=None)
    with TestClient(create_app(settings, oxigraph_store)) as c:
        r = c.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
        assert r.status_code == 200
        assert len(r.json()["results"]["bindings"]) == 3
        assert "3 rows" in r.headers["x-result-truncated"]
        r = c.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 2"})
        assert "x-result-truncated" not in r.headers


def test_service_description_and_query_page(client):
    sd = client.get("/sparql")
    assert sd.status_code == 200 and sd.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=sd.text, format="turtle")
    SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = next(graph.subjects(rdflib.RDF.type, SD.Service))
    assert (service, SD.endpoint, rdflib.URIRef("http://testserver/sparql")) in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    jsonld = client.get("/sparql", headers={"accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    assert len(rdflib.Graph().parse(data=jsonld.text, format="json-ld")) == len(graph)
    page = client.get("/sparql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Openness Graph" in page.text and 'class="example"' in page.text


def test_security_headers_and_cors_off(client):
    r = client.get("/health", headers={"origin": "https://evil.example"})
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "access-control-allow-origin" not in r.headers


def test_cors_when_configured(tmp_path):
    settings = Settings(store=tmp_path / "s", cors_origins=["https://ok.example"], _env_file=None)
    with TestClient(create_app(settings, OxigraphStore(None))) as c:
        ok = c.get("/health", headers={"origin": "https://ok.example"})
        assert ok.headers["access-control-allow-origin"] == "https://ok.example"
        assert "access-control-allow-origin" not in c.get("/health", headers={"origin": "https://x.example"}).headers


def test_get_queries_keep_every_middleware_and_answer_as_post_does(tmp_path):
    """GET /sparql skips FastAPI's routing (server.app.SparqlQueryShortcut) but not the security headers,
    CORS or the body limit, and answers exactly what the routed POST answers."""
    settings = Settings(store=tmp_path / "s", cors_origins=["https://ok.example"], max_body_bytes=100,
                        _env_file=None)
    store = OxigraphStore(None)
    load_fixture(store)
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 20"
    with TestClient(create_app(settings, store)) as c:
        for accept in ("application/sparql-results+json", "text/tab-separated-values", "*/*"):
            got = c.get("/sparql", params={"query": query}, headers={"origin": "https://ok.example",
                                                                       "accept": accept})
            posted = c.post("/sparql", data={"query": query}, headers={"accept": accept})
            assert got.status_code == posted.status_code == 200
            assert got.content == posted.content and got.headers["content-type"] == posted.headers["content-type"]
            assert got.headers["x-content-type-options"] == "nosniff"
            assert "default-src 'self'" in got.headers["content-security-policy"]
            assert got.headers["access-control-allow-origin"] == "https://ok.example"
        bad = c.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
        assert bad.status_code == 400 and bad.headers["x-content-type-options"] == "nosniff"
        too_big = c.request("GET", "/sparql", params={"query": "ASK {}"}, content=b"x" * 200)
        assert too_big.status_code == 413
        head = c.head("/sparql", params={"query": "ASK {}"})  # not taken by the shortcut: FastAPI answers
        assert head.status_code in (200, 405) and head.content == b""


def test_health_void_docs(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["quads"] > 20 and health["store"] == "oxigraph"
    void = client.get("/.well-known/void", headers={"accept": "application/n-triples"})
    graph = rdflib.Graph().parse(data=void.text, format="nt")
    VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
    assert (None, VOID.sparqlEndpoint, rdflib.URIRef("http://testserver/sparql")) in graph
    assert int(next(graph.objects(None, VOID.triples))) == health["quads"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()
    assert "/sparql" in client.get("/openapi.json").json()["paths"]


def test_examples_gallery_runs(client):
    examples = example_queries()
    assert len(examples) >= 10
    assert len({e.slug for e in examples}) == len(examples)
    for example in examples:
        assert example.title and example.description
        r = client.post("/sparql", data={"query": example.query})
        assert r.status_code == 200, (example.slug, r.text)


# --- Graph Store Protocol ------------------------------------------------------------------------------


def test_graph_store_protocol(tmp_path):
    settings = Settings(store=tmp_path / "s", token="s3cret", _env_file=None)
    auth = {"authorization": "Bearer s3cret"}
    g = "https://example.org/g1"
    with TestClient(create_app(settings, OxigraphStore(None))) as c:
        assert c.get("/store", params={"graph": g}).status_code == 404
        ttl = '<https://example.org/a> <https://example.org/p> "x"@en .'
        r = c.put("/store", params={"graph": g}, content=ttl, headers=auth | {"content-type": "text/turtle"})
        assert r.status_code == 201
        r = c.put("/store", params={"graph": g}, content=ttl, headers=auth | {"content-type": "text/turtle"})
        assert r.status_code == 204
        more = '<https://example.org/a> <https://example.org/p> "y" .'
        nt = auth | {"content-type": "application/n-triples"}
        r = c.post("/store", params={"graph": g}, content=more, headers=nt)
        assert r.status_code == 204
        got = c.get("/store", params={"graph": g}, headers={"accept": "application/n-triples"})
        assert got.status_code == 200
        assert len(rdflib.Graph().parse(data=got.text, format="nt")) == 2
        assert c.head("/store", params={"graph": g}).status_code == 200
        assert c.put("/store", params={"graph": g}, content="not turtle <",
                     headers=auth | {"content-type": "text/turtle"}).status_code == 400
        assert c.put("/store", params={"graph": g}, content=ttl,
                     headers=auth | {"content-type": "application/pdf"}).status_code == 415
        r = c.put("/store", params={"default": ""}, content=ttl, headers=auth | {"content-type": "text/turtle"})
        assert r.status_code == 204
        dflt = c.get("/store", params={"default": ""}, headers={"accept": "text/turtle"})
        assert "example.org/a" in dflt.text
        dump = c.get("/store", headers={"accept": "application/n-quads"})
        assert f"<{g}>" in dump.text
        assert c.delete("/store", params={"graph": g}, headers=auth).status_code == 204
        assert c.get("/store", params={"graph": g}).status_code == 404
        assert c.delete("/store", params={"graph": g}, headers=auth).status_code == 404


# --- W3C SPARQL 1.1 protocol test suite ----------------------------------------------------------------

W3C_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "w3c-sparql" / "protocol"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
TOKEN = "w3c-suite-token"


def _w3c_tests():
    manifest = W3C_DIR / "manifest.ttl"
    if not manifest.is_file():
        return []
    graph = rdflib.Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
    entries = graph.value(next(graph.subjects(rdflib.RDF.type, MF.Manifest)), MF.entries)
    return [(str(t).rsplit("#", 1)[-1], graph, t) for t in rdflib.collection.Collection(graph, entries)]


W3C_TESTS = _w3c_tests()


def _list(graph, node):
    return list(rdflib.collection.Collection(graph, node)) if node is not None else []


def _is_update(path: str, headers: dict[str, str], body: str | None) -> bool:
    """The suite sends queries and updates to one path; we route updates to /update."""
    ctype = headers.get("content-type", "")
    query_string = path.partition("?")[2]
    return (ctype.startswith("application/sparql-update") or (body or "").startswith("update=")
            or "update=" in query_string or "using-graph-uri" in query_string
            or "using-named-graph-uri" in query_string)


def _check_response(graph, response_spec, r) -> str | None:
    statuses = {str(s).rsplit("StatusCode", 1)[-1] for s in graph.objects(response_spec, MF.expectedStatus)}
    klass = f"{r.status_code // 100}xx"
    if statuses and klass not in statuses:
        return f"status {r.status_code}, expected {sorted(statuses)}: {r.text[:200]}"
    fmt = graph.value(response_spec, MF.expectedFormat)
    ctype = r.headers.get("content-type", "").split(";")[0]
    if fmt is not None and str(fmt) == "boolean":
        if ctype == RESULTS_JSON:
            value = json.loads(r.text)["boolean"]
        elif ctype == RESULTS_XML:
            value = "<boolean>true</boolean>" in r.text
        else:
            return f"boolean result as {ctype}"
        expected = graph.value(response_spec, MF.expectedBoolean)
        if expected is not None and bool(expected.toPython()) != value:
            return f"boolean {value}, expected {expected}"
    if fmt is not None and str(fmt) == "tabular" and ctype not in (RESULTS_JSON, RESULTS_XML, "text/csv",
                                                                     "text/tab-separated-values"):
        return f"tabular result as {ctype}"
    if fmt is not None and str(fmt) == "RDF":
        formats = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml"}
        if ctype not in formats:
            return f"RDF result as {ctype}"
        rdflib.Graph().parse(data=r.text, format=formats[ctype])
    return None


@pytest.mark.skipif(not W3C_TESTS, reason=f"W3C protocol tests not found at {W3C_DIR} (../shared beside the repo)")
@pytest.mark.parametrize("name", [t[0] for t in W3C_TESTS] or ["none"])
def test_w3c_protocol(name, tmp_path):
    """Replays one W3C protocol test. Writes are enabled with a token (so the update tests apply);
    update requests go to /update with the bearer token, queries to /sparql."""
    _, graph, test = next(t for t in W3C_TESTS if t[0] == name)
    store = OxigraphStore(None)
    for data in graph.objects(test, UT.graphData):
        source = Path(str(graph.value(data, UT.graph)).removeprefix("file://"))
        store.oxigraph.load(path=str(source), format=ox.RdfFormat.N_TRIPLES,
                            to_graph=ox.NamedNode(str(graph.value(data, rdflib.RDFS.label))))
    settings = Settings(store=tmp_path / "s", token=TOKEN, _env_file=None)
    action = graph.value(test, MF.action)
    with TestClient(create_app(settings, store)) as c:
        for request in _list(graph, graph.value(action, HT.requests)):
            path = str(graph.value(request, HT.absolutePath))
            method = str(graph.value(request, HT.methodName))
            headers = {str(graph.value(h, HT.fieldName)).lower(): str(graph.value(h, HT.fieldValue))
                       for h in _list(graph, graph.value(request, HT.headers))}
            body_node = graph.value(request, HT.body)
            body = str(graph.value(body_node, CNT.chars)) if body_node is not None else None
            encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8") if body_node else "UTF-8"
            if "charset=utf-16" in headers.get("content-type", "").lower():
                encoding = "utf-16"
            target = "/update" if _is_update(path, headers, body) else "/sparql"
            if target == "/update":
                headers["authorization"] = f"Bearer {TOKEN}"
            url = target + path.removeprefix("/sparql/")
            r = c.request(method, url, headers=headers,
                          content=body.encode(encoding) if body is not None else None)
            problem = _check_response(graph, graph.value(request, HT.resp), r)
            assert problem is None, f"{name}: {method} {url}: {problem}"


def test_query_page_without_vendor_files(client, monkeypatch):
    from server.web import query_page

    monkeypatch.setattr(query_page, "yasgui_installed", lambda: False)
    page = client.get("/sparql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "make setup" in page.text and "/static/yasgui/" not in page.text
    assert 'id="plain-form"' in page.text
