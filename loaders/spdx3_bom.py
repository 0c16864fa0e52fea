"""SPDX 3.0.1 AI BOM (JSON-LD) -> a record. The document must pass the SPDX 3.0.1 JSON schema (bundled in
``data/spdx3``; checked with ``jsonschema-rs``); a failing one is refused with the validator's first message.

The model is the ``ai_AIPackage`` the SBOM is rooted at (else the first one); its concluded license is the
weights' license; the ``dataset_DatasetPackage``s it was ``trainedOn`` are its training datasets. Elements of
our own exports carry ``openness:`` properties (``extension_CdxPropertiesExtension``) and are restored
exactly (``loaders.bom_record``). Nothing is fetched: the ``@context`` URL is only compared, never read."""

from __future__ import annotations

import json
from functools import cache

import jsonschema_rs

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
from loaders.bundled_data import data_file
from loaders.errors import RecordError
from loaders.record import LoadedRecord, SourceInfo, is_http_url
from loaders.vocab import Minter

SOURCE = "spdx3"
CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
NO_ASSERTION = ("expandedlicensing_NoAssertionLicense", "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/"
                "NoAssertionLicense")
NO_LICENSE = ("expandedlicensing_NoneLicense", "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/NoneLicense")


def looks_like_spdx3(data: object) -> bool:
    """An SPDX 3 document names the SPDX 3 context (any 3.x: a version we do not read is refused by name)."""
    if not isinstance(data, dict):
        return False
    context = data.get("@context")
    contexts = context if isinstance(context, list) else [context]
    return any(isinstance(c, str) and c.startswith("https://spdx.org/rdf/3.") for c in contexts)


@cache
def _validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(data_file("spdx3", "spdx-json-schema.json").read_text()))


def schema_error(data: object) -> str | None:
    """The SPDX 3.0.1 JSON schema's first message for ``data`` (None if it passes)."""
    for error in _validator().iter_errors(data):
        where = "/".join(str(p) for p in error.instance_path) or "(top)"
        return f"{where}: {error.message}"
    return None


def load_spdx3_bom(data: dict, info: SourceInfo, minter: Minter, record_name: str) -> LoadedRecord:
    file = info.file
    if data.get("@context") != CONTEXT:
        raise RecordError(file, f"an SPDX 3 document this loader reads names the context {CONTEXT}; this one "
                          f"names {data.get('@context')!r}", 1)
    if (error := schema_error(data)) is not None:
        raise RecordError(file, one_line(f"fails the SPDX 3.0.1 JSON schema at {error}"), 1)
    nodes = _index(data)
    packages = sorted((n for n in nodes.values() if n.get("type") == "ai_AIPackage"), key=lambda n: n["spdxId"])
    roots = {ref for n in nodes.values() if n.get("type") == "software_Sbom" for ref in _refs(n.get("rootElement"))}
    model_node = next((p for p in packages if p["spdxId"] in roots), packages[0] if packages else None)
    if model_node is None:
        raise RecordError(file, "an SPDX 3 AI BOM describes its model as an ai_AIPackage; this document has none", 1)
    relationships = [n for n in nodes.values() if n.get("type") in ("Relationship", "LifecycleScopedRelationship")]
    model = _model(model_node, nodes, relationships, file)
    document = next((n["spdxId"] for n in nodes.values() if n.get("type") == "SpdxDocument"), None)
    model.document = document
    return bom_record(model, info, minter, record_name)


def _index(data: dict) -> dict[str, dict]:
    """Every element by its id, nested elements included (a document may inline one where it refers to it)."""
    found: dict[str, dict] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            key = node.get("spdxId") or node.get("@id")
            if isinstance(key, str) and "type" in node:
                found.setdefault(key, node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data.get("@graph", data))
    return found


def _refs(value) -> list[str]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    return [i if isinstance(i, str) else i.get("spdxId") or i.get("@id") for i in items
            if isinstance(i, str) or isinstance(i, dict)]


def _properties(node: dict) -> dict[str, list[str]]:
    pairs = [(entry.get("extension_cdxPropName", ""), entry.get("extension_cdxPropValue", ""))
             for ext in node.get("extension", []) if isinstance(ext, dict)
             for entry in ext.get("extension_cdxProperty", []) if isinstance(entry, dict)]
    return ov.properties_of([(n, v) for n, v in pairs if isinstance(n, str) and isinstance(v, str)])


def _name(node: dict | None) -> str | None:
    name = node.get("name") if node else None
    return name if isinstance(name, str) and name.strip() and name != ov.NOASSERTION else None


def _model(node: dict, nodes: dict[str, dict], relationships: list[dict], file: str) -> BomModel:
    props = _properties(node)
    supplier = nodes.get((_refs(node.get("suppliedBy")) or [""])[0])
    homepages = [loc for ref in (supplier or {}).get("externalRef", []) if isinstance(ref, dict)
                 for loc in ref.get("locator", []) if ref.get("externalRefType") == "altWebPage"]
    purl = node.get("software_packageUrl") or ""
    version = node.get("software_packageVersion")
    model = BomModel(
        name=_name(node) or "unnamed model", version=version if version and version != ov.NOASSERTION else None,
        issued=(node.get("releaseTime") or "")[:10] or None, producer=_name(supplier),
        producer_homepage=homepages[0] if homepages else None,
        hf_id=purl.removeprefix("pkg:huggingface/").split("@", 1)[0] if purl.startswith("pkg:huggingface/")
        else None,
        landing_pages=[node["software_homePage"]] if node.get("software_homePage") else [],
        model_type=(node.get("ai_domain") or [None])[0], architecture=(node.get("ai_typeOfModel") or [None])[0],
        note=node.get("summary"))
    apply_record_properties(model, props)
    ours = ov.RECORD in props
    weights = artifact_from_properties(props, file)
    if weights is None and not ours:  # another tool's BOM: the package is the final weights
        weights = BomArtifact("model-parameters-final", statement=_license_text(node, nodes, relationships),
                              access_urls=[node["software_downloadLocation"]]
                              if is_http_url(node.get("software_downloadLocation")) else [])
    if weights is not None:
        weights.description = node.get("description")
        model.artifacts.append(weights)
    model_id = node["spdxId"]
    related: list[tuple[str, str]] = []  # (relationship type, element id) of everything tied to the model
    for rel in relationships:
        targets = _refs(rel.get("to"))
        if rel.get("from") == model_id:
            related += [(rel.get("relationshipType", ""), t) for t in targets]
        elif model_id in targets:
            related.append((rel.get("relationshipType", ""), rel.get("from", "")))
    for kind, element_id in sorted(set(related), key=lambda pair: pair[1]):
        element = nodes.get(element_id)
        if element is None or element.get("type") not in ("software_Package", "software_File",
                                                         "dataset_DatasetPackage", "ai_AIPackage"):
            continue
        element_props = _properties(element)
        location = element.get("software_downloadLocation")
        location = location if is_http_url(location) else None
        if (art := artifact_from_properties(element_props, file)) is not None:
            art.description = element.get("description")
            model.artifacts.append(art)
        elif (ds := dataset_from_properties(element_props, _name(element) or element_id, location)) is not None:
            model.datasets.append(ds)
        elif ours:
            continue
        elif kind == "trainedOn":
            model.datasets.append(BomDataset(_name(element) or element_id, None, location))
        elif kind == "testedOn":
            model.artifacts.append(BomArtifact("evaluation-data",
                                               statement=_license_text(element, nodes, relationships),
                                               access_urls=[location] if location else []))
        else:
            model.warnings.append(f"{element_id}: a {element.get('type')} tied to the model by {kind!r} has no "
                                  "artifact kind this loader can tell; left out")
    return model


def _license_text(node: dict, nodes: dict[str, dict], relationships: list[dict]) -> str | None:
    """The license an element of another tool's BOM declares (its concluded one when none is declared), as a
    string the license resolver reads: an expression, a custom license's name, or ``unlicensed``."""
    for kind in ("hasDeclaredLicense", "hasConcludedLicense"):
        texts = []
        for rel in relationships:
            if rel.get("from") == node["spdxId"] and rel.get("relationshipType") == kind:
                texts += [_license_of(t, nodes) for t in _refs(rel.get("to"))]
        texts = [t for t in texts if t]
        if texts:
            return statement_of(texts)
    return None


def _license_of(ref: str, nodes: dict[str, dict]) -> str | None:
    if ref in NO_ASSERTION:
        return None
    if ref in NO_LICENSE:
        return "unlicensed"
    node = nodes.get(ref)
    if node is None:
        return ref.rsplit("/", 1)[-1] if ref.startswith(("https://spdx.org/licenses/", "http://spdx.org/licenses/")) \
            else None
    if node.get("type") == "simplelicensing_LicenseExpression":
        return node.get("simplelicensing_licenseExpression")
    if node.get("type") == "expandedlicensing_ListedLicense":
        return ref.rsplit("/", 1)[-1]
    return _name(node)
