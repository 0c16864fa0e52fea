"""Where a full assessment's time and memory go: runs ``assess_all`` on a store (assessing it: use a copy) with
timers around its steps, and prints, step by step, the wall time, the process's resident memory and its peak;
then the time spent inside the record and release evaluations, the cube's cells, building the run graph's
quads and the bulk loader, summed over the run. The timers add ~1-2 % (one perf_counter pair per quad).

    python -m bench.assess_phases STORE_DIR [--base-iri IRI]

Figures of the 100k runs are in bench/RESULTS.md ("Scale, third pass").
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import server.assess.run as run
import server.assess.run_graphs as run_graphs
from bench.load_run import rss_kb
from loaders.vocab import DEFAULT_BASE_IRI
from server.settings import Settings
from server.store import OxigraphStore

STEPS = ("read_licenses", "read_records", "read_releases", "read_record_digests", "input_digests", "read_claims",
         "read_placements", "store_verdicts")
EVALUATIONS = ("assess_record", "assess_release", "record_cells", "release_cells")


def memory() -> str:
    """Resident memory now and at its peak, in MB."""
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return f"{rss_kb(os.getpid()) // 1024:,} MB now, {peak_kb // 1024:,} MB peak"


class Timers:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.summed: Counter[str] = Counter()

    def step(self, name: str, func: Callable) -> Callable:
        """``func`` printing its wall time and the memory when it returns."""
        def timed(*args, **kwargs):
            began = time.perf_counter()
            result = func(*args, **kwargs)
            now = time.perf_counter()
            print(f"{now - self.start:8.1f} s  {name:20s} {now - began:7.1f} s   {memory()}", flush=True)
            return result
        return timed

    def summing(self, name: str, func: Callable) -> Callable:
        """``func`` adding its time to ``name``'s sum."""
        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.summed[name] += time.perf_counter() - began
        return timed

    def generator(self, name: str, func: Callable[..., Iterator]) -> Callable[..., Iterator]:
        """``func``'s iterator, with the time spent producing its items (not consuming them) summed."""
        def timed(*args, **kwargs):
            items = func(*args, **kwargs)
            while True:
                began = time.perf_counter()
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    self.summed[name] += time.perf_counter() - began
                yield item
        return timed


class TimedBulkLoader:
    """The Oxigraph store with its ``bulk_load`` (the Rust side of writing a large run graph, in a thread of
    its own, so its time overlaps the rest) timed."""

    def __init__(self, store, timers: Timers) -> None:
        self._store, self._timers = store, timers

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def bulk_load(self, *args, **kwargs) -> None:
        self._timers.summing("bulk loader (Rust, overlapping the rest)", self._store.bulk_load)(*args, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path, help="an Oxigraph store folder; it is assessed (use a copy)")
    parser.add_argument("--base-iri", default=DEFAULT_BASE_IRI)
    args = parser.parse_args()
    timers = Timers()
    for name in STEPS:
        setattr(run, name, timers.step(name, getattr(run, name)))
    for name in EVALUATIONS:
        setattr(run, name, timers.summing(name, getattr(run, name)))
    run_graphs.iter_verdict_nquads = timers.generator("run graph lines, releases' verdicts and cells included",
                                                      run_graphs.iter_verdict_nquads)
    store = OxigraphStore(args.store)
    store._store = TimedBulkLoader(store._store, timers)
    print(f"{0:8.1f} s  opened {args.store}   {memory()}", flush=True)
    run.assess_all(store, Settings(store=args.store, base_iri=args.base_iri))
    print(f"{time.perf_counter() - timers.start:8.1f} s  total   {memory()}")
    for name, seconds in timers.summed.most_common():
        print(f"{seconds:8.1f} s  {name}")
    store.close()


if __name__ == "__main__":
    main()
