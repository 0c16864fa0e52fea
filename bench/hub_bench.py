"""Harvest throughput against the fake Hub (tests/fakehub.py) on 127.0.0.1: models per second for a first
harvest of 1k and 10k listed models, and for the incremental second pass (nothing changed). The fake Hub runs
in a process of its own (its CPU is not the harvest's); the harvest runs here, through the real client, into
an on-disk Oxigraph store. Baseline in the same run: the same cards loaded from local files
(``ingest.loading.load_files``, no network), so the Hub's cost shows as a ratio.

    .venv/bin/python bench/hub_bench.py [--sizes 1000 10000] [--append bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loaders.vocab import Minter  # noqa: E402
from server.ingest.hub import HarvestQuery, HubClient, harvest  # noqa: E402
from server.ingest.loading import load_files, load_reference  # noqa: E402
from server.store import OxigraphStore  # noqa: E402
from tests.fakehub import synthetic_models  # noqa: E402

SERVE = """
import sys, time
sys.path.insert(0, {root!r})
from tests.fakehub import FakeHub, synthetic_models
with FakeHub(synthetic_models({n})) as hub:
    print(hub.url, flush=True)
    sys.stdin.read()
"""


def fake_hub(n: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-c", SERVE.format(root=str(ROOT), n=n)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def local_baseline(n: int, tmp: Path) -> float:
    """Seconds to load the same n cards from README.md files (loader + store, no network)."""
    folder = tmp / "cards"
    for model in synthetic_models(n):
        path = folder / model.id / "README.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(model.readme, encoding="utf-8")
    store = OxigraphStore(tmp / "baseline-store")
    load_reference(store, Minter())
    files = [(p, None) for p in sorted(folder.rglob("README.md"))]
    started = time.perf_counter()
    report = load_files(store, Minter(), files, workers=1)
    elapsed = time.perf_counter() - started
    store.close()
    assert len(report.loaded) == n, report.errors[:3]
    return elapsed


def run(n: int) -> dict:
    proc, url = fake_hub(n)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            store = OxigraphStore(tmp / "store")
            client = HubClient(tmp / "store" / "hub-cache", endpoint=url, token=False)
            started = time.perf_counter()
            first = harvest(store, Minter(), client, HarvestQuery(limit=n))
            t_first = time.perf_counter() - started
            started = time.perf_counter()
            second = harvest(store, Minter(), client, HarvestQuery(limit=n))
            t_second = time.perf_counter() - started
            store.close()
            assert first.loaded == n and second.loaded == 0 and second.unchanged == n, (first, second)
            t_local = local_baseline(n, tmp)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return {"n": n, "first": t_first, "second": t_second, "local": t_local}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--append", type=Path, help="append the table to this Markdown file")
    args = parser.parse_args()
    rows = [run(n) for n in args.sizes]
    lines = [f"\n## Hub harvest (bench/hub_bench.py), {date.today().isoformat()}\n",
             f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; fake Hub "
             "(tests/fakehub.py) in its own process on 127.0.0.1, serving the 25 loadable real cards cycled; "
             "harvest through huggingface_hub into an on-disk Oxigraph store, 4 fetch threads. Baseline: the "
             "same cards from local README.md files (loader + store, no network), same run.\n",
             "| listed models | first harvest | models/s | incremental pass (nothing changed) | models/s | "
             "local files (baseline) | models/s | first harvest vs local |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        n = r["n"]
        lines.append(f"| {n:,} | {r['first']:.1f} s | {n / r['first']:.0f} | {r['second']:.2f} s | "
                     f"{n / r['second']:.0f} | {r['local']:.1f} s | {n / r['local']:.0f} | "
                     f"{r['first'] / r['local']:.2f}x slower |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.append:
        with args.append.open("a", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
