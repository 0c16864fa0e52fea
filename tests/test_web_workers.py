"""``OPENNESS_WEB_WORKERS``: several web processes share the embedded store read-only, each with its own
query workers; writes, which need the store's single writer, cannot be enabled with them."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import private_store_copy
from tests.test_faults import ROOT, free_port, stop_group

MODELS = "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a <https://w3id.org/openness-graph/ontology#ModelRelease> }"


def _cli(*args: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    return [sys.executable, "-c", "from server.cli import main; main()", *args], dict(os.environ, **env)


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _web_processes(pid: int) -> list[int]:
    """uvicorn starts its web processes with multiprocessing's spawn (query workers come from a forkserver)."""
    return [c for c in _children(pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def test_a_token_with_several_web_processes_is_refused_before_anything_starts(tmp_path):
    argv, env = _cli("serve", "--port", str(free_port()),
                     env={"OPENNESS_STORE": str(tmp_path / "store"), "OPENNESS_WEB_WORKERS": "2",
                          "OPENNESS_TOKEN": "s3cret"})
    result = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "OPENNESS_WEB_WORKERS=2" in result.stderr and "unset OPENNESS_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "store").exists()  # refused before the first-start load


def test_two_web_processes_answer_from_the_store_read_only(tmp_path, bundled_settings, bundled_store):
    copy = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    quads = len(copy.oxigraph)
    expected = int(next(iter(copy.oxigraph.query(MODELS, use_default_graph_as_union=True)))["n"].value)
    del copy
    gc.collect()  # pyoxigraph releases the store's lock when the handle is freed
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    argv, env = _cli("serve", "--port", str(port),
                     env={"OPENNESS_STORE": str(tmp_path / "store"), "OPENNESS_WEB_WORKERS": "2"})
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while log.read_text().count("Application startup complete") < 2:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
        assert "2 web processes" in log.read_text()
        web = _web_processes(proc.pid)
        assert len(web) == 2, log.read_text()[-2000:]

        for _ in range(12):  # a new connection each time: the kernel spreads them over both processes
            answer = httpx.get(base + "/sparql", params={"query": MODELS}, timeout=30,
                               headers={"accept": "application/sparql-results+json"})
            assert answer.status_code == 200, answer.text
            assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) == expected
        health = httpx.get(base + "/health", timeout=30).json()
        assert health["status"] == "ok" and health["quads"] == quads
        assert health["queries"]["long_limit"] == 1  # the default 2 long queries, split between the two
        refused = httpx.post(base + "/update", data={"update": "CLEAR ALL"}, timeout=30)
        assert refused.status_code == 403 and "OPENNESS_TOKEN" in refused.text
    finally:
        stop_group(proc)
    assert proc.returncode == 0, log.read_text()[-2000:]
    assert not any(Path(f"/proc/{pid}").exists() for pid in web)
