"""AI bills of materials: a model's artifacts, licenses, training datasets, producer and verdicts written as an
SPDX 3.0.1 AI/Dataset BOM (``spdx3``) or a CycloneDX 1.6 ML-BOM (``cyclonedx``). ``subject`` reads what the
graph says about one subject (a record today) into plain data; ``spdx3`` and ``cyclonedx`` turn that data
and a verdict object into a document, pure functions that do not touch the store; ``export`` ties them
together for the command line and the web pages. Reading BOMs back is the loaders' (``loaders.spdx3_bom``,
``loaders.cyclonedx_bom``). This wing may import ``loaders``, ``server.store``, ``server.assess``,
``server.ingest`` and ``server.resources``; ``server.web`` and ``server.cli`` import it."""
