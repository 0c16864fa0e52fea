"""Namespaces and IRI minting shared by every loader, the store and the assessment engine.

Terms fixed by the ontology live under ``STATIC`` (they never depend on settings); record-level IRIs
are minted under the operator's base IRI (``OPENNESS_BASE_IRI``) so a deployment can serve its own.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from rdflib import Namespace, URIRef
from rdflib.namespace import DCAT as _DCAT2  # noqa: F401  (DCAT 2 in rdflib; we declare DCAT 3 below)

STATIC = "https://w3id.org/openness-graph/"
DEFAULT_BASE_IRI = STATIC

class CachedNamespace(Namespace):
    """A Namespace whose terms are built once: ``OG.hasArtifact`` makes (and validates) a new URIRef on
    every access otherwise, which the loaders do hundreds of thousands of times in a load."""

    _terms: dict[tuple[str, str], URIRef] = {}

    def term(self, name: str) -> URIRef:
        key = (str(self), name if isinstance(name, str) else "")
        found = CachedNamespace._terms.get(key)
        if found is None:
            found = CachedNamespace._terms[key] = URIRef(key[0] + key[1])
        return found

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("__"):  # ignore any special Python names!
            raise AttributeError
        return self.term(name)


OG = CachedNamespace(STATIC + "ontology#")

# The reference graphs every deployment loads (named by the static base, not the deployment's base IRI).
ONTOLOGY_GRAPH = STATIC + "graph/ontology"
LICENSES_GRAPH = STATIC + "graph/licenses"
DATASETS_GRAPH = STATIC + "graph/datasets"
DEFINITIONS_GRAPH = STATIC + "graph/definitions"
CLAIMS_GRAPH = STATIC + "graph/claims"
KIND = CachedNamespace(STATIC + "kind/")
FREEDOM = Namespace(STATIC + "freedom/")
RESTRICTION = Namespace(STATIC + "restriction/")
REASON = Namespace(STATIC + "reason/")
VERDICT = Namespace(STATIC + "verdict/")
DATACLASS = Namespace(STATIC + "data-class/")
GRADE = CachedNamespace(STATIC + "grade/")
LICSTATE = CachedNamespace(STATIC + "license-state/")
AVAIL = CachedNamespace(STATIC + "availability/")
DEFN = Namespace(STATIC + "definitions/")
FLAG = Namespace(STATIC + "flag/")
OGLIC = Namespace(STATIC + "licenses/")

SPDX_LICENSE = Namespace("http://spdx.org/licenses/")
SPDX_EXP = Namespace("https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/")
DCAT = CachedNamespace("http://www.w3.org/ns/dcat#")
DCT = CachedNamespace("http://purl.org/dc/terms/")
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
CC = Namespace("http://creativecommons.org/ns#")
PROV = CachedNamespace("http://www.w3.org/ns/prov#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
SDO = CachedNamespace("https://schema.org/")
FAIR4ML = Namespace("https://w3id.org/fair4ml#")
VOID = Namespace("http://rdfs.org/ns/void#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SH = Namespace("http://www.w3.org/ns/shacl#")
WD = Namespace("http://www.wikidata.org/entity/")
QB = CachedNamespace("http://purl.org/linked-data/cube#")

PREFIXES: dict[str, str] = {
    "og": str(OG),
    "kind": str(KIND),
    "freedom": str(FREEDOM),
    "restriction": str(RESTRICTION),
    "reason": str(REASON),
    "verdict": str(VERDICT),
    "dataclass": str(DATACLASS),
    "grade": str(GRADE),
    "licstate": str(LICSTATE),
    "avail": str(AVAIL),
    "defn": str(DEFN),
    "flag": str(FLAG),
    "oglic": str(OGLIC),
    "spdx": str(SPDX_LICENSE),
    "spdxexp": str(SPDX_EXP),
    "dcat": str(DCAT),
    "dct": str(DCT),
    "odrl": str(ODRL),
    "cc": str(CC),
    "prov": str(PROV),
    "skos": str(SKOS),
    "schema": str(SDO),
    "fair4ml": str(FAIR4ML),
    "void": str(VOID),
    "sh": str(SH),
    "wd": str(WD),
    "qb": str(QB),
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def bind_prefixes(graph) -> None:
    """Bind our prefixes on an rdflib graph so serialisations are readable."""
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True)


@lru_cache(maxsize=1 << 16)  # an assessment run mints each record's IRIs ~20 times, one after another
def path_segment(text: str) -> str:
    """Percent-encode a record name for use as one IRI path segment (names contain spaces, '+', '()')."""
    return quote(text, safe="-._~()+!*'")


class Minter:
    """Mints the IRIs of one deployment from its base IRI (settings), so loaders stay pure functions."""

    def __init__(self, base_iri: str = DEFAULT_BASE_IRI) -> None:
        self.base = base_iri if base_iri.endswith("/") else base_iri + "/"

    @property
    def records_prefix(self) -> str:
        """What every minted record IRI begins with."""
        return f"{self.base}models/"

    def record(self, record_id: str) -> str:
        source, _, name = record_id.partition("/")
        return f"{self.records_prefix}{source}/{path_segment(name)}"

    def record_graph(self, record_id: str) -> str:
        source, _, name = record_id.partition("/")
        return f"{self.base}graph/{source}/{path_segment(name)}"

    def artifact(self, record_id: str, slug: str) -> str:
        return f"{self.record(record_id)}#{path_segment(slug)}"

    def organization(self, name: str) -> str:
        return f"{self.base}organizations/{path_segment(slugify(name))}"

    def hub_model(self, repo_id: str) -> str:
        """The placeholder node of a Hugging Face Hub model named as a parent (``base_model``), loaded or not:
        ``{base}hf/{org}/{name}``, each segment lower-cased (Hub ids are case-insensitive) and percent-encoded.
        Join it to a loaded record through og:huggingFaceId (compared case-insensitively)."""
        return f"{self.base}hf/" + "/".join(path_segment(part.lower()) for part in repo_id.strip().split("/"))

    def dataset(self, dataset_id: str) -> str:
        return f"{self.base}datasets/{path_segment(dataset_id)}"

    def assessment(self, record_id: str, definition_id: str) -> str:
        return f"{self.record(record_id)}/assessments#{definition_id}"

    def release(self, release_id: str) -> str:
        return f"{self.base}releases/{path_segment(release_id)}"

    def family(self, family_id: str) -> str:
        return f"{self.base}families/{path_segment(family_id)}"

    @property
    def assessments_graph(self) -> str:
        return f"{self.base}graph/assessments"

    @property
    def links_graph(self) -> str:
        return f"{self.base}graph/links"

    def record_id_from_iri(self, iri: str) -> str | None:
        """Inverse of :meth:`record` for IRIs minted by this deployment."""
        from urllib.parse import unquote

        prefix = f"{self.base}models/"
        if not iri.startswith(prefix):
            return None
        rest = iri[len(prefix):].split("#", 1)[0]
        source, _, name = rest.partition("/")
        if not source or not name or "/" in name:
            return None
        return f"{source}/{unquote(name)}"


def slugify(text: str) -> str:
    """Lower-case, hyphen-separated slug: 'Allen Institute for AI' -> 'allen-institute-for-ai'."""
    out = []
    for ch in text.strip().lower():
        out.append(ch if ch.isalnum() else "-")
    slug = "-".join(part for part in "".join(out).split("-") if part)
    return slug or "unnamed"
