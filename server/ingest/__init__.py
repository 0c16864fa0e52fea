"""The ingest wing: sources into the store, and the whole graph back out. It owns loading (bundled sources,
files and folders, in parallel; the reference graphs; the cross-source ``owl:sameAs`` links), the record
listing behind ``openness models``, and the dumps. It may import ``loaders`` (which turn a record into RDF),
``server.store`` and ``server.resources``; never ``assess``, ``sparql`` or ``web``."""
