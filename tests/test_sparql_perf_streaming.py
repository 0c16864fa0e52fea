"""Results leave the query worker in chunks and are streamed (large answers), with the row cap, the
concurrency slots and the workers intact afterwards; small answers keep a plain Content-Length body."""

from __future__ import annotations

import httpx
import pyoxigraph as ox

from server.app import create_app
from server.settings import Settings
from server.sparql.query_pool import CHUNK_BYTES
from server.store import OxigraphStore
from tests.conftest import live_server

ROWS = 20_000  # ~1.5 MB of JSON: many chunks
ALL = "SELECT ?s ?o WHERE { ?s <https://e/p> ?o }"


def _store(path) -> OxigraphStore:
    store = OxigraphStore(path)
    graph = ox.NamedNode("https://e/g")
    store.oxigraph.extend(ox.Quad(ox.NamedNode(f"https://e/s{i}"), ox.NamedNode("https://e/p"),
                                  ox.Literal(f"value {i}"), graph) for i in range(ROWS))
    store.oxigraph.flush()
    return store


def test_large_result_streams_in_chunks_with_row_cap(tmp_path):
    store = _store(tmp_path / "store")
    settings = Settings(store=tmp_path / "store", query_workers=1, max_concurrent_queries=2,
                        max_result_rows=15_000, _env_file=None)
    with live_server(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as http:
        with http.stream("GET", "/sparql", params={"query": ALL}) as r:
            assert r.status_code == 200
            assert "content-length" not in r.headers and r.headers["transfer-encoding"] == "chunked"
            assert "15000 rows" in r.headers["x-result-truncated"]
            body = r.read()
        assert len(body) > CHUNK_BYTES
        import json

        assert len(json.loads(body)["results"]["bindings"]) == 15_000
        # the single worker went back to the pool and both slots are free: two more answers in a row
        for _ in range(2):
            assert http.get("/sparql", params={"query": ALL, "format": "csv"}).text.count("\n") == 15_001
        small = http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
        assert small.json()["boolean"] is True and small.headers["content-length"]
    store.close()


def test_client_leaving_mid_stream_frees_the_worker(tmp_path):
    store = _store(tmp_path / "store")
    settings = Settings(store=tmp_path / "store", query_workers=1, max_concurrent_queries=1, _env_file=None)
    with live_server(create_app(settings, store)) as url:
        with httpx.Client(base_url=url, timeout=30) as http:
            with http.stream("GET", "/sparql", params={"query": ALL}) as r:
                next(r.iter_bytes())  # read one piece, then hang up
        with httpx.Client(base_url=url, timeout=30) as http:
            # the half-read worker was replaced and the slot released: the next query is answered
            for _ in range(3):
                r = http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
                assert r.status_code == 200 and r.json()["boolean"] is True
            head = http.head("/store", params={"graph": "https://e/g"})
            assert head.status_code == 200
            assert http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    store.close()
