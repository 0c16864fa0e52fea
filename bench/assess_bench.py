"""Assessment benchmark: the engine (server.assessment, SPARQL fact queries + the requirement table in
Python) against pySHACL with the generated shapes over the same records, in one run; the one-record
validation of ``openness validate`` / ``POST /validate``; and, when bench/synthetic.py is present,
synthetic MOT records at scale.

    python -m bench.assess_bench                   # bundled records, one-record p50, 10k synthetic
    python -m bench.assess_bench --synthetic 0     # skip the synthetic set
    python -m bench.assess_bench --shacl-records 0     # pySHACL on all records (~15 min on 2 cores)

pySHACL runs on batches of 10 records (records + the license/dataset facts they name, server.shacl),
in one process: one run per record repeats pySHACL's set-up, one run over all records is quadratic
(its SPARQL pre-binding does not restrict the query plan), so batches are its best case here.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import rdflib

from loaders.vocab import Minter
from server.assessment import assess_store
from server.loading import bundled_files, load_bundled, read_record
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
    from server.shacl import data_graph, validate_graph

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
    from server.validation import validate_text

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


def time_synthetic(count: int) -> tuple[float, float] | None:
    try:
        from bench.synthetic import synthetic_texts
    except ImportError:
        return None
    from loaders.mot import load_mot
    from loaders.record import SourceInfo
    from server.loading import load_reference
    from server.store import graph_quads

    minter = Minter()
    store = OxigraphStore(None)
    load_reference(store, minter)
    start = time.perf_counter()
    quads = []
    for name, text in synthetic_texts(count):
        record = load_mot(text, SourceInfo("mot", f"synthetic/{name}.yml"), minter, name)
        quads.extend(graph_quads(record.graph, record.graph_iri))
    store.bulk_add(quads)
    load = time.perf_counter() - start
    start = time.perf_counter()
    assert len(assess_store(store)) == count
    return load, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=10_000, help="synthetic records (0: skip)")
    parser.add_argument("--shacl-records", type=int, default=100,
                        help="pySHACL on the first N bundled records (0: all 466; ~2 s each)")
    parser.add_argument("--runs", type=int, default=50, help="one-record validation runs")
    args = parser.parse_args()

    store = OxigraphStore(None)
    load_bundled(store, Settings(store=Path("/nonexistent"), _env_file=None))
    engine_s, records = time_engine(store)
    shacl_s, shacl_records = time_pyshacl(args.shacl_records)
    p50, p95 = time_validate_text(args.runs)
    synthetic = time_synthetic(args.synthetic) if args.synthetic else None

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"### bench/assess_bench.py, {now}\n")
    print(f"Machine: `{cpu_model()}`, nproc = {os.cpu_count()}, Python {platform.python_version()}, "
          f"{platform.machine()}\n")
    print("| what | records | seconds | per record |")
    print("|---|---:|---:|---:|")
    print(f"| engine: `assess_store` (all definitions, median of 3) | {records} | {engine_s:.2f} | "
          f"{engine_s / records * 1000:.1f} ms |")
    print(f"| pySHACL, generated shapes (batches of {BATCH}, 1 process) | {shacl_records} | {shacl_s:.1f} | "
          f"{shacl_s / shacl_records * 1000:.0f} ms |")
    per_engine = engine_s / records
    per_shacl = shacl_s / shacl_records
    print(f"| ratio pySHACL / engine, per record | | | {per_shacl / per_engine:.0f}x |")
    print(f"| one record, `validate_text` on {MOT_YAML.name} ({args.runs} runs) | 1 | p50 {p50 * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms | |")
    if synthetic is not None:
        load, assess = synthetic
        print(f"| synthetic MOT records: load (loaders + bulk add) | {args.synthetic} | {load:.1f} | "
              f"{load / args.synthetic * 1000:.1f} ms |")
        print(f"| synthetic MOT records: engine assessment | {args.synthetic} | {assess:.1f} | "
              f"{assess / args.synthetic * 1000:.1f} ms |")
    elif args.synthetic:
        print("| synthetic records | skipped: bench/synthetic.py not present | | |")


if __name__ == "__main__":
    main()
