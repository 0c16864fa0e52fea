"""`openness assess` and `openness validate` as a user runs them: the verdict object of product.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFINITIONS = {"osaid-1.0", "mof-1.0", "owd-0.3", "fsf-free-ml", "eu-ai-act-foss", "osai-index"}
KINDS = {"missing", "unlicensed", "not-open", "restricted", "unknown"}


def openness(*args: str, env_store: Path | None = None) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    if env_store is not None:
        env["OPENNESS_STORE"] = str(env_store)
    return subprocess.run([sys.executable, "-c", "from server.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def check_verdict_object(obj: dict) -> None:
    assert set(obj) == {"id", "name", "well_formed", "problems", "verdicts"}
    assert set(obj["verdicts"]) == DEFINITIONS
    mof = obj["verdicts"]["mof-1.0"]
    assert mof["class"] in (0, 1, 2, 3) and set(mof["progress"]) == {"1", "2", "3"}
    for def_id in ("osaid-1.0", "owd-0.3", "fsf-free-ml", "eu-ai-act-foss"):
        verdict = obj["verdicts"][def_id]
        assert verdict["verdict"] in ("pass", "fail", "insufficient-evidence")
        assert (verdict["verdict"] == "pass") == (not verdict["reasons"])
        for reason in verdict["reasons"]:
            assert set(reason) == {"requirement", "component", "kind", "message"}
            assert reason["kind"] in KINDS and reason["message"]
        if verdict["verdict"] == "insufficient-evidence":
            assert all(r["kind"] == "unknown" for r in verdict["reasons"])
    index = obj["verdicts"]["osai-index"]
    assert index["score"] is None or 0 <= index["score"] <= 1
    assert len(index["dimensions"]) == 12


def test_validate_mot_record_json():
    result = openness("validate", str(ROOT / "data/mot/models/OLMo-7B.yml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    obj = json.loads(result.stdout)
    check_verdict_object(obj)
    assert obj["id"] == "mot/OLMo-7B" and obj["well_formed"] is True
    assert obj["verdicts"]["mof-1.0"]["class"] == 1
    assert obj["verdicts"]["osaid-1.0"]["verdict"] == "pass"


def test_validate_one_definition_and_text(tmp_path):
    result = openness("validate", str(ROOT / "data/mot/models/Llama-2-7B.yml"), "--definition", "osaid-1.0",
                      "--format", "json")
    obj = json.loads(result.stdout)
    assert set(obj["verdicts"]) == {"osaid-1.0"} and obj["verdicts"]["osaid-1.0"]["verdict"] == "fail"
    text = openness("validate", str(ROOT / "data/mot/models/Llama-2-7B.yml")).stdout
    assert "osaid-1.0: fail" in text and "restricted" in text


def test_validate_exit_codes(tmp_path):
    bad = tmp_path / "broken.yml"
    bad.write_text("framework:\n  name: 'Model Openness Framework'\nrelease: [unclosed\n")
    result = openness("validate", str(bad), "--format", "json")
    assert result.returncode == 1
    obj = json.loads(result.stdout)
    assert obj["well_formed"] is False and obj["problems"][0]["line"] is not None
    missing = openness("validate", str(tmp_path / "nope.yml"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    unknown = openness("validate", str(ROOT / "data/mot/models/OLMo-7B.yml"), "--definition", "nope")
    assert unknown.returncode == 2 and "unknown definition" in unknown.stderr


@pytest.mark.slow
def test_assess_json_covers_every_record(tmp_path):
    store = tmp_path / "store"
    assert openness("load", env_store=store).returncode == 0
    result = openness("assess", "--format", "json", env_store=store)
    assert result.returncode == 0, result.stderr
    objs = json.loads(result.stdout)
    assert len(objs) == 466
    assert [o["id"] for o in objs] == sorted(o["id"] for o in objs)
    for obj in objs:
        check_verdict_object(obj)
    stored = openness("query", "PREFIX og: <https://w3id.org/openness-graph/ontology#> "
                      "SELECT (COUNT(*) AS ?n) WHERE { ?a a og:Assessment ; og:assessedRecord ?m }",
                      "--format", "csv", env_store=store)
    assert stored.stdout.splitlines()[1].strip() == str(466 * 6)
    releases = openness("query", "PREFIX og: <https://w3id.org/openness-graph/ontology#> "
                        "SELECT (COUNT(DISTINCT ?r) AS ?n) (COUNT(*) AS ?a) WHERE { ?x a og:Assessment ; "
                        "og:assessedRelease ?r }", "--format", "csv", env_store=store)
    count, assessments = releases.stdout.splitlines()[1].strip().split(",")
    assert int(count) > 400 and int(assessments) == int(count) * 6  # one consolidated assessment each
