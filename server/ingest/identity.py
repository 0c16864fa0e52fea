"""Model identity across sources: which records describe the same *release*, and which releases form a
*family*. Recomputed after every load into one graph of its own (``Minter.links_graph``), replaced whole.

Evidence, strongest first (docs/consolidation.md):
1. the curated overrides in ``data/identity/overrides.yaml`` (same release, same family, not the same), each
   with its evidence, so a wrong merge is fixed without code;
2. the same Hugging Face repository — only where the repository's name agrees with the record's own names
   (a MOT record for CodeT5+ 220M that links the 16B repository is not evidence that they are one release);
3. the same normalised name (case, separators and word order ignored; a leading producer name dropped) from
   compatible producers;
4. for an Open Source AI Index record, which grades a *system* (a base model and the end model trained from
   it): the end model is the record's release, the base model is graded as another release when one is
   loaded under that name, and both belong to the family the record is named after.
Two records never join one release when they name different (consistent) Hugging Face repositories or a
curated ``not-same`` pair separates them. Families join releases whose family names (the name up to its
size, without variant words such as "instruct") agree, from compatible producers; every release has a family,
a family of one when nothing else is known."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

import pyoxigraph as ox
import rdflib
import yaml
from rdflib import OWL, RDF, RDFS, Literal, URIRef

from loaders.bundled_data import data_file
from loaders.vocab import DCT, OG, SDO, Minter, slugify
from server.store import GraphStore

log = logging.getLogger("openness.identity")

IDENTITY_VERSION = "identity-0.2.0"
OVERRIDES = ("identity", "overrides.yaml")

_PUNCT = re.compile(r"[()\[\],:;'\"!?]|(?<=[a-z])\.(?=\d)")
_SPLIT = re.compile(r"[\s_\-/]+")
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)")
_UNDERSCORE_DECIMAL = re.compile(r"(?<=\d)_(?=\d)")
_SIZE = re.compile(r"^(\d+(\.\d+)?[mbkt]|\d+x\d+(\.\d+)?[bm])$")
_VARIANTS = frozenset({"hf", "base", "instruct", "chat", "it", "preview", "pt", "sft", "dpo", "rlhf"})
_ORG_NOISE = frozenset({"ai", "inc", "labs", "lab", "the", "and", "of", "for", "corporation", "corp", "co", "ltd",
                        "research", "technology", "technologies", "team", "group", "company", "university",
                        "institute", "project", "workshop", "foundation", "computer", "computing", "intelligence",
                        "artificial", "major", "contributors", "lead", "by", "multilateral"})


# --- names -------------------------------------------------------------------------------------------------

def name_tokens(name: str) -> list[str]:
    """Lower-case tokens of a model name: separators split, a letter-digit boundary splits ('Llama2' ->
    'llama', '2'), '1_1B' reads as '1.1b', '+' as 'p' (CodeT5+ is codet5p on the Hub)."""
    text = _UNDERSCORE_DECIMAL.sub(".", _PUNCT.sub(" ", _plain(name).replace("+", "p")))
    tokens: list[str] = []
    for part in _SPLIT.split(text):
        tokens.extend(t for t in _LETTER_DIGIT.split(part.strip(".")) if t)
    return tokens


def _plain(text: str) -> str:
    """Lower case without accents ('Tülu' -> 'tulu')."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def compact(name: str) -> str:
    """The name's letters and digits only: 'open_llama_3b_v2' == 'OpenLLaMA-3Bv2'."""
    return re.sub(r"[^a-z0-9]", "", _plain(name).replace("+", "p"))


def _same_stem(a: str, b: str) -> bool:
    """Compact forms equal, one a prefix of the other, or one inside the other when long enough to mean it
    ('CerebrasGPT' / 'Cerebras-GPT-13B', 'Crystal' / 'CrystalChat', 'VGen' / 'i2vgen-xl')."""
    ca, cb = compact(a), compact(b)
    short, long_ = sorted((ca, cb), key=len)
    return len(short) >= 2 and (long_.startswith(short) or (len(short) >= 4 and short in long_))


def is_size(token: str) -> bool:
    return bool(_SIZE.match(token))


def release_key(name: str, org_keys: frozenset[str] = frozenset()) -> str:
    """Release identity of a name: its tokens in sorted order ('Llama-2-chat-70B' == 'Llama-2-70B-Chat'),
    a leading producer name dropped ('Meta-Llama-3-8B' == 'Llama-3-8B')."""
    tokens = name_tokens(name)
    if len(tokens) > 1 and tokens[0] in org_keys:
        tokens = tokens[1:]
    return " ".join(sorted(tokens))


def family_key(name: str) -> str:
    """Family identity of a name: the words before its first size token, without variant words
    ('Llama-2-chat-7B' -> 'llama-2', 'OLMo-7B-Twin-2T-hf' -> 'olmo'); a key shorter than four characters
    is too weak to group on, so ''."""
    tokens = name_tokens(name)
    cut = next((i for i, t in enumerate(tokens) if is_size(t)), len(tokens))
    kept = [t for t in tokens[:cut] if t not in _VARIANTS]
    key = "-".join(kept)
    return key if len(key.replace("-", "")) >= 4 else ""


def family_label(name: str) -> str:
    """A display name for a family named after a release: 'Llama-2-7B-chat' -> 'Llama-2'."""
    parts = [p for p in _SPLIT.split(name.strip()) if p]
    cut = next((i for i, p in enumerate(parts) if any(is_size(t) for t in name_tokens(p))), len(parts))
    kept = [p for p in parts[:cut] if p.lower() not in _VARIANTS]
    return "-".join(kept) or name


def _distinctive(tokens: list[str]) -> set[str]:
    return {t for t in tokens if not is_size(t) and t not in _VARIANTS and not t.replace(".", "").isdigit()
            and len(t) >= 2}


def hf_consistent(names: list[str], hf_id: str) -> bool:
    """Whether a Hugging Face repository plausibly holds the release these names describe: the repository
    name shares a distinctive word with one of them and no size contradicts it."""
    org, _, repo_name = hf_id.rpartition("/")
    repo = name_tokens(repo_name)
    repo_words, repo_sizes = _distinctive(repo), {t for t in repo if is_size(t)}
    for name in names:
        tokens = name_tokens(name)
        sizes = {t for t in tokens if is_size(t)}
        if sizes and repo_sizes and not sizes & repo_sizes:
            continue
        if repo_words & _distinctive(tokens) or _same_stem(name, repo_name) or (org and compact(org) == compact(name)):
            return True
    return False


def plausible_alias(title: str, alias: str) -> bool:
    """An alternate name is used only if it shares a word with the title: the Index sometimes swaps its base
    and end model names (SynLogic's 'end model' is 'Qwen2.5-32B')."""
    return bool(_distinctive(name_tokens(title)) & _distinctive(name_tokens(alias))) or _same_stem(title, alias)


def org_keys(label: str | None, hf_id: str | None) -> frozenset[str]:
    """Words that identify a producer: its distinctive name words, its name run together ('Stability AI' ->
    'stabilityai') and the organisation part of its Hugging Face repository."""
    keys: set[str] = set()
    if label:
        words = [w for w in re.split(r"[^a-z0-9]+", label.lower()) if w]
        keys |= {w for w in words if w not in _ORG_NOISE and len(w) >= 2}
        keys.add("".join(words))
    if hf_id and "/" in hf_id:
        keys.add(re.sub(r"[^a-z0-9]", "", hf_id.split("/", 1)[0].lower()))
    return frozenset(k for k in keys if k)


# --- what the store says ---------------------------------------------------------------------------------

# Shared nodes (an organisation, a MOT origin family) are stated in every record graph that names them, and
# the union default graph repeats a triple once per graph: their labels are read per graph, apart from the
# records, so no join multiplies rows (at 10k records one producer's label would join ~200 times per record).
IDENTITY_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
SELECT ?m ?id ?source ?title ?hf ?alt ?base ?producer ?issued ?origin WHERE {
  ?m a og:ModelRelease ; og:recordId ?id ; og:source ?source .
  OPTIONAL { ?m dct:title ?title }
  OPTIONAL { ?m og:huggingFaceId ?hf }
  OPTIONAL { ?m schema:alternateName ?alt }
  OPTIONAL { ?m og:baseModelName ?base }
  OPTIONAL { ?m og:producer ?producer }
  OPTIONAL { ?m dct:issued ?issued }
  OPTIONAL { ?m og:ofFamily ?origin }
}"""
LABELS_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?x ?label WHERE {
  GRAPH ?g { ?m og:recordId ?id ; og:producer|og:ofFamily ?x . ?x rdfs:label ?label }
}"""
LINEAGE = ("baseModel", "finetunedFrom", "adapterOf", "quantizedFrom", "mergedFrom")
# Every predicate of a record graph the queries above read (a superset: every rdfs:label of the graph)
IDENTITY_PREDICATES = frozenset(str(p) for p in (
    RDF.type, OG.recordId, OG.source, DCT.title, OG.huggingFaceId, SDO.alternateName, OG.baseModelName,
    OG.producer, DCT.issued, OG.ofFamily, RDFS.label, *(OG[relation] for relation in LINEAGE)))


def identity_facts(quads: list[ox.Quad]) -> frozenset[str]:
    """The statements of a record graph its releases and families are computed from: a reload whose
    statements all agree with the stored ones leaves the identity graph as it is."""
    return frozenset(str(ox.Triple(q.subject, q.predicate, q.object)) for q in quads
                     if q.predicate.value in IDENTITY_PREDICATES)
PARENTS_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
SELECT ?m ?relation ?parent WHERE {
  VALUES ?relation { og:baseModel og:finetunedFrom og:adapterOf og:quantizedFrom og:mergedFrom }
  GRAPH ?g { ?m ?relation ?b . ?b og:huggingFaceId ?parent }
}"""


@dataclass
class RecordIdentity:
    """What identifies one record: its names, its (checked) Hugging Face repository and its producer."""

    iri: str
    record_id: str
    source: str
    title: str
    names: list[str] = field(default_factory=list)
    hf_claimed: str | None = None
    hf_id: str | None = None  # the claimed repository when it agrees with the names, else None
    producer: str | None = None
    orgs: frozenset[str] = frozenset()
    base_name: str | None = None  # Index: the base model of the graded system
    family_name: str | None = None  # Index: the system the record grades, named after its family
    origin: str | None = None  # MOT: the 'origin' the record names (often the base model or family)
    released: str | None = None  # a model release date the source gives (the Index's releasedate)
    parents: set[tuple[str, str]] = field(default_factory=set)  # (Hub id of a base model, relation)


def read_identities(store: GraphStore) -> dict[str, RecordIdentity]:
    """Every record's identity facts, by record IRI."""
    records: dict[str, RecordIdentity] = {}
    extra: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    labels: dict[str, str] = {}
    for row in store.select(LABELS_QUERY):
        node, label = row["x"].value, row["label"].value
        labels[node] = min(labels.get(node, label), label)
    for row in store.select(IDENTITY_QUERY):
        iri = row["m"].value
        rec = records.get(iri)
        if rec is None:
            record_id = row["id"].value
            rec = records[iri] = RecordIdentity(iri, record_id, row["source"].value,
                                                row["title"].value if "title" in row else record_id)
        for name in ("hf", "alt", "base", "issued"):
            if name in row:
                extra[iri][name].add(row[name].value)
        for name in ("producer", "origin"):
            if name in row and row[name].value in labels:
                extra[iri][name].add(labels[row[name].value])
    parents: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in store.select(PARENTS_QUERY):
        parents[row["m"].value].add((row["parent"].value, row["relation"].value.rsplit("#", 1)[-1]))
    for iri, rec in records.items():
        facts = extra[iri]
        rec.producer = min(facts["producer"]) if facts["producer"] else None
        rec.hf_claimed = min(facts["hf"]) if facts["hf"] else None
        if rec.hf_claimed and rec.hf_claimed.lower().startswith(("collections/", "spaces/", "datasets/")):
            rec.hf_claimed = None  # a collection or space names no model repository
        stem = rec.record_id.split("/", 1)[1]
        rec.names = [rec.title]
        alias = min(facts["alt"]) if facts["alt"] else None
        if rec.source == "osai-index":
            # the Index grades a system: its end model is the record's release, its title names the family
            rec.family_name = rec.title
            if alias and plausible_alias(rec.title, alias):
                rec.names = [alias]
            rec.base_name = min(facts["base"]) if facts["base"] else None
            rec.released = min(facts["issued"]) if facts["issued"] else None
        else:
            if stem != rec.title:
                rec.names.append(stem)
            rec.origin = min(facts["origin"]) if facts["origin"] else None
        rec.parents = parents.get(iri, set())
        if rec.hf_claimed and hf_consistent(rec.names + [rec.title], rec.hf_claimed):
            rec.hf_id = rec.hf_claimed
        rec.orgs = org_keys(rec.producer, rec.hf_id)
    return records


# --- curated overrides -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Override:
    relation: str  # "same-release", "same-family" or "not-same"
    records: tuple[str, ...]
    evidence: str


class OverrideError(ValueError):
    """The overrides file is malformed; the message names the entry and what to fix."""


@cache
def overrides_digest() -> str:
    """SHA-256 of the overrides file as it is now ('' without one)."""
    try:
        return hashlib.sha256(data_file(*OVERRIDES).read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""


def links_current(store: GraphStore, minter: Minter) -> bool:
    """Whether the identity graph was computed with the overrides as they are now."""
    return store.ask(f"ASK {{ GRAPH <{minter.links_graph}> {{ <{minter.links_graph}> <{OG.overridesDigest}> "
                     f"'{overrides_digest()}' }} }}")


def load_overrides(path: str | None = None) -> tuple[Override, ...]:
    """The curated identity decisions (``data/identity/overrides.yaml``)."""
    file = path or str(data_file(*OVERRIDES))
    try:
        with open(file, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        return ()
    if not isinstance(data, dict):
        raise OverrideError(f"{file}: a mapping of same-release / same-family / not-same lists is expected")
    out = []
    for relation in ("same-release", "same-family", "not-same"):
        for index, entry in enumerate(data.get(relation) or []):
            records = entry.get("records") if isinstance(entry, dict) else None
            evidence = entry.get("evidence") if isinstance(entry, dict) else None
            if not (isinstance(records, list) and len(records) >= 2 and all(isinstance(r, str) for r in records)):
                raise OverrideError(f"{file}: {relation}[{index}] needs 'records', two or more record ids")
            if not isinstance(evidence, str) or not evidence.strip():
                raise OverrideError(f"{file}: {relation}[{index}] needs 'evidence': why these records are "
                                    f"{'not the same' if relation == 'not-same' else relation.replace('-', ' ')}")
            out.append(Override(relation, tuple(records), evidence.strip()))
    unknown = set(data) - {"same-release", "same-family", "not-same"}
    if unknown:
        raise OverrideError(f"{file}: unknown section(s) {sorted(unknown)}; use same-release, same-family, not-same")
    return tuple(out)


# --- clustering ------------------------------------------------------------------------------------------

class _Clusters:
    """Union-find over records whose clusters keep what may not be merged: their Hugging Face
    repositories (one at most per release) and the records a curated not-same pair keeps apart."""

    def __init__(self, records: dict[str, RecordIdentity], apart: set[frozenset[str]]) -> None:
        self.parent = {iri: iri for iri in records}
        self.hf = {iri: ({r.hf_id.lower()} if r.hf_id else set()) for iri, r in records.items()}
        self.members = {iri: {iri} for iri in records}
        self.apart = apart
        self.evidence: dict[str, list[str]] = defaultdict(list)

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str, evidence: str, *, force: bool = False) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if not force:
            if len(self.hf[ra] | self.hf[rb]) > 1:
                return False
            if any(frozenset((x, y)) in self.apart for x in self.members[ra] for y in self.members[rb]):
                return False
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.hf[ra] |= self.hf.pop(rb)
        self.members[ra] |= self.members.pop(rb)
        self.evidence[ra].extend(self.evidence.pop(rb, []))
        self.evidence[ra].append(evidence)
        return True

    def groups(self) -> list[list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for x in self.parent:
            out[self.find(x)].append(x)
        return list(out.values())


def _compatible(a: frozenset[str], b: frozenset[str]) -> bool:
    return not a or not b or bool(a & b)


@dataclass
class Release:
    """One release across sources: the records that describe it and what ties them."""

    release_id: str
    name: str
    records: list[RecordIdentity]
    family_id: str = ""
    hf_id: str | None = None
    released: str | None = None
    evidence: list[str] = field(default_factory=list)
    base_of: list[RecordIdentity] = field(default_factory=list)  # Index records grading it as their base model
    bases: list[tuple[str, str]] = field(default_factory=list)  # (base release id, relation): its lineage

    @property
    def orgs(self) -> frozenset[str]:
        return frozenset().union(*(r.orgs for r in self.records))


@dataclass
class Family:
    family_id: str
    name: str
    releases: list[Release]
    index_records: list[RecordIdentity] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


@dataclass
class Identity:
    releases: dict[str, Release]  # by release id
    families: dict[str, Family]  # by family id
    release_of: dict[str, str]  # record IRI -> release id
    unmatched: list[str] = field(default_factory=list)  # record ids tied to no other record
    placeholders: dict[str, Release] = field(default_factory=dict)  # base models no record describes, by id


def resolve(records: dict[str, RecordIdentity], overrides: tuple[Override, ...] = ()) -> Identity:
    """Releases and families of the given records (deterministic: the same records give the same ids)."""
    by_id = {r.record_id: r for r in records.values()}
    apart = {frozenset(by_id[a].iri for a in pair) for o in overrides if o.relation == "not-same"
             for pair in _pairs(o.records) if all(x in by_id for x in pair)}
    clusters = _Clusters(records, apart)
    for o in overrides:
        if o.relation == "same-release":
            present = [by_id[r].iri for r in o.records if r in by_id]
            for other in present[1:]:
                clusters.union(present[0], other, f"curated: {o.evidence}", force=True)
    ordered = sorted(records.values(), key=lambda r: r.record_id)
    by_hf: dict[str, list[RecordIdentity]] = defaultdict(list)
    for rec in ordered:
        if rec.hf_id:
            by_hf[rec.hf_id.lower()].append(rec)
    for _hf, group in sorted(by_hf.items()):
        for rec in group[1:]:
            clusters.union(group[0].iri, rec.iri, f"same Hugging Face repository {group[0].hf_id}")
    by_name: dict[str, list[RecordIdentity]] = defaultdict(list)
    for rec in ordered:
        for key in sorted({release_key(n, rec.orgs) for n in rec.names}):
            if key:
                by_name[key].append(rec)
    for _key, group in sorted(by_name.items()):
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if _compatible(a.orgs, b.orgs):
                    clusters.union(a.iri, b.iri, f"same name ({a.names[0]} / {b.names[0]}) and producer")
    releases = _name_releases(records, clusters)
    release_of = {r.iri: rel.release_id for rel in releases.values() for r in rel.records}
    _attach_index_bases(records, releases, release_of)
    families = _families(records, releases, overrides, by_id, release_of)
    linked = {r.record_id for rel in releases.values() if len(rel.records) > 1 for r in rel.records}
    linked |= {r.record_id for rel in releases.values() for r in rel.base_of}
    linked |= {r.record_id for fam in families.values() if len(fam.releases) > 1
               for rel in fam.releases for r in rel.records}
    unmatched = sorted(r.record_id for r in records.values() if r.record_id not in linked)
    placeholders = _lineage(releases)
    return Identity(releases, families, release_of, unmatched, placeholders)


def _lineage(releases: dict[str, Release]) -> dict[str, Release]:
    """Each release's base models (from its records' Hub ``base_model``): the loaded release with that Hub
    repository, else a placeholder release that only names it. Merges and distillations keep every parent."""
    by_hf = {r.hf_id.lower(): rel for rel in releases.values() for r in rel.records if r.hf_id}
    placeholders: dict[str, Release] = {}
    for rel in sorted(releases.values(), key=lambda r: r.release_id):
        parents = sorted({(hf, relation) for rec in rel.records for hf, relation in rec.parents})
        for hub_id, relation in parents:
            base = by_hf.get(hub_id.lower())
            if base is None:
                pid = slugify(hub_id)
                if pid in releases:
                    pid = f"{pid}-hub"
                base = placeholders.setdefault(pid, Release(pid, hub_id, [], hf_id=hub_id))
            if base is not rel and (base.release_id, relation) not in rel.bases:
                rel.bases.append((base.release_id, relation))
    return placeholders


def _pairs(items: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(a, b) for i, a in enumerate(items) for b in items[i + 1:]]


def _name_releases(records: dict[str, RecordIdentity], clusters: _Clusters) -> dict[str, Release]:
    """One Release per cluster, with a stable id: the slug of its preferred name (a MOT or Hugging Face
    record's name before an Index end-model name), disambiguated by producer, then by a number."""
    groups = sorted((sorted((records[i] for i in g), key=lambda r: r.record_id) for g in clusters.groups()),
                    key=lambda g: g[0].record_id)
    releases: dict[str, Release] = {}
    for group in groups:
        preferred = min(group, key=lambda r: (r.source == "osai-index", r.source != "mot", r.record_id))
        name = _best_name(preferred)
        rid = slugify(name)
        if rid in releases:
            producer = preferred.producer or preferred.source
            rid = f"{rid}-{slugify(producer)}"
            n = 2
            while rid in releases:
                rid = f"{slugify(name)}-{n}"
                n += 1
        hf = sorted({r.hf_id for r in group if r.hf_id}, key=str.lower)
        dates = sorted({r.released for r in group if r.released})
        root = clusters.find(group[0].iri)
        releases[rid] = Release(rid, name, group, hf_id=hf[0] if hf else None, released=dates[0] if dates else None,
                                evidence=list(dict.fromkeys(clusters.evidence.get(root, []))))
    return releases


def _best_name(rec: RecordIdentity) -> str:
    """The record's name for its release: one its Hugging Face repository agrees with (a MOT record titled
    for another size is named by its file), for an Index record the repository's own name."""
    if rec.hf_id:
        if rec.source == "osai-index":
            return rec.hf_id.rpartition("/")[2]
        for name in rec.names:
            if hf_consistent([name], rec.hf_id):
                return name
    return rec.names[0]


def _attach_index_bases(records: dict[str, RecordIdentity], releases: dict[str, Release],
                        release_of: dict[str, str]) -> None:
    """An Index record's base model, when a loaded release has that name and a compatible producer."""
    by_key: dict[str, list[Release]] = defaultdict(list)
    for rel in releases.values():
        for rec in rel.records:
            for name in rec.names:
                key = release_key(name, rec.orgs)
                if rel not in by_key[key]:
                    by_key[key].append(rel)
    for rec in sorted(records.values(), key=lambda r: r.record_id):
        if not rec.base_name or not plausible_alias(rec.family_name or rec.title, rec.base_name) \
                and not plausible_alias(rec.names[0], rec.base_name):
            continue
        own = release_of[rec.iri]
        matches = [rel for rel in by_key.get(release_key(rec.base_name, rec.orgs), [])
                   if rel.release_id != own and _compatible(rel.orgs, rec.orgs)]
        if len(matches) == 1:
            matches[0].base_of.append(rec)


def _families(records: dict[str, RecordIdentity], releases: dict[str, Release], overrides: tuple[Override, ...],
              by_id: dict[str, RecordIdentity], release_of: dict[str, str]) -> dict[str, Family]:
    parent = {rid: rid for rid in releases}
    evidence: dict[str, list[str]] = defaultdict(list)

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str, why: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            ra, rb = min(ra, rb), max(ra, rb)
            parent[rb] = ra
            evidence[ra].extend(evidence.pop(rb, []))
            evidence[ra].append(why)

    keyed: dict[str, list[Release]] = defaultdict(list)
    by_hf = {rel.hf_id.lower(): rel for rel in releases.values() if rel.hf_id}
    for rel in sorted(releases.values(), key=lambda r: r.release_id):
        keys = {family_key(n) for r in rel.records if r.source != "osai-index" for n in r.names}
        for rec in rel.records:
            if rec.source == "osai-index":
                keys.add(family_key(rec.family_name or rec.title))
                keys.add(family_key(rec.names[0]))
        for key in keys - {""}:
            keyed[key].append(rel)
    for key, group in sorted(keyed.items()):
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if _compatible(a.orgs, b.orgs):
                    union(a.release_id, b.release_id, f"same family name '{key}' and producer")
    for rel in sorted(releases.values(), key=lambda r: r.release_id):
        for base_rec in rel.base_of:  # an Index system: its base joins the family when named alike
            own = release_of[base_rec.iri]
            if family_key(rel.name) and family_key(rel.name) == family_key(base_rec.family_name or ""):
                union(own, rel.release_id, f"{base_rec.record_id} grades {rel.name} as its base model")
        for rec in rel.records:  # a MOT origin that names another family of the same producer
            key = family_key(rec.origin) if rec.origin else ""
            for other in keyed.get(key, []):
                if other is not rel and _compatible(other.orgs, rel.orgs):
                    union(rel.release_id, other.release_id, f"{rec.record_id} names '{rec.origin}' as its origin")
            for parent_hf in sorted({p.lower() for p, _relation in rec.parents}):  # a Hub base of the same org
                other = by_hf.get(parent_hf)
                if other is not None and other is not rel \
                        and parent_hf.split("/")[0] == (rel.hf_id or "").lower().split("/")[0]:
                    union(rel.release_id, other.release_id, f"{rec.record_id}: base model {other.hf_id}")
    for o in overrides:
        if o.relation == "same-family":
            present = [release_of[by_id[r].iri] for r in o.records if r in by_id]
            for other in present[1:]:
                union(present[0], other, f"curated: {o.evidence}")
    groups: dict[str, list[Release]] = defaultdict(list)
    for rid in sorted(releases):
        groups[find(rid)].append(releases[rid])
    families: dict[str, Family] = {}
    for root, members in sorted(groups.items(), key=lambda kv: kv[1][0].release_id):
        index_records = sorted((r for rel in members for r in rel.records if r.source == "osai-index"),
                               key=lambda r: r.record_id)
        name = _family_name(members, index_records)
        fid = slugify(name)
        n = 2
        while fid in families:
            fid = f"{slugify(name)}-{n}"
            n += 1
        family = families[fid] = Family(fid, name, members, index_records, list(dict.fromkeys(evidence[root])))
        for rel in members:
            rel.family_id = family.family_id
    return families


def _family_name(members: list[Release], index_records: list[RecordIdentity]) -> str:
    """The family's most common family name among its releases: an Index record's title when it names that
    family ('OLMo'), else the shortest release name cut to it ('Pythia-1B' -> 'Pythia')."""
    counts: dict[str, int] = defaultdict(int)
    for rel in members:
        if key := family_key(rel.name):
            counts[key] += 1
    top = min(counts, key=lambda k: (-counts[k], len(k), k)) if counts else ""
    for rec in index_records:
        key = family_key(rec.family_name or "")
        if not top or (key and (top.startswith(key) or key.startswith(top))):
            return rec.family_name or rec.title
    named = [rel.name for rel in members if family_key(rel.name) == top] or [rel.name for rel in members]
    return family_label(min(named, key=lambda n: (len(n), n)))


# --- the identity graph ----------------------------------------------------------------------------------

def identity_graph(identity: Identity, minter: Minter) -> rdflib.Graph:
    """Releases, families, each record's release, and the record-level links the earlier pages and queries
    read: ``owl:sameAs`` between records of one release, ``og:sameFamilyAs`` between records of one family."""
    graph = rdflib.Graph()
    for fam in identity.families.values():
        f = URIRef(minter.family(fam.family_id))
        graph.add((f, RDF.type, OG.ModelFamily))
        graph.add((f, OG.familyId, Literal(fam.family_id)))
        graph.add((f, RDFS.label, Literal(fam.name)))
        for why in fam.evidence:
            graph.add((f, OG.identityEvidence, Literal(why)))
        for rec in fam.index_records:
            graph.add((URIRef(rec.iri), OG.describesFamily, f))
    for rel in identity.releases.values():
        r = URIRef(minter.release(rel.release_id))
        graph.add((r, RDF.type, OG.Release))
        graph.add((r, OG.releaseId, Literal(rel.release_id)))
        graph.add((r, RDFS.label, Literal(rel.name)))
        graph.add((r, DCT.title, Literal(rel.name)))
        graph.add((r, OG.ofFamily, URIRef(minter.family(rel.family_id))))
        if rel.hf_id:
            graph.add((r, OG.huggingFaceId, Literal(rel.hf_id)))
        if rel.released:
            graph.add((r, DCT.issued, _date_literal(rel.released)))
        for why in rel.evidence:
            graph.add((r, OG.identityEvidence, Literal(why)))
        for rec in rel.records:
            graph.add((URIRef(rec.iri), OG.ofRelease, r))
        for rec in rel.base_of:
            graph.add((URIRef(rec.iri), OG.baseRelease, r))
    for rel in identity.placeholders.values():  # a base model no record describes: its Hub id only
        r = URIRef(minter.release(rel.release_id))
        graph.add((r, RDF.type, OG.Release))
        graph.add((r, OG.releaseId, Literal(rel.release_id)))
        graph.add((r, RDFS.label, Literal(rel.name)))
        graph.add((r, OG.huggingFaceId, Literal(rel.hf_id)))
    for rel in identity.releases.values():
        for base_id, relation in rel.bases:
            graph.add((URIRef(minter.release(rel.release_id)), OG[relation], URIRef(minter.release(base_id))))
    for rel in identity.releases.values():
        iris = sorted(r.iri for r in rel.records)
        for a, b in _pairs(tuple(iris)):
            graph.add((URIRef(a), OWL.sameAs, URIRef(b)))
            graph.add((URIRef(b), OWL.sameAs, URIRef(a)))
    for fam in identity.families.values():  # across sources only: within one, a family can be large
        members = [(rel.release_id, r.source, r.iri) for rel in fam.releases for r in rel.records]
        for i, (ra, sa, a) in enumerate(members):
            for rb, sb, b in members[i + 1:]:
                if ra != rb and sa != sb:
                    graph.add((URIRef(a), OG.sameFamilyAs, URIRef(b)))
                    graph.add((URIRef(b), OG.sameFamilyAs, URIRef(a)))
    graph.add((URIRef(minter.links_graph), OG.loaderVersion, Literal(IDENTITY_VERSION)))
    return graph


def _date_literal(value: str) -> Literal:
    from loaders.record import issued_literal

    return issued_literal(value) or Literal(value)


def link_records(store: GraphStore, minter: Minter) -> Identity:
    """Recompute releases, families and links from what the store holds; replace the identity graph (with
    the digest of the overrides it applied)."""
    identity = resolve(read_identities(store), load_overrides())
    graph = identity_graph(identity, minter)
    graph.add((URIRef(minter.links_graph), OG.overridesDigest, Literal(overrides_digest())))
    store.replace_graphs({minter.links_graph: graph})
    log.info("identity: %d records in %d releases and %d families", len(identity.release_of),
             len(identity.releases), len(identity.families))
    return identity
