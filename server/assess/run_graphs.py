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
from server.assess.cube import Tally, counts_payload, cube_quads
from server.assess.definitions import BY_ID, DEFINITIONS, ENGINE_VERSION, SHAPES_VERSION
from server.store import GraphStore, StoreError, to_ox

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
        store.add_large_graph(new, iter_verdict_quads(results, minter, digest, new, releases, inputs, tally))
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
    """The verdicts as a list of quads (see :func:`iter_verdict_quads`)."""
    return list(iter_verdict_quads(results, minter, digest, graph_iri, releases, inputs, tally))


def iter_verdict_quads(results: list[dict], minter: Minter, digest: str, graph_iri: str,
                       releases: Iterable[dict] = (), inputs: InputDigests | None = None,
                       tally: Tally | None = None) -> Iterator[ox.Quad]:
    """A whole run graph: the assessments (:func:`assessment_quads`), the statistics cube when given (its
    counts are complete once the releases are consumed), then the run itself (a prov:Activity) with its
    time, digests and the engine and shapes versions."""
    inputs = inputs or InputDigests()
    yield from assessment_quads(results, releases, minter, graph_iri, inputs, tally)
    if tally is not None:
        yield from cube_quads(tally.counts, graph_iri, minter)
    yield from run_quads(graph_iri, digest, inputs.run)


def run_quads(graph_iri: str, digest: str, inputs_digest: str) -> list[ox.Quad]:
    """The run's own statements, its verdicts digest last: they come last in a run graph, so one cut off
    part-way has no digest."""
    graph, activity = ox.NamedNode(graph_iri), ox.NamedNode(f"{graph_iri}#run")
    return [ox.Quad(activity, to_ox(predicate), obj, graph) for predicate, obj in (
        (RDF.type, to_ox(PROV.Activity)), (PROV.endedAtTime, now_literal()),
        (OG.engineVersion, ox.Literal(ENGINE_VERSION)), (OG.shapesVersion, ox.Literal(SHAPES_VERSION)),
        (OG.assessedDigest, ox.Literal(inputs_digest)), (OG.verdictsDigest, ox.Literal(digest)))]


def assessment_quads(results: list[dict], releases: Iterable[dict], minter: Minter, graph_iri: str,
                     inputs: InputDigests, tally: Tally | None = None) -> Iterator[ox.Quad]:
    """The assessments of some records and releases, record by record: one og:Assessment per (record,
    definition), with IRIs minted from it. A reason is a value (requirement, component, kind, message)
    shared by every assessment that has it, with an IRI minted from its content under its requirement:
    records fail in the same ways, so this keeps the graph ~3x smaller. An Index grade (dimension, grade)
    is such a value too: 12 quads per record instead of 36. Each record and release also gets the digest
    of the inputs its verdicts come from (og:assessedDigest) and, with a ``tally``, the cube cells it is
    counted in (og:cubeCells)."""
    graph = ox.NamedNode(graph_iri)
    quad = ox.Quad
    p = {name: to_ox(term) for name, term in (
        ("type", RDF.type), ("record", OG.assessedRecord), ("definition", OG.definition),
        ("run", PROV.wasGeneratedBy), ("verdict", OG.verdict), ("class", OG.mofClass), ("score", OG.score),
        ("grade", OG.hasGrade), ("dimension", OG.indexDimension), ("index_grade", OG.indexGrade),
        ("reason", OG.hasReason), ("requirement", OG.requirement), ("kind", OG.reasonKind),
        ("component", OG.component), ("message", OG.message))}
    assessed, counted = to_ox(OG.assessedDigest), to_ox(OG.cubeCells)
    assessment_class, reason_class = to_ox(OG.Assessment), to_ox(OG.Reason)
    progress = {cls: to_ox(OG[f"progressClass{cls}"]) for cls in ("1", "2", "3")}
    activity = ox.NamedNode(f"{graph_iri}#run")
    reasons: dict[tuple, ox.NamedNode] = {}
    grades: dict[tuple[str, str], ox.NamedNode] = {}
    for result in results:
        record = ox.NamedNode(minter.record(result["id"]))
        quads: list[ox.Quad] = [quad(record, assessed, ox.Literal(inputs.records.get(record.value, "")), graph)]
        if tally is not None:
            quads.append(quad(record, counted, ox.Literal(tally.cells_text(record.value)), graph))
        for def_id, verdict in result["verdicts"].items():
            definition = BY_ID[def_id].iri
            node = ox.NamedNode(minter.assessment(result["id"], def_id))
            quads += [quad(node, p["type"], assessment_class, graph), quad(node, p["record"], record, graph),
                      quad(node, p["definition"], _node(definition), graph), quad(node, p["run"], activity, graph)]
            quads += _value_quads(node, definition, verdict, p, progress, grades, graph)
            for reason in verdict.get("reasons", []):
                key = (def_id, reason["requirement"], reason["component"], reason["kind"], reason["message"])
                reason_node = reasons.get(key)
                if reason_node is None:
                    reason_node = reasons[key] = _reason_iri(definition, key)
                    quads += _reason_quads(reason_node, definition, reason, p, reason_class, graph)
                quads.append(quad(node, p["reason"], reason_node, graph))
        yield from quads
    yield from _release_quads(releases, minter, graph, activity, p, reasons, grades, inputs, tally)


def _release_quads(releases: Iterable[dict], minter: Minter, graph: ox.NamedNode, activity: ox.NamedNode,
                   p: dict[str, ox.NamedNode], reasons: dict[tuple, ox.NamedNode],
                   grades: dict[tuple[str, str], ox.NamedNode], inputs: InputDigests,
                   tally: Tally | None) -> Iterator[ox.Quad]:
    """A release's consolidated assessments (one per definition, naming the records they rest on), its
    reasons (shared by content; with records only where a reason rests on other records than the release's
    own) and its flags. A release whose verdicts equal its one record's shares the record's assessment nodes (two quads
    per definition instead of a copy: most releases have one record)."""
    quad, lit = ox.Quad, ox.Literal
    t = {name: to_ox(term) for name, term in (
        ("release", OG.assessedRelease), ("based", OG.basedOnRecord), ("rule", OG.consolidationRule),
        ("has_flag", OG.hasFlag), ("flag_kind", OG.flagKind), ("about", OG.aboutRecord), ("says", OG.says),
        ("statement", OG.hasStatement), ("failed", OG.failedRequirement), ("derived", PROV.wasDerivedFrom))}
    assessment_class, reason_class, flag_class = to_ox(OG.Assessment), to_ox(OG.Reason), to_ox(OG.Flag)
    progress = {cls: to_ox(OG[f"progressClass{cls}"]) for cls in ("1", "2", "3")}
    assessed = to_ox(OG.assessedDigest)
    for result in releases:
        release = ox.NamedNode(minter.release(result["id"]))
        records = {rid: ox.NamedNode(minter.record(rid)) for rid in result["records"]}
        quads = [quad(release, assessed, ox.Literal(inputs.releases.get(release.value, "")), graph)]
        if tally is not None:  # the caller counted the release before handing it over
            quads.append(quad(release, to_ox(OG.cubeCells), ox.Literal(tally.cells_text(release.value)), graph))
        shared = result.get("shared") or {}
        for def_id, rid in shared.items():  # the record's assessment says it all: it is the release's too
            node = ox.NamedNode(minter.assessment(rid, def_id))
            quads += [quad(node, t["release"], release, graph),
                      quad(node, t["based"], ox.NamedNode(minter.record(rid)), graph)]
        for def_id, verdict in result["verdicts"].items():
            if def_id in shared:
                continue
            definition = BY_ID[def_id].iri
            node = ox.NamedNode(f"{release.value}/assessments#{def_id}")
            quads += [quad(node, p["type"], assessment_class, graph), quad(node, t["release"], release, graph),
                      quad(node, p["definition"], _node(definition), graph), quad(node, p["run"], activity, graph)]
            quads += [quad(node, t["based"], rec, graph) for rec in records.values()]
            quads += _value_quads(node, definition, verdict, p, progress, grades, graph)
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
                    quads += _reason_quads(reason_node, definition, reason, p, reason_class, graph)
                    quads += [quad(reason_node, t["based"], ox.NamedNode(minter.record(rid)), graph)
                              for rid in reason.get("records", ())]
                    if reason.get("rule"):
                        quads.append(quad(reason_node, t["rule"], lit(reason["rule"]), graph))
                quads.append(quad(node, p["reason"], reason_node, graph))
        for flag in result["flags"]:
            tag = hashlib.sha256(orjson.dumps(flag, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
            node = ox.NamedNode(f"{release.value}#flag-{tag}")
            quads += [quad(release, t["has_flag"], node, graph), quad(node, p["type"], flag_class, graph),
                      quad(node, t["flag_kind"], ox.NamedNode(f"{FLAG}{flag['kind']}"), graph),
                      quad(node, p["message"], lit(flag["message"]), graph), quad(node, p["run"], activity, graph)]
            if flag.get("component"):
                quads.append(quad(node, p["component"], lit(flag["component"]), graph))
            if flag.get("rule"):
                quads.append(quad(node, t["rule"], lit(flag["rule"]), graph))
            flagged = flag.get("records") or ([flag["record"]] if flag.get("record") else [])
            quads += [quad(node, t["about"], ox.NamedNode(minter.record(rid)), graph) for rid in flagged]
            for i, st in enumerate(flag.get("statements", [])):
                said = ox.NamedNode(f"{node.value}-{i}")
                quads += [quad(node, t["statement"], said, graph),
                          quad(said, t["based"], ox.NamedNode(minter.record(st["record"])), graph),
                          quad(said, t["says"], lit(st["says"]), graph)]
            quads += [quad(node, t["failed"], ox.NamedNode(f"{DEFN}{req}"), graph) for req in flag.get("failed", [])]
            if flag.get("claim", {}).get("iri"):
                quads.append(quad(node, t["derived"], ox.NamedNode(flag["claim"]["iri"]), graph))
        yield from quads


def _value_quads(node: ox.NamedNode, definition: URIRef, verdict: dict, p: dict[str, ox.NamedNode],
                 progress: dict[str, ox.NamedNode], grades: dict[tuple[str, str], ox.NamedNode],
                 graph: ox.NamedNode) -> list[ox.Quad]:
    """What an assessment says: its verdict, MOF class and progress, Index score and grades (a grade is a
    value node shared by every assessment that has it, its own statements written once per run)."""
    quad = ox.Quad
    quads = []
    if "verdict" in verdict:
        quads.append(quad(node, p["verdict"], _node(VERDICT[verdict["verdict"]]), graph))
    if "class" in verdict:
        quads.append(quad(node, p["class"], ox.Literal(str(verdict["class"]), datatype=XSD_INTEGER), graph))
        quads += [quad(node, progress[str(cls)], _decimal(value), graph) for cls, value in verdict["progress"].items()]
    if verdict.get("score") is not None:
        quads.append(quad(node, p["score"], _decimal(verdict["score"]), graph))
    for dim, grade in verdict.get("dimensions", {}).items():
        grade_node = grades.get((dim, grade))
        if grade_node is None:
            grade_node = grades[dim, grade] = ox.NamedNode(f"{definition}/{dim}#grade-{grade}")
            quads += [quad(grade_node, p["dimension"], ox.Literal(dim), graph),
                      quad(grade_node, p["index_grade"], ox.NamedNode(f"{STATIC}grade/{grade}"), graph)]
        quads.append(quad(node, p["grade"], grade_node, graph))
    return quads


def _reason_iri(definition: URIRef, key: tuple[str, ...]) -> ox.NamedNode:
    """A reason's IRI, from its content (definition, requirement, component, kind, message): equal reasons
    share one node, in every run."""
    requirement = key[1]
    tag = hashlib.sha256("\x1f".join(key).encode()).hexdigest()[:16]
    return ox.NamedNode(f"{definition}/{requirement}#reason-{tag}" if requirement else f"{definition}#reason-{tag}")


def _reason_quads(node: ox.NamedNode, definition: URIRef, reason: dict, p: dict[str, ox.NamedNode],
                  reason_class: ox.NamedNode, graph: ox.NamedNode) -> list[ox.Quad]:
    """The reason node's own statements, written once per run however many assessments share it."""
    quads = [ox.Quad(node, p["type"], reason_class, graph),
             ox.Quad(node, p["kind"], to_ox(REASON[reason["kind"]]), graph),
             ox.Quad(node, p["component"], ox.Literal(reason["component"]), graph),
             ox.Quad(node, p["message"], ox.Literal(reason["message"]), graph)]
    if reason["requirement"]:
        quads.append(ox.Quad(node, p["requirement"], ox.NamedNode(f"{definition}/{reason['requirement']}"), graph))
    return quads


@lru_cache(maxsize=256)
def _node(iri: URIRef) -> ox.NamedNode:
    """A vocabulary term (a definition, a verdict) as an Oxigraph node, converted once per run, not per quad."""
    return to_ox(iri)


XSD_INTEGER, XSD_DECIMAL = ox.NamedNode(str(XSD.integer)), ox.NamedNode(str(XSD.decimal))


def _decimal(value: float | int | str) -> ox.Literal:
    """xsd:decimal from ``value``'s shortest round-trip text (``Decimal(0.1)`` would write 55 digits)."""
    return ox.Literal(str(Decimal(str(value))), datatype=XSD_DECIMAL)


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


