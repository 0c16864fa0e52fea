"""The HTTP app over a real Virtuoso 7 (tests/virtuoso.py): load → assess → ``/sparql`` proxied to the
store (formats, datatypes, errors, time-out, limits) → pages → ``POST /validate`` → ``/catalog``, with the
answers compared to the embedded store's where they must be identical."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from pathlib import Path

import httpx
import pytest
import rdflib
import rdflib.compare
from fastapi.testclient import TestClient

from server.app import create_app
from server.assess.run import assess_all
from server.ingest.loading import load_bundled
from server.settings import Settings
from server.store.remote import RemoteStore
from tests.conftest import live_server
from tests.virtuoso import SKIP_REASON, VirtuosoServer, available

pytestmark = [pytest.mark.virtuoso, pytest.mark.skipif(not available(), reason=SKIP_REASON),
              pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parent.parent
OG = "https://w3id.org/openness-graph/ontology#"
EX = "https://w3id.org/openness-graph/test/endpoint/"
JSON_RESULTS = {"accept": "application/sparql-results+json"}
# slow (minutes) but under Virtuoso's MaxQueryCostEstimationTime, which refuses a query up front
HEAVY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(STR(?c) = CONCAT(STR(?f), 'z')) }")
TYPED = f"""
@prefix ex: <{EX}> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:s ex:yes true ; ex:no false ; ex:n 42 ; ex:d 0.5 ; ex:when "2024-01-02T03:04:05Z"^^xsd:dateTime ;
     ex:text "ünïcödé \\"quoted\\"\\nnew line\\ttab" ; ex:label "Hallo"@de ; ex:odd "abc"^^ex:type .
"""


def remote_settings(virtuoso: VirtuosoServer, **extra) -> Settings:
    values = {k.removeprefix("OPENNESS_").lower(): v for k, v in virtuoso.env().items()}
    return Settings(_env_file=None, **{**values, **extra})


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    # the heavy query below must start and be cut by the proxy's timeout, not refused on Virtuoso's cost estimate
    with VirtuosoServer(tmp_path_factory.mktemp("virtuoso-endpoint"), max_cost_estimate=86_400) as server:
        settings = remote_settings(server)
        store = RemoteStore.from_settings(settings)
        try:
            report = load_bundled(store, settings)
            assert report.ok, [str(e) for e in report.errors]
            assess_all(store, settings)
            store.replace_graphs({EX + "typed": rdflib.Graph().parse(data=TYPED, format="turtle")})
        finally:
            store.close()
        yield server


@pytest.fixture(scope="module")
def remote_client(virtuoso):
    with TestClient(create_app(remote_settings(virtuoso, query_timeout=20))) as client:
        yield client


def sparql(client: TestClient, query: str, accept: str = "application/sparql-results+json", **params):
    return client.post("/sparql", data={"query": query, **params}, headers={"accept": accept})


def test_select_json_is_the_embedded_endpoints_answer(remote_client, pages_client):
    count = f"PREFIX og: <{OG}> SELECT (COUNT(?m) AS ?n) WHERE {{ ?m a og:ModelRelease }}"
    r = sparql(remote_client, count)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/sparql-results+json")
    assert r.json() == sparql(pages_client, count).json()
    assert r.json()["results"]["bindings"][0]["n"] == {
        "type": "literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer", "value": "466"}
    ids = f"PREFIX og: <{OG}> SELECT ?id ?t WHERE {{ ?m og:recordId ?id ; a ?t }} ORDER BY ?id ?t LIMIT 50"
    assert sparql(remote_client, ids).content == sparql(pages_client, ids).content
    ask = sparql(remote_client, f"ASK {{ ?s a <{OG}License> }}")
    assert ask.json() == {"head": {}, "boolean": True}


def test_datatypes_language_tags_and_booleans_survive(remote_client):
    r = sparql(remote_client, f"SELECT ?p ?o WHERE {{ <{EX}s> ?p ?o }} ORDER BY ?p")
    assert r.status_code == 200, r.text
    values = {b["p"]["value"].removeprefix(EX): b["o"] for b in r.json()["results"]["bindings"]}
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert values["yes"] == {"type": "literal", "datatype": xsd + "boolean", "value": "true"}
    assert values["no"] == {"type": "literal", "datatype": xsd + "boolean", "value": "false"}
    assert values["n"] == {"type": "literal", "datatype": xsd + "integer", "value": "42"}
    assert values["when"]["datatype"] == xsd + "dateTime"
    assert values["label"] == {"type": "literal", "xml:lang": "de", "value": "Hallo"}
    assert values["odd"] == {"type": "literal", "datatype": EX + "type", "value": "abc"}
    assert values["text"]["value"] == 'ünïcödé "quoted"\nnew line\ttab'
    tsv = sparql(remote_client, f"SELECT ?o WHERE {{ <{EX}s> <{EX}label> ?o }}", "text/tab-separated-values")
    assert tsv.text == '?o\n"Hallo"@de\n'


def test_csv_tsv_and_xml(remote_client):
    query = f"PREFIX og: <{OG}> SELECT ?id WHERE {{ ?m og:recordId ?id }} ORDER BY ?id LIMIT 3"
    r = sparql(remote_client, query, "text/csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["id"] and len(rows) == 4
    assert sparql(remote_client, query, "text/tab-separated-values").text.startswith("?id\n")
    xml = sparql(remote_client, query, "application/sparql-results+xml")
    assert xml.status_code == 200 and b"<sparql" in xml.content


def test_construct_as_turtle_and_json_ld(remote_client, pages_client):
    query = (f'CONSTRUCT {{ ?m ?p ?o }} WHERE {{ ?m <{OG}recordId> "mot/OLMo-7B" ; ?p ?o '
             "FILTER(!isBlank(?o)) }")
    turtle = sparql(remote_client, query, "text/turtle")
    assert turtle.status_code == 200, turtle.text
    assert turtle.headers["content-type"] == "text/turtle; charset=utf-8"
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    expected = rdflib.Graph().parse(data=sparql(pages_client, query, "text/turtle").text, format="turtle")
    assert len(graph) > 5 and rdflib.compare.isomorphic(graph, expected)
    jsonld = sparql(remote_client, query, "application/ld+json")
    assert len(rdflib.Graph().parse(data=jsonld.text, format="json-ld")) == len(graph)
    assert sparql(remote_client, query, "application/sparql-results+json").status_code == 406


def test_default_graph_is_the_union_of_the_products_graphs_only(remote_client, pages_client):
    """Virtuoso's own graphs (virtrdf#, ldp#, ...) are in its default graph; the proxy excludes them."""
    graphs = sparql(remote_client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").json()
    names = {b["g"]["value"] for b in graphs["results"]["bindings"]}
    assert names and not any("openlinksw" in g or g.startswith("http://www.w3.org/ns/ldp") for g in names)
    system = sparql(remote_client, "ASK { ?s a <http://www.openlinksw.com/schemas/virtrdf#QuadMapFormat> }")
    assert system.json()["boolean"] is False
    union = sparql(remote_client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").json()
    named = sparql(remote_client, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").json()
    assert union == named  # each quad of the named graphs once; nothing else
    one = sparql(remote_client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                 **{"default-graph-uri": EX + "typed"})
    assert one.json()["results"]["bindings"][0]["n"]["value"] == "8"


def test_syntax_error_is_400_with_the_engines_message(remote_client):
    r = sparql(remote_client, "SELEKT ?x WHERE { ?x ?y ?z }")
    assert r.status_code == 400
    assert "syntax error" in r.text and "SELEKT" in r.text
    assert "define input:" not in r.text  # the proxy's pragmas are not echoed


def test_service_is_refused_before_the_store_is_asked(remote_client):
    r = sparql(remote_client, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/x> { ?s ?p ?o } }")
    assert r.status_code == 403


def test_row_cap_cuts_and_says_so(virtuoso):
    with TestClient(create_app(remote_settings(virtuoso, max_result_rows=5))) as client:
        r = sparql(client, f"SELECT ?m WHERE {{ ?m <{OG}recordId> ?id }}", "text/csv")
        assert r.status_code == 200
        assert len(r.text.strip().splitlines()) == 6
        assert "OPENNESS_MAX_RESULT_ROWS" in r.headers["x-result-truncated"]
        small = sparql(client, f"SELECT ?o WHERE {{ <{EX}s> <{EX}n> ?o }}")
        assert "x-result-truncated" not in small.headers


def test_heavy_query_times_out_and_the_bound_answers_503(virtuoso):
    """Under a real uvicorn (the TestClient does not run requests concurrently)."""
    app = create_app(remote_settings(virtuoso, query_timeout=2, max_concurrent_queries=1))
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert sparql(client, "ASK {}").status_code == 200  # the proxy's one-time probe, outside the timed part
        answers: list = []
        heavy = threading.Thread(target=lambda: answers.append(sparql(client, HEAVY, "text/csv")))
        started = time.monotonic()
        heavy.start()
        proxy = app.state.sparql_proxy
        while proxy._active < 1 and time.monotonic() - started < 5:  # the heavy query holds the one slot
            time.sleep(0.01)
        busy = sparql(client, "ASK {}")
        heavy.join(30)
        elapsed = time.monotonic() - started
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert "too many queries" in busy.text
        (timed_out,) = answers
        assert timed_out.status_code == 503, timed_out.text
        assert "timed out after 2 s (OPENNESS_QUERY_TIMEOUT)" in timed_out.text
        assert elapsed < 10
        assert sparql(client, "ASK {}").status_code == 200  # the slot is free again


def test_store_failures_are_502_without_credentials(virtuoso):
    with TestClient(create_app(remote_settings(virtuoso, sparql_password="wrong-secret"))) as client:
        r = sparql(client, "ASK {}")
        assert r.status_code == 502
        assert "refused the server's credentials (401)" in r.text and "wrong-secret" not in r.text
    settings = remote_settings(virtuoso, sparql_url="http://openness:topsecret@127.0.0.1:9/sparql")
    with TestClient(create_app(settings)) as client:
        r = sparql(client, "ASK {}")
        assert r.status_code == 502 and "cannot reach the SPARQL store at http://127.0.0.1:9/sparql" in r.text
        assert "topsecret" not in r.text and "\n" not in r.text.strip()


def test_pages_validate_and_catalog_work_on_the_remote_store(remote_client, pages_client):
    models = remote_client.get("/models", headers={"accept": "application/json"})
    assert models.status_code == 200
    assert models.json() == pages_client.get("/models", headers={"accept": "application/json"}).json()
    html = remote_client.get("/models/mot/OLMo-7B", headers={"accept": "text/html"})
    assert html.status_code == 200 and "OLMo" in html.text
    record = remote_client.get("/models/mot/OLMo-7B", headers={"accept": "application/json"})
    assert record.json() == pages_client.get("/models/mot/OLMo-7B", headers={"accept": "application/json"}).json()
    assert remote_client.get("/definitions", headers={"accept": "application/json"}).json() == \
        pages_client.get("/definitions", headers={"accept": "application/json"}).json()
    apache = remote_client.get("/licenses/Apache-2.0", headers={"accept": "application/json"})
    assert apache.status_code == 200
    expected = pages_client.get("/licenses/Apache-2.0", headers={"accept": "application/json"}).json()
    # the same users, but their order differs between engines (the page query's ORDER BY is not total)
    assert sorted(map(json.dumps, apache.json().pop("used_by"))) == sorted(map(json.dumps, expected.pop("used_by")))
    assert apache.json() | {"used_by": None} == expected | {"used_by": None}
    olmo = (ROOT / "data" / "mot" / "models" / "OLMo-7B.yml").read_bytes()
    valid = remote_client.post("/validate?name=OLMo-7B", content=olmo, headers={"content-type": "application/yaml"})
    assert valid.status_code == 200, valid.text
    assert valid.json() == pages_client.post("/validate?name=OLMo-7B", content=olmo,
                                             headers={"content-type": "application/yaml"}).json()
    catalog = remote_client.get("/catalog", headers={"accept": "text/turtle"})
    assert catalog.status_code == 200
    assert len(rdflib.Graph().parse(data=catalog.text, format="turtle")) > 10
    graph = remote_client.get("/store", params={"graph": EX + "typed"}, headers={"accept": "application/n-triples"})
    assert graph.status_code == 200 and len(graph.text.strip().splitlines()) == 8
    assert json.loads(remote_client.get("/health").text)["store"] == "RemoteStore"


def test_the_proxy_is_closed_at_shutdown(virtuoso):
    """The proxy's pooled connections to the store are released when the app stops."""
    app = create_app(remote_settings(virtuoso))
    with TestClient(app) as client:
        assert sparql(client, "ASK {}").status_code == 200
        proxy = app.state.sparql_proxy
        assert not proxy._client.is_closed
    assert proxy._client.is_closed
    assert app.state.sparql_proxy is None
