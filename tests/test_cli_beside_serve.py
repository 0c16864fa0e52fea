"""While ``openness serve`` holds the embedded store (its one writer), the read commands answer from a
read-only view of it; a write command stops with one line that says why and what to do."""

from __future__ import annotations

import gc
import json
import subprocess
import time

import httpx

from server.ingest.records import list_records
from tests.conftest import private_store_copy
from tests.test_faults import ROOT, free_port, run, stop_group
from tests.test_web_workers import _cli

RELEASES = "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a <https://w3id.org/openness-graph/ontology#ModelRelease> }"


def test_read_commands_answer_while_serve_holds_the_store(tmp_path, bundled_settings, bundled_store):
    copy = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    records = list_records(copy)
    releases = copy.select(RELEASES)[0]["n"].value
    del copy
    gc.collect()  # pyoxigraph releases the store's lock when the handle is freed
    store = tmp_path / "store"
    port = free_port()
    log = tmp_path / "serve.log"
    argv, env = _cli("serve", "--port", str(port), env={"OPENNESS_STORE": str(store)})
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Application startup complete" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=30).json()["status"] == "ok"

        models = run("models", "--format", "json", store=store)
        assert models.returncode == 0, models.stderr
        listed = json.loads(models.stdout)
        assert listed == records and {"mot/Llama-2-7B", "osai-index/OLMo"} <= {m["id"] for m in listed}

        query = run("query", RELEASES, "--format", "csv", store=store)
        assert query.returncode == 0, query.stderr
        assert query.stdout.splitlines()[1] == releases

        dump = run("export", "--format", "nquads", store=store)
        assert dump.returncode == 0, dump.stderr
        assert "<https://w3id.org/openness-graph/ontology#ModelRelease>" in dump.stdout
        catalog = run("export", "--format", "dcat", store=store)
        assert catalog.returncode == 0 and "dcat:Catalog" in catalog.stdout, catalog.stderr

        write = run("load", str(ROOT / "tests" / "data" / "sparql_fixture.ttl"), store=store)
        assert write.returncode == 1
        assert write.stderr.count("\n") == 1 and "Traceback" not in write.stderr
        assert "in use by another process" in write.stderr and "openness serve" in write.stderr
    finally:
        stop_group(proc)
    # uvicorn shuts down cleanly, then re-raises the SIGTERM it caught
    assert "Application shutdown complete" in log.read_text(), log.read_text()[-2000:]
