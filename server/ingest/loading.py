"""Loading into the store: files and folders through the loaders, the bundled sources, the reference
graphs (ontology, license KB, dataset KB, definitions), then releases, families and cross-source links
(``ingest.identity``).

Each record lands in its own named graph, replaced whole in one transaction, so a record is either
fully visible or not at all; a bad record is reported and stores nothing."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from loaders.bundled_data import data_file
from loaders.claims import load_claims
from loaders.datasets_kb import dataset_graph, load_kb
from loaders.detect import RECORD_SUFFIXES, load_text, record_stem
from loaders.errors import RecordError
from loaders.record import LoadedRecord, SourceInfo
from loaders.vocab import (
    CLAIMS_GRAPH,
    DATASETS_GRAPH,
    DEFINITIONS_GRAPH,
    LICENSES_GRAPH,
    OG,
    ONTOLOGY_GRAPH,
    Minter,
    path_segment,
)
from server.ingest.identity import identity_facts, link_records, links_current
from server.resources import definitions_file, ontology_file
from server.store import GraphStore, OxigraphStore, content_digest, graph_quads

log = logging.getLogger("openness.load")


MOT_COMMIT = "8b5d30e90a7c62d7d6ece48b91e69ff495920a4d"
INDEX_COMMIT = "5a388e871b88735e7ab7e6fb230b76c9d460d99a"
BATCH = 64
IDENTITY_CHECK_MAX = 1000  # files: a larger load relinks without comparing each record's identity statements
PARALLEL_MIN = 1000  # below this many files one process is faster than starting workers (bundled: 466)
CHUNK = 32  # files per task sent to a worker
NQ = ox.RdfFormat.N_QUADS


@dataclass
class LoadReport:
    loaded: list[str] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    identity_changed: bool = True  # a record was added or its identity statements changed: relink

    @property
    def ok(self) -> bool:
        return not self.errors


def bundled_source_info(source: str, path: Path) -> SourceInfo:
    """Provenance of a bundled file: the upstream repository, commit and data license."""
    if source == "mot":
        return SourceInfo("mot", f"models/{path.name}", MOT_COMMIT,
                          f"https://github.com/lfai/model_openness_tool/blob/{MOT_COMMIT}/models/{path_segment(path.name)}",
                          "http://spdx.org/licenses/MIT")
    return SourceInfo("osai-index", f"models/{path.name}", INDEX_COMMIT,
                      f"https://github.com/Language-Technology-Assessment/main-database/blob/{INDEX_COMMIT}/"
                      f"models/{path_segment(path.name)}", "http://spdx.org/licenses/CC-BY-4.0")


def iter_record_files(paths: Iterable[Path]) -> list[Path]:
    """Files to load: given files as they are, folders searched recursively for record files."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in RECORD_SUFFIXES
                                and not p.name.startswith(("_", "."))))
        else:
            files.append(path)
    return files


def read_record(path: Path, minter: Minter, info: SourceInfo | None = None) -> LoadedRecord:
    return read_record_quads(path, minter, info)[0]


CONTENT_DIGEST = ox.NamedNode(str(OG.contentDigest))


def read_record_quads(path: Path, minter: Minter, info: SourceInfo | None = None) -> tuple[LoadedRecord, list]:
    """Load one file and convert its graph to store quads (which checks every term): (record, quads)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RecordError(str(path), "not UTF-8 text") from None
    except OSError as exc:
        raise RecordError(str(path), f"cannot read: {exc.strerror or exc}") from None
    record = load_text(text, str(path) if info is None else info.file, minter, info=info,
                       record_name=record_stem(str(path)))
    try:
        return record, record_quads(record)
    except RecordError as exc:
        raise RecordError(str(path), exc.message) from None


def record_quads(record: LoadedRecord) -> list[ox.Quad]:
    """The record graph as store quads (which checks every term), with its content digest."""
    try:
        quads = list(graph_quads(record.graph, record.graph_iri))
    except ValueError as exc:
        raise RecordError(record.graph_iri, f"the record yields an invalid RDF term: {exc}") from None
    digest = ox.Literal(content_digest(quads, record.graph_iri))
    quads.append(ox.Quad(ox.NamedNode(str(record.iri)), CONTENT_DIGEST, digest, ox.NamedNode(record.graph_iri)))
    return quads


def store_records(store: GraphStore, records: list[LoadedRecord]) -> None:
    for start in range(0, len(records), BATCH):
        batch = records[start:start + BATCH]
        store.replace_graphs({r.graph_iri: r.graph for r in batch})


@dataclass
class ReadyRecord:
    """One record's quads, ready for the store: as pyoxigraph quads (loaded in this process) or as N-Quads
    (from a worker process: N-Quads cross a process boundary 4x cheaper than pickled quads)."""

    record_id: str
    graph_iri: str
    quads: list[ox.Quad] | None = None
    nquads: bytes | None = None

    def as_quads(self) -> list[ox.Quad]:
        return self.quads if self.quads is not None else list(ox.parse(self.nquads, format=NQ))

    def as_nquads(self) -> bytes:
        return self.nquads if self.nquads is not None else ox.serialize(self.quads, format=NQ)


def default_workers(file_count: int) -> int:
    """Loader processes for a load: one per CPU this process may use, for large loads only."""
    if file_count < PARALLEL_MIN:
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


_worker_minter: Minter | None = None


def _init_worker(base_iri: str) -> None:
    global _worker_minter
    _worker_minter = Minter(base_iri)


def _read_chunk(chunk: list[tuple[Path, SourceInfo | None]]) -> list[ReadyRecord | RecordError]:
    """Worker: load a few files, each to its N-Quads or its RecordError."""
    out: list[ReadyRecord | RecordError] = []
    for path, info in chunk:
        try:
            record, quads = read_record_quads(path, _worker_minter, info)
        except RecordError as exc:
            out.append(exc)
        else:
            out.append(ReadyRecord(record.record_id, record.graph_iri, nquads=ox.serialize(quads, format=NQ)))
    return out


def read_records(files: list[tuple[Path, SourceInfo | None]], minter: Minter,
                 workers: int = 1) -> Iterator[ReadyRecord | RecordError]:
    """Each file loaded to its quads (or its RecordError), in the order given. With ``workers`` > 1 the
    loaders (YAML, schema, RDF building: ~all the CPU of a load) run in that many processes, a few tasks
    ahead of the consumer (the one writer). Workers come from a fork server, not from a fork of this
    process, which may hold an open store and its threads."""
    if workers <= 1:
        for path, info in files:
            try:
                record, quads = read_record_quads(path, minter, info)
            except RecordError as exc:
                yield exc
            else:
                yield ReadyRecord(record.record_id, record.graph_iri, quads=quads)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["server.ingest.loading"])
    chunks = [files[i:i + CHUNK] for i in range(0, len(files), CHUNK)]
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(minter.base,)) as pool:
        ahead: deque[Future] = deque()
        todo = iter(chunks)
        for chunk in todo:
            ahead.append(pool.submit(_read_chunk, chunk))
            if len(ahead) >= 4 * workers:
                break
        while ahead:
            results = ahead.popleft().result()
            next_chunk = next(todo, None)
            if next_chunk is not None:
                ahead.append(pool.submit(_read_chunk, next_chunk))
            yield from results


def load_files(store: GraphStore, minter: Minter, files: list[tuple[Path, SourceInfo | None]],
               progress: Callable[[int], None] | None = None, *, workers: int | None = None) -> LoadReport:
    """Load records into the store, replacing each record's graph in a transaction (batches of BATCH
    records). ``workers``: loader processes (default: :func:`default_workers`)."""
    report = LoadReport(identity_changed=len(files) > IDENTITY_CHECK_MAX)
    pending: dict[str, list] = {}

    def write(graphs: dict[str, list]) -> None:
        if not report.identity_changed:
            report.identity_changed = any(identity_facts(store.quads_of_graph(iri)) != identity_facts(quads)
                                          for iri, quads in graphs.items())
        store.replace_quads(graphs)

    for item in read_records(files, minter, default_workers(len(files)) if workers is None else workers):
        if isinstance(item, RecordError):
            report.errors.append(item)
            log.info("refused %s", item)  # callers report errors (the CLI prints each once)
        else:
            pending[item.graph_iri] = item.as_quads()
            report.loaded.append(item.record_id)
        if progress:
            progress(1)
        if len(pending) >= BATCH:
            write(pending)
            pending = {}
    write(pending)
    return report


def bulk_first_load(store: OxigraphStore, minter: Minter, files: list[tuple[Path, SourceInfo | None]],
                    progress: Callable[[int], None] | None = None, *, workers: int | None = None) -> LoadReport:
    """Reference graphs and records into an empty store by Oxigraph's bulk loader, streamed as N-Quads
    (the loaders run ahead in worker processes). All or nothing: see :meth:`OxigraphStore.load_fresh`."""
    report = LoadReport()

    def stream() -> Iterator[bytes]:
        for quads in reference_quads(minter).values():
            yield ox.serialize(quads, format=NQ) if quads else b""
        for item in read_records(files, minter, default_workers(len(files)) if workers is None else workers):
            if isinstance(item, RecordError):
                report.errors.append(item)
                log.info("refused %s", item)
            else:
                report.loaded.append(item.record_id)
                yield item.as_nquads()
            if progress:
                progress(1)

    store.load_fresh(stream())
    return report


def load_sources(store: GraphStore, minter: Minter, files: list[tuple[Path, SourceInfo | None]],
                 progress: Callable[[int], None] | None = None, *, workers: int | None = None) -> LoadReport:
    """Reference graphs, records, then the cross-source links: what ``openness load`` does. A first load
    into an empty embedded store takes the bulk path (several times faster per quad); any other load
    replaces record graphs transactionally (a reload, a remote store, records added to a loaded store), and
    keeps the links when no loaded record changed a statement they are computed from (a changed license)."""
    if isinstance(store, OxigraphStore) and store.is_empty():
        report = bulk_first_load(store, minter, files, progress, workers=workers)
        link_records(store, minter)
        return report
    load_reference(store, minter)
    report = load_files(store, minter, files, progress, workers=workers)
    if report.identity_changed or not links_current(store, minter):
        link_records(store, minter)  # a pass over every record's identity statements
    else:
        log.info("the loaded records' identity statements are unchanged: releases and families kept")
    return report


def bundled_files() -> list[tuple[Path, SourceInfo]]:
    files = []
    for source, folder, pattern in (("mot", data_file("mot", "models"), "*.yml"),
                                    ("osai-index", data_file("osai-index", "models"), "*.yaml")):
        for path in sorted(folder.glob(pattern)):
            files.append((path, bundled_source_info(source, path)))
    return files


def load_reference(store: GraphStore, minter: Minter) -> None:
    """The reference graphs; the two big Turtle files are parsed by Oxigraph (rdflib's Turtle parser took
    most of the time of a load)."""
    store.replace_quads(reference_quads(minter))


def reference_quads(minter: Minter) -> dict[str, list[ox.Quad]]:
    """The reference graphs' quads, by graph IRI: the ontology, the definitions table as data (generated
    into ``ontology/definitions.ttl`` by ``server.assess.shapes_build``), the license KB, the dataset KB and
    the curated openness claims."""
    graphs: dict[str, list] = {}
    for iri, path in ((ONTOLOGY_GRAPH, ontology_file()), (DEFINITIONS_GRAPH, definitions_file()),
                      (LICENSES_GRAPH, data_file("licenses", "license-kb.ttl"))):
        g = ox.NamedNode(iri)
        graphs[iri] = [ox.Quad(t.subject, t.predicate, t.object, g)
                       for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]
    graphs[DATASETS_GRAPH] = list(graph_quads(dataset_graph(load_kb(), minter), DATASETS_GRAPH))
    claims = data_file("claims", "openness-claims.yaml")
    graphs[CLAIMS_GRAPH] = list(graph_quads(load_claims(claims.read_text(encoding="utf-8"), str(claims), minter),
                                            CLAIMS_GRAPH))
    return graphs


def load_bundled(store: GraphStore, settings, progress: Callable[[int], None] | None = None) -> LoadReport:
    """Reference graphs, every bundled MOT and Index record, then the cross-source links."""
    report = load_sources(store, Minter(settings.base_iri), bundled_files(), progress)
    log.info("loaded %d bundled records (%d refused)", len(report.loaded), len(report.errors))
    return report
