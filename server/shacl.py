"""pySHACL, the reference SHACL engine: well-formedness problems of a record and its full validation
report against the shapes of every definition (shapes/*.ttl)."""

from __future__ import annotations

from functools import cache

import rdflib
from pyshacl import validate

from loaders.vocab import SH, bind_prefixes
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


def _validate(record: rdflib.Graph, shapes: rdflib.Graph) -> rdflib.Graph:
    data = rdflib.Graph()
    for triple in record:
        data.add(triple)
    for triple in license_kb():
        data.add(triple)
    _conforms, report, _text = validate(data, shacl_graph=shapes, advanced=True, allow_warnings=True)
    bind_prefixes(report)
    return report


def validation_report(record: rdflib.Graph) -> rdflib.Graph:
    """The sh:ValidationReport of the record against every shapes file."""
    return _validate(record, shapes_graph())


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
