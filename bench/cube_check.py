"""Does the statistics cube of the current run say what the raw data says? Counts every cube's cells twice on a
store: from the cube's observations (``server.assess.cube``), and by SPARQL aggregation over the current run's
assessments and the records, as a question without the cube would; then compares them cell by cell.

    python -m bench.cube_check STORE_DIR [--base-iri IRI]     # prints "equal" or "different" per cube

Exit 0 when every cube is equal. Used by tests/test_cube.py on the bundled data; a bench runs it at scale.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from loaders.vocab import DEFAULT_BASE_IRI, PREFIXES, Minter
from server.assess.cube import CUBES, NOT_STATED, CellKey
from server.assess.definitions import BY_ID
from server.assess.run_graphs import current_run_pattern
from server.store import GraphStore, OxigraphStore

_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items()) + \
    "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"
_UNIT = """{ ?as og:assessedRecord ?about BIND ("record" AS ?unit) }
    UNION { ?as og:assessedRelease ?about BIND ("release" AS ?unit) }"""


def cube_counts(store: GraphStore, minter: Minter) -> Counter[CellKey]:
    """The cells of the current run's cubes, as its observations state them."""
    by_structure = {cube.structure: cube for cube in CUBES.values()}
    rows = store.select(_PREFIXES + f"""SELECT ?obs ?structure ?unit ?n ?p ?o WHERE {{
  {current_run_pattern(minter)}
  GRAPH ?run {{ ?ds qb:structure ?structure . ?obs qb:dataSet ?ds ; og:countedUnit ?unit ; og:count ?n ; ?p ?o }}
}}""")
    found: dict[str, dict] = {}
    for row in rows:
        obs = found.setdefault(row["obs"].value, {"cube": by_structure[row["structure"].value],
                                                  "unit": row["unit"].value, "n": int(row["n"].value)})
        obs[row["p"].value] = row["o"].value
    return Counter({CellKey(o["cube"].name, o["unit"], tuple(o[prop] for prop, _ in o["cube"].dimensions)): o["n"]
                    for o in found.values()})


def raw_counts(store: GraphStore, minter: Minter) -> Counter[CellKey]:
    """The same cells counted from the raw data: the current run's assessments and reasons, the records'
    producers, sources and weights licenses, the releases' dates."""
    run = current_run_pattern(minter)
    counts: Counter[CellKey] = Counter()
    # verdicts: one row per assessed record or release and definition, then where each is counted
    verdicts = {(r["unit"].value, r["about"].value, r["def"].value, r["v"].value) for r in store.select(
        _PREFIXES + f"SELECT ?unit ?about ?def ?v WHERE {{ {run} GRAPH ?run {{ ?as og:definition ?def ; "
                    f"og:verdict ?v . {_UNIT} }} }}")}
    facts: dict[str, dict] = {}
    for row in store.select(_PREFIXES + """SELECT ?about ?who ?when ?source WHERE {
  { SELECT ?about (MIN(?name) AS ?who) WHERE {
      { GRAPH ?g { ?about og:producer ?org . ?org foaf:name ?name } }
      UNION { ?m og:ofRelease ?about . GRAPH ?g { ?m og:producer ?org . ?org foaf:name ?name } }
    } GROUP BY ?about }
  UNION { SELECT ?about (MIN(SUBSTR(STR(?d), 1, 4)) AS ?when) WHERE {
      { ?about og:ofRelease ?r } UNION { ?about a og:Release . BIND (?about AS ?r) } ?r dct:issued ?d
    } GROUP BY ?about }
  UNION { ?about og:source ?source } UNION { ?m og:ofRelease ?about ; og:source ?source }
}"""):
        about = facts.setdefault(row["about"].value, {"sources": set()})
        if "who" in row:
            about["producer"] = row["who"].value
        if "when" in row:
            about["year"] = row["when"].value
        if "source" in row:
            about["sources"].add(row["source"].value)
    for unit, about, definition, verdict in verdicts:
        at = facts[about]
        counts[CellKey("verdicts", unit, (definition, at.get("producer", NOT_STATED), at.get("year", NOT_STATED),
                                          "+".join(sorted(at["sources"])) or NOT_STATED, verdict))] += 1
    for row in store.select(_PREFIXES + f"""SELECT ?unit ?def ?req ?kind (COUNT(DISTINCT ?as) AS ?n) WHERE {{
  {run} GRAPH ?run {{ ?as og:hasReason ?reason ; og:definition ?def .
    ?reason og:requirement ?req ; og:reasonKind ?kind . {_UNIT} }}
}} GROUP BY ?unit ?def ?req ?kind"""):
        cell = (row["def"].value, row["req"].value, row["kind"].value)
        counts[CellKey("failures", row["unit"].value, cell)] += int(row["n"].value)
    for row in store.select(_PREFIXES + """SELECT ?lic (COUNT(DISTINCT ?m) AS ?n) WHERE {
  ?m a og:ModelRelease ; og:recordId ?id ; og:hasArtifact ?a .
  ?a og:artifactKind kind:model-parameters-final ; dct:license ?lic
} GROUP BY ?lic"""):
        counts[CellKey("weights-licenses", "record", (row["lic"].value,))] += int(row["n"].value)
    mof, osaid = BY_ID["mof-1.0"].iri, BY_ID["osaid-1.0"].iri
    for row in store.select(_PREFIXES + f"""SELECT ?unit ?class ?v (COUNT(DISTINCT ?about) AS ?n) WHERE {{
  {run} GRAPH ?run {{
    ?as og:definition <{mof}> ; og:mofClass ?class . ?os og:definition <{osaid}> ; og:verdict ?v .
    {{ ?as og:assessedRecord ?about . ?os og:assessedRecord ?about BIND ("record" AS ?unit) }}
    UNION {{ ?as og:assessedRelease ?about . ?os og:assessedRelease ?about BIND ("release" AS ?unit) }} }}
}} GROUP BY ?unit ?class ?v"""):
        cell = (row["class"].value, str(osaid), row["v"].value)
        counts[CellKey("mof-classes", row["unit"].value, cell)] += int(row["n"].value)
    return counts


def compare(store: GraphStore, minter: Minter) -> dict[str, tuple[Counter[CellKey], Counter[CellKey]]]:
    """Per cube: (cells of the cube, cells of the raw data), for the caller to compare."""
    cube, raw = cube_counts(store, minter), raw_counts(store, minter)
    return {name: (Counter({c: n for c, n in cube.items() if c.cube == name}),
                   Counter({c: n for c, n in raw.items() if c.cube == name})) for name in CUBES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path, help="an Oxigraph store folder, assessed")
    parser.add_argument("--base-iri", default=DEFAULT_BASE_IRI)
    args = parser.parse_args(argv)
    store = OxigraphStore(args.store, read_only=True)  # beside a running server too
    same = True
    for name, (cube, raw) in compare(store, Minter(args.base_iri)).items():
        diff = {c for c in cube.keys() | raw.keys() if cube[c] != raw[c]}
        same &= not diff
        print(f"{name}: {'equal' if not diff else 'different'} ({len(cube)} cells, {sum(cube.values())} counted; "
              f"raw {len(raw)} cells, {sum(raw.values())} counted)")
        for cell in sorted(diff)[:5]:
            print(f"  {cell}: cube {cube[cell]}, raw {raw[cell]}")
    store.close()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
