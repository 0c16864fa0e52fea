"""The graph described for harvesters: a DCAT 3 catalog that conforms to DCAT-AP 3.0.1
(https://semiceu.github.io/DCAT-AP/releases/3.0.1/) and a VoID description
(https://www.w3.org/TR/void/).

The catalog lists one ``dcat:Dataset`` per source (the MOT records, the Open Source AI Index records, the
curated training-dataset knowledge base), the whole graph with its dumps as ``dcat:Distribution``s, the
SPARQL endpoint as a ``dcat:DataService``, each training dataset of the knowledge base under its own
publisher, and each record (its named graph) with its AI bills of materials (SPDX 3.0.1, CycloneDX 1.6) as
distributions, and the statistics cubes of the current assessment run (RDF Data Cube data sets, each
downloadable through a CONSTRUCT query on the SPARQL endpoint). Every object the DCAT-AP range shapes check
is typed in the graph (``foaf:Agent``, ``dct:LicenseDocument``, ``dct:MediaType``, ``foaf:Document``), so
the catalog passes both the mandatory (``shapes.ttl``) and the range (``range.ttl``) profiles."""

from __future__ import annotations

from functools import cache
from urllib.parse import quote

import rdflib
from rdflib import RDF, RDFS, XSD, Literal, URIRef
from rdflib.namespace import FOAF

from loaders.datasets_kb import DatasetKB, load_kb
from loaders.datasets_kb import license_iri as kb_license_iri
from loaders.vocab import DCAT, DCT, OG, PROV, QB, VOID, Minter, bind_prefixes, path_segment
from server.assess.cube import CUBES, Cube, dataset_iri
from server.assess.run_graphs import current_run_pattern
from server.ingest.loading import INDEX_COMMIT, MOT_COMMIT
from server.store import GraphStore

IANA = "https://www.iana.org/assignments/media-types/"
DUMPS = {  # route name -> (media type, title)
    "nquads": ("application/n-quads", "N-Quads dump (every named graph)"),
    "turtle": ("text/turtle", "Turtle dump (union of the named graphs)"),
    "jsonld": ("application/ld+json", "JSON-LD dump (every named graph)"),
}
SPDX = "http://spdx.org/licenses/"
VOCABULARIES = ("https://w3id.org/openness-graph/ontology#", "http://www.w3.org/ns/dcat#",
                "http://purl.org/dc/terms/", "http://www.w3.org/ns/prov#", "http://www.w3.org/ns/odrl/2/",
                "http://www.w3.org/2004/02/skos/core#", "https://schema.org/",
                "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/", str(QB))
DATA_CUBE = URIRef("https://www.w3.org/TR/vocab-data-cube/")


def en(text: str) -> Literal:
    return Literal(text, lang="en")


SOURCES = {
    "mot": {
        "title": "Model Openness Tool records",
        "description": "Model records of the Model Openness Tool (LF AI & Data), one per model release, with "
                       "the license of each of the 17 components of the Model Openness Framework.",
        "publisher": ("LF AI & Data Foundation", "https://lfaidata.foundation/"),
        "license": "MIT",
        "repository": "https://github.com/lfai/model_openness_tool",
        "commit": MOT_COMMIT,
        "homepage": "https://mot.isitopen.ai/",
    },
    "osai-index": {
        "title": "European Open Source AI Index records",
        "description": "Model records of the European Open Source AI Index, graded open, partial or closed on "
                       "twelve dimensions of openness.",
        "publisher": ("European Open Source AI Index", "https://osai-index.eu/"),
        "license": "CC-BY-4.0",
        "repository": "https://github.com/Language-Technology-Assessment/main-database",
        "commit": INDEX_COMMIT,
        "homepage": "https://osai-index.eu/",
    },
}


@cache
def _kb() -> DatasetKB:
    return load_kb()


def _base(settings) -> str:
    return Minter(settings.base_iri).base


def _agent(g: rdflib.Graph, node: URIRef, name: str, homepage: str | None = None) -> URIRef:
    g.add((node, RDF.type, FOAF.Agent))
    g.add((node, FOAF.name, Literal(name)))
    if homepage:
        _document(g, URIRef(homepage))
        g.add((node, FOAF.homepage, URIRef(homepage)))
    return node


def _document(g: rdflib.Graph, node: URIRef) -> URIRef:
    g.add((node, RDF.type, FOAF.Document))
    return node


def _license(g: rdflib.Graph, node: URIRef) -> URIRef:
    g.add((node, RDF.type, DCT.LicenseDocument))
    return node


def _media_type(g: rdflib.Graph, media: str) -> URIRef:
    node = URIRef(IANA + media)
    g.add((node, RDF.type, DCT.MediaType))
    return node


def _record_counts(store: GraphStore) -> dict[str, int]:
    rows = store.select("""PREFIX og: <https://w3id.org/openness-graph/ontology#>
SELECT ?source (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a og:ModelRelease ; og:source ?source } GROUP BY ?source""")
    return {r["source"].value: int(r["n"].value) for r in rows}


def catalog_graph(store: GraphStore, settings) -> rdflib.Graph:
    """The DCAT 3 catalog of this deployment (DCAT-AP 3.0.1 conformant)."""
    base = _base(settings)
    minter = Minter(base)
    g = rdflib.Graph()
    bind_prefixes(g)
    g.bind("foaf", FOAF)
    catalog = URIRef(base + "catalog")
    publisher = _agent(g, URIRef(base + "organizations/openness-graph-contributors"),
                       "Openness Graph contributors")
    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCT.title, en("Openness Graph")))
    g.add((catalog, DCT.description, en(
        "A knowledge graph of AI models' openness: which artifacts of each model were released, under which "
        "license, which freedoms the license grants or withholds, and the explained verdict of each openness "
        "definition (OSAID 1.0, MOF, Open Weight Definition, FSF, EU AI Act, Open Source AI Index).")))
    g.add((catalog, DCT.publisher, publisher))
    g.add((catalog, DCT.license, _license(g, URIRef(SPDX + "CC-BY-4.0"))))
    g.add((catalog, FOAF.homepage, _document(g, URIRef(base))))

    # the whole graph, with its dumps and the SPARQL endpoint
    whole = URIRef(base + "catalog/graph")
    g.add((catalog, DCAT.dataset, whole))
    g.add((whole, RDF.type, DCAT.Dataset))
    g.add((whole, DCT.title, en("Openness Graph knowledge graph")))
    g.add((whole, DCT.description, en(
        "Every loaded model record in its own named graph, the license and training-dataset knowledge bases, "
        "the ontology, the definitions and the stored verdicts, with PROV-O provenance for each record.")))
    g.add((whole, DCT.publisher, publisher))
    g.add((whole, DCT.license, _license(g, URIRef(SPDX + "CC-BY-4.0"))))
    for name, (media, title) in DUMPS.items():
        dist = URIRef(f"{base}catalog/graph/dump-{name}")
        url = URIRef(f"{base}dump/{name}")
        g.add((whole, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCT.title, en(title)))
        g.add((dist, DCT.description, en(title + " of the whole knowledge graph.")))
        g.add((dist, DCAT.accessURL, url))
        g.add((dist, DCAT.downloadURL, url))
        g.add((dist, DCAT.mediaType, _media_type(g, media)))
        g.add((dist, DCT.license, _license(g, URIRef(SPDX + "CC-BY-4.0"))))
    service = URIRef(base + "sparql#service")
    endpoint = URIRef(base + "sparql")
    g.add((catalog, DCAT.service, service))
    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, DCT.title, en("Openness Graph SPARQL 1.1 endpoint")))
    g.add((service, DCT.description, en("SPARQL 1.1 Query Protocol over the whole knowledge graph "
                                        "(the default graph is the union of the named graphs).")))
    g.add((service, DCAT.endpointURL, endpoint))
    g.add((service, DCAT.endpointDescription, endpoint))
    g.add((service, DCAT.servesDataset, whole))
    g.add((service, DCT.publisher, publisher))
    g.add((service, DCT.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    g.add((URIRef("https://www.w3.org/TR/sparql11-protocol/"), RDF.type, DCT.Standard))
    sparql_dist = URIRef(f"{base}catalog/graph/sparql")
    g.add((whole, DCAT.distribution, sparql_dist))
    g.add((sparql_dist, RDF.type, DCAT.Distribution))
    g.add((sparql_dist, DCT.title, en("SPARQL endpoint")))
    g.add((sparql_dist, DCAT.accessURL, endpoint))
    g.add((sparql_dist, DCAT.accessService, service))

    counts = _record_counts(store)
    for source, info in SOURCES.items():
        ds = URIRef(f"{base}catalog/{source}")
        g.add((catalog, DCAT.dataset, ds))
        g.add((whole, DCT.hasPart, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCT.title, en(info["title"])))
        g.add((ds, DCT.description, en(info["description"] + f" {counts.get(source, 0)} records loaded.")))
        name, home = info["publisher"]
        g.add((ds, DCT.publisher, _agent(g, URIRef(minter.organization(name)), name, home)))
        upstream = URIRef(info["repository"])
        at_commit = URIRef(f"{info['repository']}/tree/{info['commit']}")
        # the upstream snapshot is itself a dataset (DCAT-AP: the range of dct:source is dcat:Dataset)
        g.add((at_commit, RDF.type, DCAT.Dataset))
        g.add((at_commit, DCT.title, en(f"{info['title']}, upstream repository at commit {info['commit'][:12]}")))
        g.add((at_commit, DCT.description, en(f"The upstream repository {info['repository']} at commit "
                                              f"{info['commit']}, from which the records were loaded.")))
        g.add((at_commit, DCT.publisher, URIRef(minter.organization(info["publisher"][0]))))
        g.add((at_commit, PROV.specializationOf, upstream))
        g.add((ds, DCT.source, at_commit))
        g.add((ds, PROV.wasDerivedFrom, at_commit))
        g.add((ds, DCAT.landingPage, _document(g, URIRef(info["homepage"]))))
        g.add((ds, DCAT.version, Literal(info["commit"])))
        dist = URIRef(f"{base}catalog/{source}/upstream")
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCT.title, en(f"{info['title']} (upstream YAML files)")))
        g.add((dist, DCT.description, en(f"The YAML files at commit {info['commit']} of the upstream repository.")))
        g.add((dist, DCAT.accessURL, at_commit))
        g.add((dist, DCT.license, _license(g, URIRef(SPDX + info["license"]))))
        g.add((ds, OG.recordCount, Literal(counts.get(source, 0), datatype=XSD.integer)))

    _datasets_kb(g, catalog, whole, minter)
    _cubes(g, catalog, whole, service, minter)
    _release_boms(g, catalog, store, minter)
    return g


def cube_download_url(minter: Minter, cube: Cube) -> str:
    """A URL that answers the cube of the current run in RDF: a CONSTRUCT query on the SPARQL endpoint,
    following the current-run pointer (the data set and its observations)."""
    ds = dataset_iri(minter, cube.name)
    query = (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {current_run_pattern(minter)} GRAPH ?run {{ "
             f"{{ <{ds}> ?p ?o BIND (<{ds}> AS ?s) }} UNION {{ ?s <{QB.dataSet}> <{ds}> ; ?p ?o }} }} }}")
    return f"{minter.base}sparql?query={quote(query, safe='')}"


def _cubes(g: rdflib.Graph, catalog: URIRef, whole: URIRef, service: URIRef, minter: Minter) -> None:
    """The statistics cubes of the current assessment run (server.assess.cube), as data sets of the catalog
    with the same IRIs as their qb:DataSet, each with a Turtle download through the SPARQL endpoint."""
    g.add((DATA_CUBE, RDF.type, DCT.Standard))
    for cube in CUBES.values():
        ds = URIRef(dataset_iri(minter, cube.name))
        g.add((catalog, DCAT.dataset, ds))
        g.add((whole, DCT.hasPart, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCT.title, en(f"Statistics: {cube.title.lower()}")))
        g.add((ds, DCT.description, en(
            f"{cube.title} in the current assessment run, counting records and releases apart: W3C RDF Data Cube "
            f"observations (structure <{cube.structure}>) written by every run into its run graph.")))
        g.add((ds, DCT.publisher, URIRef(minter.base + "organizations/openness-graph-contributors")))
        g.add((ds, DCT.license, _license(g, URIRef(SPDX + "CC-BY-4.0"))))
        g.add((ds, DCT.conformsTo, DATA_CUBE))
        dist, url = URIRef(f"{ds}#turtle"), URIRef(cube_download_url(minter, cube))
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCT.title, en(f"{cube.title} (Turtle, from the SPARQL endpoint)")))
        g.add((dist, DCAT.accessURL, url))
        g.add((dist, DCAT.downloadURL, url))
        g.add((dist, DCAT.accessService, service))
        g.add((dist, DCAT.mediaType, _media_type(g, "text/turtle")))
        g.add((dist, DCT.license, _license(g, URIRef(SPDX + "CC-BY-4.0"))))


def _release_boms(g: rdflib.Graph, catalog: URIRef, store: GraphStore, minter: Minter) -> None:
    """Each release as a dataset (one model across its records), with its AI bills of materials as
    distributions: SPDX 3.0.1 and CycloneDX 1.6 from ``/releases/{id}/bom``."""
    from server.bom.export import FORMATS

    base = minter.base
    publisher = URIRef(base + "organizations/openness-graph-contributors")
    standards = {fmt.name: URIRef(fmt.standard) for fmt in FORMATS.values()}
    for standard in standards.values():
        g.add((standard, RDF.type, DCT.Standard))
    rows = store.select("""PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?r ?id ?name (GROUP_CONCAT(DISTINCT ?rid; separator=", ") AS ?records) WHERE {
  ?r a og:Release ; og:releaseId ?id ; rdfs:label ?name . ?m og:ofRelease ?r ; og:recordId ?rid
} GROUP BY ?r ?id ?name""")
    for row in sorted(rows, key=lambda r: r["id"].value):
        release_id, name, records = row["id"].value, row["name"].value, row["records"].value
        ds = URIRef(f"{row['r'].value}#dataset")
        g.add((catalog, DCAT.dataset, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCT.title, en(f"{name} (release)")))
        g.add((ds, DCT.description, en(f"The model release {name} across its records ({records}): its artifacts, "
                                       "their licenses, its training datasets and its consolidated verdicts, as AI "
                                       "bills of materials.")))
        g.add((ds, DCT.identifier, Literal(release_id)))
        g.add((ds, DCT.publisher, publisher))
        for fmt in FORMATS.values():
            dist = URIRef(f"{ds}-bom-{fmt.name}")
            url = URIRef(f"{row['r'].value}/bom?format={fmt.name}")  # /releases/{id}/bom: negotiated, or ?format
            g.add((ds, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCT.title, en(f"{name}: {fmt.title}")))
            g.add((dist, DCAT.accessURL, url))
            g.add((dist, DCAT.downloadURL, url))
            g.add((dist, DCAT.mediaType, _media_type(g, fmt.media_type)))
            g.add((dist, DCT.conformsTo, standards[fmt.name]))
            g.add((dist, DCT.license, _license(g, URIRef(SPDX + "CC-BY-4.0"))))


def _datasets_kb(g: rdflib.Graph, catalog: URIRef, whole: URIRef, minter: Minter) -> None:
    """The curated training-dataset knowledge base, and each training dataset under its own publisher."""
    kb = _kb()
    base = minter.base
    kb_ds = URIRef(f"{base}catalog/datasets-kb")
    g.add((catalog, DCAT.dataset, kb_ds))
    g.add((whole, DCT.hasPart, kb_ds))
    g.add((kb_ds, RDF.type, DCAT.Dataset))
    g.add((kb_ds, DCT.title, en("Openness Graph training dataset knowledge base")))
    g.add((kb_ds, DCT.description, en(
        f"{len(kb.entries)} training datasets of AI models, each with its publisher, licences and OSAID data "
        "class (open, public, obtainable, unshareable), every fact citing its source.")))
    g.add((kb_ds, DCT.publisher, URIRef(base + "organizations/openness-graph-contributors")))
    g.add((kb_ds, DCT.license, _license(g, URIRef(SPDX + (kb.license or "CC-BY-4.0")))))
    for entry in kb.entries:
        ds = URIRef(minter.dataset(entry.id))
        g.add((catalog, DCAT.dataset, ds))
        g.add((kb_ds, DCT.hasPart, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCT.title, Literal(entry.title)))
        g.add((ds, DCT.identifier, Literal(entry.id)))
        g.add((ds, DCT.description, en(f"Training dataset (OSAID data class: {entry.data_class}). "
                                       f"{entry.data_class_reason}")))
        publisher = URIRef(minter.organization(entry.publisher.name))
        g.add((ds, DCT.publisher, _agent(g, publisher, entry.publisher.name, _http(entry.publisher.url))))
        landing = _http(entry.landing_page)
        if landing:
            g.add((ds, DCAT.landingPage, _document(g, URIRef(landing))))
        for src in entry.sources:  # the pages that back the curated facts
            if _http(src):
                g.add((ds, RDFS.seeAlso, URIRef(src.strip())))
        for parent in entry.derived_from:
            g.add((ds, PROV.wasDerivedFrom, URIRef(minter.dataset(parent))))
        if entry.identifiers.arxiv:
            g.add((ds, DCT.isReferencedBy, URIRef(f"https://arxiv.org/abs/{entry.identifiers.arxiv}")))
        if entry.identifiers.doi:
            g.add((ds, RDFS.seeAlso, URIRef(f"https://doi.org/{entry.identifiers.doi}")))
        for i, lic in enumerate(entry.licenses):
            dist = URIRef(f"{ds}#distribution-{i + 1}")
            g.add((ds, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            label = lic.applies_to or "whole dataset"
            g.add((dist, DCT.description, en(f"{entry.title}: {label}, licensed {lic.id}")))
            g.add((dist, DCAT.accessURL, URIRef(landing or f"{base}datasets/{path_segment(entry.id)}")))
            g.add((dist, DCT.license, _license(g, URIRef(str(kb_license_iri(lic.id))))))


def _http(url: str | None) -> str | None:
    from loaders.record import is_http_url

    return url.strip() if url and is_http_url(url) else None


def void_graph(store: GraphStore, settings) -> rdflib.Graph:
    """VoID: the whole graph as a void:Dataset (triples, SPARQL endpoint, dumps, vocabularies) with one
    subset per source."""
    base = _base(settings)
    g = rdflib.Graph()
    bind_prefixes(g)
    whole = URIRef(base + "catalog/graph")
    g.add((whole, RDF.type, VOID.Dataset))
    g.add((whole, DCT.title, en("Openness Graph knowledge graph")))
    g.add((whole, DCT.license, URIRef(SPDX + "CC-BY-4.0")))
    g.add((whole, VOID.triples, Literal(store.quad_count(), datatype=XSD.integer)))
    g.add((whole, VOID.sparqlEndpoint, URIRef(base + "sparql")))
    g.add((whole, VOID.uriSpace, Literal(base)))
    g.add((whole, FOAF.homepage, URIRef(base)))
    for name in DUMPS:
        g.add((whole, VOID.dataDump, URIRef(f"{base}dump/{name}")))
    for vocab in VOCABULARIES:
        g.add((whole, VOID.vocabulary, URIRef(vocab)))
    counts = _record_counts(store)
    triples = _triples_per_source(store)
    for source, info in SOURCES.items():
        subset = URIRef(f"{base}catalog/{source}")
        g.add((whole, VOID.subset, subset))
        g.add((subset, RDF.type, VOID.Dataset))
        g.add((subset, DCT.title, en(info["title"])))
        g.add((subset, DCT.source, URIRef(info["repository"])))
        g.add((subset, VOID.entities, Literal(counts.get(source, 0), datatype=XSD.integer)))
        g.add((subset, VOID.triples, Literal(triples.get(source, 0), datatype=XSD.integer)))
        g.add((subset, VOID.uriSpace, Literal(f"{base}models/{source}/")))
    kb_subset = URIRef(f"{base}catalog/datasets-kb")
    g.add((whole, VOID.subset, kb_subset))
    g.add((kb_subset, RDF.type, VOID.Dataset))
    g.add((kb_subset, DCT.title, en("Openness Graph training dataset knowledge base")))
    g.add((kb_subset, VOID.entities, Literal(len(_kb().entries), datatype=XSD.integer)))
    g.add((kb_subset, VOID.uriSpace, Literal(f"{base}datasets/")))
    minter = Minter(base)
    for cube in CUBES.values():
        subset = URIRef(dataset_iri(minter, cube.name))
        g.add((whole, VOID.subset, subset))
        g.add((subset, RDF.type, VOID.Dataset))
        g.add((subset, DCT.title, en(f"Statistics: {cube.title.lower()}")))
        g.add((subset, DCT.conformsTo, DATA_CUBE))
        g.add((subset, VOID.vocabulary, URIRef(str(QB))))
        g.add((subset, VOID.sparqlEndpoint, URIRef(base + "sparql")))
        g.add((subset, VOID.dataDump, URIRef(cube_download_url(minter, cube))))
        g.add((subset, VOID.uriSpace, Literal(f"{subset}/")))
    return g


def _triples_per_source(store: GraphStore) -> dict[str, int]:
    rows = store.select("""PREFIX og: <https://w3id.org/openness-graph/ontology#>
SELECT ?source (COUNT(*) AS ?n) WHERE { ?g og:source ?source . GRAPH ?g { ?s ?p ?o } } GROUP BY ?source""")
    return {r["source"].value: int(r["n"].value) for r in rows}


def description_bytes(store: GraphStore, settings, fmt: str) -> bytes:
    """``openness export --format dcat|void``: the DCAT catalog or the VoID description, in Turtle."""
    graph = catalog_graph(store, settings) if fmt == "dcat" else void_graph(store, settings)
    return graph.serialize(format="turtle").encode()
