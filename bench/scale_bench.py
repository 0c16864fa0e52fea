"""Scale benchmark (issue #20 item 6): what a person waits for at 10k and 100k records, through the ``openness``
command line and a real ``openness serve``, on bundled data + N synthetic MOT records (bench/synthetic.py).

    nice -n 10 python bench/scale_bench.py --count 10000 --synthetic-dir /tmp/scale/syn10k \\
        --loaded-store /tmp/scale/store10k-loaded --work /tmp/scale/work10k --out /tmp/scale/baseline-10k.md
    nice -n 10 python bench/scale_bench.py --count 100000 --synthetic-dir /tmp/scale/syn100k \\
        --loaded-store /tmp/scale/store100k-loaded --work /tmp/scale/work100k --steps gallery

Measured, each as the command a person runs, in a child process (wall time; peak RSS from ``wait4``):
1. the first ``openness assess`` on a fresh copy of the loaded store (the loaded store is never written:
   later runs copy it instead of reloading; it is built with ``openness load`` when missing);
2. every gallery question (server/web/examples/*.rq, as found at run time): in-process (pyoxigraph,
   read-only, in a child so a long query can be cut at ``--timeout``) and through ``openness serve`` on
   127.0.0.1, median of ``--rounds``, with row counts; slow ones (> 1 s at 10k, > 3 s at 100k) marked;
3. the pages in PAGES (first, filtered and later pages of /models, /releases, /compare): status and time;
4. incremental re-assessment: k synthetic records changed (component licenses flipped between Apache-2.0
   and CC-BY-NC-4.0, which moves verdicts), ``openness load`` of those k files, then ``openness assess``,
   then ``openness assess --full`` when the CLI has that flag;
5. compaction, when the CLI has a command for it: its time and the in-process gallery after it.
The machine is shared: the load average is printed per step; compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.assess_bench import cpu_model  # noqa: E402
from bench.endpoint_compare import JSON, http_runs, local_runs, wait_ready  # noqa: E402
from bench.load_run import GALLERY, free_port, memory, start_server, stop_server  # noqa: E402
from bench.synthetic import write_folder  # noqa: E402

# (what, path): edit as pagination lands (`page`, `per_page` and filters such as `source=mot` are being added);
# today's pages ignore these parameters and answer with every row.
PAGES = [
    ("/models, first page", "/models?page=1&per_page=50"),
    ("/models, filtered (source=mot)", "/models?source=mot&page=1&per_page=50"),
    ("/models, later page", "/models?page=100&per_page=50"),
    ("/releases, first page", "/releases?page=1&per_page=50"),
    ("/releases, filtered (source=mot)", "/releases?source=mot&page=1&per_page=50"),
    ("/releases, later page", "/releases?page=100&per_page=50"),
    ("/compare, first page", "/compare?page=1&per_page=50"),
    ("/compare, filtered (source=mot)", "/compare?source=mot&page=1&per_page=50"),
    ("/compare, later page", "/compare?page=100&per_page=50"),
]
COMPACT_COMMANDS = ("compact", "optimize")  # whichever the CLI exposes, if any
OPEN, CLOSED = "Apache-2.0", "CC-BY-NC-4.0"
STEPS = ("gallery", "pages", "incremental", "compact")


@dataclass
class Run:
    """One ``openness`` command: wall seconds, peak RSS of the process tree it waited for, exit code."""
    seconds: float
    rss_mb: float
    code: int

    def cell(self) -> str:
        failed = "" if self.code == 0 else f" (exit {self.code})"
        return f"{self.seconds:.1f} s, {self.rss_mb:,.0f} MB{failed}"


def openness(*args: str, stdout: Path | None = None, log: Path | None = None) -> Run:
    """``openness ARGS`` from this worktree's code; timed by ``wait4`` so the peak RSS is this child's alone
    (``RUSAGE_CHILDREN`` would mix every command of the run)."""
    out = stdout.open("w") if stdout else subprocess.DEVNULL
    err = log.open("a") if log else subprocess.DEVNULL
    try:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", "from server.cli import main; main()", *args], cwd=ROOT,
                                stdout=out, stderr=err, env=dict(os.environ, COLUMNS="200"))
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for handle in (out, err):
            if handle is not subprocess.DEVNULL:
                handle.close()
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode)


def cli_help(*command: str) -> str:
    """The help text of an ``openness`` command: what this code offers (``--full``, a compaction command)."""
    return subprocess.run([sys.executable, "-c", "from server.cli import main; main()", *command, "--help"],
                          cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, COLUMNS="200")).stdout


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def server_rss(pid: int) -> str:
    mem = memory(pid)
    return f"server {mem['server_mb']:,} MB, with its {mem['workers']} workers {mem['with_workers_mb']:,} MB"


def load_avg() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def verdict_lines(path: Path) -> dict[str, str]:
    """Record id → its verdict line in ``openness assess`` text output (``id: osaid-1.0=pass …``)."""
    lines = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        rid, sep, rest = line.partition(": ")
        if sep and "=" in rest:
            lines[rid] = rest
    return lines


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "—"


class Report:
    """The Markdown section: printed as it grows and rewritten to ``--out``, so a step that fails late
    keeps what the earlier ones measured."""

    def __init__(self, out: Path | None) -> None:
        self.out, self.lines = out, []

    def add(self, *lines: str) -> None:
        for line in lines:
            print(line, flush=True)
            self.lines.append(line)
        if self.out:
            self.out.write_text("\n".join(self.lines) + "\n", encoding="utf-8")


def prepare(args: argparse.Namespace, report: Report, log: Path) -> None:
    """The synthetic folder and the loaded (unassessed) store, made once and reused by later runs: a store is
    built beside its final name and renamed when complete, so a half-loaded one is never reused. The synthetic
    records go first, into the empty store, where ``openness load`` takes its bulk path (~3x faster than
    adding them to a loaded store); the bundled records follow."""
    if not args.synthetic_dir.is_dir():
        started = time.perf_counter()
        write_folder(args.count, args.synthetic_dir)
        report.add(f"- wrote {args.count:,} synthetic records to {args.synthetic_dir} in "
                   f"{time.perf_counter() - started:.0f} s")
    if args.loaded_store.is_dir():
        report.add(f"- loaded store reused: {args.loaded_store} ({folder_mb(args.loaded_store):,.0f} MB)")
        return
    partial = args.loaded_store.with_name(args.loaded_store.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    synthetic = openness("load", "--store", str(partial), str(args.synthetic_dir), log=log)
    bundled = openness("load", "--store", str(partial), log=log)
    if bundled.code or synthetic.code:
        sys.exit(f"openness load failed; see {log}")
    partial.rename(args.loaded_store)
    report.add(f"- loaded store built: `openness load {args.synthetic_dir}` into the empty store {synthetic.cell()} "
               f"({args.count / synthetic.seconds:.0f} records/s), then `openness load` (bundled) {bundled.cell()}")


def gallery_local(store: Path, rounds: int, cap: float) -> dict[str, tuple[float | None, int | None]]:
    """Gallery question → (median s in-process, rows); None when it did not finish within ``cap``."""
    out = {}
    for path in GALLERY:
        try:
            runs = local_runs(store, path.read_text(encoding="utf-8"), rounds, cap)
        except subprocess.CalledProcessError:
            runs = []
        out[path.stem] = (statistics.median(t for t, _ in runs), runs[-1][1]) if runs else (None, None)
    return out


def short_error(error: str, timeout: float) -> str:
    if error.startswith(("ReadTimeout", "TimeoutException")):
        return f"no answer in {timeout:.0f} s"
    return " ".join(error.split())[:120].replace("|", "/")


def step_gallery_http(base: str, rounds: int, timeout: float) -> dict[str, tuple[float | None, int | None, str]]:
    """Gallery question → (median s through ``/sparql``, rows, error or '')."""
    out = {}
    with httpx.Client(timeout=timeout, headers={"accept": JSON}) as http:
        for path in GALLERY:
            times, rows, error = http_runs(http, base + "/sparql", path.read_text(encoding="utf-8"), rounds, timeout)
            out[path.stem] = (None if error else statistics.median(times), rows,
                              short_error(error, timeout) if error else "")
    return out


def seconds_cell(value: float | None, slow: float, limit: float) -> str:
    if value is None:
        return f"no answer in {limit:.0f} s"
    return f"**{value:.2f}** (slow)" if value > slow else f"{value:.3f}"


def gallery_table(local: dict, slow: float, limit: float) -> list[str]:
    """In-process medians, written as soon as measured: at 100k the server part can run for an hour."""
    lines = ["| question | in-process s | rows |", "|---|---:|---:|"]
    for name, (seconds, rows) in local.items():
        lines.append(f"| {name} | {seconds_cell(seconds, slow, limit)} | {'' if rows is None else f'{rows:,}'} |")
    done = [s for s, _ in local.values() if s is not None]
    lines.append(f"\nIn-process: {len(done)} of {len(local)} answered within {limit:.0f} s, "
                 f"{sum(1 for s in done if s > slow)} over {slow:g} s; sum of medians {sum(done):.1f} s.")
    return lines


def http_table(local: dict, http: dict, slow: float, limit: float) -> list[str]:
    lines = ["| question | `openness serve` s | rows | serve / in-process |", "|---|---:|---:|---:|"]
    for name, (seconds, rows, error) in http.items():
        in_process, local_rows = local.get(name, (None, None))
        differ = f" (in-process {local_rows:,})" if rows is not None and local_rows not in (None, rows) else ""
        lines.append(f"| {name} | {error or seconds_cell(seconds, slow, limit)} | "
                     f"{'' if rows is None else f'{rows:,}'}{differ} | {ratio(seconds, in_process)} |")
    return lines


def wait_for_listing(base: str, limit: float) -> str:
    """Wait until the server's listing index is ready (``/health``): built at start in the background, or
    loaded from the index saved in the store folder. Says which, and how long it took."""
    started = time.perf_counter()
    with httpx.Client(base_url=base, timeout=limit) as http:
        while time.perf_counter() - started < limit:
            status = http.get("/health").json().get("listing")
            if status:
                return (f"listing index {status['origin']} in {status['seconds']:.1f} s ({status['records']:,} "
                        f"records, {status['releases']:,} releases), ready {time.perf_counter() - started:.1f} s "
                        "after the first probe")
            time.sleep(1)
    return f"listing index not ready after {limit:.0f} s"


def step_pages(base: str, timeout: float) -> list[str]:
    """Each page of PAGES once as HTML, then again (the pages are cached until the next write)."""
    lines = [wait_for_listing(base, 900) + ".", "", "| page | URL | status | first s | again s |",
             "|---|---|---:|---:|---:|"]
    with httpx.Client(base_url=base, timeout=timeout, headers={"accept": "text/html"}) as http:
        for what, url in PAGES:
            cells = []
            status = "—"
            for _ in range(2):
                started = time.perf_counter()
                try:
                    status = str(http.get(url).status_code)
                except httpx.TimeoutException:
                    cells.append(f"no answer in {timeout:.0f} s")
                    break
                cells.append(f"{time.perf_counter() - started:.2f}")
            cells += ["not repeated"] * (2 - len(cells))
            lines.append(f"| {what} | `{url}` | {status} | {cells[0]} | {cells[1]} |")
    return lines


def change_records(source: Path, names: list[str], into: Path) -> None:
    """Copies of ``names`` with every component license flipped (open ↔ non-commercial; a component gets one
    if none had it): the record graphs differ and the OSAID/MOF verdicts of most of them move."""
    import yaml

    into.mkdir(parents=True)
    for name in names:
        record = yaml.safe_load((source / name).read_text(encoding="utf-8"))
        components = record["release"]["components"]
        licensed = [c for c in components if "license" in c] or components[:1]
        for component in licensed:
            component["license"] = CLOSED if component.get("license") == OPEN else OPEN
        (into / name).write_text(yaml.safe_dump(record, sort_keys=False, allow_unicode=True), encoding="utf-8")


def step_incremental(args: argparse.Namespace, store: Path, first: Run, first_out: Path, report: Report,
                     log: Path) -> None:
    has_full = "--full" in cli_help("assess")
    before = verdict_lines(first_out) if first else {}
    rerun = openness("assess", "--store", str(store), stdout=args.work / "assess-rerun.txt", log=log)
    report.add("| step | k | time, peak RSS | vs first full assessment | vs `--full` after it | note |",
               "|---|---:|---|---:|---:|---|",
               f"| `openness assess`, nothing changed | 0 | {rerun.cell()} | "
               f"{ratio(rerun.seconds, first.seconds if first else None)} "
               "| | |")
    names = sorted(p.name for p in args.synthetic_dir.glob("*.yml"))
    used: set[str] = set()
    for k in args.changes:
        pool = [n for n in names if n not in used]
        step = max(1, len(pool) // k)  # spread over the set, disjoint from earlier rounds (and from an earlier
        picked = pool[args.pick_offset % step::step][:k]  # bench's, with another --pick-offset)
        used.update(picked)
        changed_dir = args.work / f"changed-{k}"
        change_records(args.synthetic_dir, picked, changed_dir)
        load = openness("load", "--store", str(store), str(changed_dir), log=log)
        out = args.work / f"assess-after-{k}.txt"
        assess = openness("assess", "--store", str(store), stdout=out, log=log)
        after = verdict_lines(out)
        stems = {Path(n).stem for n in picked}
        ids = [rid for rid in before if rid.rpartition("/")[2] in stems]
        moved = sum(1 for rid in ids if rid in after and after[rid] != before[rid])
        full = openness("assess", "--full", "--store", str(store), log=log) if has_full and args.full_after \
            else None
        report.add(
            f"| `openness load` of the k changed files | {k} | {load.cell()} | | | "
            f"{load.seconds / k * 1000:.0f} ms/record |",
            f"| `openness assess` after it | {k} | {assess.cell()} | "
            f"{ratio(assess.seconds, first.seconds if first else None)} | "
            f"{ratio(assess.seconds, full.seconds if full else None)} | verdict lines changed: {moved} of "
            f"{len(ids)} changed records; {len(after):,} lines printed |",
            f"| `openness assess --full` after it | {k} | "
            + (f"{full.cell()} | {ratio(full.seconds, first.seconds if first else None)} | | |" if full else
               "skipped | | | |"))
    report.add("", f"Load average after: {load_avg()}.")


def step_compact(args: argparse.Namespace, store: Path, local: dict, slow: float, report: Report,
                 log: Path) -> None:
    listed = cli_help()
    command = next((c for c in COMPACT_COMMANDS if f" {c} " in listed), None)
    if command is None:
        report.add(f"Skipped: `openness --help` lists none of {', '.join(COMPACT_COMMANDS)}.")
        return
    size = folder_mb(store)
    run = openness(command, "--store", str(store), log=log)
    after = gallery_local(store, args.rounds, args.timeout)
    report.add(f"`openness {command}`: {run.cell()}; store {size:,.0f} → {folder_mb(store):,.0f} MB.", "",
               "| question | in-process s before | after | after / before |", "|---|---:|---:|---:|")
    for name, (seconds, _) in local.items():
        report.add(f"| {name} | {seconds_cell(seconds, slow, args.timeout)} | "
                   f"{seconds_cell(after[name][0], slow, args.timeout)} | {ratio(after[name][0], seconds)} |")


def versions() -> str:
    import pyoxigraph

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    ram = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    return (f"{platform.machine()} {cpu_model()}, {os.cpu_count()} CPUs, {ram:.0f} GB RAM, "
            f"Python {platform.python_version()}, pyoxigraph {pyoxigraph.__version__}, "
            f"commit {commit}{' + working tree' if dirty else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="synthetic MOT records on top of the bundled")
    parser.add_argument("--synthetic-dir", type=Path, help="their YAML files (written if missing)")
    parser.add_argument("--loaded-store", type=Path, help="bundled + synthetic, loaded, not assessed; built if "
                        "missing, never written (the run works on a copy)")
    parser.add_argument("--work", type=Path, help="scratch folder (emptied first): the copy, outputs, logs")
    parser.add_argument("--assessed-store", type=Path, help="measure this assessed store in place instead (no "
                        "copy, no first assessment; the incremental step writes to it)")
    parser.add_argument("--steps", nargs="*", default=list(STEPS), choices=STEPS,
                        help="after the first assessment (always run); default: all")
    parser.add_argument("--rounds", type=int, default=3, help="runs per gallery question (median)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per query or page at most "
                        "(also the server's OPENNESS_QUERY_TIMEOUT)")
    parser.add_argument("--slow", type=float, help="seconds that mark a question slow (default 1 at ≤10k, 3 above)")
    parser.add_argument("--changes", type=int, nargs="*", default=[10, 1000], help="k records changed per round")
    parser.add_argument("--pick-offset", type=int, default=0, help="which records of each spread to change (another "
                        "offset changes other records, e.g. when re-running on an --assessed-store)")
    parser.add_argument("--no-full-after", dest="full_after", action="store_false",
                        help="skip `openness assess --full` after each incremental round")
    parser.add_argument("--out", type=Path, help="also write the Markdown section here")
    args = parser.parse_args()
    tag = f"{args.count // 1000}k" if args.count % 1000 == 0 else str(args.count)
    args.synthetic_dir = args.synthetic_dir or Path(f"/tmp/scale/syn{tag}")
    args.loaded_store = args.loaded_store or Path(f"/tmp/scale/store{tag}-loaded")
    args.work = args.work or Path(f"/tmp/scale/work{tag}")
    slow = args.slow or (1.0 if args.count <= 10_000 else 3.0)
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    log = args.work / "openness.log"
    report = Report(args.out)
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())

    report.add(f"### bench/scale_bench.py --count {args.count}, {started} UTC", "",
               f"Machine: {versions()}. Load average (1/5/15 min) at the start {load_avg()}. "
               f"Store: bundled + {args.count:,} synthetic MOT records; every command in a child process "
               f"under this script's niceness ({os.nice(0)}).", "")
    first_out = args.work / "assess-first.txt"
    if args.assessed_store:
        store, first = args.assessed_store, None
        report.add(f"- assessed store measured in place: {store} ({folder_mb(store):,.0f} MB); no first "
                   "assessment", "")
    else:
        prepare(args, report, log)
        store = args.work / "store"
        copy_started = time.perf_counter()
        shutil.copytree(args.loaded_store, store)
        report.add(f"- fresh copy of the loaded store in {time.perf_counter() - copy_started:.0f} s", "")
        report.add("#### 1. First assessment (`openness assess` on the fresh copy)", "")
        first = openness("assess", "--store", str(store), stdout=first_out, log=log)
        if first.code:
            sys.exit(f"openness assess failed; see {log}")
        summary = first_out.read_text(encoding="utf-8").splitlines()[-1]
        report.add(f"{first.cell()} (wall, peak RSS); store {folder_mb(args.loaded_store):,.0f} → "
                   f"{folder_mb(store):,.0f} MB; `{summary}`. Load average after: {load_avg()}.", "")

    local: dict = {}
    if "gallery" in args.steps or "compact" in args.steps:
        local = gallery_local(store, args.rounds, args.timeout)
    if "gallery" in args.steps:
        report.add(f"#### 2. Gallery questions, median of {args.rounds} (slow: over {slow:g} s)", "",
                   *gallery_table(local, slow, args.timeout), f"Load average after: {load_avg()}.", "")
    if {"gallery", "pages"} & set(args.steps):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(store, port, args.work / "serve.log", {"OPENNESS_QUERY_TIMEOUT": str(args.timeout)})
        try:
            ready = time.perf_counter()
            # not /health: it counts every quad, and on a busy machine probes that time out pile up scans
            wait_ready(f"{base}/sparql?query=ASK%20%7B%7D", proc, 900)
            report.add(f"`openness serve` ready in {time.perf_counter() - ready:.1f} s "
                       f"(OPENNESS_QUERY_TIMEOUT={args.timeout:g}).", "")
            if "gallery" in args.steps:
                http = step_gallery_http(base, args.rounds, args.timeout)
                report.add(f"Through `openness serve` (`GET /sparql`, JSON results), median of {args.rounds}:", "",
                           *http_table(local, http, slow, args.timeout), "",
                           f"Server RSS after: {server_rss(proc.pid)}. Load average after: {load_avg()}.", "")
            if "pages" in args.steps:
                report.add("#### 3. Pages through `openness serve` (HTML; PAGES in bench/scale_bench.py)", "",
                           *step_pages(base, args.timeout), "",
                           f"Server RSS after: {server_rss(proc.pid)}. Load average after: {load_avg()}.", "")
        finally:
            stop_server(proc)
    if "incremental" in args.steps:
        report.add("#### 4. Incremental re-assessment (k records' component licenses flipped)", "")
        step_incremental(args, store, first, first_out, report, log)
        report.add("")
    if "compact" in args.steps:
        report.add("#### 5. Compaction", "")
        step_compact(args, store, local, slow, report, log)
        report.add("")
    report.add(f"Ended {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load average {load_avg()}; "
               f"outputs and logs in {args.work}.")


if __name__ == "__main__":
    main()
