"""The web wing: what people read. It owns the HTML/JSON/RDF pages (models, definitions, licenses,
datasets, validation) and the SPARQL queries behind them, the DCAT catalog and VoID export, the query editor
page with its gallery of example queries (``examples/*.rq``), templates and static files. It may import every
wing below it (``store``, ``assess``, ``ingest``, ``sparql``), ``loaders`` and ``server.resources``; only the
top level (``app``, ``cli``) imports it."""
