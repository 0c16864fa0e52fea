"""Hugging Face model card -> RDF: the README.md YAML front matter, or the Hub API JSON saved to a file.
Nothing is fetched: the card comes from a file the user gives."""

from __future__ import annotations

import json
import re

from rdflib import RDF, RDFS, Literal, URIRef

from loaders.components import BY_SLUG
from loaders.datasets_kb import match_dataset
from loaders.errors import RecordError
from loaders.record import (
    LoadedRecord,
    SourceInfo,
    add_artifact,
    add_license,
    add_organization,
    add_provenance,
    is_http_url,
    new_graph,
    parse_yaml,
)
from loaders.vocab import DCAT, DCT, OG, Minter, path_segment

SOURCE = "hf"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$", re.ASCII)  # 'owner/name' (or a legacy 'name')
RELATIONS = {"finetune": OG.finetunedFrom, "adapter": OG.adapterOf, "quantized": OG.quantizedFrom,
             "merge": OG.mergedFrom}
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".onnx", ".ckpt", ".h5", ".msgpack")


def looks_like_hf_json(data: object) -> bool:
    return isinstance(data, dict) and ("cardData" in data or ("id" in data and "siblings" in data))


def front_matter(text: str, file: str) -> dict:
    """The YAML between the leading '---' lines of a README.md model card."""
    if not text.lstrip().startswith("---"):
        raise RecordError(file, "a model card README.md must start with YAML front matter between '---' lines", 1)
    body = text.lstrip()[3:]
    end = body.find("\n---")
    if end < 0:
        raise RecordError(file, "the YAML front matter is not closed by a '---' line", 1)
    data, _ = parse_yaml(body[:end], file)
    if not isinstance(data, dict):
        raise RecordError(file, "the front matter must be a YAML mapping", 2)
    return data


def parse_card(text: str, file: str) -> tuple[dict, dict]:
    """(card data, hub data) from a README.md or a Hub API JSON file."""
    if file.lower().endswith(".json"):
        try:
            hub = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecordError(file, f"malformed JSON: {exc.msg}", exc.lineno, exc.colno) from None
        except RecursionError:
            raise RecordError(file, "JSON nested too deeply; refused", 1) from None
        if not looks_like_hf_json(hub):
            raise RecordError(file, "not a Hugging Face model JSON (needs 'id' and 'cardData' or 'siblings')", 1)
        card = hub.get("cardData") if isinstance(hub.get("cardData"), dict) else {}
        return card, hub
    return front_matter(text, file), {}


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float)]
    return []


def load_hf_card(text: str, info: SourceInfo, minter: Minter, record_name: str) -> LoadedRecord:
    card, hub = parse_card(text, info.file)
    repo_id = hub.get("id") if isinstance(hub.get("id"), str) and _REPO_ID.match(hub["id"].strip()) else None
    repo_id = repo_id.strip() if repo_id else None
    name = repo_id or str(card.get("model_name") or record_name)
    record_id = f"{SOURCE}/{record_name}"
    rec = URIRef(minter.record(record_id))
    graph = new_graph()
    graph.add((rec, RDF.type, OG.ModelRelease))
    graph.add((rec, OG.recordId, Literal(record_id)))
    graph.add((rec, OG.source, Literal(SOURCE)))
    graph.add((rec, DCT.title, Literal(name)))
    graph.add((rec, RDFS.label, Literal(name)))
    graph.add((rec, OG.completeComponentList, Literal(False)))
    if repo_id:
        graph.add((rec, OG.huggingFaceId, Literal(repo_id)))
        graph.add((rec, DCAT.landingPage, URIRef(f"https://huggingface.co/{repo_id}")))
        author = hub.get("author") if isinstance(hub.get("author"), str) and hub["author"].strip() else None
        author = (author or repo_id.split("/")[0]).strip()
        graph.add((rec, OG.producer, add_organization(graph, minter, author,
                                                      f"https://huggingface.co/{path_segment(author)}")))
    license_text = _license_text(card, hub)
    raw_siblings = hub.get("siblings")
    siblings = [s["rfilename"] for s in raw_siblings if isinstance(s, dict) and isinstance(s.get("rfilename"), str)
                ] if isinstance(raw_siblings, list) else []
    has_weights = not siblings or any(f.endswith(WEIGHT_SUFFIXES) for f in siblings)
    if has_weights:
        weights = add_artifact(graph, rec, URIRef(minter.artifact(record_id, "model-parameters-final")),
                               BY_SLUG["model-parameters-final"], "released")
        add_license(graph, weights, license_text, "card.license")
    model_card = add_artifact(graph, rec, URIRef(minter.artifact(record_id, "model-card")),
                              BY_SLUG["model-card"], "released")
    add_license(graph, model_card, license_text, "card.license")
    if is_http_url(card.get("license_link")):
        graph.add((model_card, OG.licenseDocument, URIRef(card["license_link"].strip())))
    gated = hub.get("gated", card.get("gated"))
    if gated is not None:
        graph.add((rec, OG.gatedAccess, Literal("none" if gated is False else str(gated))))
    elif any(str(k).startswith("extra_gated") for k in card):
        graph.add((rec, OG.gatedAccess, Literal("manual")))
    for key, prop in (("pipeline_tag", OG.pipelineTag), ("library_name", OG.libraryName)):
        value = hub.get(key, card.get(key))
        if isinstance(value, str):
            graph.add((rec, prop, Literal(value)))
    relation = RELATIONS.get(str(card.get("base_model_relation", "finetune")), OG.finetunedFrom)
    bases = _as_list(card.get("base_model"))
    if len(bases) > 1:
        relation = OG.mergedFrom
    for base in bases:
        if _REPO_ID.match(base.strip()):  # a Hub repo id; anything else cannot be made an IRI safely
            graph.add((rec, relation, URIRef(f"https://huggingface.co/{base.strip()}")))
    for dataset in _as_list(card.get("datasets")):
        if not _REPO_ID.match(dataset.strip()):
            continue
        url = f"https://huggingface.co/datasets/{dataset.strip()}"
        dataset_id = match_dataset(url)
        target = URIRef(minter.dataset(dataset_id or f"hf/{dataset.strip()}"))
        graph.add((rec, OG.trainedOn, target))
        if not dataset_id:
            graph.add((target, RDF.type, DCAT.Dataset))
            graph.add((target, DCT.title, Literal(dataset.strip())))
            graph.add((target, DCAT.landingPage, URIRef(url)))
            graph.add((rec, OG.unmatchedDatasetName, Literal(dataset.strip())))
    add_provenance(graph, minter, record_id, info, rec)
    return LoadedRecord(record_id, name, graph, rec, minter.record_graph(record_id))


def _license_text(card: dict, hub: dict) -> str | None:
    """`license`, or for `license: other` the `license_name` slug (resolved like any other string)."""
    license_id = card.get("license")
    if license_id is None:
        raw_tags = hub.get("tags")
        tags = [t for t in (raw_tags if isinstance(raw_tags, list) else [])
                if isinstance(t, str) and t.startswith("license:")]
        license_id = tags[0].split(":", 1)[1] if tags else None
    if isinstance(license_id, list):
        license_id = " AND ".join(str(x) for x in license_id)
    if license_id == "other" and card.get("license_name"):
        return str(card["license_name"])
    return None if license_id is None else str(license_id)
