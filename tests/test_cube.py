"""The statistics cube of a run (server/assess/cube.py): its counts equal the raw data's, cell by cell; it
switches with the current-run pointer; its observations keep their IRIs; the gallery's cube questions answer
what their raw variants answer."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from bench.cube_check import compare, cube_counts
from loaders.vocab import PREFIXES, Minter
from server.assess.cube import CUBES, CellKey, Placement, cube_nquads, observation_iri, release_cells
from server.assess.run import assess_all
from server.assess.run_graphs import current_run, current_run_pattern
from server.store.nquads import parse_lines
from tests.conftest import private_store_copy
from tests.test_stored_verdicts import _changed_olmo

EXAMPLES = Path(__file__).resolve().parents[1] / "server" / "web" / "examples"
SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def answer(store, stem: str) -> list[dict[str, str]]:
    rows = store.select((EXAMPLES / f"{stem}.rq").read_text(encoding="utf-8"))
    return [{k: v.value for k, v in row.items()} for row in rows]


@pytest.mark.parametrize("cube", sorted(CUBES))
def test_every_cell_equals_the_raw_count(bundled_store, bundled_settings, cube):
    """Each cube against a SPARQL aggregation over the run's assessments and the records (bench/cube_check.py)."""
    counted, raw = compare(bundled_store, Minter(bundled_settings.base_iri))[cube]
    assert counted and counted == raw


def test_every_record_and_release_is_counted_once_per_verdict(bundled_store, bundled_settings):
    counts = cube_counts(bundled_store, Minter(bundled_settings.base_iri))
    records = int(bundled_store.select("PREFIX og: <https://w3id.org/openness-graph/ontology#> "
                                       "SELECT (COUNT(*) AS ?n) WHERE { ?m a og:ModelRelease ; og:recordId ?id }")[0]
                  ["n"].value)
    releases = int(bundled_store.select("PREFIX og: <https://w3id.org/openness-graph/ontology#> "
                                        "SELECT (COUNT(*) AS ?n) WHERE { ?r a og:Release }")[0]["n"].value)
    per_unit = Counter()
    for cell, n in counts.items():
        if cell.cube == "mof-classes":
            per_unit[cell.unit] += n
    assert per_unit == {"record": records, "release": releases}
    verdicts = Counter()
    for cell, n in counts.items():
        if cell.cube == "verdicts":
            verdicts[cell.unit, cell.dims[0]] += n
    assert set(verdicts.values()) == {records, releases}
    sources = {cell.dims[3] for cell in counts if cell.cube == "verdicts" and cell.unit == "release"}
    assert "mot+osai-index" in sources  # a release described by both sources counts under both, once


@pytest.mark.parametrize(("cube_question", "raw_question"), [
    ("03-openness-by-producer-and-year", "19-openness-by-producer-and-year-raw"),
    ("04-most-failed-requirement", "20-most-failed-requirement-raw"),
    ("08-verdicts-per-definition", "21-verdicts-per-definition-raw"),
])
def test_cube_question_answers_as_its_raw_variant(bundled_store, cube_question, raw_question):
    assert answer(bundled_store, cube_question) == answer(bundled_store, raw_question)


def commented_raw_query(stem: str) -> str:
    """The raw query a cube question carries in its closing comment ("# The same count from the records")."""
    lines = (EXAMPLES / f"{stem}.rq").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# The same count from the records"))
    return SPARQL_PREFIXES + "\n".join(line.removeprefix("#   ") for line in lines[start + 1:])


@pytest.mark.parametrize("stem", ["02-user-cap-licenses-for-weights", "10-weights-licenses-ranked",
                                  "11-unlicensed-or-unstated-artifacts"])
def test_licenses_question_counts_as_the_records(bundled_store, stem):
    """The questions counted from the weights-licenses and unstated-licenses cubes answer what their raw form
    (in the query's closing comment) counts from every artifact (rows compared as sets: ties may come in any
    order)."""
    def rows(query: str) -> list[tuple]:
        return sorted(tuple(sorted((k, v.value) for k, v in row.items())) for row in bundled_store.select(query))

    counted = rows((EXAMPLES / f"{stem}.rq").read_text(encoding="utf-8"))
    assert counted and counted == rows(commented_raw_query(stem))


def test_osaid_pass_not_mof_class_2_counts_the_listed_records(bundled_store):
    counted = {int(row["mofClass"]): int(row["records"])
               for row in answer(bundled_store, "01-osaid-pass-not-mof-class-2") if row["notMofClassII"] == "true"}
    listed = Counter(int(row["mofClass"]) for row in answer(bundled_store, "18-osaid-pass-not-mof-class-2-raw"))
    assert counted == listed and sum(listed.values()) > 0


def test_a_stale_run_graph_is_not_read_and_the_cube_switches_with_the_pointer(bundled_store, bundled_settings,
                                                                              tmp_path):
    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    current = current_run(store, minter).graph
    counts = cube_counts(store, minter)
    answers = {stem: answer(store, stem) for stem in ("01-osaid-pass-not-mof-class-2", "08-verdicts-per-definition")}
    stale = f"{current}-stale"
    store.oxigraph.update(SPARQL_PREFIXES + f"""INSERT {{ GRAPH <{stale}> {{ ?s ?p ?o2 }} }}
WHERE {{ GRAPH <{current}> {{ ?s ?p ?o }} BIND (IF(?p = og:count, ?o * 2, ?o) AS ?o2) }}""")
    assert cube_counts(store, minter) == counts
    assert {stem: answer(store, stem) for stem in answers} == answers
    pointer = minter.assessments_graph
    store.oxigraph.update(SPARQL_PREFIXES + f"""DELETE DATA {{
  GRAPH <{pointer}> {{ <{pointer}> dcat:hasCurrentVersion <{current}> }} }};
INSERT DATA {{ GRAPH <{pointer}> {{ <{pointer}> dcat:hasCurrentVersion <{stale}> }} }}""")
    assert cube_counts(store, minter) == Counter({cell: 2 * n for cell, n in counts.items()})
    store.close()


def test_a_changed_record_updates_its_cells_in_place(bundled_store, bundled_settings, tmp_path):
    """OLMo-7B's weights under a non-commercial license: its OSAID cells move, the cube equals the raw data
    again, and every cell keeps its observation IRI (minted from the cell, not the run)."""
    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    before = cube_counts(store, minter)
    _changed_olmo(store, minter, tmp_path)
    assess_all(store, bundled_settings)
    after = cube_counts(store, minter)
    assert after != before
    assert all(counted == raw for counted, raw in compare(store, minter).values())
    observations = {row["obs"].value for row in store.select(SPARQL_PREFIXES + f"""SELECT ?obs WHERE {{
  {current_run_pattern(minter)} GRAPH ?run {{ ?obs a qb:Observation }} }}""")}
    assert observations == {observation_iri(minter, cell) for cell in after}
    store.close()


def test_observations_follow_their_structure(bundled_store):
    """Data Cube integrity (IC-11, IC-12, IC-14 of the W3C recommendation): each observation has exactly one
    value for every dimension of its data set's structure (as the ontology declares it) and its measure,
    and no two observations of a data set share all dimension values."""
    rows = bundled_store.select(SPARQL_PREFIXES + """SELECT ?obs ?dim (COUNT(?v) AS ?n) WHERE {
  GRAPH ?pointer { ?pointer dcat:hasCurrentVersion ?run }
  GRAPH ?run { ?obs qb:dataSet ?ds . ?ds qb:structure ?dsd }
  ?dsd qb:component ?c . { ?c qb:dimension ?dim } UNION { ?c qb:measure ?dim }
  OPTIONAL { GRAPH ?run { ?obs ?dim ?v } }
} GROUP BY ?obs ?dim""")
    assert rows and {row["n"].value for row in rows} == {"1"}
    keys = bundled_store.select(SPARQL_PREFIXES + """SELECT ?ds (COUNT(?obs) AS ?n) (COUNT(DISTINCT ?key) AS ?keys)
WHERE {
  { SELECT ?ds ?obs (GROUP_CONCAT(STR(?v); separator="\\u001f") AS ?key) WHERE {
      GRAPH ?pointer { ?pointer dcat:hasCurrentVersion ?run }
      GRAPH ?run { ?obs qb:dataSet ?ds . ?ds qb:structure ?dsd }
      ?dsd qb:component ?c . ?c qb:dimension ?dim ; qb:order ?order .
      GRAPH ?run { ?obs ?dim ?v }
    } GROUP BY ?ds ?obs }
} GROUP BY ?ds""")
    assert len(keys) == len(CUBES)
    assert all(row["n"].value == row["keys"].value for row in keys)


def test_cells_and_quads_are_pure_functions_of_the_counts():
    """What the incremental assessment builds on: a release's cells from its result alone, and the quads of a
    count from the count alone (same IRIs in any run graph)."""
    minter = Minter()
    result = {"id": "x", "verdicts": {
        "osaid-1.0": {"verdict": "fail", "reasons": [
            {"requirement": "weights-osi-terms", "component": "Model parameters (Final)", "kind": "restricted",
             "message": "m"},
            {"requirement": "weights-osi-terms", "component": "Model parameters (Final)", "kind": "restricted",
             "message": "other"}]},
        "mof-1.0": {"class": 0, "progress": {"1": 0.0, "2": 0.0, "3": 50.0}, "reasons": []}}}
    cells = release_cells(result, Placement("Org", "2024", "mot"))
    assert Counter(cell.cube for cell in cells) == {"verdicts": 1, "failures": 1, "mof-classes": 1}
    counts = Counter(cells)
    first = parse_lines(cube_nquads(counts, "https://example.org/run/1", minter))
    second = parse_lines(cube_nquads(counts, "https://example.org/run/2", minter))
    assert [(q.subject, q.predicate, q.object) for q in first] != []
    strip = {(q.subject, q.predicate, q.object) for q in first if not q.object == ox.NamedNode(
        "https://example.org/run/1#run")}
    assert strip == {(q.subject, q.predicate, q.object) for q in second
                     if not q.object == ox.NamedNode("https://example.org/run/2#run")}
    assert isinstance(cells[0], CellKey) and hash(cells[0]) == hash(CellKey(*cells[0]))
