"""Safe by default: read-only without a token, bearer token for writes, no SERVICE/LOAD to other hosts,
runaway queries cancelled while others keep being served, bounded concurrency."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from server.sparql.query_pool import ProcessQueryPool, QueryBusy, QueryJob, ThreadQueryRunner
from server.sparql.query_text import RemoteAccessRefused, add_using_clauses, check_remote_access
from server.store import OxigraphStore
from tests.conftest import live_server, load_fixture

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
POINT = "ASK { <https://example.org/test/olmo> ?p ?o }"


# --- writes --------------------------------------------------------------------------------------------


def test_writes_refused_without_token(client):
    r = client.post("/update", data={"update": "CLEAR ALL"})
    assert r.status_code == 403 and "OPENNESS_TOKEN" in r.text
    r = client.put("/store", params={"graph": "https://example.org/g"}, content="",
                   headers={"content-type": "text/turtle"})
    assert r.status_code == 403
    assert client.delete("/store", params={"graph": "https://example.org/test/graph/fixture"}).status_code == 403
    assert client.get("/health").json()["quads"] > 0  # nothing was cleared


def test_writes_need_bearer_token_and_are_seen_by_workers(tmp_path, oxigraph_store):
    settings = Settings(store=oxigraph_store.path, token="s3cret", _env_file=None)
    insert = "INSERT DATA { GRAPH <https://example.org/new> { <https://example.org/x> <https://example.org/p> 1 } }"
    ask = "ASK { <https://example.org/x> <https://example.org/p> 1 }"
    with TestClient(create_app(settings, oxigraph_store)) as c:
        assert c.get("/sparql", params={"query": ask}).json()["boolean"] is False
        assert c.post("/update", data={"update": insert}).status_code == 401
        wrong = c.post("/update", data={"update": insert}, headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
        assert c.post("/update", data={"update": insert}, headers={"authorization": "Basic s3cret"}).status_code == 401
        ok = c.post("/update", data={"update": insert}, headers={"authorization": "Bearer s3cret"})
        assert ok.status_code == 204
        # the query workers (read-only handles in other processes) see the write at once
        for _ in range(4):
            assert c.get("/sparql", params={"query": ask}).json()["boolean"] is True
        bad = c.post("/update", content="CLEAR XYZ", headers={"authorization": "Bearer s3cret",
                                                               "content-type": "application/sparql-update"})
        assert bad.status_code == 400


def _deleted_files_held(pid: int, folder: Path) -> list[str]:
    """The files in ``folder`` that process ``pid`` still has open although they were deleted."""
    held = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(folder)) and target.endswith(" (deleted)"):
            held.append(target)
    return held


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_worker_handles_survive_compaction_and_reopen_on_a_write(tmp_path):
    """Workers keep their read-only handle (and its warm cache) until the server writes: a compaction that
    deletes the files the handle was opened on does not break it, the handle keeps its snapshot, and after
    a write an idle worker reopens at once, letting the deleted files go."""
    store = OxigraphStore(tmp_path / "store")
    p, g = ox.NamedNode("https://e/p"), ox.NamedNode("https://e/g")

    def add(first: int, count: int) -> None:
        store.oxigraph.bulk_extend(ox.Quad(ox.NamedNode(f"https://e/s{i}"), p, ox.Literal(f"v{i}"), g)
                                   for i in range(first, first + count))
        store.oxigraph.flush()

    add(0, 5_000)
    count = QueryJob("SELECT (COUNT(*) AS ?n) WHERE { ?s <https://e/p> ?o }", results_type="text/csv")
    pool = ProcessQueryPool(store.path, workers=1, timeout=10, max_concurrent=4, long_after=5, long_limit=1)
    (worker,) = pool._workers

    async def counted() -> int:
        return int((await pool.run(count)).body.split()[1])

    async def scenario() -> list[int]:
        seen = [await counted()]
        opened_on = set(store.path.glob("*.sst"))
        for start in (5_000, 10_000):  # new files, then a full compaction that deletes the first ones
            add(start, 5_000)
        store.oxigraph.optimize()
        assert opened_on - set(store.path.glob("*.sst")), "the compaction deleted none of the files"
        seen.append(await counted())  # the handle still reads, as of when it was opened
        assert _deleted_files_held(worker.process.pid, store.path)
        pool.notify_write()  # the worker idles: it reopens now, not at its next query
        deadline = time.monotonic() + 5
        while _deleted_files_held(worker.process.pid, store.path) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert not _deleted_files_held(worker.process.pid, store.path)
        seen.append(await counted())
        return seen

    try:
        assert asyncio.run(scenario()) == [5_000, 5_000, 15_000]
    finally:
        pool.close()
        store.close()


# --- SERVICE and LOAD ----------------------------------------------------------------------------------


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that records every connection it receives."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    hits.append(conn.recv(4096))
                except OSError:
                    hits.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", hits
    stop.set()
    thread.join(2)
    sock.close()


def test_service_and_load_refused_and_nothing_is_fetched(tmp_path, listener):
    url, hits = listener
    settings = Settings(store=tmp_path / "s", token="s3cret", _env_file=None)
    auth = {"authorization": "Bearer s3cret"}
    with TestClient(create_app(settings, OxigraphStore(None))) as c:
        for query in (f"SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
                      f"select * where {{ service silent <{url}/sparql> {{ ?s ?p ?o }} }}",
                      "SELECT * WHERE { BIND(<x> AS ?e) SERVICE ?e { ?s ?p ?o } }"):
            r = c.get("/sparql", params={"query": query})
            assert r.status_code == 403 and "refused" in r.text
        for update in (f"LOAD <{url}/data.ttl>", f"LOAD SILENT <{url}/data.ttl> INTO GRAPH <https://example.org/g>"):
            r = c.post("/update", data={"update": update}, headers=auth)
            assert r.status_code == 403 and "LOAD" in r.text
        # the words inside strings, comments and IRIs are not operations
        harmless = ('SELECT * WHERE { ?s ?p "SERVICE <http://x/>" } # LOAD <http://x/>\n'
                    'LIMIT 1')
        assert c.get("/sparql", params={"query": harmless}).status_code == 200
    time.sleep(0.5)
    assert hits == []


def test_remote_access_scanner():
    check_remote_access("SELECT * WHERE { ?s <http://ex/SERVICE> ?o }", [])
    check_remote_access("SELECT * WHERE { ?s ex:load ?o }", [])
    check_remote_access("SELECT * WHERE { SERVICE <http://ok.example/sparql> { ?s ?p ?o } }", ["ok.example"])
    with pytest.raises(RemoteAccessRefused):
        check_remote_access("SELECT * WHERE { SERVICE <http://ok.example.evil/sparql> { ?s ?p ?o } }",
                            ["ok.example"])
    with pytest.raises(RemoteAccessRefused):
        check_remote_access("PREFIX e: <http://127.0.0.1/> SELECT * { SERVICE e:x { ?s ?p ?o } }", [])
    assert add_using_clauses("DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", ["http://g"], []) == \
        "DELETE { ?s ?p ?o }  USING <http://g> WHERE { ?s ?p ?o }"
    assert add_using_clauses("DELETE WHERE { ?s ?p ?o }", ["http://g"], []) == "DELETE WHERE { ?s ?p ?o }"


# --- timeouts and concurrency ----------------------------------------------------------------------------


def _big_store(path) -> OxigraphStore:
    store = OxigraphStore(path)
    load_fixture(store)
    g = ox.NamedNode("https://example.org/test/graph/big")
    store.bulk_add(ox.Quad(ox.NamedNode(f"https://example.org/s{i}"), ox.NamedNode("https://example.org/p"),
                           ox.Literal(str(i)), g) for i in range(3000))
    store.oxigraph.flush()
    return store


def test_runaway_query_times_out_while_others_are_served(tmp_path):
    store = _big_store(tmp_path / "store")
    settings = Settings(store=tmp_path / "store", query_timeout=2, query_workers=2, _env_file=None)
    with live_server(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as http:
        # warm both workers up (process start-up is not what we measure)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: http.get("/sparql", params={"query": POINT}), range(4)))
        with ThreadPoolExecutor(2) as pool:
            started = time.monotonic()
            runaway = pool.submit(http.get, "/sparql", params={"query": RUNAWAY})
            time.sleep(0.5)
            t0 = time.monotonic()
            point = http.get("/sparql", params={"query": POINT})
            point_time = time.monotonic() - t0
            r = runaway.result()
            runaway_time = time.monotonic() - started
        assert point.status_code == 200 and point.json()["boolean"] is True
        assert point_time < 1.0
        assert r.status_code == 503 and "query timed out after 2 s" in r.text
        assert runaway_time < 5
        # the killed worker is replaced; the server keeps serving
        for _ in range(4):
            again = http.get("/sparql", params={"query": POINT})
            assert again.status_code == 200
        assert http.get("/health").json()["status"] == "ok"
    store.close()


def test_long_queries_leave_the_fast_lane_and_their_number_is_bounded(tmp_path):
    """One fast worker, one long-lane place: a runaway moves to the long lane (idle priority) and a point query
    is still answered at once; a second runaway is stopped when it turns long; afterwards the pool is back
    to one fast worker and the long lane is free."""
    store = _big_store(tmp_path / "store")
    settings = Settings(store=tmp_path / "store", query_timeout=4, query_workers=1, long_query_after=0.3,
                        long_queries=1, _env_file=None)
    app = create_app(settings, store)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/sparql", params={"query": POINT}).status_code == 200  # worker warm
        pool = app.state.query_runner
        with ThreadPoolExecutor(2) as clients:
            first = clients.submit(http.get, "/sparql", params={"query": RUNAWAY})
            time.sleep(0.8)  # past long_query_after, and the replacement worker has started
            assert http.get("/health").json()["queries"] == {"in_progress": 0, "long_running": 1, "long_limit": 1}
            long_workers = [w for w in pool._workers if w.long]
            assert len(long_workers) == 1 and os.sched_getscheduler(long_workers[0].process.pid) == os.SCHED_IDLE
            t0 = time.monotonic()
            point = http.get("/sparql", params={"query": POINT})
            point_time = time.monotonic() - t0
            t0 = time.monotonic()
            second = http.get("/sparql", params={"query": RUNAWAY})
            second_time = time.monotonic() - t0
            first = first.result()
        assert point.status_code == 200 and point.json()["boolean"] is True and point_time < 0.5
        assert second.status_code == 503 and second.headers["retry-after"]
        assert "used 0.3 s of CPU while 1 long queries were already running" in second.text
        assert second_time < 2  # stopped when it turned long, not at the timeout
        assert first.status_code == 503 and "timed out after 4 s" in first.text
        deadline = time.monotonic() + 5
        while len(pool._workers) != 1 and time.monotonic() < deadline:  # retired/killed workers are reaped
            time.sleep(0.05)
        assert len(pool._workers) == 1 and not any(w.long for w in pool._workers)
        assert http.get("/health").json()["queries"] == {"in_progress": 0, "long_running": 0, "long_limit": 1}
        assert http.get("/sparql", params={"query": POINT}).json()["boolean"] is True
    store.close()


def test_a_finished_long_query_answers_and_its_worker_is_retired(tmp_path):
    store = _big_store(tmp_path / "store")
    settings = Settings(store=tmp_path / "store", query_timeout=20, query_workers=1, long_query_after=0.05,
                        long_queries=1, _env_file=None)
    app = create_app(settings, store)
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"  # ~3000^2 joins: long, but it ends
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        r = http.get("/sparql", params={"query": slow})
        assert r.status_code == 200 and int(r.json()["results"]["bindings"][0]["n"]["value"]) > 3000 ** 2
        pool = app.state.query_runner
        assert pool.long_running == 0
        assert http.get("/sparql", params={"query": POINT}).json()["boolean"] is True
        assert len(pool._workers) == 1 and not any(w.long for w in pool._workers)
    store.close()


def test_thread_runner_times_out_and_bounds_concurrency():
    store = ox.Store()
    for i in range(250):  # small: an abandoned thread runs to completion (~3 s) in the background
        store.add(ox.Quad(ox.NamedNode(f"https://e/s{i}"), ox.NamedNode("https://e/p"), ox.Literal(str(i)),
                          ox.NamedNode("https://e/g")))
    runner = ThreadQueryRunner(store, timeout=1, max_concurrent=1)

    import anyio

    async def scenario():
        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            errors = []

            async def runaway():
                try:
                    await runner.run(QueryJob(RUNAWAY))
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)

            tg.start_soon(runaway)
            await anyio.sleep(0.2)
            with pytest.raises(QueryBusy):
                await runner.run(QueryJob("ASK {}"))
        assert "timed out after 1 s" in str(errors[0])
        assert time.monotonic() - started < 3

    anyio.run(scenario)


def test_busy_server_answers_503_with_retry_after(tmp_path):
    store = _big_store(tmp_path / "store")
    # the runaway stays in the fast lane (long_query_after above the timeout), holding the only slot
    settings = Settings(store=tmp_path / "store", query_timeout=2, query_workers=1, max_concurrent_queries=1,
                        long_query_after=10, _env_file=None)
    with live_server(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as http:
        with ThreadPoolExecutor(1) as pool:
            runaway = pool.submit(http.get, "/sparql", params={"query": RUNAWAY})
            time.sleep(0.5)
            busy = http.get("/sparql", params={"query": POINT})
            assert busy.status_code == 503 and busy.headers["retry-after"]
            assert runaway.result().status_code == 503
    store.close()
