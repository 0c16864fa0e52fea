"""Licence-string normalisation (loaders/license_names.py, data/licenses/license-aliases.csv): edge cases,
coverage of the strings in the bundled records, and a property test that no input makes it raise."""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph
from rdflib.namespace import RDF

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from loaders import license_kb  # noqa: E402
from loaders.license_names import STATES, LicenseResolution, record_license_strings, resolve_license  # noqa: E402
from loaders.vocab import OG, OGLIC, SPDX_LICENSE  # noqa: E402

DATA = ROOT / "data"
ALIASES = DATA / "licenses" / "license-aliases.csv"


@pytest.fixture(scope="module")
def kb_licences() -> set[str]:
    kb = Graph().parse(DATA / "licenses" / "license-kb.ttl", format="turtle")
    return {str(s) for s in kb.subjects(RDF.type, OG.License)}


def spdx(licence_id: str) -> str:
    return str(SPDX_LICENSE[licence_id])


def ref(licence_id: str) -> str:
    return str(OGLIC[licence_id])


LLAMA2 = ref("LicenseRef-scancode-llama-2-license-2023")
ARXIV_ID = "LicenseRef-og-arxiv-nonexclusive-1.0"
ARXIV = ref(ARXIV_ID)

CASES = [
    ("Apache 2.0", "licensed", (spdx("Apache-2.0"),), "Apache-2.0"),
    ("apache-2.0", "licensed", (spdx("Apache-2.0"),), "Apache-2.0"),
    ("  Apache-2.0 ", "licensed", (spdx("Apache-2.0"),), "Apache-2.0"),
    ("MIT License", "licensed", (spdx("MIT"),), "MIT"),
    ("MIT license", "licensed", (spdx("MIT"),), "MIT"),
    ("mit", "licensed", (spdx("MIT"),), "MIT"),
    ("Llama 2 Community License", "licensed", (LLAMA2,), "LicenseRef-scancode-llama-2-license-2023"),
    ("llama2", "licensed", (LLAMA2,), "LicenseRef-scancode-llama-2-license-2023"),
    ("BigScience-BLOOM-RAIL-1.0", "licensed", (ref("LicenseRef-scancode-bigscience-rail-1.0"),),
     "LicenseRef-scancode-bigscience-rail-1.0"),
    ("Meta Llama 3 Community License Agreement", "licensed", (ref("LicenseRef-og-llama-3"),),
     "LicenseRef-og-llama-3"),
    ("unlicensed", "unlicensed", (), None),
    ("", "unlicensed", (), None),
    (None, "unlicensed", (), None),
    ("Undisclosed", "undisclosed", (), None),
    ("unknown", "undisclosed", (), None),
    ("Other License", "undisclosed", (), None),
    ("Component not included", "not-included", (), None),
    ("Component not include.", "not-included", (), None),
    ("Component Component not included", "not-included", (), None),
    ("component  NOT included", "not-included", (), None),
    ("arXiv.org perpetual non-exclusive license 1.0", "licensed", (ARXIV,), ARXIV_ID),
    ("arXiv.org perpetual, non-exclusive license 1.0", "licensed", (ARXIV,), ARXIV_ID),
    ("arXiv.org - Non-exclusive", "licensed", (ARXIV,), ARXIV_ID),
    ("arxiv-non-excluse-1.0", "licensed", (ARXIV,), ARXIV_ID),
    ("arXiv non-exclusive distribution licence", "licensed", (ARXIV,), ARXIV_ID),
    ("Apache-2.0 OR MIT", "licensed", (spdx("Apache-2.0"), spdx("MIT")), "Apache-2.0 OR MIT"),
    ("mit and apache-2.0", "licensed", (spdx("MIT"), spdx("Apache-2.0")), "MIT AND Apache-2.0"),
    ("(MIT OR Apache-2.0) AND CC-BY-4.0", "licensed", (spdx("MIT"), spdx("Apache-2.0"), spdx("CC-BY-4.0")),
     "(MIT OR Apache-2.0) AND CC-BY-4.0"),
    ("GPL-2.0-or-later WITH Classpath-exception-2.0", "licensed", (spdx("GPL-2.0-or-later"),),
     "GPL-2.0-or-later WITH Classpath-exception-2.0"),
    ("GPL-3.0", "licensed", (spdx("GPL-3.0-only"),), "GPL-3.0-only"),
    ("gpl-2.0+", "licensed", (spdx("GPL-2.0-or-later"),), "GPL-2.0-or-later"),
    ("CC BY-SA 4.0", "licensed", (spdx("CC-BY-SA-4.0"),), "CC-BY-SA-4.0"),
    ("CC BY-NC-ND 4.0 License", "licensed", (spdx("CC-BY-NC-ND-4.0"),), "CC-BY-NC-ND-4.0"),
    ("Creative Commons Attribution 4.0 International", "licensed", (spdx("CC-BY-4.0"),), "CC-BY-4.0"),
    ("ODC-PDDL-1.0", "licensed", (spdx("PDDL-1.0"),), "PDDL-1.0"),
    ("Proprietary", "licensed", (ref("LicenseRef-og-proprietary"),), "LicenseRef-og-proprietary"),
    ("Gemma Terms of Use", "licensed", (ref("LicenseRef-scancode-gemma-tou-2025-03-24"),),
     "LicenseRef-scancode-gemma-tou-2025-03-24"),
    ("Apache-2.0 and CC-BY-NC-4.0 and additional terms", "licensed",
     (spdx("Apache-2.0"), spdx("CC-BY-NC-4.0")), "Apache-2.0 AND CC-BY-NC-4.0"),
    ("garbage", "unrecognised", (), None),
    ("https://arxiv.org/pdf/2401.06066", "unrecognised", (), None),
    ("mc4, cc100, wikipedia, EleutherAI/pile", "unrecognised", (), None),
    ("MIT Apache-2.0", "unrecognised", (), None),
    ("MIT AND", "unrecognised", (), None),
    ("(MIT", "unrecognised", (), None),
    ("AND", "unrecognised", (), None),
    ("LicenseRef-something-else", "unrecognised", (), None),
]


@pytest.mark.parametrize(("text", "state", "iris", "expression"), CASES)
def test_cases(text, state, iris, expression):
    result = resolve_license(text)
    assert result.original == text
    assert (result.state, result.iris, result.expression) == (state, iris, expression), result.note
    assert result.note


def test_resolution_is_a_frozen_dataclass():
    result = resolve_license("Apache-2.0 OR MIT")
    assert isinstance(result, LicenseResolution)
    assert result.ids == ("Apache-2.0", "MIT")
    with pytest.raises(AttributeError):
        result.state = "unlicensed"  # type: ignore[misc]
    assert hash(result) == hash(resolve_license("Apache-2.0 OR MIT"))


def test_non_string_input_does_not_raise():
    assert resolve_license(42).state == "unrecognised"  # type: ignore[arg-type]
    assert resolve_license(2.0).state == "unrecognised"  # type: ignore[arg-type]


# --- the alias table ---------------------------------------------------------------------------------------


def alias_rows() -> list[dict[str, str]]:
    with ALIASES.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["alias", "target", "note"]
        return list(reader)


def test_alias_table_is_well_formed():
    rows = alias_rows()
    keys = [" ".join(r["alias"].split()).casefold() for r in rows]
    assert len(keys) == len(set(keys)), "duplicate aliases (case-insensitive)"
    assert keys == sorted(keys), "keep the alias table sorted (case-insensitive)"
    assert all(r["alias"] == r["alias"].strip() and r["target"] for r in rows)


def test_every_alias_target_resolves(kb_licences):
    for row in alias_rows():
        result = resolve_license(row["alias"])
        if row["target"] in STATES:
            assert result.state == row["target"], row
            continue
        assert result.state == "licensed", row
        assert result.expression == row["target"] or result.ids == (row["target"],), (row, result)
        assert set(result.iris) <= kb_licences, row


def test_hf_ids_resolve():
    for row in license_kb.read_hf_ids(DATA):
        result = resolve_license(row["hf_license_id"])
        assert result.state in ("licensed", "undisclosed"), row["hf_license_id"]


def test_spdx_ids_resolve_to_themselves_or_their_successor():
    for row in license_kb.read_spdx(DATA):
        result = resolve_license(row["spdx_id"])
        assert result.state == "licensed", row["spdx_id"]
        if row["is_deprecated_id"] == "false":
            assert result.iris == (spdx(row["spdx_id"]),)
        assert resolve_license(row["spdx_id"].lower()).iris == result.iris


def test_mot_open_strings_resolve():
    for line in (DATA / "licenses" / "mof-open-ids.txt").read_text(encoding="utf-8").splitlines():
        assert resolve_license(line).state == "licensed", line


# --- coverage of the bundled records -----------------------------------------------------------------------


def test_coverage_of_record_strings(kb_licences):
    found, skipped = record_license_strings(DATA)
    assert found
    results = [(where, text, resolve_license(text)) for where, text in found]
    states = Counter(r.state for _, _, r in results)
    unresolved = Counter(text for _, text, r in results if r.state == "unrecognised")
    total = len(results)
    resolved = total - sum(unresolved.values())
    non_trivial = [r for _, text, r in results if (text or "").strip().casefold() != "unlicensed"]
    non_trivial_ok = sum(1 for r in non_trivial if r.state != "unrecognised")
    distinct = len({t for _, t in found})
    print(f"\nlicence strings in the records: {total} occurrences ({distinct} distinct), "
          f"{len(skipped)} unparsable record files skipped")
    print(f"resolved: {resolved}/{total} = {resolved / total:.2%}; without the literal 'unlicensed': "
          f"{non_trivial_ok}/{len(non_trivial)} = {non_trivial_ok / len(non_trivial):.2%}")
    print(f"states: {dict(sorted(states.items()))}")
    print("unresolved strings:")
    for text, count in unresolved.most_common():
        print(f"  {count:3d}  {text!r}")
    assert resolved / total >= 0.95
    for _, text, r in results:
        assert set(r.iris) <= kb_licences, (text, r)


# --- never raises ------------------------------------------------------------------------------------------

_TOKENS = st.sampled_from(["MIT", "Apache-2.0", "GPL-3.0", "gpl-2.0+", "AND", "OR", "WITH", "and", "(", ")",
                           "Classpath-exception-2.0", "LicenseRef-og-llama-3", "llama2", "unlicensed",
                           "Component", "not", "included", "arXiv", "non-exclusive", "License", "http://x",
                           "CC", "BY-SA", "4.0", "", " ", ",", ";", "\u00a0", "\x00", "模型"])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(st.none(), st.text(), st.text(alphabet=st.characters(codec="utf-8")),
                 st.lists(_TOKENS, max_size=8).map(" ".join)))
def test_never_raises(text):
    result = resolve_license(text)
    assert isinstance(result, LicenseResolution)
    assert result.state in STATES
    assert result.original == text
    assert (result.state == "licensed") == bool(result.iris)
    assert (result.expression is not None) == (result.state == "licensed")
