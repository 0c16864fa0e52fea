"""Cancellable SPARQL query execution.

pyoxigraph cannot interrupt a running query, so a timeout that "really stops the work" needs a worker
that can be killed. :class:`ProcessQueryPool` keeps a few worker processes, each holding a read-only
handle on the on-disk store (``Store.read_only``); a query that overruns its deadline gets its worker
killed and replaced, while the other workers keep answering. A read-only handle sees the store as it
was when it was opened, so workers reopen it when the server has written (``generation`` counter), and
only then: every write in the serving process goes through the endpoint, which bumps the counter, and a
handle stays readable while the writer compacts (tested). Reopening costs ~12 ms and empties the
handle's block cache, so a time-based reopen made small queries 5-10x slower after every pause
(measured at 100k models: 22 ms instead of 1.9 ms). Idle workers are taken last-in first-out, so the
worker with the warmest cache answers next.

Two lanes keep cheap queries fast while expensive ones run: every query starts on one of the ``workers``
fast workers; one that has used ``long_after`` seconds of CPU becomes a *long* query: its process drops to
idle CPU priority (it only gets the CPU that cheap queries leave) and a fresh worker takes its place in the
fast lane. At most ``long_limit`` long queries run at once; a query that overruns
``long_after`` while they are all taken is stopped with 503 (its worker is killed). A deprioritised process
cannot be made normal again without privileges, so a long worker is retired when its query ends. Workers are forked
from a forkserver that has already imported this module: a fresh worker is ready in ~25 ms (spawn: ~120 ms
and 0.15 s of CPU, measured here), which keeps replacing killed and retired workers cheap.

:class:`ThreadQueryRunner` serves in-memory stores (tests, remote-less tools): it runs the query in a
thread and abandons it at the deadline (the thread finishes in the background).

Both run :func:`execute_job`, which evaluates and serialises in one place with the store's own
serialisers, so the result bytes are identical whichever runner is used. Results are capped at
``max_rows``: solutions are first written as SPARQL TSV (one line per row, lossless for datatypes and
language tags) and cut after ``max_rows``, then re-serialised from that TSV in the requested format.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import multiprocessing as mp
import os
import pickle
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pyoxigraph as ox

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# Bodies cross the pipe in chunks no larger than a Linux pipe buffer, so a chunk announced as readable is
# (nearly always) already whole and the event loop never waits on a slow writer; the web process then
# streams each chunk to the client instead of holding the whole body.
CHUNK_BYTES = 64 * 1024

RESULTS_FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
RDF_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
}
DEFAULT_GRAPH = ""  # in QueryJob.default_graphs: the store's own default graph
REFRESH = None  # sent to an idle worker after a write: reopen the read-only handle now, answer nothing


@dataclass(frozen=True)
class QueryJob:
    """One query and how to answer it. ``results_type`` / ``rdf_type`` are the media types negotiated
    for solutions/booleans and for triples (None: the client accepts none of ours)."""

    query: str
    results_type: str | None = "application/sparql-results+json"
    rdf_type: str | None = "text/turtle"
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    max_rows: int = 100_000
    base_iri: str | None = None
    union_default_graph: bool = True  # False when the query has its own FROM / FROM NAMED


@dataclass
class QueryOutcome:
    """A serialised answer: ``body`` is whole (thread runner) unless ``chunks`` streams it (worker)."""

    media_type: str
    body: bytes
    truncated: bool = False
    elapsed: float = field(default=0.0)
    chunks: _ChunkStream | None = None


class QueryError(Exception):
    """A query that could not be answered; ``status`` is the HTTP status it maps to."""

    status = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class QuerySyntaxError(QueryError):
    status = 400


class NotAcceptable(QueryError):
    status = 406


class QueryTimeout(QueryError):
    status = 503


class QueryBusy(QueryError):
    status = 503


def _graph(iri: str):
    return ox.DefaultGraph() if iri == DEFAULT_GRAPH else ox.NamedNode(iri)


class LineCapWriter:
    """A binary sink that stops the serialiser after ``max_lines`` data lines (plus the header)."""

    def __init__(self, max_lines: int) -> None:
        self.parts: list[bytes] = []
        self.lines = 0
        self.limit = max_lines + 1  # header line
        self.truncated = False

    def write(self, data: bytes) -> int:
        if self.truncated:
            raise RowsEnough
        newlines = data.count(b"\n")
        if self.lines + newlines > self.limit:
            keep = self.limit - self.lines
            cut = 0
            for _ in range(keep):
                cut = data.index(b"\n", cut) + 1
            self.parts.append(data[:cut])
            self.lines = self.limit
            self.truncated = True
            raise RowsEnough
        self.parts.append(data)
        self.lines += newlines
        return len(data)

    def flush(self) -> None:
        pass


class RowsEnough(Exception):
    """Raised by LineCapWriter to stop a serialiser once the row cap is reached."""


def capped_tsv(solutions: ox.QuerySolutions, max_rows: int) -> tuple[bytes, bool]:
    """The solutions as SPARQL TSV (lossless for datatypes and language tags) cut after ``max_rows`` rows,
    and whether they were cut. Re-raises the serialiser's OSError unless the cap stopped it."""
    sink = LineCapWriter(max_rows)
    try:
        solutions.serialize(sink, format=ox.QueryResultsFormat.TSV)
    except RowsEnough:
        pass
    except OSError:  # pyoxigraph wraps the sink's exception
        if not sink.truncated:
            raise
    return b"".join(sink.parts), sink.truncated


def execute_job(store: ox.Store, job: QueryJob) -> QueryOutcome:
    """Evaluate ``job`` on ``store`` and serialise the answer (runs in a worker process or thread)."""
    started = time.monotonic()
    kwargs: dict = {"base_iri": job.base_iri}
    if job.default_graphs is not None or job.named_graphs is not None:
        # Protocol dataset: the request's graphs replace FROM / FROM NAMED (SPARQL 1.1 Protocol §2.1.4).
        kwargs["default_graph"] = [_graph(g) for g in (job.default_graphs or ())]
        if job.named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
        elif job.default_graphs is not None:
            kwargs["named_graphs"] = []
    elif job.union_default_graph:
        kwargs["use_default_graph_as_union"] = True
    try:
        results = store.query(job.query, **kwargs)
    except SyntaxError as exc:
        raise QuerySyntaxError(str(exc)) from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise QueryError(f"query failed: {exc}") from None
    try:
        if isinstance(results, ox.QueryBoolean):
            if job.results_type is None:
                raise NotAcceptable("ASK results are available as " + ", ".join(RESULTS_FORMATS))
            body = results.serialize(format=RESULTS_FORMATS[job.results_type])
            return QueryOutcome(job.results_type, body, elapsed=time.monotonic() - started)
        if isinstance(results, ox.QuerySolutions):
            if job.results_type is None:
                raise NotAcceptable("SELECT results are available as " + ", ".join(RESULTS_FORMATS))
            try:
                tsv, truncated = capped_tsv(results, job.max_rows)
            except OSError as exc:
                raise QueryError(f"query failed: {exc}") from None
            fmt = RESULTS_FORMATS[job.results_type]
            if fmt == ox.QueryResultsFormat.TSV:
                body = tsv
            else:
                body = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV).serialize(format=fmt)
            return QueryOutcome(job.results_type, body, truncated, time.monotonic() - started)
        if job.rdf_type is None:
            raise NotAcceptable("CONSTRUCT and DESCRIBE results are available as " + ", ".join(RDF_FORMATS))
        rdf_format = RDF_FORMATS[job.rdf_type]
        triples = list(itertools.islice(results, job.max_rows + 1))
        truncated = len(triples) > job.max_rows
        del triples[job.max_rows:]
        if rdf_format.supports_datasets:
            items = [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
        else:
            items = triples
        body = ox.serialize(items, format=rdf_format) or b""
        return QueryOutcome(job.rdf_type, body, truncated, time.monotonic() - started)
    except QueryError:
        raise
    except SyntaxError as exc:
        raise QuerySyntaxError(str(exc)) from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise QueryError(f"query failed: {exc}") from None


class _Slots:
    """Counts queries in flight; refuses (503) beyond the bound instead of queueing without limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._lock = threading.Lock()

    def acquire(self) -> _Slot:
        with self._lock:
            if self.active >= self.limit:
                raise QueryBusy(f"too many queries in progress ({self.limit}); retry shortly")
            self.active += 1
        return _Slot(self)

    def _release(self) -> None:
        with self._lock:
            self.active -= 1


class _Slot:
    """One query's place in :class:`_Slots`; released once, however many paths end the query."""

    def __init__(self, slots: _Slots) -> None:
        self._slots = slots
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots._release()

    def __enter__(self) -> _Slot:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _timeout_message(timeout: float) -> str:
    return f"query timed out after {timeout:g} s"


class ThreadQueryRunner:
    """Runs queries on an in-process store in threads; at the deadline the answer is abandoned."""

    kind = "thread"

    def __init__(self, store: ox.Store, *, timeout: float, max_concurrent: int) -> None:
        self.store = store
        self.timeout = timeout
        self._slots = _Slots(max_concurrent)
        self._limiter = anyio.CapacityLimiter(max_concurrent)

    def notify_write(self) -> None:
        """Nothing to do: threads share the live store."""

    def status(self) -> dict[str, int]:
        """Queries in progress, for /health."""
        return {"in_progress": self._slots.active}

    async def run(self, job: QueryJob) -> QueryOutcome:
        with self._slots.acquire():
            with anyio.move_on_after(self.timeout) as scope:
                return await anyio.to_thread.run_sync(
                    execute_job, self.store, job, abandon_on_cancel=True, limiter=self._limiter
                )
            if scope.cancelled_caught:
                raise QueryTimeout(_timeout_message(self.timeout))
            raise QueryError("query was cancelled")

    def close(self) -> None:
        pass


def _open_read_only(path: str, attempts: int = 8) -> ox.Store | Exception:
    """A read-only handle on the store, or the last error. Opening races with the writer's background
    compaction: RocksDB reads the MANIFEST, the writer deletes an SST it lists, and the open fails with
    RuntimeError("Corruption: ... No such file or directory"). A fresh attempt reads the new MANIFEST."""
    error: Exception = RuntimeError("not opened")
    for attempt in range(attempts):
        try:
            return ox.Store.read_only(path)
        except (OSError, RuntimeError) as exc:
            error = exc
            time.sleep(0.005 * (attempt + 1))
    return error


def _settle(future: asyncio.Future, value: bool) -> None:
    if not future.done():
        future.set_result(value)


def _send(conn, message) -> None:
    """``conn.send`` with plain pickle: multiprocessing's own pickler costs ~5x more per small message
    (measured: 9.7 vs 4.9 µs for a job, 5.3 vs 1.0 µs for an answer's head); ``conn.recv`` reads both."""
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _worker_main(path: str, conn, generation) -> None:
    """Body of a worker process: answer jobs from ``conn`` until it closes. The store is opened at start, so
    a fresh worker's first query does not pay for the open. ``REFRESH`` (no answer expected) reopens the
    handle after a write while the worker idles, so that files the writer has compacted away are let go."""
    seen = generation.value
    store = _open_read_only(path, attempts=1)
    try:
        while True:
            job = conn.recv()
            current = generation.value
            if isinstance(store, Exception) or current != seen:
                store, seen = _open_read_only(path), current
            if job is REFRESH:
                continue
            if isinstance(store, Exception):
                _send(conn, ("error", time.process_time(), 503,
                             f"cannot open the store read-only, retry shortly: {store}"))
                continue
            try:
                outcome = execute_job(store, job)
            except QueryError as exc:
                _send(conn, ("error", time.process_time(), exc.status, exc.message))
                continue
            except Exception as exc:  # noqa: BLE001  (report, keep serving)
                _send(conn, ("error", time.process_time(), 500, f"query failed: {exc}"))
                continue
            # a small body rides with the head (one message, one wake-up); the whole message still fits the pipe
            small = len(outcome.body) < CHUNK_BYTES // 2
            _send(conn, ("ok", time.process_time(), outcome.media_type, outcome.truncated, outcome.elapsed,
                         outcome.body if small else None))
            if not small:
                body = memoryview(outcome.body)
                for start in range(0, len(body), CHUNK_BYTES):
                    conn.send_bytes(body[start:start + CHUNK_BYTES])
                conn.send_bytes(b"")  # end of body
    except (EOFError, OSError):
        return  # the pool closed the pipe: retired, or the server is stopping


def _run_at_idle_priority(pid: int) -> None:
    """Let ``pid`` run only on CPU time nothing else wants: SCHED_IDLE on Linux (measured: a runaway per
    second raised a lone client's point-lookup p50 1.26-1.29x, 1.36-1.42x with nice 15), else nice 19."""
    try:
        if hasattr(os, "SCHED_IDLE"):
            os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
        else:
            os.setpriority(os.PRIO_PROCESS, pid, 19)
    except OSError:
        pass  # the process just ended; its answer is in the pipe


class _Worker:
    def __init__(self, ctx, path: str, generation) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(path, child, generation), daemon=True)
        self.process.start()
        child.close()
        self.long = False  # promoted to the long lane (idle priority); retired when its query ends
        self.idle = True  # waiting in the pool's queue for a query
        self.cpu_mark = 0.0  # the process's CPU seconds when it sent its last answer (it idles since)

    def cpu_used(self) -> float | None:
        """CPU seconds spent on the current query (None where /proc is not available)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS - self.cpu_mark

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class ProcessQueryPool:
    """A pool of worker processes with read-only handles on the on-disk store at ``path``: ``workers`` in
    the fast lane, up to ``long_limit`` more running long queries (see the module docstring)."""

    kind = "process"

    def __init__(self, path: Path, *, workers: int, timeout: float, max_concurrent: int,
                 long_after: float, long_limit: int) -> None:
        self.path = str(path)
        self.timeout = timeout
        self.long_after = long_after
        self.long_limit = long_limit
        self.long_running = 0
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload([__name__])
        self._generation = self._ctx.Value("q", 0)
        self._slots = _Slots(max_concurrent)
        self._idle: asyncio.LifoQueue[_Worker] | None = None
        self._lock = threading.Lock()  # guards _workers: replacements start in executor threads
        self._workers: set[_Worker] = set()
        for _ in range(workers):
            self._start_worker()
        self._closed = False

    def notify_write(self) -> None:
        """The server wrote to the store: busy workers reopen their read-only handle before their next query,
        idle ones at once (an idle handle would otherwise hold compacted-away files on disk)."""
        with self._generation.get_lock():
            self._generation.value += 1
        with self._lock:
            idle = [worker for worker in self._workers if worker.idle]
        for worker in idle:
            try:
                _send(worker.conn, REFRESH)
            except OSError:
                pass  # a worker that just died is replaced when its turn comes

    def status(self) -> dict[str, int]:
        """Queries in progress and the long lane's use, for /health."""
        return {"in_progress": self._slots.active, "long_running": self.long_running,
                "long_limit": self.long_limit}

    def _start_worker(self) -> _Worker:
        worker = _Worker(self._ctx, self.path, self._generation)
        with self._lock:
            self._workers.add(worker)
        return worker

    def _queue(self) -> asyncio.LifoQueue[_Worker]:
        if self._idle is None:
            self._idle = asyncio.LifoQueue()
            with self._lock:
                for worker in self._workers:
                    self._idle.put_nowait(worker)
        return self._idle

    async def run(self, job: QueryJob) -> QueryOutcome:
        """Send ``job`` to an idle fast worker; the outcome's ``chunks`` stream the body and give the worker
        back when exhausted (or closed). The whole exchange is awaited on the event loop: the pipe is
        watched with ``add_reader`` instead of a thread per query (a thread hop per request cost more
        than the point query itself)."""
        deadline = time.monotonic() + self.timeout
        slot = self._slots.acquire()
        worker: _Worker | None = None
        try:
            worker = await self._idle_worker()
            try:
                _send(worker.conn, job)
            except OSError as exc:
                raise QueryError(f"query worker failed: {exc}") from None
            head = await self._head(worker, deadline, slot)
            worker.cpu_mark = head[1]  # every answer starts (kind, CPU seconds of the worker so far, ...)
            if head[0] == "error":
                _, _, status, message = head
                self._give_back(worker)
                worker = None
                raise QuerySyntaxError(message) if status == 400 else QueryError(message, status)
            _, _, media_type, truncated, elapsed, body = head
            if body is not None:  # a small answer, whole
                self._give_back(worker)
                worker = None
                slot.release()
                return QueryOutcome(media_type, body, truncated, elapsed)
            first = await self._receive(worker, deadline, worker.conn.recv_bytes)
        except BaseException:
            if worker is not None:
                self._discard(worker)
            slot.release()
            raise
        return QueryOutcome(media_type, b"", truncated, elapsed,
                            chunks=_ChunkStream(self, worker, first, deadline, slot))

    async def _idle_worker(self) -> _Worker:
        idle = self._queue()
        try:
            if idle.empty():
                worker = await asyncio.wait_for(idle.get(), self.timeout)
            else:
                worker = idle.get_nowait()  # the common case, without the task wait_for would start
        except TimeoutError:
            raise QueryBusy("no query worker became free in time; retry shortly") from None
        worker.idle = False
        return worker

    async def _head(self, worker: _Worker, deadline: float, slot: _Slot):
        """The worker's first message. A query that has used ``long_after`` seconds of CPU (of wall time
        where /proc is missing) moves to the long lane, or is stopped when that lane is full; the wait then
        goes on until ``deadline``. CPU, not wall time, so that a cheap query slowed down by a busy machine
        stays in the fast lane. A long query gives its concurrency slot back: the long lane has its own
        bound."""
        check_at = time.monotonic() + self.long_after
        while check_at < deadline:
            # the job was just sent: the answer is rarely there yet, so wait without polling first
            if await self._readable(worker, check_at, poll_first=False):
                return self._read(worker.conn.recv)
            used = worker.cpu_used()
            if used is None or used >= self.long_after:
                self._promote(worker)
                slot.release()
                break
            check_at = time.monotonic() + self.long_after - used
        return await self._receive(worker, deadline, worker.conn.recv)

    def _promote(self, worker: _Worker) -> None:
        if self.long_running >= self.long_limit:
            raise QueryBusy(f"this query used {self.long_after:g} s of CPU while {self.long_running} long queries "
                            f"were already running, so it was stopped; retry later or make it more selective")
        self.long_running += 1
        worker.long = True
        _run_at_idle_priority(worker.process.pid)
        self._spawn_into_idle()

    async def _readable(self, worker: _Worker, until: float, *, poll_first: bool = True) -> bool:
        """Wait on the event loop until the worker's pipe is readable (True) or ``until`` passes (False)."""
        conn = worker.conn
        try:
            if poll_first and conn.poll(0):
                return True
            loop = asyncio.get_running_loop()
            ready = loop.create_future()
            fd = conn.fileno()
            loop.add_reader(fd, _settle, ready, True)
            timer = loop.call_later(max(0.0, until - time.monotonic()), _settle, ready, False)
            try:
                return await ready
            finally:
                timer.cancel()
                loop.remove_reader(fd)
                # uvloop leaves the fd non-blocking; the read that follows must wait for the rest of a
                # message the worker is still writing (at most CHUNK_BYTES, already on its way)
                os.set_blocking(fd, True)
        except (EOFError, OSError) as exc:
            raise QueryError(f"query worker failed: {exc or 'it exited'}") from None

    async def _receive(self, worker: _Worker, deadline: float, read):
        """``read()`` from the worker's pipe once it is readable, or raise QueryTimeout at the deadline."""
        if not await self._readable(worker, deadline):
            raise QueryTimeout(_timeout_message(self.timeout))
        return self._read(read)

    @staticmethod
    def _read(read):
        try:
            return read()
        except (EOFError, OSError) as exc:
            raise QueryError(f"query worker failed: {exc or 'it exited'}") from None

    def _give_back(self, worker: _Worker) -> None:
        if worker.long:
            self._retire(worker)
        elif not self._closed:
            worker.idle = True
            self._queue().put_nowait(worker)

    def _discard(self, worker: _Worker) -> None:
        """Kill a worker that overran or broke, now (SIGKILL does not block). A fast worker's replacement is
        started in a thread and joins the idle queue when ready (a long worker's was started when it was
        promoted). No await here, so a cancelled request cannot skip the replacement."""
        worker.process.kill()
        if worker.long:
            self._retire(worker)
        else:
            self._forget(worker)
            self._spawn_into_idle()

    def _retire(self, worker: _Worker) -> None:
        """End a long worker after its query: it leaves the long lane and its (deprioritised) process is stopped."""
        self.long_running -= 1
        self._forget(worker)

    def _forget(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
        asyncio.get_running_loop().run_in_executor(None, worker.kill)

    def _spawn_into_idle(self) -> None:
        if self._closed:
            return
        future = asyncio.get_running_loop().run_in_executor(None, self._start_worker)
        future.add_done_callback(lambda f: f.exception() is None and self._give_back(f.result()))

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            try:
                worker.conn.close()
                worker.process.join(1)
            finally:
                if worker.process.is_alive():
                    worker.process.kill()
                    worker.process.join(1)


class _ChunkStream:
    """The body of one answer, read chunk by chunk from its worker. ``aclose`` (always called by the
    endpoint, even when nothing was read) hands the worker back if the body was read to its end, else
    replaces it (its pipe still holds the rest); either way the concurrency slot is released once."""

    def __init__(self, pool: ProcessQueryPool, worker: _Worker, first: bytes, deadline: float,
                 slot: _Slot) -> None:
        self._pool, self._worker, self._next, self._deadline, self._slot = pool, worker, first, deadline, slot
        self._finished = False
        self._closed = False

    def __aiter__(self) -> _ChunkStream:
        return self

    async def __anext__(self) -> bytes:
        if self._closed or self._finished:
            raise StopAsyncIteration
        chunk = self._next
        if not chunk:
            self._finished = True
            raise StopAsyncIteration
        self._next = await self._pool._receive(self._worker, self._deadline, self._worker.conn.recv_bytes)
        return chunk

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._finished:
            self._pool._give_back(self._worker)
        else:
            self._pool._discard(self._worker)
        self._slot.release()


def make_runner(store, settings):
    """The runner for ``store``: worker processes for an on-disk Oxigraph store, threads otherwise."""
    from server.store import OxigraphStore

    if isinstance(store, OxigraphStore) and store.path is not None and os.name == "posix":
        # each web process has its own pool: the worker processes and the long lane are split between them.
        # The admission bound is not: the kernel spreads connections unevenly, so a split one would refuse
        # (503) a client that another process had room for; queries past a process's workers wait for one.
        share = settings.web_workers
        return ProcessQueryPool(Path(store.path), workers=math.ceil(settings.query_workers / share),
                                timeout=settings.query_timeout, max_concurrent=settings.max_concurrent_queries,
                                long_after=settings.long_query_after,
                                long_limit=math.ceil(settings.long_queries / share))
    ox_store = store.oxigraph if isinstance(store, OxigraphStore) else None
    if ox_store is None:
        return None
    return ThreadQueryRunner(ox_store, timeout=settings.query_timeout,
                             max_concurrent=settings.max_concurrent_queries)
