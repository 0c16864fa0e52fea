"""Real clients against a real uvicorn on 127.0.0.1: SPARQLWrapper, rdflib's SPARQLStore, and a headless
Chromium on the query page."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from server.app import create_app
from server.web.query_page import yasgui_installed
from tests.conftest import live_server
from tests.test_pages_browser import CHROMIUM, dump_dom

EX = "https://example.org/test/"
TITLES = "SELECT ?t WHERE { <https://example.org/test/olmo> <http://purl.org/dc/terms/title> ?t } ORDER BY ?t"


def test_sparqlwrapper_json_xml_csv(live_url):
    for method in ("GET", "POST"):
        sw = SPARQLWrapper(live_url + "/sparql")
        sw.setMethod(method)
        sw.setQuery(TITLES)
        sw.setReturnFormat(JSON)
        bindings = sw.query().convert()["results"]["bindings"]
        assert {"type": "literal", "value": "OLMo 7B (modèle)", "xml:lang": "fr"} in [b["t"] for b in bindings]
    sw.setReturnFormat(XML)
    assert "OLMo-7B" in sw.query().convert().toxml()
    sw.setReturnFormat(CSV)
    assert b"OLMo-7B" in sw.query().convert()


def test_sparqlwrapper_ask_and_construct(live_url):
    sw = SPARQLWrapper(live_url + "/sparql")
    sw.setQuery(f"ASK {{ <{EX}llama> ?p ?o }}")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["boolean"] is True
    sw.setQuery("CONSTRUCT WHERE { ?m <http://purl.org/dc/terms/title> ?t }")
    sw.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=sw.query().convert(), format="turtle")
    assert len(graph) == 4


def test_sparqlwrapper_error_is_reported(live_url):
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    sw = SPARQLWrapper(live_url + "/sparql")
    sw.setQuery("SELECT * WHERE { ?s ?p")
    sw.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed):
        sw.query()


def test_rdflib_sparqlstore(live_url):
    graph = rdflib.Graph(SPARQLStore(live_url + "/sparql", returnFormat="json"))
    rows = list(graph.query(TITLES))
    assert rdflib.Literal("OLMo 7B (modèle)", lang="fr") in [r.t for r in rows]
    issued = graph.value(rdflib.URIRef(EX + "olmo"), rdflib.URIRef("http://purl.org/dc/terms/issued"))
    assert issued.datatype == rdflib.XSD.date
    assert (rdflib.URIRef(EX + "llama"), None, None) in graph
    xml_graph = rdflib.Graph(SPARQLStore(live_url + "/sparql", returnFormat="xml"))
    assert len(list(xml_graph.query(TITLES))) == 2


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (/usr/bin/chromium)")
@pytest.mark.skipif(not yasgui_installed(), reason="YASGUI not installed: run make setup")
def test_query_page_runs_an_example_in_chromium(bundled_settings, bundled_store, tmp_path):
    """Open the query page, load an example with ?example=…&run=1, and see the YASR results table (over the
    bundled data, assessed: the example reads the run's statistics cube)."""
    with live_server(create_app(bundled_settings, bundled_store)) as live_url:
        dom = dump_dom(f"{live_url}/sparql?example=10-weights-licenses-ranked&run=1", tmp_path, budget_ms=15000)
    assert "Openness Graph" in dom, dom[-3000:]
    assert "yasr" in dom, "YASGUI did not render"
    assert "<table" in dom, dom[-3000:]
    # values that exist only in the query's results (not in the page or the query text)
    assert "LicenseRef-scancode-llama-2-license-2023" in dom and "Apache-2.0" in dom, dom[-3000:]
