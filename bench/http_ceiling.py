"""How many point lookups a Python web process can answer on this machine, whatever the endpoint does.

    python bench/http_ceiling.py [--store /tmp/benchstore] [--duration 5] [--clients 1 8] [--out bench/out]

The issue's throughput target is relative: ``openness serve`` at ≥ 5x rdflib-endpoint on the same point
lookup at 8 clients. This script measures, in one run and with the same ``ab -k`` load, the ceilings that
bound any answer to it:

* ``fastapi-trivial``: a FastAPI route that returns a constant (no query at all);
* ``fastapi-query``: a FastAPI route that runs the point lookup on its own event loop and serialises it
  with pyoxigraph (no protocol handling, no timeout, nothing killable);
* ``asgi-query``: the same without FastAPI, a bare ASGI callable;
each with one and with two uvicorn processes (``--workers 2``, one read-only store handle each), beside
``openness serve`` (``OPENNESS_WEB_WORKERS`` 1 and 2) and rdflib-endpoint on the same store. Every app
uses uvloop and httptools, as ``openness serve`` does. Results are written as JSON to ``--out`` and
printed as req/s and as multiples of rdflib-endpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.endpoint_compare import JSON, ab, wait_ready  # noqa: E402
from bench.sparql_bench import POINT, free_port, record_iris  # noqa: E402

STORE_ENV = "HTTP_CEILING_STORE"
_store = None  # each server process opens its own read-only handle on first use


def _answer(query: str) -> bytes:
    import pyoxigraph as ox

    global _store
    if _store is None:
        _store = ox.Store.read_only(os.environ[STORE_ENV])
    return _store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)


def make_fastapi_app():
    """The FastAPI ceilings (a uvicorn ``--factory``)."""
    from fastapi import FastAPI, Response

    app = FastAPI()

    @app.get("/trivial")
    async def trivial() -> Response:
        return Response(b'{"head":{"vars":[]},"results":{"bindings":[]}}', media_type=JSON)

    @app.get("/sparql")
    async def sparql(query: str) -> Response:
        return Response(_answer(query), media_type=JSON)

    return app


async def asgi_app(scope, receive, send) -> None:
    """The point lookup with nothing around it: parse the query string, query, answer."""
    if scope["type"] != "http":
        return
    query = parse_qs(scope["query_string"].decode()).get("query", ["ASK {}"])[0]
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", JSON.encode())]})
    await send({"type": "http.response.body", "body": _answer(query)})


CEILINGS = {  # name: (uvicorn arguments, path)
    "fastapi-trivial": (["--factory", "bench.http_ceiling:make_fastapi_app"], "/trivial"),
    "fastapi-query": (["--factory", "bench.http_ceiling:make_fastapi_app"], "/sparql"),
    "asgi-query": (["bench.http_ceiling:asgi_app"], "/sparql"),
}


def serve(argv: list[str], env: dict[str, str], ready_url: str, timeout: float = 120) -> subprocess.Popen:
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(ready_url, process, timeout)
    except BaseException:
        process.terminate()
        raise
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/benchstore"))
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    point = POINT.format(iri=record_iris(args.store, 1)[0])
    query = urlencode({"query": point})
    report: dict = {"store": str(args.store), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "cpus": os.cpu_count(), "load_before": os.getloadavg(), "req_per_s": {}}
    rates = report["req_per_s"]

    def measure(name: str, url: str) -> None:
        rates[name] = {f"c{c}": ab(url, c, args.duration) for c in args.clients}
        print(name, rates[name], flush=True)

    env = dict(os.environ, **{STORE_ENV: str(args.store)})
    for name, (app, path) in CEILINGS.items():
        for processes in (1, 2):
            port = free_port()
            url = f"http://127.0.0.1:{port}{path}?{query}"
            server = serve([sys.executable, "-m", "uvicorn", *app, "--port", str(port), "--workers", str(processes),
                            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
                           env, url)
            try:
                time.sleep(1)  # let every process start accepting
                measure(f"{name} x{processes}", url)
            finally:
                stop(server)

    for processes in (1, 2):
        port = free_port()
        url = f"http://127.0.0.1:{port}/sparql?{query}"
        server = serve([sys.executable, "-c", "from server.serve import run_server; "
                        f"from server.settings import Settings; run_server(Settings(), '127.0.0.1', {port})"],
                       dict(os.environ, OPENNESS_STORE=str(args.store), OPENNESS_WEB_WORKERS=str(processes)), url)
        try:
            time.sleep(1)
            measure(f"openness serve x{processes}", url)
        finally:
            stop(server)

    import pyoxigraph as ox

    with tempfile.TemporaryDirectory(prefix="http-ceiling-", dir="/tmp") as work:
        dump = Path(work) / "dump.nq"
        ox.Store.read_only(str(args.store)).dump(str(dump), format=ox.RdfFormat.N_QUADS)
        port = free_port()
        url = f"http://127.0.0.1:{port}/?{query}"
        server = serve([sys.executable, "-m", "rdflib_endpoint", "serve", str(dump), "--host", "127.0.0.1",
                        "--port", str(port)], dict(os.environ), url, timeout=900)
        try:
            measure("rdflib-endpoint", url)
        finally:
            stop(server)

    report["load_after"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"http_ceiling_{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    base = rates["rdflib-endpoint"]
    for name, row in rates.items():
        print(f"{name:22} " + "  ".join(f"{k} {v:7.0f} req/s ({v / base[k]:.2f}x rdflib-endpoint)"
                                        for k, v in row.items()))
    print(f"load average before {report['load_before']}, after {report['load_after']}; written to {out}")


if __name__ == "__main__":
    main()
