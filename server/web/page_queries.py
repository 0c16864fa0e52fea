"""The SPARQL behind the Linked-Data pages (``server.web.pages``) and the catalog, kept out of the handlers.

No user text is ever interpolated into a query: only IRIs that this deployment minted (``Minter``) or
that were built from an identifier checked against a strict pattern, and each IRI is checked again by
:func:`iri` before it is written between angle brackets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

import pyoxigraph as ox

from loaders.vocab import OGLIC, SPARQL_PREFIXES, SPDX_LICENSE, Minter
from server.assess.engine import assess_record, read_licenses, read_records
from server.assess.run_graphs import current_run_pattern
from server.store import SAFE_IRI, GraphStore, OxigraphStore, graph_quads
from server.store import query_iri as iri

# IRIREF of the SPARQL grammar without the characters it forbids
LICENSE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+\-]{0,127}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9\-]{0,127}$")
DATASET_ID = re.compile(r"^[a-z0-9][a-z0-9.\-_]{0,127}$")


def literal(text: str) -> str:
    """A SPARQL string literal with every special character escaped (for VALUES)."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
               .replace("\t", "\\t"))
    return f'"{escaped}"'


def license_iri(license_id: str) -> str | None:
    """The IRI of an SPDX id or LicenseRef id, or None if the id is not well formed."""
    if not LICENSE_ID.match(license_id):
        return None
    return str(OGLIC[license_id]) if license_id.startswith("LicenseRef-") else str(SPDX_LICENSE[license_id])


def license_id_of(license_iri_: str) -> str:
    return license_iri_.rstrip("/").rsplit("/", 1)[-1]


def _v(row: dict, name: str) -> str | None:
    term = row.get(name)
    return None if term is None else term.value


def model_path(record_id: str) -> str:
    source, _, name = record_id.partition("/")
    return f"/models/{quote(source, safe='')}/{quote(name, safe='')}"


def verdict_matches(verdicts: dict, spec: str) -> bool:
    """Whether stored verdicts match a ``definition:value`` filter (a verdict, a MOF class, a minimum score)."""
    def_id, _, wanted = spec.partition(":")
    v = verdicts.get(def_id)
    if v is None or not wanted:
        return False
    if "verdict" in v:
        return v["verdict"] == wanted
    if "class" in v:
        return str(v["class"]) == wanted
    if "score" in v:
        try:
            return v["score"] >= float(wanted)
        except ValueError:
            return False
    return False


# --- models ---------------------------------------------------------------------------------------------

FOAF_PREFIX = "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"
MODELS_QUERY = SPARQL_PREFIXES + """
SELECT ?m ?id ?name ?source ?producer ?issued ?type WHERE {
  ?m a og:ModelRelease ; og:recordId ?id ; og:source ?source .
  OPTIONAL { ?m dct:title ?name }
  OPTIONAL { ?m og:producer ?producer }
  OPTIONAL { ?m dct:issued ?issued }
  OPTIONAL { ?m og:modelType ?type }
}"""
# An organisation's name is stated in every record graph that names it, and the union default graph repeats a
# triple once per graph: joined to the records, 10k records of a few producers gave tens of millions of rows.
# Read per graph, never joined.
PRODUCER_NAMES = SPARQL_PREFIXES + FOAF_PREFIX + """
SELECT DISTINCT ?producer ?producerName WHERE {
  GRAPH ?g { ?m og:producer ?producer . ?producer foaf:name ?producerName }
}"""


def producer_names(store: GraphStore) -> dict[str, str]:
    """``{organisation IRI: its name}`` (the least name, where graphs disagree)."""
    names: dict[str, str] = {}
    for r in store.select(PRODUCER_NAMES):
        producer, name = r["producer"].value, r["producerName"].value
        names[producer] = min(names.get(producer, name), name)
    return names


@dataclass(slots=True)
class ModelRow:
    """One record on a listing page (``server.web.listing``); ``search`` is its lower-cased name, id and
    producer, for the text filter."""

    iri: str
    id: str
    name: str
    source: str
    producer: str | None = None
    producer_iri: str | None = None
    issued: str | None = None
    type: str | None = None
    verdicts: dict[str, dict] = field(default_factory=dict)
    same_as: list[str] = field(default_factory=list)
    search: str = ""

    @property
    def year(self) -> str | None:
        return self.issued[:4] if self.issued and self.issued[:4].isdigit() else None

    @property
    def path(self) -> str:
        return model_path(self.id)

    @property
    def source_name(self) -> tuple[str, str]:
        return tuple(self.id.split("/", 1))  # type: ignore[return-value]


def model_rows(store: GraphStore) -> list[ModelRow]:
    """Every record with producer, release date and model type, sorted by id."""
    rows: dict[str, ModelRow] = {}
    names = producer_names(store)
    for r in store.select(MODELS_QUERY):
        m = r["m"].value
        row = rows.get(m)
        if row is None:
            row = rows[m] = ModelRow(m, r["id"].value, _v(r, "name") or r["id"].value, r["source"].value)
        if row.producer is None and "producer" in r:
            row.producer_iri = r["producer"].value
            row.producer = names.get(row.producer_iri) or license_id_of(row.producer_iri)
        if row.issued is None and "issued" in r:
            row.issued = r["issued"].value
        if row.type is None and "type" in r:
            row.type = r["type"].value
    return sorted(rows.values(), key=lambda x: x.id)


SAME_AS_QUERY = SPARQL_PREFIXES + """
SELECT ?id ?same WHERE { ?m a og:ModelRelease ; og:recordId ?id ; owl:sameAs ?o . ?o og:recordId ?same }"""


def same_as_links(store: GraphStore) -> dict[str, list[str]]:
    """``{record id: [ids of the same model from other sources]}`` (owl:sameAs), as ``openness models``
    lists them."""
    out: dict[str, set[str]] = {}
    for r in store.select(SAME_AS_QUERY):
        if r["same"].value != r["id"].value:
            out.setdefault(r["id"].value, set()).add(r["same"].value)
    return {rid: sorted(ids) for rid, ids in out.items()}


ASSESSMENT_MARK = "/assessments#"  # an assessment's IRI: its subject's, then this, then the definition id


def stored_verdicts(store: GraphStore, minter: Minter,
                    subject: str = "og:assessedRecord") -> dict[str, dict[str, dict]]:
    """``{record IRI: {definition id: {"verdict"|"class"|"score": value}}}`` from the current run
    (what ``openness assess`` stored last); empty when nothing was assessed yet. ``subject``:
    ``og:assessedRelease`` for the releases' consolidated verdicts."""
    records, releases = stored_verdicts_of_both(store, minter, releases=subject == "og:assessedRelease")
    return releases if subject == "og:assessedRelease" else records


def stored_verdicts_of_both(store: GraphStore, minter: Minter,
                            releases: bool = True) -> tuple[dict[str, dict[str, dict]], dict[str, dict[str, dict]]]:
    """The records' and (if ``releases``) the releases' stored verdicts, as :func:`stored_verdicts` gives them.

    Read as a scan of the assessments' values, each assessment's subject and definition taken from its
    minted IRI (``Minter.assessment``): joining every assessment to its subject, definition and values took
    ~6x as long (7.4 s against 1.3 s at 10k records). A release that shares its record's assessment
    (``server.assess.run_graphs``) reads it through og:assessedRelease."""
    values = store.select(SPARQL_PREFIXES + f"""
SELECT ?a ?verdict ?class ?score WHERE {{
  {current_run_pattern(minter)}
  GRAPH ?run {{ {{ ?a og:verdict ?verdict }} UNION {{ ?a og:mofClass ?class }} UNION {{ ?a og:score ?score }} }}
}}""")
    by_assessment: dict[str, dict] = {}
    for r in values:
        entry = by_assessment.setdefault(r["a"].value, {})
        if "verdict" in r:
            entry["verdict"] = license_id_of(r["verdict"].value)
        if "class" in r:
            entry["class"] = int(r["class"].value)
        if "score" in r:
            entry["score"] = float(r["score"].value)
    of_records: dict[str, dict[str, dict]] = {}
    of_releases: dict[str, dict[str, dict]] = {}
    for assessment, entry in by_assessment.items():
        owner, mark, def_id = assessment.rpartition(ASSESSMENT_MARK)
        if mark and owner.startswith(minter.records_prefix):
            of_records.setdefault(owner, {})[def_id] = entry
        elif mark and releases and owner.startswith(minter.release("")):
            of_releases.setdefault(owner, {})[def_id] = entry
    if releases:
        for r in store.select(SPARQL_PREFIXES + f"""
SELECT ?a ?r WHERE {{ {current_run_pattern(minter)} GRAPH ?run {{ ?a og:assessedRelease ?r }} }}"""):
            owner, mark, def_id = r["a"].value.rpartition(ASSESSMENT_MARK)
            if mark and owner.startswith(minter.records_prefix) and r["a"].value in by_assessment:
                of_releases.setdefault(r["r"].value, {})[def_id] = by_assessment[r["a"].value]
    return of_records, of_releases


def resolve_record(store: GraphStore, minter: Minter, record_id: str) -> str | None:
    """The IRI of the loaded record ``record_id``: the minted one, or (native records keep the IRI their
    publisher gave) the release whose og:recordId is ``record_id``; None if no such record is loaded."""
    minted = minter.record(record_id)
    if store.ask(SPARQL_PREFIXES + f"ASK {{ {iri(minted)} a og:ModelRelease }}"):
        return minted
    rows = store.select(SPARQL_PREFIXES + f"""
SELECT ?m WHERE {{ GRAPH {iri(minter.record_graph(record_id))} {{
  ?m a og:ModelRelease ; og:recordId {literal(record_id)} }} }} LIMIT 1""")
    if not rows or not isinstance(rows[0]["m"], ox.NamedNode) or not SAFE_IRI.match(rows[0]["m"].value):
        return None
    return rows[0]["m"].value


def record_verdict(store: GraphStore, minter: Minter, record_id: str, record_iri: str | None = None,
                   licenses: dict | None = None) -> dict | None:
    """The verdict object of one record, computed exactly as ``openness assess`` does (same facts, same
    engine), from a private store holding the record's graph and the datasets it was trained on.
    ``licenses``: the store's license facts when the caller already has them (reading them is most of the
    cost)."""
    record_iri = record_iri or minter.record(record_id)
    graph_iri = minter.record_graph(record_id)
    facts_query = SPARQL_PREFIXES + f"""
CONSTRUCT {{ ?s ?p ?o . ?ds ?dp ?do }} WHERE {{
  {{ GRAPH {iri(graph_iri)} {{ ?s ?p ?o }} }}
  UNION
  {{ GRAPH {iri(graph_iri)} {{ ?m og:trainedOn ?ds }} ?ds ?dp ?do . }}
}}"""
    graph = store.construct(facts_query)
    if not len(graph):
        return None
    private = OxigraphStore(None)
    private.bulk_add(graph_quads(graph, graph_iri))
    facts = read_records(private).get(record_iri)
    if facts is None:
        return None
    return assess_record(facts, licenses if licenses is not None else read_licenses(store))


def record_graph(store: GraphStore, minter: Minter, record_id: str):
    """The record's named graph plus its stored assessments, as an rdflib graph (stored assessments name
    the minted record IRI, as ``server.assess.run_graphs.verdict_quads`` writes them)."""
    record_iri = minter.record(record_id)
    query = SPARQL_PREFIXES + f"""
CONSTRUCT {{ ?s ?p ?o . ?a ?ap ?ao . ?x ?xp ?xo }} WHERE {{
  {{ GRAPH {iri(minter.record_graph(record_id))} {{ ?s ?p ?o }} }}
  UNION
  {{ {current_run_pattern(minter)} GRAPH ?run {{ ?a og:assessedRecord {iri(record_iri)} ; ?ap ?ao }} }}
  UNION
  {{ {current_run_pattern(minter)} GRAPH ?run {{
       ?a og:assessedRecord {iri(record_iri)} ; og:hasReason|og:hasGrade ?x . ?x ?xp ?xo }} }}
}}"""
    return store.construct(query)


def assessments_graph(store: GraphStore, minter: Minter, record_id: str):
    """Only the stored og:Assessment nodes of one record (with their reasons and grades)."""
    record_iri = minter.record(record_id)
    query = SPARQL_PREFIXES + f"""
CONSTRUCT {{ ?a ?ap ?ao . ?x ?xp ?xo }} WHERE {{
  {current_run_pattern(minter)}
  GRAPH ?run {{
    ?a og:assessedRecord {iri(record_iri)} ; ?ap ?ao .
    OPTIONAL {{ ?a og:hasReason|og:hasGrade ?x . ?x ?xp ?xo }}
  }}
}}"""
    return store.construct(query)


def record_details(store: GraphStore, minter: Minter, record_id: str, record_iri: str | None = None) -> dict:
    """What the model page shows besides verdicts: description, links, artifacts with licenses,
    provenance and the same model from other sources."""
    rec = iri(record_iri or minter.record(record_id))
    graph = iri(minter.record_graph(record_id))
    head = store.select(SPARQL_PREFIXES + FOAF_PREFIX + f"""
SELECT ?p ?o ?label WHERE {{
  GRAPH {graph} {{ {rec} ?p ?o }}
  OPTIONAL {{ ?o rdfs:label|foaf:name ?label }}
}}""")
    props: dict[str, list[tuple[str, str | None]]] = {}
    for r in head:
        props.setdefault(r["p"].value, []).append((r["o"].value, _v(r, "label")))
    artifacts: dict[str, dict] = {}
    for r in store.select(SPARQL_PREFIXES + f"""
SELECT ?a ?kind ?component ?avail ?statement ?state ?license ?licLabel ?access ?dimension ?grade WHERE {{
  GRAPH {graph} {{ {rec} og:hasArtifact ?a . ?a og:artifactKind ?kind .
    OPTIONAL {{ ?a og:component ?component }}
    OPTIONAL {{ ?a og:availability ?avail }}
    OPTIONAL {{ ?a og:licenseStatement ?statement }}
    OPTIONAL {{ ?a og:licenseState ?state }}
    OPTIONAL {{ ?a dcat:accessURL ?access }}
    OPTIONAL {{ ?a og:indexDimension ?dimension }}
    OPTIONAL {{ ?a og:indexGrade ?grade }}
  }}
  OPTIONAL {{ GRAPH {graph} {{ ?a dct:license ?license }} OPTIONAL {{ ?license rdfs:label ?licLabel }} }}
}}"""):
        art = artifacts.setdefault(r["a"].value, {
            "iri": r["a"].value, "kind": license_id_of(r["kind"].value), "component": _v(r, "component"),
            "availability": license_id_of(r["avail"].value) if "avail" in r else None,
            "statement": _v(r, "statement"),
            "state": license_id_of(r["state"].value) if "state" in r else None,
            "licenses": {}, "access": set(), "dimension": _v(r, "dimension"),
            "grade": license_id_of(r["grade"].value) if "grade" in r else None})
        if "license" in r:
            lic = r["license"].value
            art["licenses"][lic] = {"iri": lic, "id": license_id_of(lic), "label": _v(r, "licLabel")}
        if "access" in r:
            art["access"].add(r["access"].value)
    arts = sorted(artifacts.values(), key=lambda a: (a["component"] or a["kind"], a["iri"]))
    for a in arts:
        a["licenses"] = sorted(a["licenses"].values(), key=lambda lic: lic["id"])
        a["access"] = sorted(a["access"])
    prov = {}
    for r in store.select(SPARQL_PREFIXES + f"""
SELECT ?file ?commit ?upstream ?license ?date WHERE {{
  GRAPH {graph} {{ {graph} og:sourceFile ?file .
    OPTIONAL {{ {graph} og:sourceCommit ?commit }}
    OPTIONAL {{ {graph} prov:hadPrimarySource ?upstream }}
    OPTIONAL {{ {graph} dct:license ?license }}
    OPTIONAL {{ {graph} dct:date ?date }}
  }}
}}"""):
        prov = {"file": _v(r, "file"), "commit": _v(r, "commit"), "upstream": _v(r, "upstream"),
                "license": _v(r, "license"), "date": _v(r, "date")}
    links = []
    for r in store.select(SPARQL_PREFIXES + f"""
SELECT DISTINCT ?rel ?other ?otherId ?otherName WHERE {{
  VALUES ?rel {{ owl:sameAs og:sameFamilyAs }}
  {rec} ?rel ?other . ?other og:recordId ?otherId .
  OPTIONAL {{ ?other dct:title ?otherName }}
}} ORDER BY ?rel ?otherId"""):
        links.append({"relation": "same model" if r["rel"].value.endswith("sameAs") else "same family",
                      "id": r["otherId"].value, "name": _v(r, "otherName") or r["otherId"].value})
    datasets = [{"iri": r["ds"].value, "title": _v(r, "title") or license_id_of(r["ds"].value),
                 "data_class": license_id_of(r["class"].value) if "class" in r else None}
                for r in store.select(SPARQL_PREFIXES + f"""
SELECT DISTINCT ?ds ?title ?class WHERE {{
  GRAPH {graph} {{ {rec} og:trainedOn ?ds }}
  OPTIONAL {{ ?ds dct:title ?title }} OPTIONAL {{ ?ds og:dataClass ?class }}
}} ORDER BY ?ds""")]
    release = next(({"id": r["id"].value, "name": r["name"].value} for r in store.select(SPARQL_PREFIXES + f"""
SELECT ?id ?name WHERE {{ {rec} og:ofRelease ?r . ?r og:releaseId ?id ; rdfs:label ?name }}""")), None)
    return {"props": props, "artifacts": arts, "provenance": prov, "links": links, "datasets": datasets,
            "release": release}


# --- licenses, organizations, families, datasets -------------------------------------------------------

def license_details(store: GraphStore, license_iri_: str) -> dict | None:
    lic = iri(license_iri_)
    rows = store.select(SPARQL_PREFIXES + f"""
SELECT ?p ?o WHERE {{ {lic} ?p ?o . FILTER(?p != og:hasRestriction) }}""")
    if not rows:
        return None
    props: dict[str, list[str]] = {}
    for r in rows:
        props.setdefault(r["p"].value, []).append(r["o"].value)
    restrictions = [{"kind": license_id_of(r["kind"].value), "clause": _v(r, "clause"),
                     "comment": _v(r, "comment")}
                    for r in store.select(SPARQL_PREFIXES + f"""
SELECT ?kind ?clause ?comment WHERE {{
  {lic} og:hasRestriction ?r . ?r og:restrictionKind ?kind .
  OPTIONAL {{ ?r og:clause ?clause }} OPTIONAL {{ ?r rdfs:comment ?comment }}
}} ORDER BY ?kind""")]
    users = [{"id": r["id"].value, "name": _v(r, "name") or r["id"].value, "component": _v(r, "component")}
             for r in store.select(SPARQL_PREFIXES + f"""
SELECT DISTINCT ?id ?name ?component WHERE {{
  ?m og:hasArtifact ?a ; og:recordId ?id . ?a dct:license {lic} .
  OPTIONAL {{ ?m dct:title ?name }} OPTIONAL {{ ?a og:component ?component }}
}} ORDER BY ?id ?component""")]
    datasets = [{"iri": r["ds"].value, "title": _v(r, "title") or r["ds"].value}
                for r in store.select(SPARQL_PREFIXES + f"""
SELECT DISTINCT ?ds ?title WHERE {{
  ?ds a og:TrainingDataset ; dct:license {lic} . OPTIONAL {{ ?ds dct:title ?title }}
}} ORDER BY ?ds""")]
    return {"props": props, "restrictions": restrictions, "users": users, "datasets": datasets}


def organization_details(store: GraphStore, org_iri: str) -> dict | None:
    org = iri(org_iri)
    names = store.select(SPARQL_PREFIXES + FOAF_PREFIX + f"""
SELECT ?name ?home WHERE {{ {org} foaf:name|rdfs:label ?name . OPTIONAL {{ {org} foaf:homepage ?home }} }}""")
    if not names:
        return None
    models = [{"id": r["id"].value, "name": _v(r, "name") or r["id"].value}
              for r in store.select(SPARQL_PREFIXES + f"""
SELECT DISTINCT ?id ?name WHERE {{ ?m og:producer {org} ; og:recordId ?id . OPTIONAL {{ ?m dct:title ?name }} }}
ORDER BY ?id""")]
    datasets = [{"iri": r["ds"].value, "title": _v(r, "title") or r["ds"].value}
                for r in store.select(SPARQL_PREFIXES + f"""
SELECT DISTINCT ?ds ?title WHERE {{ ?ds dct:publisher {org} . OPTIONAL {{ ?ds dct:title ?title }} }}
ORDER BY ?ds""")]
    homes = sorted({r["home"].value for r in names if "home" in r})
    return {"name": names[0]["name"].value, "homepages": homes, "models": models, "datasets": datasets}


def dataset_list(store: GraphStore) -> list[dict]:
    return [{"iri": r["ds"].value, "id": _v(r, "id") or license_id_of(r["ds"].value),
             "title": _v(r, "title") or r["ds"].value,
             "data_class": license_id_of(r["class"].value) if "class" in r else None}
            for r in store.select(SPARQL_PREFIXES + """
SELECT ?ds (SAMPLE(?t) AS ?title) (MIN(?i) AS ?id) (SAMPLE(?c) AS ?class) WHERE {
  ?ds a og:TrainingDataset . OPTIONAL { ?ds dct:title ?t } OPTIONAL { ?ds og:dataClass ?c }
  OPTIONAL { ?ds dct:identifier ?i FILTER(!CONTAINS(STR(?i), ":")) }
} GROUP BY ?ds ORDER BY ?ds""")]


def dataset_details(store: GraphStore, dataset_iri: str) -> dict | None:
    ds = iri(dataset_iri)
    rows = store.select(SPARQL_PREFIXES + FOAF_PREFIX + f"""
SELECT ?p ?o ?label WHERE {{ {ds} ?p ?o . OPTIONAL {{ ?o rdfs:label|foaf:name ?label }} }}""")
    if not rows:
        return None
    props: dict[str, list[tuple[str, str | None]]] = {}
    for r in rows:
        props.setdefault(r["p"].value, []).append((r["o"].value, _v(r, "label")))
    models = [{"id": r["id"].value, "name": _v(r, "name") or r["id"].value}
              for r in store.select(SPARQL_PREFIXES + f"""
SELECT DISTINCT ?id ?name WHERE {{ ?m og:trainedOn {ds} ; og:recordId ?id . OPTIONAL {{ ?m dct:title ?name }} }}
ORDER BY ?id""")]
    return {"props": props, "models": models}


def pass_counts(store: GraphStore, minter: Minter) -> dict[str, dict[str, int]]:
    """``{definition id: {verdict or 'class N': count}}`` from the stored assessments."""
    counts: dict[str, dict[str, int]] = {}
    for verdicts in stored_verdicts(store, minter).values():
        for def_id, v in verdicts.items():
            key = v.get("verdict") or (f"class {v['class']}" if "class" in v else None)
            if key is None and "score" in v:
                key = "scored"
            if key:
                counts.setdefault(def_id, {}).setdefault(key, 0)
                counts[def_id][key] += 1
    return counts
