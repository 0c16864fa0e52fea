"""Incremental re-assessment: re-evaluate only the records and releases whose inputs changed since the
current run, and apply the difference to the current run graph in one transaction.

What a verdict depends on, and how a change is seen (docs/incremental.md):
- a record's verdicts: its own graph (the loader writes its ``og:contentDigest``) and the reference inputs
  (engine and shapes versions, license KB, dataset KB, definitions, curated claims: one digest);
- a release's: its records (own, base-grading, family-level, its bases' records) with their digests, and
  its identity (name, family, Hub id, date, bases), from the links graph;
- the statistics cube's counts: each record and release stores the cells it is counted in
  (``og:cubeCells``), so the counts of what changed are taken out and put back in place.
Each run stores these digests with its verdicts (``og:assessedDigest``, see ``run_graphs.InputDigests``).
A run compares them with the store's and re-evaluates what differs; anything it cannot vouch for makes it
fall back to a full run: no current run, other reference inputs, a write through the SPARQL Update or Graph
Store protocol since (such writes keep no digests), a remote store (no single transaction for the delta),
or more than ``MAX_CHANGED_SHARE`` of the records changed (a full run is then as cheap)."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson
import pyoxigraph as ox
from rdflib import RDF

from loaders.vocab import (
    CLAIMS_GRAPH,
    DATASETS_GRAPH,
    DEFINITIONS_GRAPH,
    LICENSES_GRAPH,
    OG,
    ONTOLOGY_GRAPH,
    PROV,
    Minter,
)
from server.assess.consolidate import (
    BASE_RELATIONS,
    ReleaseInput,
    assess_release,
    claims_about,
    read_claims,
    read_releases,
    read_some_releases,
)
from server.assess.cube import UNPLACED, Tally, cube_nquads, placements_of, record_cells, release_cells
from server.assess.definitions import ENGINE_VERSION, SHAPES_VERSION
from server.assess.engine import RecordFacts, assess_record, read_licenses, read_records
from server.assess.run_graphs import InputDigests, assessment_nquads, current_run, now_literal
from server.store import GraphStore, OxigraphStore, content_digest, to_ox
from server.store.journal import JournalView
from server.store.nquads import parse_lines

log = logging.getLogger("openness.assess")

# Above this share of changed records a full run costs about the same as the delta, and is simpler.
MAX_CHANGED_SHARE = 0.25

RECORD_DIGESTS_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
SELECT ?m ?g ?digest WHERE {
  GRAPH ?g { ?m a og:ModelRelease ; og:recordId ?id . OPTIONAL { ?m og:contentDigest ?digest } }
}"""


@dataclass
class RecordDigests:
    """Every record in the store: its content digest and its graph."""

    digests: dict[str, str] = field(default_factory=dict)
    graphs: dict[str, str] = field(default_factory=dict)


def read_record_digests(store: GraphStore, known: dict[str, str] | None = None) -> RecordDigests:
    """The digests the loaders wrote. A record graph without one (written by an earlier version's loader,
    or through the Graph Store protocol) gets the digest the current run stored for it, ``known``, or else
    one computed here from its statements as the loaders compute it (~1.5 ms a record). ``known`` is only
    given while no write without digests happened since that run (``has_untracked_writes``): every other
    write path writes a digest, so such a graph has not changed since."""
    known = known or {}
    found = RecordDigests()
    for m, g, digest in store.iter_values(RECORD_DIGESTS_QUERY, ("m", "g", "digest")):
        iri, graph = m.value, g.value
        found.graphs[iri] = graph
        if digest is not None:
            found.digests[iri] = digest.value
        else:
            found.digests[iri] = known.get(iri) or content_digest(store.quads_of_graph(graph), graph)
    return found


def trusted_digests(store: GraphStore, minter: Minter) -> dict[str, str]:
    """The record digests the current run stored, when they still describe the records that carry none."""
    if not isinstance(store, OxigraphStore) or store.has_untracked_writes():
        return {}
    current = current_run(store, minter)
    return _stored_digests(store, current.graph, minter).records if current else {}


def reference_digest(store: GraphStore) -> str:
    """One digest of everything every verdict depends on besides its records: the engine and shapes
    versions and the reference graphs the engine reads (license KB, dataset KB, definitions, claims)."""
    h = hashlib.sha256(f"{ENGINE_VERSION}\x1f{SHAPES_VERSION}".encode())
    for graph in (LICENSES_GRAPH, DATASETS_GRAPH, DEFINITIONS_GRAPH, CLAIMS_GRAPH):
        h.update(f"\x1e{graph}\x1e".encode())
        if isinstance(store, OxigraphStore):  # serialised in Rust, in index order: 4x faster than rows
            h.update(store.oxigraph.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)))
        else:
            rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
            h.update("\n".join(sorted(f"{r['s']} {r['p']} {r['o']}" for r in rows)).encode())
    return h.hexdigest()


def release_digest(rel: ReleaseInput, records: dict[str, str]) -> str:
    """The inputs of a release's consolidated verdicts: its identity and its records with their digests."""
    def with_digests(iris: Iterable[str]) -> list[tuple[str, str]]:
        return [(iri, records.get(iri, "")) for iri in iris]

    payload = [rel.release_id, rel.name, rel.family_id, rel.family_name, rel.hf_id, rel.released,
               with_digests(rel.own), with_digests(rel.base_of), with_digests(rel.family), rel.bases,
               {base: with_digests(members) for base, members in sorted(rel.base_records.items())}]
    return hashlib.sha256(orjson.dumps(payload)).hexdigest()


def input_digests(store: GraphStore, releases: dict[str, ReleaseInput], records: RecordDigests,
                  reference: str | None = None) -> InputDigests:
    """The digests a run stores with its verdicts (``reference``: :func:`reference_digest`, if computed)."""
    return InputDigests(reference or reference_digest(store), dict(records.digests),
                        {iri: release_digest(rel, records.digests) for iri, rel in releases.items()})


@dataclass
class Outcome:
    """What an incremental run did: the verdict objects it recomputed, and how much of the run it kept."""

    results: list[dict]
    releases: list[dict]
    kept_records: int
    kept_releases: int
    removed: int = 0  # records and releases no longer in the store, whose verdicts were dropped
    found_by: str = "comparison"  # "journal": the changes were found among the graphs written since the run


@dataclass
class Changes:
    """What differs from the current run: records whose digest changed, releases whose inputs' digest
    changed, and what the run has that the store no longer has; with what was read to find them (every
    release and record digest, or only those a change touches) and the totals in the store."""

    changed: list[str]
    affected: list[str]
    gone: list[str]
    releases: dict[str, ReleaseInput]
    records: RecordDigests
    now: InputDigests
    stored: _Stored
    total_records: int
    total_releases: int
    found_by: str = "comparison"


def assess_changed(store: GraphStore, minter: Minter) -> Outcome | None:
    """Bring the current run up to date by re-evaluating only what changed, in one transaction; None when
    only a full run can vouch for the result (see the module docstring)."""
    if not isinstance(store, OxigraphStore) or store.has_untracked_writes():
        return None
    current = current_run(store, minter)
    if current is None or current.digest is None:
        return None
    journal, reference = store.journal.read(), reference_digest(store)
    found = (_changes_in_journal(store, minter, current.graph, journal, reference)
             if journal.run == current.graph else None) or _changes_by_comparison(store, minter, current.graph,
                                                                                   reference)
    if found is None:
        return None
    changed, affected, gone, releases, records, now, stored = (
        found.changed, found.affected, found.gone, found.releases, found.records, found.now, found.stored)
    if len(changed) > MAX_CHANGED_SHARE * max(found.total_records, 1):
        return None
    outcome = Outcome([], [], found.total_records - len(changed), found.total_releases - len(affected), len(gone),
                      found.found_by)
    if not changed and not affected and not gone:
        store.journal.restart(current.graph, journal)
        return outcome
    needed = set(changed)
    for iri in affected:
        rel = releases[iri]
        needed.update(rel.own, rel.base_of, rel.family, *rel.base_records.values())
    facts = _read_some_records(store, sorted(needed & set(records.graphs)), records.graphs)
    licenses = read_licenses(store)
    own = {iri: assess_record(facts[iri], licenses) for iri in sorted(facts)}
    claims = read_claims(store)
    outcome.results = sorted((own[iri] for iri in changed if iri in own), key=lambda r: r["id"])
    outcome.releases = sorted((assess_release(releases[iri], facts, licenses, claims_about(releases[iri], claims),
                                              own) for iri in affected), key=lambda r: r["id"])
    graph = current.graph
    # the cube: what the run counted for the re-evaluated records and releases, and for the other records of
    # an affected release (its date or its records may have moved them to other cells), is counted anew
    recounted = sorted({*changed, *(m for iri in affected for m in releases[iri].own)} & own.keys())
    # a record's year is its release's: place every recounted record's release too
    release_of = {m: iri for iri, rel in releases.items() for m in rel.own}
    placed = {release_of[m] for m in recounted if m in release_of} | set(affected)
    record_at, release_at = placements_of(
        store, {m: (records.graphs[m], facts[m].source) for m in
                {*recounted, *(m for iri in placed for m in releases[iri].own)} if m in facts},
        {iri: (releases[iri].release_id, [m for m in releases[iri].own if m in facts]) for iri in placed})
    tally = Tally()
    for iri in recounted:
        tally.add(iri, record_cells(facts[iri], own[iri], record_at.get(iri, UNPLACED)))
    for result in outcome.releases:
        tally.add(minter.release(result["id"]), release_cells(result, release_at.get(result["id"], UNPLACED)))
    added = set(parse_lines(assessment_nquads(outcome.results, outcome.releases, minter, graph, now, tally)))
    removed = _stored_quads(store, graph, [*changed, *(g for g in gone if g in stored.records)],
                            [*affected, *(g for g in gone if g in stored.releases)])
    recount_only = [iri for iri in recounted if iri not in set(changed)]
    removed |= _statements(store, graph, recount_only, OG.cubeCells)
    added |= {ox.Quad(ox.NamedNode(iri), to_ox(OG.cubeCells), ox.Literal(tally.cells_text(iri)), ox.NamedNode(graph))
              for iri in recount_only}
    counts = _count_changes(store, graph, minter, removed, added, tally)
    if counts is None:
        log.warning("the current run's cube does not match its cells; assessing every record")
        return None
    removed |= counts[0]
    added |= counts[1]
    removed |= _orphaned_values(store, graph, removed, added)
    removed, added = removed - added, added - removed
    new_digest = hashlib.sha256(f"{current.digest}\x1f{_delta_digest(removed, added)}".encode()).hexdigest()
    removed |= _run_statements(store, graph, (OG.verdictsDigest, PROV.endedAtTime))
    run = ox.NamedNode(f"{graph}#run")
    added |= {ox.Quad(run, to_ox(OG.verdictsDigest), ox.Literal(new_digest), ox.NamedNode(graph)),
              ox.Quad(run, to_ox(PROV.endedAtTime), now_literal(), ox.NamedNode(graph))}
    store.apply_delta(removed, added)
    store.journal.restart(current.graph, journal)
    log.info("re-assessed %d changed records and %d releases (found by %s); kept %d records' and %d releases' "
             "verdicts", len(outcome.results), len(outcome.releases), outcome.found_by, outcome.kept_records,
             outcome.kept_releases)
    return outcome


@dataclass
class _Stored:
    run: str
    records: dict[str, str]
    releases: dict[str, str]


def _changes_by_comparison(store: OxigraphStore, minter: Minter, run_graph: str, reference: str) -> Changes | None:
    """Every record's and release's digest compared with the run's (None if the reference inputs changed)."""
    stored = _stored_digests(store, run_graph, minter)
    if stored.run != reference:
        return None
    records = read_record_digests(store, stored.records)
    releases = read_releases(store, minter.links_graph)
    now = input_digests(store, releases, records, reference)
    return Changes(sorted(iri for iri, d in now.records.items() if stored.records.get(iri) != d),
                   sorted(iri for iri, d in now.releases.items() if stored.releases.get(iri) != d),
                   sorted((set(stored.records) - set(now.records)) | (set(stored.releases) - set(now.releases))),
                   releases, records, now, stored, len(now.records), len(now.releases))


# Graphs whose writes change no verdict through a record: the run's bookkeeping, and the reference graphs,
# which the reference digest covers (the ontology graph no verdict reads).
def _not_records(minter: Minter) -> frozenset[str]:
    return frozenset({minter.assessments_graph, LICENSES_GRAPH, DATASETS_GRAPH, DEFINITIONS_GRAPH, CLAIMS_GRAPH,
                      ONTOLOGY_GRAPH})


def _changes_in_journal(store: OxigraphStore, minter: Minter, run_graph: str, journal: JournalView,
                        reference: str) -> Changes | None:
    """The changes among the graphs the journal names (written since the current run), found by point
    lookups: the digests of those records, and of the releases whose inputs name them. None when the
    journal cannot say it alone: the identity graph was rewritten (any release may have moved), or a
    written graph holds no record the run knows (added, or a record's graph dropped)."""
    if minter.links_graph in journal.graphs:
        return None
    ox_store, g = store.oxigraph, ox.NamedNode(run_graph)

    def stored_digest(iri: str) -> str | None:
        found = next(ox_store.quads_for_pattern(ox.NamedNode(iri), to_ox(OG.assessedDigest), None, g), None)
        return None if found is None else found.object.value

    if stored_digest(f"{run_graph}#run") != reference:
        return None
    skipped, runs = _not_records(minter), f"{minter.assessments_graph}/"
    records = RecordDigests()
    stored = _Stored(reference, {}, {})
    for graph in sorted(journal.graphs):
        if graph in skipped or graph.startswith(runs):
            continue
        record = _record_of_graph(store, graph)
        if record is None or (known := stored_digest(record)) is None:
            return None
        records.graphs[record], stored.records[record] = graph, known
    candidates = set(records.graphs)

    def digest_of(iri: str) -> str:
        if iri not in records.digests:
            graph = records.graphs.get(iri) or _graph_of_record(store, iri)
            if graph is None:
                return ""
            records.graphs[iri] = graph
            digest = next(ox_store.quads_for_pattern(ox.NamedNode(iri), to_ox(OG.contentDigest), None,
                                                     ox.NamedNode(graph)), None)
            records.digests[iri] = (digest.object.value if digest is not None else stored_digest(iri)
                                    or content_digest(store.quads_of_graph(graph), graph))
        return records.digests[iri]

    changed = sorted(iri for iri in candidates if digest_of(iri) != stored.records[iri])
    releases = read_some_releases(store, minter.links_graph, _dependent_releases(store, minter.links_graph,
                                                                                  changed))
    now = InputDigests(reference, {iri: digest_of(iri) for iri in changed}, {})
    for iri, rel in releases.items():
        for member in {*rel.own, *rel.base_of, *rel.family, *(m for ms in rel.base_records.values() for m in ms)}:
            digest_of(member)
        now.releases[iri] = release_digest(rel, records.digests)
        stored.releases[iri] = stored_digest(iri) or ""
    affected = sorted(iri for iri, d in now.releases.items() if stored.releases[iri] != d)
    total_releases, total_digests = (int(store.select(query)[0]["n"].value) for query in (
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{minter.links_graph}> {{ ?r <{OG.ofFamily}> ?f }} }}",
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{run_graph}> {{ ?s <{OG.assessedDigest}> ?d }} }}"))
    return Changes(changed, affected, [], releases, records, now, stored,
                   total_digests - 1 - total_releases, total_releases, "journal")  # the run's digest is one


def _record_of_graph(store: OxigraphStore, graph: str) -> str | None:
    """The record a record graph describes (None: the graph holds none, or is gone)."""
    for q in store.oxigraph.quads_for_pattern(None, to_ox(OG.recordId), None, ox.NamedNode(graph)):
        if next(store.oxigraph.quads_for_pattern(q.subject, to_ox(RDF.type), to_ox(OG.ModelRelease),
                                                 ox.NamedNode(graph)), None) is not None:
            return q.subject.value
    return None


def _graph_of_record(store: OxigraphStore, iri: str) -> str | None:
    found = next(store.oxigraph.quads_for_pattern(ox.NamedNode(iri), to_ox(OG.recordId), None, None), None)
    return None if found is None else found.graph_name.value


def _dependent_releases(store: OxigraphStore, links_graph: str, records: list[str]) -> set[str]:
    """Every release whose inputs (``release_digest``) name one of these records: its own release, the
    release it grades as base model, the releases of the family it describes, and the derivatives of its
    release (which read their bases' records)."""
    ox_store, links = store.oxigraph, ox.NamedNode(links_graph)
    found: set[str] = set()
    for iri in records:
        node = ox.NamedNode(iri)
        own = [q.object for q in ox_store.quads_for_pattern(node, to_ox(OG.ofRelease), None, links)]
        found.update(r.value for r in own)
        found.update(q.object.value for q in ox_store.quads_for_pattern(node, to_ox(OG.baseRelease), None, links))
        for family in ox_store.quads_for_pattern(node, to_ox(OG.describesFamily), None, links):
            found.update(q.subject.value for q in ox_store.quads_for_pattern(None, to_ox(OG.ofFamily),
                                                                             family.object, links))
        for release in own:
            for relation in BASE_RELATIONS:
                found.update(q.subject.value for q in ox_store.quads_for_pattern(None, to_ox(OG[relation]),
                                                                                 release, links))
    return found


def _stored_digests(store: OxigraphStore, graph: str, minter: Minter) -> _Stored:
    """The digests the current run stored: of its reference inputs, and of each record and release."""
    stored = _Stored("", {}, {})
    releases_prefix = minter.release("")
    for q in store.oxigraph.quads_for_pattern(None, to_ox(OG.assessedDigest), None, ox.NamedNode(graph)):
        subject = q.subject.value
        if subject == f"{graph}#run":
            stored.run = q.object.value
        elif subject.startswith(releases_prefix):
            stored.releases[subject] = q.object.value
        else:
            stored.records[subject] = q.object.value
    return stored


def _read_some_records(store: OxigraphStore, iris: list[str], graphs: dict[str, str]) -> dict[str, RecordFacts]:
    """The facts of a few records, read as a full run reads them but from a private store holding only
    their graphs and the datasets they name (a full read of every record costs ~1 s per 1,000)."""
    ox_store, trained_on = store.oxigraph, to_ox(OG.trainedOn)
    private = OxigraphStore(None)
    datasets: set = set()
    quads: list[ox.Quad] = []
    for iri in iris:
        record_quads = store.quads_of_graph(graphs[iri])
        quads += record_quads
        datasets.update(q.object for q in record_quads if q.predicate == trained_on)
    for dataset in datasets:
        quads += ox_store.quads_for_pattern(dataset, None, None)
    private.bulk_add(quads)
    return read_records(private)


def _stored_quads(store: OxigraphStore, graph: str, records: list[str], releases: list[str]) -> set[ox.Quad]:
    """What the run graph says about some records and releases: their assessments (with the links a release
    adds to a record's assessment it shares), flags, flag statements and digests."""
    g, ox_store = ox.NamedNode(graph), store.oxigraph
    assessed_record, assessed_release = to_ox(OG.assessedRecord), to_ox(OG.assessedRelease)
    based_on, has_flag, statement = to_ox(OG.basedOnRecord), to_ox(OG.hasFlag), to_ox(OG.hasStatement)
    found: set[ox.Quad] = set()

    def about(subject) -> list[ox.Quad]:
        return list(ox_store.quads_for_pattern(subject, None, None, g))

    for iri in records:
        node = ox.NamedNode(iri)
        found.update(about(node))
        for q in ox_store.quads_for_pattern(None, assessed_record, node, g):
            found.update(about(q.subject))
    for iri in releases:
        node = ox.NamedNode(iri)
        own_prefix = f"{iri}/assessments#"
        for q in ox_store.quads_for_pattern(None, assessed_release, node, g):
            if q.subject.value.startswith(own_prefix):
                found.update(about(q.subject))
            else:  # a record's assessment the release shares: only the release's links to it
                found.add(q)
                found.update(ox_store.quads_for_pattern(q.subject, based_on, None, g))
        for q in about(node):
            found.add(q)
            if q.predicate == has_flag:
                flag_quads = about(q.object)
                found.update(flag_quads)
                for fq in flag_quads:
                    if fq.predicate == statement:
                        found.update(about(fq.object))
    return found


def _statements(store: OxigraphStore, graph: str, subjects: list[str], predicate) -> set[ox.Quad]:
    g, p = ox.NamedNode(graph), to_ox(predicate)
    return {q for s in subjects for q in store.oxigraph.quads_for_pattern(ox.NamedNode(s), p, None, g)}


def _count_changes(store: OxigraphStore, graph: str, minter: Minter, removed: set[ox.Quad], added: set[ox.Quad],
                   tally: Tally) -> tuple[set[ox.Quad], set[ox.Quad]] | None:
    """The cube statements to remove and add so its counts follow the cells taken out (``og:cubeCells`` of
    ``removed``) and put in (of ``added``): a count changes in place, an observation whose count reaches 0
    goes, a new cell gets its observation. None if a count would go below 0 (a cube not written with these
    cells: only a full run can repair it)."""
    cells_of = to_ox(OG.cubeCells)
    delta: Counter[str] = Counter()
    for quads, sign in ((removed, -1), (added, 1)):
        for q in quads:
            if q.predicate == cells_of:
                for token in q.object.value.split():
                    delta[token] += sign
    g, count = ox.NamedNode(graph), to_ox(OG["count"])
    out, into = set(), set()
    for token, change in sorted(delta.items()):
        if not change:
            continue
        obs = ox.NamedNode(f"{minter.base}cube/{token}")
        stored = list(store.oxigraph.quads_for_pattern(obs, count, None, g))
        before = int(stored[0].object.value) if stored else 0
        after = before + change
        if after < 0 or (not stored and token not in tally.cells):
            return None
        if not stored:  # a cell this run counts first
            into.update(q for q in parse_lines(cube_nquads(Counter({tally.cells[token]: after}), graph, minter))
                        if q.subject == obs)
        elif after == 0:
            out.update(store.oxigraph.quads_for_pattern(obs, None, None, g))
        else:
            out.update(stored)
            into.add(ox.Quad(obs, count, ox.Literal(str(after), datatype=stored[0].object.datatype), g))
    return out, into


VALUE_LINKS = (OG.hasReason, OG.hasGrade)  # assessments point at shared value nodes (reasons, grades)


def _orphaned_values(store: OxigraphStore, graph: str, removed: set[ox.Quad], added: set[ox.Quad]) -> set[ox.Quad]:
    """The statements of shared value nodes (reasons, grades) that no assessment will point at once the
    delta is applied, so the run graph keeps none a full run would not write."""
    g, ox_store = ox.NamedNode(graph), store.oxigraph
    links = {to_ox(p) for p in VALUE_LINKS}
    still_used = {q.object for q in added if q.predicate in links}
    candidates = {q.object for q in removed if q.predicate in links} - still_used
    orphans: set[ox.Quad] = set()
    for value in candidates:
        if all(q in removed for p in links for q in ox_store.quads_for_pattern(None, p, value, g)):
            orphans.update(ox_store.quads_for_pattern(value, None, None, g))
    return orphans


def _run_statements(store: OxigraphStore, graph: str, predicates) -> set[ox.Quad]:
    run, g = ox.NamedNode(f"{graph}#run"), ox.NamedNode(graph)
    return {q for p in predicates for q in store.oxigraph.quads_for_pattern(run, to_ox(p), None, g)}


def _delta_digest(removed: set[ox.Quad], added: set[ox.Quad]) -> str:
    lines = sorted(f"-{q}" for q in removed) + sorted(f"+{q}" for q in added)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()

