"""The fast loading paths give what the plain one gives: loaders in worker processes (``workers`` > 1) and
the bulk first load into an empty store (``OxigraphStore.load_fresh``) store the same quads and refuse the
same files as one process writing transactions; a reload after a bulk load keeps the quad count; SIGKILL
during a parallel bulk load leaves no half-loaded record; the record graph store and the compiled schema
check behave like what they replace."""

from __future__ import annotations

import copy
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml
from rdflib import Graph, Literal, URIRef

from bench.synthetic import write_folder
from loaders.bundled_data import data_file
from loaders.errors import RecordError
from loaders.mot import _compiled_is_valid, _validator, schema_errors
from loaders.record import new_graph
from loaders.vocab import PROV, Minter
from server.ingest import loading
from server.store import OxigraphStore, StoreError
from tests.conftest import HALF_LOADED

ROOT = Path(__file__).resolve().parents[1]
ENDED = ox.NamedNode(str(PROV.endedAtTime))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[tuple[Path, None]]:
    """30 MOT and 10 Index records, a truncated YAML file and a record failing the MOT schema."""
    folder = tmp_path_factory.mktemp("records")
    for path in sorted(data_file("mot", "models").glob("*.yml"))[:30]:
        (folder / path.name).write_bytes(path.read_bytes())
    for path in sorted(data_file("osai-index", "models").glob("*.yaml"))[:10]:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "truncated.yml").write_text("framework:\n  name: [Model Openness\n")
    (folder / "no-release-name.yml").write_text(yaml.safe_dump({"framework": {"name": "x"}, "release": {"x": 1}}))
    return [(p, None) for p in loading.iter_record_files([folder])]


def stored(store: OxigraphStore) -> tuple[set[ox.Quad], int]:
    """Every quad without a blank node but the load times (which differ between two loads), and how many
    quads have a blank node (the reference graphs' blank nodes are named anew by each parse)."""
    quads = [q for q in store.oxigraph.quads_for_pattern(None, None, None) if q.predicate != ENDED]
    blank = [q for q in quads if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)]
    return set(quads) - set(blank), len(blank)


def outcome(report: loading.LoadReport) -> tuple[list[str], list[str]]:
    return report.loaded, [str(e) for e in report.errors]


def test_parallel_and_bulk_loads_equal_the_serial_transactional_load(files, tmp_path):
    minter = Minter()
    serial = OxigraphStore(None)
    loading.load_reference(serial, minter)
    serial_report = loading.load_files(serial, minter, files, workers=1)
    assert len(serial_report.loaded) == 40 and len(serial_report.errors) == 2

    parallel = OxigraphStore(None)
    loading.load_reference(parallel, minter)
    assert outcome(loading.load_files(parallel, minter, files, workers=2)) == outcome(serial_report)
    assert stored(parallel) == stored(serial)

    bulk = OxigraphStore(tmp_path / "store")
    assert bulk.is_empty()
    assert outcome(loading.bulk_first_load(bulk, minter, files, workers=2)) == outcome(serial_report)
    assert stored(bulk) == stored(serial)
    bulk.close()


def test_bulk_first_load_then_reload_keeps_the_quad_count(files, tmp_path):
    path = tmp_path / "store"
    (tmp_path / "store.bulk-load").mkdir()  # a stray staging folder from a killed bulk load
    store = OxigraphStore(path)
    minter = Minter()
    report = loading.load_sources(store, minter, files)
    count = store.quad_count()
    assert len(report.loaded) == 40 and count > 4000
    assert not (tmp_path / "store.bulk-load").exists() and not (tmp_path / "store.replaced").exists()
    assert not store.is_empty()
    loading.load_sources(store, minter, files)  # not empty now: the transactional path
    assert store.quad_count() == count
    store.close()
    del store
    assert OxigraphStore(path).quad_count() == count  # the swapped-in folder is the store on disk


def test_load_fresh_refuses_a_store_with_quads(tmp_path):
    store = OxigraphStore(tmp_path / "store")
    store.bulk_add([ox.Quad(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"),
                            ox.Literal("o"), ox.NamedNode("https://example.org/g"))])
    with pytest.raises(StoreError, match="empty store"):
        store.load_fresh([b""])


def run_cli(*args: str, store: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, OPENNESS_STORE=str(store))
    return subprocess.run([sys.executable, "-c", "from server.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [2.0, 6.0])
def test_sigkill_during_a_parallel_bulk_load_then_rerun(tmp_path, kill_after):
    folder = tmp_path / "synthetic"
    write_folder(1200, folder)
    store = tmp_path / "store"
    env = dict(os.environ, OPENNESS_STORE=str(store))
    proc = subprocess.Popen([sys.executable, "-c", "from server.cli import main; main()", "load", str(folder),
                             "--workers", "2"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(kill_after)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its loader processes, as a crash would
    proc.wait(timeout=30)
    half = run_cli("query", HALF_LOADED, "--format", "json", store=store)
    assert half.returncode == 0, half.stderr
    assert json.loads(half.stdout)["results"]["bindings"] == []
    again = run_cli("load", str(folder), "--workers", "2", store=store)
    assert again.returncode == 0, again.stderr
    assert "loaded 1200 records; refused 0" in again.stdout
    models = json.loads(run_cli("models", "--format", "json", store=store).stdout)
    assert sum(1 for m in models if m["source"] == "mot") == 1200


def test_record_error_survives_pickling():
    error = pickle.loads(pickle.dumps(RecordError("models/x.yml", "malformed YAML: oops", 3, 7)))
    assert (error.file, error.message, error.line, error.column) == ("models/x.yml", "malformed YAML: oops", 3, 7)
    assert str(error) == "models/x.yml:3:7: malformed YAML: oops"


def test_record_graph_store_behaves_like_rdflib_memory():
    s, p, q = URIRef("https://example.org/s"), URIRef("https://example.org/p"), URIRef("https://example.org/q")
    triples = [(s, p, Literal("a")), (s, q, Literal("b")), (p, p, s), (s, p, Literal("a"))]
    fast, plain = new_graph(), Graph()
    for t in triples:
        fast.add(t)
        plain.add(t)
    assert len(fast) == len(plain) == 3
    for pattern in [(None, None, None), (s, None, None), (None, p, None), (None, None, s), (s, p, Literal("a"))]:
        assert set(fast.triples(pattern)) == set(plain.triples(pattern))
    assert fast.value(s, q) == Literal("b") and (p, p, s) in fast
    fast.remove((s, p, None))
    plain.remove((s, p, None))
    assert set(fast) == set(plain)
    assert "example.org" in fast.serialize(format="turtle")


def mutations(record: dict) -> list[dict]:
    """Schema-relevant edits of a valid record: dropped, retyped and unexpected keys."""
    out = []
    for edit in ("drop-name", "name-int", "components-str", "component-int", "extra", "date-int", "license-list"):
        r = copy.deepcopy(record)
        release = r["release"]
        if edit == "drop-name":
            release.pop("name", None)
        elif edit == "name-int":
            release["name"] = 7
        elif edit == "components-str":
            release["components"] = "all of them"
        elif edit == "component-int" and release.get("components"):
            release["components"][0] = 3
        elif edit == "extra":
            r["unexpected"] = {"x": 1}
        elif edit == "date-int":
            release["date"] = 2024
        elif edit == "license-list":
            release["license"] = ["MIT"]
        out.append(r)
    return out


def test_compiled_schema_check_agrees_with_jsonschema():
    is_valid = _compiled_is_valid()
    if is_valid is None:
        pytest.skip("jsonschema_rs is not installed: the pure-Python validator is the only one")
    records = [yaml.safe_load(p.read_text(encoding="utf-8"))
               for p in sorted(data_file("mot", "models").glob("*.yml"))[:40]]
    checked = 0
    for record in records:
        for candidate in [record, *mutations(record)]:
            expected = not list(_validator().iter_errors(candidate))
            assert is_valid(json.loads(json.dumps(candidate, default=str))) == expected
            assert (not schema_errors(candidate)) == expected
            checked += 1
    assert checked == 40 * 8
