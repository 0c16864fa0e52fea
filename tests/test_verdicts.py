"""Verdicts a reader expects, on real bundled records and on small synthetic ones. (The training-data class
cases, open versus unshareable datasets, are in tests/test_dataset_verdicts.py.)"""

from __future__ import annotations

import pytest

from server.assess.engine import assess_store
from server.assess.validation import validate_text
from server.settings import Settings

FRAMEWORK = "framework: {name: 'Model Openness Framework', version: '1.0', date: '2024-12-15'}\n"


def mot(components: list[str], license_name: str) -> str:
    body = "".join(f"    - name: '{name}'\n      description: ''\n" for name in components)
    return (FRAMEWORK + "release:\n  name: Synthetic\n  producer: Test\n  contact: ''\n  license:\n"
            f"    distribution: {{name: '{license_name}', path: ''}}\n  components:\n{body}")


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(store=tmp_path_factory.mktemp("verdicts") / "store", _env_file=None)


@pytest.fixture(scope="module")
def bundled(bundled_store) -> dict[str, dict]:
    return {r["id"]: r["verdicts"] for r in assess_store(bundled_store)}


def verdicts(settings, text: str, name: str = "synthetic.yml") -> dict:
    outcome = validate_text(text, name, settings)
    assert outcome.verdict["well_formed"], outcome.verdict["problems"]
    return outcome.verdict["verdicts"]


@pytest.mark.parametrize("record", ["mot/OLMo-7B", "mot/Pythia-6.9B", "mot/Pythia-160M"])
def test_fully_open_models_pass_osaid(bundled, record):
    assert bundled[record]["osaid-1.0"] == {"verdict": "pass", "reasons": []}


def test_llama_2_fails_osaid_because_its_license_restricts_use(bundled):
    osaid = bundled["mot/Llama-2-7B"]["osaid-1.0"]
    assert osaid["verdict"] == "fail"
    params = [r for r in osaid["reasons"] if r["requirement"] == "parameters-osi-terms"]
    assert len(params) == 1
    assert params[0]["kind"] == "restricted"
    assert params[0]["component"] == "Model parameters (Final)"
    assert "user count cap, s.2" in params[0]["message"]
    assert "Llama 2 Community License" in params[0]["message"]


def test_weights_only_apache_release_is_open_weight_not_open_source(settings):
    result = verdicts(settings, mot(["Model parameters (Final)"], "Apache-2.0"))
    assert result["owd-0.3"] == {"verdict": "pass", "reasons": []}
    osaid = result["osaid-1.0"]
    assert osaid["verdict"] == "fail"
    assert {(r["requirement"], r["kind"]) for r in osaid["reasons"]} == {
        ("data-information-osi-terms", "missing"), ("training-code-osi-license", "missing"),
        ("inference-code-osi-license", "missing"), ("architecture-osi-license", "missing")}
    assert result["mof-1.0"]["class"] == 0


def test_undisclosed_license_gives_insufficient_evidence(settings):
    """Every component OSAID needs is there, but no license is disclosed: nothing fails, nothing passes."""
    components = ["Data card", "Training code", "Inference code", "Model architecture", "Model parameters (Final)"]
    result = verdicts(settings, mot(components, "undisclosed"))
    osaid = result["osaid-1.0"]
    assert osaid["verdict"] == "insufficient-evidence"
    assert osaid["reasons"] and {r["kind"] for r in osaid["reasons"]} == {"unknown"}
    assert result["owd-0.3"]["verdict"] == "insufficient-evidence"
    # one disclosed restrictive license turns it into a failure
    restricted = mot(components, "Llama 2 Community License Agreement")
    assert verdicts(settings, restricted)["osaid-1.0"]["verdict"] == "fail"


INDEX = """system:
  name: Synthetic Index model
  link: https://example.org/model
  type: text
  endmodellicense: Apache-2.0
org:
  name: Example Org
weights_basemodel: {class: open}
weights_endmodel: {class: open}
trainingcode: {class: closed}
datasheet: {class: open}
licenses: {class: open}
"""


def test_index_keeps_not_stated_apart_from_closed(settings):
    """Graded closed: the artifact is missing. Not graded at all: unknown, not closed."""
    result = verdicts(settings, INDEX, "synthetic-index.yaml")
    reasons = {r["requirement"]: r["kind"] for r in result["osaid-1.0"]["reasons"]}
    assert reasons["training-code-osi-license"] == "missing"  # trainingcode: closed
    assert reasons["inference-code-osi-license"] == "unknown"  # not graded by the Index
    assert reasons["architecture-osi-license"] == "unknown"
    assert result["osaid-1.0"]["verdict"] == "fail"
    dims = result["osai-index"]["dimensions"]
    assert dims["trainingcode"] == "closed"
    assert dims["paper"] == "unknown"


def test_bundled_index_record_with_both(bundled):
    """A real Index record: closed dimensions are 'missing', unstated components 'unknown'."""
    reasons = {r["requirement"]: r["kind"] for r in bundled["osai-index/33x-coder"]["osaid-1.0"]["reasons"]}
    assert reasons["training-code-osi-license"] == "missing"
    assert reasons["inference-code-osi-license"] == "unknown"
