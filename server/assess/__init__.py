"""The assess wing: how open a record is, by every definition. It owns the definitions table (every
requirement with its clause), the engine that evaluates it on facts read from the store, MOF exactly as the
MOT computes it, the run graphs that hold stored verdicts behind a pointer, the SHACL shapes generated from
the same table with pySHACL reports, and the validation of one record without storing it. It may import
``loaders``, ``server.store`` and ``server.resources``; never ``ingest``, ``sparql`` or ``web``."""
