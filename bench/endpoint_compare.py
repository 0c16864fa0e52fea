"""One run, same data, same machine: point-lookup throughput of ``openness serve`` against its floor
(pyoxigraph in-process) and its peers (rdflib-endpoint, Virtuoso 7), plus the gallery query mix.

    python bench/endpoint_compare.py [--store /tmp/benchstore] [--duration 10] [--clients 1 8]
                                     [--systems inprocess openness rdflib virtuoso] [--out bench/out]
                                     [--web-workers 1]

Point lookups are ``SELECT ?p ?o WHERE { <record> ?p ?o }`` sent as GET with
``Accept: application/sparql-results+json`` by ``ab -k`` (apache2-utils) for ``--duration`` seconds at
each client count; in-process is a thread pool calling ``Store.query`` + JSON serialisation. The query
mix (server/web/examples/*.rq) is timed one query at a time, median of ``--mix-rounds``, in-process
and through ``openness serve``. Peers are loaded from an N-Quads dump of ``--store``; rdflib-endpoint
(``pip install rdflib-endpoint``, bench only) parses it into memory, Virtuoso (Debian
``virtuoso-opensource``, started by tests/virtuoso.py on 127.0.0.1) bulk-loads it. The machine is
shared: the load average is recorded before and after, and figures should be read as ratios.
At 100k-model scale several gallery queries take minutes: ``--mix-cap`` bounds the seconds spent per query
(rounds stop once it is spent; an in-process query still running at the cap is killed and reported as
``None``, an HTTP query refused or timed out by the server is ``None`` with its error kept).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sparql_bench import POINT, free_port, record_iris, run_closed_loop  # noqa: E402

JSON = "application/sparql-results+json"


def ab(url: str, clients: int, duration: float) -> float:
    """Requests per second from ``ab -k`` (non-2xx answers count as failures and fail the run)."""
    out = subprocess.run(["ab", "-k", "-q", "-c", str(clients), "-t", str(int(duration)), "-n", "10000000",
                          "-H", f"Accept: {JSON}", url], capture_output=True, text=True).stdout
    rate = re.search(r"Requests per second:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx responses:\s+(\d+)", out)
    if not rate or bad:
        raise RuntimeError(f"ab failed on {url}: {out[-600:]}")
    return float(rate.group(1))


def wait_ready(url: str, process: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2, headers={"accept": JSON}).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


def throughput(endpoint: str, query: str, clients: list[int], duration: float) -> dict[str, float]:
    url = f"{endpoint}?{urlencode({'query': query})}"
    return {f"point_{c}": ab(url, c, duration) for c in clients}


def http_runs(http: httpx.Client, endpoint: str, query: str, rounds: int,
              cap: float) -> tuple[list[float], int | None, str | None]:
    """Seconds per round of one query through ``endpoint`` (rounds stop once ``cap`` s are spent, or at an
    error), the rows of the last answer, and the error: the rows show that a fast answer was a whole one."""
    times: list[float] = []
    rows, error = None, None
    while len(times) < rounds and sum(times) <= cap:
        t0 = time.perf_counter()
        try:
            response = http.get(endpoint, params={"query": query})
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:  # the server's reason (busy, timed out …) is in the body
            error = f"{exc.response.status_code}: {exc.response.text[:200]}"
            break
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
            break
        times.append(time.perf_counter() - t0)
        answer = response.json()
        rows = len(answer["results"]["bindings"]) if "results" in answer else 1
    return times, rows, error


def mix_http(endpoint: str, queries: list[str], rounds: int, cap: float) -> tuple[list, list]:
    """Median seconds per query (``None`` when the server refused or timed out; the error is kept)."""
    with httpx.Client(timeout=cap + 30, headers={"accept": JSON}) as http:
        out, errors = [], []
        for q in queries:
            times, _, error = http_runs(http, endpoint, q, rounds, cap)
            out.append(None if error else statistics.median(times))
            errors.append(error)
    return out, errors


LOCAL_MIX = """import json, sys, time, pyoxigraph as ox
store, rounds, cap, spent = ox.Store.read_only(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), 0.0
query = sys.stdin.read()
while rounds and spent <= cap:
    t0 = time.perf_counter()
    body = store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)
    took = time.perf_counter() - t0
    spent, rounds = spent + took, rounds - 1
    answer = json.loads(body)
    print(took, len(answer["results"]["bindings"]) if "results" in answer else 1, flush=True)
"""


def local_runs(store: Path, query: str, rounds: int, cap: float) -> list[tuple[float, int]]:
    """(seconds, rows) per round of one query in-process, in a child (pyoxigraph cannot be interrupted):
    rounds stop once ``cap`` s are spent, and a round still running at the cap is lost."""
    try:
        lines = subprocess.run([sys.executable, "-c", LOCAL_MIX, str(store), str(rounds), str(cap)], input=query,
                               capture_output=True, text=True, timeout=cap + 10, check=True).stdout.splitlines()
    except subprocess.TimeoutExpired as exc:
        lines = (exc.stdout or b"").decode().splitlines()
    return [(float(took), int(rows)) for took, rows in (line.split() for line in lines)]


def mix_local(store: Path, queries: list[str], rounds: int, cap: float) -> list[float | None]:
    """Median seconds per query in-process: None past ``cap``."""
    out = []
    for q in queries:
        runs = local_runs(store, q, rounds, cap)
        out.append(statistics.median(took for took, _ in runs) if runs else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=Path(os.environ.get("OPENNESS_STORE", ROOT / "var/store")))
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--mix-rounds", type=int, default=5)
    parser.add_argument("--systems", nargs="+", default=["inprocess", "openness", "rdflib", "virtuoso"])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--mix-cap", type=float, default=30.0, help="seconds spent per mix query at most")
    parser.add_argument("--web-workers", type=int, default=1, help="OPENNESS_WEB_WORKERS for openness serve")
    args = parser.parse_args()
    if not shutil.which("ab"):
        sys.exit("ab not found: apt-get install -y apache2-utils")

    import pyoxigraph as ox

    from server.web.query_page import example_queries

    iri = record_iris(args.store, 1)[0]
    point = POINT.format(iri=iri)
    mix = [e.query for e in example_queries()]
    report: dict = {"store": str(args.store), "record": iri, "duration_s": args.duration,
                    "web_workers": args.web_workers,
                    "load_before": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "cpus": os.cpu_count(), "systems": {}}
    work = Path(tempfile.mkdtemp(prefix="endpoint-compare-", dir="/tmp"))
    store = ox.Store.read_only(str(args.store))
    report["quads"] = len(store)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"endpoint_compare_{time.strftime('%Y%m%d-%H%M%S')}.json"

    def save() -> None:  # after every system: a failure later in the run keeps what was measured
        out.write_text(json.dumps(report, indent=2))

    if "inprocess" in args.systems:
        def local(query: str) -> None:
            store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)

        row = {f"point_{c}": run_closed_loop(local, [point], c, args.duration)["requests_per_s"]
               for c in args.clients}
        row["mix_ms"] = [t and t * 1000 for t in mix_local(args.store, mix, args.mix_rounds, args.mix_cap)]
        report["systems"]["inprocess"] = row
        save()

    dump = work / "dump.nq"
    if {"rdflib", "virtuoso"} & set(args.systems):
        store.dump(str(dump), format=ox.RdfFormat.N_QUADS)

    if "openness" in args.systems:
        port = free_port()
        env = dict(os.environ, OPENNESS_STORE=str(args.store), OPENNESS_WEB_WORKERS=str(args.web_workers))
        server = subprocess.Popen(
            [sys.executable, "-c", "from server.serve import run_server; from server.settings import Settings; "
                                   f"run_server(Settings(), '127.0.0.1', {port})"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        endpoint = f"http://127.0.0.1:{port}/sparql"
        try:
            wait_ready(f"{endpoint}?{urlencode({'query': 'ASK {}'})}", server, 120)
            row = throughput(endpoint, point, args.clients, args.duration)
            times, row["mix_errors"] = mix_http(endpoint, mix, args.mix_rounds, args.mix_cap)
            row["mix_ms"] = [t and t * 1000 for t in times]
            report["systems"]["openness"] = row
            save()
        finally:
            server.terminate()
            server.wait(30)

    if "rdflib" in args.systems:
        port = free_port()
        started = time.monotonic()
        server = subprocess.Popen([sys.executable, "-m", "rdflib_endpoint", "serve", str(dump), "--host",
                                   "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        endpoint = f"http://127.0.0.1:{port}/"
        try:
            wait_ready(f"{endpoint}?{urlencode({'query': 'ASK {}'})}", server, 900)
            row = throughput(endpoint, point, args.clients, args.duration)
            row["ready_s"] = time.monotonic() - started
            report["systems"]["rdflib"] = row
            save()
        finally:
            server.terminate()
            server.wait(30)

    if "virtuoso" in args.systems:
        from tests.virtuoso import VirtuosoServer, available

        if available():
            with VirtuosoServer(work / "virtuoso", dirs_allowed=str(work)) as virtuoso:
                virtuoso.bulk_load(work, "dump.nq", "urn:default")
                endpoint = f"{virtuoso.base}/sparql"
                report["systems"]["virtuoso"] = throughput(endpoint, point, args.clients, args.duration)

    report["load_after"] = os.getloadavg()
    shutil.rmtree(work, ignore_errors=True)
    save()
    systems = report["systems"]
    for name, row in systems.items():
        rates = "  ".join(f"{k} {v:8.1f} req/s" for k, v in row.items() if k.startswith("point_"))
        print(f"{name:10} {rates}")
    if "openness" in systems:
        for base in ("rdflib", "virtuoso", "inprocess"):
            if base in systems:
                ratios = "  ".join(f"{k} {systems['openness'][k] / systems[base][k]:.2f}x"
                                   for k in systems[base] if k.startswith("point_"))
                print(f"openness / {base:9} {ratios}")
        if "inprocess" in systems:
            ours, floor = systems["openness"]["mix_ms"], systems["inprocess"]["mix_ms"]
            both = [(o, f) for o, f in zip(ours, floor, strict=True) if o is not None and f is not None]
            ours, floor = [o for o, _ in both], [f for _, f in both]
            worst = max((o / (1.5 * f + 2) for o, f in both), default=float("nan"))
            print(f"query mix ({len(both)} queries answered by both): openness {sum(ours):.1f} ms, "
                  f"in-process {sum(floor):.1f} ms; "
                  f"worst query vs 1.5x floor + 2 ms budget: {worst:.2f} (<= 1 meets the target)")
    print(f"load average before {report['load_before']}, after {report['load_after']}; written to {out}")


if __name__ == "__main__":
    main()
