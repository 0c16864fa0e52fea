"""The store behind the graph: one small interface, the embedded Oxigraph store as its default
implementation. Everything above it (loading, assessment, HTTP) speaks only this interface, in
pyoxigraph terms, so a remote SPARQL 1.1 store can stand in for the embedded one."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.term import BNode, Literal, URIRef

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Row = dict[str, Term]


class StoreError(Exception):
    """The store could not be opened or used; the message says what to do."""


def to_ox(term) -> Term:
    """rdflib term -> pyoxigraph term, keeping datatypes and language tags."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def to_rdflib(term: Term):
    """pyoxigraph term -> rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"not an RDF term: {term!r}")


def graph_quads(graph: rdflib.Graph, graph_iri: str) -> Iterator[ox.Quad]:
    """The triples of an rdflib graph as quads in the named graph ``graph_iri``."""
    g = ox.NamedNode(graph_iri)
    for s, p, o in graph:
        yield ox.Quad(to_ox(s), to_ox(p), to_ox(o), g)


class GraphStore(abc.ABC):
    """What the product needs from a quad store. The default graph of queries is the union of the
    named graphs (every record lives in its own named graph)."""

    @abc.abstractmethod
    def select(self, query: str) -> list[Row]:
        """Run a SELECT query; rows map variable names to terms (unbound variables are absent)."""

    @abc.abstractmethod
    def ask(self, query: str) -> bool: ...

    @abc.abstractmethod
    def construct(self, query: str) -> rdflib.Graph: ...

    @abc.abstractmethod
    def update(self, update: str) -> None: ...

    @abc.abstractmethod
    def replace_graphs(self, graphs: dict[str, rdflib.Graph]) -> None:
        """Replace each named graph with the given triples, all or nothing."""

    @abc.abstractmethod
    def drop_graphs(self, graph_iris: Iterable[str]) -> None: ...

    @abc.abstractmethod
    def quad_count(self) -> int: ...

    @abc.abstractmethod
    def named_graphs(self) -> list[str]: ...

    @abc.abstractmethod
    def dump(self, rdf_format: ox.RdfFormat) -> bytes:
        """Every quad (or, for a triple format, the union graph) serialised."""

    def close(self) -> None:  # noqa: B027  (optional hook)
        """Release the store (flush files, close connections)."""

    def graph_triples(self, graph_iri: str) -> rdflib.Graph:
        """One named graph as an rdflib graph."""
        return self.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")


class OxigraphStore(GraphStore):
    """Embedded Oxigraph: on disk at ``path`` (or in memory when ``path`` is None)."""

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        self.path = path
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
        except PermissionError as exc:
            raise StoreError(f"cannot open the store at {path}: permission denied; "
                             "set OPENNESS_STORE to a folder you can write") from exc
        except OSError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}; "
                             "set OPENNESS_STORE to a writable folder (is another process using it?)") from exc

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, for the SPARQL endpoint's own serialisers."""
        return self._store

    def _query(self, query: str):
        try:
            return self._store.query(query, use_default_graph_as_union=True)
        except OSError as exc:
            raise StoreError(f"the store failed while reading: {exc}") from exc

    def select(self, query: str) -> list[Row]:
        results = self._query(query)
        names = [v.value for v in results.variables]
        rows = []
        for solution in results:
            row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = value
            rows.append(row)
        return rows

    def ask(self, query: str) -> bool:
        return bool(self._query(query))

    def construct(self, query: str) -> rdflib.Graph:
        graph = rdflib.Graph()
        for triple in self._query(query):
            graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
        return graph

    def update(self, update: str) -> None:
        try:
            self._store.update(update)
        except OSError as exc:
            raise StoreError(f"the store failed while writing: {exc}") from exc

    def replace_graphs(self, graphs: dict[str, rdflib.Graph]) -> None:
        """One SPARQL update (one transaction): drop each graph, insert its new triples."""
        if not graphs:
            return
        parts = []
        for iri, graph in graphs.items():
            parts.append(f"DROP SILENT GRAPH <{iri}>")
        inserts = []
        for iri, graph in graphs.items():
            body = "\n".join(ox.Triple(q.subject, q.predicate, q.object).__str__() + " ."
                             for q in graph_quads(graph, iri))
            inserts.append(f"GRAPH <{iri}> {{\n{body}\n}}")
        parts.append("INSERT DATA {\n" + "\n".join(inserts) + "\n}")
        self.update(" ;\n".join(parts))

    def bulk_add(self, quads: Iterable[ox.Quad]) -> None:
        """Fast, non-transactional append for new graphs (benchmarks and first loads)."""
        try:
            self._store.bulk_extend(quads)
        except OSError as exc:
            raise StoreError(f"the store failed while writing: {exc}") from exc

    def drop_graphs(self, graph_iris: Iterable[str]) -> None:
        iris = list(graph_iris)
        if iris:
            self.update(" ;\n".join(f"DROP SILENT GRAPH <{iri}>" for iri in iris))

    def quad_count(self) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(rows[0]["n"].value)

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def dump(self, rdf_format: ox.RdfFormat) -> bytes:
        if rdf_format.supports_datasets:
            return self._store.dump(format=rdf_format)
        triples = self._store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        return triples.serialize(format=rdf_format)

    def close(self) -> None:
        if self.path is not None:
            try:
                self._store.flush()
            except OSError:
                pass


def open_store(settings, *, read_only: bool = False) -> GraphStore:
    """The store the settings choose: a remote SPARQL 1.1 store if OPENNESS_SPARQL_URL is set, else the
    embedded Oxigraph store at OPENNESS_STORE."""
    if settings.remote:
        from server.remote_store import RemoteStore

        return RemoteStore.from_settings(settings)
    return OxigraphStore(Path(settings.store), read_only=read_only)
