"""The listing index behind ``/models``, ``/releases``, ``/compare``, the landing page and family pages.

A query yields ~8 µs per solution row, so reading every record, release and verdict per request costs
seconds at 100k records, and ORDER BY sorts them all. Instead each web process keeps one compact row per
record and per release (name, producer, source, date, verdicts, flags), each sort order computed once, and
filters and pages them in memory. The index is keyed by the store's write generation and the current run
(the pointer ``<assessments> dcat:hasCurrentVersion ?run`` and the run's digest: one tiny query per request),
so a write through this server or a new assessment makes the next request use a fresh one; a remote store,
which can change behind our back, is also re-read after ``REMOTE_MAX_AGE`` seconds. It is built at start and
after every write, in a background thread, so readers rarely wait for it.

Building it reads every row (seconds per 10k records), so the embedded store's index is also saved in the
store folder (``listing-index.json``) with the state it was built from: the current run (graph and digest),
the change journal (which names every graph written since the run, ``server.store.journal``) and the mark
of writes the journal does not see (``written-since-assessment``). A process that starts on the same state,
or another worker of the same server, loads it instead of building it (~10x faster)."""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

from loaders.vocab import Minter
from server.assess.definitions import BY_ID, DEFINITIONS
from server.assess.run_graphs import current_run
from server.store import GraphStore, OxigraphStore
from server.web import page_queries as pq
from server.web import release_queries as rq

log = logging.getLogger("openness.listing")

REMOTE_MAX_AGE = 60.0
PER_PAGE = 50
MAX_PER_PAGE = 500
VERDICT_RANK = {"pass": 0, "insufficient-evidence": 1, "fail": 2}
# sort keys: each has a natural direction (names A-Z, newest first, most open first); "-key" reverses it
SORTS = ("id", "name", "producer", "date", *(d.id for d in DEFINITIONS))
SORT_ALIASES = {"year": "date"}  # the comparison view's older name for the date order
RECORD_FILTERS = ("source", "producer", "year", "type", "q")
RELEASE_FILTERS = (*RECORD_FILTERS, "family", "flag")


class BadParameter(ValueError):
    """A listing parameter out of range or unknown; the message says what to send instead."""


# --- the index ------------------------------------------------------------------------------------------------

Row = pq.ModelRow | rq.ReleaseRow


@dataclass
class Listing:
    """Every record and release of one store state and assessment run, in every sort order."""

    key: tuple
    records: list[pq.ModelRow]
    releases: list[rq.ReleaseRow]
    build_seconds: float
    orders: dict[tuple[str, str], list] = field(default_factory=dict)  # (kind, sort) -> rows
    origin: str = "built"  # or "saved": loaded from the index saved in the store folder
    facet_values: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # kind -> facets, once computed

    def rows(self, kind: str) -> list:
        return self.records if kind == "records" else self.releases

    def facets(self, kind: str) -> dict[str, list[str]]:
        """The values the filter forms offer (sources, types, years, flag kinds), over every row; computed once
        (a pass over every row: 0.3 s at 100k records), when the index is built or loaded."""
        if kind not in self.facet_values:
            self.facet_values[kind] = self._facets(kind)
        return self.facet_values[kind]

    def _facets(self, kind: str) -> dict[str, list[str]]:
        rows = self.rows(kind)
        return {"sources": sorted({s for r in rows for s in r.source.split(", ")}),
                "types": sorted({r.type for r in rows if r.type}),
                "years": sorted({r.year for r in rows if r.year}),
                "flag_kinds": sorted({k for r in rows if isinstance(r, rq.ReleaseRow) for k in r.flags})}


def _sort_key(sort: str) -> Callable[[Any], tuple]:
    if sort == "id":
        return lambda r: (r.id,)
    if sort == "name":
        return lambda r: (r.name.lower(), r.id)
    if sort == "producer":
        return lambda r: ((r.producer or "\uffff").lower(), r.name.lower(), r.id)

    def verdict(r) -> tuple:
        v = r.verdicts.get(sort) or {}
        if "verdict" in v:
            rank: float = VERDICT_RANK.get(v["verdict"], 3)
        elif "class" in v:
            rank = -v["class"]
        elif v.get("score") is not None:
            rank = -v["score"]
        else:
            rank = 9
        return (rank, r.name.lower(), r.id)
    return verdict


def _ordered(rows: list, sort: str) -> list:
    if sort == "date":  # newest first, undated last
        dated = sorted((r for r in rows if r.issued), key=lambda r: (r.name.lower(), r.id))
        dated.sort(key=lambda r: r.issued, reverse=True)
        return dated + sorted((r for r in rows if not r.issued), key=lambda r: (r.name.lower(), r.id))
    return sorted(rows, key=_sort_key(sort))


def build_listing(store: GraphStore, minter: Minter, key: tuple) -> Listing:
    """Read every record and release with their stored verdicts and flags, and sort them every way."""
    started = time.perf_counter()
    records = pq.model_rows(store)
    verdicts, release_verdicts = pq.stored_verdicts_of_both(store, minter)
    same_as = pq.same_as_links(store)
    shared: dict[tuple, dict] = {}
    for row in records:  # stored assessments name the minted IRI (server.assess.run_graphs.verdict_quads)
        row.verdicts = _shared(verdicts.get(minter.record(row.id), {}), shared)
        row.same_as = same_as.get(row.id, [])
        row.search = "\n".join((row.name, row.id, row.producer or "")).lower()
    releases = rq.release_rows(store, minter, records, release_verdicts)
    for rel in releases:
        rel.verdicts = _shared(rel.verdicts, shared)
        rel.search = "\n".join((rel.name, rel.id, rel.producer or "", *(rid for rid, _ in rel.records))).lower()
    listing = Listing(key, records, releases, 0.0)
    for kind in ("records", "releases"):
        for sort in SORTS:
            listing.orders[(kind, sort)] = listing.rows(kind) if sort == "id" else _ordered(listing.rows(kind), sort)
    for kind in ("records", "releases"):
        listing.facets(kind)
    listing.build_seconds = time.perf_counter() - started
    log.info("listing index: %d records, %d releases in %.2f s", len(records), len(releases),
             listing.build_seconds)
    return listing


def _shared(verdicts: dict, seen: dict[tuple, dict]) -> dict:
    """One dict per distinct set of verdicts: rows share them (most rows repeat a few combinations)."""
    key = tuple(sorted((d, tuple(sorted(v.items()))) for d, v in verdicts.items()))
    return seen.setdefault(key, verdicts)


# --- saved beside the store ------------------------------------------------------------------------------------

SAVED_INDEX = "listing-index.json"
SAVED_FORMAT = 1  # bump when the rows' fields change


def saved_state(store: GraphStore, minter: Minter) -> str | None:
    """A digest of the store state an index is valid for (see the module docstring); None for a store whose
    changes cannot all be seen here (remote, in memory, read-only)."""
    if not isinstance(store, OxigraphStore) or store.journal.path is None:
        return None
    run = current_run(store, minter)
    journal = store.journal.read()
    mark = store.path / OxigraphStore.UNTRACKED_WRITES_FILE
    untracked = mark.stat().st_mtime_ns if mark.exists() else 0
    payload = [SAVED_FORMAT, run and [run.graph, run.digest], journal.run, journal.head, journal.end,
               sorted(journal.graphs), untracked]
    return hashlib.sha256(orjson.dumps(payload)).hexdigest()


def save_listing(listing: Listing, folder: Path, state: str) -> None:
    """Write the index (rows and sort orders as row positions) atomically: a temporary file, then a rename."""
    def positions(rows: list, order: list) -> list[int]:
        at = {id(row): i for i, row in enumerate(rows)}
        return [at[id(row)] for row in order]

    record_fields = [f.name for f in fields(pq.ModelRow)]
    release_fields = [f.name for f in fields(rq.ReleaseRow)]
    payload = {"state": state, "records": [{f: getattr(r, f) for f in record_fields} for r in listing.records],
               "releases": [{f: getattr(r, f) for f in release_fields} for r in listing.releases],
               "orders": [[kind, sort, positions(listing.rows(kind), rows)]
                          for (kind, sort), rows in listing.orders.items()]}
    target = folder / SAVED_INDEX
    partial = target.with_name(f"{SAVED_INDEX}.{os.getpid()}.partial")
    try:
        partial.write_bytes(orjson.dumps(payload))
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        log.warning("could not save the listing index in %s (%s); it is built again at the next start", folder, exc)


def load_listing(folder: Path, state: str, key: tuple) -> Listing | None:
    """The saved index if it was built from ``state``, else None."""
    try:
        payload = orjson.loads((folder / SAVED_INDEX).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(payload, dict) or payload.get("state") != state:
        return None
    started = time.perf_counter()
    shared: dict[tuple, dict] = {}
    records = [pq.ModelRow(**{**row, "verdicts": _shared(row["verdicts"], shared)}) for row in payload["records"]]
    releases = [rq.ReleaseRow(**{**row, "records": [tuple(r) for r in row["records"]], "flags": Counter(row["flags"]),
                                 "verdicts": _shared(row["verdicts"], shared)}) for row in payload["releases"]]
    listing = Listing(key, records, releases, 0.0, origin="saved")
    for kind, sort, order in payload["orders"]:
        rows = listing.rows(kind)
        listing.orders[(kind, sort)] = [rows[i] for i in order]
    for kind in ("records", "releases"):
        listing.facets(kind)
    listing.build_seconds = time.perf_counter() - started
    log.info("listing index: %d records, %d releases loaded from %s in %.2f s", len(records), len(releases),
             folder / SAVED_INDEX, listing.build_seconds)
    return listing


# --- one per web process: the current index, rebuilt when the store or the run changes ------------------------

class ListingCache:
    """The index of one web process, the lock that lets only one request or warmer build it, and the
    warmer threads (joined before the store closes)."""

    def __init__(self) -> None:
        self.listing: Listing | None = None
        self.lock = threading.Lock()
        self.warmers: list[threading.Thread] = []


def store_generation(state) -> int | None:
    """A counter bumped by every write through this server (``server.sparql.endpoint``), or None when the
    store can change behind our back. Oxigraph locks its folder to one writing process, so every change to
    the embedded store passes through here; a remote store is shared."""
    if not isinstance(state.store, OxigraphStore):
        return None
    return getattr(state, "store_generation", 0)


def state_key(state) -> tuple:
    """What the index depends on: the write generation and the current run (graph and digest: a run
    written in place keeps its graph); for a remote store, also the time slot of ``REMOTE_MAX_AGE``."""
    run = current_run(state.store, Minter(state.settings.base_iri))
    stamp = (run.graph, run.digest) if run else None
    generation = store_generation(state)
    if generation is None:
        return (None, stamp, int(time.monotonic() // REMOTE_MAX_AGE))
    return (generation, stamp)


def _cache(state) -> ListingCache:
    cache = getattr(state, "listing_cache", None)
    if cache is None:
        cache = state.listing_cache = ListingCache()
    return cache


def current_listing(state) -> Listing:
    """The index for the store as it is now (built here if stale; blocking: call from a worker thread)."""
    cache = _cache(state)
    key = state_key(state)
    kept = cache.listing
    if kept is not None and kept.key == key:
        return kept
    built = None
    with cache.lock:
        kept = cache.listing
        if kept is None or kept.key != key:
            minter = Minter(state.settings.base_iri)
            saved = saved_state(state.store, minter)
            folder = state.store.path if saved else None
            kept = load_listing(folder, saved, key) if folder else None
            if kept is None:
                kept = built = build_listing(state.store, minter, key)
            cache.listing = kept
    if built is not None and folder and saved_state(state.store, minter) == saved:  # nothing written meanwhile
        save_listing(built, folder, saved)
    return kept


def status(state) -> dict | None:
    """What ``/health`` says of this process's index: None until the first one is ready."""
    kept = _cache(state).listing
    if kept is None:
        return None
    return {"records": len(kept.records), "releases": len(kept.releases), "origin": kept.origin,
            "seconds": round(kept.build_seconds, 3)}


def warm(state) -> None:
    """Build the index in the background (at start, after a write), so the next reader finds it ready."""
    cache = _cache(state)

    def build() -> None:
        try:
            current_listing(state)
        except Exception:  # noqa: BLE001  (a reader builds it again and reports what failed)
            log.warning("could not build the listing index in the background", exc_info=True)

    cache.warmers = [t for t in cache.warmers if t.is_alive()]
    thread = threading.Thread(target=build, name="listing-warmer", daemon=True)
    cache.warmers.append(thread)
    thread.start()


def stop_warmers(state) -> None:
    """Wait for background builds (before the store they read is closed)."""
    for thread in _cache(state).warmers:
        thread.join()


# --- parameters ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListingQuery:
    """What one listing request asks for: filters, verdict conditions, sort, and the page."""

    filters: dict[str, str]
    verdicts: tuple[tuple[str, str], ...]
    sort: str
    page: int
    per_page: int
    paged: bool  # page or per_page was given (JSON and RDF are one page only then)

    def params(self) -> dict[str, str]:
        """The filters as query parameters (verdicts as ``verdict=def:value``), for links and forms."""
        out = dict(self.filters)
        if self.verdicts:
            out["verdict"] = ",".join(f"{d}:{v}" for d, v in self.verdicts)
        return out


def _whole(name: str, text: str, low: int, high: int | None, example: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise BadParameter(f"{name} must be a whole number {bound} (got {text!r}); for example ?{name}={example}")
    return value


def _verdict_condition(def_id: str, wanted: str) -> tuple[str, str]:
    definition = BY_ID.get(def_id)
    if definition is None:
        raise BadParameter(f"unknown definition {def_id!r} in a verdict filter; one of: {', '.join(BY_ID)} "
                           "(for example ?verdict=osaid-1.0:pass or ?osaid-1.0=pass)")
    if def_id == "mof-1.0":
        ok, expected = wanted in ("0", "1", "2", "3"), "a class 0, 1, 2 or 3"
    elif def_id == "osai-index":
        try:
            ok = 0.0 <= float(wanted) <= 1.0
        except ValueError:
            ok = False
        expected = "a minimum score from 0 to 1"
    else:
        ok, expected = wanted in VERDICT_RANK, "pass, fail or insufficient-evidence"
    if not ok:
        raise BadParameter(f"{def_id} filter must be {expected} (got {wanted!r}); for example "
                           f"?{def_id}={'2' if def_id == 'mof-1.0' else '0.5' if def_id == 'osai-index' else 'pass'}")
    return def_id, wanted


def parse_query(params: Iterable[tuple[str, str]], filters: tuple[str, ...], default_sort: str) -> ListingQuery:
    """Read a listing's query parameters: filters (``filters``), verdict conditions (``verdict=def:value``,
    several comma-separated or repeated, or ``def=value``), ``sort`` (``-`` reverses), ``page``, ``per_page``.
    Raises :class:`BadParameter` with what to send instead."""
    chosen: dict[str, str] = {}
    verdicts: list[tuple[str, str]] = []
    sort, page, per_page, paged = default_sort, 1, PER_PAGE, False
    for name, value in params:
        value = value.strip()
        if name in filters and value:
            chosen[name] = value
        elif name == "verdict" and value:
            for spec in value.split(","):
                def_id, _, wanted = spec.strip().partition(":")
                verdicts.append(_verdict_condition(def_id, wanted))
        elif name in BY_ID and value:
            verdicts.append(_verdict_condition(name, value))
        elif name == "sort" and value:
            bare = value.lstrip("-")
            bare = SORT_ALIASES.get(bare, bare)
            if bare not in SORTS:
                raise BadParameter(f"cannot sort by {value!r}; sort by one of: {', '.join(SORTS)} "
                                   "(a leading '-' reverses the order)")
            sort = ("-" if value.startswith("-") else "") + bare
        elif name == "page":
            page, paged = _whole("page", value, 1, None, "2"), True
        elif name == "per_page":
            per_page, paged = _whole("per_page", value, 1, MAX_PER_PAGE, "100"), True
    return ListingQuery(chosen, tuple(dict.fromkeys(verdicts)), sort, page, per_page, paged)


# --- filtering and paging -------------------------------------------------------------------------------------

def _matches(row: Row, query: ListingQuery) -> bool:
    f = query.filters
    if "source" in f and f["source"] not in (row.sources if isinstance(row, rq.ReleaseRow) else (row.source,)):
        return False
    if "producer" in f and f["producer"].lower() not in (row.producer or "").lower():
        return False
    if "year" in f and row.year != f["year"]:
        return False
    if "type" in f and (row.type or "").lower() != f["type"].lower():
        return False
    if "family" in f and row.family != f["family"]:
        return False
    if "flag" in f and not row.flags.get(f["flag"]):
        return False
    if "q" in f and f["q"].lower() not in row.search:
        return False
    return all(pq.verdict_matches(row.verdicts, f"{d}:{v}") for d, v in query.verdicts)


def select(listing: Listing, kind: str, query: ListingQuery) -> list:
    """The rows of ``kind`` (``records`` or ``releases``) that the filters keep, in the requested order."""
    bare = query.sort.lstrip("-")
    ordered: Iterable = listing.orders[(kind, bare)]
    if query.sort.startswith("-"):
        ordered = reversed(ordered)  # type: ignore[arg-type]
    if not query.filters and not query.verdicts:
        return list(ordered)
    return [row for row in ordered if _matches(row, query)]


@dataclass(frozen=True)
class Page:
    """One page of a filtered listing, with what the pager shows."""

    rows: list
    total: int  # rows the filters keep
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        return min(self.total, (self.page - 1) * self.per_page + 1)

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)


def paginate(rows: list, query: ListingQuery) -> Page:
    """The requested page; a page past the last one raises :class:`BadParameter`."""
    page = Page(rows[(query.page - 1) * query.per_page: query.page * query.per_page], len(rows), query.page,
                query.per_page)
    if query.page > page.pages:
        raise BadParameter(f"page {query.page} is past the last page ({page.pages}) of {page.total} rows at "
                           f"per_page={query.per_page}; ask for page 1 to {page.pages}")
    return page


def page_links(path: str, params: Iterable[tuple[str, str]], page: Page) -> dict[str, str]:
    """``{rel: path?query}`` for first, prev, next and last: the request's parameters with another page."""
    kept = [(k, v) for k, v in params if k != "page"]

    def url(n: int) -> str:
        return f"{path}?{urlencode([*kept, ('page', str(n))])}"

    links = {"first": url(1)}
    if page.page > 1:
        links["prev"] = url(page.page - 1)
    if page.page < page.pages:
        links["next"] = url(page.page + 1)
    links["last"] = url(page.pages)
    return links


def link_header(origin: str, links: dict[str, str]) -> str:
    """An RFC 8288 ``Link`` header of absolute URLs: ``<{origin}{path?query}>; rel="next", ...``."""
    return ", ".join(f'<{origin}{url}>; rel="{rel}"' for rel, url in links.items())

