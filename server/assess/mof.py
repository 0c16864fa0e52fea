"""MOF 1.0 classes exactly as the Model Openness Tool computes them (spec/mof.md §4–5).

* A component counts ("included") only if present and its resolved license string is exactly one of the
  MOT's 226 "open" ids; not type-appropriate is a warning only; 'unlicensed' never counts.
* Classes are cumulative: III = 6 required, II = III + 4, I = II + 4.
* Technical-report substitution: if the Technical report is not included and the Research paper is in
  the record, the paper (with its status) stands in for the report in classes III and II, and class I
  needs 13 components instead of 14.
* Progress of a class is 0 while a higher class is incomplete; the class is the best one at 100 %."""

from __future__ import annotations

import json
from functools import cache, lru_cache

from loaders.bundled_data import data_file
from loaders.components import BY_SLUG, MOF_COMPONENTS

TECH_REPORT = "technical-report"
_STATUS_RANK = {"included": 0, "invalid": 1, "unlicensed": 2}
RESEARCH_PAPER = "research-paper"


@cache
def open_ids() -> frozenset[str]:
    return frozenset(data_file("licenses", "mof-open-ids.txt").read_text().split())


@cache
def type_appropriate() -> dict[str, frozenset[str]]:
    sets = json.loads(data_file("mot", "licenses", "derived-effective-license-sets.json").read_text())
    return {ctype: frozenset(ids) for ctype, ids in sets["type_appropriate"].items()}


def required_at(level: int) -> list[str]:
    """Required component slugs whose minimum class is ``level`` (not cumulative)."""
    return [k.slug for k in MOF_COMPONENTS if k.mof_class == level and k.mof_required]


def component_status(statement: str | None) -> str:
    """'included', 'unlicensed' or 'invalid' for a present component's resolved license string."""
    value = statement if statement not in (None, "") else "unlicensed"
    if value in open_ids():
        return "included"
    return "unlicensed" if value == "unlicensed" else "invalid"


def mof_evaluate(record) -> dict:
    """MOF class, progress per class and reasons for one record (RecordFacts from server.assess.engine).

    Records from sources other than the MOT are evaluated on the same rules: a component counts only if
    recorded with an exact open SPDX id."""
    # A kind may have several released artifacts (an Index record grades base- and end-model weights
    # separately): the component counts if any of them is included; otherwise invalid beats unlicensed.
    # Among included ones a type-appropriate license is preferred (the warning is about the component).
    candidates: dict[str, list[tuple[int, int, str, str | None]]] = {}
    for art in record.artifacts:
        if art.kind in BY_SLUG and BY_SLUG[art.kind].mot_id is not None and art.availability == "released":
            state = component_status(art.statement)
            typed = art.statement in type_appropriate().get(BY_SLUG[art.kind].content_type, frozenset())
            candidates.setdefault(art.kind, []).append(
                (_STATUS_RANK[state], 0 if typed else 1, art.statement or "", art.statement))
    present: dict[str, str | None] = {slug: min(c)[3] for slug, c in candidates.items()}
    status = {slug: component_status(stmt) for slug, stmt in present.items()}
    substitute = status.get(TECH_REPORT) != "included" and RESEARCH_PAPER in status
    level_sets = {level: required_at(level) for level in (3, 2, 1)}
    if substitute:
        level_sets[3] = [RESEARCH_PAPER if s == TECH_REPORT else s for s in level_sets[3]]
        level_sets[1] = [s for s in level_sets[1] if s != RESEARCH_PAPER]
    progress: dict[int, float] = {}
    complete_above = True
    total = included = 0
    for level in (3, 2, 1):
        total += len(level_sets[level])
        included += sum(1 for s in level_sets[level] if status.get(s) == "included")
        if not complete_above:
            progress[level] = 0.0
        else:
            progress[level] = round(min(100.0, included / total * 100), 2)
        complete_above = complete_above and included == total
    reached = next((level for level in (1, 2, 3) if progress[level] == 100.0), 0)
    reasons = []
    for level in (3, 2, 1):
        for slug in level_sets[level]:
            name = BY_SLUG[slug].name
            state = status.get(slug)
            if state == "included":
                continue
            if state is None:
                kind, message = "missing", f"{name} is not in the record (needed for Class {_roman(level)})"
            elif state == "unlicensed":
                kind, message = "unlicensed", f"{name} has no license (needed for Class {_roman(level)})"
            else:
                kind = "not-open"
                message = (f"{name}: license {present[slug]!r} is not one of the MOT's open license ids "
                           f"(needed for Class {_roman(level)})")
            reasons.append(_reason(f"class-{level}-{slug}", name, kind, message))
    warnings = []
    for slug, state in sorted(status.items()):
        ctype = BY_SLUG[slug].content_type
        if state == "included" and present[slug] not in type_appropriate().get(ctype, frozenset()):
            warnings.append(_warning(BY_SLUG[slug].name, f"{present[slug]} is open but not type-appropriate for "
                                                         f"{ctype} (a warning only, as in the MOT)"))
    return {"class": reached, "progress": _progress(progress[1], progress[2], progress[3]),
            "reasons": reasons, "warnings": warnings}


@lru_cache(maxsize=1 << 12)
def _progress(class_1: float, class_2: float, class_3: float) -> dict:
    """One shared dict per distinct progress (callers must not change it)."""
    return {"1": class_1, "2": class_2, "3": class_3}


@lru_cache(maxsize=1 << 14)
def _reason(requirement: str, component: str, kind: str, message: str) -> dict:
    """One shared dict per distinct reason (callers must not change it): records miss the same components,
    and MOF reasons were two thirds of a run's verdicts in memory."""
    return {"requirement": requirement, "component": component, "kind": kind, "message": message}


@lru_cache(maxsize=1 << 12)
def _warning(component: str, message: str) -> dict:
    return {"component": component, "message": message}


def _roman(level: int) -> str:
    return {1: "I", 2: "II", 3: "III"}[level]
