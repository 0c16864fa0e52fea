"""The ``openness`` command line (product.md): load, assess, models, releases, quality, validate, query, serve,
export.
Every command has --help, fails with a one-line message and a non-zero exit code."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from server.settings import Settings
from server.store import GraphStore, StoreError, open_store

app = typer.Typer(help="Openness Graph: how open is each AI model, by every definition, and why.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

StoreOption = Annotated[Path | None, typer.Option("--store", help="store folder (default: OPENNESS_STORE)")]


class Fail(Exception):
    """A user-facing failure: printed as one line, exit code 1 (or ``code``)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def settings_for(store: Path | None = None) -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Fail(f"bad setting OPENNESS_{str(first['loc'][0]).upper()}: {first['msg']}") from None
    if store is not None:
        settings = settings.model_copy(update={"store": store})
    return settings


def _open(settings: Settings, *, reader: bool = False) -> GraphStore:
    """The store; a ``reader`` command reads a read-only view when ``openness serve`` holds the store."""
    try:
        return open_store(settings, reader=reader)
    except StoreError as exc:
        raise Fail(str(exc)) from None


def _echo_err(message: str) -> None:
    typer.echo(f"openness: {message}", err=True)


@app.command()
def load(paths: Annotated[list[Path] | None,
                          typer.Argument(help="files, folders or hf:ORG/NAME; none = bundled data")] = None,
         workers: Annotated[int, typer.Option("--workers", min=0,
                                              help="loader processes; 0 = one per CPU for 1000+ files")] = 0,
         store: StoreOption = None) -> None:
    """Load records (MOT YAML, Index YAML, Hugging Face card, Turtle, JSON-LD, N-Triples) into the store."""
    from loaders.vocab import Minter
    from server.ingest import loading

    settings = settings_for(store)
    graph_store = _open(settings)
    try:
        minter = Minter(settings.base_iri)
        hub_ids = _hub_ids(paths or [])
        paths = [p for p in paths or [] if not str(p).startswith("hf:")] if hub_ids else paths
        report = loading.LoadReport()
        if not paths and not hub_ids:
            files = loading.bundled_files()
            label = "loading bundled sources"
        else:
            missing = [p for p in paths or [] if not p.exists()]
            if missing:
                raise Fail(f"no such file or folder: {missing[0]}", 2)
            files = [(p, None) for p in loading.iter_record_files(paths or [])]
            label = "loading"
        if files:
            with _progress(len(files), label) as advance:
                report = loading.load_sources(graph_store, minter, files, advance, workers=workers or None)
        if hub_ids:  # the only network access of `load`: models named hf:ORG/NAME
            from server.ingest import hub

            with _progress(len(hub_ids), "fetching from the Hugging Face Hub") as advance:
                fetched = hub.load_models(graph_store, minter, _hub_client(settings), hub_ids, advance)
            report.loaded += fetched.loaded
            report.errors += fetched.errors
        for error in report.errors:
            _echo_err(str(error))
        # what changed, not the store's size: counting every quad took 17 s at 100k records, for a 1 s load
        written = getattr(graph_store, "quads_written", None)
        if written is not None:
            written += graph_store.quads_bulk_loaded
        typer.echo(f"loaded {len(report.loaded)} records; refused {len(report.errors)}"
                   + (f"; {written} quads written (added or removed)" if written is not None else ""))
        if graph_store.compact_if_written(settings.compact_after):
            typer.echo("compacted the store after a large write")
        if report.errors:
            raise typer.Exit(1)
    finally:
        graph_store.close()


class VerdictFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
def assess(format: Annotated[VerdictFormat, typer.Option("--format", help="text or json")] = VerdictFormat.text,
           full: Annotated[bool, typer.Option("--full", help="re-evaluate every record and release, even those "
                                                           "whose inputs did not change")] = False,
           store: StoreOption = None) -> None:
    """(Re)assess the records and releases whose inputs changed since the last run (every one with --full or
    --format json, which prints every record's verdicts) and store the verdicts."""
    from server.assess.run import assess_all, assess_changes

    settings = settings_for(store)
    graph_store = _open(settings)
    try:
        changes = None if full or format is VerdictFormat.json else assess_changes(graph_store, settings)
        results = assess_all(graph_store, settings) if changes is None else changes.results
        releases = [] if changes else graph_store.select("SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r a "
                                                         "<https://w3id.org/openness-graph/ontology#Release> }")
        graph_store.compact_if_written(settings.compact_after)
    finally:
        graph_store.close()
    if format is VerdictFormat.json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=1))
        return
    for result in results:
        typer.echo(_verdict_line(result))
    if changes is not None:
        typer.echo(f"re-assessed {len(changes.results)} changed records and {len(changes.releases)} releases; "
                   f"{changes.kept_records} records and {changes.kept_releases} releases unchanged"
                   + (f"; dropped the verdicts of {changes.removed} removed" if changes.removed else "")
                   + " (--full re-evaluates everything)")
        return
    typer.echo(f"assessed {len(results)} records and {releases[0]['n'].value if releases else 0} releases "
               "(openness releases lists the releases' consolidated verdicts)")


def _verdict_line(result: dict) -> str:
    v = result["verdicts"]
    parts = [f"{d}={v[d]['verdict']}" for d in ("osaid-1.0", "owd-0.3", "fsf-free-ml", "eu-ai-act-foss") if d in v]
    if "mof-1.0" in v:
        parts.insert(1, f"mof-1.0=class {v['mof-1.0']['class']}")
    if "osai-index" in v and v["osai-index"]["score"] is not None:
        parts.append(f"osai-index={v['osai-index']['score']:.2f}")
    return f"{result['id']}: " + "  ".join(parts)


@app.command()
def models(format: Annotated[VerdictFormat, typer.Option("--format", help="text or json")] = VerdictFormat.text,
           store: StoreOption = None) -> None:
    """List the loaded records with the same model from other sources."""
    from server.ingest.records import list_records

    settings = settings_for(store)
    graph_store = _open(settings, reader=True)
    try:
        records = list_records(graph_store)
    finally:
        graph_store.close()
    if format is VerdictFormat.json:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=1))
        return
    for r in records:
        also = f"  (same as {', '.join(r['same_as'])})" if r["same_as"] else ""
        typer.echo(f"{r['id']}\t{r['name']}{also}")
    typer.echo(f"{len(records)} records")


def _release_results(store: Path | None, graph_store: GraphStore | None = None) -> list[dict]:
    """Every release's consolidated result, computed from the store's records as ``openness assess`` does."""
    from server.assess.consolidate import assess_releases
    from server.assess.engine import read_licenses, read_records

    opened = graph_store or _open(settings_for(store), reader=True)
    try:
        return assess_releases(opened, read_records(opened), read_licenses(opened))
    finally:
        if graph_store is None:
            opened.close()


@app.command()
def releases(format: Annotated[VerdictFormat, typer.Option("--format", help="text or json")] = VerdictFormat.text,
             store: StoreOption = None) -> None:
    """One entry per model release across sources: its records, consolidated verdicts, conflicts and flags."""
    from server.assess.quality import release_entry, release_line

    results = _release_results(store)
    if format is VerdictFormat.json:
        typer.echo(json.dumps([release_entry(r) for r in results], ensure_ascii=False, indent=1))
        return
    for result in results:
        typer.echo(release_line(result))
    typer.echo(f"{len(results)} releases")


@app.command()
def quality(format: Annotated[VerdictFormat, typer.Option("--format", help="text or json")] = VerdictFormat.text,
            store: StoreOption = None) -> None:
    """The curators' work list: unverified claims, conflicts between sources, open-washing, unmatched records."""
    from server.assess.quality import quality_report, quality_text

    report = quality_report(_release_results(store))
    if format is VerdictFormat.json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        typer.echo(quality_text(report))


class ValidateFormat(StrEnum):
    text = "text"
    json = "json"
    turtle = "turtle"


def _hub_ids(paths: list[Path]) -> list[str]:
    """The ``hf:ORG/NAME`` arguments as Hub ids; a malformed one stops the command (exit 2)."""
    from server.ingest.hub import parse_hub_id

    ids = []
    for path in paths:
        if str(path).startswith("hf:"):
            repo_id = parse_hub_id(str(path))
            if repo_id is None:
                raise Fail(f"not a Hugging Face model id: {path}; write hf:ORG/NAME (no URL)", 2)
            ids.append(repo_id)
    return ids


def _hub_client(settings: Settings):
    """The Hub client of this deployment: HF_ENDPOINT / HF_TOKEN / HF_HUB_OFFLINE as huggingface_hub reads
    them, raw answers cached under the store folder."""
    from server.ingest.hub import HubClient

    return HubClient(Path(settings.store) / "hub-cache")


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="one record file, or hf:ORG/NAME (fetched from the Hub)")],
             definition: Annotated[str | None, typer.Option("--definition", help="one definition id")] = None,
             format: Annotated[ValidateFormat, typer.Option("--format")] = ValidateFormat.text) -> None:
    """Validate one record without storing it: exit 0 if well formed, 1 if not, 2 if unreadable."""
    from server.assess.validation import validate_text

    settings = settings_for()
    try:
        if str(file).startswith("hf:"):
            outcome = _validate_hub(_hub_ids([file])[0], settings, definition)
        else:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise Fail(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}", 2) from None
            outcome = validate_text(text, file.name, settings, definition=definition)
    except KeyError as exc:
        raise Fail(str(exc.args[0]), 2) from None
    if format is ValidateFormat.json:
        typer.echo(json.dumps(outcome.verdict, ensure_ascii=False, indent=1))
    elif format is ValidateFormat.turtle:
        typer.echo(outcome.report_turtle())
    else:
        typer.echo(outcome.text())
    if not outcome.verdict["well_formed"]:
        raise typer.Exit(1)


def _validate_hub(repo_id: str, settings: Settings, definition: str | None):
    """Fetch one Hub model (cached under the store folder) and assess it without storing it."""
    from loaders.errors import RecordError
    from loaders.vocab import Minter
    from server.assess.validation import refused, validate_record
    from server.ingest.hub import HubError

    try:
        record = _hub_client(settings).fetch(repo_id).record(Minter(settings.base_iri))
    except HubError as exc:
        raise Fail(str(exc), 2) from None
    except RecordError as exc:
        return refused(RecordError(f"hf:{repo_id}", exc.message, exc.line, exc.column))
    return validate_record(record, settings, definition=definition)


class HarvestSource(StrEnum):
    hf = "hf"


@app.command()
def harvest(source: Annotated[HarvestSource, typer.Argument(help="hf: the Hugging Face Hub")],
            author: Annotated[str | None, typer.Option("--author", help="only this user or organisation")] = None,
            search: Annotated[str | None, typer.Option("--search", help="only ids containing this text")] = None,
            filter: Annotated[list[str] | None, typer.Option("--filter", help="only models with this tag "
                                                               "(repeatable)")] = None,
            limit: Annotated[int | None, typer.Option("--limit", min=1, help="at most this many models")] = None,
            store: StoreOption = None) -> None:
    """Load the models the Hub lists (network access): resumable, incremental, failures reported."""
    from loaders.vocab import Minter
    from server.ingest import hub

    settings = settings_for(store)
    graph_store = _open(settings)
    query = hub.HarvestQuery(author, search, list(filter or []), limit)
    try:
        with _progress(limit, "harvesting the Hugging Face Hub") as advance, _stop_at_batch_end() as stopping:
            report = hub.harvest(graph_store, Minter(settings.base_iri), _hub_client(settings), query, advance,
                                 stopping.is_set)
    except hub.HubError as exc:
        raise Fail(f"{exc.reason}; run the same command again to resume") from None
    except KeyboardInterrupt:
        cursor = hub.read_cursor(graph_store, Minter(settings.base_iri))
        _echo_err(f"interrupted after {cursor.position if cursor else 0} listed models; "
                  "run the same command again to resume")
        raise
    finally:
        graph_store.close()
    for repo_id, reason in report.failed:
        _echo_err(f"hf:{repo_id}: {reason}")
    if report.resumed_at is not None:
        typer.echo(f"resumed at model {report.resumed_at} of the listing")
    failed = report.failed_before + len(report.failed)
    typer.echo(f"harvest: listed {report.listed}; loaded {report.loaded}; unchanged {report.unchanged}; "
               f"card unread (gated) {report.unread}; failed {failed}")
    if failed:
        raise typer.Exit(1)


class QueryFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"


@app.command()
def query(sparql: Annotated[str, typer.Argument(help="a SPARQL 1.1 query")],
          format: Annotated[QueryFormat, typer.Option("--format")] = QueryFormat.table,
          store: StoreOption = None) -> None:
    """Run a SPARQL query on the store (the default graph is the union of all graphs)."""
    from server.sparql.query_command import run_query

    settings = settings_for(store)
    graph_store = _open(settings, reader=True)
    try:
        sys.stdout.write(run_query(graph_store, sparql, format.value))
    except SyntaxError as exc:
        raise Fail(f"bad SPARQL query: {exc}") from None
    finally:
        graph_store.close()


@app.command()
def serve(host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port")] = 8000,
          store: StoreOption = None) -> None:
    """Serve the HTTP API and SPARQL endpoint; an empty store is filled with the bundled data first."""
    from server.serve import ServeError, run_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        run_server(settings_for(store), host, port)
    except ServeError as exc:
        raise Fail(str(exc)) from None


class ExportFormat(StrEnum):
    nquads = "nquads"
    turtle = "turtle"
    jsonld = "jsonld"
    dcat = "dcat"
    void = "void"
    spdx3 = "spdx3"
    cyclonedx = "cyclonedx"


@app.command()
def export(format: Annotated[ExportFormat, typer.Option(
               "--format", help="nquads, turtle, jsonld, dcat, void; spdx3 or cyclonedx: AI bills of materials")],
           model: Annotated[str | None, typer.Option("--model", help="a release id (olmo-7b) or a record id "
                                                     "(mot/OLMo-7B), for spdx3 and cyclonedx")] = None,
           out: Annotated[Path | None, typer.Option("--out", help="folder for one BOM file per release")] = None,
           store: StoreOption = None) -> None:
    """Write the graph (or its DCAT catalog / VoID description, or AI bills of materials) to standard output."""
    from server.ingest.dumps import DUMP_FORMATS, dump_bytes
    from server.web.catalog import description_bytes

    fmt = format.value
    if fmt in ("spdx3", "cyclonedx"):
        _export_boms(fmt, model, out, store)
        return
    if model is not None or out is not None:
        raise Fail("--model and --out are for --format spdx3 or cyclonedx", 2)
    settings = settings_for(store)
    graph_store = _open(settings, reader=True)
    try:
        body = dump_bytes(graph_store, fmt) if fmt in DUMP_FORMATS else description_bytes(graph_store, settings, fmt)
        sys.stdout.buffer.write(body)
    finally:
        graph_store.close()


def _export_boms(fmt: str, model: str | None, out: Path | None, store: Path | None) -> None:
    """One record's or release's BOM to standard output (``--model``: a record id such as ``mot/OLMo-7B``, or
    a release id such as ``olmo-7b``), or every release's into ``--out``. Verdicts are computed exactly as
    the record and release pages and ``openness assess`` compute them."""
    from loaders.vocab import Minter
    from server.assess.consolidate import assess_one_release
    from server.assess.engine import read_licenses
    from server.bom.export import export_releases, record_bom, release_bom
    from server.store import UnsafeIRI
    from server.web.page_queries import record_verdict, resolve_record

    if (model is None) == (out is None):
        raise Fail(f"--format {fmt} needs --model ID (one BOM to standard output) or --out DIR (one per release)",
                   2)
    settings = settings_for(store)
    minter = Minter(settings.base_iri)
    graph_store = _open(settings, reader=True)
    try:
        if model is not None and "/" in model:
            try:
                record_iri = resolve_record(graph_store, minter, model)
            except UnsafeIRI:
                record_iri = None
            verdict = record_verdict(graph_store, minter, model, record_iri) if record_iri else None
            if verdict is None:
                raise Fail(f"no record {model!r} is loaded; `openness models` lists the record ids")
            sys.stdout.write(record_bom(graph_store, minter, model, fmt, verdict, record_iri) or "")
            return
        if model is not None:
            result = assess_one_release(graph_store, minter.release(model), read_licenses(graph_store))
            if result is None:
                raise Fail(f"no release {model!r}; `openness releases` lists the release ids (a record id has a "
                           "'/': mot/OLMo-7B)")
            sys.stdout.write(release_bom(graph_store, minter, model, fmt, result) or "")
            return
        written = export_releases(graph_store, minter, fmt, out, _release_results(store, graph_store))
        typer.echo(f"wrote {len(written)} {fmt} BOMs (one per release) to {out}", err=True)
    finally:
        graph_store.close()


@contextmanager
def _stop_at_batch_end() -> Iterator[threading.Event]:
    """Ctrl-C sets the event, and the harvest stops once the batch in hand is written: a KeyboardInterrupt
    raised wherever the signal lands could be lost inside a native call, or cut a write short. A second
    Ctrl-C interrupts at once."""
    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()
        signal.signal(signal.SIGINT, previous)

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield stopping
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, request_stop)
    try:
        yield stopping
    finally:
        signal.signal(signal.SIGINT, previous)


class _progress:
    """A rich progress bar on a terminal; silent otherwise."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self._progress = total, label, None

    def __enter__(self):
        if not sys.stderr.isatty():
            return lambda n=1: None
        from rich.progress import Progress

        self._progress = Progress(transient=True)
        self._progress.start()
        task = self._progress.add_task(self.label, total=self.total)
        return lambda n=1: self._progress.advance(task, n)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()


def main() -> None:
    """Console entry point: one-line errors instead of tracebacks."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except Fail as exc:
        _echo_err(str(exc))
        raise SystemExit(exc.code) from None
    except StoreError as exc:
        _echo_err(str(exc))
        raise SystemExit(1) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        _echo_err("aborted")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:  # click usage errors (typer vendors click, so match by behaviour)
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        raise
