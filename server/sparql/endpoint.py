"""The SPARQL 1.1 endpoints: Query Protocol at ``/sparql``, Update at ``/update``, Graph Store HTTP
Protocol at ``/store``.

Protocol references: https://www.w3.org/TR/sparql11-protocol/ (query §2.1, update §2.2) and
https://www.w3.org/TR/sparql11-http-rdf-update/. Queries run through the app's query runner
(:mod:`server.sparql.query_pool`), which enforces the timeout and the row cap and serialises with pyoxigraph.
Writes are refused (403) unless ``OPENNESS_TOKEN`` is set, then need ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

import anyio
import pyoxigraph as ox
import rdflib
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse
from starlette.datastructures import URL

from server.sparql.query_pool import (
    DEFAULT_GRAPH,
    RDF_FORMATS,
    RESULTS_FORMATS,
    QueryError,
    QueryJob,
)
from server.sparql.query_text import (
    MAX_NESTING,
    RemoteAccessRefused,
    add_using_clauses,
    check_remote_access,
    has_query_dataset_clause,
    has_update_dataset_clause,
    nesting_depth,
)
from server.sparql.service_description import SD_MEDIA_TYPES, service_description
from server.store import StoreError, to_rdflib

router = APIRouter(tags=["SPARQL"])


def _route(path: str, methods: list[str], **kwargs):
    """Register the handler once per method, so each OpenAPI operation gets its own id."""
    def register(func):
        for method in methods:
            router.add_api_route(path, func, methods=[method], name=f"{func.__name__}_{method.lower()}",
                                 **kwargs)
        return func
    return register

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"

# Aliases clients send in Accept, mapped to the media type we answer with.
RESULTS_ALIASES = {"application/json": "application/sparql-results+json",
                   "application/xml": "application/sparql-results+xml",
                   "text/xml": "application/sparql-results+xml"}
RDF_ALIASES = {"application/x-turtle": "text/turtle", "text/plain": "application/n-triples",
               "application/json": "application/ld+json", "application/xml": "application/rdf+xml",
               "text/xml": "application/rdf+xml"}
RESULTS_OFFER = list(RESULTS_FORMATS) + list(RESULTS_ALIASES)
RDF_OFFER = [t for t in RDF_FORMATS if t not in ("application/n-quads", "application/trig")] + list(RDF_ALIASES)

# ``format=`` convenience parameter (overrides Accept).
FORMAT_PARAM = {
    "json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
    "csv": "text/csv", "tsv": "text/tab-separated-values",
    "turtle": "text/turtle", "ttl": "text/turtle", "ntriples": "application/n-triples",
    "nt": "application/n-triples", "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml",
}
WRITE_DISABLED = ("writes are disabled on this server: set OPENNESS_TOKEN (or `token` in openness.env) "
                  "to enable /update and /store, then send 'Authorization: Bearer <token>'")


class ProtocolError(Exception):
    """A request that breaks the protocol; answered as text/plain with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> PlainTextResponse:
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


# ---------------------------------------------------------------------------------------------------
# Content negotiation (RFC 9110 §12.5.1)


def _parse_accept(header: str) -> list[tuple[str, str, float]]:
    ranges = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        if media == "*":
            media = "*/*"
        if "/" not in media:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        main, _, sub = media.partition("/")
        ranges.append((main, sub, max(0.0, min(q, 1.0))))
    return ranges


def negotiate(accept_header: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type the client prefers, or None if it accepts none of them.

    Each offer takes the q-value of the most specific matching range (``type/sub`` over ``type/*``
    over ``*/*``); q=0 refuses it; ties go to the earlier offer. No Accept header accepts anything."""
    return _negotiate(accept_header, tuple(offered))


@functools.lru_cache(maxsize=512)  # clients repeat their Accept header: parse each one once
def _negotiate(accept_header: str | None, offered: tuple[str, ...]) -> str | None:
    if not accept_header or not accept_header.strip():
        return offered[0] if offered else None
    ranges = _parse_accept(accept_header)
    best, best_q = None, 0.0
    for offer in offered:
        o_main, _, o_sub = offer.lower().partition("/")
        quality, specificity = None, -1
        for main, sub, q in ranges:
            if main == o_main and sub == o_sub:
                spec = 2
            elif main == o_main and sub == "*":
                spec = 1
            elif main == "*" and sub == "*":
                spec = 0
            else:
                continue
            if spec > specificity:
                quality, specificity = q, spec
        if quality is not None and quality > best_q:
            best, best_q = offer, quality
    return best


def wants_html(accept_header: str | None) -> bool:
    """True when a browser is asking (text/html preferred over every RDF type we offer)."""
    return negotiate(accept_header, list(SD_MEDIA_TYPES) + ["text/html"]) == "text/html"


# ---------------------------------------------------------------------------------------------------
# Request parsing


@dataclass
class Operation:
    query: str | None
    update: str | None
    params: dict[str, list[str]]


def _media_type(request: Request) -> tuple[str, dict[str, str]]:
    raw = request.headers.get("content-type", "")
    fields = [f.strip() for f in raw.split(";")]
    params = {}
    for f in fields[1:]:
        k, _, v = f.partition("=")
        params[k.strip().lower()] = v.strip().strip('"').lower()
    return fields[0].lower(), params


def _decode(body: bytes, charset: str | None) -> str:
    if charset and charset not in ("utf-8", "utf8", "us-ascii"):
        raise ProtocolError(415, f"charset {charset} is not supported: send UTF-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"the body is not valid UTF-8: {exc}") from None


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


async def read_operation(request: Request, direct_type: str) -> Operation:
    """Query-string, form and direct-POST parameters merged (SPARQL 1.1 Protocol §2.1 / §2.2)."""
    params = _multi(parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True))
    if request.method == "GET":
        return Operation(_one(params, "query"), _one(params, "update"), params)
    media, mparams = _media_type(request)
    body = await request.body()
    if media == FORM:
        form = _multi(parse_qsl(_decode(body, mparams.get("charset")), keep_blank_values=True))
        for k, v in form.items():
            params.setdefault(k, []).extend(v)
        return Operation(_one(params, "query"), _one(params, "update"), params)
    if media == direct_type:
        text = _decode(body, mparams.get("charset"))
        key = "query" if direct_type == SPARQL_QUERY else "update"
        if key in params:
            raise ProtocolError(400, f"give the {key} either in the body or as a parameter, not both")
        return Operation(text if key == "query" else None, text if key == "update" else None, params)
    expected = f"{FORM} or {direct_type}"
    if not media:
        raise ProtocolError(415, f"missing Content-Type: send {expected}")
    raise ProtocolError(415, f"unsupported Content-Type {media}: send {expected}")


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise ProtocolError(400, f"more than one '{name}' parameter: send exactly one")
    return values[0]


def endpoint_url(request: Request) -> str:
    """The URL the request was sent to, without its query (the base IRI of queries)."""
    scope = request.scope
    server = scope.get("server")
    return _endpoint_url(scope["scheme"], tuple(server) if server else None, request.headers.get("host"),
                         scope.get("root_path", ""), scope["path"])


@functools.lru_cache(maxsize=256)
def _endpoint_url(scheme: str, server: tuple[str, int] | None, host: str | None, root_path: str,
                  path: str) -> str:
    headers = [(b"host", host.encode("latin-1"))] if host is not None else []
    scope = {"type": "http", "scheme": scheme, "server": server, "root_path": root_path, "path": path,
             "query_string": b"", "headers": headers}
    return str(URL(scope=scope)).rstrip("?")


# ---------------------------------------------------------------------------------------------------
# Query


def build_job(request: Request, op: Operation, settings) -> QueryJob:
    params = op.params
    fmt = (params.get("format") or [None])[-1]
    if fmt:
        if fmt.lower() not in FORMAT_PARAM:
            raise ProtocolError(400, f"unknown format={fmt}; use one of {', '.join(sorted(FORMAT_PARAM))}")
        accept = FORMAT_PARAM[fmt.lower()]
    else:
        accept = request.headers.get("accept")
    results_type = negotiate(accept, RESULTS_OFFER)
    rdf_type = negotiate(accept, RDF_OFFER)
    defaults = params.get("default-graph-uri")
    named = params.get("named-graph-uri")
    return QueryJob(
        query=op.query or "",
        results_type=RESULTS_ALIASES.get(results_type, results_type) if results_type else None,
        rdf_type=RDF_ALIASES.get(rdf_type, rdf_type) if rdf_type else None,
        default_graphs=tuple(defaults) if defaults is not None else None,
        named_graphs=tuple(named) if named is not None else None,
        max_rows=settings.max_result_rows,
        base_iri=endpoint_url(request),
        union_default_graph=not has_query_dataset_clause(op.query or ""),
    )


async def run_query(request: Request, job: QueryJob) -> Response:
    settings = request.app.state.settings
    if nesting_depth(job.query) > MAX_NESTING:
        return error_response(400, f"the query nests brackets more than {MAX_NESTING} levels deep; refused")
    try:
        check_remote_access(job.query, settings.allowed_hosts)
    except RemoteAccessRefused as exc:
        return error_response(403, str(exc))
    runner = request.app.state.query_runner
    if runner is None:  # a remote store: proxied with the same limits (server/sparql/proxy.py)
        from server.sparql.proxy import proxy_query

        return await proxy_query(request, job)
    try:
        outcome = await runner.run(job)
    except QueryError as exc:
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return error_response(exc.status, exc.message, headers)
    media = outcome.media_type
    if media.startswith("text/") or media.endswith("xml"):
        media += "; charset=utf-8"
    headers = {"Vary": "Accept", "X-Query-Time": f"{outcome.elapsed:.4f}"}
    if outcome.truncated:
        headers["X-Result-Truncated"] = f"results cut at {job.max_rows} rows (OPENNESS_MAX_RESULT_ROWS)"
    if outcome.chunks is not None:
        return ChunkedResultResponse(outcome.chunks, media_type=media, headers=headers)
    return Response(outcome.body, media_type=media, headers=headers)


class ChunkedResultResponse(StreamingResponse):
    """Streams a large result chunk by chunk as it leaves the query worker, and always closes the chunk
    iterator (which hands the worker back, or replaces it if the client left mid-body)."""

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()

    async def discard(self) -> None:
        """For a response that will not be sent (HEAD): release the worker without reading the body."""
        await self.body_iterator.aclose()


def _service_description_response(request: Request) -> Response:
    settings = request.app.state.settings
    accept = request.headers.get("accept")
    if wants_html(accept):
        # the query editor page is the web wing's; the app hands its renderer over (app.state.query_page)
        return HTMLResponse(request.app.state.query_page(request))
    media = negotiate(accept, list(SD_MEDIA_TYPES))
    if media is None:
        return error_response(406, "the service description is available as " + ", ".join(SD_MEDIA_TYPES))
    base = str(request.base_url).rstrip("/")
    graph = service_description(endpoint_url(request), update_url=base + "/update",
                                writable=bool(settings.token), base_iri=settings.base_iri)
    return Response(graph.serialize(format=SD_MEDIA_TYPES[media], encoding="utf-8"),
                    media_type=media, headers={"Vary": "Accept"})


@_route(
    "/sparql", ["GET", "POST"],
    summary="SPARQL 1.1 Query Protocol (GET, POST form, POST direct); no query: service description",
    responses={200: {"content": {t: {} for t in list(RESULTS_FORMATS) + list(RDF_OFFER[:4]) + ["text/html"]}},
               400: {"description": "malformed query or request"}, 406: {"description": "no acceptable format"},
               415: {"description": "unsupported Content-Type"}, 503: {"description": "busy or timed out"}},
)
async def sparql_query(request: Request) -> Response:
    """Run a SPARQL query. The default graph is the union of all named graphs unless
    ``default-graph-uri`` / ``named-graph-uri`` say otherwise (they override FROM / FROM NAMED)."""
    try:
        op = await read_operation(request, SPARQL_QUERY)
        if op.update is not None:
            raise ProtocolError(400, "updates are not accepted here: POST them to /update"
                                if op.query is None else "give either 'query' or 'update', not both")
        if op.query is None:
            if request.method == "GET":
                return _service_description_response(request)
            raise ProtocolError(400, "missing 'query' parameter")
        job = build_job(request, op, request.app.state.settings)
    except ProtocolError as exc:
        return error_response(exc.status, exc.message, exc.headers)
    return await run_query(request, job)


# ---------------------------------------------------------------------------------------------------
# Update and Graph Store: writes


def check_write_allowed(request: Request) -> None:
    token = request.app.state.settings.token
    if not token:
        raise ProtocolError(403, WRITE_DISABLED)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ProtocolError(401, "a valid 'Authorization: Bearer <token>' header is required for writes",
                            {"WWW-Authenticate": 'Bearer realm="openness-graph"'})


async def _write(request: Request, func, *args) -> None:
    try:
        await anyio.to_thread.run_sync(func, *args)
        # records written here carry no content digest: the next `openness assess` re-reads everything
        request.app.state.store.note_untracked_write()
    except SyntaxError as exc:
        raise ProtocolError(400, str(exc)) from None
    except ValueError as exc:
        raise ProtocolError(400, str(exc)) from None
    except RuntimeError as exc:  # pyoxigraph: DROP/CLEAR/MOVE of a missing graph, CREATE of an existing one
        raise ProtocolError(404 if "does not exist" in str(exc) else 409, str(exc)) from None
    except (OSError, StoreError) as exc:  # full disk, read-only folder, an unreachable remote store
        status = 507 if "No space left" in str(exc) else 503
        raise ProtocolError(status, f"the store could not be written: {exc}") from None
    finally:  # the store may have changed: cached pages, the workers' read-only handles and whatever the app
        # derived from the store (``app.state.after_write``: the web pages' listing index) are stale
        request.app.state.store_generation = getattr(request.app.state, "store_generation", 0) + 1
        runner = request.app.state.query_runner
        if runner is not None:
            runner.notify_write()
        after_write = getattr(request.app.state, "after_write", None)
        if after_write is not None:
            after_write()


@_route("/update", ["GET", "POST"], summary="SPARQL 1.1 Update (needs the bearer token)",
                  status_code=204)
async def sparql_update(request: Request) -> Response:
    """Run a SPARQL update. Refused (403) unless writes are enabled; LOAD is refused unless its host is
    allowed; ``using-graph-uri`` / ``using-named-graph-uri`` are honoured."""
    try:
        if request.method == "GET":
            raise ProtocolError(405, "updates must be sent with POST", {"Allow": "POST"})
        check_write_allowed(request)
        op = await read_operation(request, SPARQL_UPDATE)
        if op.query is not None:
            raise ProtocolError(400, "give either 'query' or 'update', not both" if op.update is not None
                                else "queries go to /sparql")
        if op.update is None:
            raise ProtocolError(400, "missing 'update' parameter")
        update = op.update
        if nesting_depth(update) > MAX_NESTING:
            raise ProtocolError(400, f"the update nests brackets more than {MAX_NESTING} levels deep; refused")
        using = op.params.get("using-graph-uri", [])
        using_named = op.params.get("using-named-graph-uri", [])
        if (using or using_named) and has_update_dataset_clause(update):
            raise ProtocolError(400, "using-graph-uri/using-named-graph-uri cannot be combined with "
                                     "USING or WITH in the update")
        try:
            check_remote_access(update, request.app.state.settings.allowed_hosts)
        except RemoteAccessRefused as exc:
            raise ProtocolError(403, str(exc)) from None
        update = add_using_clauses(update, using, using_named)
        store = request.app.state.store
        oxs = getattr(store, "oxigraph", None)
        if oxs is not None:
            await _write(request, lambda: oxs.update(update, base_iri=endpoint_url(request)))
        else:
            await _write(request, store.update, update)
    except ProtocolError as exc:
        return error_response(exc.status, exc.message, exc.headers)
    return Response(status_code=204)


GSP_PARSE = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
             "text/plain": ox.RdfFormat.N_TRIPLES, "application/ld+json": ox.RdfFormat.JSON_LD,
             "application/rdf+xml": ox.RdfFormat.RDF_XML}


def _target_graph(request: Request) -> str | None:
    """The graph named by ``?graph=`` or ``?default`` (DEFAULT_GRAPH); None for the whole dataset."""
    params = _multi(parse_qsl(request.url.query, keep_blank_values=True))
    graph = _one(params, "graph")
    if graph is not None and "default" in params:
        raise ProtocolError(400, "give either ?graph= or ?default, not both")
    if graph is not None:
        if not graph.startswith(("http://", "https://", "urn:")):
            raise ProtocolError(400, f"?graph= must be an absolute IRI, got {graph!r}")
        return graph
    return DEFAULT_GRAPH if "default" in params else None


def _parse_body(request_media: str, body: bytes, graph: str) -> rdflib.Graph:
    fmt = GSP_PARSE.get(request_media)
    if fmt is None:
        raise ProtocolError(415, "send the graph as " + ", ".join(GSP_PARSE))
    out = rdflib.Graph()
    try:
        for triple in ox.parse(body, format=fmt, base_iri=graph or None):
            out.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
    except SyntaxError as exc:
        raise ProtocolError(400, f"the body is not valid {request_media}: {exc}") from None
    return out


def _insert_data(graph: str, triples: rdflib.Graph) -> str:
    from server.store import to_ox

    lines = "\n".join(f"{to_ox(s)} {to_ox(p)} {to_ox(o)} ." for s, p, o in triples)
    body = f"GRAPH <{graph}> {{\n{lines}\n}}" if graph else lines
    return f"INSERT DATA {{\n{body}\n}}"


async def _graph_exists(request: Request, graph: str) -> bool:
    store = request.app.state.store
    if graph == DEFAULT_GRAPH:
        return True
    return await anyio.to_thread.run_sync(
        store.ask, f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


@_route("/store", ["GET", "HEAD", "PUT", "POST", "DELETE"],
                  summary="SPARQL 1.1 Graph Store HTTP Protocol (?graph=IRI or ?default; writes need the token)")
async def graph_store(request: Request) -> Response:
    """Read a graph (GET/HEAD, open to all), or replace (PUT), merge into (POST) or delete (DELETE) it
    with the bearer token."""
    store = request.app.state.store
    try:
        graph = _target_graph(request)
        if request.method in ("GET", "HEAD"):
            if graph is None:
                return await _dump_dataset(request)
            if not await _graph_exists(request, graph):
                raise ProtocolError(404, f"no graph <{graph}> in this store")
            job = build_job(request, Operation("CONSTRUCT WHERE { ?s ?p ?o }", None, {}),
                            request.app.state.settings)
            job = QueryJob(query=job.query, results_type=None, rdf_type=job.rdf_type,
                           default_graphs=(graph,), named_graphs=(), max_rows=2**62)
            response = await run_query(request, job)
            if request.method == "HEAD":
                if isinstance(response, ChunkedResultResponse):
                    await response.discard()
                return Response(status_code=response.status_code, headers=dict(response.headers))
            return response
        check_write_allowed(request)
        if graph is None:
            raise ProtocolError(400, "name the graph with ?graph=IRI or ?default")
        existed = await _graph_exists(request, graph) if graph else True
        if request.method == "DELETE":
            if not existed:
                raise ProtocolError(404, f"no graph <{graph}> in this store")
            if graph == DEFAULT_GRAPH:
                await _write(request, store.update, "CLEAR DEFAULT")
            else:
                await _write(request, store.drop_graphs, [graph])
            return Response(status_code=204)
        media, _ = _media_type(request)
        triples = _parse_body(media, await request.body(), graph)
        if request.method == "PUT":
            if graph == DEFAULT_GRAPH:
                await _write(request, store.update, "CLEAR SILENT DEFAULT ;\n" + _insert_data("", triples))
            else:
                await _write(request, store.replace_graphs, {graph: triples})
        else:
            await _write(request, store.update, _insert_data(graph, triples))
        return Response(status_code=201 if not existed else 204)
    except ProtocolError as exc:
        return error_response(exc.status, exc.message, exc.headers)


async def _dump_dataset(request: Request) -> Response:
    media = negotiate(request.headers.get("accept"), ["application/n-quads", "application/trig"])
    if media is None:
        raise ProtocolError(406, "the whole dataset is available as application/n-quads or application/trig")
    store = request.app.state.store
    body = await anyio.to_thread.run_sync(store.dump, RDF_FORMATS[media])
    return Response(b"" if request.method == "HEAD" else body, media_type=media)
