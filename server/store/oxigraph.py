"""The embedded store: Oxigraph on disk (one folder, one writer, any number of read-only readers) or in
memory. The default store of every deployment and of the tests."""

from __future__ import annotations

import io
import os
import queue
import shutil
import threading
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import pyoxigraph as ox
import rdflib

from server.store.base import GraphStore, Row, StoreError, StoreLocked, Term, graph_quads, to_rdflib
from server.store.journal import ChangeJournal

# Above this many added quads a graph's difference is written by Store.extend, not SPARQL INSERT DATA.
LARGE_DIFF = 20_000
# quads removed per batch when a large graph is dropped (OxigraphStore.drop_large_graphs)
DROP_BATCH = 50_000
# The bulk loader holds what it is given in memory before it writes: one call with a whole run graph peaked
# at 1.3-1.5 GB from 2M quads on, 200k quads at a time at ~0.2 GB for ~1.4x its load time (bench/RESULTS.md).
BULK_CHUNK = 200_000
# N-Quads lines per bulk load of a large graph (add_large_graph): 50k to 500k lines a call load at the same
# speed, and fewer hold less (a run graph's line is ~230 bytes).
LINES_CHUNK = 50_000


def _has_blank(quad: ox.Quad) -> bool:
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


def _graph_block(iri: str, quads: Iterable[ox.Quad]) -> str:
    """``GRAPH <iri> { s p o . ... }`` for a SPARQL DATA block."""
    body = "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
    return f"GRAPH <{iri}> {{\n{body}\n}}"



class OxigraphStore(GraphStore):
    """Embedded Oxigraph: on disk at ``path`` (or in memory when ``path`` is None)."""

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.quads_written = 0  # by this handle, added or removed: see compact_if_written
        self.quads_bulk_loaded = 0  # by load_fresh, whose files come out compact (so not in quads_written)
        # the graphs written since the last assessment (server.store.journal); a read-only handle writes none
        self.journal = ChangeJournal(None if read_only else path)
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
            if not read_only and "LOCK" in str(exc):
                raise StoreLocked(f"the store at {path} is in use by another process (is `openness serve` "
                                  "running?): stop it to write, or set OPENNESS_STORE to another folder") from exc
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
        # zip over the solution's values: ~1.6x faster than looking each variable up by name
        return [{name: value for name, value in zip(names, solution, strict=True) if value is not None}
                for solution in results]

    def quads_of_graph(self, graph_iri: str) -> list[ox.Quad]:
        return list(self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)))

    def iter_select(self, query: str) -> Iterator[Row]:
        results = self._query(query)
        names = [v.value for v in results.variables]
        try:
            for solution in results:
                yield {name: value for name, value in zip(names, solution, strict=True) if value is not None}
        except OSError as exc:
            raise StoreError(f"the store failed while reading: {exc}") from exc

    def iter_values(self, query: str, names: tuple[str, ...]) -> Iterator[tuple[Term | None, ...]]:
        results = self._query(query)
        at = {v.value: i for i, v in enumerate(results.variables)}
        positions = tuple(at[name] for name in names)
        try:
            if positions == tuple(range(len(at))):  # the projection's own order: the solution as it comes
                yield from map(tuple, results)
            else:
                for solution in results:
                    yield tuple(solution[i] for i in positions)
        except OSError as exc:
            raise StoreError(f"the store failed while reading: {exc}") from exc

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
        """Drop each graph, insert its new triples (see :meth:`replace_quads`)."""
        # every term is converted (and so checked) before anything is written
        self.replace_quads({iri: list(graph_quads(graph, iri)) for iri, graph in graphs.items()})

    def replace_quads(self, graphs: dict[str, list[ox.Quad]]) -> None:
        """Replace each named graph with the given quads; each graph is seen whole, old or new.

        Graphs not yet in the store (a first load) are added in one transaction (``Store.extend``).
        A graph already present is diffed against its new quads and the difference applied in one
        SPARQL ``DELETE DATA; INSERT DATA`` update (one transaction): reloading an unchanged record
        rewrites only its load time. Additions beyond ``LARGE_DIFF`` quads (e.g. 10k new records'
        verdicts), whose SPARQL text would take minutes to parse, go in first by ``Store.extend`` and the
        deletions follow: two transactions, in between the graph holds old and new quads together, never
        less than either. A difference with blank nodes (which DELETE DATA cannot name) is
        applied by dropping the graph and adding the new quads: two transactions, in between the graph
        is briefly absent, never half-written. Both paths are many times faster than one SPARQL
        ``DROP; INSERT DATA`` update carrying every triple, whose parsing dominated loads."""
        if not graphs:
            return
        self.journal.note(graphs)
        fresh: list[ox.Quad] = []
        dropped: list[str] = []
        deletes: list[str] = []
        inserts: list[str] = []
        extra: list[ox.Quad] = []  # large additions to graphs already present
        for iri, quads in graphs.items():
            if not self._store.contains_named_graph(ox.NamedNode(iri)):
                fresh.extend(quads)
                continue
            removed, added = self._difference(iri, quads)
            if any(_has_blank(q) for q in removed) or any(_has_blank(q) for q in added):
                dropped.append(iri)
                fresh.extend(quads)
                continue
            self.quads_written += len(removed) + (len(added) if len(added) <= LARGE_DIFF else 0)
            if removed:
                deletes.append(_graph_block(iri, removed))
            if len(added) > LARGE_DIFF:
                extra.extend(added)
            elif added:
                inserts.append(_graph_block(iri, added))
        if extra:
            self._extend(extra)
        self._apply_data(deletes, inserts)
        if dropped:
            self.drop_graphs(dropped)
        if fresh:
            self._extend(fresh)

    def replace_graph_atomically(self, graph_iri: str, quads: list[ox.Quad]) -> bool:
        """One SPARQL ``DELETE DATA; INSERT DATA`` update (one transaction) when the graph changes by at most
        ``LARGE_DIFF`` quads without blank nodes; beyond that the update's text would take long to parse."""
        removed, added = self._difference(graph_iri, quads)
        if len(removed) + len(added) > LARGE_DIFF or any(_has_blank(q) for q in removed | added):
            return False
        self.journal.note([graph_iri])
        self.quads_written += len(removed) + len(added)
        self._apply_data([_graph_block(graph_iri, removed)] if removed else [],
                         [_graph_block(graph_iri, added)] if added else [])
        return True

    def _difference(self, graph_iri: str, quads: list[ox.Quad]) -> tuple[set[ox.Quad], set[ox.Quad]]:
        """(quads to remove, quads to add) to turn the stored graph into ``quads``."""
        old = set(self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)))
        new = set(quads)
        return old - new, new - old

    def _apply_data(self, deletes: list[str], inserts: list[str]) -> None:
        """GRAPH blocks deleted and inserted in one update, so in one transaction."""
        parts = []
        if deletes:
            parts.append("DELETE DATA {\n" + "\n".join(deletes) + "\n}")
        if inserts:
            parts.append("INSERT DATA {\n" + "\n".join(inserts) + "\n}")
        if parts:
            self.update(" ;\n".join(parts))

    def _extend(self, quads: list[ox.Quad]) -> None:
        self.quads_written += len(quads)
        try:
            self._store.extend(quads)
        except OSError as exc:
            raise StoreError(f"the store failed while writing: {exc}") from exc

    # A file beside RocksDB's own in the store folder (which RocksDB leaves alone, as it does hub-cache/).
    UNTRACKED_WRITES_FILE = "written-since-assessment"

    def note_untracked_write(self) -> None:
        if self.path is None:
            self._untracked_in_memory = True
        else:
            (self.path / self.UNTRACKED_WRITES_FILE).touch()

    def has_untracked_writes(self) -> bool:
        if self.path is None:
            return getattr(self, "_untracked_in_memory", False)
        return (self.path / self.UNTRACKED_WRITES_FILE).exists()

    def clear_untracked_writes(self) -> None:
        if self.path is None:
            self._untracked_in_memory = False
        else:
            (self.path / self.UNTRACKED_WRITES_FILE).unlink(missing_ok=True)

    def apply_delta(self, removed: Iterable[ox.Quad], added: Iterable[ox.Quad]) -> None:
        """Remove and add quads (without blank nodes) in one SPARQL update, so in one transaction: readers
        see the store before or after, never between (~1 s per 100k quads)."""
        by_graph_removed: dict[str, list[ox.Quad]] = {}
        by_graph_added: dict[str, list[ox.Quad]] = {}
        for quads, into in ((removed, by_graph_removed), (added, by_graph_added)):
            for q in quads:
                into.setdefault(q.graph_name.value, []).append(q)
                self.quads_written += 1
        self.journal.note([*by_graph_removed, *by_graph_added])
        self._apply_data([_graph_block(g, qs) for g, qs in by_graph_removed.items()],
                         [_graph_block(g, qs) for g, qs in by_graph_added.items()])

    def compact_if_written(self, threshold: int) -> bool:
        """Compact the store (``Store.optimize``) when this handle wrote at least ``threshold`` quads (0: never).
        Transactions leave RocksDB many small files and tombstones: after a 10k-record load and assessment,
        point lookups were 1.46x and analytical queries 1.55x faster once compacted (bench/RESULTS.md), for
        ~3 s of compaction. A bulk first load writes compact files and counts little; small writes (an
        incremental assessment) are not worth a compaction."""
        if not threshold or self.path is None or self.read_only or self.quads_written < threshold:
            return False
        try:
            self._store.optimize()
        except OSError as exc:
            raise StoreError(f"the store failed while compacting: {exc}") from exc
        self.quads_written = 0
        return True

    def is_empty(self) -> bool:
        """No quad at all (no named graph, nothing in the default graph)."""
        return (next(iter(self._store.named_graphs()), None) is None
                and next(self._store.quads_for_pattern(None, None, None, ox.DefaultGraph()), None) is None)

    def load_fresh(self, nquads: Iterable[bytes]) -> None:
        """Fill this empty store with the N-Quads chunks by Oxigraph's bulk loader, all or nothing.

        The bulk loader is several times faster than transactions but not atomic: killed part-way, it
        leaves part of its input, possibly half a record. So on disk it fills a new store in a sibling
        folder and, once that is complete and flushed, swaps the folders (two renames on one volume). A
        crash before the swap leaves this store empty and a stray folder the next bulk load removes; a
        crash between the two renames leaves no store, which the next open creates empty. Readers that
        opened this store read-only keep seeing the empty one. In memory there is nothing to protect."""
        if not self.is_empty():
            raise StoreError("a bulk first load needs an empty store")
        self.journal.invalidate()  # the chunks' graphs are not named here (an empty store has no run anyway)
        def counted(chunks: Iterable[bytes]) -> Iterator[bytes]:
            for chunk in chunks:
                self.quads_bulk_loaded += chunk.count(b"\n")  # N-Quads: one quad a line
                yield chunk

        reader = io.BufferedReader(_ChunkReader(counted(nquads)), buffer_size=1 << 20)
        if self.path is None:
            self._store.bulk_load(reader, format=ox.RdfFormat.N_QUADS)
            return
        staging = self.path.with_name(self.path.name + ".bulk-load")
        replaced = self.path.with_name(self.path.name + ".replaced")
        for stray in (staging, replaced):
            shutil.rmtree(stray, ignore_errors=True)
        try:
            fresh = ox.Store(str(staging))
            try:
                fresh.bulk_load(reader, format=ox.RdfFormat.N_QUADS)
                fresh.flush()
            finally:
                del fresh  # closes it (pyoxigraph has no close())
            self._store = None  # close this (empty) store before its folder moves
            os.rename(self.path, replaced)
            os.rename(staging, self.path)
        except OSError as exc:
            raise StoreError(f"the store failed while writing (bulk load): {exc}") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # a failed load's partial copy (a full disk: free it)
            shutil.rmtree(replaced, ignore_errors=True)
            if self._store is None:
                self._store = ox.Store(str(self.path))

    def add_large_graph(self, graph_iri: str, lines: Iterable[str]) -> None:
        """Stream the N-Quads ``lines`` in by the bulk loader (bounded memory, no transaction), ``LINES_CHUNK``
        lines at a time. The loader parses and writes each chunk in a thread of its own with the GIL released,
        while the caller builds the next: at 10k records the run graph's Python then hides behind the loader's
        ~12 s, and writing it took 13 s instead of 18 s (bench/RESULTS.md). At most two chunks wait, so
        memory stays bounded."""
        self.journal.note([graph_iri])
        lines = iter(lines)
        waiting: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        failed: list[Exception] = []

        def write() -> None:  # takes every chunk, after a failure too, so the builder never waits forever
            while (chunk := waiting.get()) is not None:
                if not failed:
                    try:
                        # lenient: no IRI re-validation (~14 % faster); every IRI was minted or read from
                        # a store, and the strict parser reads the same lines in the tests' smaller runs
                        self._store.bulk_load(chunk, format=ox.RdfFormat.N_QUADS, lenient=True)
                    except Exception as exc:  # noqa: BLE001  (raised in the caller's thread below)
                        failed.append(exc)

        writer = threading.Thread(target=write, name="openness-bulk-writer", daemon=True)
        writer.start()
        try:
            while not failed and (chunk := list(islice(lines, LINES_CHUNK))):
                self.quads_written += len(chunk)
                waiting.put("".join(chunk).encode())
        finally:
            waiting.put(None)
            writer.join()
        if failed and isinstance(failed[0], OSError):
            raise StoreError(f"the store failed while writing: {failed[0]}") from failed[0]
        if failed:
            raise failed[0]

    def drop_large_graphs(self, graph_iris: Iterable[str]) -> None:
        """Remove the quads in batches, one small transaction each. A SPARQL ``DROP`` is one transaction
        whose memory grows with the graph: 1.05 GB for a 711k-quad run graph (10k records), so ~10 GB at
        100k records; this way 0.55 GB at the same speed (~37 us a quad here, bench/RESULTS.md)."""
        graph_iris = list(graph_iris)
        self.journal.note(graph_iris)
        try:
            for iri in graph_iris:
                graph = ox.NamedNode(iri)
                while batch := list(islice(self._store.quads_for_pattern(None, None, None, graph), DROP_BATCH)):
                    self.quads_written += len(batch)
                    for quad in batch:
                        self._store.remove(quad)
                self._store.remove_graph(graph)
        except OSError as exc:
            raise StoreError(f"the store failed while writing: {exc}") from exc

    def bulk_add(self, quads: Iterable[ox.Quad]) -> None:
        """Fast, non-transactional append for new graphs (benchmarks, first loads, private stores)."""
        self.journal.invalidate()  # graphs not named up front
        self._bulk_extend(quads)

    def _bulk_extend(self, quads: Iterable[ox.Quad]) -> None:
        """Hand the quads to the bulk loader ``BULK_CHUNK`` at a time, so its memory stays bounded."""
        quads = iter(quads)
        try:
            while chunk := list(islice(quads, BULK_CHUNK)):
                self.quads_written += len(chunk)
                self._store.bulk_extend(chunk)
        except OSError as exc:
            raise StoreError(f"the store failed while writing: {exc}") from exc

    def drop_graphs(self, graph_iris: Iterable[str]) -> None:
        iris = list(graph_iris)
        if iris:
            self.journal.note(iris)
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
        if self.path is not None and not self.read_only:
            try:
                self._store.flush()
            except OSError:
                pass


class _ChunkReader(io.RawIOBase):
    """A binary file over an iterator of byte chunks, so the bulk loader streams them (a 100k-record
    load is ~250 MB of N-Quads)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = chunk
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size
