"""The ``openness:`` property namespace that our AI bills of materials carry, shared by the exporters
(``server.bom``) and the BOM loaders (``loaders.spdx3_bom``, ``loaders.cyclonedx_bom``).

CycloneDX carries them as ``properties`` (name/value pairs); SPDX 3 as ``extension_CdxPropertiesExtension``
entries on the element they describe, with the same names. They say what the record says in the
ontology's own terms (artifact kind, availability, the license string as the source wrote it, Index grades),
so a BOM we exported loads back as the same record and gets the same verdicts; a BOM from another tool has
none of them and is read from its standard fields instead. Names and values: docs/bom.md."""

from __future__ import annotations

PREFIX = "openness:"

# on the document (CycloneDX metadata / the SPDX ai_AIPackage): the record as a whole
RECORD = PREFIX + "record"  # the record's IRI in the graph
RECORD_ID = PREFIX + "recordId"  # e.g. mot/Llama-2-7B
SOURCE = PREFIX + "source"  # mot, osai-index, hf, native
COMPLETE = PREFIX + "completeComponentList"  # true: an absent component is missing, not unknown
GATED = PREFIX + "gatedAccess"
MONETISED = PREFIX + "monetised"
ISSUED = PREFIX + "issued"  # the release date exactly as the source gives it (year, year-month or date)
RECORD_GRADE = PREFIX + "indexGrade:"  # + Index dimension: the record's grade on it (open, partial, closed)

# on each artifact (component / package)
ARTIFACT = PREFIX + "artifact"  # the artifact's IRI in the graph
ARTIFACT_KIND = PREFIX + "artifactKind"  # slug of loaders.components
AVAILABILITY = PREFIX + "availability"  # released, partial, not-released
LICENSE_STATEMENT = PREFIX + "licenseStatement"  # the license as the source wrote it
LICENSE_STATE = PREFIX + "licenseState"  # licensed, unlicensed, undisclosed, not-included, unrecognised
LICENSE = PREFIX + "license"  # a license IRI (repeated for several)
ACCESS_URL = PREFIX + "accessURL"  # where the artifact is (repeated for several)
INDEX_DIMENSION = PREFIX + "indexDimension"
INDEX_GRADE = PREFIX + "indexGrade"

# on each training dataset
DATASET = PREFIX + "dataset"  # the dataset's IRI in the graph
DATASET_ID = PREFIX + "datasetId"  # id in the dataset knowledge base
DATA_CLASS = PREFIX + "dataClass"  # OSAID data class: open, public, obtainable, unshareable
DATA_CLASS_REASON = PREFIX + "dataClassReason"

# verdicts (CycloneDX: on the model component; SPDX: Annotations, one per definition)
VERDICT = PREFIX + "verdict:"  # + definition id: pass, fail, insufficient-evidence
MOF_CLASS = PREFIX + "class:"  # + definition id: the MOF class (0-3)
MOF_PROGRESS = PREFIX + "progress:"  # + definition id + ":" + class: percent
SCORE = PREFIX + "score:"  # + definition id: 0-1
DIMENSION = PREFIX + "dimension:"  # + definition id + ":" + dimension: open, partial, closed, unknown
REASON = PREFIX + "reason:"  # + definition id + ":" + requirement: "[kind] component: message"

NOASSERTION = "NOASSERTION"  # SPDX's word for "the document does not say"


def properties_of(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Name -> values (in document order) of the ``openness:`` properties among name/value pairs."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        if name.startswith(PREFIX):
            out.setdefault(name, []).append(value)
    return out
