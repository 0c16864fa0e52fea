"""The ``GraphStore`` interface and the term conversions every store shares. Everything above the store
(loading, assessment, HTTP) speaks only this interface, in pyoxigraph terms, so the embedded Oxigraph store
and a remote SPARQL 1.1 store can stand in for each other."""

from __future__ import annotations

import abc
import hashlib
import re
from collections.abc import Iterable, Iterator

import pyoxigraph as ox
import rdflib
from rdflib.term import BNode, Literal, URIRef

from server.store.nquads import parse_lines

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Row = dict[str, Term]


class StoreError(Exception):
    """The store could not be opened or used; the message says what to do."""


class StoreLocked(StoreError):
    """The embedded store's folder is held by another process (its one writer, e.g. ``openness serve``):
    it can still be opened read-only."""


_NAMED: dict[URIRef, ox.NamedNode] = {}  # IRIs repeat across records (predicates, classes, licenses): convert once
_NAMED_MAX = 200_000


def to_ox(term) -> Term:
    """rdflib term -> pyoxigraph term, keeping datatypes and language tags. Raises ValueError on an
    invalid IRI or literal."""
    if type(term) is URIRef:
        node = _NAMED.get(term)
        if node is None:
            node = ox.NamedNode(str(term))
            if len(_NAMED) >= _NAMED_MAX:
                _NAMED.clear()
            _NAMED[term] = node
        return node
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=to_ox(term.datatype))
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
    quad, conv = ox.Quad, to_ox
    all_triples = getattr(graph.store, "all_triples", None)  # a loader's RecordStore: skip rdflib's iterators
    for s, p, o in all_triples() if all_triples is not None else graph:
        yield quad(conv(s), conv(p), conv(o), g)


SAFE_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


class UnsafeIRI(ValueError):
    """An IRI that cannot be written into a SPARQL query as it is."""


def query_iri(value: str) -> str:
    """``<value>`` for a query text, after checking ``value`` is an http(s) IRI with no character that could
    end the IRI or the query (values come from requests and records)."""
    if not SAFE_IRI.match(value):
        raise UnsafeIRI(f"not a safe IRI: {value!r}")
    return f"<{value}>"


CONTENT_DIGEST = "https://w3id.org/openness-graph/ontology#contentDigest"


def content_digest(quads: Iterable[ox.Quad], graph_iri: str) -> str:
    """SHA-256 of a record graph's statements but its provenance (the statements about the graph and its
    load ``{graph}#load``, which change with the load's time, file path and source) and its own digest,
    none of which the assessment reads: equal digests mean equal facts, so an incremental assessment skips
    the record. The loaders write it into the graph (og:contentDigest); an assessment computes it for a
    graph written without one."""
    provenance = {graph_iri, f"{graph_iri}#load"}
    lines = sorted(str(ox.Triple(q.subject, q.predicate, q.object)) for q in quads
                   if q.subject.value not in provenance and q.predicate.value != CONTENT_DIGEST)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


class GraphStore(abc.ABC):
    """What the product needs from a quad store. The default graph of queries is the union of the
    named graphs (every record lives in its own named graph)."""

    @abc.abstractmethod
    def select(self, query: str) -> list[Row]:
        """Run a SELECT query; rows map variable names to terms (unbound variables are absent)."""

    def iter_select(self, query: str) -> Iterator[Row]:
        """Like :meth:`select`, row by row: stores that can stream do, so a caller that folds the rows into
        its own structures never holds them all (670k rows for 100k records' artifacts: ~0.5 GB)."""
        return iter(self.select(query))

    def iter_values(self, query: str, names: tuple[str, ...]) -> Iterator[tuple[Term | None, ...]]:
        """Like :meth:`iter_select`, each solution as a tuple of the values of ``names`` in that order (None
        where unbound): for the scans that read every record's facts, where building a dict per row and
        looking each value up by name cost more than reading the row (~1.5x, bench/RESULTS.md)."""
        for row in self.iter_select(query):
            yield tuple(row.get(name) for name in names)

    @abc.abstractmethod
    def ask(self, query: str) -> bool: ...

    @abc.abstractmethod
    def construct(self, query: str) -> rdflib.Graph: ...

    @abc.abstractmethod
    def update(self, update: str) -> None: ...

    @abc.abstractmethod
    def replace_graphs(self, graphs: dict[str, rdflib.Graph]) -> None:
        """Replace each named graph with the given triples, all or nothing."""

    def replace_quads(self, graphs: dict[str, list[ox.Quad]]) -> None:
        """Like :meth:`replace_graphs`, for quads already converted (each list holds the quads of its graph).
        Stores with a faster native path override this."""
        rdflib_graphs = {}
        for iri, quads in graphs.items():
            graph = rdflib.Graph()
            for q in quads:
                graph.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
            rdflib_graphs[iri] = graph
        self.replace_graphs(rdflib_graphs)

    @abc.abstractmethod
    def drop_graphs(self, graph_iris: Iterable[str]) -> None: ...

    def replace_graph_atomically(self, graph_iri: str, quads: list[ox.Quad]) -> bool:
        """Replace a present graph in one transaction if this store can and the change is small enough;
        otherwise write nothing and return False (the caller then writes another way)."""
        return False

    def drop_large_graphs(self, graph_iris: Iterable[str]) -> None:
        """Drop graphs that may be too large for one transaction (superseded assessment runs). Not
        necessarily atomic, so only for graphs nothing reads. Stores that can do it in bounded memory
        override this."""
        self.drop_graphs(graph_iris)

    def add_large_graph(self, graph_iri: str, lines: Iterable[str]) -> None:
        """Write a new graph too large to hold as one list or write in one transaction, given as N-Quads lines
        (``server.store.nquads``) in that graph. Not atomic: a failure leaves a prefix of the lines, so
        nothing may read the graph until it is complete. Stores that can stream override this; here the
        quads are gathered and written as usual."""
        self.replace_quads({graph_iri: parse_lines(lines)})

    def compact_if_written(self, threshold: int) -> bool:
        """Compact the store if this handle wrote at least ``threshold`` quads and the store can; True if it
        did. Remote stores manage their own files."""
        return False

    def note_untracked_write(self) -> None:  # noqa: B027  (optional hook)
        """A write through the SPARQL Update or Graph Store protocol happened: such writes keep no record
        content digests, so the next assessment re-evaluates every record. Stores that assess incrementally
        remember it."""

    def has_untracked_writes(self) -> bool:
        """Whether the store was written without content digests since the last full assessment (always
        True for a store that does not track it, which then never assesses incrementally)."""
        return True

    def clear_untracked_writes(self) -> None:  # noqa: B027  (optional hook)
        """Forget untracked writes: a full assessment has just read everything."""

    @abc.abstractmethod
    def quad_count(self) -> int: ...

    @abc.abstractmethod
    def named_graphs(self) -> list[str]: ...

    @abc.abstractmethod
    def dump(self, rdf_format: ox.RdfFormat) -> bytes:
        """Every quad (or, for a triple format, the union graph) serialised."""

    def close(self) -> None:  # noqa: B027  (optional hook)
        """Release the store (flush files, close connections)."""

    def quads_of_graph(self, graph_iri: str) -> list[ox.Quad]:
        """One named graph's quads (a record's, ~100)."""
        g = ox.NamedNode(graph_iri)
        return [ox.Quad(r["s"], r["p"], r["o"], g)
                for r in self.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")]

    def graph_triples(self, graph_iri: str) -> rdflib.Graph:
        """One named graph as an rdflib graph."""
        return self.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")
