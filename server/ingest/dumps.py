"""Dumps of the whole graph (``openness export --format nquads|turtle|jsonld`` and ``/dump/{fmt}``): every
quad as the store holds it. The catalog descriptions (DCAT, VoID) are the web wing's (``web.catalog``)."""

from __future__ import annotations

import pyoxigraph as ox

from server.store import GraphStore

DUMP_FORMATS = {"nquads": ox.RdfFormat.N_QUADS, "turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}


def dump_bytes(store: GraphStore, fmt: str) -> bytes:
    """The graph in one of ``DUMP_FORMATS`` (a triple format serialises the union graph)."""
    return store.dump(DUMP_FORMATS[fmt])
