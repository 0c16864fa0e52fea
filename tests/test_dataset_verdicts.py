"""Definitions use the training-data classes: the same model flips its OSAID and FSF verdicts when its
training dataset changes from open to unshareable, and the reason names the dataset."""

from __future__ import annotations

from server.assess.validation import validate_text
from server.settings import Settings

RECORD = """
@prefix og: <https://w3id.org/openness-graph/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix kind: <https://w3id.org/openness-graph/kind/> .
@prefix avail: <https://w3id.org/openness-graph/availability/> .
@prefix licstate: <https://w3id.org/openness-graph/license-state/> .
@prefix dataclass: <https://w3id.org/openness-graph/data-class/> .
@prefix ex: <https://example.org/> .

ex:model a og:ModelRelease ; dct:title "Example model" ; og:completeComponentList true ;
  og:hasArtifact ex:code, ex:inference, ex:arch, ex:weights, ex:card, ex:prep, ex:{extra} ;
  og:trainedOn ex:corpus .
ex:corpus a dcat:Dataset ; dct:title "Example Corpus" ; og:dataClass dataclass:{data_class} .
ex:code a og:Artifact ; og:artifactKind kind:training-code ; og:availability avail:released ;
  og:licenseState licstate:licensed ; og:licenseStatement "Apache-2.0" ; dct:license <http://spdx.org/licenses/Apache-2.0> .
ex:inference a og:Artifact ; og:artifactKind kind:inference-code ; og:availability avail:released ;
  og:licenseState licstate:licensed ; og:licenseStatement "Apache-2.0" ; dct:license <http://spdx.org/licenses/Apache-2.0> .
ex:arch a og:Artifact ; og:artifactKind kind:model-architecture ; og:availability avail:released ;
  og:licenseState licstate:licensed ; og:licenseStatement "Apache-2.0" ; dct:license <http://spdx.org/licenses/Apache-2.0> .
ex:prep a og:Artifact ; og:artifactKind kind:data-preprocessing-code ; og:availability avail:released ;
  og:licenseState licstate:licensed ; og:licenseStatement "Apache-2.0" ; dct:license <http://spdx.org/licenses/Apache-2.0> .
ex:weights a og:Artifact ; og:artifactKind kind:model-parameters-final ; og:availability avail:released ;
  og:licenseState licstate:licensed ; og:licenseStatement "Apache-2.0" ; dct:license <http://spdx.org/licenses/Apache-2.0> .
ex:card a og:Artifact ; og:artifactKind kind:model-card ; og:availability avail:released ;
  og:licenseState licstate:licensed ; og:licenseStatement "CC-BY-4.0" ; dct:license <http://spdx.org/licenses/CC-BY-4.0> .
ex:datasets a og:Artifact ; og:artifactKind kind:datasets ; og:availability avail:released ;
  og:licenseState licstate:licensed ; og:licenseStatement "CC-BY-4.0" ; dct:license <http://spdx.org/licenses/CC-BY-4.0> .
ex:datacard a og:Artifact ; og:artifactKind kind:data-card ; og:availability avail:released ;
  og:licenseState licstate:licensed ; og:licenseStatement "CC-BY-4.0" ; dct:license <http://spdx.org/licenses/CC-BY-4.0> .
"""


def verdicts(data_class: str, extra: str) -> dict:
    text = RECORD.replace("{data_class}", data_class).replace("{extra}", extra)
    outcome = validate_text(text, "example.ttl", Settings(_env_file=None))
    assert outcome.verdict["well_formed"], outcome.problems
    return outcome.verdict["verdicts"]


def test_fsf_flips_when_the_dataset_becomes_unshareable():
    assert verdicts("open", "datasets")["fsf-free-ml"]["verdict"] == "pass"
    after = verdicts("unshareable", "datasets")["fsf-free-ml"]
    assert after["verdict"] == "fail"
    reason = next(r for r in after["reasons"] if r["requirement"] == "training-data-free")
    assert reason["kind"] == "not-open" and "Example Corpus" in reason["message"]


def test_osaid_asks_open_data_to_be_shared_and_unshareable_data_described():
    # open data that the record does not share fails "open-data-shared", naming the dataset
    open_unshared = verdicts("open", "datacard")["osaid-1.0"]
    assert open_unshared["verdict"] == "fail"
    reason = next(r for r in open_unshared["reasons"] if r["requirement"] == "open-data-shared")
    assert reason["kind"] == "missing" and "Example Corpus" in reason["message"]
    # the same record with unshareable data passes: a data card describes it, sharing is not required
    assert verdicts("unshareable", "datacard")["osaid-1.0"]["verdict"] == "pass"
