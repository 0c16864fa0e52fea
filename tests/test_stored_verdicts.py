"""The verdicts stored as RDF by ``assess_all``: queryable, equal to the verdict objects, reasons shared
between assessments, rewritten only where they changed (a re-run with the same verdicts touches the
run's time alone), and switched to all at once: a run cut off part-way is never the one readers see."""

from __future__ import annotations

import subprocess
import sys

import pyoxigraph as ox
import pytest

from loaders.vocab import Minter
from server.assess import run_graphs as verdict_graph
from server.assess.consolidate import assess_releases
from server.assess.engine import read_licenses, read_records
from server.assess.run import assess_all
from server.assess.run_graphs import current_run, current_run_pattern, new_run_graph_iri, verdict_quads
from server.ingest.loading import bundled_files, load_files
from server.store import OxigraphStore, StoreError
from server.store.nquads import parse_lines
from server.web.page_queries import stored_verdicts
from tests.conftest import private_store_copy

PREFIXES = """PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""


def _graph_quads(store: OxigraphStore, minter: Minter) -> set[ox.Quad]:
    """The quads of the current run graph."""
    graph = current_run(store, minter).graph
    return set(store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


def _run_graphs(store: OxigraphStore, minter: Minter) -> list[str]:
    return [g for g in store.named_graphs() if g.startswith(minter.assessments_graph + "/")]


def _run_content(quads: set[ox.Quad]) -> set[tuple]:
    """A run graph's triples but for its name (in the run's IRI) and its time."""
    def term(t):
        return "the run" if isinstance(t, ox.NamedNode) and t.value.endswith("#run") else t
    return {(term(q.subject), q.predicate, term(q.object)) for q in quads
            if q.predicate.value != "http://www.w3.org/ns/prov#endedAtTime"}


def _renamed(term, run: str):
    """A run graph's activity node, renamed to ``run``."""
    return ox.NamedNode(run) if isinstance(term, ox.NamedNode) and term.value.endswith("#run") else term


def _changed_olmo(store: OxigraphStore, minter: Minter, tmp_path) -> None:
    """Reload OLMo-7B with its weights under a non-commercial license (its OSAID verdict flips)."""
    olmo, info = next((p, i) for p, i in bundled_files() if p.name == "OLMo-7B.yml")
    changed_file = tmp_path / "OLMo-7B.yml"
    changed_file.write_text(olmo.read_text().replace("Apache-2.0", "CC-BY-NC-4.0"))
    report = load_files(store, minter, [(changed_file, info)])
    assert report.ok and report.loaded == ["mot/OLMo-7B"], [str(e) for e in report.errors]


def test_stored_verdicts_match_the_verdict_objects(bundled_store, bundled_settings, bundled_results):
    minter = Minter(bundled_settings.base_iri)
    rows = bundled_store.select(PREFIXES + f"""
SELECT ?a ?verdict WHERE {{ {current_run_pattern(minter)} GRAPH ?run {{
  ?a og:assessedRecord ?r ; og:verdict ?verdict }} }}""")
    stored = {row["a"].value: row["verdict"].value.rsplit("/", 1)[-1] for row in rows}
    expected = {minter.assessment(r["id"], d): v["verdict"]
                for r in bundled_results for d, v in r["verdicts"].items() if "verdict" in v}
    assert stored == expected
    run = bundled_store.select(PREFIXES + f"""
SELECT ?t ?engine ?shapes ?digest WHERE {{ {current_run_pattern(minter, "?g")} GRAPH ?g {{
  ?run a prov:Activity ; prov:endedAtTime ?t ; og:engineVersion ?engine ; og:shapesVersion ?shapes ;
       og:verdictsDigest ?digest }} }}""")
    assert len(run) == 1 and len(run[0]["digest"].value) == 64
    reasons = bundled_store.select(PREFIXES + f"""
SELECT ?a ?req ?kind ?component ?message WHERE {{ {current_run_pattern(minter)} GRAPH ?run {{
  ?a og:assessedRecord ?record ; og:hasReason ?r . ?r og:reasonKind ?kind ; og:component ?component ;
     og:message ?message .
  OPTIONAL {{ ?r og:requirement ?req }} }} }}""")
    stored_reasons = {(row["a"].value, row["req"].value.rsplit("/", 1)[-1] if "req" in row else "",
                       row["kind"].value.rsplit("/", 1)[-1], row["component"].value, row["message"].value)
                      for row in reasons}
    expected_reasons = {(minter.assessment(r["id"], d), x["requirement"], x["kind"], x["component"], x["message"])
                        for r in bundled_results for d, v in r["verdicts"].items() for x in v.get("reasons", [])}
    assert stored_reasons == expected_reasons


def test_stored_release_verdicts_match_the_consolidated_results(bundled_store, bundled_settings):
    """The run holds every release's consolidated assessments beside the records': verdicts, the records
    each rests on, reasons with their records and rule, and flags naming their records."""
    minter = Minter(bundled_settings.base_iri)
    results = assess_releases(bundled_store, read_records(bundled_store), read_licenses(bundled_store))
    rows = bundled_store.select(PREFIXES + f"""
SELECT ?a ?verdict WHERE {{ {current_run_pattern(minter)} GRAPH ?run {{
  ?a og:assessedRelease ?r ; og:verdict ?verdict }} }}""")
    def node(result: dict, definition: str) -> str:
        """A one-record release whose verdicts are its record's shares the record's assessment nodes."""
        if definition in result["shared"]:
            return minter.assessment(result["shared"][definition], definition)
        return f"{minter.release(result['id'])}/assessments#{definition}"

    stored = {row["a"].value: row["verdict"].value.rsplit("/", 1)[-1] for row in rows}
    assert stored == {node(r, d): v["verdict"] for r in results for d, v in r["verdicts"].items() if "verdict" in v}
    assert sum(len(r["shared"]) for r in results) > 6 * 300
    based = bundled_store.select(PREFIXES + f"""
SELECT ?a ?id WHERE {{ {current_run_pattern(minter)} GRAPH ?run {{ ?a og:assessedRelease ?r ; og:basedOnRecord ?m }}
  ?m og:recordId ?id }}""")
    on = {}
    for row in based:
        on.setdefault(row["a"].value, set()).add(row["id"].value)
    assert on == {node(r, d): {r["shared"][d]} if d in r["shared"] else set(r["records"])
                  for r in results for d in r["verdicts"]}
    reasons = bundled_store.select(PREFIXES + f"""
SELECT ?a ?req ?kind ?message ?rule ?id WHERE {{ {current_run_pattern(minter)} GRAPH ?run {{
  ?a og:assessedRelease ?rel ; og:hasReason ?r . ?r og:reasonKind ?kind ; og:message ?message .
  OPTIONAL {{ ?r og:requirement ?req }} OPTIONAL {{ ?r og:consolidationRule ?rule }} }}
  OPTIONAL {{ GRAPH ?run {{ ?r og:basedOnRecord ?m }} ?m og:recordId ?id }} }}""")
    stored_reasons: dict[tuple, set] = {}
    for row in reasons:
        key = (row["a"].value, row["req"].value.rsplit("/", 1)[-1] if "req" in row else "",
               row["kind"].value.rsplit("/", 1)[-1], row["message"].value, row["rule"].value if "rule" in row else None)
        stored_reasons.setdefault(key, set()).update({row["id"].value} if "id" in row else set())
    # a reason names records only where it rests on other records than the release's own (or than every
    # record of the assessment, og:basedOnRecord); a shared node is the record's own reason
    expected = {(node(r, d), x["requirement"], x["kind"], x["message"], x.get("rule")):
                set() if d in r["shared"] or x.get("records") in (r["records"], r["described_by"])
                else set(x["records"])
                for r in results for d, v in r["verdicts"].items() for x in v.get("reasons", [])}
    assert stored_reasons == expected
    flags = bundled_store.select(PREFIXES + f"""
SELECT ?rel ?kind ?message WHERE {{ {current_run_pattern(minter)} GRAPH ?run {{
  ?rel og:hasFlag ?f . ?f og:flagKind ?kind ; og:message ?message }} }}""")
    assert {(row["rel"].value, row["kind"].value.rsplit("/", 1)[-1], row["message"].value) for row in flags} == {
        (minter.release(r["id"]), f["kind"], f["message"]) for r in results for f in r["flags"]}


def test_reassessing_unchanged_records_rewrites_only_the_time(bundled_store, bundled_settings, tmp_path):
    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    before = _graph_quads(store, minter)
    assess_all(store, bundled_settings)
    after = _graph_quads(store, minter)
    changed = {q.predicate.value for q in before ^ after}
    assert changed <= {"http://www.w3.org/ns/prov#endedAtTime"}
    assert len(before) == len(after)
    store.close()


def test_a_changed_record_changes_its_stored_verdicts(bundled_store, bundled_settings, tmp_path):
    """Reload OLMo-7B with its weights under a non-commercial license: the stored OSAID verdict flips
    and carries a reason, the run digest changes, the other records' assessments stay as they were."""
    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    before, run = _graph_quads(store, minter), current_run(store, minter)
    _changed_olmo(store, minter, tmp_path)
    assess_all(store, bundled_settings)
    assert current_run(store, minter).graph == run.graph  # embedded: the difference, in place, one transaction
    assert current_run(store, minter).digest != run.digest
    after = _graph_quads(store, minter)
    olmo_node = minter.assessment("mot/OLMo-7B", "osaid-1.0")
    verdict = store.select(PREFIXES + f"""SELECT ?v WHERE {{ {current_run_pattern(minter)}
        GRAPH ?run {{ <{olmo_node}> og:verdict ?v }} }}""")
    assert len(verdict) == 1 and verdict[0]["v"].value.endswith("/fail")
    assert _run_graphs(store, minter) == [run.graph]
    models = f"{minter.base}models/"
    touched = {q.subject.value.split("/assessments#")[0] for q in before ^ after
               if q.subject.value.startswith(models)}
    assert touched == {minter.record("mot/OLMo-7B")}
    new_reasons = {q.object.value for q in after - before if q.predicate.value.endswith("#hasReason")}
    assert any("/osaid-1.0/" in r for r in new_reasons)  # its new OSAID failure, as a (shared) reason node
    store.close()


def test_the_run_digest_is_written_last(bundled_results, bundled_settings):
    """A store that writes in batches and dies part-way keeps a prefix: it must not hold the digest, or the
    next run would take the cut-off graph for complete."""
    minter = Minter(bundled_settings.base_iri)
    quads = verdict_quads(bundled_results[:5], minter, "d" * 64, new_run_graph_iri(minter))
    digest_at = next(i for i, q in enumerate(quads) if q.predicate.value.endswith("#verdictsDigest"))
    assert all(q.subject.value.endswith("#run") for q in quads[digest_at - 2:])
    assert len(quads) - digest_at <= 3


def test_many_records_stream_their_verdicts_into_a_new_run_graph(bundled_store, bundled_settings, tmp_path,
                                                                 monkeypatch):
    """Beyond STREAM_RECORDS the verdicts go in by the bulk loader (bounded memory, 100k records) into a run
    graph of their own: the same quads the transactional path writes, but for the run's time, and a re-run
    changes only that (and returns every record's verdicts, as the first did)."""
    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    transactional = _graph_quads(store, minter)
    store.drop_graphs([minter.assessments_graph, current_run(store, minter).graph])  # nothing assessed yet
    monkeypatch.setattr(verdict_graph, "STREAM_RECORDS", 10)
    written = []
    original = store.add_large_graph
    monkeypatch.setattr(store, "add_large_graph", lambda *a: written.append(a[0]) or original(*a))
    first = assess_all(store, bundled_settings)
    streamed = _graph_quads(store, minter)
    assert written == [current_run(store, minter).graph]
    assert _run_content(streamed) == _run_content(transactional)
    again = assess_all(store, bundled_settings)  # same verdicts: only the time is rewritten, nothing streamed again
    assert len(written) == 1 and len(_graph_quads(store, minter)) == len(streamed)
    assert again == first and len(first) == 466
    assert _run_graphs(store, minter) == written
    store.close()


def test_a_run_cut_off_part_way_is_never_read_and_the_next_run_clears_it(bundled_store, bundled_settings,
                                                                          tmp_path, monkeypatch):
    """The store fails while a new run's verdicts are written: the error reaches the caller, readers keep
    the previous complete run, the cut-off graph is marked, and the next run drops it and switches."""
    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    before, shown = current_run(store, minter), stored_verdicts(store, minter)
    _changed_olmo(store, minter, tmp_path)
    monkeypatch.setattr(verdict_graph, "STREAM_RECORDS", 10)  # a new run graph, as on a remote store

    def cut_off(graph_iri, lines):
        store.bulk_add(parse_lines(line for _, line in zip(range(5_000), lines, strict=False)))
        raise StoreError("the store went away")

    monkeypatch.setattr(store, "add_large_graph", cut_off)
    with pytest.raises(StoreError):
        assess_all(store, bundled_settings)
    assert current_run(store, minter) == before
    assert stored_verdicts(store, minter) == shown  # the pages' reader: the old run, whole
    cut = [g for g in _run_graphs(store, minter) if g != before.graph]
    assert len(cut) == 1 and any(store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(cut[0])))
    monkeypatch.undo()
    monkeypatch.setattr(verdict_graph, "STREAM_RECORDS", 10)
    assess_all(store, bundled_settings)
    after = current_run(store, minter)
    assert after.graph not in (before.graph, cut[0])
    assert _run_graphs(store, minter) == [after.graph]  # the cut-off run and the previous one are gone
    assert store.select(f"SELECT ?p ?o WHERE {{ GRAPH <{minter.assessments_graph}> {{ ?s ?p ?o }} }}") == \
        [{"p": ox.NamedNode("http://www.w3.org/ns/dcat#hasCurrentVersion"), "o": ox.NamedNode(after.graph)}]
    shown_now = stored_verdicts(store, minter)
    assert len(shown_now) == len(shown) and shown_now[minter.record("mot/OLMo-7B")]["osaid-1.0"]["verdict"] == "fail"
    store.close()


def test_serve_reassesses_a_store_without_a_current_run(bundled_store, bundled_settings, tmp_path):
    """A store whose verdicts sit in the assessments graph itself, as versions before run graphs wrote
    them, has no current run: the next start of ``openness serve`` assesses again and clears them."""
    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    complete = _graph_quads(store, minter)
    pointer = ox.NamedNode(minter.assessments_graph)
    store.drop_graphs([minter.assessments_graph, current_run(store, minter).graph])
    old_layout = minter.assessments_graph + "#run"  # what the run was called before run graphs
    store.oxigraph.extend(ox.Quad(_renamed(q.subject, old_layout), q.predicate, _renamed(q.object, old_layout),
                                  pointer) for q in complete)
    assert current_run(store, minter) is None and stored_verdicts(store, minter) == {}
    store.close()
    del store  # the folder lock goes with the last reference; the next start is another process
    start = subprocess.run([sys.executable, "-c", "from server.serve import prepare_store; from server.settings "
                            f"import Settings; prepare_store(Settings(store={str(tmp_path / 'store')!r}, "
                            "_env_file=None))"], capture_output=True, text=True, timeout=300)
    assert start.returncode == 0, start.stderr
    store = OxigraphStore(tmp_path / "store")
    assert current_run(store, minter).digest is not None and len(_graph_quads(store, minter)) == len(complete)
    assert len(list(store.oxigraph.quads_for_pattern(None, None, None, pointer))) == 1  # the pointer alone
    assert _run_graphs(store, minter) == [current_run(store, minter).graph]
    store.close()


def test_a_run_graph_left_by_a_failed_drop_goes_at_the_next_run_even_if_nothing_changed(
        bundled_store, bundled_settings, tmp_path, monkeypatch):
    """The previous run graph cannot be dropped after the switch: the run still succeeds (the new run is
    current), and the next run, whose verdicts are unchanged, drops the leftover."""
    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    before = current_run(store, minter)
    _changed_olmo(store, minter, tmp_path)
    monkeypatch.setattr(verdict_graph, "STREAM_RECORDS", 10)  # a new run graph

    original = store.drop_large_graphs

    def busy_for_the_previous_run(graph_iris):
        graph_iris = list(graph_iris)
        if before.graph in graph_iris:
            raise StoreError("the store is busy")
        original(graph_iris)

    monkeypatch.setattr(store, "drop_large_graphs", busy_for_the_previous_run)
    assess_all(store, bundled_settings)
    switched = current_run(store, minter)
    assert switched.graph != before.graph and sorted(_run_graphs(store, minter)) == sorted([before.graph,
                                                                                           switched.graph])
    monkeypatch.undo()
    assess_all(store, bundled_settings)  # same verdicts
    assert current_run(store, minter) == switched and _run_graphs(store, minter) == [switched.graph]
    store.close()


def test_a_change_too_large_for_one_transaction_goes_to_a_new_run_graph(bundled_store, bundled_settings, tmp_path,
                                                                         monkeypatch):
    """In place means one transaction: a difference beyond LARGE_DIFF quads is written as a new run."""
    from server.store import oxigraph as store_module

    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    before = current_run(store, minter)
    _changed_olmo(store, minter, tmp_path)
    monkeypatch.setattr(store_module, "LARGE_DIFF", 5)
    assess_all(store, bundled_settings)
    after = current_run(store, minter)
    assert after.graph != before.graph and after.digest != before.digest
    assert _run_graphs(store, minter) == [after.graph]
    assert stored_verdicts(store, minter)[minter.record("mot/OLMo-7B")]["osaid-1.0"]["verdict"] == "fail"
    store.close()
