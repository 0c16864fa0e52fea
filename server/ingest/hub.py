"""The Hugging Face Hub as a live source: one model by id (``openness load hf:ORG/NAME``), or every model a
listing names (``openness harvest hf``). This is the only module that reaches the network, and only for
those commands (and ``POST /validate?hf=`` when ``OPENNESS_HF_FETCH`` allows it).

Requests go through the official client, ``huggingface_hub``: its HTTP session (``HF_HUB_OFFLINE`` refuses
every request there), its headers (``HF_TOKEN`` or the saved token, its user agent), its retry with backoff
on HTTP 429 and 5xx that honours ``Retry-After`` (``http_backoff``) and its error classes
(``hf_raise_for_status``: gated, not found, no such file). The requests are the ones ``HfApi.model_info``
(``/api/models/{id}``) and ``HfApi.list_models`` (``/api/models?full=true&cardData=true``, paged by ``Link``
headers) send; the raw answers are kept, so a reload reproduces the record offline.

Cache (under the store folder, ``{store}/hub-cache/``): ``models/{org}/{name}/{sha}.json`` holds the API's
answer verbatim (as text), the README.md at that commit (or why it could not be read), the endpoint and the
retrieval time; ``models/{org}/{name}/ref`` is the commit fetched last. Offline, a model is read from the
cache as of its last fetch.

Harvest state lives in the store: each Hub record's graph carries its commit (og:sourceCommit), so an
unchanged model is skipped without a request, and the listing cursor (page URL, position in the page,
counts) is the graph ``{base}graph/harvest/hf``, written after every batch: an interrupted harvest (Ctrl-C,
a crash, a kill) resumes where the last batch ended."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox
from rdflib import RDF, Literal, URIRef

from loaders.errors import RecordError
from loaders.hf_card import load_hf_hub
from loaders.record import LoadedRecord, SourceInfo, new_graph
from loaders.vocab import DCT, OG, Minter
from server.ingest.identity import link_records
from server.ingest.loading import LoadReport, load_reference, record_quads
from server.store import GraphStore, graph_quads

log = logging.getLogger("openness.hub")

# A Hub model id as users type it: exactly ORG/NAME (no URL, no revision, no path beyond the name)
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$", re.ASCII)
PREFIX = "hf:"
PAGE_SIZE = 1000  # models per listing page (the Hub's largest page)
BATCH = 64  # records written per transaction; the cursor moves after each
FETCH_WORKERS = 4  # models fetched at once during a harvest (I/O bound; polite to the Hub)
STORED_SHAS = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
SELECT ?hf ?sha ?unread WHERE { GRAPH ?g {
  ?g og:sourceCommit ?sha ; og:record ?m . ?m og:source "hf" ; og:huggingFaceId ?hf .
  OPTIONAL { ?m og:cardUnreadReason ?unread } } }"""


class HubError(Exception):
    """A model that could not be fetched or read: the message is one line, naming the model and why."""

    def __init__(self, repo_id: str, reason: str) -> None:
        super().__init__(f"{PREFIX}{repo_id}: {reason}")
        self.repo_id = repo_id
        self.reason = reason


def parse_hub_id(text: str) -> str | None:
    """``hf:ORG/NAME`` (or a bare ``ORG/NAME`` from a form) -> ``ORG/NAME`` if it is a strict Hub id."""
    text = text.strip()
    text = text[len(PREFIX):] if text.startswith(PREFIX) else text
    return text if HUB_ID.match(text) and ".." not in text else None


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Fetched:
    """One model as the Hub gave it: the API JSON, the card (or why it is unread), when and from where."""

    repo_id: str
    sha: str
    info: dict
    readme: str | None
    card_unread: str | None
    retrieved: str
    endpoint: str

    def source_info(self) -> SourceInfo:
        base = "https://huggingface.co" if self.endpoint == "https://huggingface.co" else self.endpoint
        return SourceInfo("hf", f"{PREFIX}{self.repo_id}", self.sha,
                          f"{base}/{self.repo_id}/blob/{self.sha}/README.md", retrieved=self.retrieved)

    def record(self, minter: Minter) -> LoadedRecord:
        """The record, built by the pure loader from what was fetched (RecordError for a bad card)."""
        return load_hf_hub(self.readme, self.info, self.source_info(), minter, self.card_unread)


def _write(path: Path, text: str) -> None:
    """Write a cache file whole or not at all (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class HubCache:
    """The raw answers of the Hub, by model and commit, under the store folder: one file per commit fetched
    (``{sha}.json``: the API's answer verbatim as text, the README.md text or why it is unread, endpoint and
    retrieval time) and ``ref``, the commit fetched last."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _model_dir(self, repo_id: str) -> Path:
        org, name = repo_id.lower().split("/", 1)  # ids are case-insensitive on the Hub; checked by HUB_ID
        return self.root / "models" / org / name

    def put(self, fetched: Fetched, raw_info: str) -> None:
        folder = self._model_dir(fetched.repo_id)
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / f"{fetched.sha}.json", json.dumps({
            "repo_id": fetched.repo_id, "sha": fetched.sha, "endpoint": fetched.endpoint,
            "retrieved": fetched.retrieved, "info": raw_info, "readme": fetched.readme,
            "card_unread": fetched.card_unread}, ensure_ascii=False))
        _write(folder / "ref", fetched.sha)

    def _entry(self, repo_id: str, sha: str) -> dict | None:
        try:
            return json.loads((self._model_dir(repo_id) / f"{sha}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def readme(self, repo_id: str, sha: str) -> str | None:
        entry = self._entry(repo_id, sha)
        return entry.get("readme") if entry else None

    def get(self, repo_id: str) -> Fetched | None:
        """The model as last fetched, or None if it never was."""
        try:
            sha = (self._model_dir(repo_id) / "ref").read_text(encoding="utf-8").strip()
        except OSError:
            return None
        entry = self._entry(repo_id, sha)
        if entry is None:
            return None
        return Fetched(entry["repo_id"], sha, json.loads(entry["info"]), entry["readme"], entry["card_unread"],
                       entry["retrieved"], entry["endpoint"])


class HubClient:
    """Fetches models through ``huggingface_hub`` and keeps what it fetched in a :class:`HubCache`.
    ``endpoint`` and ``token`` default to the client's own (``HF_ENDPOINT``; ``HF_TOKEN`` or the saved
    token); retries follow the client's ``http_backoff`` (429 and 5xx, ``Retry-After`` honoured)."""

    def __init__(self, cache_dir: Path, *, endpoint: str | None = None, token: str | bool | None = None,
                 max_retries: int = 5, base_wait: float = 1.0, max_wait: float = 8.0) -> None:
        from huggingface_hub import constants

        # HF_ENDPOINT as the client reads it, read again here so a long-running server sees its environment
        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
        self.token = token
        self.cache = HubCache(cache_dir)
        self._headers: dict[str, str] | None = None
        self._retry = {"max_retries": max_retries, "base_wait_time": base_wait, "max_wait_time": max_wait}

    @staticmethod
    def offline() -> bool:
        from huggingface_hub import constants

        return constants.is_offline_mode()

    def headers(self) -> dict[str, str]:
        """The client's headers (token, user agent), built once: they do not change during a harvest."""
        from huggingface_hub.utils import build_hf_headers

        if self._headers is None:
            self._headers = build_hf_headers(token=self.token)
        return self._headers

    def has_token(self) -> bool:
        return "authorization" in {k.lower() for k in self.headers()}

    def _get(self, url: str, params: dict | list | None = None):
        """One GET through the client (backoff on 429/5xx), raising the client's errors."""
        from huggingface_hub.utils import hf_raise_for_status, http_backoff

        response = http_backoff("GET", url, params=params, headers=self.headers(), timeout=60, **self._retry)
        hf_raise_for_status(response)
        return response

    def fetch(self, repo_id: str, listed: dict | None = None) -> Fetched:
        """The model's API JSON (``listed``: the listing's entry, when it already has the sha and the files)
        and its README.md at that sha (from the cache when that commit was fetched before). Offline
        (``HF_HUB_OFFLINE``): the model as last fetched. Raises :class:`HubError` with the reason."""
        if self.offline():
            cached = self.cache.get(repo_id)
            if cached is None:
                raise HubError(repo_id, f"not in the cache ({self.cache.root}) and HF_HUB_OFFLINE is set: "
                                        "unset it to fetch the model")
            return cached
        try:
            if listed is not None and isinstance(listed.get("sha"), str) and isinstance(listed.get("siblings"), list):
                info, raw = listed, json.dumps(listed, ensure_ascii=False)
            else:
                response = self._get(f"{self.endpoint}/api/models/{repo_id}")
                raw = response.text
                info = response.json()
            if not isinstance(info, dict) or not isinstance(info.get("sha"), str):
                raise HubError(repo_id, "the Hub answered without a commit sha; nothing to pin the card to")
            sha = info["sha"]
            readme, unread = self.cache.readme(repo_id, sha), None
            if readme is None:
                readme, unread = self._readme(repo_id, sha, info)
        except HubError:
            raise
        except Exception as exc:  # the client's errors and httpx's, mapped to one line each
            raise HubError(repo_id, describe(exc, self.endpoint)) from None
        fetched = Fetched(info.get("id", repo_id) if isinstance(info.get("id"), str) else repo_id, sha, info,
                          readme, unread, now_iso(), self.endpoint)
        self.cache.put(fetched, raw)
        return fetched

    def _readme(self, repo_id: str, sha: str, info: dict) -> tuple[str | None, str | None]:
        """(README.md text, None), or (None, why unread) for a gated repository without access."""
        from huggingface_hub import hf_hub_url
        from huggingface_hub.errors import GatedRepoError, RemoteEntryNotFoundError

        try:
            response = self._get(hf_hub_url(repo_id, "README.md", revision=sha, endpoint=self.endpoint))
        except GatedRepoError as exc:
            status = exc.response.status_code if exc.response is not None else "401/403"
            gated = info.get("gated") or "yes"
            return None, (f"gated repository (gated: {gated}); README.md not readable (HTTP {status}) "
                          + ("with this token: accept the model's terms on the Hub" if self.has_token()
                             else "without a token: set HF_TOKEN to a token that accepted its terms"))
        except RemoteEntryNotFoundError:
            raise HubError(repo_id, f"no README.md at commit {sha}: there is no card to read") from None
        try:
            return response.content.decode("utf-8"), None
        except UnicodeDecodeError:
            raise HubError(repo_id, "README.md is not UTF-8 text") from None

    def list_pages(self, params: dict, start_url: str | None = None) -> Iterator[tuple[str, list[dict], str | None]]:
        """(page URL, entries, next page URL) for each page of ``/api/models`` (the request
        ``HfApi.list_models`` sends), following the ``Link`` headers, from ``start_url`` if given. A next
        link to another host is refused: the token must not leave the endpoint."""
        url = start_url or f"{self.endpoint}/api/models?{urlencode(params, doseq=True)}"
        host = urlsplit(self.endpoint).netloc
        while url:
            if urlsplit(url).netloc != host:
                raise HubError("*", f"the listing's next page is on another host ({urlsplit(url).netloc}); refused")
            try:
                response = self._get(url)
                entries = response.json()
            except Exception as exc:  # the listing itself failed: the harvest stops, its cursor stays
                raise HubError("*", f"the listing failed: {describe(exc, self.endpoint)}") from None
            if not isinstance(entries, list):
                raise HubError("*", "the listing is not a JSON array")
            next_url = response.links.get("next", {}).get("url")
            yield url, entries, next_url
            url = next_url


def describe(exc: BaseException, endpoint: str) -> str:
    """One line for an error of the client (or its HTTP library), saying what happened and what to do."""
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, OfflineModeIsEnabled):
        return "HF_HUB_OFFLINE is set: unset it to fetch from the Hub"
    if isinstance(exc, GatedRepoError):
        return f"gated repository (HTTP {status}): set HF_TOKEN to a token that accepted its terms"
    if isinstance(exc, RepositoryNotFoundError):
        return f"no such model on {endpoint} (HTTP {status}); check the id (private models need HF_TOKEN)"
    if isinstance(exc, RevisionNotFoundError):
        return f"revision not found (HTTP {status})"
    if isinstance(exc, RemoteEntryNotFoundError):
        return f"file not found (HTTP {status})"
    if isinstance(exc, HfHubHTTPError):
        if status == 429:
            return "rate limited by the Hub (HTTP 429) after retrying with backoff; run again later to resume"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"the Hub answered HTTP {status}: {first}"[:300]
    name = type(exc).__name__
    if "Connect" in name or "Timeout" in name or "Network" in name or isinstance(exc, OSError):
        return f"cannot reach {endpoint} ({name}: {exc}); check HF_ENDPOINT and the network"[:300]
    return f"{name}: {exc}"[:300]


def load_models(store: GraphStore, minter: Minter, client: HubClient, repo_ids: Iterable[str],
                progress: Callable[[int], None] | None = None) -> LoadReport:
    """``openness load hf:ORG/NAME ...``: fetch each model, load it (its graph replaced whole), then the
    cross-source links. A model that cannot be fetched or read is reported and stores nothing."""
    report = LoadReport()
    load_reference(store, minter)
    pending: dict[str, list[ox.Quad]] = {}
    for repo_id in repo_ids:
        try:
            record = client.fetch(repo_id).record(minter)
            pending[record.graph_iri] = record_quads(record)
            report.loaded.append(record.record_id)
        except HubError as exc:
            report.errors.append(RecordError(f"{PREFIX}{exc.repo_id}", exc.reason))
        except RecordError as exc:
            report.errors.append(RecordError(f"{PREFIX}{repo_id}", exc.message, exc.line, exc.column))
        if progress:
            progress(1)
    store.replace_quads(pending)
    link_records(store, minter)
    return report


# --- harvest -------------------------------------------------------------------------------------------------


@dataclass
class HarvestQuery:
    author: str | None = None
    search: str | None = None
    filter: list[str] = field(default_factory=list)
    limit: int | None = None

    def params(self) -> dict:
        """The query string ``HfApi.list_models(author=, search=, filter=, full=True, cardData=True)`` sends."""
        params: dict = {"full": "True", "cardData": "True",
                        "limit": min(self.limit, PAGE_SIZE) if self.limit else PAGE_SIZE}
        if self.author:
            params["author"] = self.author
        if self.search:
            params["search"] = self.search
        if self.filter:
            params["filter"] = list(self.filter)
        return params


@dataclass
class HarvestReport:
    listed: int = 0
    loaded: int = 0
    unchanged: int = 0
    unread: int = 0  # loaded from the API alone: card not readable (gated without access)
    failed: list[tuple[str, str]] = field(default_factory=list)
    failed_before: int = 0  # failures of the run this one resumes
    resumed_at: int | None = None  # position in the listing a resumed harvest started from
    complete: bool = False


@dataclass
class Cursor:
    """Where a harvest is: the query, the page being worked on and how far into it, the counts so far."""

    key: str
    page_url: str
    offset: int = 0
    position: int = 0
    loaded: int = 0
    unchanged: int = 0
    unread: int = 0
    failed: int = 0


def cursor_graph(minter: Minter) -> str:
    return f"{minter.base}graph/harvest/hf"


def read_cursor(store: GraphStore, minter: Minter) -> Cursor | None:
    rows = store.select(f"SELECT ?v WHERE {{ GRAPH <{cursor_graph(minter)}> {{ "
                        f"<{cursor_graph(minter)}> <{RDF.value}> ?v }} }}")
    if not rows:
        return None
    try:
        return Cursor(**json.loads(rows[0]["v"].value))
    except (TypeError, ValueError):
        return None


def _cursor_quads(minter: Minter, cursor: Cursor) -> list[ox.Quad]:
    graph = new_graph()
    node = URIRef(cursor_graph(minter))
    graph.add((node, RDF.value, Literal(json.dumps(asdict(cursor), sort_keys=True))))
    graph.add((node, DCT.modified, Literal(now_iso())))
    return list(graph_quads(graph, cursor_graph(minter)))


def stored_shas(store: GraphStore) -> dict[str, tuple[str, bool]]:
    """{Hub id (lower-case): (commit loaded, card unread)} of the Hub records in the store."""
    return {row["hf"].value.lower(): (row["sha"].value, "unread" in row) for row in store.select(STORED_SHAS)}


def harvest(store: GraphStore, minter: Minter, client: HubClient, query: HarvestQuery,
            progress: Callable[[int], None] | None = None,
            stop_requested: Callable[[], bool] = lambda: False) -> HarvestReport:
    """Load every model the listing names, ``query.limit`` at most; see the module docstring for what is
    skipped, how failures are reported and how an interrupted harvest resumes. Raises :class:`HubError`
    when the listing itself fails (the cursor stays: running again resumes), and KeyboardInterrupt after
    the batch during which ``stop_requested`` became true (its records and the cursor past them written)."""
    key = json.dumps({"endpoint": client.endpoint, **asdict(query)}, sort_keys=True)
    cursor = read_cursor(store, minter)
    report = HarvestReport()
    if cursor is not None and cursor.key == key:
        report.resumed_at = cursor.position
        report.loaded, report.unchanged, report.unread = cursor.loaded, cursor.unchanged, cursor.unread
        report.listed = cursor.position
    else:
        cursor = None
    load_reference(store, minter)
    known = stored_shas(store)
    token = client.has_token()
    start = cursor.page_url if cursor else None
    skip = cursor.offset if cursor else 0
    failed_before = report.failed_before = cursor.failed if cursor else 0
    position = cursor.position if cursor else 0
    limit = query.limit
    try:
        with ThreadPoolExecutor(FETCH_WORKERS) as pool:
            for page_url, entries, next_url in client.list_pages(query.params(), start):
                offset, entries, skip = skip, entries[skip:], 0  # a resumed page: its first entries are done
                if limit is not None:
                    entries = entries[:max(0, limit - position)]
                for start_at in range(0, len(entries), BATCH):
                    batch = entries[start_at:start_at + BATCH]
                    pending = _harvest_batch(pool, client, minter, batch, known, token, report)
                    offset += len(batch)
                    position += len(batch)
                    report.listed = position
                    cursor = Cursor(key, page_url, offset, position, report.loaded, report.unchanged,
                                    report.unread, failed_before + len(report.failed))
                    pending[cursor_graph(minter)] = _cursor_quads(minter, cursor)
                    store.replace_quads(pending)  # the records of the batch, then the cursor past them
                    if progress:
                        progress(len(batch))
                    if stop_requested():
                        raise KeyboardInterrupt
                if (limit is not None and position >= limit) or next_url is None:
                    break
                cursor = Cursor(key, next_url, 0, position, report.loaded, report.unchanged, report.unread,
                                failed_before + len(report.failed))
                store.replace_quads({cursor_graph(minter): _cursor_quads(minter, cursor)})
        store.drop_graphs([cursor_graph(minter)])
        report.complete = True
    finally:
        link_records(store, minter)
    return report


def _harvest_batch(pool: ThreadPoolExecutor, client: HubClient, minter: Minter, batch: list,
                   known: dict[str, tuple[str, bool]], token: bool, report: HarvestReport) -> dict[str, list]:
    """Fetch (in parallel) and build the records of one batch of listing entries; count and report."""
    todo: list[tuple[str, dict]] = []
    for entry in batch:
        repo_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(repo_id, str) or not HUB_ID.match(repo_id):
            report.failed.append((str(repo_id), "the listing names no valid model id"))
            continue
        stored = known.get(repo_id.lower())
        if stored and stored[0] == entry.get("sha") and not (stored[1] and token):
            report.unchanged += 1  # same commit as loaded (a card unread for want of a token stays so)
            continue
        todo.append((repo_id, entry))

    def one(item: tuple[str, dict]) -> LoadedRecord | HubError | RecordError:
        repo_id, entry = item
        try:
            return client.fetch(repo_id, listed=entry).record(minter)
        except (HubError, RecordError) as exc:
            return exc

    pending: dict[str, list] = {}
    for (repo_id, _), result in zip(todo, pool.map(one, todo), strict=True):
        if isinstance(result, HubError):
            report.failed.append((repo_id, result.reason))
            continue
        if isinstance(result, RecordError):
            report.failed.append((repo_id, result.message if result.line is None
                                  else f"line {result.line}: {result.message}"))
            continue
        try:
            pending[result.graph_iri] = record_quads(result)
        except RecordError as exc:
            report.failed.append((repo_id, exc.message))
            continue
        known[repo_id.lower()] = (result.graph.value(URIRef(result.graph_iri), OG.sourceCommit).toPython(),
                                  (result.iri, OG.cardUnreadReason, None) in result.graph)
        report.loaded += 1
        report.unread += (result.iri, OG.cardUnreadReason, None) in result.graph
    return pending
