"""Cross-source links, recomputed after every load: ``owl:sameAs`` between records of different sources
that name the same Hugging Face repository or the same release name, ``og:sameFamilyAs`` for a shared
family key. They live in one graph of their own (``Minter.links_graph``), replaced whole."""

from __future__ import annotations

import re

import rdflib
from rdflib import OWL, Literal, URIRef

from loaders.vocab import OG, Minter
from server.store import GraphStore

_SIZE = re.compile(r"^(\d+(\.\d+)?[mbk]|\d+x\d+[bm]|v\d+(\.\d+)*)$")
_VARIANT = {"hf", "base", "instruct", "chat", "it", "preview"}


def name_key(name: str) -> str:
    """Release identity: case, spaces, '_' and '-' ignored ('Llama-2-7B' == 'llama 2 7b')."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def family_key(name: str) -> str:
    """Family identity: the name without size, version-suffix and variant tokens ('Llama-2-7B-chat' ->
    'llama-2'); a key that ends up as a bare word or number is too weak to link on, so ''."""
    tokens = [t for t in re.split(r"[\s_\-]+", name.strip().lower()) if t]
    kept = [t for t in tokens if not _SIZE.match(t) and t not in _VARIANT]
    key = "-".join(kept)
    return key if len(key) >= 4 else ""


def _name_tokens(name: str) -> set[str]:
    return {t for t in re.split(r"[\s_\-.]+", name.strip().lower()) if t and not _SIZE.match(t) and not t.isdigit()}


def plausible_alias(title: str, alias: str) -> bool:
    """An alternate name is used for linking only if it shares a word with the title: the Index sometimes
    swaps basemodelname and endmodelname (SynLogic's 'end model' is 'Qwen2.5-32B'), and linking on such
    a name would make a fine-tune the same model (or family) as its base."""
    return bool(_name_tokens(title) & _name_tokens(alias))


LINK_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
SELECT ?m ?source ?title ?hf ?alt WHERE {
  ?m a og:ModelRelease ; og:source ?source ; dct:title ?title .
  OPTIONAL { ?m og:huggingFaceId ?hf }
  OPTIONAL { ?m schema:alternateName ?alt }
}"""


def link_records(store: GraphStore, minter: Minter) -> int:
    """Recompute the links graph. owl:sameAs only between records of different sources that name the same
    Hugging Face repository or the same release name; og:sameFamilyAs for a shared family key."""
    records: dict[str, dict] = {}
    for row in store.select(LINK_QUERY):
        entry = records.setdefault(row["m"].value, {"source": row["source"].value, "names": set(), "hf": set()})
        entry["names"].add(row["title"].value)
        if "alt" in row and plausible_alias(row["title"].value, row["alt"].value):
            entry["names"].add(row["alt"].value)
        if "hf" in row:
            entry["hf"].add(row["hf"].value.lower())
    same: set[tuple[str, str]] = set()
    family: set[tuple[str, str]] = set()
    by_release: dict[str, list[str]] = {}
    by_family: dict[str, list[str]] = {}
    for iri, entry in records.items():
        keys = {f"hf:{h}" for h in entry["hf"]} | {f"name:{name_key(n)}" for n in entry["names"]}
        for key in keys:
            by_release.setdefault(key, []).append(iri)
        for fam in {family_key(n) for n in entry["names"]} - {""}:
            by_family.setdefault(fam, []).append(iri)
    for members in by_release.values():
        _pairs(members, records, same)
    for members in by_family.values():
        _pairs(members, records, family)
    family -= same
    graph = rdflib.Graph()
    for a, b in same:
        graph.add((URIRef(a), OWL.sameAs, URIRef(b)))
        graph.add((URIRef(b), OWL.sameAs, URIRef(a)))
    for a, b in family:
        graph.add((URIRef(a), OG.sameFamilyAs, URIRef(b)))
        graph.add((URIRef(b), OG.sameFamilyAs, URIRef(a)))
    graph.add((URIRef(minter.links_graph), OG.loaderVersion, Literal("links-0.1.0")))
    store.replace_graphs({minter.links_graph: graph})
    return len(same) + len(family)


def _pairs(members: list[str], records: dict[str, dict], out: set[tuple[str, str]]) -> None:
    """Pairs of distinct records from different sources (a source never links to itself: its records are
    distinct releases by construction)."""
    unique = sorted(set(members))
    for i, a in enumerate(unique):
        for b in unique[i + 1:]:
            if records[a]["source"] != records[b]["source"]:
                out.add((a, b))
