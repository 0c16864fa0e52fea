"""The change journal of an embedded store: the names of the graphs written since an assessment run.

An incremental assessment must find what changed since the current run. Comparing every record's digest
with the run's reads every record (~1.5 s per 100k in Oxigraph, and as much again for the releases); the
journal lets it look only at the graphs written since. The store notes a graph's name *before* it writes
the graph (so a crash between the two only makes a later run look at a graph that did not change) and an
assessment restarts the journal once its run is current, keeping what was noted while it ran.

The journal is only trusted for the run it names in its first line. A store written by a version without a
journal, a journal lost or cut off, or a write the store cannot name the graphs of (a bulk load) leaves
it naming no run: the next assessment then compares every digest, as before, and restarts it. SPARQL
updates are not noted: the store's own are about run graphs, and the endpoint's mark the store
``written-since-assessment``, which makes the next run a full one anyway.

File: ``changed-graphs`` in the store folder (beside RocksDB's own files, which RocksDB leaves alone), one
line ``run <graph IRI>`` then one graph IRI per line; writers take an exclusive ``flock`` on it."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

RUN_PREFIX = "run "
NO_RUN = "-"  # the journal names no run: nothing can be vouched for until a run restarts it
EMPTY = f"{RUN_PREFIX}{NO_RUN}\n"  # a journal that names no run and no graph (as good as none)


@dataclass(frozen=True)
class JournalView:
    """What the journal said when read: the run it is relative to (None: none) and the graphs written since;
    ``head`` and ``end`` (its first line and length) let a restart keep what was noted after."""

    run: str | None
    graphs: frozenset[str] = field(default_factory=frozenset)
    head: str = ""
    end: int = 0


class ChangeJournal:
    """The journal of one store: a file in its folder, or a list in memory for an in-memory store."""

    FILE = "changed-graphs"

    def __init__(self, folder: Path | None) -> None:
        self.path = None if folder is None else folder / self.FILE
        self._memory = EMPTY

    def note(self, graph_iris: Iterable[str]) -> None:
        """Record that these graphs are about to be written."""
        lines = "".join(f"{iri}\n" for iri in dict.fromkeys(graph_iris))
        if not lines:
            return
        if self.path is None:
            self._memory += lines
            return
        with self._locked("a") as f:
            if f.tell() == 0:  # no journal yet: it vouches for no run
                f.write(EMPTY)
            f.write(lines)

    def invalidate(self) -> None:
        """A write whose graphs cannot be named: the journal vouches for no run until the next restart."""
        self._rewrite(lambda _text: EMPTY)

    def read(self) -> JournalView:
        if self.path is None:
            text = self._memory
        else:
            with self._locked("a+") as f:
                f.seek(0)
                text = f.read() or EMPTY
        first, _, rest = text.partition("\n")
        run = first[len(RUN_PREFIX):] if first.startswith(RUN_PREFIX) else NO_RUN
        if not text.endswith("\n") or run == NO_RUN:  # none, or cut off mid-line: vouches for nothing
            return JournalView(None, head=first, end=len(text.encode()))
        return JournalView(run, frozenset(rest.splitlines()), first, len(text.encode()))

    def restart(self, run_graph: str, seen: JournalView) -> None:
        """Make the journal relative to ``run_graph`` (now current), keeping the graphs noted after ``seen``
        was read at the run's start: written while the run ran, they may not be in it. If the journal was
        invalidated or restarted meanwhile, it stays as it is."""
        def restarted(text: str) -> str:
            text = text or EMPTY
            data = text.encode()
            if text.partition("\n")[0] != seen.head or len(data) < seen.end:
                return text
            return f"{RUN_PREFIX}{run_graph}\n" + data[seen.end:].decode()
        self._rewrite(restarted)

    def _rewrite(self, change) -> None:
        if self.path is None:
            self._memory = change(self._memory)
            return
        with self._locked("a+") as f:
            f.seek(0)
            new = change(f.read())
            f.seek(0)
            f.truncate()
            f.write(new)

    @contextmanager
    def _locked(self, mode: str) -> Iterator[IO[str]]:
        with open(self.path, mode, encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield f
                f.flush()
                os.fsync(f.fileno())
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
