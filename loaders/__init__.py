"""Loaders: one module per source format. Each is pure: it reads one record and returns an rdflib graph
in the Openness Graph ontology, or raises :class:`loaders.errors.RecordError`. No store, no HTTP."""

LOADER_VERSION = "0.2.0"
