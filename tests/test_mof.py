"""MOF 1.0 classes as the Model Openness Tool computes them (spec/mof.md §4–5), one rule per test, on
synthetic MOT records loaded by loaders.mot and on the bundled records."""

from __future__ import annotations

import json

import pytest

from loaders.components import MOF_COMPONENTS
from server.assess.mof import open_ids, required_at
from server.assess.validation import validate_text
from server.settings import Settings

CLASS_III = [k.name for k in MOF_COMPONENTS if k.mof_class == 3 and k.mof_required]
CLASS_II = CLASS_III + [k.name for k in MOF_COMPONENTS if k.mof_class == 2 and k.mof_required]
CLASS_I = CLASS_II + [k.name for k in MOF_COMPONENTS if k.mof_class == 1 and k.mof_required]
OPEN_FOR = {"code": "Apache-2.0", "data": "CDLA-Permissive-2.0", "document": "CC-BY-4.0"}
CONTENT = {k.name: k.content_type for k in MOF_COMPONENTS}


def mot_yaml(components: dict[str, str | None], distribution: str | None = None) -> str:
    """A MOT record; a component's value is its license (None: the key is omitted, so it inherits)."""
    lines = ["framework: {name: 'Model Openness Framework', version: '1.0', date: '2024-12-15'}",
             "release:", "  name: Synthetic", "  producer: Test", "  contact: ''"]
    if distribution:
        lines += ["  license:", "    distribution:", f"      name: {json.dumps(distribution)}", "      path: ''"]
    else:
        lines += ["  license: {}"]
    lines.append("  components:")
    for name, lic in components.items():
        lines.append(f"    - name: {json.dumps(name)}")
        lines.append("      description: ''")
        if lic is not None:
            lines.append(f"      license: {json.dumps(lic)}")
    return "\n".join(lines) + "\n"


def typed(names: list[str]) -> dict[str, str]:
    """Every component under an open, type-appropriate license."""
    return {name: OPEN_FOR[CONTENT[name]] for name in names}


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(store=tmp_path_factory.mktemp("mof") / "store", _env_file=None)


def mof(settings, components: dict[str, str | None], distribution: str | None = None) -> dict:
    outcome = validate_text(mot_yaml(components, distribution), "synthetic.yml", settings, definition="mof-1.0")
    assert outcome.verdict["well_formed"], outcome.verdict["problems"]
    return outcome.verdict["verdicts"]["mof-1.0"]


def reasons(result: dict) -> set[tuple[str, str]]:
    return {(r["requirement"], r["kind"]) for r in result["reasons"]}


def test_class_sizes_match_the_tool():
    assert (len(required_at(3)), len(required_at(2)), len(required_at(1))) == (6, 4, 4)
    assert len(CLASS_I) == 14
    assert len(open_ids()) == 226


@pytest.mark.parametrize(("names", "expected"), [(CLASS_III, 3), (CLASS_II, 2), (CLASS_I, 1)])
def test_classes_are_cumulative(settings, names, expected):
    result = mof(settings, typed(names))
    assert result["class"] == expected
    assert result["progress"][str(expected)] == 100.0
    assert not result["warnings"]


def test_class_ii_components_without_class_iii_is_unclassified(settings):
    """Progress of a class is 0 while a higher class is incomplete, even with all its own components."""
    names = [n for n in CLASS_II if n != "Model card"]
    result = mof(settings, typed(names))
    assert result["class"] == 0
    assert result["progress"]["3"] == pytest.approx(83.33)
    assert result["progress"]["2"] == 0.0 and result["progress"]["1"] == 0.0
    assert reasons(result) >= {("class-3-model-card", "missing")}


def test_research_paper_stands_in_for_the_technical_report(settings):
    """'Technical Report may be omitted if a Research Paper is provided': class I then needs 13."""
    names = [n for n in CLASS_I if n != "Technical report"]
    assert len(names) == 13
    result = mof(settings, typed(names))
    assert result["class"] == 1
    assert result["progress"] == {"1": 100.0, "2": 100.0, "3": 100.0}
    only_iii = typed([n for n in CLASS_III if n != "Technical report"] + ["Research paper"])
    assert mof(settings, only_iii)["class"] == 3


def test_a_non_open_paper_standing_in_is_the_reason(settings):
    names = typed([n for n in CLASS_III if n != "Technical report"])
    names["Research paper"] = "Proprietary"
    result = mof(settings, names)
    assert result["class"] == 0
    assert ("class-3-research-paper", "not-open") in reasons(result)
    assert not any(r.startswith("class-3-technical-report") for r, _ in reasons(result))
    assert not any(r == "class-1-research-paper" for r, _ in reasons(result))


def test_without_a_paper_the_report_is_required(settings):
    names = typed([n for n in CLASS_III if n != "Technical report"])
    result = mof(settings, names)
    assert result["class"] == 0
    assert ("class-3-technical-report", "missing") in reasons(result)
    assert ("class-1-research-paper", "missing") in reasons(result)


@pytest.mark.parametrize("spelling", ["Apache 2.0", "apache-2.0", "MIT license", "BSD-3", "CC BY-SA 4.0"])
def test_license_strings_match_exactly(settings, spelling):
    names = typed(CLASS_III)
    names["Model architecture"] = spelling
    result = mof(settings, names)
    assert result["class"] == 0
    assert ("class-3-model-architecture", "not-open") in reasons(result)


def test_exact_spdx_id_counts(settings):
    names = typed(CLASS_III)
    names["Model architecture"] = "Apache-2.0"
    assert mof(settings, names)["class"] == 3


def test_cc0_on_weights_counts_with_a_type_warning(settings):
    """Quirk 1: CC0-1.0 ends up document-only in the MOT, so on weights (data) it warns, yet counts."""
    names = typed(CLASS_III)
    names["Model parameters (Final)"] = "CC0-1.0"
    result = mof(settings, names)
    assert result["class"] == 3
    assert [w["component"] for w in result["warnings"]] == ["Model parameters (Final)"]


def test_apache_on_weights_counts_with_a_type_warning(settings):
    names = typed(CLASS_III)
    names["Model parameters (Final)"] = "Apache-2.0"
    result = mof(settings, names)
    assert result["class"] == 3
    assert [w["component"] for w in result["warnings"]] == ["Model parameters (Final)"]


def test_unlicensed_components_do_not_count(settings):
    names = typed(CLASS_III)
    names["Evaluation results"] = "unlicensed"
    result = mof(settings, names)
    assert result["class"] == 0
    assert ("class-3-evaluation-results", "unlicensed") in reasons(result)


def test_no_license_anywhere_is_unlicensed(settings):
    """No component license and no global license: the MOT's resolution ends in 'unlicensed'."""
    result = mof(settings, dict.fromkeys(CLASS_III))
    assert result["class"] == 0
    assert {k for r, k in reasons(result) if r.startswith("class-3-")} == {"unlicensed"}


def test_inherited_distribution_license_counts(settings):
    result = mof(settings, dict.fromkeys(CLASS_III), distribution="Apache-2.0")
    assert result["class"] == 3


def test_pddl_is_not_open(settings):
    """Quirk 2: the MOT's open-data constant spells it ODC-PDDL-1.0, so the SPDX id PDDL-1.0 fails."""
    names = typed(CLASS_III)
    names["Model parameters (Final)"] = "PDDL-1.0"
    result = mof(settings, names)
    assert result["class"] == 0
    assert ("class-3-model-parameters-final", "not-open") in reasons(result)
    names["Model parameters (Final)"] = "ODC-PDDL-1.0"
    assert mof(settings, names)["class"] == 3


def test_missing_components_are_reasons_per_class(settings):
    result = mof(settings, typed(CLASS_III))
    expected = {(f"class-2-{k.slug}", "missing") for k in MOF_COMPONENTS if k.mof_class == 2 and k.mof_required}
    assert expected <= reasons(result)


# --- the bundled records -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled_mof(bundled_store):
    from server.assess.engine import assess_store

    return {r["id"]: r["verdicts"]["mof-1.0"] for r in assess_store(bundled_store)}


def test_olmo_7b_is_class_i(bundled_mof):
    assert bundled_mof["mot/OLMo-7B"]["class"] == 1


def test_85_of_273_mot_records_warn_on_final_weights(bundled_mof):
    mot = {k: v for k, v in bundled_mof.items() if k.startswith("mot/")}
    assert len(mot) == 273
    warned = [k for k, v in mot.items()
              if any(w["component"] == "Model parameters (Final)" for w in v["warnings"])]
    assert len(warned) == 85
