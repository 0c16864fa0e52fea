"""CycloneDX ML-BOM (JSON, spec 1.5 or 1.6) -> a record. The document must pass ``cyclonedx-python-lib``'s
strict JSON validator for its spec version (the library ships the schemas; nothing is fetched); a failing one
is refused with the validator's first message.

The model is ``metadata.component`` when it is a ``machine-learning-model`` (else the first such component);
its licenses are the weights' license; the datasets of its ``modelCard`` (references to ``data`` components,
or inline) are its training datasets. Components of our own exports carry ``openness:`` properties and are
restored exactly (``loaders.bom_record``)."""

from __future__ import annotations

from functools import cache

from loaders import bom_vocab as ov
from loaders.bom_record import (
    BomArtifact,
    BomDataset,
    BomModel,
    apply_record_properties,
    artifact_from_properties,
    bom_record,
    dataset_from_properties,
    one_line,
    statement_of,
)
from loaders.errors import RecordError
from loaders.record import LoadedRecord, SourceInfo, is_http_url
from loaders.vocab import Minter

SOURCE = "cyclonedx"
SPEC_VERSIONS = ("1.5", "1.6")  # the versions with machine-learning-model components and model cards


def looks_like_cyclonedx(data: object) -> bool:
    return isinstance(data, dict) and data.get("bomFormat") == "CycloneDX"


@cache
def _validator(spec_version: str):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(SchemaVersion.from_version(spec_version))


def schema_error(text: str, spec_version: str) -> str | None:
    """The strict validator's first message for the document (None if it passes)."""
    error = _validator(spec_version).validate_str(text)
    if error is None:
        return None
    detail = getattr(error, "data", None)
    if detail is not None and hasattr(detail, "message"):
        where = "/".join(str(p) for p in getattr(detail, "absolute_path", [])) or "(top)"
        return f"{where}: {detail.message}"
    return str(error).strip().splitlines()[0]


def load_cyclonedx_bom(text: str, data: dict, info: SourceInfo, minter: Minter, record_name: str) -> LoadedRecord:
    file = info.file
    spec = data.get("specVersion")
    if spec not in SPEC_VERSIONS:
        raise RecordError(file, f"a CycloneDX ML-BOM this loader reads has specVersion {' or '.join(SPEC_VERSIONS)}"
                          f"; this one has {spec!r}", 1)
    if (error := schema_error(text, spec)) is not None:
        raise RecordError(file, one_line(f"fails the CycloneDX {spec} JSON schema at {error}"), 1)
    metadata = data.get("metadata") or {}
    components = data.get("components") or []
    candidates = [metadata.get("component")] + components
    node = next((c for c in candidates if isinstance(c, dict) and c.get("type") == "machine-learning-model"), None)
    if node is None:
        raise RecordError(file, "a CycloneDX ML-BOM describes its model as a machine-learning-model component; this "
                          "one has none", 1)
    model = _model(node, metadata, components, file)
    model.document = data.get("serialNumber")
    return bom_record(model, info, minter, record_name)


def _properties(node: dict) -> dict[str, list[str]]:
    return ov.properties_of([(p.get("name", ""), p.get("value", "")) for p in node.get("properties", [])
                             if isinstance(p, dict)])


def _references(node: dict, kind: str) -> list[str]:
    return [r["url"] for r in node.get("externalReferences", []) if r.get("type") == kind and is_http_url(r.get("url"))]


def _model(node: dict, metadata: dict, components: list[dict], file: str) -> BomModel:
    organization = node.get("manufacturer") or node.get("supplier") or {}
    purl = node.get("purl") or ""
    card = node.get("modelCard") or {}
    parameters = card.get("modelParameters") or {}
    model = BomModel(
        name=node.get("name") or "unnamed model", version=node.get("version"), producer=organization.get("name"),
        producer_homepage=(organization.get("url") or [None])[0],
        hf_id=purl.removeprefix("pkg:huggingface/").split("@", 1)[0] if purl.startswith("pkg:huggingface/")
        else None,
        landing_pages=_references(node, "website"), code_repositories=_references(node, "vcs"),
        model_type=parameters.get("task"), architecture=parameters.get("architectureFamily"))
    record_props = _properties(metadata)
    apply_record_properties(model, record_props)
    ours = ov.RECORD in record_props
    props = _properties(node)
    weights = artifact_from_properties(props, file)
    if weights is None and not ours:  # another tool's BOM: the component is the final weights
        weights = BomArtifact("model-parameters-final", statement=_license_text(node),
                              access_urls=_references(node, "distribution"))
    if weights is not None:
        model.artifacts.append(weights)
    by_ref = {c.get("bom-ref"): c for c in components if isinstance(c, dict) and c.get("bom-ref")}
    trained = []
    for entry in parameters.get("datasets", []):
        component = by_ref.get(entry.get("ref")) if "ref" in entry else None
        trained.append(component if component is not None else {"name": entry.get("name"), "data": [entry]})
    for component in components:
        if not isinstance(component, dict) or component is node:
            continue
        component_props = _properties(component)
        contents = ((component.get("data") or [{}])[0].get("contents") or {}).get("url")
        location = next(iter(([contents] if is_http_url(contents) else []) + _references(component, "website")
                             + _references(component, "distribution")), None)
        if (art := artifact_from_properties(component_props, file)) is not None:
            model.artifacts.append(art)
        elif (ds := dataset_from_properties(component_props, component.get("name") or "unnamed dataset",
                                            location)) is not None:
            model.datasets.append(ds)
        elif not ours and component not in trained:
            model.warnings.append(f"component {component.get('name')!r} ({component.get('type')}) has no artifact "
                                  "kind this loader can tell; left out")
    if not ours:
        for component in trained:
            contents = ((component.get("data") or [{}])[0].get("contents") or {}).get("url")
            location = contents if is_http_url(contents) else next(iter(_references(component, "website")), None)
            model.datasets.append(BomDataset(component.get("name") or "unnamed dataset", None, location))
    return model


def _license_text(node: dict) -> str | None:
    """The licenses a component of another tool's BOM states, as one string the license resolver reads."""
    texts = []
    for choice in node.get("licenses", []):
        if "expression" in choice:
            texts.append(choice["expression"])
        elif isinstance(choice.get("license"), dict):
            lic = choice["license"]
            texts.append(lic.get("id") or lic.get("name"))
    return statement_of([t for t in texts if isinstance(t, str)])

