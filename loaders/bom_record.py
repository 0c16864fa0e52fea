"""An AI bill of materials as a record: what the SPDX 3 and CycloneDX loaders read from a BOM, in one neutral
shape (:class:`BomModel`), turned into the record's graph in the ontology by :func:`bom_record`.

A BOM we exported carries the record's own facts as ``openness:`` properties (``loaders.bom_vocab``): they are
restored exactly (artifact kinds, availability, the license string as the source wrote it with its resolved
licenses, Index grades, the completeness of the component list), so the record gets the same verdicts again.
A BOM from another tool is read from its standard fields: the model's package is the final weights, its
declared license string is resolved like any record's, training datasets are matched against the dataset
knowledge base, and since no BOM says it lists every component, a component it does not mention is
"not stated", not "missing".

What does not come back from a BOM of ours: a release date given as a year or year-month in a third-party
BOM (only full timestamps there), the producer's other names, the record's cross-source links (recomputed
after every load) and its provenance (the BOM's file becomes the record's source)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import RDF, RDFS, Literal, URIRef

from loaders import bom_vocab as ov
from loaders.components import BY_SLUG
from loaders.datasets_kb import load_kb, match_dataset
from loaders.errors import RecordError
from loaders.record import (
    LoadedRecord,
    SourceInfo,
    add_artifact,
    add_license,
    add_organization,
    add_provenance,
    is_http_url,
    issued_literal,
    lit,
    new_graph,
)
from loaders.vocab import DCAT, DCT, GRADE, LICSTATE, OG, PROV, SDO, SKOS, Minter, slugify

AVAILABILITIES = ("released", "partial", "not-released")
LICENSE_STATES = ("licensed", "unlicensed", "undisclosed", "not-included", "unrecognised")
GRADES = ("open", "partial", "closed")


@dataclass
class BomArtifact:
    kind: str
    slug: str | None = None  # the local part of its IRI in the graph it was exported from
    availability: str = "released"
    statement: str | None = None
    state: str | None = None
    licenses: list[str] = field(default_factory=list)  # license IRIs, when restored exactly
    exact: bool = False  # from openness: properties: statement, state and licenses as recorded
    access_urls: list[str] = field(default_factory=list)
    description: str | None = None
    dimension: str | None = None
    grade: str | None = None


@dataclass
class BomDataset:
    title: str
    dataset_id: str | None = None  # id in the dataset knowledge base, when the BOM says it
    location: str | None = None


@dataclass
class BomModel:
    name: str
    version: str | None = None
    issued: str | None = None
    producer: str | None = None
    producer_homepage: str | None = None
    hf_id: str | None = None
    landing_pages: list[str] = field(default_factory=list)
    code_repositories: list[str] = field(default_factory=list)
    model_type: str | None = None
    architecture: str | None = None
    note: str | None = None
    complete: bool = False
    gated: str | None = None
    monetised: bool | None = None
    grades: dict[str, str] = field(default_factory=dict)
    artifacts: list[BomArtifact] = field(default_factory=list)
    datasets: list[BomDataset] = field(default_factory=list)
    derived_from: str | None = None  # the record the BOM was exported from
    document: str | None = None  # the BOM's own id (SPDX document IRI, CycloneDX serial number)
    warnings: list[str] = field(default_factory=list)


def artifact_from_properties(props: dict[str, list[str]], file: str) -> BomArtifact | None:
    """The artifact an element of our own BOM describes, from its ``openness:`` properties (None if it has
    none). Values outside the ontology are refused, so a hand-edited BOM cannot write nonsense."""
    kind = _one(props, ov.ARTIFACT_KIND)
    if kind is None:
        return None
    if kind not in BY_SLUG:
        raise RecordError(file, f"{ov.ARTIFACT_KIND} {kind!r} is no artifact kind; one of: {', '.join(BY_SLUG)}")
    availability = _one(props, ov.AVAILABILITY) or "released"
    state = _one(props, ov.LICENSE_STATE)
    grade = _one(props, ov.INDEX_GRADE)
    for name, value, allowed in ((ov.AVAILABILITY, availability, AVAILABILITIES),
                                 (ov.LICENSE_STATE, state, LICENSE_STATES), (ov.INDEX_GRADE, grade, GRADES)):
        if value is not None and value not in allowed:
            raise RecordError(file, f"{name} {value!r} is not one of: {', '.join(allowed)}")
    artifact_iri = _one(props, ov.ARTIFACT)
    return BomArtifact(
        kind=kind, slug=artifact_iri.rsplit("#", 1)[-1] if artifact_iri and "#" in artifact_iri else None,
        availability=availability, statement=_one(props, ov.LICENSE_STATEMENT), state=state,
        licenses=[iri for iri in props.get(ov.LICENSE, []) if is_http_url(iri)], exact=True,
        access_urls=[u for u in props.get(ov.ACCESS_URL, []) if is_http_url(u)],
        dimension=_one(props, ov.INDEX_DIMENSION), grade=grade)


def apply_record_properties(model: BomModel, props: dict[str, list[str]]) -> None:
    """The record-level facts our BOMs carry (completeness, gating, Index grades, the exact release date); a
    BOM without ``openness:record`` is another tool's and keeps what its standard fields said."""
    if _one(props, ov.RECORD) is None:
        return
    model.complete = _one(props, ov.COMPLETE) == "true"
    model.gated = _one(props, ov.GATED)
    if (monetised := _one(props, ov.MONETISED)) is not None:
        model.monetised = monetised == "true"
    model.issued = _one(props, ov.ISSUED)  # the exported release time may only stand in for a missing date
    model.grades = {name[len(ov.RECORD_GRADE):]: values[0] for name, values in props.items()
                    if name.startswith(ov.RECORD_GRADE) and values[0] in GRADES}
    record = _one(props, ov.RECORD)
    model.derived_from = record if record and is_http_url(record) else None


def dataset_from_properties(props: dict[str, list[str]], title: str, location: str | None) -> BomDataset | None:
    """A training dataset of our own BOM (None if the element has no ``openness:dataset``)."""
    if _one(props, ov.DATASET) is None:
        return None
    return BomDataset(title, _one(props, ov.DATASET_ID), location)


def _one(props: dict[str, list[str]], name: str) -> str | None:
    values = props.get(name)
    return values[0] if values else None


def bom_record(model: BomModel, info: SourceInfo, minter: Minter, record_name: str) -> LoadedRecord:
    """The record's graph: the model release, its artifacts with licenses, its training datasets (linked to the
    dataset knowledge base where they match), its producer and provenance."""
    record_id = f"{info.source}/{record_name}"
    rec = URIRef(minter.record(record_id))
    graph = new_graph()
    graph.add((rec, RDF.type, OG.ModelRelease))
    graph.add((rec, OG.recordId, Literal(record_id)))
    graph.add((rec, OG.source, lit(info.source)))
    graph.add((rec, DCT.title, Literal(model.name)))
    graph.add((rec, RDFS.label, Literal(model.name)))
    graph.add((rec, OG.completeComponentList, Literal(model.complete)))
    if model.version:
        graph.add((rec, DCAT.version, Literal(model.version)))
    if model.issued and (issued := issued_literal(model.issued)) is not None:
        graph.add((rec, DCT.issued, issued))
    for value, prop in ((model.model_type, OG.modelType), (model.architecture, OG.architectureName),
                        (model.gated, OG.gatedAccess), (model.hf_id, OG.huggingFaceId), (model.note, SKOS.note)):
        if value:
            graph.add((rec, prop, Literal(value)))
    if model.monetised is not None:
        graph.add((rec, OG.monetised, Literal(model.monetised)))
    if model.producer:
        homepage = model.producer_homepage if is_http_url(model.producer_homepage) else None
        graph.add((rec, OG.producer, add_organization(graph, minter, model.producer, homepage)))
    for url in model.landing_pages:
        if is_http_url(url):
            graph.add((rec, DCAT.landingPage, URIRef(url.strip())))
    for url in model.code_repositories:
        if is_http_url(url):
            graph.add((rec, SDO.codeRepository, URIRef(url.strip())))
    if model.derived_from:
        graph.add((rec, PROV.wasDerivedFrom, URIRef(model.derived_from)))
    artifacts = _add_artifacts(graph, minter, rec, record_id, model.artifacts)
    for dimension, grade in sorted(model.grades.items()):
        node = URIRef(minter.artifact(record_id, f"grade-{dimension}"))
        graph.add((rec, OG.hasGrade, node))
        graph.add((node, RDF.type, OG.DimensionGrade))
        graph.add((node, OG.indexDimension, Literal(dimension)))
        graph.add((node, OG.indexGrade, GRADE[grade]))
        for art, iri in artifacts:
            if art.dimension == dimension:
                graph.add((node, OG.gradedArtifact, iri))
    _add_datasets(graph, minter, rec, model.datasets)
    add_provenance(graph, minter, record_id, info, rec)
    if model.document:
        graph.add((URIRef(minter.record_graph(record_id)), DCT.identifier, Literal(model.document)))
    return LoadedRecord(record_id, model.name, graph, rec, minter.record_graph(record_id), list(model.warnings))


def _add_artifacts(graph, minter: Minter, rec: URIRef, record_id: str,
                   artifacts: list[BomArtifact]) -> list[tuple[BomArtifact, URIRef]]:
    added = []
    used: set[str] = set()
    for art in artifacts:
        slug = art.slug or art.dimension or art.kind
        candidate, n = slug, 1
        while candidate in used:
            n += 1
            candidate = f"{slug}-{n}"
        used.add(candidate)
        iri = add_artifact(graph, rec, URIRef(minter.artifact(record_id, candidate)), BY_SLUG[art.kind],
                           art.availability)
        if art.description:
            graph.add((iri, DCT.description, Literal(art.description)))
        for url in art.access_urls:
            graph.add((iri, DCAT.accessURL, URIRef(url.strip())))
        if art.dimension:
            graph.add((iri, OG.indexDimension, Literal(art.dimension)))
        if art.grade:
            graph.add((iri, OG.indexGrade, GRADE[art.grade]))
        if art.exact:
            if art.statement is not None:
                graph.add((iri, OG.licenseStatement, lit(art.statement)))
            if art.state:
                graph.add((iri, OG.licenseState, LICSTATE[art.state]))
                graph.add((iri, OG.licenseResolvedFrom, lit("bom")))
            for license_iri in art.licenses:
                graph.add((iri, DCT.license, URIRef(license_iri)))
        elif art.statement is not None:
            add_license(graph, iri, art.statement, "bom declared license")
        added.append((art, iri))
    return added


def _add_datasets(graph, minter: Minter, rec: URIRef, datasets: list[BomDataset]) -> None:
    known = {e.id for e in load_kb().entries}
    for ds in datasets:
        dataset_id = ds.dataset_id if ds.dataset_id in known else None
        dataset_id = dataset_id or next((m for m in (match_dataset(t) for t in (ds.location, ds.title) if t) if m),
                                        None)
        if dataset_id:
            graph.add((rec, OG.trainedOn, URIRef(minter.dataset(dataset_id))))
            continue
        target = URIRef(minter.dataset(f"bom/{slugify(ds.title)}"))
        graph.add((rec, OG.trainedOn, target))
        graph.add((target, RDF.type, DCAT.Dataset))
        graph.add((target, DCT.title, Literal(ds.title)))
        if is_http_url(ds.location):
            graph.add((target, DCAT.landingPage, URIRef(ds.location.strip())))
        graph.add((rec, OG.unmatchedDatasetName, Literal(ds.title)))


MAX_MESSAGE = 300


def one_line(message: str) -> str:
    """A validator's message as one line a person reads (schema messages can quote a whole document)."""
    text = " ".join(message.split())
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


def statement_of(licenses: list[str]) -> str | None:
    """One license string for a third-party BOM's licenses (several are all required: joined with AND)."""
    parts = [p for p in licenses if p]
    if not parts:
        return None
    return " AND ".join(parts)

