"""Format detection: which loader a file (or a request body) needs, by name, media type and content."""

from __future__ import annotations

from datetime import date
from pathlib import PurePath

from loaders.cyclonedx_bom import load_cyclonedx_bom, looks_like_cyclonedx
from loaders.errors import RecordError
from loaders.hf_card import load_hf_card, looks_like_hf_json
from loaders.mot import load_mot, looks_like_mot
from loaders.native_rdf import load_native
from loaders.osai_index import load_index, looks_like_index
from loaders.record import LoadedRecord, SourceInfo, parse_yaml
from loaders.spdx3_bom import load_spdx3_bom, looks_like_spdx3
from loaders.vocab import Minter

RECORD_SUFFIXES = (".yml", ".yaml", ".json", ".jsonld", ".ttl", ".nt", ".md")
MEDIA_TYPES = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "application/json": "json",
    "application/spdx+json": "json",
    "application/vnd.cyclonedx+json": "json",
    "text/markdown": "markdown",
}


def kind_from_name(file_name: str) -> str | None:
    suffix = PurePath(file_name).suffix.lower()
    return {".yml": "yaml", ".yaml": "yaml", ".json": "json", ".jsonld": "json-ld", ".ttl": "turtle",
            ".nt": "nt", ".md": "markdown"}.get(suffix)


BOM_SUFFIXES = (".spdx3", ".spdx", ".cdx", ".cyclonedx", ".bom")


def record_stem(file_name: str) -> str:
    """The record name of a file: its stem, or for a model card ``<repo>/README.md`` the folder's name
    (every card is called README.md; naming records after the file would make them collide); a BOM's
    ``.spdx3.json`` / ``.cdx.json`` double suffix is dropped whole."""
    path = PurePath(file_name)
    if path.name.lower() == "readme.md" and path.parent.name not in ("", ".", ".."):
        return path.parent.name
    stem = path.stem
    for suffix in BOM_SUFFIXES:
        if stem.lower().endswith(suffix) and len(stem) > len(suffix):
            return stem[:-len(suffix)]
    return stem


def load_text(text: str, file_name: str, minter: Minter, *, kind: str | None = None,
              info: SourceInfo | None = None, record_name: str | None = None) -> LoadedRecord:
    """Detect the format of one record and load it. ``kind`` (from a media type) overrides the name."""
    kind = kind or kind_from_name(file_name)
    stem = record_name or record_stem(file_name)
    today = date.today().isoformat()
    if kind == "yaml":
        parsed = parse_yaml(text, file_name)  # parsed once, handed to the loader
        data = parsed[0]
        if looks_like_mot(data):
            return load_mot(text, info or SourceInfo("mot", file_name, retrieved=today), minter, stem, parsed)
        if looks_like_index(data):
            return load_index(text, info or SourceInfo("osai-index", file_name, retrieved=today), minter, stem,
                              parsed)
        raise RecordError(file_name, "YAML that is neither a MOT record (framework + release) nor an Open "
                          "Source AI Index record (system + org)", 1)
    if kind == "markdown":
        return load_hf_card(text, info or SourceInfo("hf", file_name, retrieved=today), minter, stem)
    if kind in ("json", "json-ld"):
        import json

        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if kind == "json-ld":  # the native loader says what is wrong with JSON-LD in its own words
                return load_native(text, info or SourceInfo("native", file_name, retrieved=today), minter, stem, kind)
            raise RecordError(file_name, f"malformed JSON: {exc.msg}", exc.lineno, exc.colno) from None
        except RecursionError:  # json's C scanner stops at the interpreter's recursion limit
            raise RecordError(file_name, "JSON nested too deeply; refused", 1) from None
        if looks_like_spdx3(data):
            return load_spdx3_bom(data, info or SourceInfo("spdx3", file_name, retrieved=today), minter, stem)
        if looks_like_cyclonedx(data):
            return load_cyclonedx_bom(text, data, info or SourceInfo("cyclonedx", file_name, retrieved=today),
                                      minter, stem)
        if kind == "json" and looks_like_hf_json(data):
            return load_hf_card(text, info or SourceInfo("hf", file_name, retrieved=today), minter, stem)
        kind = "json-ld"
    if kind in ("turtle", "nt", "json-ld"):
        return load_native(text, info or SourceInfo("native", file_name, retrieved=today), minter, stem, kind)
    raise RecordError(file_name, "unknown record format; use .yml/.yaml (MOT or Index), README.md or .json "
                      "(Hugging Face card, SPDX 3 AI BOM, CycloneDX ML-BOM), .ttl, .jsonld or .nt")
