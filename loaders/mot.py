"""Model Openness Tool YAML (``framework`` + ``release``) -> RDF.

License resolution follows the MOT exactly (mof.md §2): the component's own ``license`` key if present
(whatever its value), else ``release.license.<content_type>.name``, else
``release.license.distribution.name``, else unlicensed. The exact resolved string is kept as
``og:licenseStatement`` because the MOT compares strings, not licenses."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from rdflib import RDF, RDFS, Literal, URIRef

from loaders.bundled_data import data_file
from loaders.components import BY_NAME
from loaders.datasets_kb import match_dataset
from loaders.errors import RecordError
from loaders.papers import add_paper_links
from loaders.record import (
    LoadedRecord,
    SourceInfo,
    add_artifact,
    add_license,
    add_organization,
    add_provenance,
    is_http_url,
    issued_literal,
    lit,
    new_graph,
    node_line,
    parse_yaml,
)
from loaders.vocab import DCAT, DCT, OG, SDO, Minter, slugify

if TYPE_CHECKING:
    import jsonschema

SOURCE = "mot"
_TRUE = Literal(True)


@cache
def _schema() -> dict:
    return json.loads(data_file("mot", "schema", "mof_schema.json").read_text())


@cache
def _validator() -> jsonschema.Draft7Validator:
    """The pure-Python validator, for the messages of invalid records only: importing ``jsonschema`` costs
    1-6 s here (its optional IRI checker compiles grammars at import), which no command should pay for
    valid records."""
    import jsonschema

    return jsonschema.Draft7Validator(_schema())


@cache
def _compiled_is_valid() -> Callable[[object], bool] | None:
    """The schema compiled by ``jsonschema_rs`` when it is installed (a dependency, ~40x faster than the
    pure-Python validator, which took 10-15 % of a MOT record's load). Formats are not asserted, as in
    ``jsonschema``'s Draft 7 default. Only the yes/no answer is used: an invalid record is validated again
    by ``jsonschema`` for the message, so messages and the accepted set stay ``jsonschema``'s."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.Draft7Validator(_schema(), validate_formats=False).is_valid


def schema_errors(data: object) -> list[jsonschema.ValidationError]:
    """The record's MOT schema errors, in path order; empty for a valid record."""
    is_valid = _compiled_is_valid()
    if is_valid is not None:
        try:
            if is_valid(data):
                return []
        except (ValueError, TypeError):  # a value JSON has no type for (a YAML date): the slow path decides
            pass
    return sorted(_validator().iter_errors(data), key=lambda e: list(e.path))


def looks_like_mot(data: object) -> bool:
    return isinstance(data, dict) and "release" in data and "framework" in data


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def resolve_component_license(release: dict, component: dict, content_type: str) -> tuple[str, str]:
    """(license string, where it came from) as the MOT resolves it; '' becomes 'unlicensed'."""
    if "license" in component:
        value = component.get("license")
        return (str(value) if value not in (None, "") else "unlicensed"), "component"
    globals_ = release.get("license") or {}
    for key in (content_type, "distribution"):
        entry = globals_.get(key) if isinstance(globals_, dict) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        if name not in (None, ""):
            return str(name), f"release.license.{key}"
    return "unlicensed", "none"


def load_mot(text: str, info: SourceInfo, minter: Minter, record_name: str,
             parsed: tuple[object, object] | None = None) -> LoadedRecord:
    """One MOT YAML record -> its RDF graph. Raises RecordError (file, line) on a bad record.
    ``parsed`` is ``parse_yaml(text, ...)`` when the caller has already parsed the text."""
    data, tree = parsed if parsed is not None else parse_yaml(text, info.file)
    if not isinstance(data, dict):
        raise RecordError(info.file, "a MOT record is a mapping with 'framework' and 'release'", 1)
    errors = schema_errors(data)
    if errors:
        err = errors[0]
        path = [str(p) if not isinstance(p, int) else p for p in err.absolute_path]
        where = "/".join(str(p) for p in path) or "(top)"
        raise RecordError(info.file, f"fails the MOT JSON schema at {where}: {err.message}", node_line(tree, path))
    release = data["release"]
    record_id = f"{SOURCE}/{record_name}"
    rec = URIRef(minter.record(record_id))
    graph = new_graph()
    name = str(release["name"]).strip()
    graph.add((rec, RDF.type, OG.ModelRelease))
    graph.add((rec, OG.recordId, Literal(record_id)))
    graph.add((rec, OG.source, lit(SOURCE)))
    title = Literal(name)
    graph.add((rec, DCT.title, title))
    graph.add((rec, RDFS.label, title))
    graph.add((rec, OG.completeComponentList, _TRUE))
    if _text(release.get("version")):
        graph.add((rec, DCAT.version, lit(_text(release["version"]))))
    if (dated := issued_literal(release.get("date"))) is not None:
        # the date of the MOT record (when it was written or evaluated), not the model's release date
        graph.add((rec, OG.recordDate, dated))
    for key, prop in (("type", OG.modelType), ("architecture", OG.architectureName), ("treatment", OG.treatment)):
        if _text(release.get(key)):
            graph.add((rec, prop, lit(_text(release[key]))))
    if _text(release.get("producer")):
        graph.add((rec, OG.producer, add_organization(graph, minter, _text(release["producer"]))))
    if _text(release.get("origin")):
        family = URIRef(f"{minter.base}families/{slugify(_text(release['origin']))}")
        graph.add((family, RDF.type, OG.ModelFamily))
        graph.add((family, RDFS.label, lit(_text(release["origin"]))))
        graph.add((rec, OG.ofFamily, family))
    repo = release.get("repository")
    if is_http_url(repo):
        graph.add((rec, SDO.codeRepository, URIRef(repo.strip())))
        graph.add((rec, DCAT.landingPage, URIRef(repo.strip())))
    hf = release.get("huggingface")
    if is_http_url(hf):
        graph.add((rec, RDFS.seeAlso, URIRef(hf.strip())))
        hf_id = hf_repo_id(hf)
        if hf_id:
            graph.add((rec, OG.huggingFaceId, Literal(hf_id)))
    seen: set[str] = set()
    for index, component in enumerate(release.get("components") or []):
        cname = str(component.get("name", "")).strip()
        kind = BY_NAME.get(cname)
        if kind is None:
            raise RecordError(info.file, f"unknown component name {cname!r}; it must be one of the 17 MOF "
                              "components (e.g. 'Model architecture')",
                              node_line(tree, ["release", "components", index, "name"]))
        if kind.slug in seen:
            raise RecordError(info.file, f"component {cname!r} is listed twice",
                              node_line(tree, ["release", "components", index, "name"]))
        seen.add(kind.slug)
        artifact = add_artifact(graph, rec, URIRef(minter.artifact(record_id, kind.slug)), kind, "released")
        if _text(component.get("description")):
            graph.add((artifact, DCT.description, Literal(_text(component["description"]))))
        statement, resolved_from = resolve_component_license(release, component, kind.content_type or "")
        add_license(graph, artifact, statement, resolved_from)
        if is_http_url(component.get("license_path")):
            graph.add((artifact, OG.licenseDocument, URIRef(component["license_path"].strip())))
        if is_http_url(component.get("component_path")):
            graph.add((artifact, DCAT.accessURL, URIRef(component["component_path"].strip())))
            add_paper_links(graph, artifact, kind.slug, [component["component_path"]])
        if kind.slug == "datasets":
            _link_datasets(graph, minter, rec, component)
    add_provenance(graph, minter, record_id, info, rec)
    return LoadedRecord(record_id, name, graph, rec, minter.record_graph(record_id))


def _link_datasets(graph, minter: Minter, rec: URIRef, component: dict) -> None:
    """Link a Datasets component to curated dataset entities by its path, license text or description."""
    for field in ("component_path", "license", "description"):
        text = _text(component.get(field))
        if not text:
            continue
        dataset_id = match_dataset(text)
        if dataset_id:
            graph.add((rec, OG.trainedOn, URIRef(minter.dataset(dataset_id))))
            return
    mention = _text(component.get("component_path"))
    if mention:
        graph.add((rec, OG.unmatchedDatasetName, Literal(mention)))


def hf_repo_id(url: str) -> str | None:
    """'https://huggingface.co/allenai/OLMo-7B/tree/main' -> 'allenai/OLMo-7B'."""
    text = url.strip()
    for prefix in ("https://huggingface.co/", "http://huggingface.co/", "https://hf.co/"):
        if text.startswith(prefix):
            parts = [p for p in text[len(prefix):].split("/") if p]
            if len(parts) >= 2 and parts[0] not in ("datasets", "spaces", "papers", "docs", "blog", "collections",
                                                    "organizations", "models", "tasks"):
                return f"{parts[0]}/{parts[1]}"
    return None
