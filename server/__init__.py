"""The server: the store, the assessment, the SPARQL endpoint, the web pages and the command line.

One folder per step of the flow (docs/architecture.md): ``store`` (where the graph lives), ``ingest``
(sources into the store, dumps out), ``assess`` (definitions, engine, verdict runs, SHACL), ``sparql`` (the
SPARQL 1.1 protocol endpoint) and ``web`` (pages, catalog, query editor). The top level assembles them:
``app`` (the HTTP app), ``serve`` (the server processes), ``cli`` (the ``openness`` command), ``settings``
and ``resources`` (where the ontology and shapes are). Imports run one way; ``tests/test_layout.py`` holds
the rule."""
