"""Curated openness claims (``data/claims/openness-claims.yaml``) -> RDF: one ``og:OpennessClaim`` per public
statement that a model or family is "open source", about a record's release or family, with its source."""

from __future__ import annotations

import hashlib

from rdflib import RDF, Literal, URIRef

from loaders.errors import RecordError
from loaders.record import is_http_url, issued_literal, new_graph, parse_yaml
from loaders.vocab import DCT, OG, Minter

SCOPES = ("release", "family")


def load_claims(text: str, file: str, minter: Minter):
    """The claims file as an rdflib graph; a malformed entry raises RecordError naming it and what to fix."""
    data, _tree = parse_yaml(text, file)
    entries = data.get("claims") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RecordError(file, "expected a 'claims:' list", 1)
    graph = new_graph()
    for index, entry in enumerate(entries):
        where = f"claims[{index}]"
        if not isinstance(entry, dict):
            raise RecordError(file, f"{where} must be a mapping")
        missing = [k for k in ("about", "scope", "claimant", "source", "quote") if not entry.get(k)]
        if missing:
            raise RecordError(file, f"{where} needs {', '.join(missing)}")
        if entry["scope"] not in SCOPES:
            raise RecordError(file, f"{where}: scope must be 'release' or 'family', not {entry['scope']!r}")
        if not is_http_url(str(entry["source"])):
            raise RecordError(file, f"{where}: source must be the http(s) URL where the claim was made")
        tag = hashlib.sha256(f"{entry['source']}\x1f{entry['quote']}".encode()).hexdigest()[:12]
        claim = URIRef(f"{minter.base}claims/{tag}")
        graph.add((claim, RDF.type, OG.OpennessClaim))
        graph.add((claim, OG.claimAbout, URIRef(minter.record(str(entry["about"])))))
        graph.add((claim, OG.claimScope, Literal(entry["scope"])))
        graph.add((claim, DCT.creator, Literal(str(entry["claimant"]))))
        graph.add((claim, DCT.source, URIRef(str(entry["source"]).strip())))
        graph.add((claim, OG.quote, Literal(str(entry["quote"]).strip(), lang="en")))
        if (date := issued_literal(entry.get("date"))) is not None:
            graph.add((claim, DCT.date, date))
    return graph
