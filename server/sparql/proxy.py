"""``/sparql`` on a remote store: the query is proxied to ``OPENNESS_SPARQL_URL`` with the protocol
behaviour, timeout and limits of the embedded endpoint (server/sparql/query_pool.py), so clients cannot tell the
backends apart.

How an answer is made: the upstream answer is always requested in one lossless format (SPARQL JSON for
SELECT/ASK, N-Triples for CONSTRUCT/DESCRIBE), read as a stream and parsed incrementally by pyoxigraph,
cut after ``OPENNESS_MAX_RESULT_ROWS`` rows (the upstream connection is then closed, which makes the
engine stop), and re-serialised by pyoxigraph in the negotiated format, exactly as the embedded endpoint
does. That is why every format of the embedded endpoint is offered whatever the engine can write, why
datatypes and language tags survive (Virtuoso's own TSV/CSV writers drop them), and why Virtuoso's quirks
(``nodeID://`` blank nodes, xsd:boolean written ``1``/``0``, ASK as a one-row SELECT) never reach
clients. Memory is bounded by the row cap, not by the upstream answer.

Limits: at most ``OPENNESS_MAX_CONCURRENT_QUERIES`` proxied queries at once (beyond: 503 with
Retry-After); ``OPENNESS_QUERY_TIMEOUT`` bounds the whole exchange (503 with a clear message), and
Virtuoso is also told the time-out (its ``timeout`` parameter, in ms) so it stops the work itself;
Virtuoso then answers 200 with ``X-SQL-State: S1TAT`` and *partial* results, which are refused (503), never
passed on. Upstream 400 → 400 with the engine's first error line; unreachable store, refused credentials,
missing permission → 502 with a one-line message naming the setting (never the password).

Dataset: with no ``FROM``/``default-graph-uri``, the embedded endpoint's default graph is the union of the
named graphs. Virtuoso's default graph is the union of *all* its graphs, its own system graphs included
(``virtrdf#`` with ~2,500 quad-map triples, ``ldp#``, ``http://localuriqaserver/sparql`` on a fresh
7.2 database), so for Virtuoso the proxy adds ``define input:default-graph-exclude`` and
``define input:named-graph-exclude`` for every graph outside the product's IRI prefixes (listed once, at
the first query; on the query's first line so the engine's error line numbers stay right).
SERVICE and LOAD have already been refused by ``check_remote_access`` before the proxy is called.
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx
import pyoxigraph as ox
from fastapi import Request, Response
from fastapi.responses import PlainTextResponse

from loaders.vocab import STATIC
from server.sparql.query_pool import DEFAULT_GRAPH, RDF_FORMATS, RESULTS_FORMATS, QueryJob, capped_tsv
from server.store.remote import error_line, error_reason

RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
XSD_BOOLEAN = b"<http://www.w3.org/2001/XMLSchema#boolean>"
EMPTY_GRAPH = "urn:x-openness-graph:no-default-graph"  # stands for the (empty) store default graph
CONNECT_TIMEOUT = 10.0
_PROLOGUE = re.compile(r"\A(?:\s+|\#[^\n]*\n?|PREFIX\s*[^\s:]*:\s*<[^>]*>|BASE\s*<[^>]*>)*", re.IGNORECASE)
_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_TIMED_OUT = re.compile(r"S1T00|S1TAT|SR171|time(d)?[ -]?out|timeout", re.IGNORECASE)


class ProxyError(Exception):
    """A proxied query that could not be answered: ``status`` and a one-line message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SparqlProxy:
    """Forwards queries to one remote SPARQL endpoint (one per app; thread-safe)."""

    def __init__(self, settings) -> None:
        self.url = settings.sparql_url
        self.shown_url = _without_userinfo(self.url)
        self.timeout = settings.query_timeout
        self.max_concurrent = settings.max_concurrent_queries
        self.prefixes = (settings.base_iri, STATIC)
        self.user = settings.sparql_user
        auth = None
        if settings.sparql_user is not None:
            cls = httpx.BasicAuth if settings.sparql_auth == "basic" else httpx.DigestAuth
            auth = cls(settings.sparql_user, settings.sparql_password or "")
        # a synchronous client in worker threads: pyoxigraph's streaming parsers read a file-like object,
        # so the upstream body is pulled on demand and the connection closed as soon as the cap is hit
        self._client = httpx.Client(
            auth=auth, follow_redirects=True,
            timeout=httpx.Timeout(self.timeout + 2.0, connect=min(self.timeout, CONNECT_TIMEOUT)),
            headers={"Accept-Encoding": "identity", "User-Agent": "openness-graph (sparql proxy)"},
            limits=httpx.Limits(max_connections=self.max_concurrent, max_keepalive_connections=self.max_concurrent))
        self._active = 0
        self._lock = threading.Lock()
        self._probed = False
        self.virtuoso = False
        self.excluded: tuple[str, ...] = ()

    # --- engine ------------------------------------------------------------------------------------------

    def _probe(self) -> None:
        """Once: is the engine Virtuoso, and which of its graphs lie outside the product's prefixes."""
        if self._probed:
            return
        response = self._request({"query": "ASK {}"}, RESULTS_JSON, deadline=time.monotonic() + self.timeout)
        try:
            self.virtuoso = "virtuoso" in response.headers.get("server", "").lower()
            response.read()
        finally:
            response.close()
        if self.virtuoso:
            tests = " || ".join(f'STRSTARTS(STR(?g), "{p}")' for p in self.prefixes)
            query = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(!({tests})) }}"
            response = self._request({"query": query}, RESULTS_JSON, deadline=time.monotonic() + self.timeout)
            try:
                results = ox.parse_query_results(response.read(), ox.QueryResultsFormat.JSON)
                self.excluded = tuple(sorted(s["g"].value for s in results if isinstance(s["g"], ox.NamedNode)))
            finally:
                response.close()
        self._probed = True

    def _form(self, job: QueryJob) -> dict[str, str | list[str]]:
        """The upstream request's form: query (with Virtuoso's pragmas), dataset and time-out hint."""
        query = job.query
        form: dict[str, str | list[str]] = {}
        if job.default_graphs is not None:
            graphs = [g for g in job.default_graphs if g != DEFAULT_GRAPH]
            form["default-graph-uri"] = graphs or [EMPTY_GRAPH]
        if job.named_graphs is not None:
            form["named-graph-uri"] = list(job.named_graphs) or [EMPTY_GRAPH]
        if self.virtuoso:
            pragmas = []
            if job.union_default_graph and job.default_graphs is None:
                pragmas += [f"define input:default-graph-exclude <{g}>" for g in self.excluded]
            if job.union_default_graph and job.named_graphs is None:
                pragmas += [f"define input:named-graph-exclude <{g}>" for g in self.excluded]
            if pragmas:  # on the first line: the engine's error messages keep their line numbers
                query = " ".join(pragmas) + " " + query
            form["timeout"] = str(int(self.timeout * 1000))  # Virtuoso stops the query itself
        form["query"] = query
        return form

    # --- HTTP --------------------------------------------------------------------------------------------

    def _request(self, form: dict, accept: str, *, deadline: float) -> httpx.Response:
        """Send the query; answer the response with its body unread (status checked)."""
        request = self._client.build_request("POST", self.url, data=form, headers={"Accept": accept})
        try:
            response = self._client.send(request, stream=True)
        except httpx.ConnectError as exc:
            raise ProxyError(502, f"cannot reach the SPARQL store at {self.shown_url}: {error_reason(exc)}; "
                                  "check OPENNESS_SPARQL_URL") from None
        except httpx.TimeoutException:
            raise ProxyError(503, self._timeout_message()) from None
        except httpx.HTTPError as exc:
            raise ProxyError(502, f"the SPARQL store at {self.shown_url} failed: {error_reason(exc)}") from None
        if response.status_code >= 400:
            try:
                text = response.read().decode("utf-8", "replace") if time.monotonic() < deadline else ""
            except httpx.HTTPError:
                text = ""
            finally:
                response.close()
            raise self._status_error(response.status_code, error_line(text))
        if "S1TAT" in response.headers.get("x-sql-state", ""):  # Virtuoso's partial "anytime" answer
            response.close()
            raise ProxyError(503, self._timeout_message())
        return response

    def _status_error(self, status: int, detail: str) -> ProxyError:
        if status == 400:
            return ProxyError(400, detail or "the SPARQL store rejected the query (400)")
        if status == 401:
            if self.user is None:
                return ProxyError(502, "the SPARQL store requires credentials (401): the server's operator "
                                       "must set OPENNESS_SPARQL_USER/PASSWORD")
            return ProxyError(502, "the SPARQL store refused the server's credentials (401): the operator "
                                   "must check OPENNESS_SPARQL_USER/PASSWORD")
        if status == 403:
            return ProxyError(502, "the SPARQL store denied the query (403): the server's account lacks "
                                   "the read permission (Virtuoso: GRANT SPARQL_SELECT)")
        if status == 404:
            return ProxyError(502, f"no SPARQL endpoint at {self.shown_url} (404): check OPENNESS_SPARQL_URL")
        if status in (500, 503, 504) and _TIMED_OUT.search(detail):
            return ProxyError(503, self._timeout_message() + f" (store: {detail})")
        if status == 500 and "estimated execution time" in detail:  # Virtuoso's MaxQueryCostEstimationTime
            return ProxyError(503, f"the SPARQL store refused to start a query it estimates too slow: {detail}; "
                                   "simplify it or add a LIMIT")
        return ProxyError(502, f"the SPARQL store failed ({status}){': ' + detail if detail else ''}")

    def _timeout_message(self) -> str:
        return (f"query timed out after {self.timeout:g} s (OPENNESS_QUERY_TIMEOUT): simplify it or add a "
                "LIMIT")

    # --- one query ---------------------------------------------------------------------------------------

    def answer(self, job: QueryJob) -> tuple[str, bytes, bool, float]:
        """(media type, body, truncated, seconds) for ``job``; raises ProxyError. Runs in a worker thread.

        The error raised is a fresh one: the original's traceback holds pyoxigraph result objects, which
        must be freed in this thread (they are not sendable to the event loop's)."""
        failure: ProxyError | None = None
        try:
            return self._answer(job)
        except ProxyError as exc:
            failure = ProxyError(exc.status, exc.message)
        except Exception as exc:  # noqa: BLE001  (a client gets a one-line 502, never a traceback)
            failure = ProxyError(502, f"proxying the query failed: {type(exc).__name__}: {str(exc)[:300]}")
        raise failure

    def _answer(self, job: QueryJob) -> tuple[str, bytes, bool, float]:
        with self._lock:
            if self._active >= self.max_concurrent:
                raise ProxyError(503, f"too many queries in progress ({self.max_concurrent}); retry shortly")
            self._active += 1
        try:
            started = time.monotonic()
            deadline = started + self.timeout
            self._probe()
            form = self._form(job)
            graph_form = _query_form(job.query) in ("CONSTRUCT", "DESCRIBE")
            if graph_form and job.rdf_type is None:
                raise ProxyError(406, "CONSTRUCT and DESCRIBE results are available as " + ", ".join(RDF_FORMATS))
            if not graph_form and job.results_type is None:
                raise ProxyError(406, "SELECT and ASK results are available as " + ", ".join(RESULTS_FORMATS))
            response = self._request(form, N_TRIPLES if graph_form else RESULTS_JSON, deadline=deadline)
            try:
                stream = _Stream(response, deadline, self._timeout_message(), fix_bnodes=not graph_form)
                if graph_form:
                    media, body, truncated = _graph_answer(stream, response, job)
                else:
                    media, body, truncated = _results_answer(stream, job)
            finally:
                response.close()
            if "x-sparql-maxrows" in response.headers:  # the engine cut the results itself
                truncated = True
            return media, body, truncated, time.monotonic() - started
        finally:
            with self._lock:
                self._active -= 1

    def close(self) -> None:
        self._client.close()


class _Stream(io.RawIOBase):
    """The upstream body as a file-like object for pyoxigraph's parsers, enforcing the deadline;
    rewrites Virtuoso's ``"nodeID://`` blank node labels in SPARQL JSON on the fly."""

    def __init__(self, response: httpx.Response, deadline: float, timeout_message: str, *,
                 fix_bnodes: bool) -> None:
        self._chunks: Iterator[bytes] = response.iter_bytes()
        self._buffer = b""
        self._deadline = deadline
        self._timeout_message = timeout_message
        self._fix = fix_bnodes

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            if time.monotonic() > self._deadline:
                raise ProxyError(503, self._timeout_message)
            try:
                chunk = next(self._chunks, None)
            except httpx.TimeoutException:
                raise ProxyError(503, self._timeout_message) from None
            except httpx.HTTPError as exc:
                raise ProxyError(502, f"the SPARQL store's answer broke off: {error_reason(exc)}") from None
            if chunk is None:
                return 0
            self._buffer = chunk
            if self._fix:
                # a split '"nodeID://' is held back until the next chunk completes it
                keep = _partial_suffix(self._buffer, b'"nodeID://')
                while keep:
                    nxt = next(self._chunks, None)
                    if nxt is None:
                        break
                    self._buffer += nxt
                    keep = _partial_suffix(self._buffer, b'"nodeID://')
                self._buffer = self._buffer.replace(b'"nodeID://', b'"')
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def _results_answer(stream: _Stream, job: QueryJob) -> tuple[str, bytes, bool]:
    """SELECT/ASK: upstream SPARQL JSON → capped SPARQL TSV (lossless) → the negotiated format."""
    fmt = RESULTS_FORMATS[job.results_type]
    try:
        results = ox.parse_query_results(io.BufferedReader(stream), ox.QueryResultsFormat.JSON)
        if isinstance(results, ox.QueryBoolean):
            return job.results_type, results.serialize(format=fmt), False
        names = [v.value for v in results.variables]
        try:
            tsv, truncated = capped_tsv(results, job.max_rows)
        except OSError as exc:
            raise _unwrap(exc) from None
    except ProxyError:
        raise
    except SyntaxError as exc:
        raise ProxyError(502, f"unreadable SPARQL results from the store: {exc}") from None
    if names == ["__ASK_RETVAL"]:  # Virtuoso answers ASK as a one-row SELECT
        value = tsv.split(b"\n")[1].strip() if tsv.count(b"\n") > 1 else b""
        answer = value not in (b"", b"0", b'"0"^^<http://www.w3.org/2001/XMLSchema#integer>', b"false")
        return job.results_type, _boolean(answer, fmt), False
    # Virtuoso writes stored xsd:boolean values as 1/0: the standard forms, in TSV's term syntax
    tsv = tsv.replace(b'"1"^^' + XSD_BOOLEAN, b"true").replace(b'"0"^^' + XSD_BOOLEAN, b"false")
    body = tsv if fmt == ox.QueryResultsFormat.TSV else (
        ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV).serialize(format=fmt))
    return job.results_type, body, truncated


def _graph_answer(stream: _Stream, response: httpx.Response, job: QueryJob) -> tuple[str, bytes, bool]:
    """CONSTRUCT/DESCRIBE: upstream N-Triples (or Turtle) → at most max_rows triples → the negotiated format."""
    kind = response.headers.get("content-type", N_TRIPLES).split(";")[0].strip().lower()
    if kind not in (N_TRIPLES, "text/plain", "text/turtle", "application/x-turtle"):
        raise ProxyError(502, f"the SPARQL store answered {kind} to a CONSTRUCT/DESCRIBE query, not N-Triples")
    rdf_format = ox.RdfFormat.TURTLE if "turtle" in kind else ox.RdfFormat.N_TRIPLES
    triples: list[ox.Triple] = []
    truncated = False
    try:
        for triple in ox.parse(io.BufferedReader(stream), format=rdf_format):
            if len(triples) >= job.max_rows:
                truncated = True
                break
            triples.append(triple)
    except ProxyError:
        raise
    except SyntaxError as exc:
        raise ProxyError(502, f"unreadable {kind} from the SPARQL store: {exc}") from None
    except OSError as exc:
        raise _unwrap(exc) from None
    target = RDF_FORMATS[job.rdf_type]
    items = [ox.Quad(t.subject, t.predicate, t.object) for t in triples] if target.supports_datasets else triples
    return job.rdf_type, ox.serialize(items, format=target) or b"", truncated


# --- the route's side ---------------------------------------------------------------------------------------

_PROXIES_LOCK = threading.Lock()


def proxy_for(app) -> SparqlProxy:
    """The app's proxy, made on first use (an embedded store never needs one); closed by
    :func:`close_proxy` at shutdown."""
    with _PROXIES_LOCK:
        proxy = getattr(app.state, "sparql_proxy", None)
        if proxy is None:
            proxy = SparqlProxy(app.state.settings)
            app.state.sparql_proxy = proxy
        return proxy


def close_proxy(app) -> None:
    """Close the app's proxy, if one was made: its pooled connections to the store are released at
    shutdown instead of lingering until the process exits."""
    with _PROXIES_LOCK:
        proxy = getattr(app.state, "sparql_proxy", None)
        app.state.sparql_proxy = None
    if proxy is not None:
        proxy.close()


async def proxy_query(request: Request, job: QueryJob) -> Response:
    """Answer ``job`` from the remote store, with the headers of the embedded endpoint's answers."""
    proxy = proxy_for(request.app)
    try:
        media, body, truncated, elapsed = await anyio.to_thread.run_sync(proxy.answer, job)
    except ProxyError as exc:
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return PlainTextResponse(exc.message + "\n", status_code=exc.status, headers=headers)
    if media.startswith("text/") or media.endswith("xml"):
        media += "; charset=utf-8"
    headers = {"Vary": "Accept", "X-Query-Time": f"{elapsed:.4f}"}
    if truncated:
        headers["X-Result-Truncated"] = f"results cut at {job.max_rows} rows (OPENNESS_MAX_RESULT_ROWS)"
    return Response(body, media_type=media, headers=headers)


# --- helpers ----------------------------------------------------------------------------------------------


def _boolean(value: bool, fmt: ox.QueryResultsFormat) -> bytes:
    data = b'{"head":{},"boolean":' + (b"true" if value else b"false") + b"}"
    return ox.parse_query_results(data, ox.QueryResultsFormat.JSON).serialize(format=fmt)


def _query_form(query: str) -> str:
    match = _FORM.match(query, _PROLOGUE.match(query).end())
    return match.group(1).upper() if match else "SELECT"


def _partial_suffix(data: bytes, marker: bytes) -> bool:
    """True when ``data`` ends with a proper prefix of ``marker`` (the marker may continue in the next chunk)."""
    return any(data.endswith(marker[:i]) for i in range(1, len(marker)))


def _unwrap(exc: OSError) -> ProxyError:
    """pyoxigraph wraps exceptions raised by the file-like object in OSError: recover ours."""
    inner = exc.__cause__ or exc.__context__
    if isinstance(inner, ProxyError):
        return inner
    text = str(exc)
    if "timed out" in text:
        return ProxyError(503, text)
    return ProxyError(502, f"reading the SPARQL store's answer failed: {text[:300]}")


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


