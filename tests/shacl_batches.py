"""pySHACL over every bundled record, for tests/test_shapes_equivalence.py, started when the session's tests are
collected and run at the lowest CPU priority, so it takes only the CPU the other tests leave idle.

pySHACL needs ~1.4 s a record (~650 CPU s for the bundled data, 6 minutes on two cores when run alone); most
tests leave a core idle (one pytest process, servers waiting on sockets). Same batches, same assertions as run
in the test itself: only the time they run changes. Records run in batches (record graphs + the license and
dataset facts they refer to, see server.assess.shacl.data_graph): per focus node pySHACL's SPARQL pre-binding
costs the same whatever the graph, but one run per record repeats its set-up, and one run over all records is
quadratic with the Oxigraph backend."""

from __future__ import annotations

import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import pytest
import rdflib

from loaders.vocab import OG, SH, STATIC, Minter

BATCH = 10


def report_outcomes(report: rdflib.Graph) -> dict[str, dict]:
    """Per focus node: {"reasons": {(definition, requirement, kind)}, "warnings": {component}, "classes":
    {failed class shape}} from a pySHACL report over the generated shapes."""
    from server.assess.shacl import shapes_graph

    shapes = shapes_graph()
    out: dict[str, dict] = {}
    for result in report.objects(None, SH.result):  # top-level results, not sh:detail ones
        severity = report.value(result, SH.resultSeverity)
        shape = report.value(result, SH.sourceShape)
        constraint = report.value(result, SH.sourceConstraint)
        focus = str(report.value(result, SH.focusNode))
        entry = out.setdefault(focus, {"reasons": set(), "warnings": set(), "classes": set()})
        definition = str(shape)[len(f"{STATIC}shapes/"):].split("#", 1)[0]
        if severity == SH.Violation:
            kind = shapes.value(constraint, OG.reasonKind) if constraint is not None else None
            kind = kind or shapes.value(shape, OG.reasonKind)
            requirement = shapes.value(shape, OG.requirementId)
            assert kind is not None and requirement is not None, (shape, constraint)
            entry["reasons"].add((definition, str(requirement), str(kind).rsplit("/", 1)[-1]))
        elif severity == SH.Warning and definition == "mof-1.0":
            entry["warnings"].add(str(shapes.value(shape, OG.component)))
        elif severity == SH.Info and definition == "mof-1.0":
            entry["classes"].add(int(shapes.value(shape, OG.mofClass)))
    return out


def validate_record_batch(paths: list[tuple[str, object]]) -> tuple[dict[str, dict], float]:
    """pySHACL over some bundled records at once: their outcomes by record id, and the seconds it took."""
    from server.assess.shacl import data_graph, validate_graph
    from server.ingest.loading import read_record

    graph = rdflib.Graph()
    iris = {}
    for path, info in paths:
        record = read_record(Path(path), Minter(), info)
        graph += record.graph
        iris[str(record.iri)] = record.record_id
    start = time.perf_counter()
    _ok, report = validate_graph(data_graph(graph))
    elapsed = time.perf_counter() - start
    outcomes = report_outcomes(report)
    empty = {"reasons": set(), "warnings": set(), "classes": set()}
    return {record_id: outcomes.get(iri, empty) for iri, record_id in iris.items()}, elapsed


def _lowest_priority() -> None:
    os.nice(19)


class BundledRecordsValidation:
    """The batches of every bundled record, submitted to two worker processes at the lowest priority."""

    def __init__(self) -> None:
        from server.ingest.loading import bundled_files

        files = [(str(path), info) for path, info in bundled_files()]
        self.records = len(files)
        self.workers = max(1, min(2, os.cpu_count() or 1))
        self.pool = ProcessPoolExecutor(self.workers, initializer=_lowest_priority)
        self.futures: list[Future] = [self.pool.submit(validate_record_batch, files[i:i + BATCH])
                                      for i in range(0, len(files), BATCH)]

    def outcomes(self) -> dict[str, dict]:
        """Every record's outcomes, once the batches are done; prints how long the test waited for them."""
        start = time.perf_counter()
        outcomes: dict[str, dict] = {}
        cpu = 0.0
        done_before = sum(f.done() for f in self.futures)
        for future in self.futures:
            part, elapsed = future.result()
            outcomes.update(part)
            cpu += elapsed
        self.close()
        print(f"\npySHACL over {self.records} bundled records: {cpu:.1f} s in pySHACL "
              f"({cpu / self.records * 1000:.0f} ms/record), {len(self.futures)} batches of {BATCH} on "
              f"{self.workers} workers; {done_before} batches were done in the background, "
              f"waited {time.perf_counter() - start:.1f} s for the rest")
        return outcomes

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


# where conftest.py keeps the run it started for the session
BUNDLED_VALIDATION = pytest.StashKey[BundledRecordsValidation]()
