"""The ``openness`` command line (product.md): load, assess, models, validate, query, serve, export.
Every command has --help, fails with a one-line message and a non-zero exit code."""

from __future__ import annotations

import json
import logging
import sys
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
def load(paths: Annotated[list[Path] | None, typer.Argument(help="files or folders; none = bundled data")] = None,
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
        if not paths:
            files = loading.bundled_files()
            label = "loading bundled sources"
        else:
            missing = [p for p in paths if not p.exists()]
            if missing:
                raise Fail(f"no such file or folder: {missing[0]}", 2)
            files = [(p, None) for p in loading.iter_record_files(paths)]
            label = "loading"
        with _progress(len(files), label) as advance:
            report = loading.load_sources(graph_store, minter, files, advance, workers=workers or None)
        for error in report.errors:
            _echo_err(str(error))
        typer.echo(f"loaded {len(report.loaded)} records; refused {len(report.errors)}; "
                   f"{graph_store.quad_count()} quads in the store")
        if report.errors:
            raise typer.Exit(1)
    finally:
        graph_store.close()


class VerdictFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
def assess(format: Annotated[VerdictFormat, typer.Option("--format", help="text or json")] = VerdictFormat.text,
           store: StoreOption = None) -> None:
    """(Re)assess every record against every definition and store the verdicts."""
    from server.assess.engine import assess_all

    settings = settings_for(store)
    graph_store = _open(settings)
    try:
        results = assess_all(graph_store, settings)
    finally:
        graph_store.close()
    if format is VerdictFormat.json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=1))
        return
    for result in results:
        typer.echo(_verdict_line(result))
    typer.echo(f"assessed {len(results)} records")


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


class ValidateFormat(StrEnum):
    text = "text"
    json = "json"
    turtle = "turtle"


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="one record file")],
             definition: Annotated[str | None, typer.Option("--definition", help="one definition id")] = None,
             format: Annotated[ValidateFormat, typer.Option("--format")] = ValidateFormat.text) -> None:
    """Validate one record without storing it: exit 0 if well formed, 1 if not, 2 if unreadable."""
    from server.assess.validation import validate_text

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Fail(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}", 2) from None
    settings = settings_for()
    try:
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
           model: Annotated[str | None, typer.Option("--model", help="one record id (spdx3, cyclonedx)")] = None,
           out: Annotated[Path | None, typer.Option("--out", help="folder for one BOM file per record")] = None,
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
    """One record's BOM to standard output (``--model``), or every record's into ``--out``; the verdicts are
    computed by the engine exactly as the record page and ``openness assess`` do."""
    from loaders.vocab import Minter
    from server.assess.engine import assess_store
    from server.bom.export import export_records, record_bom
    from server.web.page_queries import UnsafeIRI, record_verdict, resolve_record

    if (model is None) == (out is None):
        raise Fail(f"--format {fmt} needs --model ID (one BOM to standard output) or --out DIR (one per record)", 2)
    settings = settings_for(store)
    minter = Minter(settings.base_iri)
    graph_store = _open(settings, reader=True)
    try:
        if model is not None:
            try:
                record_iri = resolve_record(graph_store, minter, model)
            except UnsafeIRI:
                record_iri = None
            verdict = record_verdict(graph_store, minter, model, record_iri) if record_iri else None
            if verdict is None:
                raise Fail(f"no record {model!r} is loaded; `openness models` lists the record ids")
            sys.stdout.write(record_bom(graph_store, minter, model, fmt, verdict, record_iri) or "")
            return
        written = export_records(graph_store, minter, fmt, out, assess_store(graph_store))
        typer.echo(f"wrote {len(written)} {fmt} BOMs to {out}", err=True)
    finally:
        graph_store.close()


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
