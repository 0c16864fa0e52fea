"""One evidenced answer per release: what every record of a release says about each component, merged by
written rules, and every definition evaluated on the merged evidence (docs/consolidation.md).

The rules, each cited by its id in the reasons and flags it produces:
* ``absence-never-outweighs-located`` — a component a complete record leaves out (MOT: "not listed") never
  outweighs a located, licensed artifact another record states;
* ``no-pass-without-evidence`` — a component claimed but located by nothing for *this* release (no URL or
  path of its own, no code or Hugging Face repository of the release, no family-level link pointing at
  the release) is an unverified claim: a definition whose pass depends on it is ``insufficient-evidence``
  with reason kind ``unverified``;
* ``conflict-restrictive-reading`` — records that disagree on a component's availability or license are
  listed as a conflict with both statements, and the verdict takes the more restrictive reading;
* ``family-level-fallback`` — what an Open Source AI Index record says about its family as a whole
  (training code, documentation, papers, model card, data sheet) applies to the family's other releases
  where the release itself says nothing about that component;
* ``base-license-inherited`` — a derivative of a loaded base model (its Hub ``base_model``) stays under the
  base's weights license where that license is not open: the derivative's weights carry it too, and a
  derivative that states a more permissive license is flagged ``license-conflict-with-base``.
The per-record verdicts stay as they are; the consolidated ones are stored beside them in the run."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import pyoxigraph as ox
import rdflib
from rdflib import RDF, RDFS, Literal, URIRef

from loaders.components import BY_SLUG
from loaders.mot import hf_repo_id
from loaders.vocab import AVAIL, DCT, GRADE, KIND, LICSTATE, OG
from server.assess.definitions import DEFINITIONS, REQUIREMENTS, Requirement
from server.assess.engine import (
    ArtifactFacts,
    LicenseFacts,
    Reason,
    RecordFacts,
    artifact_outcome,
    evaluate_requirement,
    index_grades,
    license_outcome,
    read_records,
    verdict_of,
)
from server.assess.mof import mof_evaluate
from server.store import GraphStore, OxigraphStore, graph_quads

RULES = {
    "absence-never-outweighs-located": "absence in a record that lists every component never outweighs a located, "
                                       "licensed artifact stated by another record",
    "no-pass-without-evidence": "a component claimed but located by nothing for this release is an unverified claim; "
                                "no pass rests on it",
    "conflict-restrictive-reading": "where records disagree on a component's availability or license, the more "
                                    "restrictive reading is taken",
    "family-level-fallback": "a family-level statement (Open Source AI Index) applies where the release itself says "
                             "nothing about the component",
    "base-license-inherited": "a derivative (fine-tune, adapter, quantization, merge) stays under its base model's "
                              "license: a license that restricts the base restricts the derivative's weights too",
}
# Index dimensions that grade the system as a whole (not one release's weights or data): family-level.
FAMILY_DIMENSIONS = frozenset({"trainingcode", "code", "hardware_architecture", "preprint", "paper", "modelcard",
                               "datasheet"})
_OPEN_TERMS = Requirement("", "", (), "osi-terms", "", "")
# How restrictive a statement is, for the restrictive reading (lower is more restrictive).
_RESTRICTIVENESS = {"missing": 0, "restricted": 1, "not-open": 2, "unlicensed": 3, "unknown": 4, None: 5}


@dataclass
class ReleaseInput:
    """A release and the records that speak about it, read from the identity graph."""

    iri: str
    release_id: str
    name: str
    family_id: str
    family_name: str
    hf_id: str | None
    released: str | None
    own: list[str] = field(default_factory=list)  # record IRIs whose release this is
    base_of: list[str] = field(default_factory=list)  # Index records grading this release as their base model
    family: list[str] = field(default_factory=list)  # Index records describing the release's family
    bases: list[tuple[str, str, str]] = field(default_factory=list)  # (base release IRI, name, relation)
    base_records: dict[str, list[str]] = field(default_factory=dict)  # base release IRI -> its record IRIs


@dataclass
class Statement:
    """What one record says about one component of the release."""

    record: RecordFacts
    artifact: ArtifactFacts | None  # None: a complete record that does not list the component
    scope: str  # "own", "base" (an Index record grading this release as its base model) or "family"
    located: bool

    @property
    def says(self) -> str:
        art = self.artifact
        if art is None:
            return "not listed (the record lists every released component)"
        if art.availability == "not-released":
            return "not released" + (f" (graded {art.grade})" if art.grade else "")
        text = art.availability
        if art.state == "unlicensed":
            text += " without a license"
        elif art.statement:
            text += f" under {art.statement}"
        if art.grade:
            text += f" (graded {art.grade}" + ("" if art.statement or art.state else
                                              f"; licenses graded {art.license_grade or 'nothing'}") + ")"
        return text


RELEASES_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?r ?id ?name ?f ?fid ?fname ?hf ?issued WHERE {
  ?r a og:Release ; og:releaseId ?id ; rdfs:label ?name ; og:ofFamily ?f .
  ?f og:familyId ?fid ; rdfs:label ?fname .
  OPTIONAL { ?r og:huggingFaceId ?hf }
  OPTIONAL { ?r dct:issued ?issued }
}"""

BASES_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?r ?relation ?b ?name ?m WHERE {
  VALUES ?relation { og:baseModel og:finetunedFrom og:adapterOf og:quantizedFrom og:mergedFrom }
  ?r a og:Release ; ?relation ?b . ?b a og:Release ; rdfs:label ?name .
  OPTIONAL { ?m og:ofRelease ?b }
}"""

MEMBERS_LINKS = "{ ?m og:ofRelease ?rel } UNION { ?m og:baseRelease ?base } UNION { ?m og:describesFamily ?fam }"
MEMBERS_QUERY = f"""
PREFIX og: <https://w3id.org/openness-graph/ontology#>
SELECT ?m ?rel ?base ?fam WHERE {{
  {MEMBERS_LINKS}
  ?m a og:ModelRelease .
}}"""


def in_graph(query: str, graph: str | None) -> str:
    """A query over the union graph scoped to one named graph: its WHERE block read as ``GRAPH <graph>``."""
    if graph is None:
        return query
    head, _, body = query.partition("WHERE {")
    return f"{head}WHERE {{ GRAPH <{graph}> {{{body.rstrip()[:-1]}}} }}"


def read_releases(store: GraphStore, links_graph: str | None = None) -> dict[str, ReleaseInput]:
    """Every release of the identity graph with its own, base-grading and family records, by release IRI.
    ``links_graph``: the identity graph's name, which scopes the joins to it (1.9x faster at 10k records
    than over the union of every graph; without it, the union)."""
    releases: dict[str, ReleaseInput] = {}
    by_family: dict[str, list[ReleaseInput]] = defaultdict(list)
    for r, release_id, name, family, family_id, family_name, hf, issued in store.iter_values(
            in_graph(RELEASES_QUERY, links_graph), ("r", "id", "name", "f", "fid", "fname", "hf", "issued")):
        if (iri := r.value) in releases:
            continue
        rel = releases[iri] = ReleaseInput(iri, release_id.value, name.value, family_id.value, family_name.value,
                                           hf.value if hf is not None else None,
                                           issued.value if issued is not None else None)
        by_family[family.value].append(rel)
    members = MEMBERS_QUERY if links_graph is None else MEMBERS_QUERY.replace(
        MEMBERS_LINKS, f"GRAPH <{links_graph}> {{ {MEMBERS_LINKS} }}")
    for m, of_release, base, family in store.iter_values(members, ("m", "rel", "base", "fam")):
        record = m.value
        if of_release is not None and (rel := releases.get(of_release.value)) is not None:
            rel.own.append(record)
        elif base is not None and (rel := releases.get(base.value)) is not None:
            rel.base_of.append(record)
        elif family is not None:
            for rel in by_family.get(family.value, []):
                rel.family.append(record)
    _read_bases(store, releases, in_graph(BASES_QUERY, links_graph))
    for rel in releases.values():
        _settle(rel)
    return releases


def _settle(rel: ReleaseInput) -> None:
    """Members in order, a family record only where it is not already the release's own or base's."""
    rel.own.sort()
    rel.base_of.sort()
    rel.family = sorted(set(rel.family) - set(rel.own) - set(rel.base_of))


BASE_RELATIONS = ("baseModel", "finetunedFrom", "adapterOf", "quantizedFrom", "mergedFrom")


def read_some_releases(store: OxigraphStore, links_graph: str, iris: Iterable[str]) -> dict[str, ReleaseInput]:
    """Some releases, read as :func:`read_releases` reads every release but by point lookups in the identity
    graph's indexes: an incremental run reads the few releases a change touches, not all (at 100k records
    reading every release takes seconds)."""
    ox_store, links = store.oxigraph, ox.NamedNode(links_graph)
    term = {name: ox.NamedNode(str(iri)) for name, iri in (
        ("type", RDF.type), ("label", RDFS.label), ("release", OG.Release), ("record", OG.ModelRelease),
        ("id", OG.releaseId), ("family", OG.ofFamily), ("fid", OG.familyId), ("hf", OG.huggingFaceId),
        ("issued", DCT.issued), ("of", OG.ofRelease), ("base", OG.baseRelease), ("describes", OG.describesFamily))}

    def first(subject: ox.NamedNode, predicate: str) -> str | None:
        values = sorted(q.object.value for q in ox_store.quads_for_pattern(subject, term[predicate], None, links))
        return values[0] if values else None

    def records(predicate: str, obj: ox.NamedNode) -> list[str]:
        return [q.subject.value for q in ox_store.quads_for_pattern(None, term[predicate], obj, links)
                if next(ox_store.quads_for_pattern(q.subject, term["type"], term["record"]), None) is not None]

    def is_release(node: ox.NamedNode) -> bool:
        return next(ox_store.quads_for_pattern(node, term["type"], term["release"], links), None) is not None

    found: dict[str, ReleaseInput] = {}
    for iri in sorted(set(iris)):
        node = ox.NamedNode(iri)
        release_id, name, family = first(node, "id"), first(node, "label"), first(node, "family")
        if not is_release(node) or release_id is None or name is None or family is None:
            continue
        family_node = ox.NamedNode(family)
        family_id, family_name = first(family_node, "fid"), first(family_node, "label")
        if family_id is None or family_name is None:
            continue
        rel = found[iri] = ReleaseInput(iri, release_id, name, family_id, family_name, first(node, "hf"),
                                        first(node, "issued"))
        rel.own, rel.base_of = records("of", node), records("base", node)
        rel.family = records("describes", family_node)
        _settle(rel)
        for relation in BASE_RELATIONS:
            for q in ox_store.quads_for_pattern(node, ox.NamedNode(f"{OG}{relation}"), None, links):
                base = q.object
                base_name = first(base, "label") if is_release(base) else None
                if base_name is None:
                    continue
                rel.bases.append((base.value, base_name, relation))
                rel.base_records[base.value] = sorted(
                    {m.subject.value for m in ox_store.quads_for_pattern(None, term["of"], base, links)})
        rel.bases.sort()
    return found


def _read_bases(store: GraphStore, releases: dict[str, ReleaseInput], query: str) -> None:
    """Each release's base models (lineage from the identity graph) and the records of those bases."""
    for r, relation, b, name, m in store.iter_values(query, ("r", "relation", "b", "name", "m")):
        rel = releases.get(r.value)
        if rel is None:
            continue
        base = (b.value, name.value, relation.value.rsplit("#", 1)[-1])
        if base not in rel.bases:
            rel.bases.append(base)
        members = rel.base_records.setdefault(b.value, [])
        if m is not None and m.value not in members:
            members.append(m.value)
    for rel in releases.values():
        rel.bases.sort()
        for members in rel.base_records.values():
            members.sort()


# --- merging ---------------------------------------------------------------------------------------------

def _points_at(url: str, rel: ReleaseInput, repos: set[str]) -> bool:
    """Whether a link is about this release: its Hugging Face repository, or a code repository of the
    release's own records."""
    hub = hf_repo_id(url)
    if hub and rel.hf_id and hub.lower() == rel.hf_id.lower():
        return True
    return any(url.rstrip("/").startswith(repo.rstrip("/")) for repo in repos)


def _licensed(art: ArtifactFacts) -> bool:
    return bool(art.licenses or art.state or art.license_grade)


def gather(rel: ReleaseInput, records: dict[str, RecordFacts]) -> dict[str, list[Statement]]:
    """Every statement about every component of the release, by component kind, before the rules."""
    own = [records[i] for i in rel.own if i in records]
    release_locations = {u for r in own for u in r.repositories} | ({rel.hf_id} if rel.hf_id else set())
    repos = {u for r in own for u in r.repositories}
    out: dict[str, list[Statement]] = defaultdict(list)
    for record in own:
        listed = set()
        for art in record.artifacts:  # an Index record's base-model grades too: the Index grades a system
            listed.add(art.kind)
            out[art.kind].append(Statement(record, art, "own", bool(art.locations or release_locations)))
        if record.complete:
            for kind in BY_SLUG:
                if kind not in listed and BY_SLUG[kind].mot_id is not None:
                    out[kind].append(Statement(record, None, "own", False))
    for iri in rel.base_of:
        record = records.get(iri)
        for art in record.artifacts if record else ():
            if art.dimension and art.dimension.endswith("_basemodel"):
                out[art.kind].append(Statement(record, art, "base", bool(art.locations)))
    for iri in rel.family:
        record = records.get(iri)
        for art in record.artifacts if record else ():
            if art.dimension in FAMILY_DIMENSIONS:
                located = any(_points_at(u, rel, repos) for u in art.locations)
                out[art.kind].append(Statement(record, art, "family", located))
    return out


@dataclass
class Merged:
    """The statements a component's verdicts rest on, and what the rules noted on the way."""

    kind: str
    chosen: list[Statement]
    conflict: list[Statement] = field(default_factory=list)
    rule: str | None = None
    statements: list[Statement] = field(default_factory=list)  # everything said, chosen or not


def _restrictiveness(st: Statement, record: RecordFacts, licenses: dict[str, LicenseFacts]) -> int:
    if st.artifact is None or st.artifact.availability == "not-released":
        return _RESTRICTIVENESS["missing"]
    outcome = artifact_outcome(_OPEN_TERMS, st.artifact, record, licenses)
    return _RESTRICTIVENESS[outcome[0] if outcome else None]


def merge(kind: str, statements: list[Statement], licenses: dict[str, LicenseFacts]) -> Merged:
    """The rules applied to one component's statements."""
    direct = [s for s in statements if s.scope != "family"]
    family = [s for s in statements if s.scope == "family"]
    positive = [s for s in direct if s.artifact is not None and s.artifact.availability != "not-released"]
    unlisted = [s for s in direct if s.artifact is None]
    rule = None
    if not direct:
        if not family:
            return Merged(kind, [])
        return Merged(kind, family, rule="family-level-fallback")
    if unlisted:
        strong = [s for s in positive if s.located and _licensed(s.artifact)]
        strong_family = [s for s in family if s.located and _licensed(s.artifact)]
        if strong or (not positive and strong_family):
            direct = [s for s in direct if s.artifact is not None] or strong_family
            rule = "absence-never-outweighs-located"
    ranks = {id(s): _restrictiveness(s, s.record, licenses) for s in direct}
    if len({s.record.record_id for s in direct}) > 1 and _disagree(direct, ranks):
        worst = min(ranks.values())
        chosen = [s for s in direct if ranks[id(s)] == worst]
        return Merged(kind, chosen, conflict=direct, rule="conflict-restrictive-reading")
    return Merged(kind, direct, rule=rule)


def _availability(st: Statement) -> str:
    art = st.artifact
    return "absent" if art is None or art.availability == "not-released" else art.availability


def _disagree(statements: list[Statement], ranks: dict[int, int]) -> bool:
    """Whether statements of different records disagree: on availability (absent, partial, released), on
    the licenses both name, or on openness where both readings are known (an Index grade of "open" and an
    MIT license agree; "open" and a RAIL license do not)."""
    unknown = _RESTRICTIVENESS["unknown"]
    for i, a in enumerate(statements):
        for b in statements[i + 1:]:
            if a.record.record_id == b.record.record_id:
                continue
            if _availability(a) != _availability(b):
                return True
            if _availability(a) != "released":
                continue
            if a.artifact.licenses and b.artifact.licenses and set(a.artifact.licenses) != set(b.artifact.licenses):
                return True
            ra, rb = ranks[id(a)], ranks[id(b)]
            if ra != rb and unknown not in (ra, rb):
                return True
    return False


# --- evaluating -------------------------------------------------------------------------------------------

@dataclass(slots=True)
class ReleaseFacts(RecordFacts):
    """The merged evidence of a release, in the engine's terms (one artifact per chosen statement)."""

    merged: dict[str, Merged] = field(default_factory=dict)
    records_used: list[str] = field(default_factory=list)
    inherited: list[dict] = field(default_factory=list)  # base licenses the weights carry (base-license-inherited)


def release_facts(rel: ReleaseInput, records: dict[str, RecordFacts],
                  licenses: dict[str, LicenseFacts]) -> ReleaseFacts:
    own = [records[i] for i in rel.own if i in records]
    facts = ReleaseFacts(rel.iri, rel.release_id, rel.name, "release",
                         complete=any(r.complete for r in own),
                         gated="manual" if any(r.gated == "manual" for r in own)
                         else next((r.gated for r in own if r.gated), None),
                         monetised=any(r.monetised for r in own))
    used: set[str] = {r.record_id for r in own}
    for kind, statements in sorted(gather(rel, records).items()):
        merged = merge(kind, statements, licenses)
        merged.statements = statements
        facts.merged[kind] = merged
        for st in merged.chosen:
            if st.artifact is None:
                continue
            used.add(st.record.record_id)
            facts.artifacts.append(replace(st.artifact, located=st.located, records=(st.record.record_id,),
                                           scope=st.scope))
    for record in own:
        if record.source == "osai-index":
            for dim, grade in record.grades.items():
                facts.grades.setdefault(dim, grade)
        for ds in record.datasets:
            if all(d.iri != ds.iri for d in facts.datasets):
                facts.datasets.append(ds)
    _inherit_base_licenses(rel, facts, records, licenses)
    facts.artifacts.sort(key=lambda a: (a.kind, a.dimension or "", a.statement or "", a.records))
    facts.datasets.sort(key=lambda d: d.iri)
    facts.records_used = sorted(used)
    return facts


WEIGHTS = "model-parameters-final"


def _inherit_base_licenses(rel: ReleaseInput, facts: ReleaseFacts, records: dict[str, RecordFacts],
                           licenses: dict[str, LicenseFacts]) -> None:
    """base-license-inherited: the weights licenses of each loaded base that are not open (they restrict
    use, or withhold a freedom) apply to the derivative's weights as well. Recorded on the facts, so the
    reasons and the license-conflict-with-base flag can name the base, both licenses and the clause."""
    for base_iri, base_name, relation in rel.bases:
        base_licenses = sorted({lic for i in rel.base_records.get(base_iri, ()) if i in records
                                for a in records[i].artifacts if a.kind == WEIGHTS for lic in a.licenses})
        binding = [lic for lic in base_licenses if license_outcome("osi-terms", licenses.get(lic), lic) is not None]
        if not binding:
            continue
        for art in facts.artifacts:
            if art.kind == WEIGHTS and art.availability != "not-released":
                own = [lic for lic in art.licenses if lic not in binding]
                art.licenses = own + [lic for lic in binding if lic not in art.licenses]
                facts.inherited.append({"base": base_name, "relation": relation, "licenses": binding,
                                        "own": own, "records": list(art.records)})


def _records_of(facts: ReleaseFacts, kinds: tuple[str, ...]) -> list[str]:
    """The records a reason about these components rests on: those whose statements were used, or (for an
    absent component) the records that describe the release."""
    ids = sorted({rid for k in kinds if k in facts.merged for st in facts.merged[k].chosen
                  for rid in (st.record.record_id,)})
    return ids or list(facts.records_used)


def _rule_note(facts: ReleaseFacts, kinds: tuple[str, ...]) -> tuple[str | None, str]:
    for k in kinds:
        merged = facts.merged.get(k)
        if merged is None or merged.rule is None:
            continue
        if merged.rule == "conflict-restrictive-reading":
            said = "; ".join(f"{s.record.record_id}: {s.says}" for s in merged.conflict)
            return merged.rule, f" (sources disagree — {said}; the more restrictive reading is taken)"
        if merged.rule == "family-level-fallback":
            who = ", ".join(sorted({s.record.record_id for s in merged.chosen}))
            return merged.rule, f" (from the family-level record {who}: the release itself says nothing)"
        if merged.rule == "absence-never-outweighs-located":
            return merged.rule, " (absence in a complete record does not outweigh a located, licensed artifact)"
    return None, ""


def evaluate_release_requirement(req: Requirement, facts: ReleaseFacts,
                                 licenses: dict[str, LicenseFacts]) -> Reason | None:
    """The record-level requirement on merged evidence, plus the no-pass-without-evidence rule."""
    reason = evaluate_requirement(req, facts, licenses)
    kinds = req.kinds
    if reason is not None:
        component_kinds = tuple(k for k in kinds if BY_SLUG[k].name == reason.component) or kinds
        rule, note = _rule_note(facts, component_kinds)
        inherited = [i for i in facts.inherited
                     if WEIGHTS in component_kinds and reason.kind in ("restricted", "not-open")
                     and any(licenses[lic].label in reason.message for lic in i["licenses"] if lic in licenses)]
        if inherited:
            rule = "base-license-inherited"
            note += "".join(f" (inherited from its base model {i['base']}: a derivative stays under its base's "
                            "license)" for i in inherited)
        return replace(reason, message=reason.message + note,
                       records=tuple(_records_of(facts, component_kinds)), rule=rule)
    return _unverified(req, facts, licenses)


CLAIMS_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?c ?r ?fid ?scope ?who ?source ?quote ?date WHERE {
  ?c a og:OpennessClaim ; og:claimAbout ?about ; og:claimScope ?scope ; dct:creator ?who ; dct:source ?source ;
     og:quote ?quote .
  ?about og:ofRelease ?r . ?r og:ofFamily ?f . ?f og:familyId ?fid .
  OPTIONAL { ?c dct:date ?date }
}"""
_OPEN_WORD = re.compile(r"\bopen", re.IGNORECASE)


def read_claims(store: GraphStore) -> list[tuple[str, str, dict]]:
    """The curated openness claims as (scope, release IRI or family id, claim): a family claim concerns every
    release of the family of the record it names."""
    out = []
    for row in store.select(CLAIMS_QUERY):
        scope = row["scope"].value
        claim = {"iri": row["c"].value, "claimant": row["who"].value, "quote": row["quote"].value,
                 "source": row["source"].value, "date": row["date"].value if "date" in row else None,
                 "scope": scope}
        out.append((scope, row["r"].value if scope == "release" else row["fid"].value, claim))
    return sorted(out, key=lambda c: (c[2]["source"], c[2]["quote"]))


def claims_about(rel: ReleaseInput, claims: list[tuple[str, str, dict]]) -> list[dict]:
    return [c for scope, target, c in claims
            if target == (rel.iri if scope == "release" else rel.family_id)]


def license_name_claims(facts: ReleaseFacts, licenses: dict[str, LicenseFacts]) -> list[dict]:
    """The weights' licenses whose names claim openness ("Open Model License", "OpenRAIL") but that are not
    OSI-approved: the name is the claim."""
    out = []
    for art in facts.artifacts:
        if art.kind != "model-parameters-final":
            continue
        for iri in art.licenses:
            lic = licenses.get(iri)
            if lic is not None and not lic.osi and _OPEN_WORD.search(lic.label):
                claim = {"iri": iri, "claimant": "license name", "quote": lic.label, "source": iri, "date": None,
                         "scope": "release"}
                if claim not in out:
                    out.append(claim)
    return out


def _open_washing_flags(facts: ReleaseFacts, osaid: dict, claims: list[dict]) -> list[dict]:
    """A flag per claim when the consolidated OSAID verdict fails: the claim and the failed requirements."""
    if osaid["verdict"] != "fail" or not claims:
        return []
    failed = sorted({r["requirement"] for r in osaid["reasons"] if r["kind"] not in ("unknown", "unverified")})
    flags = []
    for claim in claims:
        said = (f"the license name \u201c{claim['quote']}\u201d claims openness" if claim["claimant"] == "license name"
                else f"{claim['claimant']} calls it open source (\u201c{claim['quote']}\u201d, {claim['source']})")
        flags.append({"kind": "open-washing", "claim": claim, "failed": [f"osaid-1.0/{r}" for r in failed],
                      "records": facts.records_used,
                      "message": f"{said}, but its OSAID 1.0 verdict fails: {', '.join(failed)}"})
    return flags


def _single_record(rel: ReleaseInput, records: dict[str, RecordFacts]) -> RecordFacts | None:
    """The release's one record when nothing else speaks about it: then its merged evidence is that
    record's own statements (no conflict, no fallback), and only the location rule can change its verdicts."""
    if len(rel.own) != 1 or rel.base_of or rel.family or rel.bases or rel.own[0] not in records:
        return None
    return records[rel.own[0]]


def _from_record(rel: ReleaseInput, record: RecordFacts, own: dict, licenses: dict[str, LicenseFacts]) -> dict:
    """The consolidated verdicts of a one-record release from that record's verdict object: its reasons,
    each resting on the record, plus no-pass-without-evidence where a requirement passed on statements
    nothing locates. Equal to the general path (tests/test_consolidation.py checks it on every such release)."""
    located = bool(record.repositories or rel.hf_id)  # a repository of the release locates every statement
    artifacts = (record.artifacts if located else  # a record's artifacts are located unless marked otherwise
                 [replace(a, located=bool(a.locations), records=(record.record_id,)) for a in record.artifacts])
    facts = ReleaseFacts(rel.iri, rel.release_id, rel.name, "release", complete=record.complete,
                         gated=record.gated, monetised=record.monetised, artifacts=artifacts,
                         grades=dict(record.grades) if record.source == "osai-index" else {},
                         datasets=list(record.datasets), records_used=[record.record_id])
    rid = (record.record_id,)
    verdicts: dict[str, dict] = {}
    for def_id, verdict in own["verdicts"].items():
        if "verdict" not in verdict or located:  # nothing the location rule can add
            entry = dict(verdict)
            if "reasons" in entry:
                entry["reasons"] = [{**r, "records": list(rid)} for r in verdict["reasons"]]
            verdicts[def_id] = entry
            continue
        by_requirement = {r["requirement"]: r for r in verdict["reasons"]}
        reasons = []
        for req in REQUIREMENTS:
            if req.definition != def_id:
                continue
            if req.id in by_requirement:
                reasons.append(Reason(**by_requirement[req.id], records=rid))
            elif (unverified := _unverified(req, facts, licenses)) is not None:
                reasons.append(unverified)
        verdicts[def_id] = verdict_of(reasons)
    return {"facts": facts, "verdicts": verdicts}


def _unverified(req: Requirement, facts: ReleaseFacts, licenses: dict[str, LicenseFacts]) -> Reason | None:
    """No pass without evidence: the requirement passes, but only on statements nothing locates."""
    if req.scope == "record":
        return None
    passing = [a for a in facts.artifacts
               if a.kind in req.kinds and artifact_outcome(req, a, facts, licenses) is None]
    if not passing or any(a.located for a in passing):
        return None
    art = passing[0]
    name = BY_SLUG[art.kind].name
    records = tuple(sorted({r for a in passing for r in a.records}))
    claim = f" under {art.statement}" if art.statement else ""
    return Reason(req.id, name, "unverified",
                  f"{name} is claimed{claim} by {', '.join(records)}, but no URL, code repository or Hugging Face "
                  "repository locates it for this release (no pass without evidence)",
                  records=records, rule="no-pass-without-evidence")


def assess_release(rel: ReleaseInput, records: dict[str, RecordFacts], licenses: dict[str, LicenseFacts],
                   claims: list[dict] = (), own_results: dict[str, dict] | None = None,
                   evidence: bool = False) -> dict:
    """The consolidated verdict object of one release (the record verdict object plus ``records``), with
    its conflicts and flags. ``own_results``: the records' verdict objects by record IRI, when the caller
    has them (a one-record release then reuses its record's); ``evidence``: add the merged evidence."""
    single = _single_record(rel, records)
    if single is not None and own_results is not None and single.iri in own_results and not evidence:
        fast = _from_record(rel, single, own_results[single.iri], licenses)
        facts, verdicts = fast["facts"], fast["verdicts"]
        flags = (_unverified_flags([(single, a, a.located, "own") for a in facts.artifacts], licenses)
                 + _open_washing_flags(facts, verdicts["osaid-1.0"],
                                       list(claims) + license_name_claims(facts, licenses)))
        return {"id": rel.release_id, "name": rel.name, "family": rel.family_id, "records": facts.records_used,
                "described_by": [single.record_id], "bases": [], "released": rel.released, "well_formed": True,
                "problems": [], "verdicts": verdicts, "conflicts": [], "flags": flags,
                "shared": _shared(verdicts, single.record_id, own_results[single.iri])}
    facts = release_facts(rel, records, licenses)
    verdicts: dict[str, dict] = {}
    for definition in DEFINITIONS:
        if definition.id == "mof-1.0":
            mof = mof_evaluate(facts)
            mof["reasons"] = [{**reason, "records": _records_of(facts, (reason["requirement"].split("-", 2)[2],))}
                              for reason in mof["reasons"]]  # the record-level dicts are shared: copies
            verdicts[definition.id] = mof
        elif definition.id == "osai-index":
            verdicts[definition.id] = index_grades(facts, licenses)
        else:
            reasons = [r for req in REQUIREMENTS if req.definition == definition.id
                       if (r := evaluate_release_requirement(req, facts, licenses)) is not None]
            verdicts[definition.id] = verdict_of(reasons)
    conflicts = [_conflict(m) for m in facts.merged.values() if m.conflict]
    flags = ([{"kind": "conflict", **c} for c in conflicts] + _unverified_flags(_said(facts), licenses)
             + _base_license_flags(facts, licenses)
             + _open_washing_flags(facts, verdicts["osaid-1.0"], list(claims) + license_name_claims(facts, licenses)))
    result = {"id": rel.release_id, "name": rel.name, "family": rel.family_id, "records": facts.records_used,
              "described_by": sorted(records[i].record_id for i in rel.own if i in records),
              "bases": [{"id": iri.rsplit("/", 1)[-1], "name": name, "relation": relation}
                        for iri, name, relation in rel.bases],
              "released": rel.released, "well_formed": True, "problems": [], "verdicts": verdicts,
              "conflicts": conflicts, "flags": flags, "shared": {}}
    if own_results is not None and len(rel.own) == 1 and rel.own[0] in own_results:
        result["shared"] = _shared(verdicts, records[rel.own[0]].record_id, own_results[rel.own[0]])
    if evidence:
        result["evidence"] = merged_evidence(facts)
    return result


def _shared(verdicts: dict[str, dict], record_id: str, own: dict) -> dict[str, str]:
    """``{definition: record id}`` for each consolidated verdict that says exactly what the release's one
    record says, every reason resting on that record: the run stores the record's assessment for it."""
    return {d: record_id for d, v in verdicts.items()
            if _strip_records(v) == own["verdicts"][d]
            and all(r.get("records", [record_id]) == [record_id] for r in v.get("reasons", ()))}


def _strip_records(verdict: dict) -> dict:
    """A consolidated verdict without its reasons' records: what the record's own verdict says."""
    if "reasons" not in verdict:
        return verdict
    return {**verdict, "reasons": [{k: v for k, v in r.items() if k != "records"} for r in verdict["reasons"]]}


def merged_evidence(facts: ReleaseFacts) -> list[dict]:
    """What every record says about each component of the release, with its record as provenance: the
    availability, the license as stated and as resolved, where the artifact is, whether that locates it for
    this release, how the statement reaches the release (its own record, an Index record grading it as a
    base model, or a family-level record) and whether the verdicts use it."""
    out = []
    for kind, merged in sorted(facts.merged.items(), key=lambda kv: BY_SLUG[kv[0]].name):
        chosen = {id(st) for st in merged.chosen}
        statements = []
        for st in merged.statements:
            art = st.artifact
            statements.append({
                "record": st.record.record_id, "scope": st.scope, "says": st.says,
                "availability": "not stated as released" if art is None else art.availability,
                "license_statement": art.statement if art else None, "licenses": list(art.licenses) if art else [],
                "locations": list(art.locations) if art else [], "located": st.located,
                "used": id(st) in chosen})
        out.append({"component": BY_SLUG[kind].name, "rule": merged.rule, "statements": statements})
    return out


def _conflict(merged: Merged) -> dict:
    name = BY_SLUG[merged.kind].name
    statements = [{"record": s.record.record_id, "says": s.says} for s in merged.conflict]
    chosen = sorted({s.record.record_id for s in merged.chosen})
    return {"component": name, "records": sorted({s["record"] for s in statements}), "statements": statements,
            "rule": "conflict-restrictive-reading",
            "message": f"{name}: " + "; ".join(f"{s['record']} says {s['says']}" for s in statements)
                       + f" — the more restrictive reading ({', '.join(chosen)}) is taken"}


def _base_license_flags(facts: ReleaseFacts, licenses: dict[str, LicenseFacts]) -> list[dict]:
    """license-conflict-with-base: the derivative states a license more permissive than its base's allows
    (its own license would pass as open; the base's does not), naming both licenses and the base's clause."""
    flags = []
    for inherited in facts.inherited:
        own = [lic for lic in inherited["own"] if license_outcome("osi-terms", licenses.get(lic), lic) is None]
        if not own:
            continue
        bound = [licenses[lic] for lic in inherited["licenses"] if lic in licenses]
        clauses = "; ".join(f"{b.label}: " + ", ".join(f"{k.replace('-', ' ')}" + (f" ({c})" if c else "")
                                                       for k, c in sorted(b.restrictions.items()))
                            for b in bound if b.restrictions) or "not an open license"
        own_labels = ", ".join(licenses[lic].label if lic in licenses else lic for lic in own)
        base_labels = ", ".join(b.label for b in bound) or ", ".join(inherited["licenses"])
        flags.append({"kind": "license-conflict-with-base", "base": inherited["base"],
                      "relation": inherited["relation"], "license": own_labels, "base_license": base_labels,
                      "clause": clauses, "records": inherited["records"], "rule": "base-license-inherited",
                      "message": f"states {own_labels}, more permissive than its base model {inherited['base']} "
                                 f"allows ({base_labels} — {clauses})"})
    return flags


def _said(facts: ReleaseFacts) -> list[tuple[RecordFacts, ArtifactFacts, bool, str]]:
    """(record, artifact, located, scope) of every statement a merge weighed (chosen, or in a conflict)."""
    return [(st.record, st.artifact, st.located, st.scope) for _kind, merged in sorted(facts.merged.items())
            for st in merged.conflict or merged.chosen if st.artifact is not None]


def _unverified_flags(said: list[tuple[RecordFacts, ArtifactFacts, bool, str]],
                      licenses: dict[str, LicenseFacts]) -> list[dict]:
    """One flag per record that claims components of this release under an open license while nothing
    locates them for the release."""
    claims: dict[str, list[str]] = defaultdict(list)
    for record, art, located, scope in said:
        if located or scope == "family" or art.availability == "not-released":
            continue
        if artifact_outcome(_OPEN_TERMS, art, record, licenses) is None:
            claims[record.record_id].append(BY_SLUG[art.kind].name)
    return [{"kind": "unverified-claim", "record": rid, "components": names, "rule": "no-pass-without-evidence",
             "message": f"{rid} claims {', '.join(names)} under an open license, but no URL, code repository or "
                        "Hugging Face repository locates them for this release"}
            for rid, names in sorted(claims.items())]


def assess_releases(store: GraphStore, records: dict[str, RecordFacts], licenses: dict[str, LicenseFacts],
                    own_results: dict[str, dict] | None = None,
                    releases: dict[str, ReleaseInput] | None = None) -> list[dict]:
    """Consolidated results for every release, sorted by release id. ``own_results``: the records' verdict
    objects by record IRI (an assessment run has them), so one-record releases reuse them; ``releases``:
    the identity graph's releases, when the caller has read them (:func:`read_releases`)."""
    releases = read_releases(store) if releases is None else releases
    claims = read_claims(store)
    if own_results is None:
        from server.assess.engine import assess_record

        own_results = {iri: assess_record(facts, licenses) for iri, facts in records.items()}
    results = [assess_release(rel, records, licenses, claims_about(rel, claims), own_results)
               for rel in releases.values()]
    return sorted(results, key=lambda r: r["id"])


ONE_RELEASE_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
SELECT ?m ?rel ?base ?fam WHERE {
  { ?m og:ofRelease $release . BIND(true AS ?rel) }
  UNION { ?m og:baseRelease $release . BIND(true AS ?base) }
  UNION { $release og:ofFamily ?f . ?m og:describesFamily ?f . BIND(true AS ?fam) }
}"""


def assess_one_release(store: GraphStore, release_iri: str, licenses: dict[str, LicenseFacts]) -> dict | None:
    """One release's consolidated result, computed as :func:`assess_releases` computes it but reading only
    its records (for a page): their graphs and the datasets they name go into a private store."""
    info = store.select(RELEASES_QUERY.replace("?r a og:Release", f"BIND(<{release_iri}> AS ?r) ?r a og:Release"))
    if not info:
        return None
    row = info[0]
    rel = ReleaseInput(release_iri, row["id"].value, row["name"].value, row["fid"].value, row["fname"].value,
                       row["hf"].value if "hf" in row else None, row["issued"].value if "issued" in row else None)
    for member in store.select(ONE_RELEASE_QUERY.replace("$release", f"<{release_iri}>")):
        (rel.own if "rel" in member else rel.base_of if "base" in member else rel.family).append(member["m"].value)
    _settle(rel)
    _read_bases(store, {release_iri: rel}, BASES_QUERY.replace("?r a og:Release", f"BIND(<{release_iri}> AS ?r) "
                                                                                  "?r a og:Release"))
    bases = {m for members in rel.base_records.values() for m in members}
    members = " ".join(f"<{m}>" for m in sorted({*rel.own, *rel.base_of, *rel.family, *bases}))
    graph = store.construct(f"""PREFIX og: <https://w3id.org/openness-graph/ontology#>
CONSTRUCT {{ ?s ?p ?o . ?ds ?dp ?do }} WHERE {{
  VALUES ?m {{ {members} }}
  {{ GRAPH ?g {{ ?m og:recordId ?id }} GRAPH ?g {{ ?s ?p ?o }} }}
  UNION {{ ?m og:trainedOn ?ds . ?ds ?dp ?do }}
}}""")
    private = OxigraphStore(None)
    private.bulk_add(graph_quads(graph, "urn:openness:release-records"))
    return assess_release(rel, read_records(private), licenses, claims_about(rel, read_claims(store)), evidence=True)


def release_evidence_graph(facts: ReleaseFacts) -> rdflib.Graph:
    """A release's merged evidence as RDF in the terms the shapes read (``shapes/*.ttl``, the ``og:Release``
    shapes): one artifact per statement the verdicts rest on, each marked ``og:located`` and carrying its
    record's Index 'licenses' grade, plus the release-level facts. pySHACL on this graph reproduces the
    consolidated binary verdicts (tests/test_shapes_equivalence.py)."""
    graph = rdflib.Graph()
    release = URIRef(facts.iri)
    graph.add((release, RDF.type, OG.Release))
    graph.add((release, OG.completeComponentList, Literal(facts.complete)))
    if facts.gated:
        graph.add((release, OG.gatedAccess, Literal(facts.gated)))
    if facts.monetised:
        graph.add((release, OG.monetised, Literal(True)))
    for ds in facts.datasets:
        graph.add((release, OG.trainedOn, URIRef(ds.iri)))
    for i, art in enumerate(facts.artifacts):
        node = URIRef(f"{facts.iri}#evidence-{i}")
        graph.add((release, OG.hasArtifact, node))
        graph.add((node, OG.artifactKind, KIND[art.kind]))
        graph.add((node, OG.availability, AVAIL[art.availability]))
        graph.add((node, OG.located, Literal(art.located)))
        if art.state:
            graph.add((node, OG.licenseState, LICSTATE[art.state]))
        for lic in art.licenses:
            graph.add((node, DCT.license, URIRef(lic)))
        if art.license_grade:
            graph.add((node, OG.licensesGrade, GRADE[art.license_grade]))
    return graph
