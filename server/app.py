"""The HTTP application: ``create_app()`` builds it with its own settings and store (no globals)."""

from __future__ import annotations

from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from server.settings import Settings
from server.sparql.endpoint import error_response, negotiate, sparql_query
from server.sparql.endpoint import router as sparql_router
from server.sparql.query_pool import make_runner
from server.sparql.service_description import VOID_MEDIA_TYPES, void_description
from server.store import GraphStore, OxigraphStore, open_store
from server.web import listing, query_page
from server.web.pages import router as pages_router
from server.web.release_pages import router as release_router

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeadersMiddleware:
    """Adds the security headers to every response (pure ASGI, so streaming is untouched)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SparqlQueryShortcut:
    """Hands ``GET /sparql`` straight to the endpoint function, past FastAPI's routing, dependency and
    exception layers, which cost about a fifth of a point lookup's web-process CPU (measured). Innermost of
    the middlewares, so security headers, CORS and the body limit still apply; every other request, and
    HEAD, goes through FastAPI as usual."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if (scope["type"] == "http" and scope["method"] == "GET"
                and scope["path"] == scope.get("root_path", "") + "/sparql"):
            response = await sparql_query(Request(scope, receive))
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Answers 413 for request bodies over ``limit`` bytes, by Content-Length or while streaming."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        message = f"request body larger than {self.limit} bytes (OPENNESS_MAX_BODY_BYTES)\n"
        has_body = False
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if value.isdigit() and int(value) > self.limit:
                    return await error_response(413, message.strip())(scope, receive, send)
                has_body = value != b"0"
            elif name == b"transfer-encoding":
                has_body = True
        if not has_body:  # no body to count (RFC 9112 §6.3): most GETs skip the wrappers below
            return await self.app(scope, receive, send)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge
            return msg

        async def tracking_send(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await error_response(413, message.strip())(scope, receive, send)


async def _quad_count(state) -> int:
    """The store's quad count, counted once per write generation of the embedded store (every write goes
    through this server, which bumps it): counting 11M quads takes seconds, too long for a health probe. A
    remote store, which can change behind our back, is counted each time."""
    store = state.store
    generation = getattr(state, "store_generation", 0) if isinstance(store, OxigraphStore) else None
    cached = getattr(state, "quad_count_cache", None)
    if generation is not None and cached is not None and cached[0] == generation:
        return cached[1]
    count = await anyio.to_thread.run_sync(store.quad_count)
    if generation is not None:
        state.quad_count_cache = (generation, count)
    return count


def _store_kind(store: GraphStore) -> str:
    if isinstance(store, OxigraphStore):
        return "oxigraph" if store.path is not None else "oxigraph-memory"
    return type(store).__name__


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """The application. ``store`` is opened from ``settings`` in the lifespan unless injected (then the
    caller keeps ownership and closes it)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owned = store is None
        # several web processes share the embedded store read-only (check_serve_settings refuses writes)
        app.state.store = open_store(settings, read_only=settings.web_workers > 1) if owned else store
        app.state.query_runner = make_runner(app.state.store, settings)
        listing.warm(app.state)  # each web process builds its own listing index, before the first reader asks
        try:
            yield
        finally:
            listing.stop_warmers(app.state)
            if app.state.query_runner is not None:
                app.state.query_runner.close()
            from server.sparql.proxy import close_proxy

            close_proxy(app)  # the /sparql proxy's connections to a remote store
            if owned:
                app.state.store.close()

    app = FastAPI(
        title="Openness Graph",
        summary="A knowledge graph of AI models' openness, with a SPARQL 1.1 endpoint.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.query_runner = None
    app.state.query_page = query_page.render_query_page  # GET /sparql from a browser
    app.state.after_write = lambda: listing.warm(app.state)  # a write makes the listing index stale: rebuild it

    app.include_router(sparql_router)
    app.include_router(pages_router)
    app.include_router(release_router)

    @app.get("/health", tags=["service"], summary="Liveness and size of the store")
    async def health(request: Request) -> JSONResponse:
        """Status, number of quads and store kind."""
        current = request.app.state.store
        try:
            quads = await _quad_count(request.app.state)
        except Exception as exc:  # noqa: BLE001  (health reports, never raises)
            return JSONResponse({"status": "error", "message": str(exc), "store": _store_kind(current)}, 503)
        runner = request.app.state.query_runner
        return JSONResponse({"status": "ok", "quads": quads, "store": _store_kind(current),
                             "query_runner": getattr(runner, "kind", None),
                             "queries": runner.status() if runner is not None else None,
                             "listing": listing.status(request.app.state)})

    @app.get("/.well-known/void", tags=["service"], summary="VoID description of the dataset",
             responses={200: {"content": {t: {} for t in VOID_MEDIA_TYPES}}})
    async def void(request: Request) -> Response:
        """The dataset as a ``void:Dataset`` (Turtle, JSON-LD or N-Triples by Accept)."""
        media = negotiate(request.headers.get("accept"), list(VOID_MEDIA_TYPES))
        if media is None:
            return error_response(406, "VoID is available as " + ", ".join(VOID_MEDIA_TYPES))
        current = request.app.state.store
        quads = await _quad_count(request.app.state)
        graphs = len(await anyio.to_thread.run_sync(current.named_graphs))
        base = str(request.base_url).rstrip("/")
        graph = void_description(base_iri=settings.base_iri, sparql_url=base + "/sparql",
                                 triples=quads, graphs=graphs)
        return Response(graph.serialize(format=VOID_MEDIA_TYPES[media], encoding="utf-8"),
                        media_type=media, headers={"Vary": "Accept"})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(query_page.render_docs_page(app.openapi_url or "/openapi.json"))

    app.mount("/static/yasgui", StaticFiles(directory=query_page.YASGUI_DIR, check_dir=False), name="yasgui")
    app.mount("/static/swagger-ui", StaticFiles(directory=query_page.SWAGGER_DIR, check_dir=False), name="swagger")
    app.mount("/static/app", StaticFiles(directory=query_page.STATIC_DIR), name="app-static")

    app.add_middleware(SparqlQueryShortcut)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials="*" not in settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE", "HEAD"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
        )
    app.add_middleware(SecurityHeadersMiddleware)
    return app
