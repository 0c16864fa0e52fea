"""pySHACL, the reference SHACL engine: well-formedness problems of a record and its full validation
report against the shapes of every definition (shapes/*.ttl)."""

from __future__ import annotations

from functools import cache

import rdflib
from pyshacl import validate

from loaders.datasets_kb import dataset_graph, load_kb
from loaders.vocab import DCAT, DCT, DEFAULT_BASE_IRI, OG, SH, Minter, bind_prefixes
from server.resources import data_file, resource_dir

RECORD_SHAPES = "record.ttl"


@cache
def shapes_graph(names: tuple[str, ...] | None = None) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted(resource_dir("shapes").glob("*.ttl")):
        if names is None or path.name in names:
            graph.parse(path, format="turtle")
    return graph


@cache
def license_kb() -> rdflib.Graph:
    return rdflib.Graph().parse(data_file("licenses", "license-kb.ttl"), format="turtle")


@cache
def datasets_graph(base_iri: str = DEFAULT_BASE_IRI) -> rdflib.Graph:
    """The dataset knowledge base (training data classes), which the data-class requirements read."""
    return dataset_graph(load_kb(), Minter(base_iri))


def data_graph(record: rdflib.Graph, base_iri: str = DEFAULT_BASE_IRI) -> rdflib.Graph:
    """What the shapes validate: the record (or records) with the facts it refers to — the licenses it
    names (with their restriction nodes) and the training datasets it links (with their distributions).
    Only those: pySHACL's cost grows with the data graph, and the rest of the KBs cannot change a verdict."""
    data = rdflib.Graph()
    for triple in record:
        data.add(triple)
    _add_closure(data, license_kb(), set(record.objects(None, DCT.license)))
    _add_closure(data, datasets_graph(base_iri), set(record.objects(None, OG.trainedOn)))
    return data


_FOLLOW = {OG.hasRestriction, DCAT.distribution, DCT.license, DCT.publisher}


def _add_closure(data: rdflib.Graph, source: rdflib.Graph, roots: set) -> None:
    """Copy the triples of ``roots`` from ``source``, following IRIs and blank nodes one level deeper for
    nodes that belong to a root (restrictions, distributions, their licenses)."""
    seen: set = set()
    frontier = list(roots)
    depth = 0
    while frontier and depth < 3:
        nxt = []
        for node in frontier:
            if node in seen:
                continue
            seen.add(node)
            for p, o in source.predicate_objects(node):
                data.add((node, p, o))
                if p in _FOLLOW:
                    nxt.append(o)
        frontier, depth = nxt, depth + 1


def _validate(record: rdflib.Graph, shapes: rdflib.Graph, base_iri: str = DEFAULT_BASE_IRI) -> rdflib.Graph:
    # inplace: the merged graph is ours, so pySHACL need not copy it again
    _conforms, report, _text = validate(data_graph(record, base_iri), shacl_graph=shapes, advanced=True,
                                        allow_warnings=True, inplace=True)
    bind_prefixes(report)
    return report


def validation_report(record: rdflib.Graph, base_iri: str = DEFAULT_BASE_IRI) -> rdflib.Graph:
    """The sh:ValidationReport of the record against every shapes file."""
    return _validate(record, shapes_graph(), base_iri)


def record_problems(record: rdflib.Graph) -> list[dict]:
    """Violations of the well-formed-record shapes, as ``{"message", "focus", "path"}``."""
    if not (resource_dir("shapes") / RECORD_SHAPES).exists():
        return []
    data = rdflib.Graph()
    for triple in record:
        data.add(triple)
    _conforms, report, _text = validate(data, shacl_graph=shapes_graph((RECORD_SHAPES,)), allow_warnings=True,
                                        inplace=True)
    problems = []
    for result in report.subjects(SH.resultSeverity, SH.Violation):
        problems.append({"message": str(report.value(result, SH.resultMessage) or "violation"),
                         "focus": str(report.value(result, SH.focusNode)),
                         "path": str(report.value(result, SH.resultPath) or "")})
    return sorted(problems, key=lambda p: (p["focus"], p["path"], p["message"]))
