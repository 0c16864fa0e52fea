"""The SPARQL behind the release, family, landing and quality pages: releases with their records and their
stored consolidated verdicts and flags (the current run), families, and the counts of the landing page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from loaders.vocab import Minter
from server.assess.run_graphs import current_run_pattern
from server.store import GraphStore
from server.web.page_queries import (
    SPARQL_PREFIXES,
    ModelRow,
    _v,
    iri,
    license_id_of,
    model_path,
    model_rows,
    stored_verdicts,
)


def release_rows_query(minter: Minter) -> str:
    """Every release of the identity graph with its family, date and Hub id, read in that graph only (the
    union of every graph also has the family labels the record graphs state)."""
    return SPARQL_PREFIXES + f"""
SELECT ?r ?id ?name ?fid ?fname ?issued ?hf WHERE {{ GRAPH {iri(minter.links_graph)} {{
  ?r a og:Release ; og:releaseId ?id ; rdfs:label ?name ; og:ofFamily ?f .
  ?f og:familyId ?fid ; rdfs:label ?fname .
  OPTIONAL {{ ?r dct:issued ?issued }}
  OPTIONAL {{ ?r og:huggingFaceId ?hf }}
}} }}"""


@dataclass(slots=True)
class ReleaseRow:
    """One release on a listing page; ``verdicts`` and ``flags`` come from the current assessment run;
    ``search`` is its lower-cased name, id, producer and record ids, for the text filter."""

    iri: str
    id: str
    name: str
    family: str
    family_name: str
    issued: str | None = None
    hf_id: str | None = None
    records: list[tuple[str, str]] = field(default_factory=list)  # (record id, source)
    producer: str | None = None
    producer_iri: str | None = None
    type: str | None = None
    verdicts: dict[str, dict] = field(default_factory=dict)
    flags: Counter = field(default_factory=Counter)

    @property
    def year(self) -> str | None:
        return self.issued[:4] if self.issued and self.issued[:4].isdigit() else None

    @property
    def sources(self) -> list[str]:
        return sorted({source for _, source in self.records})

    @property
    def source(self) -> str:
        return ", ".join(self.sources)

    unlinked: bool = False  # a record no release holds yet (written through /store or /update since the last load)
    search: str = ""

    @property
    def path(self) -> str:
        return model_path(self.records[0][0]) if self.unlinked else release_path(self.id)


def release_path(release_id: str) -> str:
    from urllib.parse import quote

    return f"/releases/{quote(release_id, safe='')}"


def release_rows(store: GraphStore, minter: Minter, records: list[ModelRow] | None = None,
                 verdicts: dict[str, dict[str, dict]] | None = None) -> list[ReleaseRow]:
    """Every release with its records, producer, date and stored verdicts and flags, sorted by id; a record
    no release holds yet (written through /store or /update since the last load) as a release of its own.
    ``records`` and ``verdicts``: the record rows and the releases' stored verdicts, when the caller has
    read them. The releases' records are joined here, not in SPARQL: a join of every release to its records'
    statements across graphs took ~10x as long at 10k records."""
    records = model_rows(store) if records is None else records
    by_iri = {row.iri: row for row in records}
    rows: dict[str, ReleaseRow] = {}
    for r in store.select(release_rows_query(minter)):
        if r["r"].value not in rows:
            rows[r["r"].value] = ReleaseRow(r["r"].value, r["id"].value, r["name"].value, r["fid"].value,
                                            r["fname"].value, _v(r, "issued"), _v(r, "hf"))
    members: dict[str, set[str]] = {}
    for r in store.select(SPARQL_PREFIXES + f"SELECT ?m ?r WHERE {{ GRAPH {iri(minter.links_graph)} "
                                            "{ ?m og:ofRelease ?r } }"):
        if r["r"].value in rows and r["m"].value in by_iri:
            members.setdefault(r["r"].value, set()).add(r["m"].value)
    rows = {key: row for key, row in rows.items() if key in members}
    for key, row in rows.items():
        records_of = sorted((by_iri[m] for m in members[key]), key=lambda m: (m.id, m.source))
        row.records = [(m.id, m.source) for m in records_of]
        producer = next((m for m in records_of if m.producer_iri), None)
        if producer is not None:
            row.producer_iri, row.producer = producer.producer_iri, producer.producer
        row.type = next((m.type for m in records_of if m.type), None)
    linked = {m for held in members.values() for m in held}
    for record in records:
        if record.iri not in linked:
            rows[record.iri] = ReleaseRow(record.iri, record.id, record.name, "", "", record.issued,
                                          records=[(record.id, record.source)], producer_iri=record.producer_iri,
                                          producer=record.producer, type=record.type, unlinked=True)
    verdicts = stored_verdicts(store, minter, "og:assessedRelease") if verdicts is None else verdicts
    flags = stored_flag_kinds(store, minter)
    for row in rows.values():
        row.verdicts = verdicts.get(row.iri, {})
        row.flags = flags.get(row.iri, Counter())
    return sorted(rows.values(), key=lambda x: x.id)


def stored_flag_kinds(store: GraphStore, minter: Minter) -> dict[str, Counter]:
    rows = store.select(SPARQL_PREFIXES + f"""
SELECT ?r ?f ?kind WHERE {{ {current_run_pattern(minter)}
  GRAPH ?run {{ ?r og:hasFlag ?f . ?f og:flagKind ?kind }} }}""")
    out: dict[str, Counter] = {}
    for r in rows:
        out.setdefault(r["r"].value, Counter())[license_id_of(r["kind"].value)] += 1
    return out


def stored_flags(store: GraphStore, minter: Minter) -> list[dict]:
    """Every flag of the current run: release, kind, message and the records it names (``/quality``)."""
    rows = store.select(SPARQL_PREFIXES + f"""
SELECT ?r ?id ?name ?f ?kind ?message ?rid WHERE {{
  {current_run_pattern(minter)}
  GRAPH ?run {{ ?r og:hasFlag ?f . ?f og:flagKind ?kind ; og:message ?message . OPTIONAL {{ ?f og:aboutRecord ?m }} }}
  ?r og:releaseId ?id ; rdfs:label ?name .
  OPTIONAL {{ ?m og:recordId ?rid }}
}}""")
    flags: dict[str, dict] = {}
    for r in rows:
        flag = flags.setdefault(r["f"].value, {"release": r["id"].value, "name": r["name"].value,
                                               "kind": license_id_of(r["kind"].value), "message": r["message"].value,
                                               "records": []})
        if "rid" in r and r["rid"].value not in flag["records"]:
            flag["records"].append(r["rid"].value)
    for flag in flags.values():
        flag["records"].sort()
    return sorted(flags.values(), key=lambda f: (f["kind"], f["release"], f["message"]))


def unmatched_records(rows: list[ReleaseRow]) -> list[dict]:
    """Records alone in their release, in a family of one release: nothing ties them to another source."""
    per_family = Counter(row.family for row in rows)
    return [{"id": row.records[0][0], "name": row.name, "release": row.id}
            for row in rows if len(row.records) == 1 and per_family[row.family] == 1]


def family_info(store: GraphStore, family_iri: str) -> dict | None:
    """A family: its name and id, the evidence that grouped it, and its family-level (Index) records."""
    fam = iri(family_iri)
    rows = store.select(SPARQL_PREFIXES + f"""
SELECT ?label ?fid ?why WHERE {{ {fam} a og:ModelFamily ; rdfs:label ?label .
  OPTIONAL {{ {fam} og:familyId ?fid }} OPTIONAL {{ {fam} og:identityEvidence ?why }} }}""")
    if not rows:
        return None
    records = [{"id": r["id"].value, "name": _v(r, "name") or r["id"].value} for r in store.select(
        SPARQL_PREFIXES + f"""
SELECT DISTINCT ?id ?name WHERE {{ ?m og:describesFamily {fam} ; og:recordId ?id . OPTIONAL {{ ?m dct:title ?name }} }}
ORDER BY ?id""")]
    return {"name": rows[0]["label"].value, "id": _v(rows[0], "fid"),
            "evidence": sorted({r["why"].value for r in rows if "why" in r}), "family_records": records}


def release_evidence(store: GraphStore, release_iri: str) -> list[str]:
    rows = store.select(SPARQL_PREFIXES + f"SELECT ?why WHERE {{ {iri(release_iri)} og:identityEvidence ?why }}")
    return sorted(r["why"].value for r in rows)


def graph_counts(store: GraphStore) -> dict:
    """What the graph holds, for the landing page: records per source, releases, families, datasets and
    licenses."""
    rows = store.select(SPARQL_PREFIXES + """
SELECT ?source (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a og:ModelRelease ; og:source ?source } GROUP BY ?source""")
    per_source = {r["source"].value: int(r["n"].value) for r in rows}
    counts = {"records": sum(per_source.values()), "sources": dict(sorted(per_source.items()))}
    for name, pattern in (("releases", "?x a og:Release"), ("families", "?x a og:ModelFamily ; og:familyId ?id"),
                          ("datasets", "?x a og:TrainingDataset"), ("licenses", "?x a og:License")):
        row = store.select(SPARQL_PREFIXES + f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {pattern} }}")
        counts[name] = int(row[0]["n"].value) if row else 0
    return counts
