"""A remote SPARQL 1.1 store behind the ``GraphStore`` interface: SPARQL 1.1 Query and Update protocols,
plus the Graph Store HTTP Protocol for replacing whole graphs. Tested against Virtuoso 7
(docs/remote-stores.md says how to point it at Fuseki, GraphDB, Neptune or QLever).

What it assumes of the engine: with no dataset in the request, the default graph of a query is the union
of the named graphs (Virtuoso: always; Fuseki: ``tdb2:unionDefaultGraph true``; GraphDB: the default;
see docs/remote-stores.md).

Answers are turned into pyoxigraph terms exactly like ``OxigraphStore``'s, so nothing above this module
can tell the stores apart. Virtuoso's quirks are fixed here:
- its SPARQL JSON writes xsd:boolean values as "1"/"0" (its XML and N-Triples writers say "true"/"false"):
  turned back into "true"/"false";
- blank nodes come as ``nodeID://b10000``, not a valid blank node label: rewritten to ``b10000``;
- ASK answers a one-column SELECT (``__ASK_RETVAL``) instead of a boolean: turned into a boolean;
- ``INSERT DATA`` refuses blank nodes and both update forms compile slowly and fail beyond ~5,000 triples
  ("memory exhausted", "generated SQL text has exceeded 10000 lines"): graphs are written with a Graph
  Store ``PUT`` when a Graph Store URL is configured, else with ``INSERT {...} WHERE {}`` in batches;
- results beyond ``[SPARQL] ResultSetMaxRows`` are cut silently (200 with ``X-SPARQL-MaxRows``): that
  raises a StoreError instead of returning partial facts;
- gzip responses make it close the connection after each answer: ``Accept-Encoding: identity``.

Errors (unreachable store, refused credentials, 5xx, time-outs) become a ``StoreError`` with a one-line
message naming the setting to check. Reads are retried a few times with back-off on connection errors;
writes only when the connection could not be opened at all (nothing was sent).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pyoxigraph as ox
import rdflib

from server.store import GraphStore, Row, StoreError, graph_quads, to_rdflib

log = logging.getLogger("openness.remote")

XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/sparql-results+json;q=0.5"
BACKOFF = (0.2, 0.5, 1.0, 2.0)  # seconds before each further attempt (reads; deadlocked writes)
UPDATE_BATCH_TRIPLES = 500  # per update request (Virtuoso: "generated SQL text has exceeded 10000 lines")
DUMP_GRAPHS_PER_QUERY = 100
# Graph Store writes. Measured on Virtuoso 7.2 (2 cores, bench/RESULTS.md): a PUT costs the engine ~4 ms
# whatever its size, ~7 ms for a new 100-triple record graph, ~13 ms to replace one (deleting is slow);
# more than 2 PUTs at once only added contention (1: 84 records/s, 4: 78, 8: 64).
GSP_WORKERS = 2  # graphs PUT at once
GSP_CHUNK_TRIPLES = 100_000  # a larger graph is sent as one PUT and then POSTs of this many triples
_BAD_BNODE_CHARS = re.compile(r"[^A-Za-z0-9_\-]")
_PROLOGUE = re.compile(r"\A(?:\s+|\#[^\n]*\n?|PREFIX\s*[^\s:]*:\s*<[^>]*>|BASE\s*<[^>]*>)*", re.IGNORECASE)
_DEADLOCK = re.compile(r"\b40001\b|SR172|deadlock", re.IGNORECASE)
_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


class RemoteStore(GraphStore):
    """A SPARQL 1.1 store reached over HTTP (query, update and Graph Store endpoints)."""

    def __init__(self, query_url: str, *, update_url: str | None = None, gsp_url: str | None = None,
                 user: str | None = None, password: str | None = None, auth: str = "digest",
                 timeout: float = 30.0, graph_prefixes: Iterable[str]) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.gsp_url = gsp_url
        self.user = user
        self.timeout = timeout
        self.graph_prefixes = tuple(dict.fromkeys(graph_prefixes))
        credentials = None
        if user is not None:
            if auth not in ("basic", "digest"):
                raise StoreError(f"OPENNESS_SPARQL_AUTH must be 'basic' or 'digest', not {auth!r}")
            credentials = (httpx.BasicAuth if auth == "basic" else httpx.DigestAuth)(user, password or "")
        self._client = httpx.Client(
            auth=credentials, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"Accept-Encoding": "identity", "User-Agent": "openness-graph"}, follow_redirects=True)

    @classmethod
    def from_settings(cls, settings) -> RemoteStore:
        return cls(settings.sparql_url, update_url=settings.update_url, gsp_url=settings.gsp_url,
                   user=settings.sparql_user, password=settings.sparql_password, auth=settings.sparql_auth,
                   timeout=settings.query_timeout, graph_prefixes=settings.graph_prefixes)

    # --- HTTP -------------------------------------------------------------------------------------------

    def _send(self, method: str, url: str, *, read: bool, setting: str, syntax_errors: bool = False,
              **kwargs) -> httpx.Response:
        """One request with the retry policy and the error messages of this module."""
        attempts = len(BACKOFF) + 1
        for attempt in range(attempts):
            try:
                response = self._client.request(method, url, **kwargs)
            except httpx.ConnectError as exc:  # nothing was sent: safe to retry reads and writes, twice
                if attempt < 2:
                    time.sleep(BACKOFF[attempt])
                    continue
                raise StoreError(f"cannot reach the SPARQL store at {url}: {error_reason(exc)}; "
                                 f"check {setting}") from None
            except httpx.TimeoutException:
                raise StoreError(f"the SPARQL store at {url} did not answer within {self.timeout:g} s "
                                 "(OPENNESS_QUERY_TIMEOUT)") from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if read and attempt + 1 < attempts:  # e.g. a kept-alive connection closed by the server
                    time.sleep(BACKOFF[attempt])
                    continue
                raise StoreError(f"the connection to the SPARQL store at {url} failed: {error_reason(exc)}") from None
            except httpx.HTTPError as exc:
                raise StoreError(f"request to the SPARQL store at {url} failed: {error_reason(exc)}") from None
            if attempt + 1 < attempts and (
                    (read and response.status_code in (502, 503, 504))
                    or (response.status_code >= 500 and _DEADLOCK.search(response.text))):
                # a deadlocked transaction was rolled back by the store: safe to run again, writes too
                log.info("retrying after %s from %s", response.status_code, url)
                time.sleep(BACKOFF[attempt])
                continue
            break
        self._check(response, url, setting, syntax_errors)
        return response

    def _check(self, response: httpx.Response, url: str, setting: str, syntax_errors: bool) -> None:
        status = response.status_code
        if status < 400:
            if "S1TAT" in response.headers.get("x-sql-state", ""):  # Virtuoso's partial "anytime" answer
                raise StoreError("the SPARQL store stopped the query at its time limit and sent partial results: "
                                 "raise its limit (Virtuoso: [SPARQL] MaxQueryExecutionTime)")
            if "x-sparql-maxrows" in response.headers:
                raise StoreError(f"the SPARQL store cut the results at {response.headers['x-sparql-maxrows']} "
                                 "rows: raise its result limit (Virtuoso: [SPARQL] ResultSetMaxRows)")
            return
        detail = error_line(response.text)
        if status == 401:
            if self.user is None:
                raise StoreError(f"the SPARQL store at {url} requires credentials (401): "
                                 "set OPENNESS_SPARQL_USER/PASSWORD")
            raise StoreError("the SPARQL store refused the credentials (401): check OPENNESS_SPARQL_USER/PASSWORD")
        if status == 403:
            raise StoreError(f"the SPARQL store denied the request (403): the account {self.user or '(anonymous)'} "
                             "lacks the permission (Virtuoso: GRANT SPARQL_UPDATE)" + (f": {detail}" if detail else ""))
        if status == 404:
            raise StoreError(f"no SPARQL endpoint at {url} (404): check {setting}")
        if status == 400 and syntax_errors:
            raise SyntaxError(detail or "the store rejected the query (400)")
        raise StoreError(f"the SPARQL store failed ({status}){': ' + detail if detail else ''}")

    def _query(self, query: str, accept: str, *, syntax_errors: bool = False) -> httpx.Response:
        return self._send("POST", self.query_url, read=True, setting="OPENNESS_SPARQL_URL",
                          syntax_errors=syntax_errors, data={"query": query}, headers={"Accept": accept})

    # --- reading ----------------------------------------------------------------------------------------

    def _results(self, response: httpx.Response):
        """SPARQL JSON results as pyoxigraph QuerySolutions / QueryBoolean, Virtuoso's quirks fixed."""
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise StoreError(f"the SPARQL store answered {response.headers.get('content-type', '?')}, "
                             "not SPARQL JSON results") from None
        if "boolean" not in data:
            bindings = data.get("results", {}).get("bindings", [])
            if data.get("head", {}).get("vars") == ["__ASK_RETVAL"]:  # Virtuoso's ASK
                value = bindings[0].get("__ASK_RETVAL", {}).get("value") if bindings else None
                data = {"head": {}, "boolean": value not in (None, "0", "false")}
            else:
                for binding in bindings:
                    for term in binding.values():
                        _fix_term(term)
        try:
            return ox.parse_query_results(orjson.dumps(data), ox.QueryResultsFormat.JSON)
        except SyntaxError as exc:
            raise StoreError(f"unreadable SPARQL results from the store: {exc}") from None

    def select(self, query: str) -> list[Row]:
        results = self._results(self._query(query, RESULTS_JSON))
        if isinstance(results, ox.QueryBoolean):
            raise StoreError("the SPARQL store answered a boolean to a SELECT query")
        names = [v.value for v in results.variables]
        rows = []
        for solution in results:
            row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = value
            rows.append(row)
        return rows

    def ask(self, query: str) -> bool:
        return bool(self._results(self._query(query, RESULTS_JSON)))

    def _triples(self, response: httpx.Response) -> Iterator[ox.Triple]:
        kind = response.headers.get("content-type", N_TRIPLES).split(";")[0].strip().lower()
        if kind == RESULTS_JSON:  # e.g. Virtuoso's DESCRIBE answered as ?s ?p ?o rows
            results = self._results(response)
            for solution in results:
                yield ox.Triple(solution["s"], solution["p"], solution["o"])
            return
        rdf_format = ox.RdfFormat.TURTLE if kind in ("text/turtle", "application/x-turtle") else ox.RdfFormat.N_TRIPLES
        try:
            yield from ox.parse(response.content, format=rdf_format)
        except SyntaxError as exc:
            raise StoreError(f"unreadable {kind} from the SPARQL store: {exc}") from None

    def construct(self, query: str) -> rdflib.Graph:
        graph = rdflib.Graph()
        for t in self._triples(self._query(query, GRAPH_ACCEPT)):
            graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
        return graph

    def raw_query(self, query: str):
        """Any query, answered as pyoxigraph's QuerySolutions / QueryBoolean / QueryTriples (what
        ``openness query`` serialises). A query the store rejects (400) raises SyntaxError."""
        match = _FORM.match(query, _PROLOGUE.match(query).end())
        form = match.group(1).upper() if match else "SELECT"
        if form in ("SELECT", "ASK"):
            return self._results(self._query(query, RESULTS_JSON, syntax_errors=True))
        local = ox.Store()
        local.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                          for t in self._triples(self._query(query, GRAPH_ACCEPT, syntax_errors=True)))
        return local.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")

    def _graph_filter(self, var: str = "?g") -> str:
        tests = " || ".join(f"STRSTARTS(STR({var}), {_string(p)})" for p in self.graph_prefixes)
        return f"FILTER({tests})"

    def quad_count(self) -> int:
        """Quads in the product's graphs (those under OPENNESS_BASE_IRI and the ontology's namespace):
        the engine's own graphs (Virtuoso's virtrdf#, ldp# ...) are not counted."""
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self._graph_filter()} }}")
        return int(rows[0]["n"].value) if rows else 0

    def named_graphs(self) -> list[str]:
        rows = self.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self._graph_filter()} }}")
        return sorted(r["g"].value for r in rows if isinstance(r.get("g"), ox.NamedNode))

    def dump(self, rdf_format: ox.RdfFormat) -> bytes:
        """The product's graphs, read a hundred graphs per query into a local in-memory store and
        serialised exactly as OxigraphStore.dump does."""
        local = ox.Store()
        graphs = self.named_graphs()
        for start in range(0, len(graphs), DUMP_GRAPHS_PER_QUERY):
            values = " ".join(f"<{g}>" for g in graphs[start:start + DUMP_GRAPHS_PER_QUERY])
            rows = self.select(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")
            local.bulk_extend(ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows)
        if rdf_format.supports_datasets:
            return local.dump(format=rdf_format)
        return local.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }").serialize(format=rdf_format)

    # --- writing ----------------------------------------------------------------------------------------

    def update(self, update: str) -> None:
        self._send("POST", self.update_url, read=False, setting="OPENNESS_UPDATE_URL",
                   content=update.encode("utf-8"),
                   headers={"Content-Type": "application/sparql-update; charset=utf-8"})

    def replace_graphs(self, graphs: dict[str, rdflib.Graph]) -> None:
        # every term is converted (and so checked) before anything is written
        self.replace_quads({iri: list(graph_quads(graph, iri)) for iri, graph in graphs.items()})

    def replace_quads(self, graphs: dict[str, list[ox.Quad]]) -> None:
        """Replace each named graph with the given quads.

        With a Graph Store URL: one ``PUT`` per graph (GSP_WORKERS at once); a graph beyond
        GSP_CHUNK_TRIPLES as a ``PUT`` of its first chunk and ``POST`` of the others, in order, so that no
        request runs for minutes or is held in memory whole (a 100k-record assessment run graph is ~7M
        triples). Without one: ``DROP SILENT GRAPH`` + ``INSERT {...} WHERE {}`` in requests of up to
        UPDATE_BATCH_TRIPLES triples.

        Atomicity: a graph written by one request is replaced all or nothing on engines that run a request
        in one transaction (Fuseki, GraphDB; Virtuoso for SPARQL Update, but its ``PUT`` deletes and loads in
        separate commits, so a crash in between leaves the graph empty). A graph split over several
        requests can be left partial: a prefix of its requests, in the order given (triples linked by
        blank nodes are kept in one request and go first). A batch of graphs is not one transaction: a
        failure leaves some graphs replaced and the others untouched; loading again repairs it.

        Why not fewer requests: measured on Virtuoso 7.2 (bench/RESULTS.md), several graphs per SPARQL
        Update request (``INSERT DATA`` with several GRAPH blocks, or ``INSERT ... WHERE { VALUES }`` from a
        staging graph) are up to 6x slower than one ``PUT`` per graph, and reading graphs back to write
        only their difference costs the engine as much as rewriting them."""
        if not graphs:
            return
        empty = [iri for iri, quads in graphs.items() if not quads]
        if empty:
            self.drop_graphs(empty)
        full = {iri: quads for iri, quads in graphs.items() if quads}  # turned into triples per request:
        if self.gsp_url:  # a copy of a 10M-quad graph as triples would cost gigabytes
            self._put_graphs(full)
        else:
            self._update_graphs(full)

    def _put_graphs(self, graphs: dict[str, list[ox.Quad]]) -> None:
        """Graph Store writes: small graphs PUT a few at once, large ones in chunks, in order."""
        def send(method: str, iri: str, quads: list[ox.Quad]) -> None:
            triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
            self._send(method, self.gsp_url, read=False, setting="OPENNESS_GSP_URL", params={"graph": iri},
                       content=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES),
                       headers={"Content-Type": N_TRIPLES})

        small = [(iri, quads) for iri, quads in graphs.items() if len(quads) <= GSP_CHUNK_TRIPLES]
        if len(small) <= 1:
            for iri, quads in small:
                send("PUT", iri, quads)
        else:
            with ThreadPoolExecutor(max_workers=GSP_WORKERS) as pool:  # independent graphs: PUT in parallel
                for _ in pool.map(lambda item: send("PUT", *item), small):  # re-raises the first failure
                    pass
        for iri, quads in graphs.items():
            if len(quads) > GSP_CHUNK_TRIPLES:  # one request would be minutes long and held in memory whole
                for n, chunk in enumerate(_chunks(quads, GSP_CHUNK_TRIPLES)):  # blank nodes kept in one chunk
                    send("POST" if n else "PUT", iri, chunk)

    def _update_graphs(self, graphs: dict[str, list[ox.Quad]]) -> None:
        """SPARQL Update writes: ``DROP SILENT GRAPH`` + ``INSERT {...} WHERE {}``, batched."""
        request: list[str] = []
        size = 0
        for iri, quads in graphs.items():
            request.append(f"DROP SILENT GRAPH <{iri}>")
            for chunk in _chunks(quads, UPDATE_BATCH_TRIPLES):
                if size and size + len(chunk) > UPDATE_BATCH_TRIPLES:
                    self.update(" ;\n".join(request))
                    request, size = [], 0
                body = "\n".join(f"{ox.Triple(q.subject, q.predicate, q.object)} ." for q in chunk)
                request.append(f"INSERT {{ GRAPH <{iri}> {{\n{body}\n}} }} WHERE {{}}")
                size += len(chunk)
        if request:
            self.update(" ;\n".join(request))

    def drop_graphs(self, graph_iris: Iterable[str]) -> None:
        iris = list(graph_iris)
        for start in range(0, len(iris), 200):
            self.update(" ;\n".join(f"DROP SILENT GRAPH <{iri}>" for iri in iris[start:start + 200]))

    def close(self) -> None:
        self._client.close()


# --- helpers --------------------------------------------------------------------------------------------

def _fix_term(term: dict) -> None:
    """Virtuoso's SPARQL JSON, made standard: blank node labels and xsd:boolean lexical forms."""
    kind = term.get("type")
    if kind == "bnode":
        label = _BAD_BNODE_CHARS.sub("_", term["value"].removeprefix("nodeID://"))
        term["value"] = label if label[:1].isalnum() or label[:1] == "_" else "b" + label
    elif kind == "typed-literal":
        term["type"] = "literal"
    if term.get("datatype") == XSD_BOOLEAN and term.get("value") in ("1", "0"):
        term["value"] = "true" if term["value"] == "1" else "false"


def _chunks(quads: list[ox.Quad], limit: int) -> list[list[ox.Quad]]:
    """The quads in chunks of about ``limit``, in order; quads linked through blank nodes stay in one
    chunk and go first (a blank node label names the same node only within one request)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    groups: dict[str, list[ox.Quad]] = {}
    plain: list[ox.Quad] = []
    for q in quads:
        nodes = [n.value for n in (q.subject, q.object) if isinstance(n, ox.BlankNode)]
        if len(nodes) == 2:
            parent[find(nodes[0])] = find(nodes[1])
    for q in quads:
        node = next((n.value for n in (q.subject, q.object) if isinstance(n, ox.BlankNode)), None)
        if node is None:
            plain.append(q)
        else:
            groups.setdefault(find(node), []).append(q)
    chunks: list[list[ox.Quad]] = [[]]
    for group in groups.values():
        if chunks[-1] and len(chunks[-1]) + len(group) > limit:
            chunks.append([])
        chunks[-1].extend(group)
    start = 0
    while start < len(plain):  # plain quads fill the last chunk, then slices of ``limit``
        room = limit - len(chunks[-1]) if len(chunks[-1]) < limit else 0
        if room == 0:
            chunks.append([])
            room = limit
        chunks[-1].extend(plain[start:start + room])
        start += room
    return [c for c in chunks if c]


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def error_line(text: str) -> str:
    """The telling line of an engine's error body (HTML reduced to text; Virtuoso's query echo dropped)."""
    text = text.split("\nSPARQL query:", 1)[0]
    if "<" in text and re.search(r"<(html|!DOCTYPE|body|h\d|pre)\b", text, re.IGNORECASE):
        text = re.sub(r"<[^>]+>", "\n", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    telling = next((line for line in lines if re.search(r"error|SR\d+|SP\d+|\b\d{5}\b", line, re.I)), None)
    return (telling or (lines[0] if lines else ""))[:300]


def error_reason(exc: Exception) -> str:
    """An exception as a clause for a one-line message (no errno prefix, lower-case start)."""
    text = str(exc) or type(exc).__name__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    return text[:1].lower() + text[1:]
