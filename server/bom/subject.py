"""What the graph says about the subject of a bill of materials, read into plain data once, so the SPDX and
CycloneDX writers are pure functions of (subject, verdict) and never query the store.

A subject is a record today (``read_record``). A release that joins several records can be handed to the
writers the same way: build a :class:`Subject` from its records (``read_subject`` reads one model IRI in one
named graph; call it per record and merge) and pass the release's consolidated verdict object."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from loaders.vocab import DCAT, DCT, OG, OGLIC, SDO, SKOS, SPARQL_PREFIXES, SPDX_LICENSE, Minter
from server.store import GraphStore, query_iri

_ID_CHARS = re.compile(r"[^A-Za-z0-9.\-]")
FOAF = "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"


def _tail(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def license_id(iri: str) -> str:
    """The SPDX id (``Apache-2.0``) or ``LicenseRef-`` id of a license IRI; an IRI of neither kind gets a
    ``LicenseRef-`` id made from its last segment, so every license can stand in a license expression."""
    if iri.startswith(str(SPDX_LICENSE)):
        return iri[len(str(SPDX_LICENSE)):]
    tail = _tail(iri)
    if iri.startswith(str(OGLIC)) and tail.startswith("LicenseRef-"):
        return tail
    return "LicenseRef-" + (_ID_CHARS.sub("-", tail) or "unnamed")


@dataclass(frozen=True)
class Restriction:
    kind: str  # e.g. user-count-cap
    clause: str | None
    comment: str | None

    def text(self) -> str:
        return self.kind.replace("-", " ") + (f" ({self.clause})" if self.clause else "") + \
            (f": {self.comment}" if self.comment else "")


@dataclass
class License:
    iri: str
    id: str
    name: str
    urls: list[str] = field(default_factory=list)
    osi: bool | None = None
    fsf: bool | None = None
    restrictions: list[Restriction] = field(default_factory=list)

    @property
    def listed(self) -> bool:
        """On the SPDX License List (a plain SPDX id), as opposed to a custom ``LicenseRef-`` license."""
        return not self.id.startswith("LicenseRef-")


@dataclass(frozen=True)
class Agent:
    iri: str
    name: str
    homepage: str | None = None


@dataclass
class Artifact:
    iri: str
    kind: str  # slug of loaders.components
    name: str  # the component's name, e.g. "Model parameters (Final)"
    availability: str = "released"
    statement: str | None = None  # the license as the source wrote it
    state: str | None = None  # license state
    licenses: list[str] = field(default_factory=list)  # license IRIs, sorted
    access_urls: list[str] = field(default_factory=list)
    license_documents: list[str] = field(default_factory=list)
    description: str | None = None
    dimension: str | None = None  # Open Source AI Index dimension it was graded on
    grade: str | None = None


@dataclass
class Dataset:
    iri: str
    title: str
    id: str | None = None  # id in the dataset knowledge base
    landing_page: str | None = None
    publisher: Agent | None = None
    licenses: list[str] = field(default_factory=list)
    data_class: str | None = None
    data_class_reason: str | None = None
    status: str | None = None  # withdrawn, not-released, gated; None = available
    hf_ids: list[str] = field(default_factory=list)


@dataclass
class Subject:
    """One model as a BOM describes it. ``id`` names it (a record id); ``iri`` is its node in the graph;
    ``base`` is the IRI under which the BOM's element ids are minted (stable: derived from the graph)."""

    iri: str
    id: str
    name: str
    base: str
    source: str | None = None
    version: str | None = None
    issued: str | None = None  # the model's release date, lexical: 2023, 2023-07 or 2023-07-18
    record_date: str | None = None  # the date of the source's record (a MOT record's date), not a release date
    producer: Agent | None = None
    hf_id: str | None = None
    landing_pages: list[str] = field(default_factory=list)
    code_repositories: list[str] = field(default_factory=list)
    model_type: str | None = None
    architecture: str | None = None
    pipeline_tag: str | None = None
    note: str | None = None
    complete: bool | None = None
    gated: str | None = None
    monetised: bool | None = None
    grades: dict[str, str] = field(default_factory=dict)  # record-level Index grades
    artifacts: list[Artifact] = field(default_factory=list)
    datasets: list[Dataset] = field(default_factory=list)
    licenses: dict[str, License] = field(default_factory=dict)
    data_license: str | None = None  # license IRI of the source data
    source_file: str | None = None
    source_commit: str | None = None
    upstream: str | None = None
    retrieved: str | None = None
    loaded: str | None = None

    @property
    def weights(self) -> Artifact | None:
        """The final model parameters the BOM is about: the end model's when the Index grades base and end
        model separately; None when the record lists no weights."""
        weights = [a for a in self.artifacts if a.kind == "model-parameters-final"]
        weights.sort(key=lambda a: (a.dimension == "weights_basemodel", a.iri))
        return weights[0] if weights else None

    @property
    def as_of(self) -> str | None:
        """The newest date the record states (release date, record date, retrieval date) or else its load
        time: the BOM's creation time, so the same data always gives the same document."""
        dates = [d for d in (self.issued, self.record_date, self.retrieved) if d]
        return max(dates, key=_date_key) if dates else self.loaded

    def license(self, iri: str) -> License:
        return self.licenses.get(iri) or License(iri, license_id(iri), license_id(iri))


def _date_key(text: str) -> str:
    return (text + "-01-01")[:10] if len(text) == 4 else (text + "-01")[:10] if len(text) == 7 else text[:10]


def _v(row: dict, name: str) -> str | None:
    term = row.get(name)
    return None if term is None else term.value


def read_record(store: GraphStore, minter: Minter, record_id: str, record_iri: str | None = None) -> Subject | None:
    """The subject of a record's BOM: everything the record's named graph says about it, with the licenses
    (license KB) and training datasets (dataset KB) it names. None if no such record is loaded."""
    return read_subject(store, record_iri or minter.record(record_id), minter.record_graph(record_id),
                        minter.record(record_id) + "/bom")


def read_subject(store: GraphStore, model_iri: str, graph_iri: str, base: str) -> Subject | None:
    """Read one model node of one named graph (see the module docstring for releases)."""
    model, graph = query_iri(model_iri), query_iri(graph_iri)
    head = store.select(SPARQL_PREFIXES + FOAF + f"""
SELECT ?p ?o ?name ?home WHERE {{ GRAPH {graph} {{ {model} ?p ?o .
  OPTIONAL {{ ?o foaf:name ?name }} OPTIONAL {{ ?o foaf:homepage ?home }} }} }}""")
    if not head:
        return None
    props: dict[str, list[dict]] = {}
    for row in head:
        props.setdefault(row["p"].value, []).append(row)

    def one(prop) -> str | None:
        values = sorted(r["o"].value for r in props.get(str(prop), []))
        return values[0] if values else None

    def many(prop) -> list[str]:
        return sorted({r["o"].value for r in props.get(str(prop), [])})

    record_id = one(OG.recordId) or _tail(model_iri)
    producer = None
    for row in sorted(props.get(str(OG.producer), []), key=lambda r: r["o"].value):
        producer = Agent(row["o"].value, _v(row, "name") or _tail(row["o"].value), _v(row, "home"))
        break
    subject = Subject(
        iri=model_iri, id=record_id, name=one(DCT.title) or record_id, base=base, source=one(OG.source),
        version=one(DCAT.version), issued=one(DCT.issued), record_date=one(OG.recordDate), producer=producer,
        hf_id=one(OG.huggingFaceId),
        landing_pages=many(DCAT.landingPage), code_repositories=many(SDO.codeRepository),
        model_type=one(OG.modelType), architecture=one(OG.architectureName), pipeline_tag=one(OG.pipelineTag),
        note=one(SKOS.note), gated=one(OG.gatedAccess),
        complete=_bool(one(OG.completeComponentList)), monetised=_bool(one(OG.monetised)))
    subject.artifacts = _artifacts(store, model, graph)
    subject.grades = {r["dimension"].value: _tail(r["grade"].value) for r in store.select(SPARQL_PREFIXES + f"""
SELECT ?dimension ?grade WHERE {{ GRAPH {graph} {{
  {model} og:hasGrade ?g . ?g og:indexDimension ?dimension ; og:indexGrade ?grade }} }}""")}
    subject.datasets = _datasets(store, model, graph)
    _provenance(store, graph, subject)
    used = {iri for a in subject.artifacts for iri in a.licenses}
    used |= {iri for d in subject.datasets for iri in d.licenses}
    subject.licenses = read_licenses(store, sorted(used))
    return subject


def _bool(value: str | None) -> bool | None:
    return None if value is None else value in ("true", "1")


def _artifacts(store: GraphStore, model: str, graph: str) -> list[Artifact]:
    found: dict[str, Artifact] = {}
    for r in store.select(SPARQL_PREFIXES + f"""
SELECT ?a ?kind ?component ?avail ?statement ?state ?license ?access ?document ?description ?dimension ?grade
WHERE {{ GRAPH {graph} {{ {model} og:hasArtifact ?a . ?a og:artifactKind ?kind .
  OPTIONAL {{ ?a og:component ?component }}
  OPTIONAL {{ ?a og:availability ?avail }}
  OPTIONAL {{ ?a og:licenseStatement ?statement }}
  OPTIONAL {{ ?a og:licenseState ?state }}
  OPTIONAL {{ ?a dct:license ?license }}
  OPTIONAL {{ ?a dcat:accessURL ?access }}
  OPTIONAL {{ ?a og:licenseDocument ?document }}
  OPTIONAL {{ ?a dct:description ?description }}
  OPTIONAL {{ ?a og:indexDimension ?dimension }}
  OPTIONAL {{ ?a og:indexGrade ?grade }} }} }}"""):
        iri = r["a"].value
        art = found.get(iri)
        if art is None:
            kind = _tail(r["kind"].value)
            art = found[iri] = Artifact(
                iri, kind, _v(r, "component") or kind, _tail(r["avail"].value) if "avail" in r else "released",
                _v(r, "statement"), _tail(r["state"].value) if "state" in r else None,
                description=_v(r, "description"), dimension=_v(r, "dimension"),
                grade=_tail(r["grade"].value) if "grade" in r else None)
        for name, values in (("license", art.licenses), ("access", art.access_urls),
                             ("document", art.license_documents)):
            if name in r and r[name].value not in values:
                values.append(r[name].value)
    for art in found.values():
        art.licenses.sort()
        art.access_urls.sort()
        art.license_documents.sort()
    return sorted(found.values(), key=lambda a: a.iri)


def _datasets(store: GraphStore, model: str, graph: str) -> list[Dataset]:
    found: dict[str, Dataset] = {}
    for r in store.select(SPARQL_PREFIXES + FOAF + f"""
SELECT ?ds ?title ?id ?landing ?publisher ?pname ?phome ?license ?class ?reason ?note ?hf WHERE {{
  GRAPH {graph} {{ {model} og:trainedOn ?ds }}
  OPTIONAL {{ ?ds dct:title ?title }}
  OPTIONAL {{ ?ds dct:identifier ?id FILTER(!CONTAINS(STR(?id), ":")) }}
  OPTIONAL {{ ?ds dct:identifier ?hf FILTER(STRSTARTS(STR(?hf), "hf:")) }}
  OPTIONAL {{ ?ds dcat:landingPage ?landing }}
  OPTIONAL {{ ?ds dct:publisher ?publisher OPTIONAL {{ ?publisher foaf:name ?pname }}
             OPTIONAL {{ ?publisher foaf:homepage ?phome }} }}
  OPTIONAL {{ ?ds dct:license ?license }}
  OPTIONAL {{ ?ds og:dataClass ?class }}
  OPTIONAL {{ ?ds skos:scopeNote ?reason }}
  OPTIONAL {{ ?ds skos:editorialNote ?note FILTER(STRSTARTS(STR(?note), "status: ")) }}
}}"""):
        iri = r["ds"].value
        ds = found.get(iri)
        if ds is None:
            ds = found[iri] = Dataset(iri, _v(r, "title") or _tail(iri))
        ds.id = min(filter(None, (ds.id, _v(r, "id"))), default=None)
        ds.landing_page = min(filter(None, (ds.landing_page, _v(r, "landing"))), default=None)
        if "publisher" in r and (ds.publisher is None or r["publisher"].value < ds.publisher.iri):
            ds.publisher = Agent(r["publisher"].value, _v(r, "pname") or _tail(r["publisher"].value), _v(r, "phome"))
        if "license" in r and r["license"].value not in ds.licenses:
            ds.licenses.append(r["license"].value)
        if "class" in r:
            ds.data_class = _tail(r["class"].value)
        ds.data_class_reason = _v(r, "reason") or ds.data_class_reason
        if "note" in r:
            ds.status = r["note"].value.removeprefix("status: ")
        if "hf" in r and r["hf"].value[3:] not in ds.hf_ids:
            ds.hf_ids.append(r["hf"].value[3:])
    for ds in found.values():
        ds.licenses.sort()
        ds.hf_ids.sort()
    return sorted(found.values(), key=lambda d: d.iri)


def _provenance(store: GraphStore, graph: str, subject: Subject) -> None:
    for r in store.select(SPARQL_PREFIXES + f"""
SELECT ?file ?commit ?upstream ?license ?date ?loaded WHERE {{ GRAPH {graph} {{
  OPTIONAL {{ {graph} og:sourceFile ?file }}
  OPTIONAL {{ {graph} og:sourceCommit ?commit }}
  OPTIONAL {{ {graph} prov:hadPrimarySource ?upstream }}
  OPTIONAL {{ {graph} dct:license ?license }}
  OPTIONAL {{ {graph} dct:date ?date }}
  OPTIONAL {{ {graph} prov:wasGeneratedBy ?activity . ?activity prov:endedAtTime ?loaded }}
}} }} LIMIT 1"""):
        subject.source_file, subject.source_commit = _v(r, "file"), _v(r, "commit")
        subject.upstream, subject.data_license = _v(r, "upstream"), _v(r, "license")
        subject.retrieved, subject.loaded = _v(r, "date"), _v(r, "loaded")


def read_licenses(store: GraphStore, iris: list[str]) -> dict[str, License]:
    """Name, URLs, OSI/FSF flags and use restrictions of each license, from the license and dataset KBs."""
    if not iris:
        return {}
    values = " ".join(query_iri(i) for i in iris)
    found = {i: License(i, license_id(i), license_id(i)) for i in iris}
    for r in store.select(SPARQL_PREFIXES + f"""
SELECT ?l ?label ?url ?osi ?fsf WHERE {{ VALUES ?l {{ {values} }}
  OPTIONAL {{ ?l rdfs:label ?label }}
  OPTIONAL {{ ?l rdfs:seeAlso ?url }}
  OPTIONAL {{ ?l spdxexp:isOsiApproved ?osi }}
  OPTIONAL {{ ?l spdxexp:isFsfLibre ?fsf }} }}"""):
        lic = found[r["l"].value]
        if "label" in r and (lic.name == lic.id or r["label"].value < lic.name):
            lic.name = r["label"].value
        if "url" in r and r["url"].value not in lic.urls:
            lic.urls.append(r["url"].value)
        if "osi" in r:
            lic.osi = r["osi"].value == "true"
        if "fsf" in r:
            lic.fsf = r["fsf"].value == "true"
    for r in store.select(SPARQL_PREFIXES + f"""
SELECT DISTINCT ?l ?kind ?clause ?comment WHERE {{ VALUES ?l {{ {values} }}
  ?l og:hasRestriction ?r . ?r og:restrictionKind ?kind .
  OPTIONAL {{ ?r og:clause ?clause }} OPTIONAL {{ ?r rdfs:comment ?comment }} }}"""):
        found[r["l"].value].restrictions.append(Restriction(_tail(r["kind"].value), _v(r, "clause"), _v(r, "comment")))
    for lic in found.values():
        lic.urls.sort()
        lic.restrictions = sorted(set(lic.restrictions), key=lambda x: (x.kind, x.clause or "", x.comment or ""))
        if lic.listed and not lic.urls:
            lic.urls.append(f"https://spdx.org/licenses/{lic.id}.html")
    return found


RELEASE_RECORDS = SPARQL_PREFIXES + """
SELECT ?m ?id ?source ?name ?hf ?issued WHERE {
  $release a og:Release ; rdfs:label ?name . ?m og:ofRelease $release ; og:recordId ?id ; og:source ?source .
  OPTIONAL { $release og:huggingFaceId ?hf } OPTIONAL { $release dct:issued ?issued }
}"""
# A release's BOM is built from its records: the first source in this order that states a component gives it.
SOURCE_ORDER = {"mot": 0, "hf": 1, "native": 2, "spdx3": 3, "cyclonedx": 3, "osai-index": 4}


def read_release(store: GraphStore, minter: Minter, release_id: str) -> Subject | None:
    """The subject of a release's BOM: its records' subjects merged. Each component comes from the first
    record that states it (MOT, then Hugging Face, native and BOM records, then the Index, which grades
    systems); training datasets and licenses are the union; the release date is the model's when a source
    gives one. The consolidated verdict passed with it says which records each reason rests on."""
    release = minter.release(release_id)
    rows = store.select(RELEASE_RECORDS.replace("$release", query_iri(release)))
    if not rows:
        return None
    records = sorted({(r["source"].value, r["id"].value, r["m"].value) for r in rows},
                     key=lambda r: (SOURCE_ORDER.get(r[0], 5), r[1]))
    subjects = [s for _source, rid, iri in records if (s := read_record(store, minter, rid, iri)) is not None]
    if not subjects:
        return None
    first = subjects[0]
    merged = Subject(
        iri=release, id=release_id, name=rows[0]["name"].value, base=release + "/bom", source=None,
        version=first.version, issued=_v(rows[0], "issued"), producer=next((s.producer for s in subjects
                                                                            if s.producer), None),
        hf_id=_v(rows[0], "hf") or first.hf_id,
        landing_pages=sorted({u for s in subjects for u in s.landing_pages}),
        code_repositories=sorted({u for s in subjects for u in s.code_repositories}),
        model_type=first.model_type, architecture=first.architecture, pipeline_tag=first.pipeline_tag,
        note=first.note, complete=any(s.complete for s in subjects),
        gated="manual" if any(s.gated == "manual" for s in subjects) else next((s.gated for s in subjects
                                                                              if s.gated), None),
        monetised=any(s.monetised for s in subjects), grades=next((s.grades for s in subjects if s.grades), {}),
        data_license=first.data_license, source_file=first.source_file, source_commit=first.source_commit,
        upstream=first.upstream, retrieved=max((s.retrieved for s in subjects if s.retrieved), default=None),
        record_date=max((s.record_date for s in subjects if s.record_date), default=None),
        loaded=max((s.loaded for s in subjects if s.loaded), default=None))
    stated: set[str] = set()
    for subject in subjects:
        kinds = {a.kind for a in subject.artifacts}
        merged.artifacts += [a for a in subject.artifacts if a.kind not in stated]
        stated |= kinds
        for ds in subject.datasets:
            if all(d.iri != ds.iri for d in merged.datasets):
                merged.datasets.append(ds)
        merged.licenses.update(subject.licenses)
    merged.artifacts.sort(key=lambda a: (a.kind, a.iri))
    merged.datasets.sort(key=lambda d: d.iri)
    return merged
