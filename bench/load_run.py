"""Load run (issue #10): a real ``openness serve`` on 127.0.0.1 with the bundled data, driven by 8, 16 and 32
concurrent clients for a bounded time each, mixing point lookups, gallery queries, page GETs and
``POST /validate``; then one client doing point lookups alone and 16 clients with the mix, each with one
runaway query per second (and the point-lookup-only client without it, as its baseline). Records p50/p99
latency per kind,
errors by status, throughput, and the server's RSS (main process and its query workers, from /proc) at the
start and end of every phase, to show whether memory drifts.

    python bench/load_run.py [--store /tmp/openness-loadrun/store] [--duration 60] [--clients 8 16 32]
                             [--no-runaway] [--out bench/out/load_run.json]

Loopback only; every request has a timeout; the server is stopped at the end. The first start on an empty
store loads and assesses the bundled data (about 20 s), later runs reuse the store.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
GALLERY = sorted((ROOT / "server" / "web" / "examples").glob("*.rq"))
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
POINT = "SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}"
# kind -> weight in the mix (point lookups dominate, as on a public endpoint)
MIX = {"point": 40, "gallery": 15, "page": 30, "validate": 15}
POINTS_ONLY = {"point": 1}
REQUEST_TIMEOUT = 60.0


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kb(pid: int) -> int:
    """VmRSS of one process in kB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    """Direct and indirect child processes (the query workers) of ``pid``, from /proc."""
    parents: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents[ppid].append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def memory(pid: int) -> dict[str, int]:
    """RSS (MB) of the server process and of its workers together."""
    kids = children(pid)
    main = rss_kb(pid)
    return {"server_mb": main // 1024, "with_workers_mb": (main + sum(rss_kb(k) for k in kids)) // 1024,
            "workers": len(kids)}


def start_server(store: Path, port: int, log_path: Path,
                 extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """``openness serve`` in its own process group (stopped as a group at the end); ``extra_env`` adds
    settings (``OPENNESS_QUERY_TIMEOUT`` …)."""
    env = dict(os.environ, OPENNESS_STORE=str(store), **(extra_env or {}))
    log = log_path.open("w")
    return subprocess.Popen([sys.executable, "-c", "from server.cli import main; main()", "serve",
                             "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server's process group (its query workers too): SIGTERM, then SIGKILL after 30 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_ready(base: str, proc: subprocess.Popen, limit: float = 300) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}; see its log")
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not become ready in time")


class Workload:
    """The request mix: built once from the running server, then drawn from by every client."""

    def __init__(self, base: str) -> None:
        models = httpx.get(base + "/models", headers={"accept": "application/json"}, timeout=60).json()
        self.records = [m["id"] for m in models]
        self.iris = [m.get("iri") or "" for m in models if m.get("iri")]
        if not self.iris:  # /models JSON may not carry IRIs: ask the endpoint
            rows = httpx.get(base + "/sparql", timeout=60, params={
                "query": "PREFIX og: <https://w3id.org/openness-graph/ontology#> "
                         "SELECT ?m WHERE { ?m a og:ModelRelease } LIMIT 500"},
                headers={"accept": "application/sparql-results+json"}).json()["results"]["bindings"]
            self.iris = [r["m"]["value"] for r in rows]
        self.gallery = [p.read_text(encoding="utf-8") for p in GALLERY]
        mot = sorted((ROOT / "data" / "mot" / "models").rglob("*.yml"))
        self.records_yaml = [p.read_text(encoding="utf-8") for p in mot[:20]]
        self.pages = ["/models", "/definitions", "/datasets", "/licenses/Apache-2.0", "/definitions/osaid-1.0",
                      "/models?source=mot", "/compare?source=osai-index"]

    def request(self, rng: random.Random, mix: dict[str, int]) -> tuple[str, str, str, dict]:
        """(kind, method, path, httpx keyword arguments) of one request drawn from ``mix``."""
        kind = rng.choices(list(mix), weights=list(mix.values()))[0]
        if kind == "point":
            query = POINT.format(iri=rng.choice(self.iris))
            return kind, "GET", "/sparql", {"params": {"query": query},
                                            "headers": {"accept": "application/sparql-results+json"}}
        if kind == "gallery":
            return kind, "POST", "/sparql", {"data": {"query": rng.choice(self.gallery)},
                                             "headers": {"accept": "application/sparql-results+json"}}
        if kind == "page":
            if rng.random() < 0.6:
                source, _, name = rng.choice(self.records).partition("/")
                from urllib.parse import quote

                path = f"/models/{quote(source, safe='')}/{quote(name, safe='')}"
                if rng.random() < 0.3:
                    path += "/assessments"
            else:
                path = rng.choice(self.pages)
            accept = rng.choice(["text/html", "application/json"])
            return kind, "GET", path, {"headers": {"accept": accept}}
        return kind, "POST", "/validate", {"content": rng.choice(self.records_yaml).encode(),
                                           "headers": {"content-type": "application/yaml",
                                                       "accept": "application/json"}}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_phase(base: str, work: Workload, clients: int, duration: float, pid: int, runaway: bool,
              mix: dict[str, int]) -> dict:
    """``clients`` threads, each with its own keep-alive connection, for ``duration`` seconds."""
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + duration
    mem_start = memory(pid)

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as http:
            while time.monotonic() < stop:
                kind, method, path, kwargs = work.request(rng, mix)
                started = time.perf_counter()
                try:
                    response = http.request(method, path, **kwargs)
                    status = str(response.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                elapsed = time.perf_counter() - started
                with lock:
                    statuses[f"{kind}:{status}"] += 1
                    if status.startswith("2"):
                        latencies[kind].append(elapsed)

    def runaway_sender() -> None:
        with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as http:
            while time.monotonic() < stop:
                tick = time.monotonic()
                threading.Thread(target=lambda: _quiet(http, statuses, lock), daemon=True).start()
                time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    if runaway:
        threads.append(threading.Thread(target=runaway_sender))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + REQUEST_TIMEOUT + 30)
    wall = time.monotonic() - started
    mem_end = memory(pid)
    everything = [v for vs in latencies.values() for v in vs]
    ok = sum(n for k, n in statuses.items() if k.split(":")[1].startswith("2") and not k.startswith("runaway"))
    return {
        "clients": clients, "mix": "points only" if mix == POINTS_ONLY else "mixed",
        "runaway_per_s": 1 if runaway else 0, "seconds": round(wall, 1),
        "requests_ok": ok, "throughput_rps": round(ok / wall, 1),
        "p50_ms": _ms(pct(everything, 0.5)), "p99_ms": _ms(pct(everything, 0.99)),
        "by_kind": {k: {"n": len(v), "p50_ms": _ms(pct(v, 0.5)), "p99_ms": _ms(pct(v, 0.99))}
                    for k, v in sorted(latencies.items())},
        "non_2xx": {k: n for k, n in sorted(statuses.items()) if not k.split(":")[1].startswith("2")},
        "rss_start": mem_start, "rss_end": mem_end,
    }


def _quiet(http: httpx.Client, statuses: Counter, lock: threading.Lock) -> None:
    try:
        status = str(http.get("/sparql", params={"query": RUNAWAY}).status_code)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    with lock:
        statuses[f"runaway:{status}"] += 1


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def idle_point_p50(base: str, work: Workload, n: int = 200) -> float | None:
    """Point-lookup p50 with one client and nothing else running: the baseline for the runaway check."""
    rng = random.Random(7)
    times = []
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as http:
        for _ in range(n):
            query = POINT.format(iri=rng.choice(work.iris))
            started = time.perf_counter()
            if http.get("/sparql", params={"query": query}).status_code == 200:
                times.append(time.perf_counter() - started)
    return _ms(statistics.median(times)) if times else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/openness-loadrun/store"))
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase (bounded)")
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--no-runaway", action="store_true", help="skip the runaway phases")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "load_run.json")
    args = parser.parse_args()
    duration = min(args.duration, 120.0)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.store.parent.mkdir(parents=True, exist_ok=True)
    proc = start_server(args.store, port, args.out.with_suffix(".server.log"))
    try:
        started = time.monotonic()
        wait_ready(base, proc)
        ready_s = round(time.monotonic() - started, 1)
        work = Workload(base)
        baseline = memory(proc.pid)
        idle = idle_point_p50(base, work)
        print(f"server ready in {ready_s} s; {len(work.records)} records; idle point p50 {idle} ms; {baseline}",
              flush=True)
        phases = []
        plan = [(c, False, MIX) for c in args.clients]
        if not args.no_runaway:
            plan += [(1, False, POINTS_ONLY), (1, True, POINTS_ONLY), (16, True, MIX)]
        for clients, runaway, mix in plan:
            result = run_phase(base, work, clients, duration, proc.pid, runaway, mix)
            phases.append(result)
            print(json.dumps(result), flush=True)
        final = memory(proc.pid)
        report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "ready_s": ready_s,
                  "records": len(work.records), "idle_point_p50_ms": idle, "rss_baseline": baseline,
                  "rss_final": final, "phases": phases, "mix": MIX, "duration_s": duration}
        args.out.write_text(json.dumps(report, indent=1))
        print(json.dumps({"idle_point_p50_ms": idle, "rss_baseline": baseline, "rss_final": final}))
    finally:
        stop_server(proc)


if __name__ == "__main__":
    main()
