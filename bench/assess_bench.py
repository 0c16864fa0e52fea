"""Assessment benchmark: the engine (server.assess.engine, SPARQL fact queries + the requirement table in
Python) against pySHACL with the generated shapes over the same records, in one run; the one-record
validation of ``openness validate`` / ``POST /validate``; and, when bench/synthetic.py is present,
synthetic MOT records at scale.

    python -m bench.assess_bench                   # bundled records, one-record p50, 10k synthetic
    python -m bench.assess_bench --synthetic 0     # skip the synthetic set
    python -m bench.assess_bench --shacl-records 0     # pySHACL on all records (~15 min on 2 cores)

pySHACL runs on batches of 10 records (records + the license/dataset facts they name, server.assess.shacl),
in one process: one run per record repeats pySHACL's set-up, one run over all records is quadratic
(its SPARQL pre-binding does not restrict the query plan), so batches are its best case here.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import rdflib

from loaders.vocab import Minter
from server.assess.engine import assess_store
from server.assess.run import assess_all
from server.ingest.loading import bundled_files, load_bundled, read_record
from server.settings import Settings
from server.store import OxigraphStore

BATCH = 10
MOT_YAML = Path("data/mot/models/OLMo-7B.yml")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def time_engine(store: OxigraphStore, repeat: int = 3) -> tuple[float, int]:
    runs = []
    count = 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = len(assess_store(store))
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), count


def time_pyshacl(limit: int | None) -> tuple[float, int]:
    from server.assess.shacl import data_graph, validate_graph

    files = bundled_files()[:limit] if limit else bundled_files()
    minter = Minter()
    total = 0.0
    for i in range(0, len(files), BATCH):
        graph = rdflib.Graph()
        for path, info in files[i:i + BATCH]:
            graph += read_record(path, minter, info).graph
        start = time.perf_counter()
        validate_graph(data_graph(graph))
        total += time.perf_counter() - start
    return total, len(files)


def time_validate_text(runs: int = 50) -> tuple[float, float]:
    from server.assess.validation import validate_text

    text = MOT_YAML.read_text(encoding="utf-8")
    settings = Settings(store=Path("/nonexistent"), _env_file=None)
    validate_text(text, MOT_YAML.name, settings)  # warm caches (license facts, shapes)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        validate_text(text, MOT_YAML.name, settings)
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def time_post_validate(runs: int = 50) -> tuple[float, float]:
    """``POST /validate`` through the real app in-process (TestClient): parsing, negotiation and JSON."""
    from fastapi.testclient import TestClient

    from server.app import create_app

    body = MOT_YAML.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(store=Path(tmp) / "store", _env_file=None)
        with TestClient(create_app(settings, OxigraphStore(settings.store))) as client:
            headers = {"Content-Type": "application/yaml", "Accept": "application/json"}
            assert client.post("/validate", content=body, headers=headers).status_code == 200
            samples = []
            for _ in range(runs):
                start = time.perf_counter()
                client.post("/validate", content=body, headers=headers)
                samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def time_assess_all(store: OxigraphStore, settings: Settings) -> tuple[float, float, int]:
    """``openness assess`` on an on-disk store: first run (writes the verdict graph), then a re-run with
    nothing changed (digest equal: only the time is rewritten). Returns both times and the graph's quads."""
    before = store.quad_count()
    start = time.perf_counter()
    assess_all(store, settings)
    fresh = time.perf_counter() - start
    start = time.perf_counter()
    assess_all(store, settings)
    return fresh, time.perf_counter() - start, store.quad_count() - before


def time_synthetic(count: int) -> tuple[float, float, float, float, int] | None:
    """Load ``count`` synthetic MOT records into an on-disk store, then time the engine alone and
    ``assess_all`` (fresh and unchanged)."""
    try:
        from bench.synthetic import synthetic_texts
    except ImportError:
        return None
    from loaders.mot import load_mot
    from loaders.record import SourceInfo
    from server.ingest.loading import load_reference
    from server.store import graph_quads

    minter = Minter()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        settings = Settings(store=Path(tmp) / "store", _env_file=None)
        store = OxigraphStore(settings.store)
        load_reference(store, minter)
        start = time.perf_counter()
        quads = []
        for name, text in synthetic_texts(count):
            record = load_mot(text, SourceInfo("mot", f"synthetic/{name}.yml"), minter, name)
            quads.extend(graph_quads(record.graph, record.graph_iri))
            if len(quads) >= 500_000:
                store.bulk_add(quads)
                quads = []
        store.bulk_add(quads)
        load = time.perf_counter() - start
        start = time.perf_counter()
        assert len(assess_store(store)) == count
        engine = time.perf_counter() - start
        fresh, unchanged, verdict_quads = time_assess_all(store, settings)
        store.close()
    return load, engine, fresh, unchanged, verdict_quads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=10_000, help="synthetic records (0: skip)")
    parser.add_argument("--shacl-records", type=int, default=100,
                        help="pySHACL on the first N bundled records (0: all 466; ~2 s each)")
    parser.add_argument("--runs", type=int, default=50, help="one-record validation runs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(store=Path(tmp) / "store", _env_file=None)
        store = OxigraphStore(settings.store)
        load_bundled(store, settings)
        engine_s, records = time_engine(store)
        fresh_s, unchanged_s, verdict_quads = time_assess_all(store, settings)
        store.close()
    shacl_s, shacl_records = time_pyshacl(args.shacl_records)
    p50, p95 = time_validate_text(args.runs)
    http_p50, http_p95 = time_post_validate(args.runs)
    synthetic = time_synthetic(args.synthetic) if args.synthetic else None

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"### bench/assess_bench.py, {now}\n")
    print(f"Machine: `{cpu_model()}`, nproc = {os.cpu_count()}, Python {platform.python_version()}, "
          f"{platform.machine()}; load average at the end {os.getloadavg()[0]:.2f}\n")
    print("| what | records | seconds | per record |")
    print("|---|---:|---:|---:|")
    print(f"| engine: `assess_store` (all definitions, median of 3) | {records} | {engine_s:.2f} | "
          f"{engine_s / records * 1000:.1f} ms |")
    print(f"| pySHACL, generated shapes (batches of {BATCH}, 1 process) | {shacl_records} | {shacl_s:.1f} | "
          f"{shacl_s / shacl_records * 1000:.0f} ms |")
    print(f"| `assess_all` on disk, first run (engine + {verdict_quads:,} verdict quads written) | {records} | "
          f"{fresh_s:.2f} | {fresh_s / records * 1000:.1f} ms |")
    print(f"| `assess_all` on disk, re-run with nothing changed | {records} | {unchanged_s:.2f} | "
          f"{unchanged_s / records * 1000:.1f} ms |")
    per_engine = engine_s / records
    per_shacl = shacl_s / shacl_records
    print(f"| ratio pySHACL / engine, per record | | | {per_shacl / per_engine:.0f}x |")
    print(f"| one record, `validate_text` on {MOT_YAML.name} ({args.runs} runs) | 1 | p50 {p50 * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms | |")
    print(f"| one record, `POST /validate` (TestClient, same file, {args.runs} runs) | 1 | "
          f"p50 {http_p50 * 1000:.0f} ms, p95 {http_p95 * 1000:.0f} ms | |")
    if synthetic is not None:
        n = args.synthetic
        load, engine, fresh, unchanged, quads = synthetic
        for label, seconds in (("load (loaders + bulk add, on disk)", load), ("engine assessment", engine),
                               (f"`assess_all` first run ({quads:,} verdict quads written)", fresh),
                               ("`assess_all` re-run, nothing changed", unchanged)):
            print(f"| synthetic MOT records: {label} | {n} | {seconds:.1f} | {seconds / n * 1000:.2f} ms |")
    elif args.synthetic:
        print("| synthetic records | skipped: bench/synthetic.py not present | | |")


if __name__ == "__main__":
    main()
