"""Faults: `openness load` killed with SIGKILL part-way, then run again: the store opens, the counts are
right, and no half-loaded record is ever visible. A read-only or impossible store path is a clear error."""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import HALF_LOADED

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, store: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, OPENNESS_STORE=str(store))
    return subprocess.run([sys.executable, "-c", "from server.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)


def kill_load_after(store: Path, seconds: float) -> None:
    env = dict(os.environ, OPENNESS_STORE=str(store))
    proc = subprocess.Popen([sys.executable, "-c", "from server.cli import main; main()", "load"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1.5, 4.0])
def test_sigkill_during_load_then_reload(tmp_path, kill_after):
    store = tmp_path / "store"
    kill_load_after(store, kill_after)
    # the store opens after the kill, and whatever is visible is whole records only
    half = run("query", HALF_LOADED, "--format", "json", store=store)
    assert half.returncode == 0, half.stderr
    assert json.loads(half.stdout)["results"]["bindings"] == []
    again = run("load", store=store)
    assert again.returncode == 0, again.stderr
    models = json.loads(run("models", "--format", "json", store=store).stdout)
    by_source = {s: sum(1 for m in models if m["source"] == s) for s in ("mot", "osai-index")}
    assert by_source == {"mot": 273, "osai-index": 193}


def test_store_path_under_a_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("models", store=blocker / "store")
    assert result.returncode == 1
    assert "cannot open the store" in result.stderr and "Traceback" not in result.stderr


# --- a full disk and a read-only store folder ------------------------------------------------------------
# Real small filesystems: a tmpfs of a few MB fills up for real, a read-only bind mount refuses writes even
# to root (which ignores file modes). Both need root, as CI has; elsewhere they skip and say why.

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ASSESSED = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?a a og:Assessment ; og:assessedRecord ?m }"""


def _mount(*args: str) -> None:
    if not IS_ROOT:
        pytest.skip("mounting a filesystem needs root (CI runs as root)")
    try:
        subprocess.run(["mount", *args], check=True, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount here ({getattr(exc, 'stderr', '') or exc}); CI runs as root with mount")


@contextmanager
def small_disk(path: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    """A real tmpfs of ``size`` at ``path`` (optionally mounted read-only), unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}" + (",ro" if read_only else ""), "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


@contextmanager
def read_only_view(source: Path, view: Path) -> Iterator[Path]:
    """``source`` seen read-only at ``view``: a read-only bind mount (root), else mode 0555 (others)."""
    view.mkdir(parents=True, exist_ok=True)
    if IS_ROOT:
        _mount("-o", "bind,ro", str(source), str(view))
        try:
            yield view
        finally:
            subprocess.run(["umount", "-l", str(view)], capture_output=True, timeout=30)
        return
    modes = {p: p.stat().st_mode for p in [source, *source.rglob("*")]}
    for p in modes:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        yield source
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def fixture_store(folder: Path) -> Path:
    """A small real store (the SPARQL fixture graph) at ``folder``, closed and unlocked."""
    from server.store import OxigraphStore
    from tests.conftest import load_fixture

    store = OxigraphStore(folder)
    load_fixture(store)
    store.close()
    del store  # pyoxigraph releases the folder's lock when the Store object goes
    gc.collect()
    return folder


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit code 1, no traceback, and the last line of stderr is one ``openness: ...`` line naming it."""
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("openness: "), result.stderr[-2000:]
    for needle in needles:
        assert needle in last, last
    return last


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_load_on_a_full_disk_is_a_one_line_error(tmp_path):
    with small_disk(tmp_path / "disk", "2m") as disk:
        result = run("load", store=disk / "store", timeout=300)
    assert_one_line_error(result, "No space left on device", "the store failed while")


def test_serve_first_start_on_a_full_disk_is_a_one_line_error(tmp_path):
    """``openness serve`` on an empty store loads the bundled data first: on a full disk it stops with the
    same one-line error instead of a traceback, and does not go on to serve a half-filled store."""
    with small_disk(tmp_path / "disk", "2m") as disk:
        result = run("serve", "--port", str(free_port()), store=disk / "store", timeout=300)
    assert_one_line_error(result, "No space left on device")


@pytest.mark.parametrize("command", [("load", "tests/data/loaders/native_record.ttl"), ("models",),
                                     ("query", "ASK { ?s ?p ?o }"), ("serve", "--port", "0")])
def test_read_only_store_folder_is_a_one_line_error(tmp_path, command):
    """A store folder that cannot be written (read-only mount, or no write permission): every command that
    opens the store says so in one line. (Oxigraph opens read-write even to read: it keeps a lock file.)"""
    source = fixture_store(tmp_path / "src" / "store")
    with read_only_view(source.parent, tmp_path / "ro") as view:
        result = run(*command, store=view / "store", timeout=120)
    assert_one_line_error(result, "cannot open the store", "Read-only file system" if IS_ROOT else "ermission")


def test_serve_with_an_empty_read_only_folder_is_a_one_line_error(tmp_path):
    with small_disk(tmp_path / "ro", "1m", read_only=True) as view:
        result = run("serve", "--port", str(free_port()), store=view / "store", timeout=120)
    assert_one_line_error(result, "cannot open the store", "Read-only file system")


def fill(disk: Path) -> Path:
    """Fill the filesystem at ``disk`` to the last byte with a filler file; returns the filler."""
    filler = disk / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def test_writes_on_a_full_disk_answer_507_and_reads_go_on(tmp_path):
    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.settings import Settings
    from server.store import OxigraphStore
    from tests.conftest import load_fixture

    with small_disk(tmp_path / "disk", "8m") as disk:
        store = OxigraphStore(disk / "store")
        load_fixture(store)
        settings = Settings(store=store.path, token="t", _env_file=None)
        auth = {"authorization": "Bearer t"}
        filler = fill(disk)
        triples = " ".join(f'<https://example.org/s{k}> <https://example.org/p> "{"y" * 200}" .' for k in range(3000))
        with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
            update = client.post("/update", headers=auth,
                                 data={"update": f"INSERT DATA {{ GRAPH <https://example.org/g> {{ {triples} }} }}"})
            put = client.put("/store", params={"graph": "https://example.org/h"},
                             content=triples.replace(" . <", " .\n<").encode(),
                             headers={**auth, "content-type": "application/n-triples"})
            ask = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
            filler.unlink()
        store.close()
        del store
        gc.collect()
    assert ask.status_code == 200 and ask.json()["boolean"] is True  # reads go on
    for response in (update, put):
        assert response.status_code == 507, (response.status_code, response.text)
        assert "No space left on device" in response.text


# --- the server killed (SIGKILL) during its first-start load ------------------------------------------------


def serve_process(store: Path, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, OPENNESS_STORE=str(store))
    return subprocess.Popen([sys.executable, "-c", "from server.cli import main; main()", "serve", "--port",
                             str(port)], env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_for_line(log: Path, text: str, proc: subprocess.Popen, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while text not in log.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.05)


def sparql_json(base: str, query: str) -> dict:
    import httpx

    response = httpx.get(base + "/sparql", params={"query": query}, timeout=60,
                         headers={"accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.mark.slow
@pytest.mark.parametrize("phase,marker,extra", [
    ("loading", "loading the bundled sources", 2.5),
    ("assessing", "assessing every record", 1.0),
])
def test_serve_killed_during_first_start_serves_whole_records_after_restart(tmp_path, phase, marker, extra):
    """``openness serve`` fills an empty store on first start; SIGKILL it part-way (while loading, while
    assessing), start it again: it serves, no half-loaded record is visible, and every bundled record is
    there and assessed."""
    import httpx

    store = tmp_path / "store"
    first = serve_process(store, free_port(), tmp_path / "first.log")
    try:
        wait_for_line(tmp_path / "first.log", marker, first)
        time.sleep(extra)
        assert first.poll() is None, "the first start finished before it could be killed"
    finally:
        stop_group(first, signal.SIGKILL)
    port = free_port()
    second = serve_process(store, port, tmp_path / "second.log")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert second.poll() is None and time.monotonic() < deadline, (tmp_path / "second.log").read_text()
            time.sleep(0.2)
        assert sparql_json(base, HALF_LOADED)["results"]["bindings"] == []
        models = httpx.get(base + "/models", headers={"accept": "application/json"}, timeout=60).json()
        by_source = {s: sum(1 for m in models if m["source"] == s) for s in ("mot", "osai-index")}
        assessed = int(sparql_json(base, ASSESSED)["results"]["bindings"][0]["n"]["value"])
        assert by_source == {"mot": 273, "osai-index": 193}, f"killed while {phase}: {by_source}"
        assert assessed == 466, f"killed while {phase}: {assessed} records assessed"
    finally:
        stop_group(second)
