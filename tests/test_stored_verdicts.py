"""The verdicts stored as RDF by ``assess_all``: queryable, equal to the verdict objects, reasons shared
between assessments, and rewritten only where they changed (a re-run with the same verdicts touches the
run's time alone)."""

from __future__ import annotations

import subprocess
import sys

import pyoxigraph as ox

from loaders.vocab import Minter
from server.assessment import assess_all
from server.loading import bundled_files, load_files
from server.store import OxigraphStore
from tests.conftest import private_store_copy

PREFIXES = """PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""


def _graph_quads(store: OxigraphStore, minter: Minter) -> set[ox.Quad]:
    return set(store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(minter.assessments_graph)))


def test_stored_verdicts_match_the_verdict_objects(bundled_store, bundled_settings, bundled_results):
    minter = Minter(bundled_settings.base_iri)
    rows = bundled_store.select(PREFIXES + f"""
SELECT ?a ?verdict WHERE {{ GRAPH <{minter.assessments_graph}> {{
  ?a og:assessedRecord ?r ; og:verdict ?verdict }} }}""")
    stored = {row["a"].value: row["verdict"].value.rsplit("/", 1)[-1] for row in rows}
    expected = {minter.assessment(r["id"], d): v["verdict"]
                for r in bundled_results for d, v in r["verdicts"].items() if "verdict" in v}
    assert stored == expected
    run = bundled_store.select(PREFIXES + f"""
SELECT ?t ?engine ?shapes ?digest WHERE {{ GRAPH <{minter.assessments_graph}> {{
  ?run a prov:Activity ; prov:endedAtTime ?t ; og:engineVersion ?engine ; og:shapesVersion ?shapes ;
       og:verdictsDigest ?digest }} }}""")
    assert len(run) == 1 and len(run[0]["digest"].value) == 64
    reasons = bundled_store.select(PREFIXES + f"""
SELECT ?a ?req ?kind ?component ?message WHERE {{ GRAPH <{minter.assessments_graph}> {{
  ?a og:hasReason ?r . ?r og:reasonKind ?kind ; og:component ?component ; og:message ?message .
  OPTIONAL {{ ?r og:requirement ?req }} }} }}""")
    stored_reasons = {(row["a"].value, row["req"].value.rsplit("/", 1)[-1] if "req" in row else "",
                       row["kind"].value.rsplit("/", 1)[-1], row["component"].value, row["message"].value)
                      for row in reasons}
    expected_reasons = {(minter.assessment(r["id"], d), x["requirement"], x["kind"], x["component"], x["message"])
                        for r in bundled_results for d, v in r["verdicts"].items() for x in v.get("reasons", [])}
    assert stored_reasons == expected_reasons


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
    before = _graph_quads(store, minter)
    olmo, info = next((p, i) for p, i in bundled_files() if p.name == "OLMo-7B.yml")
    changed_file = tmp_path / "OLMo-7B.yml"
    changed_file.write_text(olmo.read_text().replace("Apache-2.0", "CC-BY-NC-4.0"))
    report = load_files(store, minter, [(changed_file, info)])
    assert report.ok and report.loaded == ["mot/OLMo-7B"], [str(e) for e in report.errors]
    assess_all(store, bundled_settings)
    after = _graph_quads(store, minter)
    olmo_node = minter.assessment("mot/OLMo-7B", "osaid-1.0")
    verdict = store.select(PREFIXES + f"SELECT ?v WHERE {{ <{olmo_node}> og:verdict ?v }}")
    assert verdict[0]["v"].value.endswith("/fail")
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
    from server.assessment import verdict_quads

    quads = verdict_quads(bundled_results[:5], Minter(bundled_settings.base_iri), "d" * 64)
    digest_at = next(i for i, q in enumerate(quads) if q.predicate.value.endswith("#verdictsDigest"))
    assert all(q.subject.value.endswith("#run") for q in quads[digest_at - 2:])
    assert len(quads) - digest_at <= 3


def test_many_records_stream_their_verdicts_into_the_same_graph(bundled_store, bundled_settings, tmp_path,
                                                                 monkeypatch):
    """Beyond STREAM_RECORDS the verdicts go in by the bulk loader (bounded memory, 100k records): the graph
    is the one the transactional path writes, but for the run's time, and a re-run changes only that."""
    from server import assessment

    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    transactional = _graph_quads(store, minter)
    store.update(f"DROP GRAPH <{minter.assessments_graph}>")
    monkeypatch.setattr(assessment, "STREAM_RECORDS", 10)
    written = []
    original = store.rewrite_large_graph
    monkeypatch.setattr(store, "rewrite_large_graph", lambda *a: written.append(a[0]) or original(*a))
    assess_all(store, bundled_settings)
    streamed = _graph_quads(store, minter)
    assert written == [minter.assessments_graph]
    time_predicate = "http://www.w3.org/ns/prov#endedAtTime"
    assert {q for q in streamed if q.predicate.value != time_predicate} == \
        {q for q in transactional if q.predicate.value != time_predicate}
    assess_all(store, bundled_settings)  # same verdicts: only the time is rewritten, nothing streamed again
    assert written == [minter.assessments_graph] and len(_graph_quads(store, minter)) == len(streamed)
    store.close()


def test_serve_reassesses_a_graph_cut_off_before_its_digest(bundled_store, bundled_settings, tmp_path):
    """A crash during a streamed write leaves verdicts without the run's digest: the next start of
    ``openness serve`` takes them for incomplete and assesses again."""
    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    complete = len(_graph_quads(store, minter))
    store.update(PREFIXES + f"DELETE WHERE {{ GRAPH <{minter.assessments_graph}> {{ ?run a prov:Activity ; ?p ?o }} }}")
    assert 0 < len(_graph_quads(store, minter)) < complete
    store.close()
    del store  # the folder lock goes with the last reference; the next start is another process
    start = subprocess.run([sys.executable, "-c", "from server.serve import prepare_store; from server.settings "
                            f"import Settings; prepare_store(Settings(store={str(tmp_path / 'store')!r}, "
                            "_env_file=None))"], capture_output=True, text=True, timeout=300)
    assert start.returncode == 0, start.stderr
    store = OxigraphStore(tmp_path / "store")
    assert len(_graph_quads(store, minter)) == complete
    assert store.ask(PREFIXES + f"ASK {{ GRAPH <{minter.assessments_graph}> {{ ?run og:verdictsDigest ?d }} }}")
    store.close()
