"""Load + assess the bundled data on the embedded Oxigraph store and on a remote Virtuoso 7 (a private
instance started here, see tests/virtuoso.py), then time a small query mix on both. Prints a markdown
table; ``--append`` adds it to bench/RESULTS.md under "Remote store (Virtuoso)".

    python bench/remote_bench.py [--runs 5] [--append]

``--synthetic N`` (or ``--synthetic-dir DIR`` of records written by bench/synthetic.py) is the scale run:
on each backend, ``openness load``'s path (``loading.load_sources``) loads the bundled data plus the N
synthetic MOT-shaped records into an empty store, then a full assessment, an unchanged re-assessment,
a reload of 1,000 unchanged records (the replace path) and the query mix at that size, each timed, with
the load average before and after. ``--backend`` runs one backend only (run them one after the other on
a small machine); ``--json`` keeps the raw figures.

    nice -n 5 python bench/remote_bench.py --synthetic-dir /tmp/syn100k --backend virtuoso \\
        --workdir /tmp/remote100k --json /tmp/remote100k/virtuoso.json"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from loaders.errors import RecordError  # noqa: E402
from loaders.vocab import Minter  # noqa: E402
from server.assess.run import assess_all  # noqa: E402
from server.ingest import identity, loading  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.store import GraphStore, OxigraphStore  # noqa: E402
from server.store.remote import RemoteStore  # noqa: E402
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
    "reasons by kind (every run graph, union)":
        PREFIX + "SELECT ?k (COUNT(*) AS ?n) WHERE { ?r a og:Reason ; og:reasonKind ?k } GROUP BY ?k",
}


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
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


RELOAD_SAMPLE = 1000  # records reloaded unchanged in the scale run (the replace path)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_scale(name: str, store: GraphStore, settings: Settings, runs: int, synthetic: list[Path],
              load=loading.load_sources) -> dict:
    """Bundled + synthetic records into an empty store by ``openness load``'s path (or ``load``), then
    assessment, an unchanged re-assessment, a reload of a sample and the query mix, all at that size."""
    minter = Minter(settings.base_iri)
    files = loading.bundled_files() + [(p, None) for p in synthetic]
    row: dict = {"backend": name, "load_average_start": load_average(), "start": _stamp()}
    row["load"], report = timed(load, store, minter, files)
    row["records"] = len(report.loaded)
    row["refused"] = len(report.errors)
    row["quads_loaded"] = store.quad_count()
    row["assess"], results = timed(assess_all, store, settings)
    row["assessed"] = len(results)
    row["quads"] = store.quad_count()
    row["reassess"], _ = timed(assess_all, store, settings)
    sample = [(p, None) for p in synthetic[:RELOAD_SAMPLE]]
    row["reload_records"] = len(sample)
    row["reload"], _ = timed(loading.load_files, store, minter, sample)
    row["queries"] = {}
    for label, query in QUERIES.items():
        store.select(query)  # warm
        row["queries"][label] = statistics.median(timed(store.select, query)[0] for _ in range(runs))
    row["load_average_end"] = load_average()
    row["end"] = _stamp()
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def scale_table(rows: list[dict]) -> str:
    cols = " | ".join(r["backend"] for r in rows)
    lines = [f"| scale run | {cols} |", "|---|" + "---:|" * len(rows)]

    def line(label: str, fmt) -> None:
        lines.append(f"| {label} | " + " | ".join(fmt(r) for r in rows) + " |")

    line("records loaded (bundled + synthetic)", lambda r: f"{r['records']:,}")
    line("quads after load", lambda r: f"{r['quads_loaded']:,}")
    line("load s (`load_sources`, empty store)", lambda r: f"{r['load']:.0f}")
    if any("fill" in r for r in rows):
        line("of which: loaders → N-Quads s / ld_dir s / links s (bulk fill only)",
             lambda r: " / ".join(f"{r['fill'][k]:.0f}" for k in ("write_nquads", "ld_dir", "link"))
             if "fill" in r else "")
    line("load records/s", lambda r: f"{r['records'] / r['load']:.0f}")
    line("load quads/s", lambda r: f"{r['quads_loaded'] / r['load']:,.0f}")
    line("full assessment s (first run, verdicts written)", lambda r: f"{r['assess']:.0f}")
    line("quads after assessment", lambda r: f"{r['quads']:,}")
    line("re-assessment s (verdicts unchanged)", lambda r: f"{r['reassess']:.0f}")
    line("reload of a sample of unchanged records s (records)",
         lambda r: f"{r['reload']:.1f} ({r['reload_records']:,})")
    for label in QUERIES:
        line(f"query: {label} (median ms)", lambda r, label=label: f"{r['queries'][label] * 1000:.1f}")
    line("load average start → end",
         lambda r: f"{r['load_average_start'].split()[0]} → {r['load_average_end'].split()[0]}")
    line("run (UTC)", lambda r: f"{r['start']}–{r['end']}")
    return "\n".join(lines)


def write_nquads(minter: Minter, files: list, out: Path) -> loading.LoadReport:
    """Reference graphs and records as one N-Quads file, by the loaders (in worker processes)."""
    report = loading.LoadReport()
    with open(out, "wb") as sink:
        for quads in loading.reference_quads(minter).values():
            sink.write(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) if quads else b"")
        for item in loading.read_records(files, minter, loading.default_workers(len(files))):
            if isinstance(item, RecordError):
                report.errors.append(item)
            else:
                sink.write(item.as_nquads())
                report.loaded.append(item.record_id)
    return report


def bulk_filler(virtuoso: VirtuosoServer, folder: Path, breakdown: dict):
    """A ``load`` for run_scale that is NOT the product's: N-Quads by the loaders, then Virtuoso's own bulk
    loader through isql-vt (Virtuoso-only), then the cross-source links by the product."""
    def load(store: GraphStore, minter: Minter, files: list) -> loading.LoadReport:
        folder.mkdir(parents=True, exist_ok=True)
        breakdown["write_nquads"], report = timed(write_nquads, minter, files, folder / "records.nq")
        breakdown["ld_dir"], _ = timed(virtuoso.isql, f"ld_dir('{folder}', '*.nq', 'urn:openness:bulk-default'); "
                                       "rdf_loader_run(); checkpoint;", timeout=7200)
        breakdown["link"], _ = timed(identity.link_records, store, minter)
        return report
    return load


def virtuoso_bulk(synthetic: list[Path], tmp: Path, buffers: int) -> dict:
    """Comparison point, not a product path: the same records written as N-Quads by the loaders, then
    Virtuoso's own bulk loader (``ld_dir`` + ``rdf_loader_run()`` through isql-vt, Virtuoso-only)."""
    minter = Minter(Settings(_env_file=None).base_iri)
    files = loading.bundled_files() + [(p, None) for p in synthetic]
    folder = tmp / "nquads"
    folder.mkdir(parents=True, exist_ok=True)
    row: dict = {"load_average_start": load_average(), "start": _stamp()}

    row["write_nquads"], report = timed(write_nquads, minter, files, folder / "records.nq")
    row["records"] = len(report.loaded)
    with VirtuosoServer(tmp / "virtuoso-bulk", max_rows=100_000_000, buffers=buffers,
                        dirs_allowed=str(folder)) as virtuoso:
        row["bulk_load"], _ = timed(virtuoso.bulk_load, folder, "*.nq", "urn:openness:bulk-default")
        env = {k.removeprefix("OPENNESS_").lower(): v for k, v in virtuoso.env().items()}
        remote = RemoteStore.from_settings(Settings(_env_file=None, query_timeout=600, **env))
        row["link"], _ = timed(identity.link_records, remote, minter)  # the rest of `openness load`
        row["quads"] = remote.quad_count()
        remote.close()
    row["load_average_end"] = load_average()
    row["end"] = _stamp()
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def _stamp() -> str:
    return datetime.now(UTC).strftime("%H:%M")


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
    parser.add_argument("--synthetic", type=int, default=0,
                        help="scale run with N synthetic records (bench/synthetic.py)")
    parser.add_argument("--synthetic-dir", type=Path, help="scale run with the records in this folder")
    parser.add_argument("--backend", choices=("both", "oxigraph", "virtuoso"), default="both")
    parser.add_argument("--workdir", type=Path, help="folder for the stores (default: a temporary folder)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="OPENNESS_QUERY_TIMEOUT for the scale run (fact queries at 100k take minutes)")
    parser.add_argument("--virtuoso-buffers", type=int, default=170000, help="Virtuoso NumberOfBuffers (8 KB each)")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    parser.add_argument("--virtuoso-fill", choices=("product", "bulk"), default="product",
                        help="scale run: fill Virtuoso by the product's load (GSP) or, as a comparison only, by "
                             "N-Quads + Virtuoso's ld_dir; assessment, reload and queries are the product's")
    parser.add_argument("--virtuoso-bulk", action="store_true",
                        help="comparison only: the records as N-Quads through Virtuoso's own bulk loader (isql)")
    parser.add_argument("--append", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()
    if args.backend != "oxigraph" and not available():
        sys.exit("virtuoso-opensource is not installed (apt-get install virtuoso-opensource)")
    if args.virtuoso_bulk:
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp_name:
            folder = args.synthetic_dir or synthetic_folder(args.synthetic, Path(tmp_name))
            synthetic = loading.iter_record_files([folder])
            row = virtuoso_bulk(synthetic[:args.synthetic] if args.synthetic else synthetic, Path(tmp_name),
                                args.virtuoso_buffers)
        if args.json:
            args.json.write_text(json.dumps(row, indent=1))
        return
    if args.synthetic or args.synthetic_dir:
        rows = scale(args)
        text = scale_table(rows)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
        print(text)
        if args.append:
            append_run(ROOT / "bench" / "RESULTS.md", f"### bench/remote_bench.py scale run, {_header()}\n\n{text}\n")
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        synthetic = None
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
        append_run(ROOT / "bench" / "RESULTS.md", f"### bench/remote_bench.py, {_header()}\n\n{text}\n")


def _header() -> str:
    machine = f"{platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}"
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC") + f" ({machine})"


def scale(args) -> list[dict]:
    """The scale run on the chosen backends, one after the other, each on an empty store."""
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp_name:
        tmp = Path(tmp_name)
        folder = args.synthetic_dir or synthetic_folder(args.synthetic, tmp)
        synthetic = loading.iter_record_files([folder])
        if args.synthetic:
            synthetic = synthetic[:args.synthetic]
        rows = []
        if args.backend in ("both", "oxigraph"):
            settings = Settings(_env_file=None, store=tmp / "oxigraph", query_timeout=args.timeout)
            embedded = OxigraphStore(settings.store)
            rows.append(run_scale("Oxigraph (embedded)", embedded, settings, args.runs, synthetic))
            embedded.close()
        if args.backend in ("both", "virtuoso"):
            folder = tmp / "nquads"
            with VirtuosoServer(tmp / "virtuoso", max_rows=100_000_000, buffers=args.virtuoso_buffers,
                                dirs_allowed=str(folder)) as virtuoso:
                env = {k.removeprefix("OPENNESS_").lower(): v for k, v in virtuoso.env().items()}
                remote_settings = Settings(_env_file=None, query_timeout=args.timeout, **env)
                remote = RemoteStore.from_settings(remote_settings)
                if args.virtuoso_fill == "bulk":
                    breakdown: dict = {}
                    row = run_scale("Virtuoso 7.2 (filled by ld_dir; product assess/queries)", remote,
                                    remote_settings, args.runs, synthetic, bulk_filler(virtuoso, folder, breakdown))
                    row["fill"] = breakdown
                    rows.append(row)
                else:
                    rows.append(run_scale("Virtuoso 7.2 (remote, GSP)", remote, remote_settings, args.runs, synthetic))
                remote.close()
        return rows


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
