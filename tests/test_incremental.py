"""Incremental re-assessment (server.assess.incremental): after records change, `openness assess` re-evaluates
only them and their releases, and the stored run equals the one a full re-run (`--full`) stores."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from loaders.vocab import LICENSES_GRAPH, OG, Minter
from server.app import create_app
from server.assess.incremental import _changes_by_comparison, _changes_in_journal, assess_changed, reference_digest
from server.assess.run import assess_all
from server.assess.run_graphs import current_run
from server.ingest.identity import link_records, links_current
from server.ingest.loading import load_sources
from server.settings import Settings
from server.store import OxigraphStore
from tests.conftest import private_store_copy

MOT = Path(__file__).resolve().parent.parent / "data" / "mot" / "models"
OPENNESS = [sys.executable, "-c", "from server.cli import main; main()"]


def openness(store: Path, *args: str) -> str:
    env = {**os.environ, "OPENNESS_STORE": str(store)}
    done = subprocess.run([*OPENNESS, *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def run_graph_statements(path: Path) -> set[str]:
    """The current run graph's statements but the run's own (time, digest), with the run graph's name
    replaced, so two runs' graphs compare by content."""
    store = ox.Store.read_only(str(path))
    minter = Minter("https://w3id.org/openness-graph/")
    pointer = ox.NamedNode(minter.assessments_graph)
    (run,) = [q.object.value for q in store.quads_for_pattern(pointer, None, None, pointer)
              if q.predicate.value.endswith("hasCurrentVersion")]
    return {str(ox.Triple(q.subject, q.predicate, q.object)).replace(run, "RUN")
            for q in store.quads_for_pattern(None, None, None, ox.NamedNode(run)) if q.subject.value != f"{run}#run"}


def changed_records(folder: Path) -> Path:
    """Three bundled MOT records with a changed license each (Amber's release also has an Index record; a
    Llama 2 weights license; a Pythia code license), and one new record."""
    folder.mkdir()
    for name, old, new in (("Amber", "license: MIT", "license: CC-BY-NC-4.0"),
                           ("Llama-2-7B", "license: 'Llama 2 Community License'", "license: Apache-2.0"),
                           ("Pythia-1.4B", "license: MIT", "license: GPL-3.0-only")):
        text = (MOT / f"{name}.yml").read_text(encoding="utf-8")
        assert old in text
        (folder / f"{name}.yml").write_text(text.replace(old, new, 1), encoding="utf-8")
    new_record = (MOT / "Amber.yml").read_text(encoding="utf-8").replace("name: Amber", "name: Amber-Reloaded", 1)
    (folder / "Amber-Reloaded.yml").write_text(new_record, encoding="utf-8")
    return folder


@pytest.fixture
def store_copy(bundled_settings, bundled_store, tmp_path) -> Path:
    private_store_copy(bundled_settings, bundled_store, tmp_path / "store").close()
    return tmp_path / "store"


def test_changed_records_only_and_equal_to_a_full_run(store_copy, tmp_path):
    before = run_graph_statements(store_copy)
    openness(store_copy, "load", str(changed_records(tmp_path / "changed")))
    out = openness(store_copy, "assess")
    assert "re-assessed 4 changed records and 3 releases" in out, out  # Amber-Reloaded: same repo as Amber
    assert out.count("\n") == 5  # a line per re-evaluated record, then the summary
    assert "mot/Llama-2-7B:" in out and "mot/Amber-Reloaded:" in out
    incremental = run_graph_statements(store_copy)
    assert incremental != before  # the changes reached the stored verdicts
    full = tmp_path / "full"
    shutil.copytree(store_copy, full)
    assert "assessed 467 records" in openness(full, "assess", "--full")
    assert incremental == run_graph_statements(full)
    # nothing changed since: nothing re-evaluated, the run graph as it was
    assert "re-assessed 0 changed records and 0 releases; 467 records" in openness(store_copy, "assess")
    assert run_graph_statements(store_copy) == incremental


def test_reloading_unchanged_records_reassesses_nothing(store_copy):
    openness(store_copy, "load", str(MOT / "Amber.yml"), str(MOT / "OLMo-7B.yml"))
    assert "re-assessed 0 changed records and 0 releases" in openness(store_copy, "assess")


def test_the_journal_finds_what_comparing_every_digest_finds(store_copy, bundled_settings, tmp_path):
    """Changes that keep the identity graph (licenses) are found among the graphs written since the run, by
    point lookups: the same records, releases, digests and totals as comparing every digest, and the run
    then equals a full run's."""
    minter = Minter(bundled_settings.base_iri)
    store = OxigraphStore(store_copy)
    licensed = changed_records(tmp_path / "licensed")
    try:
        report = load_sources(store, minter, [(licensed / f"{n}.yml", None) for n in ("Amber", "Llama-2-7B",
                                                                                    "Pythia-1.4B")])
        assert report.ok and not report.identity_changed
        run, journal, reference = current_run(store, minter).graph, store.journal.read(), reference_digest(store)
        assert journal.run == run and minter.record_graph("mot/Llama-2-7B") in journal.graphs
        by_journal = _changes_in_journal(store, minter, run, journal, reference)
        by_comparison = _changes_by_comparison(store, minter, run, reference)
        assert by_journal.changed == by_comparison.changed == sorted(
            minter.record(f"mot/{n}") for n in ("Amber", "Llama-2-7B", "Pythia-1.4B"))
        assert by_journal.affected == by_comparison.affected and len(by_journal.affected) == 3
        assert by_journal.now.releases == {iri: by_comparison.now.releases[iri] for iri in by_journal.now.releases}
        assert (by_journal.total_records, by_journal.total_releases) == (466, 453) == (
            by_comparison.total_records, by_comparison.total_releases)
        outcome = assess_changed(store, minter)
        assert outcome.found_by == "journal" and len(outcome.results) == 3 and outcome.kept_records == 463
        after = store.journal.read()
        assert after.run == run and not (after.graphs - {run})  # restarted: only the run's own write since
        assert assess_changed(store, minter).results == []
    finally:
        store.close()
    del store
    gc.collect()
    full = tmp_path / "full"
    shutil.copytree(store_copy, full)
    openness(full, "assess", "--full")
    assert run_graph_statements(store_copy) == run_graph_statements(full)


def test_the_journal_vouches_only_for_its_run(tmp_path):
    """Graphs are noted before they are written; a restart keeps what was noted after the run read the
    journal; a bulk write (graphs not named) or a journal cut off mid-line vouches for nothing."""
    store = OxigraphStore(tmp_path / "s")
    quad = ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o"), ox.NamedNode("urn:g1"))
    try:
        assert store.journal.read().run is None  # a store without a journal: no run vouched for
        store.replace_quads({"urn:g1": [quad]})
        seen = store.journal.read()
        assert seen.run is None and seen.graphs == frozenset()
        store.journal.restart("urn:run1", seen)
        assert store.journal.read().run == "urn:run1"
        seen = store.journal.read()
        store.drop_graphs(["urn:g2"])  # noted while a run runs: kept by its restart
        store.journal.restart("urn:run2", seen)
        assert (store.journal.read().run, store.journal.read().graphs) == ("urn:run2", frozenset({"urn:g2"}))
        store.bulk_add([quad])
        assert store.journal.read().run is None
        store.journal.restart("urn:run3", store.journal.read())
        with open(store.journal.path, "a", encoding="utf-8") as f:
            f.write("urn:cut-off")
        assert store.journal.read().run is None
        store.journal.path.unlink()  # lost: the run that reads it missing still restarts it
        seen = store.journal.read()
        store.replace_quads({"urn:g1": [quad]})
        store.journal.restart("urn:run4", seen)
        assert (store.journal.read().run, store.journal.read().graphs) == ("urn:run4", frozenset({"urn:g1"}))
    finally:
        store.close()
    del store
    gc.collect()
    assert OxigraphStore(tmp_path / "s", read_only=True).journal.path is None  # a reader writes no journal


def test_what_a_digest_cannot_vouch_for_takes_a_full_run(store_copy, bundled_settings):
    """HTTP writes keep no digests, and a changed license KB changes every verdict's inputs: both make the
    incremental run decline (the caller then runs in full), and a full run clears the mark."""
    minter = Minter(bundled_settings.base_iri)
    store = OxigraphStore(store_copy)
    try:
        assert assess_changed(store, minter).results == []
        store.note_untracked_write()
        assert assess_changed(store, minter) is None
        assess_all(store, bundled_settings)
        assert not store.has_untracked_writes()
        assert assess_changed(store, minter) is not None
        store.update(f"INSERT DATA {{ GRAPH <{LICENSES_GRAPH}> {{ <urn:x> <urn:y> 'changed KB' }} }}")
        assert assess_changed(store, minter) is None
    finally:
        store.close()


def test_http_writes_mark_the_store(tmp_path):
    """A write through the Graph Store protocol or SPARQL Update marks the store for a full assessment."""
    settings = Settings(store=tmp_path / "s", token="s3cret", _env_file=None)
    store = OxigraphStore(settings.store)
    auth = {"authorization": "Bearer s3cret"}
    with TestClient(create_app(settings, store)) as c:
        assert not store.has_untracked_writes()
        assert c.get("/health").json()["quads"] == 0
        put = c.put("/store", params={"graph": "https://example.org/g"}, content="<urn:a> <urn:b> <urn:c> .",
                    headers=auth | {"content-type": "application/n-triples"})
        assert put.status_code == 201 and store.has_untracked_writes()
        assert c.get("/health").json()["quads"] == 1  # the count is cached per write generation
        store.clear_untracked_writes()
        update = c.post("/update", data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:d> }"}, headers=auth)
        assert update.status_code == 204 and store.has_untracked_writes()
        store.clear_untracked_writes()
        assert c.post("/update", data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:d> }"}).status_code in (401, 403)
        assert not store.has_untracked_writes()  # a refused write changed nothing


def test_removed_records_lose_their_verdicts(store_copy, bundled_settings, tmp_path):
    """A record removed from the store takes its verdicts with it, and its release is re-evaluated without
    it, as a full run does."""
    minter = Minter(bundled_settings.base_iri)
    store = OxigraphStore(store_copy)
    try:
        store.drop_graphs([minter.record_graph("mot/Pythia-1.4B")])
        link_records(store, minter)
        outcome = assess_changed(store, minter)
        assert outcome is not None and outcome.removed >= 1 and outcome.results == []
        run = current_run(store, minter).graph
        assert not store.ask(f"ASK {{ GRAPH <{run}> {{ ?a ?p <{minter.record('mot/Pythia-1.4B')}> }} }}")
    finally:
        store.close()
    del store  # pyoxigraph closes a store when its last reference goes: before its folder is copied
    gc.collect()
    full = tmp_path / "full"
    shutil.copytree(store_copy, full)
    openness(full, "assess", "--full")
    assert run_graph_statements(store_copy) == run_graph_statements(full)


def test_compaction_after_large_writes_only(tmp_path):
    """A handle that wrote at least the threshold compacts its store once; below it, in memory, read-only
    or with 0 (off), it does not; the data stays readable."""
    store = OxigraphStore(tmp_path / "s")
    quads = [ox.Quad(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:p"), ox.Literal(str(i)), ox.NamedNode("urn:g"))
             for i in range(500)]
    store.replace_quads({"urn:g": quads})
    assert store.quads_written == 500
    assert not store.compact_if_written(0) and not store.compact_if_written(501)
    assert store.compact_if_written(500) and store.quads_written == 0
    assert not store.compact_if_written(1)
    assert store.quad_count() == 500
    store.close()
    memory = OxigraphStore(None)
    memory.replace_quads({"urn:g": quads})
    assert not memory.compact_if_written(1)


def test_load_compacts_when_told(tmp_path):
    env = {**os.environ, "OPENNESS_STORE": str(tmp_path / "s"), "OPENNESS_COMPACT_AFTER": "1"}
    done = subprocess.run([*OPENNESS, "load", str(MOT / "Amber.yml")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "compacted the store after a large write" in done.stdout
    env["OPENNESS_COMPACT_AFTER"] = "0"
    again = subprocess.run([*OPENNESS, "load", str(MOT / "OLMo-7B.yml")], env=env, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0 and "compacted" not in again.stdout


def test_a_load_relinks_only_when_identity_statements_change(store_copy, bundled_settings, tmp_path):
    """A reload that changes a license keeps the links graph (no pass over every record); one that renames
    a model recomputes it, and so does a changed overrides file."""
    minter = Minter(bundled_settings.base_iri)
    store = OxigraphStore(store_copy)
    links = ox.NamedNode(minter.links_graph)
    try:
        before = set(store.oxigraph.quads_for_pattern(None, None, None, links))
        licensed = changed_records(tmp_path / "licensed")
        report = load_sources(store, minter, [(licensed / "Llama-2-7B.yml", None)])
        assert report.ok and not report.identity_changed
        assert set(store.oxigraph.quads_for_pattern(None, None, None, links)) == before
        renamed = tmp_path / "renamed"
        renamed.mkdir()
        text = (MOT / "OLMo-7B.yml").read_text(encoding="utf-8")
        assert "name: OLMo-7B" in text
        (renamed / "OLMo-7B.yml").write_text(text.replace("name: OLMo-7B", "name: OLMo-7B-Renamed", 1),
                                             encoding="utf-8")
        report = load_sources(store, minter, [(renamed / "OLMo-7B.yml", None)])
        assert report.identity_changed
        labels = {q.object.value for q in store.oxigraph.quads_for_pattern(None, None, None, links)}
        assert "OLMo-7B-Renamed" in labels
        store.update(f"DELETE WHERE {{ GRAPH <{links.value}> {{ <{links.value}> <{OG.overridesDigest}> ?d }} }}")
        assert not links_current(store, minter)
        load_sources(store, minter, [(licensed / "Llama-2-7B.yml", None)])
        assert links_current(store, minter)
    finally:
        store.close()
