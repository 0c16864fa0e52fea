"""The statistics of an assessment run as data: its aggregate counts as W3C RDF Data Cube (``qb:``)
observations in the run graph, so they switch with the current-run pointer and a summary question reads a
few hundred observations instead of every assessment.

Five cubes, each a ``qb:DataSet`` whose ``qb:DataStructureDefinition`` is declared in the ontology
(``STRUCTURE``); every observation has the dimension ``og:countedUnit`` ("record": one source's record,
"release": one model release's consolidated answer, "artifact": one artifact of a record) and the measure
``og:count``:

* ``verdicts``: definition × producer × release year × source × verdict (the definitions with a
  pass / fail / insufficient-evidence verdict);
* ``failures``: definition × requirement × reason kind, counting the assessments that fail the requirement
  in that way;
* ``weights-licenses``: the licenses of final model parameters, counting the records that state each
  (records only: a run keeps no release's merged licenses);
* ``mof-classes``: MOF class × OSAID 1.0 verdict;
* ``unstated-licenses``: the artifacts of records with no license stated (no ``dct:license``), per component
  kind, counting artifacts (og:countedUnit "artifact"): "not stated" kept apart from "closed".

Where a record or a release sits (:class:`Placement`): its producer (the first name in code-point order
when there are several, as the gallery's raw question takes ``MIN``), the year of its release's
``dct:issued`` (a record counts under its release's year) and its source. A release counts under the
sources of its own records (``og:ofRelease``), sorted and joined by "+" (``mot+osai-index``): the
combination says which sources its one answer rests on, and each release is counted once. A producer or
year no source states is ``NOT_STATED``.

Everything is computed in Python from the run's verdict objects and facts, plus one query for the
placements (:func:`read_placements`), never by aggregating over the store. Observation IRIs are minted
from the cell (:func:`observation_iri`), so a later run, or an incremental one, updates a count in place.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import pyoxigraph as ox
from rdflib import RDF, RDFS, XSD

from loaders.vocab import KIND, OG, PROV, QB, REASON, STATIC, VERDICT, Minter
from server.assess.definitions import BY_ID
from server.assess.engine import RecordFacts
from server.store import GraphStore, OxigraphStore, nquads

STRUCTURE = STATIC + "structure/"
NOT_STATED = "(not stated)"
WEIGHTS = "model-parameters-final"
OSAID = "osaid-1.0"


@dataclass(frozen=True)
class Cube:
    """One cube: its name (in IRIs), title, and dimensions as (property, value kind) in key order; the
    kind is "iri", "literal" or "integer"."""

    name: str
    title: str
    dimensions: tuple[tuple[str, str], ...]

    @property
    def structure(self) -> str:
        return STRUCTURE + self.name


CUBES = {cube.name: cube for cube in (
    Cube("verdicts", "Verdicts per definition, producer, release year and source",
         ((str(OG.definition), "iri"), (str(OG.producerName), "literal"), (str(OG.releaseYear), "literal"),
          (str(OG.source), "literal"), (str(OG.verdict), "iri"))),
    Cube("failures", "Failed requirements per definition and reason kind",
         ((str(OG.definition), "iri"), (str(OG.requirement), "iri"), (str(OG.reasonKind), "iri"))),
    Cube("weights-licenses", "Licenses of final model parameters",
         ((str(OG.weightsLicense), "iri"),)),
    Cube("mof-classes", "MOF classes by OSAID 1.0 verdict",
         ((str(OG.mofClass), "integer"), (str(OG.definition), "iri"), (str(OG.verdict), "iri"))),
    Cube("unstated-licenses", "Artifacts without a stated license per component kind",
         ((str(OG.countedArtifactKind), "iri"),)),
)}


class CellKey(NamedTuple):
    """One cell: the cube, what is counted ("record" or "release") and the dimension values in the cube's
    order (IRIs and literals as strings)."""

    cube: str
    unit: str
    dims: tuple[str, ...]


@dataclass(frozen=True)
class Placement:
    """Where a record or a release is counted in the verdicts cube."""

    producer: str
    year: str
    source: str


# One row per record (producer and name from the record's own graph: an organisation's name is repeated in
# every record graph naming it, which the union default graph does not merge), one per release with a date.
PLACEMENTS_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
SELECT ?m ?source ?producer ?release ?issued WHERE {
  { GRAPH ?g { ?m a og:ModelRelease ; og:source ?source . OPTIONAL { ?m og:producer ?org . ?org foaf:name ?producer } }
    OPTIONAL { ?m og:ofRelease ?r . ?r og:releaseId ?release } }
  UNION { ?r og:releaseId ?release ; dct:issued ?issued }
}"""


def read_placements(store: GraphStore) -> tuple[dict[str, Placement], dict[str, Placement]]:
    """Placements of every record (by IRI) and every release (by release id), in one query."""
    sources: dict[str, str] = {}
    producers: dict[str, set[str]] = {}
    release_of: dict[str, str] = {}
    issued: dict[str, str] = {}
    for m, source, producer, release, date in store.iter_values(
            PLACEMENTS_QUERY, ("m", "source", "producer", "release", "issued")):
        if date is not None:
            year = date.value[:4]
            issued[release.value] = min(year, issued.get(release.value, year))
            continue
        iri = m.value
        sources[iri] = source.value
        names = producers.setdefault(iri, set())
        if producer is not None:
            names.add(producer.value)
        if release is not None:
            release_of[iri] = release.value
    members: dict[str, list[str]] = {}
    for iri, release in release_of.items():
        members.setdefault(release, []).append(iri)
    records = {iri: Placement(min(producers[iri], default=NOT_STATED),
                              issued.get(release_of.get(iri, ""), NOT_STATED), source)
               for iri, source in sources.items()}
    releases = {release: Placement(min((n for i in iris for n in producers[i]), default=NOT_STATED),
                                   issued.get(release, NOT_STATED), "+".join(sorted({sources[i] for i in iris})))
                for release, iris in members.items()}
    return records, releases


_PRODUCER, _NAME = ox.NamedNode(str(OG.producer)), ox.NamedNode("http://xmlns.com/foaf/0.1/name")
_ISSUED = ox.NamedNode("http://purl.org/dc/terms/issued")


def placements_of(store: OxigraphStore, records: dict[str, tuple[str, str]],
                  releases: dict[str, tuple[str, list[str]]]) -> tuple[dict[str, Placement], dict[str, Placement]]:
    """:func:`read_placements` for a few records and releases (an incremental run), by point lookups.
    ``records``: record IRI -> (its graph, its source); ``releases``: release IRI -> (release id, the IRIs of
    its own records, each of which must be in ``records``)."""
    lookup = store.oxigraph.quads_for_pattern
    names = {iri: {n.object.value for p in lookup(ox.NamedNode(iri), _PRODUCER, None, ox.NamedNode(graph))
                   for n in lookup(p.object, _NAME, None, ox.NamedNode(graph))}
             for iri, (graph, _) in records.items()}
    years = {iri: min((q.object.value[:4] for q in lookup(ox.NamedNode(iri), _ISSUED, None)), default=NOT_STATED)
             for iri in releases}
    release_of = {member: iri for iri, (_, members) in releases.items() for member in members}
    record_at = {iri: Placement(min(names[iri], default=NOT_STATED),
                                years.get(release_of.get(iri, ""), NOT_STATED), source)
                 for iri, (_, source) in records.items()}
    release_at = {release_id: Placement(min((n for m in members for n in names[m]), default=NOT_STATED),
                                        years[iri], "+".join(sorted({records[m][1] for m in members})))
                  for iri, (release_id, members) in releases.items() if members}
    return record_at, release_at


# IRIs as plain strings, built once: an rdflib namespace lookup per cell costs more than the counting.
_DEFINITION = {def_id: str(definition.iri) for def_id, definition in BY_ID.items()}
_VERDICT, _REASON, _KIND = str(VERDICT), str(REASON), str(KIND)


def _verdict_cells(unit: str, verdicts: dict[str, dict], at: Placement) -> Iterator[CellKey]:
    """The cells of one record's or release's verdicts (every cube but the licenses)."""
    for def_id, verdict in verdicts.items():
        definition = _DEFINITION[def_id]
        if "verdict" in verdict:
            yield CellKey("verdicts", unit, (definition, at.producer, at.year, at.source,
                                             _VERDICT + verdict["verdict"]))
        failed = {(f"{definition}/{r['requirement']}", _REASON + r["kind"])
                  for r in verdict.get("reasons", ()) if r["requirement"]}
        yield from (CellKey("failures", unit, (definition, req, kind)) for req, kind in sorted(failed))
    if "mof-1.0" in verdicts and OSAID in verdicts:
        yield CellKey("mof-classes", unit, (str(verdicts["mof-1.0"]["class"]), _DEFINITION[OSAID],
                                            _VERDICT + verdicts[OSAID]["verdict"]))


def record_cells(facts: RecordFacts, result: dict, at: Placement) -> list[CellKey]:
    """The cells one record contributes to (one count each): its verdict object ``result``, for the licenses
    cube the licenses its final model parameters state, and one count per artifact that states none."""
    licenses = sorted({lic for art in facts.artifacts if art.kind == WEIGHTS for lic in art.licenses})
    return [*_verdict_cells("record", result["verdicts"], at),
            *(CellKey("weights-licenses", "record", (lic,)) for lic in licenses),
            *(CellKey("unstated-licenses", "artifact", (_KIND + art.kind,)) for art in facts.artifacts
              if not art.licenses)]


def release_cells(result: dict, at: Placement) -> list[CellKey]:
    """The cells one release contributes to (one count each), from its consolidated result."""
    return list(_verdict_cells("release", result["verdicts"], at))


def run_counts(records: dict[str, RecordFacts], own: dict[str, dict], releases: list[dict],
               record_at: dict[str, Placement], release_at: dict[str, Placement]) -> Counter[CellKey]:
    """The counts of a whole run: ``own`` is the records' verdict objects by record IRI, ``releases`` the
    consolidated results; placements as :func:`read_placements` reads them."""
    counts: Counter[CellKey] = Counter()
    unplaced = Placement(NOT_STATED, NOT_STATED, NOT_STATED)
    for iri, result in own.items():
        counts.update(record_cells(records[iri], result, record_at.get(iri, unplaced)))
    for result in releases:
        counts.update(release_cells(result, release_at.get(result["id"], unplaced)))
    return counts


UNPLACED = Placement(NOT_STATED, NOT_STATED, NOT_STATED)


@dataclass
class Tally:
    """A run's counts, and the cells each record and release was counted in (by subject IRI, as observation
    tokens): the run graph keeps them (``og:cubeCells``), so an incremental run can take a changed record's
    counts back out without its old facts."""

    counts: Counter[CellKey] = field(default_factory=Counter)
    # subject -> its cells' tokens, sorted. A tuple of the cached token strings, not their joined text: ~1 KB
    # of text a subject is ~200 MB at 100k records, held until the run graph is written.
    tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cells: dict[str, CellKey] = field(default_factory=dict)  # observation token -> its cell

    def add(self, subject: str, cells: list[CellKey]) -> None:
        self.counts.update(cells)
        tokens = [observation_token(cell) for cell in cells]
        self.tokens[subject] = tuple(sorted(tokens))
        self.cells.update(zip(tokens, cells, strict=True))

    def cells_text(self, subject: str) -> str:
        """og:cubeCells of ``subject``: its observations' tokens, space-separated (a cell counted twice appears
        twice); '' when it was not counted."""
        return " ".join(self.tokens.get(subject, ()))


def dataset_iri(minter: Minter, cube: str) -> str:
    return f"{minter.base}cube/{cube}"


@lru_cache(maxsize=65_536)  # a run has a few thousand cells and counts each ~100 times at 10k records
def observation_token(cell: CellKey) -> str:
    """An observation's IRI below ``{base}cube/``, from its cell alone: the same in every run."""
    tag = hashlib.sha256("\x1f".join((cell.unit, *cell.dims)).encode()).hexdigest()[:20]
    return f"{cell.cube}/obs-{tag}"


def observation_iri(minter: Minter, cell: CellKey) -> str:
    return f"{minter.base}cube/{observation_token(cell)}"


_XSD_INTEGER = str(XSD.integer)


def _term(kind: str, value: str) -> str:
    if kind == "iri":
        return nquads.iri(value)
    return nquads.literal(value, _XSD_INTEGER if kind == "integer" else None)


def cube_nquads(counts: Counter[CellKey], graph_iri: str, minter: Minter) -> Iterator[str]:
    """The cubes as N-Quads lines of the run graph: each cube's ``qb:DataSet`` (generated by the run, whether
    or not it has observations), then one ``qb:Observation`` per cell, in a stable order."""
    iri, line, literal = nquads.iri, nquads.line, nquads.literal
    graph = iri(graph_iri)
    p = {name: iri(str(term)) for name, term in (("type", RDF.type), ("label", RDFS.label), ("structure", QB.structure),
                                                 ("dataset", QB.dataSet), ("unit", OG.countedUnit),
                                                 ("count", OG["count"]), ("run", PROV.wasGeneratedBy))}
    observation, activity = iri(str(QB.Observation)), iri(f"{graph_iri}#run")
    datasets = {}
    for cube in CUBES.values():
        ds = datasets[cube.name] = iri(dataset_iri(minter, cube.name))
        yield from (line(ds, p["type"], iri(str(QB.DataSet)), graph),
                    line(ds, p["structure"], iri(cube.structure), graph),
                    line(ds, p["label"], literal(cube.title, language="en"), graph),
                    line(ds, p["run"], activity, graph))
    dimensions = {name: [(iri(prop), kind) for prop, kind in cube.dimensions] for name, cube in CUBES.items()}
    for cell in sorted(counts):
        obs = iri(observation_iri(minter, cell))
        yield from (line(obs, p["type"], observation, graph), line(obs, p["dataset"], datasets[cell.cube], graph),
                    line(obs, p["unit"], literal(cell.unit), graph),
                    line(obs, p["count"], literal(str(counts[cell]), _XSD_INTEGER), graph))
        yield from (line(obs, prop, _term(kind, value), graph)
                    for (prop, kind), value in zip(dimensions[cell.cube], cell.dims, strict=True))


def counts_payload(counts: Counter[CellKey]) -> list[list]:
    """The counts as JSON-ready rows, sorted: what the run's digest covers of the cubes."""
    return [[*cell, n] for cell, n in sorted(counts.items())]
