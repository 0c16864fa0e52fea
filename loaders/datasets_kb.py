"""Training datasets as first-class entities: the curated knowledge base in ``data/datasets/datasets.yaml``.

Pure functions:

* :func:`load_dataset_kb` reads the YAML into :class:`DatasetEntry` objects (and checks it);
* :func:`dataset_graph` turns entries into RDF (``dcat:Dataset`` + ``og:TrainingDataset``);
* :func:`match_dataset` resolves a mention in a record (a URL, a Hugging Face id or a name) to a dataset id.

Matching is exact after normalisation, never fuzzy: a URL resolves when it, or one of its path prefixes
(cut at ``/`` boundaries), is listed under some dataset's ``match``; a name resolves when it equals an alias.

Script mode, for curators: ``python -m loaders.datasets_kb --unmatched`` prints every Open Source AI Index
datasource link and every MOT "Datasets" mention in the bundled data that resolves to no dataset, with counts.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import FOAF

from loaders.bundled_data import data_file
from loaders.vocab import (
    DATACLASS,
    DCAT,
    DCT,
    OG,
    OGLIC,
    PROV,
    SKOS,
    SPDX_LICENSE,
    WD,
    Minter,
    bind_prefixes,
    path_segment,
    slugify,
)

DEFAULT_KB_PATH = data_file("datasets", "datasets.yaml")
DEFAULT_INDEX_DIR = data_file("osai-index", "models")
DEFAULT_MOT_DIR = data_file("mot", "models")

DATA_CLASSES = ("open", "public", "obtainable", "unshareable")
INDEX_DATASOURCE_FIELDS = ("datasources_basemodel", "datasources_endmodel")

_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_QID_RE = re.compile(r"^Q[1-9][0-9]*$")
_LICENSEREF_RE = re.compile(r"^LicenseRef-[A-Za-z0-9.\-]+$")
_SPDX_RE = re.compile(r"^[A-Za-z0-9.\-+]+$")


# ---------------------------------------------------------------------------------------------------------
# Data classes
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Publisher:
    name: str
    url: str | None = None


@dataclass(frozen=True)
class LicensePart:
    """One licence of a dataset and the part of the dataset it covers ("annotations", "images", ...)."""

    id: str  # SPDX id or LicenseRef-… id
    applies_to: str | None = None
    source: str | None = None
    checked: bool = False  # re-read in a stored copy of the source while curating

    @property
    def is_licenseref(self) -> bool:
        return self.id.startswith("LicenseRef-")

    @property
    def iri(self) -> URIRef:
        return license_iri(self.id)


@dataclass(frozen=True)
class LicenseRef:
    """A licence or terms document that SPDX does not list, minted under ``vocab.OGLIC``."""

    id: str
    name: str
    url: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Identifiers:
    hf: tuple[str, ...] = ()
    wikidata: str | None = None
    doi: str | None = None
    zenodo: str | None = None
    paperswithcode: str | None = None
    arxiv: str | None = None


@dataclass(frozen=True)
class DatasetEntry:
    id: str
    title: str
    publisher: Publisher
    landing_page: str
    licenses: tuple[LicensePart, ...]
    data_class: str
    data_class_reason: str
    identifiers: Identifiers = field(default_factory=Identifiers)
    match: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    derived_from: tuple[str, ...] = ()
    notes: str | None = None
    status: str | None = None  # e.g. "withdrawn", "not-released"; None = available

    @property
    def hf_urls(self) -> tuple[str, ...]:
        return tuple(f"https://huggingface.co/datasets/{hf}" for hf in self.identifiers.hf)


@dataclass(frozen=True)
class DatasetKB:
    entries: tuple[DatasetEntry, ...]
    license_refs: tuple[LicenseRef, ...] = ()
    attribution: str | None = None
    license: str | None = None


def license_iri(license_id: str) -> URIRef:
    """SPDX ids → ``http://spdx.org/licenses/{id}``; ``LicenseRef-…`` ids → ``vocab.OGLIC[id]``."""
    if license_id.startswith("LicenseRef-"):
        return OGLIC[license_id]
    return SPDX_LICENSE[license_id]


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(value)
    return (value,)


def _entry_from_dict(raw: dict) -> DatasetEntry:
    ident = raw.get("identifiers") or {}
    pub = raw.get("publisher") or {}
    if isinstance(pub, str):
        pub = {"name": pub}
    licenses = tuple(
        LicensePart(id=str(lic["id"]), applies_to=lic.get("applies_to"), source=lic.get("source"),
                    checked=bool(lic.get("checked", False)))
        for lic in raw.get("licenses") or ()
    )
    identifiers = Identifiers(
        hf=tuple(str(h) for h in _as_tuple(ident.get("hf"))),
        wikidata=ident.get("wikidata"),
        doi=ident.get("doi"),
        zenodo=str(ident["zenodo"]) if ident.get("zenodo") is not None else None,
        paperswithcode=ident.get("paperswithcode"),
        arxiv=str(ident["arxiv"]) if ident.get("arxiv") is not None else None,
    )
    return DatasetEntry(
        id=str(raw["id"]),
        title=str(raw["title"]),
        publisher=Publisher(name=str(pub.get("name", "")), url=pub.get("url")),
        landing_page=str(raw.get("landing_page") or ""),
        licenses=licenses,
        data_class=str(raw.get("data_class") or ""),
        data_class_reason=str(raw.get("data_class_reason") or ""),
        identifiers=identifiers,
        match=tuple(str(m) for m in _as_tuple(raw.get("match"))),
        sources=tuple(str(s) for s in _as_tuple(raw.get("sources"))),
        derived_from=tuple(str(d) for d in _as_tuple(raw.get("derived_from"))),
        notes=raw.get("notes"),
        status=raw.get("status"),
    )


def validate_entries(entries: Iterable[DatasetEntry], license_refs: Iterable[LicenseRef] = ()) -> list[str]:
    """Return a list of problems (empty when the knowledge base is consistent)."""
    entries = list(entries)
    problems: list[str] = []
    ids = [e.id for e in entries]
    known_refs = {r.id for r in license_refs}
    for dup, n in Counter(ids).items():
        if n > 1:
            problems.append(f"duplicate dataset id {dup!r}")
    for e in entries:
        where = f"dataset {e.id!r}"
        if not _ID_RE.match(e.id):
            problems.append(f"{where}: id is not a lower-case slug")
        if not e.title:
            problems.append(f"{where}: no title")
        if not e.publisher.name:
            problems.append(f"{where}: no publisher name")
        if not e.landing_page.startswith(("http://", "https://")):
            problems.append(f"{where}: landing_page is not a URL")
        if not e.licenses:
            problems.append(f"{where}: no licence")
        for lic in e.licenses:
            if lic.is_licenseref:
                if not _LICENSEREF_RE.match(lic.id):
                    problems.append(f"{where}: malformed LicenseRef {lic.id!r}")
                elif known_refs and lic.id not in known_refs:
                    problems.append(f"{where}: LicenseRef {lic.id!r} not declared under license_refs")
            elif not _SPDX_RE.match(lic.id):
                problems.append(f"{where}: malformed SPDX id {lic.id!r}")
        if e.data_class not in DATA_CLASSES:
            problems.append(f"{where}: data_class {e.data_class!r} not one of {DATA_CLASSES}")
        if not e.data_class_reason:
            problems.append(f"{where}: no data_class_reason")
        if e.identifiers.wikidata and not _QID_RE.match(e.identifiers.wikidata):
            problems.append(f"{where}: wikidata id {e.identifiers.wikidata!r} is not a QID")
        if not e.sources:
            problems.append(f"{where}: no sources")
        for d in e.derived_from:
            if d not in ids:
                problems.append(f"{where}: derived_from unknown dataset {d!r}")
    # Every match key must lead to exactly one dataset.
    owners: dict[str, str] = {}
    for e in entries:
        keys = set(_entry_keys(e))
        for key in keys:
            if key in owners and owners[key] != e.id:
                problems.append(f"match key {key!r} claimed by both {owners[key]!r} and {e.id!r}")
            owners.setdefault(key, e.id)
    return problems


def load_kb(path: str | Path = DEFAULT_KB_PATH) -> DatasetKB:
    """Read the whole knowledge base (entries, LicenseRef table, file-level attribution)."""
    with open(path, encoding="utf-8") as fh:
        raw = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}  # C parser: ~10x faster
    entries = tuple(_entry_from_dict(d) for d in raw.get("datasets") or ())
    refs = tuple(
        LicenseRef(id=str(r["id"]), name=str(r["name"]), url=r.get("url"), description=r.get("description"))
        for r in raw.get("license_refs") or ()
    )
    problems = validate_entries(entries, refs)
    if problems:
        raise ValueError(f"{path}: invalid dataset knowledge base:\n  " + "\n  ".join(problems))
    return DatasetKB(entries=entries, license_refs=refs, attribution=raw.get("attribution"),
                     license=raw.get("license"))


def load_dataset_kb(path: str | Path = DEFAULT_KB_PATH) -> list[DatasetEntry]:
    """The dataset entries of the knowledge base at ``path`` (validated; ValueError if inconsistent)."""
    return list(load_kb(path).entries)


# ---------------------------------------------------------------------------------------------------------
# RDF
# ---------------------------------------------------------------------------------------------------------


def _short_slug(text: str, limit: int = 32) -> str:
    """A slug of at most ``limit`` characters, cut at a hyphen: 'images (owned by …)' -> 'images-owned-by'."""
    slug = slugify(text)
    if len(slug) <= limit:
        return slug
    cut = slug[:limit].rsplit("-", 1)[0]
    return cut or slug[:limit]


def _uri(text: str) -> URIRef:
    return URIRef(text.strip())


def dataset_graph(entries: Iterable[DatasetEntry] | DatasetKB, minter: Minter | None = None,
                  license_refs: Iterable[LicenseRef] = (), *, catalog: bool = True,
                  kb_license: str | None = "CC-BY-4.0", attribution: str | None = None) -> Graph:
    """RDF for the datasets: ``dcat:Dataset``/``og:TrainingDataset`` with title, publisher (foaf:Agent),
    landing page, licences (per part as ``dcat:Distribution``), OSAID data class, identifiers and sources.

    ``entries`` may be a :class:`DatasetKB` (from :func:`load_kb`), whose LicenseRef table and attribution
    are then used too. Wikidata items are linked with ``skos:exactMatch`` (not ``owl:sameAs``, so OWL
    reasoning does not merge our nodes with Wikidata's)."""
    minter = minter or Minter()
    if isinstance(entries, DatasetKB):
        license_refs = license_refs or entries.license_refs
        attribution = attribution or entries.attribution
        kb_license = entries.license or kb_license
        entries = entries.entries
    entries = list(entries)
    g = Graph()
    bind_prefixes(g)
    g.bind("foaf", FOAF)
    by_id = {e.id: e for e in entries}
    catalog_iri = URIRef(f"{minter.base}datasets") if catalog else None
    if catalog_iri is not None:
        g.add((catalog_iri, RDF.type, DCAT.Catalog))
        g.add((catalog_iri, DCT.title, Literal("Openness Graph training dataset knowledge base", lang="en")))
        if kb_license:
            g.add((catalog_iri, DCT.license, license_iri(kb_license)))
        if attribution:
            g.add((catalog_iri, DCT.rights, Literal(attribution.strip(), lang="en")))

    for ref in license_refs:
        iri = license_iri(ref.id)
        g.add((iri, RDF.type, DCT.LicenseDocument))
        g.add((iri, RDFS.label, Literal(ref.name, lang="en")))
        g.add((iri, DCT.identifier, Literal(ref.id)))
        if ref.url:
            g.add((iri, RDFS.seeAlso, _uri(ref.url)))
        if ref.description:
            g.add((iri, RDFS.comment, Literal(ref.description.strip(), lang="en")))

    for e in entries:
        ds = URIRef(minter.dataset(e.id))
        if catalog_iri is not None:
            g.add((catalog_iri, DCAT.dataset, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, RDF.type, OG.TrainingDataset))
        g.add((ds, DCT.title, Literal(e.title)))
        g.add((ds, DCT.identifier, Literal(e.id)))

        org = URIRef(minter.organization(e.publisher.name))
        g.add((ds, DCT.publisher, org))
        g.add((org, RDF.type, FOAF.Agent))
        g.add((org, RDF.type, PROV.Organization))
        g.add((org, FOAF.name, Literal(e.publisher.name)))
        if e.publisher.url:
            g.add((org, FOAF.homepage, _uri(e.publisher.url)))

        g.add((ds, DCAT.landingPage, _uri(e.landing_page)))

        parts: list[str] = []
        for i, lic in enumerate(e.licenses):
            g.add((ds, DCT.license, lic.iri))
            if lic.is_licenseref:
                g.add((lic.iri, RDF.type, DCT.LicenseDocument))
            if lic.applies_to or len(e.licenses) > 1:
                label = lic.applies_to or "whole dataset"
                part = URIRef(f"{ds}#part-{i + 1}-{path_segment(_short_slug(label))}")
                g.add((ds, DCAT.distribution, part))
                g.add((part, RDF.type, DCAT.Distribution))
                g.add((part, DCT.license, lic.iri))
                g.add((part, DCT.description, Literal(label, lang="en")))
                g.add((part, DCAT.accessURL, _uri(e.landing_page)))
                if lic.source:
                    g.add((part, DCT.source, _uri(lic.source)))
                parts.append(f"{label}: {lic.id}")
            elif lic.source:
                g.add((ds, DCT.source, _uri(lic.source)))
        if parts:
            g.add((ds, RDFS.comment, Literal("Licences by part — " + "; ".join(parts) + ".", lang="en")))

        g.add((ds, OG.dataClass, DATACLASS[e.data_class]))
        g.add((ds, SKOS.scopeNote, Literal(e.data_class_reason, lang="en")))

        ident = e.identifiers
        if ident.wikidata:
            g.add((ds, SKOS.exactMatch, WD[ident.wikidata]))
        for hf in ident.hf:
            g.add((ds, RDFS.seeAlso, URIRef(f"https://huggingface.co/datasets/{hf}")))
            g.add((ds, DCT.identifier, Literal(f"hf:{hf}")))
        if ident.doi:
            g.add((ds, DCT.identifier, Literal(f"doi:{ident.doi}")))
            g.add((ds, RDFS.seeAlso, URIRef(f"https://doi.org/{ident.doi}")))
        if ident.zenodo:
            g.add((ds, RDFS.seeAlso, URIRef(f"https://zenodo.org/records/{ident.zenodo}")))
        if ident.paperswithcode:
            g.add((ds, RDFS.seeAlso, URIRef(f"https://paperswithcode.com/dataset/{ident.paperswithcode}")))
        if ident.arxiv:
            g.add((ds, DCT.isReferencedBy, URIRef(f"https://arxiv.org/abs/{ident.arxiv}")))
        for src in e.sources:
            g.add((ds, DCT.source, _uri(src)))
        for parent in e.derived_from:
            if parent in by_id:
                g.add((ds, PROV.wasDerivedFrom, URIRef(minter.dataset(parent))))
        if e.notes:
            g.add((ds, RDFS.comment, Literal(e.notes.strip(), lang="en")))
        if e.status:
            g.add((ds, SKOS.editorialNote, Literal(f"status: {e.status}", lang="en")))
    return g


# ---------------------------------------------------------------------------------------------------------
# Matching mentions
# ---------------------------------------------------------------------------------------------------------

_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_HOST_RE = re.compile(r"^(?:www\.)?[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}(?:[/#?:]|$)")
_HF_ID_RE = re.compile(r"^[a-z0-9][\w.\-]*/[\w.\-]+$")
_HF_SUBPATHS = {"tree", "blob", "resolve", "viewer", "discussions", "commits", "commit", "raw", "edit",
                "files", "sql-console", "refs"}
_ARXIV_RE = re.compile(r"^arxiv\.org/(?:abs|pdf|html)/(\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?$")


def _looks_like_url(text: str) -> bool:
    return bool(_SCHEME_RE.match(text) or _HOST_RE.match(text))


def normalize_url(url: str) -> str:
    """Canonical form of a URL for matching: lower-case, no scheme, no ``www.``, no query, no trailing slash.

    The fragment is kept (``…#data``) so a curator can match one section of a page; callers also try the
    form without fragment. Hugging Face dataset URLs lose their sub-paths (``/tree/main``, ``/blob/…``,
    ``/viewer/…``); GitHub URLs lose ``/tree/{branch}`` and ``/blob/{branch}``; arXiv ``pdf``/``abs``/
    version suffixes and ``huggingface.co/papers/{id}`` collapse to ``arxiv.org/abs/{id}``.
    """
    text = url.strip().strip("<>\"'").lower()
    text = _SCHEME_RE.sub("", text)
    if text.startswith("www."):
        text = text[4:]
    frag = ""
    if "#" in text:
        text, frag = text.split("#", 1)
    text = text.split("?", 1)[0].rstrip("/")
    if text.endswith(".git"):
        text = text[:-4]
    host, _, path = text.partition("/")
    host = host.split(":", 1)[0]
    if host == "hf.co":
        host = "huggingface.co"
    parts = [p for p in path.split("/") if p]

    if host == "huggingface.co" and parts[:1] == ["datasets"] and len(parts) >= 2:
        rest = parts[1:]
        if len(rest) >= 2 and rest[1] not in _HF_SUBPATHS:
            parts = ["datasets", rest[0], rest[1]]
        else:
            parts = ["datasets", rest[0]]
        frag = ""  # a section of a dataset card is still the dataset
    elif host == "huggingface.co" and parts[:1] == ["papers"] and len(parts) >= 2:
        host, parts = "arxiv.org", ["abs", parts[1]]
    elif host == "github.com" and len(parts) >= 4 and parts[2] in ("tree", "blob"):
        parts = parts[:2] + parts[4:]
    norm = "/".join([host, *parts])
    m = _ARXIV_RE.match(norm)
    if m:
        norm = f"arxiv.org/abs/{m.group(1)}"
    return f"{norm}#{frag}" if frag else norm


def normalize_name(name: str) -> str:
    """Canonical form of a dataset name: lower-case, '-', '_' and runs of spaces → one space, no quotes."""
    text = name.strip().strip("\"'`“”‘’").lower()
    text = re.sub(r"[\s_\-]+", " ", text)
    return text.strip(" .,;:")


def _url_candidates(url_key: str) -> Iterator[str]:
    """Keys to try for a normalised URL, most specific first: with fragment, without, then path prefixes."""
    base, _, frag = url_key.partition("#")
    if frag:
        yield url_key
    parts = base.split("/")
    for n in range(len(parts), 0, -1):
        yield "/".join(parts[:n])


def _mention_key(text: str) -> tuple[str, str] | None:
    """('url', key) or ('name', key) for a mention."""
    text = (text or "").strip()
    if not text:
        return None
    low = text.lower()
    if _looks_like_url(low):
        return "url", normalize_url(low)
    if _HF_ID_RE.match(low) and " " not in low:
        return "url", normalize_url(f"huggingface.co/datasets/{low}")
    return "name", normalize_name(text)


def _entry_keys(entry: DatasetEntry) -> Iterator[str]:
    """Every match key of an entry: ``url:…`` for URLs/HF ids, ``name:…`` for aliases (title and id too)."""
    for hf in entry.identifiers.hf:
        yield "url:" + normalize_url(f"huggingface.co/datasets/{hf}")
    if entry.identifiers.arxiv:
        yield "url:" + normalize_url(f"arxiv.org/abs/{entry.identifiers.arxiv}")
    yield "name:" + normalize_name(entry.title)
    yield "name:" + normalize_name(entry.id)
    for m in entry.match:
        kind_key = _mention_key(m)
        if kind_key is None:
            continue
        kind, key = kind_key
        yield f"{kind}:{key}"


class DatasetMatcher:
    """Resolves mentions to dataset ids using the entries' identifiers, titles and ``match`` lists."""

    def __init__(self, entries: Iterable[DatasetEntry]):
        self._index: dict[str, str] = {}
        self._prefixes: list[tuple[str, str]] = []  # ("url:huggingface.co/datasets/org/name_", id)
        for e in entries:
            for key in _entry_keys(e):
                if key.startswith("url:") and key.endswith("*"):
                    self._prefixes.append((key[:-1], e.id))
                else:
                    self._index.setdefault(key, e.id)
        self._prefixes.sort(key=lambda p: -len(p[0]))

    def match(self, text: str) -> str | None:
        kind_key = _mention_key(text)
        if kind_key is None:
            return None
        kind, key = kind_key
        if kind == "name":
            return self._index.get("name:" + key)
        for cand in _url_candidates(key):
            hit = self._index.get("url:" + cand)
            if hit:
                return hit
        # curator-declared prefixes ending in "*" (e.g. ".../mozilla-foundation/common_voice_*")
        full = "url:" + key.partition("#")[0]
        for prefix, dataset_id in self._prefixes:
            if full.startswith(prefix):
                return dataset_id
        return None


@lru_cache(maxsize=4)
def _default_matcher(path: str) -> DatasetMatcher:
    return DatasetMatcher(load_dataset_kb(path))


def match_dataset(text: str, entries: Iterable[DatasetEntry] | None = None) -> str | None:
    """The id of the dataset a URL, Hugging Face id or name refers to, or None.

    Without ``entries`` the bundled knowledge base is used."""
    matcher = DatasetMatcher(entries) if entries is not None else _default_matcher(str(DEFAULT_KB_PATH))
    return matcher.match(text)


# ---------------------------------------------------------------------------------------------------------
# Mentions in the bundled records (for curators and the coverage test)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    source: str  # "osai-index" or "mot"
    record: str
    field: str
    text: str

    @property
    def is_url(self) -> bool:
        return _looks_like_url(self.text.strip().lower())


def index_datasource_mentions(index_dir: str | Path = DEFAULT_INDEX_DIR) -> list[Mention]:
    """Every link occurrence in the Index records' ``datasources_basemodel``/``datasources_endmodel``."""
    out: list[Mention] = []
    for path in sorted(Path(index_dir).glob("*.yaml")):
        with open(path, encoding="utf-8") as fh:
            rec = yaml.safe_load(fh) or {}
        name = str((rec.get("system") or {}).get("name") or path.stem)
        for fld in INDEX_DATASOURCE_FIELDS:
            links = (rec.get(fld) or {}).get("link")
            for link in _as_tuple(links):
                if link is None or not str(link).strip():
                    continue
                out.append(Mention("osai-index", name, fld, str(link).strip()))
    return out


# Values MOT curators wrote into "Datasets" fields that are licences or remarks, not dataset names.
_MOT_NOT_A_NAME = re.compile(
    r"unlicensed|undisclosed|not include|licen[cs]e|creative commons|datasets with|\bmit\b|apache|"
    r"^cc ?by|^cc0|^odc|^none$|^bsd|^gpl|^isc$|^unlicense$", re.IGNORECASE)


def _mot_name_like(text: str) -> bool:
    return not _MOT_NOT_A_NAME.search(normalize_name(text))


def mot_dataset_mentions(mot_dir: str | Path = DEFAULT_MOT_DIR) -> list[Mention]:
    """Dataset mentions in MOT "Datasets" components: ``component_path`` and ``license_path`` URLs, and the
    names some records write into the ``license`` field ("mc4, cc100, wikipedia, EleutherAI/pile, …")."""
    out: list[Mention] = []
    for path in sorted(Path(mot_dir).glob("*.yml")):
        with open(path, encoding="utf-8") as fh:
            rec = yaml.safe_load(fh) or {}
        release = rec.get("release") or {}
        name = str(release.get("name") or path.stem)
        for comp in release.get("components") or ():
            if comp.get("name") != "Datasets":
                continue
            for fld in ("component_path", "license_path"):
                value = str(comp.get(fld) or "").strip()
                if not value:
                    continue
                if _looks_like_url(value.lower()):
                    # a licence text link (choosealicense.com, spdx.org ...) is not a dataset mention
                    if fld == "license_path" or "choosealicense.com" in value or "spdx.org" in value:
                        continue
                    out.append(Mention("mot", name, fld, value))
                elif _mot_name_like(value):
                    out.append(Mention("mot", name, fld, value))
            lic = str(comp.get("license") or "").strip()
            for part in lic.split(","):
                part = part.strip()
                if part and _mot_name_like(part):
                    out.append(Mention("mot", name, "license", part))
    return out


def miss_reason(text: str) -> str:
    """Why a datasource link is not a dataset entity (a rough classification for curators)."""
    key = normalize_url(text) if _looks_like_url(text.lower()) else ""
    if not key:
        return "name not in the knowledge base"
    host, _, path = key.partition("/")
    if host == "arxiv.org" or key.endswith(".pdf") or "/papers/" in key or "research/publications" in key:
        return "paper or technical report, not a dataset"
    if host == "huggingface.co":
        if path.startswith("datasets/"):
            return "Hugging Face dataset not (yet) curated"
        if path.startswith("collections/"):
            return "Hugging Face collection of several datasets/models"
        if "/discussions/" in path:
            return "discussion thread"
        if path.count("/") == 1 and path.endswith("/datasets"):
            return "organisation's list of datasets"
        return "model card (describes the data, is not a dataset)"
    if host == "github.com":
        return "code repository or its documentation"
    if "blog" in key or "research" in key:
        return "blog post or web page about a model"
    return "web page that is not a dataset landing page"


def coverage(mentions: Iterable[Mention], matcher: DatasetMatcher | None = None,
             urls_only: bool = True) -> tuple[int, int, list[Mention]]:
    """(resolved, total, unresolved mentions) over the mentions (only URL mentions by default)."""
    matcher = matcher or _default_matcher(str(DEFAULT_KB_PATH))
    resolved, total, misses = 0, 0, []
    for m in mentions:
        if urls_only and not m.is_url:
            continue
        total += 1
        if matcher.match(m.text):
            resolved += 1
        else:
            misses.append(m)
    return resolved, total, misses


def unmatched_report(kb_path: str | Path = DEFAULT_KB_PATH, index_dir: str | Path = DEFAULT_INDEX_DIR,
                     mot_dir: str | Path = DEFAULT_MOT_DIR) -> str:
    matcher = DatasetMatcher(load_dataset_kb(kb_path))
    lines: list[str] = []
    for label, mentions in (("Open Source AI Index datasources", index_datasource_mentions(index_dir)),
                            ("MOT Datasets components", mot_dataset_mentions(mot_dir))):
        resolved, total, misses = coverage(mentions, matcher, urls_only=False)
        pct = 100.0 * resolved / total if total else 0.0
        lines.append(f"# {label}: {resolved}/{total} mentions resolve ({pct:.1f}%); "
                     f"{len(misses)} unresolved")
        counts = Counter(m.text for m in misses)
        reasons = Counter(miss_reason(m.text) for m in misses)
        for reason, n in reasons.most_common():
            lines.append(f"#   {n:4d}  {reason}")
        for text, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].lower())):
            lines.append(f"{n:4d}  {text}    [{miss_reason(text)}]")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m loaders.datasets_kb", description=__doc__.split("\n\n")[0])
    ap.add_argument("--unmatched", action="store_true",
                    help="print Index/MOT dataset links and names that match no dataset, with counts")
    ap.add_argument("--kb", default=str(DEFAULT_KB_PATH), help="dataset knowledge base YAML")
    ap.add_argument("--index-dir", default=str(DEFAULT_INDEX_DIR))
    ap.add_argument("--mot-dir", default=str(DEFAULT_MOT_DIR))
    ap.add_argument("--turtle", action="store_true", help="print the knowledge base as Turtle")
    args = ap.parse_args(argv)
    if args.unmatched:
        sys.stdout.write(unmatched_report(args.kb, args.index_dir, args.mot_dir) + "\n")
        return 0
    if args.turtle:
        kb = load_kb(args.kb)
        g = dataset_graph(kb, Minter())
        sys.stdout.write(g.serialize(format="turtle"))
        return 0
    kb = load_kb(args.kb)
    print(f"{len(kb.entries)} datasets in {args.kb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
