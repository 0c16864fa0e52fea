"""Does the statistics cube of the current run say what the raw data says? Counts every cube's cells twice on a
store: from the cube's observations (``server.assess.cube``), and from the current run's assessments and reasons
and the records' own statements, as a question without the cube would; then compares them cell by cell. The raw
side reads each fact with a one-pattern SPARQL scan (in the run graph, or in a record's graph) and joins and
counts in Python: one aggregation over the union default graph did not finish in 15 minutes at 10k records, the
scans take ~15 s.

    python -m bench.cube_check STORE_DIR [--base-iri IRI]     # prints "equal" or "different" per cube

Exit 0 when every cube is equal. Used by tests/test_cube.py on the bundled data; a bench runs it at scale.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from loaders.vocab import DEFAULT_BASE_IRI, OG, PREFIXES, Minter
from server.assess.cube import CUBES, NOT_STATED, CellKey
from server.assess.definitions import BY_ID
from server.assess.run_graphs import current_run_pattern
from server.store import GraphStore, OxigraphStore

_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items()) + \
    "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"


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


def _scan(store: GraphStore, query: str) -> Iterator[tuple[str, ...]]:
    """The rows of a SELECT (every variable bound), as tuples of values in the projection's order."""
    for row in store.iter_select(_PREFIXES + query):
        yield tuple(term.value for term in row.values())


def _in_run(store: GraphStore, run: str, predicate: str) -> Iterator[tuple[str, str]]:
    """(subject, object) of every statement of ``predicate`` in the run graph ``run``."""
    return _scan(store, f"SELECT ?s ?o WHERE {{ GRAPH <{run}> {{ ?s {predicate} ?o }} }}")


def _placements(store: GraphStore) -> dict[str, tuple[str, str, str]]:
    """Where each record and release (by IRI) is counted in the verdicts cube: (producer, year, source), from
    the records' own graphs and the releases' statements. A record's producer is the least foaf:name of what
    its og:producer names in the record's graph, its source its og:source there; a release's are the least of
    its records' producers and its records' sources, sorted and joined by "+"; the year is the first four
    characters of the release's dct:issued, and a record's is its release's."""
    typed = set(_scan(store, "SELECT ?g ?m WHERE { GRAPH ?g { ?m a og:ModelRelease } }"))
    sources: dict[str, set[str]] = defaultdict(set)
    for g, m, source in _scan(store, "SELECT ?g ?m ?s WHERE { GRAPH ?g { ?m og:source ?s } }"):
        if (g, m) in typed:
            sources[m].add(source)
    names: dict[tuple[str, str], set[str]] = defaultdict(set)  # (graph, organisation) -> its names there
    for g, org, name in _scan(store, "SELECT ?g ?org ?name WHERE { GRAPH ?g { ?org foaf:name ?name } }"):
        names[g, org].add(name)
    producers: dict[str, set[str]] = defaultdict(set)
    for g, m, org in _scan(store, "SELECT ?g ?m ?org WHERE { GRAPH ?g { ?m og:producer ?org } }"):
        if (g, m) in typed:
            producers[m] |= names.get((g, org), set())
    releases_of: dict[str, set[str]] = defaultdict(set)
    members: dict[str, set[str]] = defaultdict(set)
    for m, r in _scan(store, "SELECT ?m ?r WHERE { ?m og:ofRelease ?r }"):
        releases_of[m].add(r)
        members[r].add(m)
    years: dict[str, str] = {}
    for r, date in _scan(store, "SELECT ?r ?d WHERE { ?r dct:issued ?d }"):
        years[r] = min(date[:4], years.get(r, date[:4]))
    at = {m: (min(producers[m], default=NOT_STATED),
              min((years[r] for r in releases_of[m] if r in years), default=NOT_STATED),
              "+".join(sorted(sources[m])) or NOT_STATED) for g, m in typed}
    at.update({r: (min((n for m in ms for n in producers[m]), default=NOT_STATED), years.get(r, NOT_STATED),
                   "+".join(sorted({s for m in ms for s in sources[m]})) or NOT_STATED)
               for r, ms in members.items()})
    return at


def raw_counts(store: GraphStore, minter: Minter) -> Counter[CellKey]:
    """The same cells counted from the raw data: the current run's assessments and reasons, the records'
    producers, sources and weights licenses, the releases' dates. Each fact is read by a one-pattern scan
    (inside the run graph, or a record's graph) and joined here: one big join over the union default graph
    did not finish in 15 minutes at 10k records."""
    counts: Counter[CellKey] = Counter()
    at = _placements(store)
    mof, osaid = str(BY_ID["mof-1.0"].iri), str(BY_ID["osaid-1.0"].iri)
    for run in {row["run"].value for row in store.select(f"SELECT ?run WHERE {{ {current_run_pattern(minter)} }}")}:
        assessed: dict[str, list[tuple[str, str]]] = defaultdict(list)  # assessment -> (unit, record or release)
        for unit, predicate in (("record", "og:assessedRecord"), ("release", "og:assessedRelease")):
            for node, about in _in_run(store, run, predicate):
                assessed[node].append((unit, about))
        definition, verdict, mof_class, requirement, kind = (dict(_in_run(store, run, predicate)) for predicate in (
            "og:definition", "og:verdict", "og:mofClass", "og:requirement", "og:reasonKind"))
        failed: dict[str, set[tuple[str, str]]] = defaultdict(set)  # assessment -> (requirement, reason kind)
        for node, reason in _in_run(store, run, "og:hasReason"):
            if reason in requirement:
                failed[node].add((requirement[reason], kind[reason]))
        of: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)  # (unit, about) -> definition -> assessment
        unplaced = (NOT_STATED, NOT_STATED, NOT_STATED)
        for node, abouts in assessed.items():
            if (def_iri := definition.get(node)) is None:
                continue
            for unit, about in abouts:
                of[unit, about][def_iri] = node
                if node in verdict:
                    counts[CellKey("verdicts", unit, (def_iri, *at.get(about, unplaced), verdict[node]))] += 1
                counts.update(CellKey("failures", unit, (def_iri, req, why)) for req, why in failed[node])
        for (unit, _), nodes in of.items():
            if (m := nodes.get(mof)) in mof_class and (o := nodes.get(osaid)) in verdict:
                counts[CellKey("mof-classes", unit, (mof_class[m], osaid, verdict[o]))] += 1
    records = {m for m, _ in _scan(store, "SELECT ?m ?id WHERE { ?m og:recordId ?id }")} & \
        {m for (m,) in _scan(store, "SELECT ?m WHERE { ?m a og:ModelRelease }")}
    final = {a for (a,) in _scan(store, "SELECT ?a WHERE { ?a og:artifactKind kind:model-parameters-final }")}
    licenses: dict[str, set[str]] = defaultdict(set)
    licensed: set[str] = set()  # artifacts with a license stated
    for artifact, lic in _scan(store, "SELECT ?a ?lic WHERE { ?a dct:license ?lic }"):
        licensed.add(artifact)
        if artifact in final:
            licenses[artifact].add(lic)
    holders: dict[str, set[str]] = defaultdict(set)  # license -> the records stating it for their final weights
    owned: set[str] = set()  # the artifacts of records
    for m, artifact in _scan(store, "SELECT ?m ?a WHERE { ?m og:hasArtifact ?a }"):
        if m in records:
            owned.add(artifact)
            for lic in licenses.get(artifact, ()):
                holders[lic].add(m)
    counts.update({CellKey("weights-licenses", "record", (lic,)): len(ms) for lic, ms in holders.items()})
    unstated = Counter(kind for artifact, kind in _scan(store, "SELECT ?a ?kind WHERE { ?a og:artifactKind ?kind }")
                       if artifact in owned and artifact not in licensed)
    counts.update({CellKey("unstated-licenses", "artifact", (kind,)): n for kind, n in unstated.items()})
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
    minter = Minter(args.base_iri)
    same, compared = True, compare(store, minter)
    if not any(cube for cube, _ in compared.values()):
        engines = sorted(row["v"].value for row in store.select(
            f"SELECT ?v WHERE {{ {current_run_pattern(minter)} GRAPH ?run {{ ?a <{OG.engineVersion}> ?v }} }}"))
        print(f"the current run has no cube observations (engine {', '.join(engines) or 'unknown'}; "
              "`openness assess` rewrites it with this engine's)", file=sys.stderr)
    for name, (cube, raw) in compared.items():
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
