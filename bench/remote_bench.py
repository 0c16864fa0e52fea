"""Load + assess the bundled data on the embedded Oxigraph store and on a remote Virtuoso 7 (a private
instance started here, see tests/virtuoso.py), then time a small query mix on both. Prints a markdown
table; ``--append`` adds it to bench/RESULTS.md under "Remote store (Virtuoso)".

    python bench/remote_bench.py [--runs 5] [--append]

``--synthetic N`` also loads and assesses N synthetic MOT-shaped records (bench/synthetic.py's
``write_folder``) on both stores, on top of the bundled data."""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loaders.vocab import Minter  # noqa: E402
from server import loading  # noqa: E402
from server.assessment import assess_all  # noqa: E402
from server.remote_store import RemoteStore  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.store import GraphStore, OxigraphStore  # noqa: E402
from tests.virtuoso import VirtuosoServer, available  # noqa: E402

PREFIX = "PREFIX og: <https://w3id.org/openness-graph/ontology#>\nPREFIX dct: <http://purl.org/dc/terms/>\n"
QUERIES = {
    "point lookup (one record's title)":
        PREFIX + 'SELECT ?t WHERE { ?m og:recordId "mot/Llama-2-7B" ; dct:title ?t }',
    "records per source (group by)":
        PREFIX + "SELECT ?source (COUNT(?m) AS ?n) WHERE { ?m a og:ModelRelease ; og:source ?source } GROUP BY ?source",
    "OSAID passes (join with verdicts)":
        PREFIX + "SELECT ?id WHERE { ?a og:definition ?d ; og:verdict <https://w3id.org/openness-graph/verdict/pass> ;"
                 " og:assessedRecord ?m . ?m og:recordId ?id FILTER(STRENDS(STR(?d), 'osaid-1.0')) }",
    "licenses used for weights (group by, order)":
        PREFIX + "SELECT ?l (COUNT(*) AS ?n) WHERE { ?m og:hasArtifact ?a . ?a og:artifactKind "
                 "<https://w3id.org/openness-graph/kind/model-parameters-final> ; dct:license ?l } "
                 "GROUP BY ?l ORDER BY DESC(?n) LIMIT 10",
    "reasons by kind (whole assessments graph)":
        PREFIX + "SELECT ?k (COUNT(*) AS ?n) WHERE { ?r a og:Reason ; og:reasonKind ?k } GROUP BY ?k",
}


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    elapsed = time.perf_counter() - start
    if elapsed > 1:
        print(f"  {getattr(fn, '__name__', fn)}: {elapsed:.1f} s", file=sys.stderr, flush=True)
    return elapsed, result


def run_backend(name: str, store: GraphStore, settings: Settings, runs: int, synthetic: Path | None) -> dict:
    row: dict = {"backend": name}
    row["load"], report = timed(loading.load_bundled, store, settings)
    row["records"] = len(report.loaded)
    row["reload"], _ = timed(loading.load_bundled, store, settings)  # replaces existing graphs
    row["assess"], results = timed(assess_all, store, settings)
    row["reassess"], _ = timed(assess_all, store, settings)
    row["quads"] = store.quad_count()
    row["queries"] = {}
    for label, query in QUERIES.items():
        store.select(query)  # warm
        row["queries"][label] = statistics.median(timed(store.select, query)[0] for _ in range(runs))
    if synthetic is not None:
        files = [(p, None) for p in loading.iter_record_files([synthetic])]
        row["synthetic_load"], _ = timed(loading.load_files, store, Minter(settings.base_iri), files)
        row["synthetic_records"] = len(files)
        row["synthetic_assess"], _ = timed(assess_all, store, settings)
    return row


def synthetic_folder(n: int, tmp: Path) -> Path | None:
    try:
        from bench import synthetic  # another engineer's generator, optional
    except ImportError:
        return None
    folder = tmp / "synthetic"
    if hasattr(synthetic, "write_folder"):  # write_folder(count, out)
        synthetic.write_folder(n, folder)
        return folder
    return None


def table(rows: list[dict]) -> str:
    lines = ["| backend | records | quads | load s | reload s | assess s | re-assess s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['records']} | {r['quads']:,} | {r['load']:.1f} | {r['reload']:.1f} | "
                     f"{r['assess']:.1f} | {r['reassess']:.1f} |")
    lines += ["", "| query (median ms) | " + " | ".join(r["backend"] for r in rows) + " |",
              "|---|" + "---:|" * len(rows)]
    for label in QUERIES:
        lines.append(f"| {label} | " + " | ".join(f"{r['queries'][label] * 1000:.1f}" for r in rows) + " |")
    if all("synthetic_load" in r for r in rows):
        lines += ["", "| synthetic | " + " | ".join(r["backend"] for r in rows) + " |", "|---|" + "---:|" * len(rows)]
        lines.append("| records | " + " | ".join(str(r["synthetic_records"]) for r in rows) + " |")
        lines.append("| load s | " + " | ".join(f"{r['synthetic_load']:.1f}" for r in rows) + " |")
        lines.append("| assess s | " + " | ".join(f"{r['synthetic_assess']:.1f}" for r in rows) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--synthetic", type=int, default=0, help="also load N synthetic records (bench/synthetic.py)")
    parser.add_argument("--append", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()
    if not available():
        sys.exit("virtuoso-opensource is not installed (apt-get install virtuoso-opensource)")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        synthetic = synthetic_folder(args.synthetic, tmp) if args.synthetic else None
        if args.synthetic and synthetic is None:
            print("bench/synthetic.py with write_folder(count, out) not found: synthetic set skipped")
        rows = []
        settings = Settings(_env_file=None, store=tmp / "oxigraph")
        embedded = OxigraphStore(settings.store)
        rows.append(run_backend("Oxigraph (embedded)", embedded, settings, args.runs, synthetic))
        embedded.close()
        with VirtuosoServer(tmp / "virtuoso", max_rows=50_000_000) as virtuoso:
            remote_settings = Settings(_env_file=None, **{k.removeprefix("OPENNESS_").lower(): v
                                                          for k, v in virtuoso.env().items()})
            remote = RemoteStore.from_settings(remote_settings)
            rows.append(run_backend("Virtuoso 7.2 (remote, GSP)", remote, remote_settings, args.runs, synthetic))
            remote.close()
    text = table(rows)
    print(text)
    if args.append:
        machine = f"{platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        append_run(ROOT / "bench" / "RESULTS.md", f"### bench/remote_bench.py, {stamp} ({machine})\n\n{text}\n")


SECTION = "## Remote store (Virtuoso)"


def append_run(path: Path, run: str) -> None:
    """Add ``run`` at the end of the "Remote store (Virtuoso)" section (created if absent); the rest of the
    file is left as it is."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n"
    start = text.index(SECTION) + len(SECTION)
    following = text.find("\n## ", start)
    end = len(text) if following < 0 else following + 1
    section = text[start:end].rstrip("\n") + "\n\n" + run
    path.write_text(text[:start] + section + ("\n" + text[end:] if end < len(text) else ""), encoding="utf-8")


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
