"""/catalog conforms to DCAT-AP 3.0.1 (the official SEMIC shapes, copied into data/dcat-ap/), VoID, dumps."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from pyshacl import validate

from loaders.datasets_kb import load_kb
from loaders.vocab import DCAT, DCT, QB, VOID, Minter
from server.assess.cube import CUBES, dataset_iri
from server.web.catalog import catalog_graph, void_graph

SHAPES = Path(__file__).resolve().parent.parent / "data" / "dcat-ap" / "3.0.1"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def results(report: rdflib.Graph) -> int:
    """Top-level results only (pyshacl also emits nested sh:detail results)."""
    return len(list(report.objects(None, SH.result)))


@pytest.fixture(scope="module")
def catalog(pages_client) -> rdflib.Graph:
    r = pages_client.get("/catalog", headers={"accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    return rdflib.Graph().parse(data=r.text, format="turtle")


@pytest.mark.parametrize("profile", ["shapes.ttl", "range.ttl"])
def test_catalog_conforms_to_dcat_ap_3(catalog, profile):
    """Mandatory properties (the testbed's "Base Zero") and ranges ("Ranges Zero"), each on its own."""
    shapes = rdflib.Graph().parse(SHAPES / profile, format="turtle")
    conforms, report, text = validate(catalog, shacl_graph=shapes, inference="none")
    assert conforms, text
    assert results(report) == 0


def test_recommended_properties_give_warnings_only(catalog):
    shapes = rdflib.Graph().parse(SHAPES / "shapes_recommended.ttl", format="turtle")
    conforms, report, _ = validate(catalog, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert conforms
    assert not list(report.subjects(SH.resultSeverity, SH.Violation))


def test_catalog_content(catalog, bundled_settings):
    settings = bundled_settings
    minter = Minter(settings.base_iri)
    base = minter.base
    cat = rdflib.URIRef(base + "catalog")
    assert (cat, rdflib.RDF.type, DCAT.Catalog) in catalog
    datasets = set(catalog.objects(cat, DCAT.dataset))
    for source in ("mot", "osai-index", "datasets-kb"):
        assert rdflib.URIRef(f"{base}catalog/{source}") in datasets
    assert (rdflib.URIRef(base + "catalog/mot"), rdflib.URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"),
            None) in catalog
    service = catalog.value(cat, DCAT.service)
    assert catalog.value(service, DCAT.endpointURL) == rdflib.URIRef(base + "sparql")
    assert (service, DCAT.servesDataset, rdflib.URIRef(base + "catalog/graph")) in catalog
    dumps = {str(u) for u in catalog.objects(None, DCAT.downloadURL)}
    assert {f"{base}dump/nquads", f"{base}dump/turtle", f"{base}dump/jsonld"} <= dumps
    kb = load_kb()
    first = rdflib.URIRef(minter.dataset(kb.entries[0].id))
    assert first in datasets
    publisher = catalog.value(first, DCT.publisher)
    assert catalog.value(publisher, rdflib.URIRef("http://xmlns.com/foaf/0.1/name")) is not None
    releases = release_datasets(catalog)
    assert len(datasets) == 4 + len(CUBES) + len(kb.entries) + len(releases)


def release_datasets(catalog: rdflib.Graph) -> set:
    """The release datasets of the catalog (each release, with its BOMs)."""
    return {ds for ds in catalog.subjects(rdflib.RDF.type, DCAT.Dataset) if "/releases/" in str(ds)}


def test_each_release_lists_its_boms_as_distributions(catalog, bundled_store, bundled_settings):
    """Issue #21: every release's SPDX 3.0.1 and CycloneDX 1.6 BOMs are distributions of its dataset entry."""
    minter = Minter(bundled_settings.base_iri)
    count = bundled_store.select("SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?m "
                                 "<https://w3id.org/openness-graph/ontology#ofRelease> ?r }")[0]["n"].value
    assert len(release_datasets(catalog)) == int(count)
    release = minter.release("llama-2-7b")
    ds = rdflib.URIRef(f"{release}#dataset")
    assert (rdflib.URIRef(minter.base + "catalog"), DCAT.dataset, ds) in catalog
    iana = "https://www.iana.org/assignments/media-types/"
    media = {str(catalog.value(dist, DCAT.mediaType)).removeprefix(iana): str(catalog.value(dist, DCAT.accessURL))
             for dist in catalog.objects(ds, DCAT.distribution)}
    assert media == {"application/spdx+json": f"{release}/bom?format=spdx3",
                     "application/vnd.cyclonedx+json": f"{release}/bom?format=cyclonedx"}


@pytest.mark.parametrize("media,fmt", [("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")])
def test_catalog_other_serialisations(pages_client, catalog, media, fmt):
    r = pages_client.get("/catalog", headers={"accept": media})
    assert r.headers["content-type"].startswith(media)
    assert len(rdflib.Graph().parse(data=r.text, format=fmt)) == len(catalog)


def test_catalog_and_void_functions_serve_export(bundled_settings, bundled_store):
    settings, store = bundled_settings, bundled_store
    assert len(catalog_graph(store, settings)) > 100
    void = void_graph(store, settings)
    whole = rdflib.URIRef(Minter(settings.base_iri).base + "catalog/graph")
    assert int(void.value(whole, VOID.triples)) == store.quad_count()
    assert len(set(void.objects(whole, VOID.subset))) == 3 + len(CUBES)
    assert void.value(whole, VOID.sparqlEndpoint) is not None
    assert len(set(void.objects(whole, VOID.dataDump))) == 3


def test_dumps(pages_client, bundled_store):
    store = bundled_store
    r = pages_client.get("/dump/nquads")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/n-quads")
    quads = list(ox.parse(r.content, format=ox.RdfFormat.N_QUADS))
    assert len(quads) == store.quad_count()
    assert pages_client.get("/dump/turtle").headers["content-type"].startswith("text/turtle")
    assert pages_client.get("/dump/rdfxml").status_code == 404


@pytest.mark.parametrize("cube", sorted(CUBES))
def test_each_statistics_cube_is_a_dataset_whose_download_works(catalog, pages_client, bundled_store,
                                                                bundled_settings, cube):
    """Issue #20: the run's cubes are data sets of the catalog (the IRI of their qb:DataSet) with a Turtle
    distribution that really answers the cube: a CONSTRUCT on /sparql through the current-run pointer."""
    minter = Minter(bundled_settings.base_iri)
    ds = rdflib.URIRef(dataset_iri(minter, cube))
    assert (rdflib.URIRef(minter.base + "catalog"), DCAT.dataset, ds) in catalog
    url = str(catalog.value(catalog.value(ds, DCAT.distribution), DCAT.downloadURL))
    r = pages_client.get(url.removeprefix(minter.base.rstrip("/")), headers={"accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=r.text, format="turtle")
    observations = set(graph.subjects(QB.dataSet, ds))
    stored = bundled_store.select(f"""SELECT (COUNT(?obs) AS ?n) WHERE {{
  GRAPH ?pointer {{ ?pointer <{DCAT.hasCurrentVersion}> ?run }} GRAPH ?run {{ ?obs <{QB.dataSet}> <{ds}> }} }}""")
    assert observations and len(observations) == int(stored[0]["n"].value)
    assert graph.value(ds, QB.structure) == rdflib.URIRef(CUBES[cube].structure)
