"""What one evidenced answer per model costs: ``openness assess`` with the consolidated release verdicts
against the same assessment of records alone (the run before releases existed), on the bundled data and on
synthetic records. Both run on identical copies of one loaded store, as a first assessment, alternately.

    python bench/consolidation_bench.py --synthetic 10000 --repeat 3

Prints a Markdown table for bench/RESULTS.md (machine and date included)."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loaders.mot import load_mot  # noqa: E402
from loaders.record import SourceInfo  # noqa: E402
from loaders.vocab import Minter  # noqa: E402
from server.assess.consolidate import assess_releases  # noqa: E402
from server.assess.engine import assess_record, read_licenses, read_records  # noqa: E402
from server.assess.run import assess_all  # noqa: E402
from server.assess.run_graphs import store_verdicts  # noqa: E402
from server.ingest.identity import link_records  # noqa: E402
from server.ingest.loading import load_bundled, load_reference  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.store import OxigraphStore, graph_quads  # noqa: E402


def records_only(store: OxigraphStore, settings: Settings) -> int:
    """The assessment without releases: what ``openness assess`` did before consolidation."""
    licenses, records = read_licenses(store), read_records(store)
    results = [assess_record(r, licenses) for r in sorted(records.values(), key=lambda r: r.record_id)]
    store_verdicts(store, Minter(settings.base_iri), results)
    return len(results)


def load_synthetic(store: OxigraphStore, count: int) -> None:
    from bench.synthetic import synthetic_texts

    minter = Minter()
    load_reference(store, minter)
    quads = []
    for name, text in synthetic_texts(count):
        record = load_mot(text, SourceInfo("mot", f"synthetic/{name}.yml"), minter, name)
        quads.extend(graph_quads(record.graph, record.graph_iri))
        if len(quads) >= 500_000:
            store.bulk_add(quads)
            quads = []
    store.bulk_add(quads)
    link_records(store, minter)


def measure(label: str, loader, repeat: int) -> dict:
    """Seconds of a first assessment with and without releases, ``repeat`` times each, alternated."""
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        source = Path(tmp) / "loaded"
        store = OxigraphStore(source)
        loader(store)
        facts, licenses = read_records(store), read_licenses(store)
        records = len(facts)
        own = {iri: assess_record(f, licenses) for iri, f in facts.items()}
        start = time.perf_counter()
        releases = len(assess_releases(store, facts, licenses, own))
        consolidate_only = time.perf_counter() - start
        store.close()
        del store
        times: dict[str, list[float]] = {"records": [], "releases": []}
        for i in range(repeat):
            for kind in ("records", "releases") if i % 2 == 0 else ("releases", "records"):
                copy = Path(tmp) / f"copy-{kind}-{i}"
                shutil.copytree(source, copy, ignore=shutil.ignore_patterns("LOCK"))
                settings = Settings(store=copy, _env_file=None)
                target = OxigraphStore(copy)
                start = time.perf_counter()
                (records_only if kind == "records" else assess_all)(target, settings)
                times[kind].append(time.perf_counter() - start)
                target.close()
                del target
                shutil.rmtree(copy)
    base, full = min(times["records"]), min(times["releases"])
    return {"label": label, "records": records, "releases": releases, "base": base, "full": full,
            "consolidate": consolidate_only, "ratio": full / base}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=10_000, help="synthetic records (0: skip)")
    parser.add_argument("--repeat", type=int, default=3, help="first assessments of each kind (best is kept)")
    args = parser.parse_args()
    rows = [measure("bundled (273 MOT + 193 Index)",
                    lambda s: load_bundled(s, Settings(store=s.path, _env_file=None)), args.repeat)]
    if args.synthetic:
        rows.append(measure(f"synthetic MOT records ({args.synthetic:,})",
                            lambda s: load_synthetic(s, args.synthetic), max(1, args.repeat - 2)))
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"{datetime.now(UTC):%Y-%m-%d}")
    print("| data | records | releases | assess, records only (s) | assess with releases (s) | "
          "releases' verdicts alone (s) | ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['label']} | {r['records']:,} | {r['releases']:,} | {r['base']:.2f} | {r['full']:.2f} | "
              f"{r['consolidate']:.2f} | {r['ratio']:.2f}x |")


if __name__ == "__main__":
    main()
