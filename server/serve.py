"""``openness serve``: fill an empty store with the bundled data (first start), then run the HTTP app."""

from __future__ import annotations

import logging
import os
import time

import uvicorn

from loaders.vocab import Minter
from server.assess.run_graphs import current_run
from server.settings import Settings
from server.store import open_store

log = logging.getLogger("openness.serve")


class ServeError(Exception):
    """A setting combination the server refuses to start with."""


def check_serve_settings(settings: Settings) -> None:
    """Several web processes cannot share the embedded store's single writer: they serve it read-only."""
    if settings.web_workers > 1 and not settings.remote and settings.token:
        raise ServeError(f"OPENNESS_WEB_WORKERS={settings.web_workers} serves the embedded store read-only, "
                         "but OPENNESS_TOKEN enables writes (/update, /store), which need one web process: "
                         "unset OPENNESS_TOKEN or set OPENNESS_WEB_WORKERS=1")


def web_process_app():
    """The app of one of several web processes (uvicorn ``--workers``). Each process reads its settings
    again from the environment and ``openness.env`` (``run_server`` puts the store there, the one setting
    the command line changes) and opens its own read-only handle and query workers."""
    from server.app import create_app

    return create_app(Settings())


def prepare_store(settings: Settings) -> None:
    """Load and assess the bundled data if the store has no named graphs yet (first start)."""
    store = open_store(settings)
    try:
        from server.assess.run import assess_all
        from server.ingest.loading import load_bundled

        graphs = len(store.named_graphs())  # 100k+ at scale: listed once
        if graphs:
            log.info("store at %s holds %d named graphs", settings.store, graphs)
            current = current_run(store, Minter(settings.base_iri))
            if current is None or current.digest is None:
                log.info("no complete stored verdicts (an interrupted first start, a store from a version "
                         "before run graphs, or a current run without its digest): assessing every record")
                assess_all(store, settings)
            return

        log.info("empty store at %s: loading the bundled sources (first start)", settings.store)
        started = time.monotonic()
        load_bundled(store, settings)
        log.info("loaded %d quads in %.1f s; assessing every record", store.quad_count(),
                 time.monotonic() - started)
        started = time.monotonic()
        assess_all(store, settings)
        log.info("assessed in %.1f s", time.monotonic() - started)
        if store.compact_if_written(settings.compact_after):
            log.info("compacted the store")
    finally:
        store.close()


def run_server(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Prepare the store, then serve the app with uvicorn until interrupted.

    The store is closed after preparation and reopened by the app's lifespan, whose query workers open
    it read-only in their own processes."""
    from server.app import create_app

    check_serve_settings(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not settings.remote:
        prepare_store(settings)
    log.info("serving on http://%s:%d/sparql (query timeout %g s, writes %s, %d web process%s)", host, port,
             settings.query_timeout, "enabled" if settings.token else "disabled", settings.web_workers,
             "es" if settings.web_workers > 1 else "")
    # http/loop "auto" pick httptools and uvloop (uvicorn[standard]) when installed: ~2x the requests
    # per second of the pure-Python h11 parser on asyncio's loop.
    options = {"host": host, "port": port, "log_level": "info", "proxy_headers": False,
               "access_log": settings.access_log, "http": "auto", "loop": "auto"}
    if settings.web_workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # uvicorn starts each web process afresh: the store a command-line flag chose travels in the environment
    os.environ["OPENNESS_STORE"] = str(settings.store)
    uvicorn.run("server.serve:web_process_app", factory=True, workers=settings.web_workers, **options)
