"""Exporting BOMs: the two formats, their media types and file names, one record's BOM, every record's BOM
into a folder, and the media-type negotiation of ``/models/{id}/bom``.

The verdict object is an input (the caller computes it exactly as the record page does, or takes the
stored run), so the same functions serve a release once releases exist: read its subject, pass its
consolidated verdict."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from loaders.vocab import Minter
from server.bom import cyclonedx, spdx3
from server.bom.subject import Subject, read_record, read_release
from server.store import GraphStore


@dataclass(frozen=True)
class BomFormat:
    name: str
    media_type: str
    suffix: str
    title: str
    standard: str  # the specification the document conforms to
    write: Callable[[Subject, dict], str]


FORMATS: dict[str, BomFormat] = {
    "spdx3": BomFormat("spdx3", spdx3.MEDIA_TYPE, ".spdx3.json", "SPDX 3.0.1 AI bill of materials (JSON-LD)",
                       "https://spdx.github.io/spdx-spec/v3.0.1/", spdx3.spdx_json),
    "cyclonedx": BomFormat("cyclonedx", cyclonedx.MEDIA_TYPE, ".cdx.json", "CycloneDX 1.6 ML-BOM (JSON)",
                           "https://cyclonedx.org/docs/1.6/json/", cyclonedx.cyclonedx_json),
}
BY_MEDIA_TYPE = {f.media_type: f.name for f in FORMATS.values()}


def bom_text(subject: Subject, verdict: dict, fmt: str) -> str:
    """The BOM of ``subject`` in format ``fmt`` (``spdx3`` or ``cyclonedx``)."""
    return FORMATS[fmt].write(subject, verdict)


def record_bom(store: GraphStore, minter: Minter, record_id: str, fmt: str, verdict: dict,
               record_iri: str | None = None) -> str | None:
    """One record's BOM, or None if the record is not loaded."""
    subject = read_record(store, minter, record_id, record_iri)
    return None if subject is None else bom_text(subject, verdict, fmt)


_UNSAFE = re.compile(r"[^A-Za-z0-9._()+-]")


def file_name(subject_id: str, fmt: str) -> str:
    """``mot/Llama-2-7B`` -> ``mot--Llama-2-7B.spdx3.json``, a release ``llama-2-7b`` -> ``llama-2-7b.spdx3.json``
    (characters a file name should not hold -> ``_``)."""
    source, _, name = subject_id.partition("/")
    if not name:
        return f"{_UNSAFE.sub('_', source)}{FORMATS[fmt].suffix}"
    return f"{_UNSAFE.sub('_', source)}--{_UNSAFE.sub('_', name)}{FORMATS[fmt].suffix}"


def release_bom(store: GraphStore, minter: Minter, release_id: str, fmt: str, verdict: dict) -> str | None:
    """One release's BOM with its consolidated verdict object, or None if no such release is loaded."""
    subject = read_release(store, minter, release_id)
    return None if subject is None else bom_text(subject, verdict, fmt)


def export_releases(store: GraphStore, minter: Minter, fmt: str, out_dir: Path,
                    results: Iterable[dict]) -> list[Path]:
    """One BOM file per release into ``out_dir`` (``openness export --out``), for every consolidated result
    given. Returns the files written, in release order."""
    return _export(results, lambda r: release_bom(store, minter, r["id"], fmt, r), fmt, out_dir)


def export_records(store: GraphStore, minter: Minter, fmt: str, out_dir: Path,
                   verdicts: Iterable[dict]) -> list[Path]:
    """One BOM file per record into ``out_dir``, for every verdict object given (its ``id`` names the record).
    Returns the files written, in record order."""
    return _export(verdicts, lambda v: record_bom(store, minter, v["id"], fmt, v), fmt, out_dir)


def _export(items: Iterable[dict], bom: Callable[[dict], str | None], fmt: str, out_dir: Path) -> list[Path]:
    """Each item's BOM (``bom``; None: nothing to export) as a file named after its id, in id order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for item in sorted(items, key=lambda i: i["id"]):
        text = bom(item)
        if text is None:
            continue
        path = out_dir / file_name(item["id"], fmt)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def negotiate_format(accept: str | None, requested: str | None, choose: Callable[[str | None, list[str]], str | None]
                     ) -> tuple[str | None, str]:
    """The format a request for a BOM asks for: ``?format=`` wins, else the Accept header (``*/*`` or none:
    SPDX). Returns (format or None, the reason when None)."""
    if requested is not None:
        if requested in FORMATS:
            return requested, ""
        return None, f"unknown BOM format {requested!r}; use ?format=spdx3 or ?format=cyclonedx"
    media = choose(accept, list(BY_MEDIA_TYPE))
    if media is None:
        return None, ("a BOM is available as application/spdx+json (SPDX 3.0.1) or application/vnd.cyclonedx+json "
                      "(CycloneDX 1.6); ask for one in Accept or with ?format=spdx3|cyclonedx")
    return BY_MEDIA_TYPE[media], ""
