"""pySHACL, the reference SHACL engine: well-formedness problems of a record and its full validation
report against the shapes of every definition (shapes/*.ttl)."""

from __future__ import annotations

from functools import cache, lru_cache

import pyoxigraph as ox
import rdflib
from pyshacl import validate
from rdflib import RDF

from loaders.bundled_data import data_file
from loaders.datasets_kb import dataset_graph, load_kb
from loaders.vocab import DCAT, DCT, DEFAULT_BASE_IRI, OG, SH, Minter, bind_prefixes
from server.resources import resource_dir
from server.store import to_ox

RECORD_SHAPES = "record.ttl"


def _memoise_query_preparation() -> None:
    """pySHACL re-checks each SHACL-SPARQL query text with regular expressions, and rdflib re-parses it,
    for every focus node; both are pure functions of the text (seconds per record for the generated
    queries). Memoise them: the results are the same, only computed once."""
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper
    from rdflib.plugins.sparql import processor

    if getattr(SPARQLQueryHelper.check_invalid_sparql, "_memoised", False):
        return
    check = SPARQLQueryHelper.check_invalid_sparql
    checked: set[tuple] = set()

    def check_invalid_sparql(self, sparql_text, valuenode=None, extravars=None):
        key = (sparql_text, valuenode is None, tuple(sorted(extravars or ())))
        if key not in checked:
            check(self, sparql_text, valuenode=valuenode, extravars=extravars)
            checked.add(key)
        return True

    check_invalid_sparql._memoised = True
    SPARQLQueryHelper.check_invalid_sparql = check_invalid_sparql

    query = processor.SPARQLProcessor.query

    @lru_cache(maxsize=2048)
    def prepared(text: str, base: str | None, namespaces: tuple):
        return processor.translateQuery(processor.parseQuery(text), base, dict(namespaces))

    def cached_query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803
        if isinstance(strOrQuery, str):
            strOrQuery = prepared(strOrQuery, base, tuple(sorted((k, str(v)) for k, v in (initNs or {}).items())))
        return query(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = cached_query


_memoise_query_preparation()


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


_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


@cache
def _split_shapes(names: tuple[str, ...] | None) -> tuple[rdflib.Graph | None, rdflib.Graph | None]:
    """Two copies of the shapes graph: one where only the shapes with SHACL-SPARQL constraints keep their
    targets, one where only the others do (None if a copy would target nothing). Each copy keeps every
    shape, since shapes reached through sh:node / sh:qualifiedValueShape must stay evaluable (pySHACL's
    ``use_shapes`` would also skip those, silently)."""
    graph = shapes_graph(names)
    targeted = {s for t in _TARGETS for s in graph.subjects(t, None)}
    sparql = {s for s in targeted if (s, SH.sparql, None) in graph}
    copies = []
    for keep in (sparql, targeted - sparql):
        if not keep:
            copies.append(None)
            continue
        copy = rdflib.Graph()
        for triple in graph:
            if triple[1] in _TARGETS and triple[0] not in keep:
                continue
            copy.add(triple)
        copies.append(copy)
    return copies[0], copies[1]


def _oxigraph(data: rdflib.Graph) -> ox.Store:
    store = ox.Store()
    store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.DefaultGraph()) for s, p, o in data)
    return store


def validate_graph(data: rdflib.Graph, names: tuple[str, ...] | None = None) -> tuple[bool, rdflib.Graph]:
    """pySHACL over ``data`` (already merged with the KBs) against the shapes files ``names`` (all if None).

    Shapes with SHACL-SPARQL constraints run with pySHACL's Oxigraph data-graph backend (rdflib's SPARQL
    engine needs ~50 ms per generated query per focus node; Oxigraph ~1 ms); core shapes run on the rdflib
    graph (pySHACL's core checks are slow through the Oxigraph proxy). Same engine, same shapes, one report."""
    sparql, core = _split_shapes(names)
    report = rdflib.Graph()
    conforms = True
    node = None
    for shapes, graph in ((core, data), (sparql, None)):
        if shapes is None:
            continue
        ok, part, _text = validate(graph if graph is not None else _oxigraph(data), shacl_graph=shapes,
                                   advanced=True, allow_warnings=True, inplace=True)
        conforms = conforms and ok
        part_node = part.value(predicate=RDF.type, object=SH.ValidationReport, any=True)
        for triple in part:
            if triple[0] == part_node:
                if triple[1] == SH.result:
                    report.add((node or part_node, SH.result, triple[2]))
                continue
            report.add(triple)
        node = node or part_node
    if node is None:
        node = rdflib.BNode()
    report.set((node, RDF.type, SH.ValidationReport))
    report.set((node, SH.conforms, rdflib.Literal(conforms)))
    bind_prefixes(report)
    return conforms, report


def _validate(record: rdflib.Graph, shapes_files: tuple[str, ...] | None,
              base_iri: str = DEFAULT_BASE_IRI) -> rdflib.Graph:
    return validate_graph(data_graph(record, base_iri), shapes_files)[1]


def validation_report(record: rdflib.Graph, base_iri: str = DEFAULT_BASE_IRI) -> rdflib.Graph:
    """The sh:ValidationReport of the record against every shapes file."""
    return _validate(record, None, base_iri)


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
