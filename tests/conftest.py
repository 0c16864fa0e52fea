"""Shared fixtures: a small on-disk Oxigraph store and a TestClient of the app over it."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest
import uvicorn
from fastapi.testclient import TestClient
from shacl_batches import BUNDLED_VALIDATION, BundledRecordsValidation

from server.app import create_app
from server.settings import Settings
from server.store import OxigraphStore

# No test reaches the real Hugging Face Hub: huggingface_hub (imported later, it reads these once) points at a
# closed local port, reads no saved token and sends no telemetry; Hub tests pass their fake Hub's URL.
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="openness-test-hf-home-")
atexit.register(shutil.rmtree, os.environ["HF_HOME"], ignore_errors=True)  # a test session leaves nothing in /tmp
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
for _name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"):
    os.environ.pop(_name, None)

DATA = Path(__file__).parent / "data"
FIXTURE_GRAPH = "https://example.org/test/graph/fixture"
# Record graphs holding a model but not the provenance written with it: a half-loaded record.
HALF_LOADED = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
SELECT ?g WHERE {
  GRAPH ?g { ?m a og:ModelRelease }
  FILTER NOT EXISTS { GRAPH ?g { ?g a og:SourceRecord } }
}"""


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start pySHACL over the bundled records now, at the lowest priority, when a selected test needs it: it
    then runs on the CPU the tests before it leave idle (tests/shacl_batches.py)."""
    if session.config.option.collectonly:
        return
    if any("shacl_outcomes" in getattr(item, "fixturenames", ()) for item in session.items):
        session.config.stash[BUNDLED_VALIDATION] = BundledRecordsValidation()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if (validation := session.config.stash.get(BUNDLED_VALIDATION, None)) is not None:
        validation.close()


def load_fixture(store: OxigraphStore, path: Path = DATA / "sparql_fixture.ttl", graph: str = FIXTURE_GRAPH):
    """Load a Turtle file into one named graph of ``store``."""
    store.oxigraph.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graph))
    store.oxigraph.flush()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(store=tmp_path / "store", query_timeout=10, query_workers=2, _env_file=None)


@pytest.fixture
def oxigraph_store(settings) -> OxigraphStore:
    """An on-disk Oxigraph store in tmp_path holding tests/data/sparql_fixture.ttl."""
    store = OxigraphStore(settings.store)
    load_fixture(store)
    yield store
    store.close()


@pytest.fixture
def client(settings, oxigraph_store):
    """A TestClient of ``create_app`` over the fixture store (lifespan run: query workers started)."""
    with TestClient(create_app(settings, oxigraph_store)) as test_client:
        yield test_client


@contextmanager
def live_server(app):
    """Run ``app`` under a real uvicorn on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


@pytest.fixture
def live_url(settings, oxigraph_store):
    """Base URL of a real uvicorn serving ``create_app`` over the fixture store."""
    with live_server(create_app(settings, oxigraph_store)) as url:
        yield url


# --- the bundled data, loaded and assessed once per test session ----------------------------------------


@pytest.fixture(scope="session")
def bundled_settings(tmp_path_factory) -> Settings:
    return Settings(store=tmp_path_factory.mktemp("bundled") / "store", query_timeout=20, _env_file=None)


@pytest.fixture(scope="session")
def bundled_store(bundled_settings) -> OxigraphStore:
    """An on-disk store with every bundled record loaded and assessed. Shared: tests must not write to it
    (copy ``bundled_settings.store`` after ``flush()`` for a private one)."""
    from server.assess.run import assess_all
    from server.ingest.loading import load_bundled

    store = OxigraphStore(bundled_settings.store)
    report = load_bundled(store, bundled_settings)
    assert report.ok, [str(e) for e in report.errors]
    assess_all(store, bundled_settings)
    store.oxigraph.flush()
    yield store
    store.close()


# --- Linked-Data pages, /validate and the catalog (tests/test_pages*.py, test_validate_api.py, test_catalog.py)

def private_store_copy(bundled_settings: Settings, bundled_store: OxigraphStore, dest: Path) -> OxigraphStore:
    """A writable copy of the session's bundled store, for tests that write (the shared one stays as is)."""
    bundled_store.oxigraph.flush()
    shutil.copytree(bundled_settings.store, dest, ignore=shutil.ignore_patterns("LOCK"))
    return OxigraphStore(dest)


@pytest.fixture(scope="session")
def bundled_results(bundled_store) -> list[dict]:
    """The verdict objects of every bundled record, as ``openness assess --format json`` prints them."""
    from server.assess.engine import assess_store

    return assess_store(bundled_store)


@pytest.fixture(scope="session")
def pages_client(bundled_settings, bundled_store):
    """A TestClient of ``create_app`` over the bundled store (session-wide; read-only use)."""
    with TestClient(create_app(bundled_settings, bundled_store)) as test_client:
        yield test_client
