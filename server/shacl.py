"""pySHACL, the reference SHACL engine: well-formedness problems of a record and its full validation
report against the shapes of every definition (shapes/*.ttl)."""

from __future__ import annotations

from functools import cache

import rdflib
from pyshacl import validate

from loaders.datasets_kb import dataset_graph, load_kb
from loaders.vocab import DEFAULT_BASE_IRI, SH, Minter, bind_prefixes
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
    """What the shapes validate: the record (or records) with the license KB and the dataset KB."""
    data = rdflib.Graph()
    for source in (record, license_kb(), datasets_graph(base_iri)):
        for triple in source:
            data.add(triple)
    return data


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
    report = _validate(record, shapes_graph((RECORD_SHAPES,)))
    problems = []
    for result in report.subjects(SH.resultSeverity, SH.Violation):
        problems.append({"message": str(report.value(result, SH.resultMessage) or "violation"),
                         "focus": str(report.value(result, SH.focusNode)),
                         "path": str(report.value(result, SH.resultPath) or "")})
    return sorted(problems, key=lambda p: (p["focus"], p["path"], p["message"]))
