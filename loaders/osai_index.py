"""European Open Source AI Index YAML -> RDF.

Each of the 12 graded dimensions becomes an ``og:DimensionGrade`` on the record, and — where the
dimension grades an artifact — an ``og:Artifact`` whose availability follows the grade (open ->
released, partial -> partial, closed -> not-released). A dimension the file does not state gets no
node at all: "closed" (graders looked and found nothing open) stays distinct from "not stated"."""

from __future__ import annotations

import re

from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.namespace import SKOS

from loaders.components import BY_SLUG, INDEX_DIMENSIONS
from loaders.datasets_kb import match_dataset
from loaders.errors import RecordError
from loaders.papers import add_paper_links
from loaders.record import (
    LoadedRecord,
    SourceInfo,
    add_artifact,
    add_license,
    add_organization,
    add_provenance,
    is_http_url,
    issued_literal,
    new_graph,
    node_line,
    parse_yaml,
)
from loaders.vocab import DCAT, DCT, GRADE, OG, SDO, Minter

SOURCE = "osai-index"
GRADES = {"open": "released", "partial": "partial", "closed": "not-released"}
_TAG = re.compile(r"^#\s*-\s*([^:]+):\s*(.+?)\s*$")


def looks_like_index(data: object) -> bool:
    return isinstance(data, dict) and isinstance(data.get("system"), dict) and "org" in data


def header_tags(text: str) -> dict[str, str]:
    """The '# - National origin: ...' style tags in the file's header comments."""
    tags = {}
    for line in text.splitlines():
        match = _TAG.match(line.strip())
        if match:
            tags[match.group(1).strip()] = match.group(2).strip()
    return tags


def _links(value: object) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return []


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def load_index(text: str, info: SourceInfo, minter: Minter, record_name: str,
               parsed: tuple[object, object] | None = None) -> LoadedRecord:
    """One Index YAML record -> its RDF graph. Raises RecordError (file, line) on a bad record.
    ``parsed`` is ``parse_yaml(text, ...)`` when the caller has already parsed the text."""
    data, tree = parsed if parsed is not None else parse_yaml(text, info.file)
    if not looks_like_index(data):
        raise RecordError(info.file, "an Open Source AI Index record needs 'system' and 'org' mappings", 1)
    system = data["system"]
    name = _text(system.get("name"))
    if not name:
        raise RecordError(info.file, "system.name is required", node_line(tree, ["system"]))
    record_id = f"{SOURCE}/{record_name}"
    rec = URIRef(minter.record(record_id))
    graph = new_graph()
    graph.add((rec, RDF.type, OG.ModelRelease))
    graph.add((rec, OG.recordId, Literal(record_id)))
    graph.add((rec, OG.source, Literal(SOURCE)))
    graph.add((rec, DCT.title, Literal(name)))
    graph.add((rec, RDFS.label, Literal(name)))
    graph.add((rec, OG.completeComponentList, Literal(False)))
    if _text(system.get("type")):
        graph.add((rec, OG.modelType, Literal(_text(system["type"]))))
    if _text(system.get("endmodelname")):  # the graded release itself: another name of this record
        graph.add((rec, SDO.alternateName, Literal(_text(system["endmodelname"]))))
    if _text(system.get("basemodelname")):  # the model it was trained from: NOT a name of this record
        graph.add((rec, OG.baseModelName, Literal(_text(system["basemodelname"]))))
    if _text(system.get("notes")):
        graph.add((rec, SKOS.note, Literal(_text(system["notes"]))))
    if (issued := issued_literal(system.get("releasedate"))) is not None:
        graph.add((rec, DCT.issued, issued))
    link = system.get("link")
    if is_http_url(link):
        graph.add((rec, DCAT.landingPage, URIRef(link.strip())))
        from loaders.mot import hf_repo_id

        if hf_id := hf_repo_id(link):
            graph.add((rec, OG.huggingFaceId, Literal(hf_id)))
    org = data.get("org") if isinstance(data.get("org"), dict) else {}
    if _text(org.get("name")):
        org_iri = add_organization(graph, minter, _text(org["name"]), _text(org.get("link")))
        graph.add((rec, OG.producer, org_iri))
        tags = header_tags(text)
        if "National origin" in tags:
            graph.add((org_iri, SDO.location, Literal(tags["National origin"])))
        if "Contributor type" in tags:
            graph.add((org_iri, SDO.additionalType, Literal(tags["Contributor type"])))
    end_license = system.get("endmodellicense", system.get("endmodel license"))
    for dimension, kind_slug in INDEX_DIMENSIONS.items():
        entry = data.get(dimension)
        if not isinstance(entry, dict) or _text(entry.get("class")) is None:
            continue
        grade = _text(entry["class"]).lower()
        if grade not in GRADES:
            raise RecordError(info.file, f"{dimension}.class must be open, partial or closed, not {grade!r}",
                              node_line(tree, [dimension, "class"]))
        _add_dimension(graph, minter, rec, record_id, dimension, kind_slug, grade, entry, end_license)
    add_provenance(graph, minter, record_id, info, rec)
    return LoadedRecord(record_id, name, graph, rec, minter.record_graph(record_id))


def _add_dimension(graph, minter: Minter, rec: URIRef, record_id: str, dimension: str, kind_slug: str | None,
                   grade: str, entry: dict, end_license: object) -> None:
    node = URIRef(minter.artifact(record_id, f"grade-{dimension}"))
    graph.add((rec, OG.hasGrade, node))
    graph.add((node, RDF.type, OG.DimensionGrade))
    graph.add((node, OG.indexDimension, Literal(dimension)))
    graph.add((node, OG.indexGrade, GRADE[grade]))
    if _text(entry.get("notes")):
        graph.add((node, SKOS.note, Literal(_text(entry["notes"]))))
    links = [u for u in _links(entry.get("link")) if is_http_url(u)]
    for url in links:
        graph.add((node, RDFS.seeAlso, URIRef(url)))
    if kind_slug is None:
        return
    artifact = add_artifact(graph, rec, URIRef(minter.artifact(record_id, dimension)), BY_SLUG[kind_slug],
                            GRADES[grade])
    graph.add((artifact, OG.indexDimension, Literal(dimension)))
    graph.add((artifact, OG.indexGrade, GRADE[grade]))
    graph.add((node, OG.gradedArtifact, artifact))
    for url in links:
        graph.add((artifact, DCAT.accessURL, URIRef(url)))
    add_paper_links(graph, artifact, kind_slug, links)
    if dimension == "weights_endmodel" and _text(end_license):
        add_license(graph, artifact, _text(end_license), "system.endmodellicense")
    if dimension.startswith("datasources_"):
        for url in links:
            dataset_id = match_dataset(url)
            if dataset_id:
                graph.add((rec, OG.trainedOn, URIRef(minter.dataset(dataset_id))))
            else:
                graph.add((rec, OG.unmatchedDatasetName, Literal(url)))
