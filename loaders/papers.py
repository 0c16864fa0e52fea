"""Papers as outbound links: an arXiv or DOI URL on a paper-like artifact becomes a canonical identifier
(``dct:identifier``) and ``schema:sameAs`` links to the arXiv abstract page and the DOI resolver, so
catalogs and citation graphs can join on them whichever URL form a record used (abs, pdf, versioned)."""

from __future__ import annotations

import re

from rdflib import Literal, URIRef

from loaders.vocab import DCT, SDO

# Paper-like artifact kinds whose links name the paper itself (not, say, a code repository).
PAPER_KINDS = frozenset({"research-paper", "technical-report", "preprint"})

_ARXIV = re.compile(r"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/"
                    r"(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?:\.pdf)?/?(?:[?#].*)?$")
_DOI = re.compile(r"^https?://(?:dx\.)?doi\.org/(?P<doi>10\.\d{4,9}/\S+?)/?$")


def paper_identifiers(url: str) -> list[tuple[URIRef, URIRef | Literal]]:
    """(predicate, object) pairs identifying the paper at ``url``; empty when it is neither arXiv nor DOI.

    Every arXiv paper also has a DataCite DOI, 10.48550/arXiv.{id}, so arXiv links get both."""
    url = url.strip()
    if match := _ARXIV.match(url):
        arxiv_id = match["id"]
        return [(DCT.identifier, Literal(f"arXiv:{arxiv_id}")),
                (SDO.sameAs, URIRef(f"https://arxiv.org/abs/{arxiv_id}")),
                (SDO.sameAs, URIRef(f"https://doi.org/10.48550/arXiv.{arxiv_id}"))]
    if match := _DOI.match(url):
        doi = match["doi"]
        return [(DCT.identifier, Literal(f"doi:{doi}")), (SDO.sameAs, URIRef(f"https://doi.org/{doi}"))]
    return []


def add_paper_links(graph, artifact: URIRef, kind_slug: str, urls: list[str]) -> None:
    """Add the identifiers of each arXiv/DOI URL to a paper-like artifact."""
    if kind_slug not in PAPER_KINDS:
        return
    for url in urls:
        for predicate, obj in paper_identifiers(url):
            graph.add((artifact, predicate, obj))
