"""Linked-Data pages, the comparison view, the catalog, the dumps and ``/validate``: one router.

Every resource answers by content negotiation (``Accept``): HTML for a browser, JSON where product.md
gives a JSON form, Turtle and JSON-LD for the RDF. Handlers only parse, negotiate and render; the SPARQL is
in ``server.web.page_queries`` and every store call runs in a worker thread, never on the event loop."""

from __future__ import annotations

import json
import math
import re
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

import anyio
import rdflib
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from rdflib import RDFS

from loaders.detect import MEDIA_TYPES
from loaders.vocab import DCAT, DCT, OG, SDO, SKOS, STATIC, Minter, bind_prefixes, path_segment
from server.assess.definitions import BY_ID, DEFINITIONS, requirements_of
from server.resources import ontology_file, resource_dir
from server.sparql.endpoint import negotiate
from server.web import listing
from server.web import page_queries as pq
from server.web.page_queries import model_path

router = APIRouter(tags=["pages"])

TEMPLATES = Path(__file__).parent / "templates"
STATIC_CSS = Path(__file__).parent / "static" / "site.css"
RDF_TYPES = {"text/turtle": "turtle", "application/ld+json": "json-ld"}
FOAF_NAME = "http://xmlns.com/foaf/0.1/name"
BINARY = [d.id for d in DEFINITIONS if d.result == "binary"]
FORMATS = {"auto": "detect from the content", "yaml": "MOT or Index YAML",
           "json": "Hugging Face card JSON, SPDX 3 AI BOM or CycloneDX ML-BOM",
           "markdown": "Hugging Face README.md", "turtle": "Turtle", "json-ld": "JSON-LD", "nt": "N-Triples"}
SUFFIX = {"yaml": ".yml", "json": ".json", "markdown": ".md", "turtle": ".ttl", "json-ld": ".jsonld", "nt": ".nt"}


# --- rendering helpers ----------------------------------------------------------------------------------

def safe_href(value: object) -> str | None:
    """Only http(s) URLs and site-relative paths ever become links (never ``javascript:`` or ``data:``)."""
    text = str(value or "").strip()
    if re.match(r"^https?://[^\s<>\"']+$", text, re.IGNORECASE) or re.match(r"^/(?!/)[^\s<>\"']*$", text):
        return text
    return None


def local_path(iri: str, base: str) -> str | None:
    """The path of this site that describes ``iri`` (an IRI minted under the base), else None."""
    for prefix in {base, STATIC}:
        if iri.startswith(prefix):
            rest = iri[len(prefix):]
            if rest.startswith(("models/", "organizations/", "families/", "datasets/", "definitions/")):
                return "/" + rest.split("#", 1)[0]
            if rest.startswith("licenses/"):
                return "/" + rest.split("/restriction/", 1)[0]
    if iri.startswith("http://spdx.org/licenses/"):
        return "/licenses/" + iri.rsplit("/", 1)[-1]
    return None


@cache
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["href"] = safe_href
    env.filters["model_path"] = model_path
    env.filters["tail"] = lambda iri: str(iri).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    env.filters["pct"] = lambda v: f"{float(v):.0f}%"
    env.filters["jsonpretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=1)
    env.globals["definitions"] = DEFINITIONS
    return env


def render(name: str, status_code: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(_env().get_template(name).render(**context), status_code=status_code,
                        headers={"Vary": "Accept"})


def accept(request: Request) -> str | None:
    return request.headers.get("accept")


def choose(request: Request, offered: list[str]) -> str | None:
    return negotiate(accept(request), offered)


def error(request: Request, status: int, code: str, message: str, **extra) -> Response:
    """A clear error: an HTML page for a browser, else JSON ``{"error", "message", ...}``."""
    if choose(request, ["application/json", "text/html"]) == "text/html":
        return render("error.html", status, status=status, code=code, message=message, extra=extra)
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def not_acceptable(request: Request, offered: list[str]) -> Response:
    return JSONResponse({"error": "not-acceptable", "message": "available as " + ", ".join(offered)}, 406)


def rdf_response(graph: rdflib.Graph, media: str) -> Response:
    bind_prefixes(graph)
    graph.bind("foaf", "http://xmlns.com/foaf/0.1/")
    return Response(graph.serialize(format=RDF_TYPES[media]), media_type=media, headers={"Vary": "Accept"})


def _store(request: Request):
    return request.app.state.store


def _minter(request: Request) -> Minter:
    return Minter(request.app.state.settings.base_iri)


async def run(func, *args):
    return await anyio.to_thread.run_sync(lambda: func(*args))


PAGE_CACHE_SIZE = 64


def store_generation(request: Request) -> int | None:
    """The write generation of the store (``server.web.listing.store_generation``): None means pages must not
    be cached."""
    return listing.store_generation(request.app.state)


async def license_facts(request: Request) -> dict:
    """The store's license facts (read by every record page's verdicts: ~0.2 s), kept until the next write."""
    from server.assess.engine import read_licenses

    generation = store_generation(request)
    kept = getattr(request.app.state, "license_facts", None)
    if generation is not None and kept is not None and kept[0] == generation:
        return kept[1]
    facts = await run(read_licenses, _store(request))
    if generation is not None:
        request.app.state.license_facts = (generation, facts)
    return facts


async def cached_page(request: Request, media: str, build) -> Response:
    """The listing pages (every record, with verdicts) cost ~0.5 s of CPU to query and render: keep the
    last ``PAGE_CACHE_SIZE`` answers (200s only) until the next write, so a busy server renders each once."""
    generation = store_generation(request)
    if generation is None:
        return await build()
    cache = getattr(request.app.state, "page_cache", None)
    if cache is None or cache[0] != generation:
        cache = request.app.state.page_cache = (generation, {})
    key = (request.url.path, str(request.query_params), media)
    hit = cache[1].get(key)
    if hit is not None:
        body, status, headers = hit
        return Response(body, status_code=status, headers=headers)
    response = await build()
    if response.status_code == 200 and isinstance(getattr(response, "body", None), bytes):
        if len(cache[1]) >= PAGE_CACHE_SIZE:
            cache[1].pop(next(iter(cache[1])))
        cache[1][key] = (response.body, response.status_code, dict(response.headers))
    return response


@router.get("/static/site.css", include_in_schema=False)
async def site_css() -> FileResponse:
    return FileResponse(STATIC_CSS, media_type="text/css")


# --- models -----------------------------------------------------------------------------------------------

def entry(row: pq.ModelRow) -> dict:
    """A record as ``openness models --format json`` lists it."""
    return {"id": row.id, "name": row.name, "source": row.source, "same_as": list(row.same_as)}


class Listed:
    """One listing request answered from the index: the index, the query, every row the filters keep in
    order, the requested page, and its links (``rel`` -> query string)."""

    def __init__(self, request: Request, kind: str, filters: tuple[str, ...], default_sort: str) -> None:
        self.request, self.kind, self.filters, self.default_sort = request, kind, filters, default_sort

    async def read(self) -> None:
        """Parse the parameters (raising ``BadParameter`` before any work), then select and page."""
        items = self.request.query_params.multi_items()
        self.query = listing.parse_query(items, self.filters, self.default_sort)

        def answer():
            index = listing.current_listing(self.request.app.state)
            rows = listing.select(index, self.kind, self.query)
            return index, rows, listing.paginate(rows, self.query)

        self.index, self.rows, self.page = await run(answer)
        self.links = listing.page_links(self.request.url.path, items, self.page)

    def headers(self, paged: bool) -> dict[str, str]:
        """``X-Total-Count`` always; the ``Link`` header (first, prev, next, last) when the answer is a page."""
        headers = {"Vary": "Accept", "X-Total-Count": str(self.page.total)}
        if paged:
            headers["Link"] = listing.link_header(str(self.request.base_url).rstrip("/"), self.links)
        return headers

    def context(self) -> dict:
        """What the listing templates share: the page, its links, the totals and the filter forms' values."""
        return {"page": self.page, "links": self.links, "params": self.query.params(), "sort": self.query.sort,
                "all_rows": len(self.index.rows(self.kind)), "sorts": listing.SORTS,
                "per_page_choices": PER_PAGE_CHOICES, **self.index.facets(self.kind)}


PER_PAGE_CHOICES = (25, 50, 100, 250, 500)


async def listed(request: Request, kind: str, filters: tuple[str, ...], default_sort: str) -> Listed | Response:
    """The listing for this request, or a 400 naming the parameter that was wrong and what to send."""
    answer = Listed(request, kind, filters, default_sort)
    try:
        await answer.read()
    except listing.BadParameter as exc:
        return error(request, 400, "bad-parameter", str(exc))
    return answer


@router.get("/models", summary="The loaded records (JSON, HTML, Turtle, JSON-LD), filtered, sorted and paged")
async def models(request: Request) -> Response:
    """Records filtered by ``source``, ``producer``, ``year``, ``type``, ``q`` (text in name, id, producer) and
    verdicts (``verdict=osaid-1.0:pass``, ``mof-1.0=2``, ``osai-index=0.5`` = score at least 0.5), sorted by
    ``sort`` (``id``, ``name``, ``producer``, ``date`` or a definition id; ``-`` reverses), paged by ``page`` and
    ``per_page`` (1-500, default 50). JSON and RDF are the whole filtered list unless ``page`` or ``per_page``
    is given; ``X-Total-Count`` and, for a page, ``Link`` (``rel=next`` ...) headers. HTML: one row per release
    unless ``view=records``."""
    offered = ["application/json", "text/html", "text/turtle", "application/ld+json"]
    media = choose(request, offered)
    if media is None:
        return not_acceptable(request, offered)
    return await cached_page(request, media, lambda: _models_page(request, media))


async def _models_page(request: Request, media: str) -> Response:
    view = "releases" if media == "text/html" and request.query_params.get("view") != "records" else "records"
    answer = await listed(request, view, listing.RELEASE_FILTERS if view == "releases" else listing.RECORD_FILTERS,
                          "id")
    if isinstance(answer, Response):
        return answer
    paged = media == "text/html" or answer.query.paged
    shown = answer.page.rows if paged else answer.rows
    headers = answer.headers(paged)
    if media == "application/json":
        return JSONResponse([entry(r) for r in shown], headers=headers)
    if media in RDF_TYPES:
        graph = rdflib.Graph()
        for row in shown:
            node = rdflib.URIRef(row.iri)
            graph.add((node, rdflib.RDF.type, OG.ModelRelease))
            graph.add((node, OG.recordId, rdflib.Literal(row.id)))
            graph.add((node, DCT.title, rdflib.Literal(row.name)))
            graph.add((node, OG.source, rdflib.Literal(row.source)))
        response = rdf_response(graph, media)
        response.headers.update(headers)
        return response
    page = await run(lambda: render("models.html", view=view, rows=answer.page.rows,
                                    compare_query=urlencode(answer.query.params()), **answer.context()))
    page.headers.update(headers)
    return page


SOURCE_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _record_id(source: str, name: str) -> str | None:
    """``source/name`` if it can name a record. The source goes into minted IRIs unescaped (sources are
    slugs: mot, osai-index, hf, native), so anything else is no record rather than a broken query."""
    if not SOURCE_SLUG.match(source) or not name or "/" in name:
        return None
    return f"{source}/{name}"


async def _existing_record(request: Request, source: str, name: str) -> tuple[str | None, Response | None]:
    record_id = _record_id(source, name)
    if record_id is None:
        return None, error(request, 404, "not-found", f"no record {source}/{name}")
    try:
        record_iri = await run(pq.resolve_record, _store(request), _minter(request), record_id)
    except pq.UnsafeIRI:
        record_iri = None
    if record_iri is None:
        return None, error(request, 404, "not-found", f"no record {record_id!r} is loaded; see /models")
    request.state.record_iri = record_iri
    return record_id, None


@router.get("/models/{source}/{name:path}/assessments",
            summary="The verdict object of one record (JSON, HTML, Turtle, JSON-LD)")
async def model_assessments(request: Request, source: str, name: str) -> Response:
    """The verdicts of every definition for this record, with reasons (equal to ``openness assess``)."""
    offered = ["application/json", "text/html", "text/turtle", "application/ld+json"]
    media = choose(request, offered)
    if media is None:
        return not_acceptable(request, offered)
    record_id, failure = await _existing_record(request, source, name)
    if failure:
        return failure
    store, minter = _store(request), _minter(request)
    if media in RDF_TYPES:
        return rdf_response(await run(pq.assessments_graph, store, minter, record_id), media)
    verdict = await run(pq.record_verdict, store, minter, record_id, request.state.record_iri,
                        await license_facts(request))
    if media == "application/json":
        return JSONResponse(verdict, headers={"Vary": "Accept"})
    return render("assessments.html", verdict=verdict, record_id=record_id, requirement_messages=_messages())


@router.get("/models/{source}/{name:path}/bom",
            summary="One record's AI bill of materials: SPDX 3.0.1 (application/spdx+json) or CycloneDX 1.6 "
                    "(application/vnd.cyclonedx+json)",
            responses={200: {"content": {"application/spdx+json": {}, "application/vnd.cyclonedx+json": {}}},
                       406: {"description": "neither BOM format is acceptable"}})
async def model_bom(request: Request, source: str, name: str, format: str | None = None) -> Response:
    """The record's artifacts, licenses, training datasets, producer and verdicts as an AI BOM, negotiated by
    Accept; ``?format=spdx3|cyclonedx`` overrides it (docs/bom.md)."""
    from server.bom.export import FORMATS, file_name, negotiate_format, record_bom

    fmt, reason = negotiate_format(accept(request), format, negotiate)
    if fmt is None:
        return JSONResponse({"error": "not-acceptable", "message": reason}, 406)
    record_id, failure = await _existing_record(request, source, name)
    if failure:
        return failure
    store, minter = _store(request), _minter(request)
    verdict = await run(pq.record_verdict, store, minter, record_id, request.state.record_iri,
                        await license_facts(request))
    text = await run(record_bom, store, minter, record_id, fmt, verdict, request.state.record_iri)
    return Response(text, media_type=FORMATS[fmt].media_type, headers={
        "Vary": "Accept", "Content-Disposition": f'inline; filename="{file_name(record_id, fmt)}"'})


@cache
def _messages() -> dict[str, str]:
    from server.assess.definitions import REQUIREMENTS

    return {f"{r.definition}/{r.id}": r.message for r in REQUIREMENTS}


def _model_page_data(store, minter: Minter, record_id: str, record_iri: str, licenses: dict) -> dict:
    details = pq.record_details(store, minter, record_id, record_iri)
    verdict = pq.record_verdict(store, minter, record_id, record_iri, licenses)
    return {"details": details, "verdict": verdict}


@router.get("/models/{source}/{name:path}", summary="One record (HTML, JSON, Turtle, JSON-LD)")
async def model_page(request: Request, source: str, name: str) -> Response:
    """The record, its artifacts and licenses, its verdicts with reasons, its provenance and the same
    model from other sources. RDF: the record's named graph plus its stored assessments."""
    offered = ["text/html", "application/json", "text/turtle", "application/ld+json"]
    media = choose(request, offered)
    if media is None:
        return not_acceptable(request, offered)
    record_id, failure = await _existing_record(request, source, name)
    if failure:
        return failure
    store, minter = _store(request), _minter(request)
    if media in RDF_TYPES:
        return rdf_response(await run(pq.record_graph, store, minter, record_id), media)
    data = await run(_model_page_data, store, minter, record_id, request.state.record_iri,
                     await license_facts(request))
    details = data["details"]
    props = details["props"]
    if media == "application/json":
        return JSONResponse({
            "id": record_id, "iri": request.state.record_iri, "name": data["verdict"]["name"],
            "source": source,
            "same_as": [x["id"] for x in details["links"] if x["relation"] == "same model"],
            "same_family_as": [x["id"] for x in details["links"] if x["relation"] == "same family"],
            "artifacts": [{"component": a["component"], "kind": a["kind"], "availability": a["availability"],
                           "license_statement": a["statement"], "licenses": [x["id"] for x in a["licenses"]]}
                          for a in details["artifacts"]],
            "provenance": details["provenance"], "verdicts": data["verdict"]["verdicts"],
            "release": details["release"]["id"] if details["release"] else None},
            headers={"Vary": "Accept"})
    base = minter.base

    def values(prop) -> list[tuple[str, str | None]]:
        return props.get(str(prop), [])

    facts = []
    for label, prop in (("Released", DCT.issued), ("Record date", OG.recordDate), ("Version", DCAT.version),
                        ("Type", OG.modelType),
                        ("Architecture", OG.architectureName), ("Hugging Face id", OG.huggingFaceId),
                        ("Note", SKOS.note), ("Also known as", SDO.alternateName)):
        for value, _ in values(prop):
            facts.append((label, value, None))
    for label, prop in (("Producer", OG.producer), ("Family", OG.ofFamily)):
        for value, lab in values(prop):
            facts.append((label, lab or value, local_path(value, base)))
    links = [(label, value) for label, prop in (("Landing page", DCAT.landingPage), ("Code", SDO.codeRepository),
                                               ("See also", RDFS.seeAlso))
             for value, _ in values(prop)]
    papers = sorted({u for a in details["artifacts"] for u in a["access"] + [v for v, _ in values(RDFS.seeAlso)]
                     if PAPER.match(u)})
    return await run(lambda: render(
        "model.html", record_id=record_id, papers=papers, iri=request.state.record_iri, verdict=data["verdict"],
        details=details, facts=facts, links=links, local_path=lambda i: local_path(i, base),
        requirement_messages=_messages()))


PAPER = re.compile(r"^https?://(arxiv\.org/(abs|pdf)/|(dx\.)?doi\.org/10\.)", re.IGNORECASE)


# --- comparison view ----------------------------------------------------------------------------------------

def chart_svg(rows: list[pq.ModelRow], top: int = 8) -> Markup:
    """Mean Open Source AI Index score per producer per release year, as an inline SVG line chart."""
    series: dict[str, dict[int, list[float]]] = {}
    for row in rows:
        score = row.verdicts.get("osai-index", {}).get("score")
        if score is None or row.year is None or not row.producer:
            continue
        series.setdefault(row.producer, {}).setdefault(int(row.year), []).append(score)
    producers = sorted(series, key=lambda p: (-sum(len(v) for v in series[p].values()), p))[:top]
    years = sorted({y for p in producers for y in series[p]})
    width, height, left, right, top_pad, bottom = 760, 300, 48, 200, 16, 36
    env = _env()
    if not years:
        return Markup(env.from_string('<p class="empty">No scored records with a release year to chart.</p>')
                      .render())
    y0, y1 = years[0], max(years[-1], years[0] + 1)
    plot_w, plot_h = width - left - right, height - top_pad - bottom

    def x(year: int) -> float:
        return round(left + (year - y0) / (y1 - y0) * plot_w, 1)

    def y(score: float) -> float:
        return round(top_pad + (1 - score) * plot_h, 1)

    palette = ["#1b6ca8", "#d1495b", "#66a182", "#edae49", "#8d5a97", "#2e4057", "#00798c", "#a23b72"]
    lines = []
    for i, producer in enumerate(producers):
        points = [(x(yr), y(sum(v) / len(v)), yr, sum(v) / len(v), len(v))
                  for yr, v in sorted(series[producer].items())]
        lines.append({"name": producer, "color": palette[i % len(palette)], "points": points,
                      "path": " ".join(f"{px},{py}" for px, py, *_ in points), "legend_y": top_pad + 8 + i * 18})
    template = env.get_template("chart.svg.html")
    ticks = [(x(yr), yr) for yr in range(y0, y1 + 1)]
    return Markup(template.render(width=width, height=height, left=left, right=right, top=top_pad,
                                  plot_w=plot_w, plot_h=plot_h, lines=lines, ticks=ticks,
                                  yticks=[(y(s), f"{s:.2f}") for s in (0, 0.25, 0.5, 0.75, 1.0)],
                                  legend_x=left + plot_w + 16, isnan=math.isnan))


@router.get("/compare", summary="Models × definitions matrix, filtered, sorted and paged (HTML)")
async def compare(request: Request) -> Response:
    """The matrix of stored verdicts with server-side filters (as ``/models``), ``sort`` (``name`` by default,
    ``producer``, ``date``, ``id`` or a definition id; ``-`` reverses), ``page`` and ``per_page``, plus openness
    over time per producer (over every row the filters keep, not only the page)."""
    return await cached_page(request, "text/html", lambda: _compare_page(request))


async def _compare_page(request: Request) -> Response:
    view = "records" if request.query_params.get("view") == "records" else "releases"
    answer = await listed(request, view, listing.RELEASE_FILTERS if view == "releases" else listing.RECORD_FILTERS,
                          "name")
    if isinstance(answer, Response):
        return answer
    extra = {"view": "records"} if view == "records" else {}
    if answer.query.paged:
        extra["per_page"] = str(answer.query.per_page)
    sort = answer.query.sort
    sort_links = {s: "/compare?" + urlencode({**answer.query.params(), **extra, "sort": "-" + s if s == sort else s})
                  for s in listing.SORTS}
    page = await run(lambda: render("compare.html", rows=answer.page.rows, chart=chart_svg(answer.rows), view=view,
                                    sort_links=sort_links, **answer.context()))
    page.headers.update(answer.headers(True))
    return page


# --- definitions, licenses, organizations, families, datasets -----------------------------------------------

@router.get("/definitions", summary="The openness definitions (HTML, JSON)")
async def definitions(request: Request) -> Response:
    offered = ["text/html", "application/json", "text/turtle", "application/ld+json"]
    media = choose(request, offered)
    if media is None:
        return not_acceptable(request, offered)
    counts = await run(pq.pass_counts, _store(request), _minter(request))
    if media == "application/json":
        return JSONResponse([{"id": d.id, "title": d.title, "result": d.result, "url": d.url,
                              "description": d.description, "counts": counts.get(d.id, {})}
                             for d in DEFINITIONS])
    if media in RDF_TYPES:
        from server.assess.definitions import definitions_graph

        return rdf_response(definitions_graph(), media)
    return render("definitions.html", counts=counts)


def _shapes_text(def_id: str) -> str | None:
    try:
        path = resource_dir("shapes") / f"{def_id}.ttl"
    except FileNotFoundError:
        return None
    return path.read_text(encoding="utf-8") if path.is_file() else None


@router.get("/definitions/{def_id}", summary="One definition: requirements, clauses, shapes (HTML, JSON, Turtle)")
async def definition(request: Request, def_id: str) -> Response:
    d = BY_ID.get(def_id)
    if d is None:
        return error(request, 404, "not-found", f"no definition {def_id!r}; one of: {', '.join(BY_ID)}")
    offered = ["text/html", "application/json", "text/turtle", "application/ld+json"]
    media = choose(request, offered)
    if media is None:
        return not_acceptable(request, offered)
    shapes = _shapes_text(def_id)
    if media == "text/turtle" and shapes is not None:
        return Response(shapes, media_type="text/turtle", headers={"Vary": "Accept"})
    reqs = requirements_of(def_id)
    if media in RDF_TYPES:
        from server.assess.definitions import definitions_graph

        full = definitions_graph()
        graph = rdflib.Graph()
        for node in [d.iri] + [r.iri for r in reqs]:
            for triple in full.triples((node, None, None)):
                graph.add(triple)
        return rdf_response(graph, media)
    counts = (await run(pq.pass_counts, _store(request), _minter(request))).get(def_id, {})
    if media == "application/json":
        return JSONResponse({"id": d.id, "title": d.title, "result": d.result, "url": d.url,
                             "description": d.description, "counts": counts,
                             "requirements": [{"id": r.id, "message": r.message, "clause": r.clause,
                                               "components": list(r.kinds), "test": r.test, "if_used": r.if_used}
                                              for r in reqs]})
    return render("definition.html", d=d, reqs=reqs, counts=counts, shapes=shapes)


@router.get("/definitions/{def_id}/{requirement}", include_in_schema=False)
async def requirement_iri(def_id: str, requirement: str) -> Response:
    return RedirectResponse(f"/definitions/{quote(def_id, safe='')}#{quote(requirement, safe='')}", 303)


@router.get("/licenses/{license_id}", summary="One license: freedoms, restrictions, records using it")
async def license_page(request: Request, license_id: str) -> Response:
    offered = ["text/html", "application/json", "text/turtle", "application/ld+json"]
    media = choose(request, offered)
    if media is None:
        return not_acceptable(request, offered)
    iri = pq.license_iri(license_id)
    details = await run(pq.license_details, _store(request), iri) if iri else None
    if details is None:
        return error(request, 404, "not-found", f"no license {license_id!r} in the license knowledge base")
    props = details["props"]

    def vals(prop) -> list[str]:
        return props.get(str(prop), [])

    freedoms_granted = sorted(v.rsplit("/", 1)[-1] for v in vals(OG.grantsFreedom))
    freedoms_withheld = sorted(v.rsplit("/", 1)[-1] for v in vals(OG.withholdsFreedom))
    spdxexp = "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/"
    info = {"id": license_id, "iri": iri, "label": (vals(RDFS.label) or [license_id])[0],
            "osi_approved": (vals(spdxexp + "isOsiApproved") or [None])[0],
            "fsf_libre": (vals(spdxexp + "isFsfLibre") or [None])[0],
            "freedoms_granted": freedoms_granted, "freedoms_withheld": freedoms_withheld,
            "restrictions": details["restrictions"],
            "used_by": details["users"], "datasets": details["datasets"]}
    if media == "application/json":
        return JSONResponse(info)
    if media in RDF_TYPES:
        graph = rdflib.Graph()
        node = rdflib.URIRef(iri)
        for p, values in props.items():
            for v in values:
                obj = rdflib.URIRef(v) if v.startswith(("http://", "https://")) else rdflib.Literal(v)
                graph.add((node, rdflib.URIRef(p), obj))
        return rdf_response(graph, media)
    return render("license.html", lic=info, comments=vals(RDFS.comment),
                  see_also=vals(RDFS.seeAlso) + vals(SKOS.exactMatch))


@router.get("/organizations/{slug}", summary="An organization: its models and datasets")
async def organization(request: Request, slug: str) -> Response:
    if not pq.SLUG.match(slug):
        return error(request, 404, "not-found", "no such organization")
    iri = f"{_minter(request).base}organizations/{path_segment(slug)}"
    info = await run(pq.organization_details, _store(request), iri)
    if info is None:
        return error(request, 404, "not-found", f"no organization {slug!r}")
    if choose(request, ["text/html", "application/json"]) == "application/json":
        return JSONResponse({"iri": iri, **info})
    return render("organization.html", org=info, iri=iri)


@router.get("/datasets", summary="The training datasets (HTML, JSON)")
async def datasets(request: Request) -> Response:
    rows = await run(pq.dataset_list, _store(request))
    if choose(request, ["application/json", "text/html"]) == "application/json":
        return JSONResponse(rows)
    return render("datasets.html", rows=rows)


@router.get("/datasets/{dataset_id}", summary="One training dataset")
async def dataset(request: Request, dataset_id: str) -> Response:
    if not pq.DATASET_ID.match(dataset_id):
        return error(request, 404, "not-found", "no such dataset")
    minter = _minter(request)
    iri = minter.dataset(dataset_id)
    info = await run(pq.dataset_details, _store(request), iri)
    if info is None:
        return error(request, 404, "not-found", f"no training dataset {dataset_id!r}")
    props = info["props"]
    if choose(request, ["text/html", "application/json"]) == "application/json":
        return JSONResponse({"iri": iri, "id": dataset_id,
                             "properties": {p: [v for v, _ in vs] for p, vs in props.items()},
                             "models": info["models"]})
    rows = [(p.rsplit("/", 1)[-1].rsplit("#", 1)[-1], v, lab, local_path(v, minter.base))
            for p, vs in sorted(props.items()) for v, lab in vs]
    title = (props.get(str(DCT.title)) or [(dataset_id, None)])[0][0]
    return render("dataset.html", iri=iri, title=title, rows=rows, models=info["models"])


# --- ontology -----------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def ontology_doc() -> dict:
    g = rdflib.Graph().parse(ontology_file(), format="turtle")
    owl = rdflib.OWL
    og_ns = str(OG)

    def label(node) -> str:
        return str(g.value(node, SKOS.prefLabel) or g.value(node, RDFS.label) or node)

    def text(node) -> str:
        return str(g.value(node, SKOS.definition) or g.value(node, RDFS.comment) or "")

    def anchor(node) -> str:
        s = str(node)
        return s[len(og_ns):] if s.startswith(og_ns) else s[len(STATIC):].replace("/", "-")

    classes = [{"iri": str(c), "anchor": anchor(c), "label": label(c), "text": text(c),
                "parents": [str(p) for p in g.objects(c, RDFS.subClassOf) if isinstance(p, rdflib.URIRef)]}
               for c in sorted(set(g.subjects(rdflib.RDF.type, owl.Class))) if str(c).startswith(og_ns)]
    props = []
    for kind in (owl.ObjectProperty, owl.DatatypeProperty, owl.AnnotationProperty):
        for p in sorted(set(g.subjects(rdflib.RDF.type, kind))):
            if str(p).startswith(og_ns):
                props.append({"iri": str(p), "anchor": anchor(p), "label": label(p), "text": text(p),
                              "kind": str(kind).rsplit("#", 1)[-1],
                              "domain": [str(x) for x in g.objects(p, RDFS.domain)],
                              "range": [str(x) for x in g.objects(p, RDFS.range)]})
    schemes = []
    for s in sorted(set(g.subjects(rdflib.RDF.type, SKOS.ConceptScheme))):
        concepts = [{"iri": str(c), "anchor": anchor(c), "label": label(c), "text": text(c)}
                    for c in sorted(set(g.subjects(SKOS.inScheme, s)))]
        schemes.append({"iri": str(s), "anchor": anchor(s), "label": label(s), "text": text(s),
                        "concepts": concepts})
    header = rdflib.URIRef(STATIC + "ontology")
    return {"title": str(g.value(header, DCT.title) or "Openness Graph ontology"),
            "description": str(g.value(header, DCT.description) or ""),
            "version": str(g.value(header, owl.versionInfo) or ""),
            "classes": classes, "properties": props, "schemes": schemes}


@router.get("/ontology", summary="The ontology: HTML documentation or Turtle")
async def ontology(request: Request) -> Response:
    offered = ["text/html", "text/turtle", "application/ld+json"]
    media = choose(request, offered)
    if media is None:
        return not_acceptable(request, offered)
    if media == "text/turtle":
        return Response(ontology_file().read_text(encoding="utf-8"), media_type="text/turtle",
                        headers={"Vary": "Accept"})
    if media == "application/ld+json":
        return rdf_response(rdflib.Graph().parse(ontology_file(), format="turtle"), media)
    return render("ontology.html", doc=await run(ontology_doc))


CONCEPT_SCHEMES = ("kind", "freedom", "restriction", "reason", "verdict", "data-class", "grade", "license-state",
                   "availability")


def _concept_redirect(scheme: str):
    async def concept(request: Request, term: str) -> Response:
        if not re.match(r"^[A-Za-z0-9_.\-]+$", term):
            return error(request, 404, "not-found", f"nothing at /{scheme}/{term}")
        return RedirectResponse(f"/ontology#{scheme}-{term}", 303)
    return concept


for _scheme in CONCEPT_SCHEMES:  # concept IRIs of the ontology's schemes -> their documentation
    router.add_api_route(f"/{_scheme}/{{term}}", _concept_redirect(_scheme), methods=["GET"],
                         include_in_schema=False)


@router.get("/graph/{source}/{name:path}", include_in_schema=False)
async def record_graph_iri(source: str, name: str) -> Response:
    """A record's named-graph IRI → the record's page."""
    return RedirectResponse(model_path(f"{source}/{name}"), 303)


# --- catalog and dumps ----------------------------------------------------------------------------------

CATALOG_TYPES = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml"}


@router.get("/catalog", summary="DCAT 3 catalog (DCAT-AP 3.0.1): Turtle, JSON-LD or RDF/XML")
async def catalog(request: Request) -> Response:
    from server.web.catalog import catalog_graph

    media = choose(request, list(CATALOG_TYPES))
    if media is None:
        return not_acceptable(request, list(CATALOG_TYPES))
    graph = await run(catalog_graph, _store(request), request.app.state.settings)
    return Response(graph.serialize(format=CATALOG_TYPES[media]), media_type=media, headers={"Vary": "Accept"})


DUMP_MEDIA = {"nquads": "application/n-quads", "turtle": "text/turtle", "jsonld": "application/ld+json"}


@router.get("/dump/{fmt}", summary="The whole graph: nquads, turtle or jsonld")
async def dump(request: Request, fmt: str) -> Response:
    from server.ingest.dumps import dump_bytes

    if fmt not in DUMP_MEDIA:
        return error(request, 404, "not-found", f"no dump format {fmt!r}; one of: {', '.join(DUMP_MEDIA)}")
    body = await run(dump_bytes, _store(request), fmt)
    return Response(body, media_type=DUMP_MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="openness-graph.{fmt}"'})


# --- validation -----------------------------------------------------------------------------------------------

VALIDATE_TYPES = ["application/json", "text/turtle", "application/ld+json", "text/html"]
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_NT_LINE = re.compile(r"^\s*(<[^>]*>|_:\S+)\s+<[^>]*>\s+.+\.\s*$")


def sniff(text: str) -> str:
    """The record format of a body sent without a (useful) Content-Type."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")):
        return "json"
    if stripped.startswith("---"):
        rest = stripped[3:].split("\n---", 1)
        if len(rest) == 2 and rest[1].strip():
            return "markdown"
    lines = [ln for ln in stripped.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if lines and all(_NT_LINE.match(ln) for ln in lines):
        return "nt"
    if re.search(r"^\s*(@prefix|@base|PREFIX|BASE)\b", stripped, re.MULTILINE | re.IGNORECASE) or \
            stripped.startswith("<"):
        return "turtle"
    return "yaml"


def _safe_name(name: str | None) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._+()\- ]", "", name or "").strip(" .")[:100]
    return cleaned or "record"


@router.get("/validate", summary="A form to validate one record in a browser (HTML)")
async def validate_form(request: Request) -> HTMLResponse:
    """Paste a record, pick its format and a definition; the form posts to ``POST /validate``."""
    return render("validate_form.html", formats=FORMATS, record="", chosen_format="auto", definition="",
                  hf_fetch=request.app.state.settings.hf_fetch)


@router.post("/validate", summary="Validate one record without storing it",
             openapi_extra={"requestBody": {"content": {t: {} for t in MEDIA_TYPES} | {
                 "application/x-www-form-urlencoded": {}}}},
             responses={200: {"content": {t: {} for t in VALIDATE_TYPES}},
                        400: {"description": "malformed record or unknown definition"},
                        413: {"description": "body too large"}, 415: {"description": "unsupported type"}})
async def validate_record(request: Request, definition: str | None = None, name: str | None = None,
                          hf: str | None = None) -> Response:
    """Assess one record (Turtle, JSON-LD, N-Triples, MOT/Index YAML, Hugging Face card JSON or README) and
    answer the verdict object (JSON), the SHACL validation report (Turtle, JSON-LD) or an HTML page.
    ``hf=ORG/NAME`` (or the form's Hub id): a Hugging Face Hub model, fetched only when OPENNESS_HF_FETCH is on
    (``server/web/hub_validate.py``)."""
    from server.assess.validation import validate_text

    settings = request.app.state.settings
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type in FORM_TYPES and hf is None:
        await request.body()  # kept by the request: the form below and the record path read it again
        hf = str((await request.form()).get("hf") or "") or None
    if hf is not None:
        return await _validate_hub(request, hf, definition)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    body = await request.body()
    if len(body) > settings.max_body_bytes:
        return error(request, 413, "too-large", f"request body larger than {settings.max_body_bytes} bytes")
    from_form = content_type in FORM_TYPES
    if from_form:
        form = await request.form()
        text = str(form.get("record") or "")
        kind = str(form.get("format") or "auto")
        definition = str(form.get("definition") or "") or definition
        if kind not in FORMATS:
            kind = "auto"
        if kind == "auto":
            kind = sniff(text)
    else:
        if content_type in MEDIA_TYPES:
            kind = MEDIA_TYPES[content_type]
        elif content_type in ("", "text/plain", "application/octet-stream"):
            kind = None
        else:
            return error(request, 415, "unsupported-media-type",
                         f"cannot validate {content_type!r}; send one of: {', '.join(MEDIA_TYPES)}")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return error(request, 400, "malformed-record", "the body is not UTF-8 text")
        kind = kind or sniff(text)
    if definition is not None and definition not in BY_ID:
        return error(request, 400, "unknown-definition",
                     f"unknown definition {definition!r}; one of: {', '.join(BY_ID)}")
    offered = (["text/html"] + VALIDATE_TYPES[:3]) if from_form else VALIDATE_TYPES
    media = choose(request, offered)
    if media is None:
        return not_acceptable(request, offered)
    file_name = _safe_name(name) + SUFFIX.get(kind, "")
    outcome = await run(lambda: validate_text(text, file_name, settings, definition=definition, kind=kind))
    if outcome.record is None:  # the record could not be parsed at all
        problem = outcome.problems[0] if outcome.problems else {"message": "unreadable record"}
        details = {"format": kind, "line": problem.get("line"), "column": problem.get("column")}
        if media == "text/html":
            return render("validate_result.html", 400, verdict=None, parse_error={**problem, **details},
                          formats=FORMATS, record=text, chosen_format=kind, definition=definition or "",
                          requirement_messages=_messages())
        return JSONResponse({"error": "malformed-record", "message": problem["message"], **details}, 400)
    if media == "application/json":
        return JSONResponse(outcome.verdict)
    if media in RDF_TYPES:
        report = await run(outcome.report_turtle)
        if media == "text/turtle":
            return Response(report, media_type=media)
        return rdf_response(rdflib.Graph().parse(data=report, format="turtle"), media)
    return render("validate_result.html", verdict=outcome.verdict, parse_error=None, formats=FORMATS, record=text,
                  chosen_format=kind, definition=definition or "", requirement_messages=_messages())



async def _validate_hub(request: Request, hf: str, definition: str | None) -> Response:
    """``POST /validate?hf=ORG/NAME``: off unless OPENNESS_HF_FETCH; strict id; rate-limited per client."""
    from server.web import hub_validate

    settings = request.app.state.settings
    if not settings.hf_fetch:
        return error(request, 403, "hub-fetch-off", "this server does not fetch from the Hugging Face Hub "
                     "(OPENNESS_HF_FETCH is off); POST the card itself instead")
    repo_id = hub_validate.hub_id(hf)
    if repo_id is None:
        return error(request, 400, "bad-hub-id", "hf must be a Hugging Face model id ORG/NAME (letters, digits, "
                     "'-', '_', '.'), not a URL")
    if definition is not None and definition not in BY_ID:
        return error(request, 400, "unknown-definition",
                     f"unknown definition {definition!r}; one of: {', '.join(BY_ID)}")
    media = choose(request, VALIDATE_TYPES)
    if media is None:
        return not_acceptable(request, VALIDATE_TYPES)
    limiter = getattr(request.app.state, "hub_rate_limiter", None)
    if limiter is None:
        limiter = request.app.state.hub_rate_limiter = hub_validate.RateLimiter(settings.hf_fetch_per_minute)
    wait = limiter.retry_after(request.client.host if request.client else "?")
    if wait is not None:
        response = error(request, 429, "rate-limited", f"at most {settings.hf_fetch_per_minute} Hub fetches "
                         f"per minute; try again in {wait} s")
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        outcome = await run(lambda: hub_validate.validate_hub(settings, repo_id, definition))
    except hub_validate.HubError as exc:
        return error(request, 502, "hub-error", str(exc))
    if outcome.record is None:
        return error(request, 400, "malformed-record", outcome.problems[0]["message"])
    if media == "application/json":
        return JSONResponse(outcome.verdict)
    if media in RDF_TYPES:
        report = await run(outcome.report_turtle)
        if media == "text/turtle":
            return Response(report, media_type=media)
        return rdf_response(rdflib.Graph().parse(data=report, format="turtle"), media)
    return render("validate_result.html", verdict=outcome.verdict, parse_error=None, formats=FORMATS, record="",
                  chosen_format="auto", definition=definition or "", requirement_messages=_messages())
