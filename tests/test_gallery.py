"""The curated example questions: each answers something on the bundled data and is listed in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.vocab import Minter
from server.assess.run_graphs import current_run
from tests.conftest import private_store_copy

ROOT = Path(__file__).resolve().parents[1]
GALLERY = sorted((ROOT / "server" / "web" / "examples").glob("*.rq"))


def title(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# title:"), path
    return first.split(":", 1)[1].strip()


def test_gallery_has_at_least_ten_questions():
    assert len(GALLERY) >= 10


@pytest.mark.parametrize("path", GALLERY, ids=lambda p: p.stem)
def test_question_is_in_the_readme(path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"**{title(path)}**" in readme and path.name in readme


@pytest.mark.parametrize("path", GALLERY, ids=lambda p: p.stem)
def test_question_answers_on_bundled_data(bundled_store, path):
    rows = bundled_store.select(path.read_text(encoding="utf-8"))
    assert rows, f"{path.name} returned no rows on the bundled data"
    assert any(row for row in rows), f"{path.name} returned only empty rows"


def test_questions_read_only_the_current_assessment_run(tmp_path, bundled_settings, bundled_store):
    """A run graph being written, or left behind by a failed run, is in the union default graph too; the
    questions follow the current-run pointer, so their answers do not change."""
    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    answers = {path.name: sorted(map(str, store.select(path.read_text(encoding="utf-8")))) for path in GALLERY}
    run = current_run(store, Minter(bundled_settings.base_iri)).graph
    verdicts = "SELECT (COUNT(*) AS ?n) WHERE { ?as <https://w3id.org/openness-graph/ontology#verdict> ?v }"
    counted = int(store.select(verdicts)[0]["n"].value)
    # a stale run: every assessment again, under other IRIs, failing every definition with no MOF class
    store.oxigraph.update(f"""PREFIX og: <https://w3id.org/openness-graph/ontology#>
INSERT {{ GRAPH <{run}-stale> {{ ?s2 ?p ?o2 }} }}
WHERE {{ GRAPH <{run}> {{ ?s ?p ?o }}
  BIND (IF(isIRI(?s), IRI(CONCAT(STR(?s), "-stale")), ?s) AS ?s2)
  BIND (IF(?p = og:verdict, <https://w3id.org/openness-graph/verdict/fail>,
           IF(?p = og:mofClass, 0, IF(?p = og:hasReason, IRI(CONCAT(STR(?o), "-stale")), ?o))) AS ?o2) }}""")
    assert int(store.select(verdicts)[0]["n"].value) == 2 * counted  # the union default graph sees both runs
    for path in GALLERY:
        assert sorted(map(str, store.select(path.read_text(encoding="utf-8")))) == answers[path.name], path.name
