"""The store wing: where the graph lives. It owns the ``GraphStore`` interface (``base``), the embedded
Oxigraph store (``oxigraph``), the remote SPARQL 1.1 store (``remote``), large graphs as N-Quads text
(``nquads``) and :func:`open_store`, which picks one from the settings. It imports nothing of ours, neither
another wing nor ``loaders``: every other wing builds on it, so it must build on none of them."""

from __future__ import annotations

from pathlib import Path

from server.store.base import (
    SAFE_IRI,
    GraphStore,
    Row,
    StoreError,
    StoreLocked,
    Term,
    UnsafeIRI,
    content_digest,
    graph_quads,
    query_iri,
    to_ox,
    to_rdflib,
)
from server.store.oxigraph import OxigraphStore

__all__ = ["SAFE_IRI", "GraphStore", "OxigraphStore", "Row", "StoreError", "StoreLocked", "Term", "UnsafeIRI",
           "content_digest", "graph_quads", "open_store", "query_iri", "to_ox", "to_rdflib"]


def open_store(settings, *, read_only: bool = False, reader: bool = False) -> GraphStore:
    """The store the settings choose: a remote SPARQL 1.1 store if OPENNESS_SPARQL_URL is set, else the
    embedded Oxigraph store at OPENNESS_STORE. A ``reader`` (a command that only reads) whose embedded
    store is held by its writer (``openness serve``) gets a read-only view of it, as of now, instead of
    :class:`StoreLocked`."""
    if settings.remote:
        from server.store.remote import RemoteStore  # httpx and its client only when a remote store is used

        return RemoteStore.from_settings(settings)
    try:
        return OxigraphStore(Path(settings.store), read_only=read_only)
    except StoreLocked:
        if not reader:
            raise
        return OxigraphStore(Path(settings.store), read_only=True)
