"""Validating one record without storing it: the same loaders and the same engine as ``openness assess``,
run on a private in-memory store that holds only this record and the reference facts it needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import pyoxigraph as ox
import rdflib

from loaders.bundled_data import data_file
from loaders.datasets_kb import dataset_graph, load_kb
from loaders.detect import load_text
from loaders.errors import RecordError
from loaders.record import LoadedRecord
from loaders.vocab import Minter, bind_prefixes
from server.assess.definitions import BY_ID
from server.assess.engine import LicenseFacts, assess_record, read_licenses, read_records
from server.store import OxigraphStore, graph_quads


@cache
def _license_facts() -> dict[str, LicenseFacts]:
    store = OxigraphStore(None)
    store.oxigraph.load(path=str(data_file("licenses", "license-kb.ttl")), format=ox.RdfFormat.TURTLE,
                        to_graph=ox.NamedNode("urn:licenses"))
    return read_licenses(store)


@cache
def _dataset_quads(base_iri: str) -> tuple[ox.Quad, ...]:
    return tuple(graph_quads(dataset_graph(load_kb(), Minter(base_iri)), "urn:datasets"))


@dataclass
class Outcome:
    verdict: dict
    record: LoadedRecord | None = None
    problems: list[dict] = field(default_factory=list)

    def report_turtle(self) -> str:
        """The SHACL validation report of the record against the shapes (pySHACL)."""
        from server.assess.shacl import validation_report

        if self.record is None:
            graph = rdflib.Graph()
            bind_prefixes(graph)
            return graph.serialize(format="turtle")
        return validation_report(self.record.graph).serialize(format="turtle")

    def text(self) -> str:
        v = self.verdict
        lines = [f"{v['id']} ({v['name']}): {'well formed' if v['well_formed'] else 'NOT well formed'}"]
        lines += [f"  problem: {p['message']}" for p in v["problems"]]
        for def_id, result in v["verdicts"].items():
            if "verdict" in result:
                head = result["verdict"]
            elif "class" in result:
                head = f"class {result['class']} (progress {result['progress']})"
            else:
                head = f"score {result['score']}"
            lines.append(f"  {def_id}: {head}")
            lines += [f"    - [{r['kind']}] {r['component']}: {r['message']}" for r in result.get("reasons", [])]
        return "\n".join(lines)


def validate_text(text: str, file_name: str, settings, *, definition: str | None = None,
                  kind: str | None = None) -> Outcome:
    """Assess one record held in ``text``. Raises KeyError for an unknown definition id."""
    if definition is not None and definition not in BY_ID:
        raise KeyError(f"unknown definition {definition!r}; one of: {', '.join(BY_ID)}")
    minter = Minter(settings.base_iri)
    try:
        record = load_text(text, file_name, minter, kind=kind)
    except RecordError as exc:
        return refused(exc)
    return validate_record(record, settings, definition=definition)


def refused(exc: RecordError) -> Outcome:
    """The outcome of a record that could not be loaded: not well formed, the loader's reason as problem."""
    problem = {"message": exc.message, "file": exc.file, "line": exc.line, "column": exc.column}
    return Outcome({"id": None, "name": None, "well_formed": False, "problems": [problem], "verdicts": {}},
                   None, [problem])


def validate_record(record: LoadedRecord, settings, *, definition: str | None = None) -> Outcome:
    """Assess one record already loaded (e.g. a Hugging Face Hub model fetched by the ingest wing)."""
    if definition is not None and definition not in BY_ID:
        raise KeyError(f"unknown definition {definition!r}; one of: {', '.join(BY_ID)}")
    minter = Minter(settings.base_iri)
    from server.assess.shacl import record_problems

    problems = record_problems(record.graph)
    store = OxigraphStore(None)
    store.bulk_add(graph_quads(record.graph, record.graph_iri))
    store.bulk_add(_dataset_quads(minter.base))
    facts = read_records(store)
    result = assess_record(facts[str(record.iri)], _license_facts())
    result["well_formed"] = not problems
    result["problems"] = problems
    if definition is not None:
        result["verdicts"] = {definition: result["verdicts"][definition]}
    return Outcome(result, record, problems)
