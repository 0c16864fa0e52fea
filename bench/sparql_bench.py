"""SPARQL endpoint benchmark: point-lookup throughput and query-mix latency, at 1 and 8 clients, for
``openness serve`` over HTTP versus pyoxigraph in-process on the same store.

    python bench/sparql_bench.py [--store var/store] [--duration 10] [--clients 1 8] [--out bench/out]

HTTP load comes from ``wrk`` or ``ab`` when on PATH (point lookups, GET), else from a built-in
thread-pool client (httpx, keep-alive). The query mix is the gallery in server/web/examples/*.rq.
The store must be loaded first (``openness load && openness assess``, or ``openness serve`` once).
Results are printed and written as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POINT = ("SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def record_iris(store_path: Path, limit: int = 200) -> list[str]:
    import pyoxigraph as ox

    store = ox.Store.read_only(str(store_path))
    rows = store.query("SELECT DISTINCT ?m WHERE { ?m a <https://w3id.org/openness-graph/ontology#ModelRelease> } "
                       f"LIMIT {limit}", use_default_graph_as_union=True)
    iris = [r["m"].value for r in rows]
    if not iris:
        sys.exit(f"no og:ModelRelease in {store_path}: load the data first (openness load && openness assess)")
    return iris


def percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))] * 1000  # noqa: E731
    return {"n": len(samples), "mean_ms": statistics.fmean(samples) * 1000, "p50_ms": pick(0.5),
            "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


def run_closed_loop(call, items: list, clients: int, duration: float) -> dict:
    """``clients`` workers call ``call(item)`` round-robin for ``duration`` s; throughput + latency."""
    deadline = time.monotonic() + duration

    def worker(offset: int) -> list[float]:
        times, i = [], offset
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            call(items[i % len(items)])
            times.append(time.perf_counter() - t0)
            i += clients
        return times

    with ThreadPoolExecutor(clients) as pool:
        all_times = [t for ts in pool.map(worker, range(clients)) for t in ts]
    return {"clients": clients, "requests_per_s": len(all_times) / duration, **percentiles(all_times)}


def external_tool(url: str, clients: int, duration: float) -> dict | None:
    """Point lookups with wrk or ab, if installed (a single URL: the first record)."""
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-t", str(min(clients, 4)), "-c", str(clients), "-d", f"{int(duration)}s",
                              "--latency", url], capture_output=True, text=True).stdout
        return {"tool": "wrk", "clients": clients, "output": out}
    if shutil.which("ab"):
        out = subprocess.run(["ab", "-k", "-c", str(clients), "-t", str(int(duration)), url],
                             capture_output=True, text=True).stdout
        return {"tool": "ab", "clients": clients, "output": out}
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=Path(os.environ.get("OPENNESS_STORE", ROOT / "var/store")))
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    import httpx
    import pyoxigraph as ox

    from server.web.query_page import example_queries

    iris = record_iris(args.store)
    points = [POINT.format(iri=iri) for iri in iris]
    mix = [e.query for e in example_queries()]
    report: dict = {"store": str(args.store), "duration_s": args.duration, "records_sampled": len(iris),
                    "in_process": {}, "http": {}, "external": []}

    store = ox.Store.read_only(str(args.store))

    def local(query: str) -> None:
        result = store.query(query, use_default_graph_as_union=True)
        result.serialize(format=ox.QueryResultsFormat.JSON)

    for clients in args.clients:
        report["in_process"][f"point_{clients}"] = run_closed_loop(local, points, clients, args.duration)
        report["in_process"][f"mix_{clients}"] = run_closed_loop(local, mix, clients, args.duration)

    port = free_port()
    env = dict(os.environ, OPENNESS_STORE=str(args.store))
    server = subprocess.Popen(
        [sys.executable, "-c", "from server.serve import run_server; from server.settings import Settings; "
                               f"run_server(Settings(), '127.0.0.1', {port})"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=60, limits=httpx.Limits(max_connections=64)) as http:
            def remote(query: str) -> None:
                r = http.post("/sparql", data={"query": query},
                              headers={"accept": "application/sparql-results+json"})
                r.raise_for_status()

            for clients in args.clients:
                report["http"][f"point_{clients}"] = run_closed_loop(remote, points, clients, args.duration)
                report["http"][f"mix_{clients}"] = run_closed_loop(remote, mix, clients, args.duration)
        for clients in args.clients:
            tool = external_tool(f"{base}/sparql?{urlencode({'query': points[0]})}", clients, args.duration)
            if tool:
                report["external"].append(tool)
    finally:
        server.terminate()
        server.wait(30)

    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"sparql_bench_{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    for where in ("in_process", "http"):
        for name, row in report[where].items():
            print(f"{where:10} {name:8} {row['requests_per_s']:9.1f} req/s  p50 {row['p50_ms']:7.2f} ms  "
                  f"p95 {row['p95_ms']:7.2f} ms")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
