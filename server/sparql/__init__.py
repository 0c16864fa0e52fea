"""The sparql wing: the SPARQL 1.1 protocol endpoint (``/sparql``, ``/update``, ``/store``). It owns the
endpoint, the pool of query worker processes that enforce timeouts and row caps, the checks on query text,
the proxy to a remote store, the Service Description and VoID, and the ``openness query`` printer. It may
import ``loaders`` and ``server.store``; never ``assess``, ``ingest`` or ``web`` (the query editor page is
handed to it by the app)."""
