"""Hugging Face model card -> RDF: the README.md YAML front matter, the Hub API JSON saved to a file, or
both as the Hub gives them (``load_hf_hub``: the API JSON and the README.md at that commit). Nothing is
fetched here: the server's ingest wing (``server/ingest/hub.py``) fetches and caches, this module only reads.

Lineage: each ``base_model`` (a string or a list) becomes a link from the record to a placeholder node of
the parent, ``Minter.hub_model(repo_id)`` = ``{base}hf/{org}/{name}`` (lower-cased: Hub ids are
case-insensitive), typed ``fair4ml:MLModel`` with ``og:huggingFaceId`` as the card writes it, whether or
not the parent is loaded. The property says how (``base_model_relation``, else the Hub's own inference)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from rdflib import RDF, RDFS, XSD, Literal, URIRef

from loaders.components import BY_SLUG
from loaders.datasets_kb import match_dataset
from loaders.errors import RecordError
from loaders.license_names import resolve_license
from loaders.record import (
    LoadedRecord,
    SourceInfo,
    add_artifact,
    add_license,
    add_organization,
    add_provenance,
    is_http_url,
    issued_literal,
    new_graph,
    parse_yaml,
)
from loaders.vocab import DCAT, DCT, FAIR4ML, OG, PROV, Minter, path_segment

SOURCE = "hf"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$", re.ASCII)  # 'owner/name' (or a legacy 'name')
RELATIONS = {"finetune": OG.finetunedFrom, "adapter": OG.adapterOf, "quantized": OG.quantizedFrom,
             "merge": OG.mergedFrom}
HUB_URL = "https://huggingface.co/"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".onnx", ".ckpt", ".h5", ".msgpack")


def looks_like_hf_json(data: object) -> bool:
    return isinstance(data, dict) and ("cardData" in data or ("id" in data and "siblings" in data))


def front_matter(text: str, file: str) -> dict:
    """The YAML between the leading '---' lines of a README.md model card; ``{}`` for a card without front
    matter (the Hub shows such a model with no stated licence, so it is a record, not a refusal)."""
    text = text.lstrip("\ufeff")
    if not text.lstrip().startswith("---"):
        return {}
    body = text.lstrip()[3:]
    end = body.find("\n---")
    if end < 0:
        raise RecordError(file, "the YAML front matter is not closed by a '---' line", 1)
    data, _ = parse_yaml(body[:end], file)
    if data is None:
        return {}
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


def hub_repo_id(text: str) -> str | None:
    """A Hub model id from a card's ``base_model`` entry ('org/name', a legacy 'name', or its Hub URL)."""
    text = text.strip()
    if text.startswith(HUB_URL):
        text = text[len(HUB_URL):].strip("/")
    return text if _REPO_ID.match(text) else None


def load_hf_card(text: str, info: SourceInfo, minter: Minter, record_name: str) -> LoadedRecord:
    """A card file: README.md (front matter) or the Hub API JSON saved to a file."""
    card, hub = parse_card(text, info.file)
    return _record(card, hub, info, minter, f"{SOURCE}/{record_name}", record_name, None)


def load_hf_hub(readme: str | None, hub: dict, info: SourceInfo, minter: Minter,
                card_unread: str | None = None) -> LoadedRecord:
    """A Hub model as fetched: the API JSON (``model_info``) and its README.md at the same commit. Without
    the README (``readme`` None, ``card_unread`` says why, e.g. a gated repository fetched without a token)
    the record states what the API says: its ``cardData``, gated access, files. Record id ``hf/{org}/{name}``."""
    repo_id = hub.get("id") if isinstance(hub, dict) else None
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id.strip()):
        raise RecordError(info.file, "the Hub answered without a valid model id ('org/name')", 1)
    repo_id = repo_id.strip()
    if readme is None:
        card = hub.get("cardData") if isinstance(hub.get("cardData"), dict) else {}
    else:
        card = front_matter(readme, info.file)
    return _record(card, hub, info, minter, f"{SOURCE}/{repo_id}", repo_id, card_unread)


def _record(card: dict, hub: dict, info: SourceInfo, minter: Minter, record_id: str, record_name: str,
            card_unread: str | None) -> LoadedRecord:
    repo_id = hub.get("id") if isinstance(hub.get("id"), str) and _REPO_ID.match(hub["id"].strip()) else None
    repo_id = repo_id.strip() if repo_id else None
    name = repo_id or str(card.get("model_name") or record_name)
    rec = URIRef(minter.record(record_id))
    graph = new_graph()
    graph.add((rec, RDF.type, OG.ModelRelease))
    graph.add((rec, OG.recordId, Literal(record_id)))
    graph.add((rec, OG.source, Literal(SOURCE)))
    graph.add((rec, DCT.title, Literal(name)))
    graph.add((rec, RDFS.label, Literal(name)))
    graph.add((rec, OG.completeComponentList, Literal(False)))
    if card_unread:
        graph.add((rec, OG.cardUnreadReason, Literal(card_unread)))
    if repo_id:
        graph.add((rec, OG.huggingFaceId, Literal(repo_id)))
        graph.add((rec, DCAT.landingPage, URIRef(f"{HUB_URL}{repo_id}")))
        author = hub.get("author") if isinstance(hub.get("author"), str) and hub["author"].strip() else None
        author = (author or repo_id.split("/")[0]).strip()
        graph.add((rec, OG.producer, add_organization(graph, minter, author,
                                                      f"{HUB_URL}{path_segment(author)}")))
    _dates(graph, rec, hub)
    license_text, resolve_as = _license_text(card, hub)
    raw_siblings = hub.get("siblings")
    siblings = [s["rfilename"] for s in raw_siblings if isinstance(s, dict) and isinstance(s.get("rfilename"), str)
                ] if isinstance(raw_siblings, list) else []
    has_weights = not siblings or any(f.endswith(WEIGHT_SUFFIXES) for f in siblings)
    if has_weights:
        weights = add_artifact(graph, rec, URIRef(minter.artifact(record_id, "model-parameters-final")),
                               BY_SLUG["model-parameters-final"], "released")
        add_license(graph, weights, license_text, "card.license", resolve_as)
    model_card = add_artifact(graph, rec, URIRef(minter.artifact(record_id, "model-card")),
                              BY_SLUG["model-card"], "released")
    add_license(graph, model_card, license_text, "card.license", resolve_as)
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
    _lineage(graph, rec, minter, card, hub, siblings)
    for dataset in _as_list(card.get("datasets")):
        if not _REPO_ID.match(dataset.strip()):
            continue
        url = f"{HUB_URL}datasets/{dataset.strip()}"
        dataset_id = match_dataset(url)
        target = URIRef(minter.dataset(dataset_id or f"hf/{dataset.strip()}"))
        graph.add((rec, OG.trainedOn, target))
        if not dataset_id:
            graph.add((target, RDF.type, DCAT.Dataset))
            graph.add((target, DCT.title, Literal(dataset.strip())))
            graph.add((target, DCAT.landingPage, URIRef(url)))
            graph.add((rec, OG.unmatchedDatasetName, Literal(dataset.strip())))
    add_provenance(graph, minter, record_id, info, rec)
    if repo_id and info.commit:  # fetched from the Hub: the repository the record was derived from
        graph.add((URIRef(minter.record_graph(record_id)), PROV.wasDerivedFrom, URIRef(f"{HUB_URL}{repo_id}")))
    return LoadedRecord(record_id, name, graph, rec, minter.record_graph(record_id))


def _dates(graph, rec: URIRef, hub: dict) -> None:
    """createdAt -> dct:issued (its date, like the other sources' release dates); lastModified -> dct:modified."""
    created = _moment(hub.get("createdAt"))
    if created is not None:
        graph.add((rec, DCT.issued, issued_literal(created.date().isoformat())))
    modified = _moment(hub.get("lastModified"))
    if modified is not None:
        graph.add((rec, DCT.modified, Literal(modified.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)))


def _moment(value: object) -> datetime | None:
    """An ISO 8601 timestamp of the Hub API ('2024-04-18T15:03:41.000Z') in UTC, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _relation_tags(hub: dict) -> dict[str, str]:
    """The Hub's own lineage tags, ``base_model:{relation}:{id}`` -> {id (lower-case): relation}."""
    tags = hub.get("tags") if isinstance(hub.get("tags"), list) else []
    out = {}
    for tag in tags:
        parts = tag.split(":", 2) if isinstance(tag, str) else []
        if len(parts) == 3 and parts[0] == "base_model" and parts[1] in RELATIONS:
            out[parts[2].lower()] = parts[1]
    return out


def _lineage(graph, rec: URIRef, minter: Minter, card: dict, hub: dict, siblings: list[str]) -> None:
    """One link per parent (merges and distillations list every parent). The relation: the card's
    ``base_model_relation``; else the Hub's ``base_model:{relation}:`` tag; else inferred as the Hub does
    (several parents: merge; adapter files: adapter; GGUF files: quantized; otherwise finetune). A relation
    the ontology has no property for (e.g. 'distillation') is stated as og:baseModel."""
    bases = [b for b in (hub_repo_id(x) for x in _as_list(card.get("base_model"))) if b]
    if not bases:
        return
    stated = card.get("base_model_relation")
    tagged = _relation_tags(hub)
    if len(bases) > 1:
        inferred = "merge"
    elif "adapter_config.json" in siblings or card.get("library_name") == "peft":
        inferred = "adapter"
    elif any(f.endswith(".gguf") for f in siblings):
        inferred = "quantized"
    else:
        inferred = "finetune"
    for base in dict.fromkeys(bases):
        if isinstance(stated, str) and stated.strip():
            prop = RELATIONS.get(stated.strip().lower(), OG.baseModel)
        else:
            prop = RELATIONS[tagged.get(base.lower(), inferred)]
        parent = URIRef(minter.hub_model(base))
        graph.add((rec, prop, parent))
        graph.add((parent, RDF.type, FAIR4ML.MLModel))
        graph.add((parent, OG.huggingFaceId, Literal(base)))
        graph.add((parent, RDFS.label, Literal(base)))
        graph.add((parent, DCAT.landingPage, URIRef(f"{HUB_URL}{base}")))


def _license_text(card: dict, hub: dict) -> tuple[str | None, str | None]:
    """(the licence the card states, the text to resolve). ``license``, where ``other`` is replaced by
    ``license_name`` when there is one; without a ``license`` key, the ``license:`` tags of the Hub (or of the
    card). A list is read as every licence applying (AND), each item resolved on its own (a slug such as
    ``gemma-terms-of-use`` is an alias, not an SPDX token an expression parser knows)."""
    value = card.get("license")
    if value is None:
        tags = [t for source in (hub.get("tags"), card.get("tags")) if isinstance(source, list)
                for t in source if isinstance(t, str) and t.startswith("license:")]
        value = [t.split(":", 1)[1] for t in dict.fromkeys(tags)] or None
    if value is None:
        return None, None
    name = card.get("license_name")
    name = name.strip() if isinstance(name, str) and name.strip() else None
    items = [str(v).strip() for v in (value if isinstance(value, list) else [value])
             if isinstance(v, str | int | float) and str(v).strip()]
    items = list(dict.fromkeys(name if (v.lower() == "other" and name) else v for v in items))
    if not items:
        return None, None
    if len(items) == 1:
        return items[0], items[0]
    resolved = [resolve_license(item) for item in items]
    if all(r.state == "licensed" and r.expression for r in resolved):
        return " AND ".join(items), " AND ".join(f"({r.expression})" if " " in r.expression else r.expression
                                                 for r in resolved)
    return " AND ".join(items), " AND ".join(items)
