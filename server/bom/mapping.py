"""What both BOM formats share: how an artifact kind is typed, the ``openness:`` properties of the record, its
artifacts and datasets, the verdicts flattened to properties, stable timestamps and serial numbers."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from loaders import bom_vocab as ov
from loaders.components import BY_SLUG
from server.assess.definitions import BY_ID
from server.assess.engine import RESTRICTING
from server.bom.subject import Artifact, Dataset, Subject


@dataclass(frozen=True)
class Role:
    """How one artifact kind appears in a BOM.

    ``spdx_class``: ``package`` or ``file`` (``dataset`` for data the model is trained or tested on);
    ``purpose``: SPDX software purpose; ``relationship``: (type, direction) tying it to the model, the
    direction ``out`` meaning model -> artifact; ``cdx_type``: CycloneDX component type."""

    spdx_class: str
    purpose: str
    relationship: tuple[str, str]
    cdx_type: str


DOCUMENT = Role("file", "documentation", ("hasDocumentation", "out"), "file")
ROLES: dict[str, Role] = {
    "model-parameters-final": Role("package", "model", ("descendantOf", "out"), "machine-learning-model"),
    "model-parameters-intermediate": Role("package", "model", ("ancestorOf", "in"), "machine-learning-model"),
    "model-architecture": Role("package", "source", ("dependsOn", "out"), "application"),
    "inference-code": Role("package", "source", ("dependsOn", "out"), "application"),
    "supporting-libraries": Role("package", "library", ("dependsOn", "out"), "library"),
    "training-code": Role("package", "source", ("generates", "in"), "application"),
    "data-preprocessing-code": Role("package", "source", ("generates", "in"), "application"),
    "evaluation-code": Role("package", "source", ("hasTest", "out"), "application"),
    "model-metadata": Role("package", "configuration", ("hasMetadata", "out"), "data"),
    "datasets": Role("dataset", "data", ("trainedOn", "out"), "data"),
    "evaluation-data": Role("dataset", "data", ("testedOn", "out"), "data"),
}


def role(kind: str) -> Role:
    return ROLES.get(kind, DOCUMENT)


def local_name(iri: str) -> str:
    """The last segment (or fragment) of an IRI, safe in a fragment: part of the BOM element ids."""
    tail = iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return "".join(ch if ch.isalnum() or ch in "-._" else "-" for ch in tail) or "unnamed"


def timestamp(lexical: str | None) -> datetime | None:
    """A UTC datetime from a date the graph gives as a year, year-month, date or dateTime (SPDX and CycloneDX
    want a full timestamp: the missing parts are the first month and day)."""
    if not lexical:
        return None
    text = lexical.strip()
    try:
        if len(text) == 4:
            return datetime(int(text), 1, 1, tzinfo=UTC)
        if len(text) == 7:
            return datetime(int(text[:4]), int(text[5:7]), 1, tzinfo=UTC)
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)


def created_time(subject: Subject) -> datetime:
    """The document's creation time: derived from the data (see ``Subject.as_of``), never the clock, so the
    same data exports to the same bytes; the Unix epoch when the record states no date at all."""
    return timestamp(subject.as_of) or datetime(1970, 1, 1, tzinfo=UTC)


def serial_number(document_iri: str, content: str) -> uuid.UUID:
    """A name-based UUID of the document and its content: the same data gives the same serial number, any
    change gives a new one."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{document_iri}#{hashlib.sha256(content.encode()).hexdigest()}")


def hf_url(subject: Subject) -> str | None:
    return f"https://huggingface.co/{subject.hf_id}" if subject.hf_id else None


def model_location(subject: Subject) -> tuple[str, bool]:
    """Where the weights are: their recorded location, the Hugging Face repository, the landing page or code
    repository; else the record itself (``False``: nothing locates the weights)."""
    weights = subject.weights
    for url in [*(weights.access_urls if weights else []), hf_url(subject), *subject.landing_pages,
                *subject.code_repositories]:
        if url:
            return url, True
    return subject.iri, False


def dataset_location(dataset: Dataset) -> str | None:
    if dataset.landing_page:
        return dataset.landing_page
    return f"https://huggingface.co/datasets/{dataset.hf_ids[0]}" if dataset.hf_ids else None


# --- openness: properties -------------------------------------------------------------------------------

def record_properties(subject: Subject) -> list[tuple[str, str]]:
    props = [(ov.RECORD, subject.iri), (ov.RECORD_ID, subject.id)]
    if subject.source:
        props.append((ov.SOURCE, subject.source))
    if subject.complete is not None:
        props.append((ov.COMPLETE, _bool(subject.complete)))
    if subject.gated:
        props.append((ov.GATED, subject.gated))
    if subject.monetised is not None:
        props.append((ov.MONETISED, _bool(subject.monetised)))
    if subject.issued:
        props.append((ov.ISSUED, subject.issued))
    props += [(ov.RECORD_GRADE + dim, grade) for dim, grade in sorted(subject.grades.items())]
    return props


def artifact_properties(art: Artifact) -> list[tuple[str, str]]:
    props = [(ov.ARTIFACT, art.iri), (ov.ARTIFACT_KIND, art.kind), (ov.AVAILABILITY, art.availability)]
    if art.statement is not None:
        props.append((ov.LICENSE_STATEMENT, art.statement))
    if art.state:
        props.append((ov.LICENSE_STATE, art.state))
    props += [(ov.LICENSE, iri) for iri in art.licenses]
    props += [(ov.ACCESS_URL, url) for url in art.access_urls]
    if art.dimension:
        props.append((ov.INDEX_DIMENSION, art.dimension))
    if art.grade:
        props.append((ov.INDEX_GRADE, art.grade))
    return props


def dataset_properties(dataset: Dataset) -> list[tuple[str, str]]:
    props = [(ov.DATASET, dataset.iri)]
    if dataset.id:
        props.append((ov.DATASET_ID, dataset.id))
    if dataset.data_class:
        props.append((ov.DATA_CLASS, dataset.data_class))
    if dataset.data_class_reason:
        props.append((ov.DATA_CLASS_REASON, dataset.data_class_reason))
    props += [(ov.LICENSE, iri) for iri in dataset.licenses]
    return props


def verdict_properties(verdict: dict) -> list[tuple[str, str]]:
    """The verdict object flattened: one property per result, one per failed requirement."""
    props: list[tuple[str, str]] = []
    for def_id, result in verdict.get("verdicts", {}).items():
        if "verdict" in result:
            props.append((ov.VERDICT + def_id, result["verdict"]))
        if "class" in result:
            props.append((ov.MOF_CLASS + def_id, str(result["class"])))
            props += [(f"{ov.MOF_PROGRESS}{def_id}:{level}", f"{pct:g}")
                      for level, pct in sorted(result.get("progress", {}).items())]
        if "score" in result:
            props.append((ov.SCORE + def_id, "" if result["score"] is None else f"{result['score']:g}"))
            props += [(f"{ov.DIMENSION}{def_id}:{dim}", grade)
                      for dim, grade in result.get("dimensions", {}).items()]
        for reason in result.get("reasons", []):
            props.append((f"{ov.REASON}{def_id}:{reason['requirement']}", reason_text(reason)))
    return props


def reason_text(reason: dict) -> str:
    component = f" {reason['component']}:" if reason.get("component") else ""
    return f"[{reason['kind']}]{component} {reason['message']}"


def verdict_summary(def_id: str, result: dict, subject: Subject) -> dict:
    """One definition's verdict for an annotation: the result, the failed requirements and, when a license
    restricts use, the restrictions it imposes (from the license knowledge base)."""
    definition = BY_ID.get(def_id)
    summary: dict = {"definition": def_id}
    if definition is not None:
        summary["title"] = definition.title
        summary["url"] = definition.url
    summary.update({k: v for k, v in result.items() if k != "reasons"})
    summary["failed_requirements"] = result.get("reasons", [])
    if any(r.get("kind") == "restricted" for r in result.get("reasons", [])):
        summary["use_restrictions"] = use_restrictions(subject)
    return summary


def use_restrictions(subject: Subject) -> list[dict]:
    """Every use restriction of every license of the subject's artifacts, as the license KB states it."""
    out = []
    for iri in sorted({iri for a in subject.artifacts for iri in a.licenses}):
        lic = subject.license(iri)
        out += [{"license": lic.id, "license_name": lic.name, "kind": r.kind, "clause": r.clause,
                 "terms": r.comment} for r in lic.restrictions if r.kind in RESTRICTING]
    return out


def component_title(subject: Subject, art: Artifact) -> str:
    return f"{subject.name}: {BY_SLUG[art.kind].name if art.kind in BY_SLUG else art.name}" + \
        (f" ({art.dimension.replace('_', ' ')})" if art.dimension and art.kind in ("datasets", "model-parameters-final")
         else "")


def availability_note(art: Artifact) -> str | None:
    if art.availability == "not-released":
        return "Not released: the source grades this component closed."
    if art.availability == "partial":
        return "Only partly released: the source grades this component partial."
    return None


def _bool(value: bool) -> str:
    return "true" if value else "false"
