"""``openness load`` and friends as a user runs them: a subprocess, a store folder in tmp_path (OPENNESS_STORE).
Bundled load, idempotent reload, a bad file in a batch, help, unknown commands, an unusable store path, the
query output formats and the SPDX license count of the product brief."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loaders.bundled_data import data_file

OPENNESS = str(Path(sys.executable).with_name("openness"))
MOT_DIR = data_file("mot", "models")
QUAD_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
SPDX_COUNT = ('SELECT (COUNT(DISTINCT ?l) AS ?n) WHERE { ?l ?p ?o '
              'FILTER(STRSTARTS(STR(?l), "http://spdx.org/licenses/")) }')


def run(args: list[str], store: Path, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENNESS_")}
    env["OPENNESS_STORE"] = str(store)
    return subprocess.run([OPENNESS, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def quad_count(store: Path, cwd: Path) -> int:
    out = run(["query", QUAD_COUNT, "--format", "json"], store, cwd)
    assert out.returncode == 0, out.stderr
    return int(json.loads(out.stdout)["results"]["bindings"][0]["n"]["value"])


def models(store: Path, cwd: Path) -> list[dict]:
    out = run(["models", "--format", "json"], store, cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """A store with the bundled data loaded once by ``openness load`` (shared by the read-only tests)."""
    root = tmp_path_factory.mktemp("cli-load")
    store = root / "store"
    result = run(["load"], store, root)
    return store, root, result


def test_load_bundled_then_models(bundled):
    store, cwd, result = bundled
    assert result.returncode == 0, result.stderr
    assert "loaded 466 records; refused 0" in result.stdout
    records = models(store, cwd)
    by_source: dict[str, int] = {}
    for r in records:
        assert set(r) == {"id", "name", "source", "same_as"}
        assert r["id"].startswith(r["source"] + "/")
        by_source[r["source"]] = by_source.get(r["source"], 0) + 1
    assert by_source == {"mot": 273, "osai-index": 193}
    crystal = next(r for r in records if r["id"] == "mot/CrystalChat")
    assert crystal["same_as"] == ["osai-index/Crystal"]  # one release: the same Hugging Face repository
    amber = next(r for r in records if r["id"] == "mot/Amber")
    assert amber["same_as"] == []  # the Index's 'amber' grades AmberSafe, trained from Amber: another release


def test_second_load_is_idempotent(bundled, tmp_path):
    store, cwd, result = bundled
    assert result.returncode == 0, result.stderr
    private = tmp_path / "store"
    shutil.copytree(store, private)  # the shared store stays as it is for the other tests
    before = quad_count(private, tmp_path)
    again = run(["load"], private, tmp_path)
    assert again.returncode == 0, again.stderr
    assert quad_count(private, tmp_path) == before
    written = int(re.search(r"; (\d+) quads written", again.stdout).group(1))
    assert 0 < written < before / 20  # the records' load provenance is rewritten, not their statements


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv", "table"])
def test_query_formats(bundled, fmt):
    store, cwd, _ = bundled
    query = ('PREFIX og: <https://w3id.org/openness-graph/ontology#> SELECT ?id WHERE '
             '{ ?m og:recordId ?id FILTER(STRSTARTS(?id, "mot/Amb")) } ORDER BY ?id')
    out = run(["query", query, "--format", fmt], store, cwd)
    assert out.returncode == 0, out.stderr
    if fmt == "json":
        assert [b["id"]["value"] for b in json.loads(out.stdout)["results"]["bindings"]] == ["mot/Amber"]
    elif fmt == "csv":
        assert list(csv.reader(io.StringIO(out.stdout))) == [["id"], ["mot/Amber"]]
    elif fmt == "tsv":
        assert out.stdout.splitlines() == ["?id", '"mot/Amber"']
    else:
        assert "mot/Amber" in out.stdout and "1 rows" in out.stdout


def test_spdx_license_count(bundled):
    store, cwd, _ = bundled
    out = run(["query", SPDX_COUNT, "--format", "json"], store, cwd)
    assert out.returncode == 0, out.stderr
    n = int(json.loads(out.stdout)["results"]["bindings"][0]["n"]["value"])
    print(f"distinct SPDX license IRIs: {n}")
    assert n >= 740


def test_bad_query_is_one_line(bundled):
    store, cwd, _ = bundled
    out = run(["query", "SELECT WHERE {"], store, cwd)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().startswith("openness: bad SPARQL query")


def test_truncated_yaml_in_a_batch(tmp_path):
    """A bad file is reported with file and line, stores nothing; the other files of the batch load."""
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("Amber.yml", "OLMo-7B.yml"):
        shutil.copy(MOT_DIR / name, batch / name)
    store = tmp_path / "store"
    first = run(["load", str(batch)], store, tmp_path)
    assert first.returncode == 0, first.stderr
    before = quad_count(store, tmp_path)

    text = (MOT_DIR / "Galactica.yml").read_text(encoding="utf-8")
    cut = text.index("  components:") + len("  components:\n    -\n      name: 'Model arch")
    (batch / "Broken-Truncated.yml").write_text(text[:cut] + "\n", encoding="utf-8")
    second = run(["load", str(batch)], store, tmp_path)
    assert second.returncode != 0
    assert "Traceback" not in second.stderr
    error = [line for line in second.stderr.splitlines() if "Broken-Truncated.yml" in line]
    assert len(error) == 1, second.stderr
    assert "Broken-Truncated.yml:" in error[0] and "malformed YAML" in error[0]
    line_no = int(error[0].split("Broken-Truncated.yml:", 1)[1].split(":", 1)[0])
    assert 1 <= line_no <= text[:cut].count("\n") + 2
    assert "loaded 2 records; refused 1" in second.stdout
    assert quad_count(store, tmp_path) == before  # nothing of the bad file, the others replaced in place

    # a new good file next to the bad one still loads
    shutil.copy(MOT_DIR / "Pythia-6.9B.yml", batch / "Pythia-6.9B.yml")
    third = run(["load", str(batch)], store, tmp_path)
    assert third.returncode != 0
    ids = {r["id"] for r in models(store, tmp_path)}
    assert ids == {"mot/Amber", "mot/OLMo-7B", "mot/Pythia-6.9B"}


def test_unknown_component_message_has_line(tmp_path):
    text = (MOT_DIR / "Amber.yml").read_text(encoding="utf-8").replace(
        "name: 'Model card'", "name: 'Model kard'", 1)
    bad = tmp_path / "Amber-typo.yml"
    bad.write_text(text, encoding="utf-8")
    out = run(["load", str(bad)], tmp_path / "store", tmp_path)
    assert out.returncode != 0
    line = text.splitlines().index("      name: 'Model kard'") + 1
    assert f"Amber-typo.yml:{line}: unknown component name 'Model kard'" in out.stderr
    assert "Traceback" not in out.stderr


def test_help_lists_commands(tmp_path):
    out = run(["--help"], tmp_path / "store", tmp_path)
    assert out.returncode == 0
    for command in ("load", "assess", "models", "validate", "query", "serve", "export"):
        assert command in out.stdout
    sub = run(["load", "--help"], tmp_path / "store", tmp_path)
    assert sub.returncode == 0 and "Usage: openness load" in sub.stdout


def test_unknown_command(tmp_path):
    out = run(["frobnicate"], tmp_path / "store", tmp_path)
    assert out.returncode != 0
    assert "frobnicate" in out.stderr and "Traceback" not in out.stderr


def test_missing_path(tmp_path):
    out = run(["load", str(tmp_path / "nope.yml")], tmp_path / "store", tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == f"openness: no such file or folder: {tmp_path / 'nope.yml'}"


@pytest.mark.parametrize("command", [["load", "LATER"], ["models"], ["query", QUAD_COUNT]])
def test_unusable_store_path_is_one_line(tmp_path, command):
    """The store's parent is a regular file: a one-line error, no traceback (tests run as root, so a
    permission-denied folder would not block)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    record = tmp_path / "Amber.yml"
    shutil.copy(MOT_DIR / "Amber.yml", record)
    args = [str(record) if a == "LATER" else a for a in command]
    out = run(args, blocker / "store", tmp_path)
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("openness: cannot open the store at") and "Traceback" not in out.stderr
