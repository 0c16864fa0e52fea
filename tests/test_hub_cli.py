"""The Hub source as a user runs it: ``openness`` subprocesses with HF_ENDPOINT pointing at the fake Hub on
127.0.0.1 (tests/fakehub.py), which serves the 27 real cards of tests/data/hub. Loading each by id and the
licence each resolves to (the issue's 95 %), validate by id, a reload offline from the cache,
``openness harvest hf --limit 1000`` interrupted (Ctrl-C, then a kill) and resumed, then run again with
nothing new; and ``POST /validate?hf=`` behind OPENNESS_HF_FETCH with its rate limit."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from loaders.vocab import DCT, OG, Minter
from server.app import create_app
from server.ingest.hub import read_cursor
from server.settings import Settings
from server.store import OxigraphStore
from tests.fakehub import CARDS, TOKEN, FakeHub, FakeModel, real_cards, synthetic_models

OPENNESS = str(Path(sys.executable).with_name("openness"))
MINTER = Minter()
MANIFEST = list(csv.DictReader((CARDS.parent / "cards.csv").open(encoding="utf-8")))
QWEN = "Qwen/Qwen1.5-7B"


def hub_env(fake: FakeHub | None, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENNESS_", "HF_"))}
    env |= {"OPENNESS_STORE": str(tmp_path / "store"), "HF_HOME": str(tmp_path / "hf-home"),
            "HF_HUB_DISABLE_TELEMETRY": "1", "HF_ENDPOINT": fake.url if fake else "http://127.0.0.1:9"}
    return env | extra


def run(args: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([OPENNESS, *args], capture_output=True, text=True, env=env, timeout=timeout)


def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def weights_license_ids(store: OxigraphStore, repo_id: str) -> set[str]:
    weights = MINTER.artifact(f"hf/{repo_id}", "model-parameters-final")
    rows = store.select(f"SELECT ?l WHERE {{ <{weights}> <{DCT.license}> ?l }}")
    return {row["l"].value.rsplit("/", 1)[-1] for row in rows}


def commit_and_date(store: OxigraphStore, repo_id: str) -> tuple[str, str]:
    g = MINTER.record_graph(f"hf/{repo_id}")
    row = store.select(f"SELECT ?c ?d WHERE {{ GRAPH <{g}> {{ <{g}> <{OG.sourceCommit}> ?c ; <{DCT.date}> ?d }} }}")[0]
    return row["c"].value, row["d"].value


@pytest.mark.timeout(300)
def test_real_cards_load_by_id_resolve_their_licence_and_reload_offline(tmp_path):
    cards = real_cards()
    models = [FakeModel(row["hub_id"], cards[row["hub_id"]], gated=row["gated"] or False) for row in MANIFEST]
    with FakeHub(models) as fake:
        env = hub_env(fake, tmp_path, HF_TOKEN=TOKEN)
        validated = run(["validate", f"hf:{QWEN}", "--format", "json"], env)
        result = run(["load", *[f"hf:{row['hub_id']}" for row in MANIFEST]], env)
        bad_id = run(["load", "hf:https://huggingface.co/Qwen/Qwen1.5-7B"], env)
    refused = {row["hub_id"] for row in MANIFEST if row["stated_license"] == "refused"}
    assert result.returncode == 1, result.stderr
    assert f"loaded {len(MANIFEST) - len(refused)} records; refused {len(refused)}" in result.stdout
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(refused) and all(e.startswith("openness: hf:") and "malformed YAML" in e for e in errors)
    assert {e.split()[1].split(":")[1] for e in errors} == refused
    assert validated.returncode == 0 and json.loads(validated.stdout)["id"] == f"hf/{QWEN}"
    assert bad_id.returncode == 2 and "not a Hugging Face model id" in bad_id.stderr
    listed = json.loads(run(["models", "--format", "json"], env).stdout)
    assert {m["id"] for m in listed} == {f"hf/{row['hub_id']}" for row in MANIFEST} - {f"hf/{i}" for i in refused}
    assert {m["source"] for m in listed} == {"hf"}
    store = OxigraphStore(tmp_path / "store", read_only=True)
    try:
        loaded = [row for row in MANIFEST if row["hub_id"] not in refused]
        matches = [row for row in loaded if weights_license_ids(store, row["hub_id"])
                   == ({row["stated_license"]} if row["stated_license"] else set())]
        stating = [row for row in loaded if row["stated_license"]]
        print(f"\nweights licence resolved to the card's: {len(matches)}/{len(loaded)} cards "
              f"({100 * len(matches) / len(loaded):.0f} %); of those stating one: "
              f"{sum(row in matches for row in stating)}/{len(stating)}")
        assert len(matches) / len(loaded) >= 0.95
        assert all(row in matches for row in stating)
        before = commit_and_date(store, QWEN)
    finally:
        store.close()
    # the fake Hub is gone: offline, the reload comes from the cache and states the same commit and retrieval
    # time as the last fetch (the load's)
    offline = hub_env(None, tmp_path, HF_HUB_OFFLINE="1")
    again = run(["load", f"hf:{QWEN}"], offline)
    assert again.returncode == 0, again.stderr
    missing = run(["load", "hf:never/fetched"], offline)
    assert missing.returncode == 1
    assert "hf:never/fetched: not in the cache" in missing.stderr and "HF_HUB_OFFLINE" in missing.stderr
    store = OxigraphStore(tmp_path / "store", read_only=True)
    try:
        assert commit_and_date(store, QWEN) == before
    finally:
        store.close()


def cursor_position(tmp_path: Path) -> int:
    store = OxigraphStore(tmp_path / "store", read_only=True)
    try:
        cursor = read_cursor(store, MINTER)
        return cursor.position if cursor else -1
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_harvest_1000_interrupted_killed_resumed_then_nothing_new(tmp_path):
    with FakeHub(synthetic_models(1200)) as fake:
        env = hub_env(fake, tmp_path)
        cards = lambda: fake.count("/org-")  # noqa: E731 (README requests so far)
        args = [OPENNESS, "harvest", "hf", "--limit", "1000"]
        # Ctrl-C
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: cards() >= 200, 120)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "run the same command again to resume" in err
        first = cursor_position(tmp_path)
        assert 0 < first < 1000
        # a crash: killed
        fetched = cards()
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: cards() >= fetched + 300, 120)
        proc.kill()
        proc.communicate(timeout=60)
        second = cursor_position(tmp_path)
        assert first < second < 1000
        # resumed where the last batch ended: only the models after the cursor are fetched
        fetched = cards()
        started = time.monotonic()
        done = run(args[1:], env)
        elapsed = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        assert f"resumed at model {second} of the listing" in done.stdout
        assert "harvest: listed 1000; loaded 1000; unchanged 0; card unread (gated) 0; failed 0" in done.stdout
        # no card before the cursor is fetched again (cards of the batch the kill interrupted come from the cache)
        resumed = [int(r.split("/model-")[1][:5]) for r in fake.requests[-(cards() - fetched):]
                   if r.startswith("/org-")] if cards() > fetched else []
        assert resumed and min(resumed) >= second and len(resumed) <= 1000 - second
        assert cursor_position(tmp_path) == -1
        # a second harvest: nothing new, no card fetched
        fetched, listing = cards(), fake.count("/api/models?")
        again = run(args[1:], env)
        assert again.returncode == 0, again.stderr
        assert "harvest: listed 1000; loaded 0; unchanged 1000; card unread (gated) 0; failed 0" in again.stdout
        assert cards() == fetched and fake.count("/api/models?") == listing + 1
    store = OxigraphStore(tmp_path / "store", read_only=True)
    try:
        n = store.select(f"SELECT (COUNT(?m) AS ?n) WHERE {{ ?m a <{OG.ModelRelease}> ; <{OG.source}> \"hf\" }}")
        assert int(n[0]["n"].value) == 1000
    finally:
        store.close()
    print(f"\nharvest --limit 1000: Ctrl-C at {first}, killed at {second}, resumed for {1000 - second} models "
          f"in {elapsed:.1f} s; second run loads 0")


# --- the server ----------------------------------------------------------------------------------------------


def test_validate_by_hub_id_only_when_enabled_strict_and_rate_limited(tmp_path, monkeypatch):
    with FakeHub([FakeModel(QWEN, real_cards()[QWEN])]) as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        off = Settings(store=tmp_path / "store", query_workers=1, _env_file=None)
        with TestClient(create_app(off, OxigraphStore(None))) as client:
            r = client.post(f"/validate?hf={QWEN}", headers={"Accept": "application/json"})
            assert r.status_code == 403 and r.json()["error"] == "hub-fetch-off"
            assert 'name="hf"' not in client.get("/validate").text
        assert fake.requests == []
        on = off.model_copy(update={"hf_fetch": True, "hf_fetch_per_minute": 2})
        with TestClient(create_app(on, OxigraphStore(None))) as client:
            assert 'name="hf"' in client.get("/validate").text
            for bad in ("https://huggingface.co/Qwen/Qwen1.5-7B", "Qwen/Qwen1.5-7B/tree/main", "../etc", "Qwen"):
                r = client.post("/validate", params={"hf": bad}, headers={"Accept": "application/json"})
                assert r.status_code == 400 and r.json()["error"] == "bad-hub-id", bad
            r = client.post(f"/validate?hf={QWEN}", headers={"Accept": "application/json"})
            assert r.status_code == 200, r.text
            verdict = r.json()
            assert verdict["id"] == f"hf/{QWEN}" and verdict["verdicts"]["owd-0.3"]["verdict"] == "fail"
            r = client.post("/validate", data={"hf": "nope/missing"}, headers={"Accept": "application/json"})
            assert r.status_code == 502 and "no such model" in r.json()["message"]
            r = client.post(f"/validate?hf={QWEN}", headers={"Accept": "application/json"})
            assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert fake.count("/api/models/") == 2  # the bad ids and the limited request reached nothing
    assert not (tmp_path / "store" / "hub-cache" / "models" / "nope").exists()
