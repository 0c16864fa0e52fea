"""RDF descriptions of the service and its data: the SPARQL 1.1 Service Description
(https://www.w3.org/TR/sparql11-service-description/) served by ``GET /sparql`` without a query, and the
VoID description (https://www.w3.org/TR/void/) served at ``/.well-known/void``."""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from loaders.vocab import OG, SD, VOID

SD_MEDIA_TYPES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-triples": "nt",
}
VOID_MEDIA_TYPES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
}
W3_FORMATS = "http://www.w3.org/ns/formats/"
RESULT_FORMATS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "JSON-LD", "RDF_XML"]


def service_description(endpoint: str, *, update_url: str, writable: bool, base_iri: str) -> Graph:
    """The ``sd:Service`` of this endpoint: languages, result formats, and that the default graph is
    the union of the named graphs (``sd:UnionDefaultGraph``)."""
    g = Graph()
    g.bind("sd", SD)
    g.bind("void", VOID)
    service = URIRef(endpoint)
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, URIRef(endpoint)))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    for name in RESULT_FORMATS:
        g.add((service, SD.resultFormat, URIRef(W3_FORMATS + name)))
    dataset = BNode()
    default_graph = BNode()
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default_graph))
    g.add((default_graph, RDF.type, SD.Graph))
    g.add((dataset, DCTERMS.description, Literal(
        "The default graph is the union of all named graphs; every record lives in its own named graph.")))
    g.add((dataset, VOID.uriSpace, Literal(base_iri)))
    if writable:
        update = URIRef(update_url)
        g.add((update, RDF.type, SD.Service))
        g.add((update, SD.endpoint, update))
        g.add((update, SD.supportedLanguage, SD.SPARQL11Update))
        g.add((update, SD.defaultDataset, dataset))
    return g


def void_description(*, base_iri: str, sparql_url: str, triples: int, graphs: int) -> Graph:
    """A VoID ``void:Dataset`` for the whole graph."""
    g = Graph()
    g.bind("void", VOID)
    g.bind("dct", DCTERMS)
    g.bind("og", OG)
    ds = URIRef(base_iri + "dataset")
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, DCTERMS.title, Literal("Openness Graph", lang="en")))
    g.add((ds, DCTERMS.description, Literal(
        "AI model releases, their artifacts and licenses, and their openness verdicts per definition.",
        lang="en")))
    g.add((ds, VOID.sparqlEndpoint, URIRef(sparql_url)))
    g.add((ds, VOID.uriSpace, Literal(base_iri)))
    g.add((ds, VOID.vocabulary, URIRef(str(OG))))
    g.add((ds, VOID.triples, Literal(triples, datatype=XSD.integer)))
    g.add((ds, VOID.feature, URIRef(W3_FORMATS + "N-Quads")))
    g.add((ds, DCTERMS.description, Literal(f"{graphs} named graphs, one per record or reference source.",
                                            lang="en")))
    return g
