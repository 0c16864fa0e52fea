"""The stored verdicts: the quads of an assessment run, and how a run becomes the current one.

Layout. Each run's verdicts live in a named graph of their own, a *run graph*. The assessments graph
(``Minter.assessments_graph``) holds only the pointer ``<assessments> dcat:hasCurrentVersion <run graph>``
(DCAT 3 versioning) and the run graphs waiting to be dropped (``og:graphToDrop``). Readers join through the
pointer (:func:`current_run_pattern`), so they see one complete run or none, never a run cut off part-way.

Writing a run. Each run first drops what earlier runs left behind (below). A run whose verdicts equal
the current run's (same digest) then only rewrites the run's time. Up to ``STREAM_RECORDS`` records, a
store that can (embedded Oxigraph, when the difference is at most ``LARGE_DIFF`` quads) replaces the
current run graph in place, in one transaction. Otherwise (remote stores, whose large graphs take many
requests; large changes; streamed runs) the run is written into a new run graph, marked
``og:graphToDrop`` before its first quad; one small update then switches the pointer to it and marks
the previous run graph instead, which is dropped last. A crash or a store that goes away at any point
leaves the pointer on a complete run and what was left behind marked, for the next run to drop. Until
then a cut-off run graph is visible to queries that read the union default graph without following
the pointer (the gallery's examples follow it)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

import orjson
import pyoxigraph as ox
from rdflib import RDF, XSD, URIRef

from loaders.vocab import DCAT, DEFN, FLAG, OG, PROV, REASON, STATIC, VERDICT, Minter
from server.assess.cube import Tally, counts_payload, cube_nquads
from server.assess.definitions import BY_ID, DEFINITIONS, ENGINE_VERSION, SHAPES_VERSION
from server.store import GraphStore, StoreError, to_ox
from server.store.nquads import iri, line, literal, parse_lines

log = logging.getLogger("openness.verdicts")

# Above this many records an embedded run is streamed into a new run graph by the bulk loader: 100k
# records' ~9.5M quads as one list and one transaction took the embedded store past 20 GB and the OOM
# killer, and at 10k records streaming took 32 s and 1.2-1.9 GB against 94 s and 3.2 GB (bench/RESULTS.md).
STREAM_RECORDS = 5_000


@dataclass(frozen=True)
class CurrentRun:
    """The run graph the pointer names, and the digest stored in it (None if it has none)."""

    graph: str
    digest: str | None


@dataclass(frozen=True)
class InputDigests:
    """What a run's verdicts were computed from, stored with them (og:assessedDigest) so a later run
    re-evaluates only what changed (``server.assess.incremental``): the reference inputs (engine and shapes
    versions, reference graphs), and each record's and release's inputs, by IRI ('' when unknown)."""

    run: str = ""
    records: dict[str, str] = field(default_factory=dict)
    releases: dict[str, str] = field(default_factory=dict)


def current_run_pattern(minter: Minter, var: str = "?run") -> str:
    """A SPARQL pattern binding ``var`` to the current run graph: ``GRAPH ?run { ... }`` after it reads
    the current verdicts only."""
    pointer = minter.assessments_graph
    return f"GRAPH <{pointer}> {{ <{pointer}> <{DCAT.hasCurrentVersion}> {var} }}"


def current_run(store: GraphStore, minter: Minter) -> CurrentRun | None:
    """The current run, or None when nothing was assessed yet (or only by a version before run graphs).
    Two pointers can only come from two writers at once: then the newest run (names begin with the start
    time) is current, and the next run drops the other."""
    rows = store.select(f"""SELECT ?run ?digest WHERE {{ {current_run_pattern(minter)}
  OPTIONAL {{ GRAPH ?run {{ ?activity <{OG.verdictsDigest}> ?digest }} }} }}""")
    if not rows:
        return None
    graph = max(r["run"].value for r in rows)
    digests = {r["digest"].value for r in rows if r["run"].value == graph and "digest" in r}
    return CurrentRun(graph, digests.pop() if len(digests) == 1 else None)


def new_run_graph_iri(minter: Minter) -> str:
    """A run graph's name: its start time and a random tag (never the name of the current run graph,
    which a run written in place may have kept for years)."""
    return f"{minter.assessments_graph}/{datetime.now(UTC):%Y-%m-%dT%H-%M-%SZ}-{secrets.token_hex(4)}"


def store_verdicts(store: GraphStore, minter: Minter, results: list[dict], releases: Iterable[dict] = (),
                   inputs: InputDigests | None = None, tally: Tally | None = None) -> None:
    """Store a run's verdicts (records' and releases') and its statistics cube (``tally``, complete once
    ``releases`` is consumed) so that readers switch from the previous complete run to this one at once.
    With the releases' input digests, a large run takes ``releases`` as an iterable and never holds them
    all: their verdicts and the cube follow from their inputs, so the digest needs only those."""
    inputs = inputs or InputDigests()
    streamed = bool(inputs.releases) and len(results) > STREAM_RECORDS
    if not streamed:
        releases = list(releases)
    digest = verdicts_digest(results, () if inputs.releases else releases, inputs,
                             None if inputs.releases else tally)
    current = current_run(store, minter)
    _drop_leftovers(store, minter, current)
    if current and current.digest == digest:
        _touch(store, current.graph)
        log.info("assessed %d records and their releases against %d definitions: verdicts unchanged",
                 len(results), len(DEFINITIONS))
        return
    in_place = (current is not None and not streamed
                and store.replace_graph_atomically(current.graph, verdict_quads(results, minter, digest,
                                                                                current.graph, releases, inputs,
                                                                                tally)))
    if not in_place:
        _write_new_run(store, minter, results, releases, digest, current, inputs, tally)
    log.info("assessed %d records and their releases against %d definitions", len(results), len(DEFINITIONS))


def _touch(store: GraphStore, graph: str) -> None:
    """Same verdicts as stored: only the run's time changes (one small update)."""
    run, ended = f"{graph}#run", PROV.endedAtTime
    store.update(f"""DELETE {{ GRAPH <{graph}> {{ <{run}> <{ended}> ?t }} }}
INSERT {{ GRAPH <{graph}> {{ <{run}> <{ended}> {now_literal()} }} }}
WHERE {{ GRAPH <{graph}> {{ <{run}> <{ended}> ?t }} }}""")


def _drop_leftovers(store: GraphStore, minter: Minter, current: CurrentRun | None) -> None:
    """Drop what earlier runs left: graphs marked og:graphToDrop (cut off, or superseded but not dropped)
    and runs a second pointer names. With no current run the assessments graph itself is cleared too: it
    may hold verdicts a version before run graphs wrote in place. Failures are logged, not raised: nothing
    reads these graphs, and the next run tries again."""
    pointer = minter.assessments_graph
    rows = store.select(f"SELECT ?p ?g WHERE {{ GRAPH <{pointer}> {{ <{pointer}> ?p ?g }} }}")
    leftovers = [(URIRef(r["p"].value), r["g"].value) for r in rows
                 if r["p"].value in (str(OG.graphToDrop), str(DCAT.hasCurrentVersion))
                 and r["g"].value != (current.graph if current else None)]
    try:
        if current is None:
            store.drop_large_graphs([graph for _, graph in leftovers] + [pointer])
        elif leftovers:
            log.info("dropping %d run graph(s) an earlier assessment left behind", len(leftovers))
            store.drop_large_graphs(dict.fromkeys(graph for _, graph in leftovers))
            store.update(f"DELETE DATA {{ {_pointer_triples(pointer, leftovers)} }}")
    except StoreError as exc:
        log.warning("graphs left by an earlier assessment were not dropped (%s); the next assessment retries",
                    exc)


def _write_new_run(store: GraphStore, minter: Minter, results: list[dict], releases: Iterable[dict], digest: str,
                   current: CurrentRun | None, inputs: InputDigests, tally: Tally | None) -> None:
    """Write the run into a graph of its own, then switch the pointer to it in one small update."""
    pointer, new = minter.assessments_graph, new_run_graph_iri(minter)
    store.update(f"INSERT DATA {{ {_pointer_triples(pointer, [(OG.graphToDrop, new)])} }}")
    if len(results) > STREAM_RECORDS:  # ~95 quads per record: a list and one transaction would not fit
        store.add_large_graph(new, iter_verdict_nquads(results, minter, digest, new, releases, inputs, tally))
    else:
        store.replace_quads({new: verdict_quads(results, minter, digest, new, releases, inputs, tally)})
    # one operation, so one transaction on every engine: the pointer moves and the previous run is marked.
    # Constant templates: Virtuoso skips a whole template when one of its variables is unbound.
    removed = [(OG.graphToDrop, new)] + ([(DCAT.hasCurrentVersion, current.graph)] if current else [])
    added = [(DCAT.hasCurrentVersion, new)] + ([(OG.graphToDrop, current.graph)] if current else [])
    store.update(f"DELETE {{ {_pointer_triples(pointer, removed)} }}\n"
                 f"INSERT {{ {_pointer_triples(pointer, added)} }} WHERE {{}}")
    if current:  # no longer read; marked, so if this fails the next run drops it
        try:
            store.drop_large_graphs([current.graph])
            store.update(f"DELETE DATA {{ {_pointer_triples(pointer, [(OG.graphToDrop, current.graph)])} }}")
        except StoreError as exc:
            log.warning("the previous run graph <%s> was not dropped (%s); the next assessment drops it",
                        current.graph, exc)


def _pointer_triples(pointer: str, about: list[tuple[URIRef, str]]) -> str:
    """Statements of the assessments graph about itself, as the body of a DATA block or template."""
    triples = " . ".join(f"<{pointer}> <{predicate}> <{graph}>" for predicate, graph in about)
    return f"GRAPH <{pointer}> {{ {triples} }}"


def verdict_quads(results: list[dict], minter: Minter, digest: str, graph_iri: str,
                  releases: list[dict] = (), inputs: InputDigests | None = None,
                  tally: Tally | None = None) -> list[ox.Quad]:
    """The verdicts as a list of quads (see :func:`iter_verdict_nquads`)."""
    return parse_lines(iter_verdict_nquads(results, minter, digest, graph_iri, releases, inputs, tally))


def iter_verdict_nquads(results: list[dict], minter: Minter, digest: str, graph_iri: str,
                        releases: Iterable[dict] = (), inputs: InputDigests | None = None,
                        tally: Tally | None = None) -> Iterator[str]:
    """A whole run graph as N-Quads lines: the assessments (:func:`assessment_nquads`), the statistics cube
    when given (its counts are complete once the releases are consumed), then the run itself (a
    prov:Activity) with its time, digests and the engine and shapes versions."""
    inputs = inputs or InputDigests()
    yield from assessment_nquads(results, releases, minter, graph_iri, inputs, tally)
    if tally is not None:
        yield from cube_nquads(tally.counts, graph_iri, minter)
    yield from run_nquads(graph_iri, digest, inputs.run)


def run_nquads(graph_iri: str, digest: str, inputs_digest: str) -> list[str]:
    """The run's own statements, its verdicts digest last: they come last in a run graph, so one cut off
    part-way has no digest."""
    graph, activity = iri(graph_iri), iri(f"{graph_iri}#run")
    return [line(activity, _term(predicate), obj, graph) for predicate, obj in (
        (RDF.type, _term(PROV.Activity)), (PROV.endedAtTime, str(now_literal())),
        (OG.engineVersion, literal(ENGINE_VERSION)), (OG.shapesVersion, literal(SHAPES_VERSION)),
        (OG.assessedDigest, literal(inputs_digest)), (OG.verdictsDigest, literal(digest)))]


# the predicates and classes of assessments, as N-Quads terms
_P = {name: iri(str(term)) for name, term in (
    ("type", RDF.type), ("record", OG.assessedRecord), ("definition", OG.definition), ("run", PROV.wasGeneratedBy),
    ("verdict", OG.verdict), ("class", OG.mofClass), ("score", OG.score), ("grade", OG.hasGrade),
    ("dimension", OG.indexDimension), ("index_grade", OG.indexGrade), ("reason", OG.hasReason),
    ("requirement", OG.requirement), ("kind", OG.reasonKind), ("component", OG.component), ("message", OG.message),
    ("assessed", OG.assessedDigest), ("cells", OG.cubeCells), ("release", OG.assessedRelease),
    ("based", OG.basedOnRecord), ("rule", OG.consolidationRule), ("has_flag", OG.hasFlag),
    ("flag_kind", OG.flagKind), ("about", OG.aboutRecord), ("says", OG.says), ("statement", OG.hasStatement),
    ("failed", OG.failedRequirement), ("derived", PROV.wasDerivedFrom),
    ("Assessment", OG.Assessment), ("Reason", OG.Reason), ("Flag", OG.Flag))}
_PROGRESS = {cls: iri(str(OG[f"progressClass{cls}"])) for cls in ("1", "2", "3")}


def assessment_nquads(results: list[dict], releases: Iterable[dict], minter: Minter, graph_iri: str,
                      inputs: InputDigests, tally: Tally | None = None) -> Iterator[str]:
    """The assessments of some records and releases as N-Quads lines, record by record: one og:Assessment per
    (record, definition), with IRIs minted from it. A reason is a value (requirement, component, kind,
    message) shared by every assessment that has it, with an IRI minted from its content under its
    requirement: records fail in the same ways, so this keeps the graph ~3x smaller. An Index grade
    (dimension, grade) is such a value too: 12 quads per record instead of 36. Each record and release also
    gets the digest of the inputs its verdicts come from (og:assessedDigest) and, with a ``tally``, the cube
    cells it is counted in (og:cubeCells)."""
    p, graph, activity = _P, iri(graph_iri), iri(f"{graph_iri}#run")
    reasons: dict[tuple, str] = {}
    grades: dict[tuple[str, str], str] = {}
    for result in results:
        record_iri = minter.record(result["id"])
        record = iri(record_iri)
        lines = [line(record, p["assessed"], literal(inputs.records.get(record_iri, "")), graph)]
        if tally is not None:
            lines.append(line(record, p["cells"], literal(tally.cells_text(record_iri)), graph))
        for def_id, verdict in result["verdicts"].items():
            definition = BY_ID[def_id].iri
            node = iri(minter.assessment(result["id"], def_id))
            lines += [line(node, p["type"], p["Assessment"], graph), line(node, p["record"], record, graph),
                      line(node, p["definition"], _term(definition), graph), line(node, p["run"], activity, graph)]
            lines += _value_nquads(node, definition, verdict, grades, graph)
            for reason in verdict.get("reasons", []):
                key = (def_id, reason["requirement"], reason["component"], reason["kind"], reason["message"])
                reason_node = reasons.get(key)
                if reason_node is None:
                    reason_node = reasons[key] = _reason_iri(definition, key)
                    lines += _reason_nquads(reason_node, definition, reason, graph)
                lines.append(line(node, p["reason"], reason_node, graph))
        yield from lines
    yield from _release_nquads(releases, minter, graph, activity, reasons, grades, inputs, tally)


def _release_nquads(releases: Iterable[dict], minter: Minter, graph: str, activity: str, reasons: dict[tuple, str],
                    grades: dict[tuple[str, str], str], inputs: InputDigests, tally: Tally | None) -> Iterator[str]:
    """A release's consolidated assessments (one per definition, naming the records they rest on), its
    reasons (shared by content; with records only where a reason rests on other records than the release's
    own) and its flags. A release whose verdicts equal its one record's shares the record's assessment nodes (two quads
    per definition instead of a copy: most releases have one record)."""
    p = _P
    for result in releases:
        release_iri = minter.release(result["id"])
        release = iri(release_iri)
        records = {rid: iri(minter.record(rid)) for rid in result["records"]}
        lines = [line(release, p["assessed"], literal(inputs.releases.get(release_iri, "")), graph)]
        if tally is not None:  # the caller counted the release before handing it over
            lines.append(line(release, p["cells"], literal(tally.cells_text(release_iri)), graph))
        shared = result.get("shared") or {}
        for def_id, rid in shared.items():  # the record's assessment says it all: it is the release's too
            node = iri(minter.assessment(rid, def_id))
            lines += [line(node, p["release"], release, graph),
                      line(node, p["based"], iri(minter.record(rid)), graph)]
        for def_id, verdict in result["verdicts"].items():
            if def_id in shared:
                continue
            definition = BY_ID[def_id].iri
            node = iri(f"{release_iri}/assessments#{def_id}")
            lines += [line(node, p["type"], p["Assessment"], graph), line(node, p["release"], release, graph),
                      line(node, p["definition"], _term(definition), graph), line(node, p["run"], activity, graph)]
            lines += [line(node, p["based"], rec, graph) for rec in records.values()]
            lines += _value_nquads(node, definition, verdict, grades, graph)
            for reason in verdict.get("reasons", []):
                # a reason that rests on the release's own records (or on every record of the assessment)
                # names none: the assessment's og:basedOnRecord says it, and the node is shared with equal
                # reasons. One that rests on a family, base or other record names them.
                rests_on = reason.get("records") or []
                own = [] if rests_on in (result["records"], result.get("described_by")) else list(rests_on)
                reason = {**reason, "records": own}
                key = (def_id, reason["requirement"], reason["component"], reason["kind"], reason["message"],
                       *own, reason.get("rule") or "")
                if not own and not reason.get("rule"):
                    key = key[:5]
                reason_node = reasons.get(key)
                if reason_node is None:
                    reason_node = reasons[key] = _reason_iri(definition, key)
                    lines += _reason_nquads(reason_node, definition, reason, graph)
                    lines += [line(reason_node, p["based"], iri(minter.record(rid)), graph)
                              for rid in reason.get("records", ())]
                    if reason.get("rule"):
                        lines.append(line(reason_node, p["rule"], literal(reason["rule"]), graph))
                lines.append(line(node, p["reason"], reason_node, graph))
        for flag in result["flags"]:
            tag = hashlib.sha256(orjson.dumps(flag, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
            flag_iri = f"{release_iri}#flag-{tag}"
            node = iri(flag_iri)
            lines += [line(release, p["has_flag"], node, graph), line(node, p["type"], p["Flag"], graph),
                      line(node, p["flag_kind"], iri(f"{FLAG}{flag['kind']}"), graph),
                      line(node, p["message"], literal(flag["message"]), graph), line(node, p["run"], activity, graph)]
            if flag.get("component"):
                lines.append(line(node, p["component"], literal(flag["component"]), graph))
            if flag.get("rule"):
                lines.append(line(node, p["rule"], literal(flag["rule"]), graph))
            flagged = flag.get("records") or ([flag["record"]] if flag.get("record") else [])
            lines += [line(node, p["about"], iri(minter.record(rid)), graph) for rid in flagged]
            for i, st in enumerate(flag.get("statements", [])):
                said = iri(f"{flag_iri}-{i}")
                lines += [line(node, p["statement"], said, graph),
                          line(said, p["based"], iri(minter.record(st["record"])), graph),
                          line(said, p["says"], literal(st["says"]), graph)]
            lines += [line(node, p["failed"], iri(f"{DEFN}{req}"), graph) for req in flag.get("failed", [])]
            if flag.get("claim", {}).get("iri"):
                lines.append(line(node, p["derived"], iri(flag["claim"]["iri"]), graph))
        yield from lines


def _value_nquads(node: str, definition: URIRef, verdict: dict, grades: dict[tuple[str, str], str],
                  graph: str) -> list[str]:
    """What an assessment says: its verdict, MOF class and progress, Index score and grades (a grade is a
    value node shared by every assessment that has it, its own statements written once per run)."""
    p = _P
    lines = []
    if "verdict" in verdict:
        lines.append(line(node, p["verdict"], _term(VERDICT[verdict["verdict"]]), graph))
    if "class" in verdict:
        lines.append(line(node, p["class"], literal(str(verdict["class"]), XSD_INTEGER), graph))
        lines += [line(node, _PROGRESS[str(cls)], _decimal(value), graph) for cls, value in verdict["progress"].items()]
    if verdict.get("score") is not None:
        lines.append(line(node, p["score"], _decimal(verdict["score"]), graph))
    for dim, grade in verdict.get("dimensions", {}).items():
        grade_node = grades.get((dim, grade))
        if grade_node is None:
            grade_node = grades[dim, grade] = iri(f"{definition}/{dim}#grade-{grade}")
            lines += [line(grade_node, p["dimension"], literal(dim), graph),
                      line(grade_node, p["index_grade"], iri(f"{STATIC}grade/{grade}"), graph)]
        lines.append(line(node, p["grade"], grade_node, graph))
    return lines


def _reason_iri(definition: URIRef, key: tuple[str, ...]) -> str:
    """A reason's IRI (an N-Quads term), from its content (definition, requirement, component, kind,
    message): equal reasons share one node, in every run."""
    requirement = key[1]
    tag = hashlib.sha256("\x1f".join(key).encode()).hexdigest()[:16]
    return iri(f"{definition}/{requirement}#reason-{tag}" if requirement else f"{definition}#reason-{tag}")


def _reason_nquads(node: str, definition: URIRef, reason: dict, graph: str) -> list[str]:
    """The reason node's own statements, written once per run however many assessments share it."""
    p = _P
    lines = [line(node, p["type"], p["Reason"], graph),
             line(node, p["kind"], _term(REASON[reason["kind"]]), graph),
             line(node, p["component"], literal(reason["component"]), graph),
             line(node, p["message"], literal(reason["message"]), graph)]
    if reason["requirement"]:
        lines.append(line(node, p["requirement"], iri(f"{definition}/{reason['requirement']}"), graph))
    return lines


@lru_cache(maxsize=256)
def _term(term: URIRef) -> str:
    """A vocabulary term (a definition, a verdict) as an N-Quads term, made once per run, not per quad."""
    return iri(str(term))


XSD_INTEGER, XSD_DECIMAL = str(XSD.integer), str(XSD.decimal)


@lru_cache(maxsize=4096, typed=True)  # typed: 1 and 1.0 are written differently
def _decimal(value: float | int | str) -> str:
    """xsd:decimal from ``value``'s shortest round-trip text (``Decimal(0.1)`` would write 55 digits)."""
    return literal(str(Decimal(str(value))), XSD_DECIMAL)


def verdicts_digest(results: list[dict], releases: list[dict] = (), inputs: InputDigests | None = None,
                    tally: Tally | None = None) -> str:
    """What a run produced, in one string: equal digests mean equal assessments graphs (but for time). A
    release's verdict shared with its record's is in the digest by reference: the record's is there. With
    the releases' input digests (which cover their records' contents and identity) the releases' verdicts
    and the cube need not be in it: the same engine gives the same verdicts and counts on the same inputs.
    Hashed piece by piece (each piece a JSON value, so the sequence reads back one way): the whole run as
    one JSON text was ~490 MB at 100k records."""
    digest = hashlib.sha256()

    def add(value) -> None:
        digest.update(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))

    add({"engine": ENGINE_VERSION, "shapes": SHAPES_VERSION, "results": len(results), "releases": len(releases)})
    for result in results:
        add(result)
    for release in releases:
        shared = release.get("shared", {})
        add({**release, "verdicts": {d: v for d, v in release["verdicts"].items() if d not in shared}})
    add(inputs and [inputs.run, inputs.records, inputs.releases])
    add(tally and [counts_payload(tally.counts), tally.tokens])
    return digest.hexdigest()


def now_literal() -> ox.Literal:
    """The current time as an xsd:dateTime literal (whole seconds, UTC)."""
    return ox.Literal(datetime.now(UTC).replace(microsecond=0).isoformat(), datatype=to_ox(XSD.dateTime))


