"""Loading benchmarks: the bundled data into a fresh on-disk Oxigraph store (``load_bundled``, what
``openness load`` and the first ``openness serve`` do), its idempotent reload, and synthetic MOT records
(bench/synthetic.py) at 10k and 100k models.

For each synthetic set (YAML files written beforehand, not timed):
- ``end_to_end``: ``loading.load_sources`` on the folder into a fresh on-disk store, what ``openness load
  FOLDER`` does: loaders in worker processes, Oxigraph's bulk loader into a staging store, folder swap;
- ``loaders``: CPU per record of the loaders alone (read, YAML, schema, RDF, quads, N-Quads) on a sample,
  in this process;
- ``ingest``: the store alone: the loaded set dumped to an N-Quads file, then ``OxigraphStore.load_fresh``
  of that file into another fresh on-disk store; with, as the floor measured in the same run, an
  in-memory ``Store.extend`` of the same quads (10k only: 100k would need ~10 GB of memory) and, for
  comparison, the transactional path (``replace_quads`` per 64 records) of a 10k load.

    python -m bench.load_bench                       # bundled + 10k + 100k
    python -m bench.load_bench --sizes 10000 --bundled-runs 0
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from itertools import islice
from pathlib import Path

import pyoxigraph as ox

from bench.synthetic import write_folder
from loaders.vocab import Minter
from server.ingest import identity, loading
from server.settings import Settings
from server.store import OxigraphStore


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_bundled(work: Path, runs: int) -> dict:
    """Fresh-store loads (the bulk path), one reload (transactional), and one first load by the
    transactional path (``load_reference`` + ``load_files``), as the baseline of the same run."""
    walls, cpus, quads = [], [], 0
    reload_wall = None
    for run in range(runs):
        folder = work / f"bundled-{run}"
        settings = Settings(store=folder, _env_file=None)
        store = OxigraphStore(folder)
        w, c = _clock()
        report = loading.load_bundled(store, settings)
        store.oxigraph.flush()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
        assert report.ok, report.errors[:3]
        quads = store.quad_count()
        if run == 0:
            w, _ = _clock()
            loading.load_bundled(store, settings)
            store.oxigraph.flush()
            reload_wall = time.perf_counter() - w
            assert store.quad_count() == quads
        store.close()
        del store
        shutil.rmtree(folder, ignore_errors=True)
    folder = work / "bundled-transactional"
    store = OxigraphStore(folder)
    minter = Minter()
    w, c = _clock()
    loading.load_reference(store, minter)
    loading.load_files(store, minter, loading.bundled_files(), workers=1)
    identity.link_records(store, minter)
    store.oxigraph.flush()
    transactional = (time.perf_counter() - w, time.process_time() - c)
    assert store.quad_count() == quads
    del store
    shutil.rmtree(folder, ignore_errors=True)
    wall = statistics.median(walls)
    return {"runs": runs, "wall_s": walls, "median_wall_s": wall, "median_cpu_s": statistics.median(cpus),
            "quads": quads, "quads_per_s": quads / wall, "reload_wall_s": reload_wall,
            "transactional_first_load_wall_cpu_s": transactional, "loadavg": _load()}


def bench_loaders(files: list[tuple[Path, None]], sample: int = 2000) -> dict:
    """CPU per record of the loaders alone, in this process (what each worker does per file)."""
    minter = Minter()
    batch = files[:sample]
    loading.read_record_quads(batch[0][0], minter)  # first use: license and dataset knowledge bases
    c = time.process_time()
    quads = 0
    for path, _ in batch:
        _, record_quads = loading.read_record_quads(path, minter)
        ox.serialize(record_quads, format=loading.NQ)
        quads += len(record_quads)
    cpu = time.process_time() - c
    return {"records": len(batch), "cpu_ms_per_record": 1000 * cpu / len(batch), "quads_per_record": quads / len(batch),
            "quads_per_cpu_s": quads / cpu}


def bench_synthetic(work: Path, count: int, workers: int, transactional: bool) -> dict:
    folder = work / f"synthetic-{count}"
    write_folder(count, folder)
    files = [(p, None) for p in loading.iter_record_files([folder])]
    result: dict = {"records": count, "workers": workers, "loadavg_before": _load()}
    result["loaders"] = bench_loaders(files)

    store_path = work / f"store-{count}"
    store = OxigraphStore(store_path)
    w, c = _clock()
    report = loading.load_sources(store, Minter(), files, workers=workers)
    store.oxigraph.flush()
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    assert report.ok and len(report.loaded) == count
    quads = store.quad_count()
    result["end_to_end"] = {"wall_s": wall, "parent_cpu_s": cpu, "quads": quads, "quads_per_s": quads / wall}
    dump = work / f"dump-{count}.nq"
    with dump.open("wb") as out:
        store.oxigraph.dump(out, format=ox.RdfFormat.N_QUADS)
    del store
    shutil.rmtree(store_path, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)

    ingest: dict = {"nquads_bytes": dump.stat().st_size, "loadavg": _load()}
    target = OxigraphStore(work / f"ingest-{count}")
    with dump.open("rb") as source:
        w, c = _clock()
        target.load_fresh(iter(lambda: source.read(1 << 20), b""))
        target.oxigraph.flush()
        ingest["bulk_wall_s"], ingest["bulk_cpu_s"] = time.perf_counter() - w, time.process_time() - c
    assert target.quad_count() == quads
    ingest["bulk_quads_per_s"] = quads / ingest["bulk_wall_s"]
    del target
    shutil.rmtree(work / f"ingest-{count}", ignore_errors=True)
    if transactional:
        all_quads = list(ox.parse(path=str(dump), format=ox.RdfFormat.N_QUADS))
        memory = ox.Store()
        w, c = _clock()
        memory.extend(all_quads)
        ingest["memory_extend_wall_s"], ingest["memory_extend_cpu_s"] = time.perf_counter() - w, time.process_time() - c
        ingest["memory_extend_quads_per_s"] = quads / ingest["memory_extend_wall_s"]
        del memory
        by_graph: dict[str, list] = {}
        for q in all_quads:
            by_graph.setdefault(q.graph_name.value, []).append(q)
        del all_quads
        graphs = iter(by_graph.items())
        target = OxigraphStore(work / f"transactional-{count}")
        w, c = _clock()
        while batch := dict(islice(graphs, loading.BATCH)):
            target.replace_quads(batch)
        target.oxigraph.flush()
        ingest["transactional_wall_s"], ingest["transactional_cpu_s"] = (time.perf_counter() - w,
                                                                         time.process_time() - c)
        ingest["transactional_quads_per_s"] = quads / ingest["transactional_wall_s"]
        del target
        shutil.rmtree(work / f"transactional-{count}", ignore_errors=True)
    dump.unlink()
    result["ingest"] = ingest
    result["loadavg_after"] = _load()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="loading benchmarks")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--transactional-max", type=int, default=10_000,
                        help="largest size for the in-memory floor and the transactional ingest")
    parser.add_argument("--bundled-runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=loading.default_workers(loading.PARALLEL_MIN))
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="load-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print("machine", {"nproc": os.cpu_count(), "loadavg": _load()}, flush=True)
        if args.bundled_runs:
            print("bundled", bench_bundled(work, args.bundled_runs), flush=True)
        for size in args.sizes:
            print("synthetic", bench_synthetic(work, size, args.workers, size <= args.transactional_max), flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
