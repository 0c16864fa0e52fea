"""``openness export``: the whole graph as a dump, or its DCAT catalog / VoID description."""

from __future__ import annotations

import pyoxigraph as ox

from server.store import GraphStore

DUMP_FORMATS = {"nquads": ox.RdfFormat.N_QUADS, "turtle": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}


def export_bytes(store: GraphStore, settings, fmt: str) -> bytes:
    if fmt in DUMP_FORMATS:
        return store.dump(DUMP_FORMATS[fmt])
    from server.catalog import catalog_graph, void_graph

    graph = catalog_graph(store, settings) if fmt == "dcat" else void_graph(store, settings)
    return graph.serialize(format="turtle").encode()
