"""The pages of the model level: the landing page (``/``), releases (``/releases``, ``/releases/{id}``),
families (``/families/{id}``) and the curators' work list (``/quality``). Listings read the current run's
stored verdicts and flags; a release page computes its consolidated result from its records exactly as
``openness assess`` does (``server.assess.consolidate``), so it explains every reason."""

from __future__ import annotations

from collections import Counter
from functools import cache

import rdflib
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from loaders.vocab import path_segment
from server.assess.consolidate import RULES, assess_one_release
from server.assess.definitions import DEFINITIONS, REQUIREMENTS
from server.assess.quality import release_entry
from server.assess.run_graphs import current_run_pattern
from server.web import listing
from server.web import release_queries as rq
from server.web.page_queries import SLUG, SPARQL_PREFIXES
from server.web.pages import (
    RDF_TYPES,
    _minter,
    _store,
    cached_page,
    choose,
    error,
    license_facts,
    listed,
    local_path,
    not_acceptable,
    rdf_response,
    render,
    run,
)

router = APIRouter(tags=["releases"])
OFFERED = ["text/html", "application/json", "text/turtle", "application/ld+json"]
FLAGGED_ON_LANDING = 12


@cache
def _messages() -> dict[str, str]:
    return {f"{r.definition}/{r.id}": r.message for r in REQUIREMENTS}


def _summary(row: rq.ReleaseRow) -> dict:
    return {"id": row.id, "name": row.name, "family": row.family, "records": [rid for rid, _ in row.records],
            "released": row.issued, "verdicts": row.verdicts, "flags": dict(sorted(row.flags.items()))}


def _verdict_counts(rows: list[rq.ReleaseRow]) -> dict[str, list[tuple[str, int, str, str | None]]]:
    """Per definition: (label, releases, css class, filter link) for each verdict value, most common first."""
    counts: dict[str, Counter] = {d.id: Counter() for d in DEFINITIONS}
    for row in rows:
        for def_id, v in row.verdicts.items():
            if "verdict" in v:
                counts[def_id][("verdict", v["verdict"])] += 1
            elif "class" in v:
                counts[def_id][("class", str(v["class"]))] += 1
            elif v.get("score") is not None:
                counts[def_id][("score", "≥ 0.5" if v["score"] >= 0.5 else "< 0.5")] += 1
    out: dict[str, list[tuple[str, int, str, str | None]]] = {}
    for def_id, counter in counts.items():
        entries = []
        for (kind, value), n in counter.most_common():
            if kind == "verdict":
                entries.append((value, n, value, f"/releases?verdict={def_id}:{value}"))
            elif kind == "class":
                entries.append((f"class {value}", n, f"mof-{value}", f"/releases?verdict={def_id}:{value}"))
            else:
                entries.append((f"score {value}", n, "score",
                                f"/releases?verdict={def_id}:0.5" if value == "≥ 0.5" else None))
        out[def_id] = entries
    return out


@router.get("/", summary="The landing page: what the graph holds, verdicts per definition, flagged releases")
async def landing(request: Request) -> Response:
    offered = ["text/html", "application/json"]
    media = choose(request, offered)
    if media is None:
        return not_acceptable(request, offered)
    return await cached_page(request, media, lambda: _landing(request, media))


async def _landing(request: Request, media: str) -> Response:
    store = _store(request)
    counts = await run(rq.graph_counts, store)
    rows = (await run(listing.current_listing, request.app.state)).releases
    verdicts = _verdict_counts(rows)
    flagged = sorted((r for r in rows if r.flags), key=lambda r: (-sum(r.flags.values()), r.id))
    if media == "application/json":
        return JSONResponse({"counts": counts,
                             "verdicts": {d: {label: n for label, n, _css, _link in v} for d, v in verdicts.items()},
                             "flagged": [_summary(r) for r in flagged]}, headers={"Vary": "Accept"})
    return await run(lambda: render("index.html", counts=counts, verdicts=verdicts,
                                    flagged=flagged[:FLAGGED_ON_LANDING], flagged_total=len(flagged),
                                    assessed=any(r.verdicts for r in rows)))


@router.get("/releases", summary="Model releases across sources, with consolidated verdicts (HTML, JSON, RDF), "
                              "filtered, sorted and paged")
async def releases(request: Request) -> Response:
    """Releases filtered by ``source``, ``producer``, ``family``, ``flag`` (a flag kind), ``year``, ``type``,
    verdicts (``verdict=osaid-1.0:pass`` or ``osaid-1.0=pass``) and ``q`` (text), sorted by ``sort`` (``id``,
    ``name``, ``producer``, ``date`` or a definition id; ``-`` reverses), paged by ``page`` and ``per_page``
    (1-500, default 50). JSON and RDF are the whole filtered list unless ``page`` or ``per_page`` is given;
    ``X-Total-Count`` and, for a page, ``Link`` (``rel=next`` ...) headers."""
    media = choose(request, OFFERED)
    if media is None:
        return not_acceptable(request, OFFERED)
    return await cached_page(request, media, lambda: _releases_page(request, media))


async def _releases_page(request: Request, media: str) -> Response:
    answer = await listed(request, "releases", listing.RELEASE_FILTERS, "id")
    if isinstance(answer, Response):
        return answer
    paged = media == "text/html" or answer.query.paged
    shown = answer.page.rows if paged else answer.rows
    headers = answer.headers(paged)
    if media == "application/json":
        return JSONResponse([_summary(r) for r in shown], headers=headers)
    if media in RDF_TYPES:
        from loaders.vocab import DCT, OG

        graph = rdflib.Graph()
        for row in shown:
            node = rdflib.URIRef(row.iri)
            graph.add((node, rdflib.RDF.type, OG.Release))
            graph.add((node, OG.releaseId, rdflib.Literal(row.id)))
            graph.add((node, DCT.title, rdflib.Literal(row.name)))
        response = rdf_response(graph, media)
        response.headers.update(headers)
        return response
    page = await run(lambda: render("releases.html", rows=answer.page.rows, **answer.context()))
    page.headers.update(headers)
    return page


@router.get("/releases/{release_id}", summary="One release: its records, merged evidence and consolidated verdicts")
async def release_page(request: Request, release_id: str) -> Response:
    media = choose(request, OFFERED)
    if media is None:
        return not_acceptable(request, OFFERED)
    if not SLUG.match(release_id):
        return error(request, 404, "not-found", f"no release {release_id!r}; see /releases")
    store, minter = _store(request), _minter(request)
    release_iri = minter.release(release_id)
    if media in RDF_TYPES:
        graph = await run(_release_graph, store, minter, release_iri)
        if not len(graph):
            return error(request, 404, "not-found", f"no release {release_id!r}; see /releases")
        return rdf_response(graph, media)
    result = await run(assess_one_release, store, release_iri, await license_facts(request))
    if result is None:
        return error(request, 404, "not-found", f"no release {release_id!r}; see /releases")
    if media == "application/json":
        return JSONResponse({"iri": release_iri, **release_entry(result), "bases": result["bases"],
                             "evidence": result["evidence"]},
                            headers={"Vary": "Accept"})
    evidence = await run(rq.release_evidence, store, release_iri)
    base = minter.base
    return await run(lambda: render("release.html", result=result, iri=release_iri, evidence=evidence, rules=RULES,
                                    requirement_messages=_messages(), local_path=lambda i: local_path(i, base)))


@router.get("/releases/{release_id}/bom",
            summary="The release's AI bill of materials: SPDX 3.0.1 (application/spdx+json) or CycloneDX 1.6 "
                    "(application/vnd.cyclonedx+json)",
            responses={200: {"content": {"application/spdx+json": {}, "application/vnd.cyclonedx+json": {}}},
                       406: {"description": "neither BOM format is acceptable"}})
async def release_bom(request: Request, release_id: str, format: str | None = None) -> Response:
    """The release's components (from its records), licenses, training datasets, producer and consolidated
    verdicts as an AI BOM, negotiated by Accept; ``?format=spdx3|cyclonedx`` overrides it (docs/bom.md)."""
    from server.bom.export import FORMATS, file_name, negotiate_format
    from server.bom.export import release_bom as bom
    from server.sparql.endpoint import negotiate

    fmt, reason = negotiate_format(request.headers.get("accept"), format, negotiate)
    if fmt is None:
        return JSONResponse({"error": "not-acceptable", "message": reason}, 406)
    if not SLUG.match(release_id):
        return error(request, 404, "not-found", f"no release {release_id!r}; see /releases")
    store, minter = _store(request), _minter(request)
    result = await run(assess_one_release, store, minter.release(release_id), await license_facts(request))
    if result is None:
        return error(request, 404, "not-found", f"no release {release_id!r}; see /releases")
    text = await run(bom, store, minter, release_id, fmt, result)
    return Response(text, media_type=FORMATS[fmt].media_type, headers={
        "Vary": "Accept", "Content-Disposition": f'inline; filename="{file_name(release_id, fmt)}"'})


def _release_graph(store, minter, release_iri: str) -> rdflib.Graph:
    """The release as the identity graph describes it, its records' links, and its stored assessments,
    reasons and flags of the current run."""
    r = f"<{release_iri}>"
    return store.construct(SPARQL_PREFIXES + f"""
CONSTRUCT {{ {r} ?p ?o . ?m og:ofRelease {r} . ?a ?ap ?ao . ?x ?xp ?xo . ?f ?fp ?fo }} WHERE {{
  {{ {r} a og:Release ; ?p ?o }}
  UNION {{ ?m og:ofRelease {r} }}
  UNION {{ {current_run_pattern(minter)} GRAPH ?run {{ ?a og:assessedRelease {r} ; ?ap ?ao }} }}
  UNION {{ {current_run_pattern(minter)} GRAPH ?run {{ ?a og:assessedRelease {r} ; og:hasReason ?x . ?x ?xp ?xo }} }}
  UNION {{ {current_run_pattern(minter)} GRAPH ?run {{ {r} og:hasFlag ?f . ?f ?fp ?fo }} }}
}}""")


@router.get("/families/{family_id}", summary="A model family: its releases and family-level records")
async def family_page(request: Request, family_id: str) -> Response:
    media = choose(request, OFFERED)
    if media is None:
        return not_acceptable(request, OFFERED)
    if not SLUG.match(family_id):
        return error(request, 404, "not-found", "no such family")
    store, minter = _store(request), _minter(request)
    family_iri = f"{minter.base}families/{path_segment(family_id)}"
    info = await run(rq.family_info, store, family_iri)
    if info is None:
        return error(request, 404, "not-found", f"no model family {family_id!r}")
    if media in RDF_TYPES:
        graph = await run(store.construct, SPARQL_PREFIXES + f"""
CONSTRUCT {{ <{family_iri}> ?p ?o . ?r og:ofFamily <{family_iri}> . ?m og:describesFamily <{family_iri}> }} WHERE {{
  {{ <{family_iri}> ?p ?o }} UNION {{ ?r a og:Release ; og:ofFamily <{family_iri}> }}
  UNION {{ ?m og:describesFamily <{family_iri}> }} }}""")
        return rdf_response(graph, media)
    rows = [r for r in (await run(listing.current_listing, request.app.state)).releases if r.family == family_id]
    if media == "application/json":
        return JSONResponse({"iri": family_iri, "id": family_id, "name": info["name"], "evidence": info["evidence"],
                             "family_records": [r["id"] for r in info["family_records"]],
                             "releases": [_summary(r) for r in rows]}, headers={"Vary": "Accept"})
    return render("family.html", fam=info, iri=family_iri, rows=rows)


@router.get("/quality", summary="The curators' work list: unverified claims, conflicts, open-washing, unmatched")
async def quality(request: Request) -> Response:
    offered = ["text/html", "application/json"]
    media = choose(request, offered)
    if media is None:
        return not_acceptable(request, offered)
    return await cached_page(request, media, lambda: _quality_page(request, media))


async def _quality_page(request: Request, media: str) -> Response:
    store, minter = _store(request), _minter(request)
    flags = await run(rq.stored_flags, store, minter)
    unmatched = rq.unmatched_records((await run(listing.current_listing, request.app.state)).releases)
    sections = {kind: [f for f in flags if f["kind"] == kind]
                for kind in ("unverified-claim", "conflict", "open-washing", "license-conflict-with-base")}
    if media == "application/json":
        return JSONResponse({**{k.replace("-", "_"): v for k, v in sections.items()},
                             "unmatched_records": [u["id"] for u in unmatched]}, headers={"Vary": "Accept"})
    return await run(lambda: render("quality.html", sections=sections, unmatched=unmatched, rules=RULES))
