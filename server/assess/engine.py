"""The assessment engine: every record against every definition, with reasons.

Facts are read from the store with SPARQL, one scan per property joined here by subject (with a remote
store only those statements travel, and the graph is never copied here), then each requirement of
``server.assess.definitions`` is evaluated in Python. The SHACL shapes in ``shapes/`` are generated from the
same table and pySHACL, the reference engine, must agree (tests/test_shapes_equivalence.py)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from rdflib import RDF

from loaders.components import BY_SLUG
from loaders.vocab import DCAT, DCT, OG, SDO
from server.assess.definitions import DEFINITIONS, REQUIREMENTS, Requirement
from server.assess.mof import mof_evaluate
from server.store import GraphStore

log = logging.getLogger("openness.assess")

RESTRICTING = {"field-of-use", "user-count-cap", "revenue-cap", "non-commercial", "research-only",
               "hosting-restriction", "geographic-restriction", "output-use-restriction", "remote-revocation",
               "gated-acceptance"}
DISCRIMINATING = {"user-count-cap", "revenue-cap", "geographic-restriction"}
FIELD_OF_USE = {"field-of-use", "non-commercial", "research-only", "hosting-restriction"}
FREEDOMS = {"use", "study", "modify", "share"}
# The reason reported when several candidates fail: the worst one (restricted first, unknown last).
REASON_ORDER = {"restricted": 0, "not-open": 1, "unlicensed": 2, "missing": 3, "unknown": 4, "unverified": 5}
# Reason kinds that say "not shown" rather than "not met": a verdict with only these is insufficient-evidence.
NOT_SHOWN = frozenset({"unknown", "unverified"})
INDEX_DIMENSION_ORDER = ("datasources_basemodel", "datasources_endmodel", "weights_basemodel",
                         "weights_endmodel", "trainingcode", "code", "hardware_architecture", "preprint",
                         "paper", "modelcard", "datasheet", "licenses")


@dataclass
class LicenseFacts:
    iri: str
    label: str
    osi: bool | None = None
    fsf: bool | None = None
    grants: set[str] = field(default_factory=set)
    withholds: set[str] = field(default_factory=set)
    restrictions: dict[str, str] = field(default_factory=dict)  # kind -> clause ('' if none cited)


@dataclass(slots=True)
class ArtifactFacts:
    kind: str
    availability: str = "released"
    statement: str | None = None
    state: str | None = None  # license state
    licenses: list[str] = field(default_factory=list)
    dimension: str | None = None
    grade: str | None = None
    license_grade: str | None = None  # its record's Index 'licenses' grade: the evidence when no license is stated
    locations: list[str] = field(default_factory=list)  # URLs of the artifact itself (dcat:accessURL)
    # consolidated evidence only (server.assess.consolidate): where the statement comes from
    located: bool = True
    records: tuple[str, ...] = ()
    scope: str = "own"


@dataclass(slots=True)
class DatasetFacts:
    iri: str
    title: str
    data_class: str | None


@dataclass(slots=True)
class RecordFacts:
    iri: str
    record_id: str
    name: str
    source: str
    complete: bool = False
    gated: str | None = None
    monetised: bool = False
    artifacts: list[ArtifactFacts] = field(default_factory=list)
    grades: dict[str, str] = field(default_factory=dict)
    datasets: list[DatasetFacts] = field(default_factory=list)
    repositories: list[str] = field(default_factory=list)  # code repositories and landing pages of the record


def _tail(term) -> str:
    return _tail_of(term.value)


def _tail_of(iri: str) -> str:
    return sys.intern(iri.rstrip("/").rsplit("/", 1)[-1])


def _value(term) -> str:
    return term.value


def _text(term) -> str:
    """A term's text, interned: a store's records repeat the same license IRIs, statements and URLs, and
    one copy each keeps the facts of 100k records in memory at once (~4x smaller)."""
    return sys.intern(term.value)


LICENSES_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX spdxexp: <https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/>
SELECT ?l ?label ?osi ?fsf ?grant ?withhold ?rkind ?clause WHERE {
  ?l a og:License .
  OPTIONAL { ?l rdfs:label ?label }
  OPTIONAL { ?l spdxexp:isOsiApproved ?osi }
  OPTIONAL { ?l spdxexp:isFsfLibre ?fsf }
  OPTIONAL { ?l og:grantsFreedom ?grant }
  OPTIONAL { ?l og:withholdsFreedom ?withhold }
  OPTIONAL { ?l og:hasRestriction ?r . ?r og:restrictionKind ?rkind . OPTIONAL { ?r og:clause ?clause } }
}"""

# A record's facts are read as scans, one per property, joined here by subject: a query joining the records
# to their optional values ran ~3x slower than the scans it is made of at 10k records, and one joining each
# artifact to its values built hash tables over every artifact in the store (the peak of a 100k-record run's
# memory). A scan also reads two columns, not one per variable of the join (bench/RESULTS.md).
def _scan(store: GraphStore, predicate: str, obj: str | None = None) -> Iterator[tuple]:
    """(subject, object) of every statement of ``predicate`` in any graph; with ``obj``, (subject,) of those
    with that object."""
    if obj is not None:
        return store.iter_values(f"SELECT ?s WHERE {{ ?s <{predicate}> <{obj}> }}", ("s",))
    return store.iter_values(f"SELECT ?s ?o WHERE {{ ?s <{predicate}> ?o }}", ("s", "o"))


def _first_values(store: GraphStore, predicate: str, read, among: Container[str]) -> dict[str, object]:
    """Subject -> ``read`` of its first value of ``predicate``, for the subjects in ``among``."""
    values: dict[str, object] = {}
    for subject, obj in _scan(store, predicate):
        if (iri := subject.value) in among and iri not in values:
            values[iri] = read(obj)
    return values


def read_licenses(store: GraphStore) -> dict[str, LicenseFacts]:
    facts: dict[str, LicenseFacts] = {}
    for row in store.select(LICENSES_QUERY):
        iri = row["l"].value
        lic = facts.get(iri)
        if lic is None:
            label = row["label"].value if "label" in row else iri.rsplit("/", 1)[-1]
            lic = facts[iri] = LicenseFacts(iri, label)
        if "osi" in row:
            lic.osi = row["osi"].value == "true"
        if "fsf" in row:
            lic.fsf = row["fsf"].value == "true"
        if "grant" in row:
            lic.grants.add(_tail(row["grant"]))
        if "withhold" in row:
            lic.withholds.add(_tail(row["withhold"]))
        if "rkind" in row:
            kind = _tail(row["rkind"])
            clause = row["clause"].value if "clause" in row else ""
            if clause or kind not in lic.restrictions:
                lic.restrictions[kind] = clause
    return facts


# an artifact's single-valued properties (the first value read is kept): predicate, field, reader
_ARTIFACT_FIELDS = ((str(OG.artifactKind), "kind", _tail), (str(OG.availability), "availability", _tail),
                    (str(OG.licenseStatement), "statement", _text), (str(OG.licenseState), "state", _tail),
                    (str(OG.indexDimension), "dimension", _text), (str(OG.indexGrade), "grade", _tail))
_LICENSE, _ACCESS_URL = str(DCT.license), str(DCAT.accessURL)


def _is_true(term) -> bool:
    return term.value == "true"


def read_records(store: GraphStore) -> dict[str, RecordFacts]:
    """The facts the engine reads of every record (an og:ModelRelease with a record id and a source)."""
    typed = {s.value for (s,) in _scan(store, str(RDF.type), str(OG.ModelRelease))}
    ids = _first_values(store, str(OG.recordId), _value, typed)
    sources = _first_values(store, str(OG.source), _text, ids)
    trained_on: dict[str, list[str]] = {}  # a dataset -> the records trained on it
    for m, ds in _scan(store, str(OG.trainedOn)):
        if (iri := m.value) in sources:
            trained_on.setdefault(ds.value, []).append(iri)
    titles = _first_values(store, str(DCT.title), _text, typed | trained_on.keys())  # records' and datasets'

    complete = _first_values(store, str(OG.completeComponentList), _is_true, sources)
    gated = _first_values(store, str(OG.gatedAccess), _text, sources)
    monetised = _first_values(store, str(OG.monetised), _is_true, sources)
    records = {iri: RecordFacts(iri, ids[iri], titles.get(iri, ids[iri]), sources[iri],
                                complete=complete.get(iri, False), gated=gated.get(iri),
                                monetised=monetised.get(iri, False))
               for iri in sorted(sources)}
    del typed, ids, sources, complete, gated, monetised
    # Held for every artifact in the store at once (~700k at 100k records), so kept small: the record itself
    # rather than a copy of its IRI.
    owner: dict[str, RecordFacts] = {}  # artifact IRI -> its record
    grade_nodes: dict[str, list[RecordFacts]] = {}  # an Index grade node -> the records that have it
    for m, a in _scan(store, str(OG.hasArtifact)):
        if (record := records.get(m.value)) is not None:
            owner.setdefault(a.value, record)
    for m, g in _scan(store, str(OG.hasGrade)):
        if (record := records.get(m.value)) is not None:
            grade_nodes.setdefault(g.value, []).append(record)
    by_iri: dict[str, ArtifactFacts] = {}

    def artifact(a_iri: str) -> ArtifactFacts:
        art = by_iri.get(a_iri)
        if art is None:
            art = by_iri[a_iri] = ArtifactFacts("", availability="released")
        return art

    # an artifact's single-valued properties: the first value read is kept (the join kept one too); an Index
    # grade node's dimension and grade come from the same scans
    grade_of: dict[str, dict[str, str]] = {}
    for predicate, name, read in _ARTIFACT_FIELDS:
        said: set[str] = set()
        for a, o in _scan(store, predicate):
            a_iri = a.value
            if a_iri in owner and a_iri not in said:
                said.add(a_iri)
                setattr(artifact(a_iri), name, read(o))
            if a_iri in grade_nodes and name in ("dimension", "grade"):
                grade_of.setdefault(a_iri, {})[name] = read(o)
    for predicate, name in ((_LICENSE, "licenses"), (_ACCESS_URL, "locations")):
        for a, o in _scan(store, predicate):
            if (a_iri := a.value) in owner and (value := _text(o)) not in (values := getattr(artifact(a_iri), name)):
                values.append(value)
    # in IRI order, so that artifacts equal in every sort key below stay in IRI order (the sort is stable)
    for a_iri in sorted(by_iri):
        art = by_iri[a_iri]
        if art.kind:  # an artifact of no kind is not one the engine reads
            art.locations.sort()
            owner[a_iri].artifacts.append(art)
    del owner
    by_iri.clear()
    for g_iri, holders in grade_nodes.items():
        if len(grade := grade_of.get(g_iri, {})) == 2:
            for record in holders:
                record.grades[grade["dimension"]] = grade["grade"]
    for predicate in (str(SDO.codeRepository), str(DCAT.landingPage)):
        for m, url in _scan(store, predicate):
            if (record := records.get(m.value)) is not None and (text := _text(url)) not in record.repositories:
                record.repositories.append(text)
    if trained_on:
        data_classes = _first_values(store, str(OG.dataClass), _tail, trained_on)
        for ds_iri, trainees in trained_on.items():
            title = titles[ds_iri] if ds_iri in titles else _tail_of(ds_iri)
            dataset = DatasetFacts(sys.intern(ds_iri), title, data_classes.get(ds_iri))
            for record in (records[iri] for iri in trainees):
                if all(d.iri != ds_iri for d in record.datasets):
                    record.datasets.append(dataset)
    for record in records.values():
        for art in record.artifacts:
            art.license_grade = record.grades.get("licenses")
        record.artifacts.sort(key=lambda a: (a.kind, a.dimension or "", a.statement or ""))
        record.datasets.sort(key=lambda d: d.iri)
        record.repositories.sort()
    return records


# --- evaluating one requirement -----------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    requirement: str
    component: str
    kind: str
    message: str
    records: tuple[str, ...] = ()  # consolidated verdicts: the records the reason rests on
    rule: str | None = None  # consolidated verdicts: the consolidation rule that shaped it

    def as_json(self) -> dict:
        """The reason as JSON. Equal reasons give the same dict, which callers must not change: records fail
        in the same ways (77k reasons of 3,000 records, 363 distinct messages), and one shared copy each
        keeps a run's verdicts ~3x smaller in memory."""
        return _reason_json(self)


@lru_cache(maxsize=1 << 16)
def _reason_json(reason: Reason) -> dict:
    out = {"requirement": reason.requirement, "component": reason.component, "kind": reason.kind,
           "message": reason.message}
    if reason.records:
        out["records"] = list(reason.records)
    if reason.rule:
        out["rule"] = reason.rule
    return out


def _clause_text(lic: LicenseFacts, kinds: set[str]) -> str:
    parts = []
    for kind in sorted(kinds):
        clause = lic.restrictions.get(kind, "")
        parts.append(kind.replace("-", " ") + (f", {clause}" if clause else ""))
    return "; ".join(parts)


def license_outcome(test: str, lic: LicenseFacts | None, iri: str) -> tuple[str, str] | None:
    """None if the license passes ``test``, else (reason kind, message)."""
    if lic is None:
        return "unknown", f"license <{iri}> is not in the license knowledge base"
    if test == "osi-license":
        if lic.osi:
            return None
        restricted = set(lic.restrictions) & RESTRICTING
        if restricted:
            return "restricted", f"{lic.label} is not OSI-approved and restricts use ({_clause_text(lic, restricted)})"
        return "not-open", f"{lic.label} is not an OSI-approved license"
    if test in ("osi-terms", "free"):
        if test == "free" and lic.fsf is False:
            return "not-open", f"{lic.label} is not a free license (FSF)"
        restricted = set(lic.restrictions) & RESTRICTING
        if restricted:
            return "restricted", f"{lic.label} restricts use ({_clause_text(lic, restricted)})"
        if lic.osi or lic.fsf or FREEDOMS <= lic.grants:
            return None
        if lic.withholds:
            return "not-open", f"{lic.label} withholds the freedom to {', '.join(sorted(lic.withholds))}"
        return "unknown", f"{lic.label}: the freedoms it grants are not known"
    if test in ("grants-share", "grants-modify"):
        freedom = test.split("-", 1)[1]
        if freedom in lic.grants or lic.osi or lic.fsf:
            return None
        if freedom in lic.withholds:
            return "not-open", f"{lic.label} withholds the freedom to {freedom}"
        return "unknown", f"{lic.label}: whether it allows to {freedom} is not known"
    if test in ("no-discrimination", "no-field-of-use"):
        group = DISCRIMINATING if test == "no-discrimination" else FIELD_OF_USE
        hit = set(lic.restrictions) & group
        if hit:
            return "restricted", f"{lic.label} restricts use ({_clause_text(lic, hit)})"
        return None
    raise ValueError(f"unknown license test {test!r}")


def artifact_outcome(req: Requirement, art: ArtifactFacts, record: RecordFacts,
                     licenses: dict[str, LicenseFacts]) -> tuple[str, str] | None:
    """None if this artifact satisfies the requirement, else (reason kind, message)."""
    name = BY_SLUG[art.kind].name
    if art.availability == "not-released":
        return "missing", f"{name} is not released (graded closed)"
    if art.availability == "partial":
        return "unknown", f"{name} is only partly available (graded partial)"
    if req.test in ("present", "not-gated"):
        if req.test == "not-gated" and record.gated == "manual":
            return "restricted", f"{name} is gated: access needs the publisher's manual approval"
        return None
    if req.test == "free-data":
        return _free_data_outcome(art, record, licenses)
    state = art.state
    if state is None and not art.licenses:
        return _index_license_outcome(name, art.license_grade)
    if state == "unlicensed":
        return "unlicensed", f"{name} has no license"
    if state == "not-included":
        return "missing", f"{name} is not included ({art.statement!r})"
    if state in ("undisclosed", "unrecognised") or not art.licenses:
        return "unknown", f"{name}: license {art.statement!r} is not disclosed or not recognised"
    # Every license must pass; the worst failure is reported (not the first in store row order, which would
    # make the reason depend on the store).
    failures = [o for iri in sorted(art.licenses) if (o := license_outcome(req.test, licenses.get(iri), iri))]
    return min(failures, key=lambda o: REASON_ORDER[o[0]]) if failures else None


def _index_license_outcome(name: str, grade: str | None) -> tuple[str, str] | None:
    """An Index artifact without its own license: the Index's 'licenses' grade is the evidence."""
    if grade == "open":
        return None
    if grade == "closed":
        return "not-open", f"{name}: the Index grades the licenses closed (not OSI-approved)"
    return "unknown", f"{name}: its license is not stated" + (" (licenses graded partial)" if grade else "")


def _free_data_outcome(art: ArtifactFacts, record: RecordFacts,
                       licenses: dict[str, LicenseFacts]) -> tuple[str, str] | None:
    for ds in record.datasets:
        if ds.data_class in ("public", "obtainable", "unshareable"):
            return "not-open", f"training dataset {ds.title} is {ds.data_class} data, not free"
    req = Requirement("", "", ("datasets",), "free", "", "")
    return artifact_outcome(req, art, record, licenses)


def evaluate_requirement(req: Requirement, record: RecordFacts,
                         licenses: dict[str, LicenseFacts]) -> Reason | None:
    if req.scope == "record":
        return _record_check(req, record)
    candidates = [a for a in record.artifacts if a.kind in req.kinds]
    component = req.component
    if not candidates:
        if req.if_used:
            return None
        kind = "missing" if record.complete else "unknown"
        said = "is not recorded" if record.complete else "is not stated in the record"
        return Reason(req.id, component, kind, f"{component} {said}")
    outcomes = [(a, artifact_outcome(req, a, record, licenses)) for a in candidates]
    if any(o is None for _, o in outcomes):
        return None
    art, (kind, message) = min(outcomes, key=lambda pair: (REASON_ORDER[pair[1][0]], pair[0].kind))
    return Reason(req.id, BY_SLUG[art.kind].name, kind, message)


def _record_check(req: Requirement, record: RecordFacts) -> Reason | None:
    if req.test == "not-monetised":
        return Reason(req.id, "", "restricted", "the model is monetised") if record.monetised else None
    kinds_present = {a.kind for a in record.artifacts if a.availability == "released"}
    if req.test == "open-data-shared":
        for ds in record.datasets:
            if ds.data_class == "open" and "datasets" not in kinds_present:
                return Reason(req.id, "Datasets", "missing",
                              f"training dataset {ds.title} is open data but the record does not share it")
        return None
    if req.test == "unshareable-data-described":
        for ds in record.datasets:
            if ds.data_class == "unshareable" and not kinds_present & set(req.kinds):
                return Reason(req.id, req.component, "missing",
                              f"training dataset {ds.title} is unshareable and no data card, technical "
                              "report or research paper describes it")
        return None
    raise ValueError(f"unknown record check {req.test!r}")


# --- verdicts ------------------------------------------------------------------------------------------

def binary_verdict(definition_id: str, record: RecordFacts, licenses: dict[str, LicenseFacts]) -> dict:
    reasons = [r for req in REQUIREMENTS if req.definition == definition_id
               if (r := evaluate_requirement(req, record, licenses)) is not None]
    return verdict_of(reasons)


def verdict_of(reasons: list[Reason]) -> dict:
    """Pass with no reason; insufficient-evidence when every reason says "not shown"; else fail. Equal
    reasons give the same dict, which callers must not change (see :meth:`Reason.as_json`)."""
    return _verdict_of(tuple(reasons))


@lru_cache(maxsize=1 << 14)
def _verdict_of(reasons: tuple[Reason, ...]) -> dict:
    if not reasons:
        verdict = "pass"
    elif all(r.kind in NOT_SHOWN for r in reasons):
        verdict = "insufficient-evidence"
    else:
        verdict = "fail"
    return {"verdict": verdict, "reasons": [r.as_json() for r in reasons]}


def index_grades(record: RecordFacts, licenses: dict[str, LicenseFacts]) -> dict:
    """The Index's own grades for Index records; for others, grades derived from the artifacts (open if
    released under an open license, partial if released otherwise, closed if recorded as absent)."""
    from loaders.components import INDEX_DIMENSIONS

    dims: dict[str, str] = {}
    for dim in INDEX_DIMENSION_ORDER:
        if dim in record.grades:
            dims[dim] = record.grades[dim]
            continue
        kind = INDEX_DIMENSIONS[dim]
        if kind is None:
            arts = [a for a in record.artifacts if a.licenses]
            outcomes = [artifact_outcome(_OPEN_TERMS, a, record, licenses) for a in arts]
            dims[dim] = ("unknown" if not arts else "open" if all(o is None for o in outcomes)
                         else "partial" if any(o is None for o in outcomes) else "closed")
            continue
        arts = [a for a in record.artifacts if a.kind == kind]
        if not arts:
            dims[dim] = "closed" if record.complete else "unknown"
        elif any(artifact_outcome(_OPEN_TERMS, a, record, licenses) is None for a in arts):
            dims[dim] = "open"
        else:
            dims[dim] = "partial"
    return _graded(tuple(dims.items()))


@lru_cache(maxsize=1 << 14)
def _graded(dims: tuple[tuple[str, str], ...]) -> dict:
    """The Index verdict of some grades: one shared dict per distinct grades (callers must not change it), as
    records repeat the same twelve grades."""
    known = [grade for _, grade in dims if grade != "unknown"]
    value = {"open": Decimal(1), "partial": Decimal("0.5"), "closed": Decimal(0)}
    score = (sum((value[v] for v in known), Decimal(0)) / len(known)) if known else None
    return {"score": None if score is None else float(round(score, 4)), "dimensions": dict(dims)}


_OPEN_TERMS = Requirement("", "", (), "osi-terms", "", "")


def assess_record(record: RecordFacts, licenses: dict[str, LicenseFacts]) -> dict:
    """The verdict object of product.md for one record."""
    verdicts: dict[str, dict] = {}
    for definition in DEFINITIONS:
        if definition.id == "mof-1.0":
            verdicts[definition.id] = mof_evaluate(record)
        elif definition.id == "osai-index":
            verdicts[definition.id] = index_grades(record, licenses)
        else:
            verdicts[definition.id] = binary_verdict(definition.id, record, licenses)
    return {"id": record.record_id, "name": record.name, "well_formed": True, "problems": [],
            "verdicts": verdicts}


def assess_store(store: GraphStore) -> list[dict]:
    """Verdict objects for every record in the store, sorted by id (deterministic across stores)."""
    licenses = read_licenses(store)
    records = read_records(store)
    return [assess_record(r, licenses) for r in sorted(records.values(), key=lambda r: r.record_id)]
