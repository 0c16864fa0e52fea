"""Loading benchmarks: the bundled data into a fresh on-disk Oxigraph store (``load_bundled``, what
``openness load`` and the first ``openness serve`` do), its idempotent reload, and synthetic MOT records
(bench/synthetic.py) at 10k and 100k models.

For the synthetic sets two paths are timed:
- ``pipeline``: YAML text -> ``loaders.mot`` -> quads -> ``store.replace_quads`` in batches, the path of
  ``openness load`` (transactional; 10k only by default);
- ``fast``: the loaders run in worker processes that write N-Quads files (the RDF the loaders produce,
  unchanged), then ``Store.bulk_load`` of those files: the triples/s figure of the embedded store.

    python -m bench.load_bench                       # bundled + 10k + 100k
    python -m bench.load_bench --sizes 10000 --no-fast
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyoxigraph as ox

from bench.synthetic import synthetic_texts
from loaders.mot import load_mot
from loaders.record import SourceInfo
from loaders.vocab import Minter
from server.loading import BATCH, load_bundled
from server.settings import Settings
from server.store import OxigraphStore, graph_quads


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def bench_bundled(work: Path, runs: int) -> dict:
    walls, cpus, quads = [], [], 0
    reload_wall = None
    for run in range(runs):
        folder = work / f"bundled-{run}"
        settings = Settings(store=folder, _env_file=None)
        store = OxigraphStore(folder)
        w, c = _clock()
        report = load_bundled(store, settings)
        store.oxigraph.flush()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
        assert report.ok, report.errors[:3]
        quads = store.quad_count()
        if run == 0:
            w, _ = _clock()
            load_bundled(store, settings)
            store.oxigraph.flush()
            reload_wall = time.perf_counter() - w
            assert store.quad_count() == quads
        store.close()
        del store
        shutil.rmtree(folder, ignore_errors=True)
    wall = statistics.median(walls)
    return {"runs": runs, "wall_s": walls, "median_wall_s": wall, "median_cpu_s": statistics.median(cpus),
            "quads": quads, "quads_per_s": quads / wall, "reload_wall_s": reload_wall}


def bench_pipeline(work: Path, count: int) -> dict:
    """The ``openness load`` path for synthetic records (texts generated beforehand, not timed)."""
    minter = Minter()
    texts = list(synthetic_texts(count))
    folder = work / f"pipeline-{count}"
    store = OxigraphStore(folder)
    w, c = _clock()
    loader_time = 0.0
    pending: dict[str, list] = {}
    total = 0
    for name, text in texts:
        t0 = time.perf_counter()
        record = load_mot(text, SourceInfo("mot", f"synthetic/{name}.yml"), minter, name)
        quads = list(graph_quads(record.graph, record.graph_iri))
        loader_time += time.perf_counter() - t0
        pending[record.graph_iri] = quads
        total += len(quads)
        if len(pending) >= BATCH:
            store.replace_quads(pending)
            pending = {}
    store.replace_quads(pending)
    store.oxigraph.flush()
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    assert store.quad_count() == total
    store.close()
    del store
    shutil.rmtree(folder, ignore_errors=True)
    return {"records": count, "quads": total, "wall_s": wall, "cpu_s": cpu, "loader_s": loader_time,
            "store_s": wall - loader_time, "quads_per_s": total / wall,
            "store_quads_per_s": total / max(wall - loader_time, 1e-9)}


def _worker(args: tuple[int, int, str]) -> dict:
    start, count, out = args
    minter = Minter()
    gen = load = ser = 0.0
    quads_total = 0
    with open(out, "wb") as fh:
        t = time.process_time()
        texts = list(synthetic_texts(count, start=start))
        gen = time.process_time() - t
        for name, text in texts:
            t = time.process_time()
            record = load_mot(text, SourceInfo("mot", f"synthetic/{name}.yml"), minter, name)
            quads = list(graph_quads(record.graph, record.graph_iri))
            t2 = time.process_time()
            ox.serialize(quads, fh, ox.RdfFormat.N_QUADS)
            ser += time.process_time() - t2
            load += t2 - t
            quads_total += len(quads)
    return {"gen_cpu_s": gen, "load_cpu_s": load, "ser_cpu_s": ser, "quads": quads_total}


def bench_fast(work: Path, count: int, workers: int, chunk: int = 5000) -> dict:
    folder = work / f"fast-{count}"
    nq = work / f"nq-{count}"
    nq.mkdir(parents=True, exist_ok=True)
    jobs = [(s, min(chunk, count - s), str(nq / f"part-{s:07d}.nq")) for s in range(0, count, chunk)]
    w = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(_worker, jobs))
    loaders_wall = time.perf_counter() - w
    quads = sum(p["quads"] for p in parts)
    store = OxigraphStore(folder)
    w = time.perf_counter()
    for _, _, path in jobs:
        store.oxigraph.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
    store.oxigraph.flush()
    store_wall = time.perf_counter() - w
    stored = store.quad_count()
    store.close()
    del store
    size = sum(Path(p).stat().st_size for _, _, p in jobs)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(nq, ignore_errors=True)
    return {"records": count, "quads": quads, "stored_quads": stored, "workers": workers,
            "loaders_wall_s": loaders_wall, "loaders_cpu_s": sum(p["load_cpu_s"] for p in parts),
            "generate_cpu_s": sum(p["gen_cpu_s"] for p in parts), "nquads_bytes": size,
            "serialise_cpu_s": sum(p["ser_cpu_s"] for p in parts), "bulk_load_wall_s": store_wall,
            "store_quads_per_s": quads / store_wall,
            "end_to_end_quads_per_s": quads / (loaders_wall + store_wall)}


def main() -> None:
    parser = argparse.ArgumentParser(description="loading benchmarks")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--pipeline-max", type=int, default=10_000, help="largest size for the pipeline path")
    parser.add_argument("--bundled-runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-fast", action="store_true")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="load-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.bundled_runs:
            print("bundled", bench_bundled(work, args.bundled_runs), flush=True)
        for size in args.sizes:
            if size <= args.pipeline_max:
                print("pipeline", bench_pipeline(work, size), flush=True)
            if not args.no_fast:
                print("fast", bench_fast(work, size, args.workers), flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
