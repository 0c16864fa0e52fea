"""The licence knowledge base: every SPDX licence, the AI model licences and the non-SPDX licences the
bundled records name, with their openness facts, generated from the vendored CSV/JSON tables.

Inputs (all under the data folder): ``licenses/spdx_licenses_3.29.0.csv`` (SPDX License List 3.29.0 with
the tri-state FSF flag), ``licenses/ai_license_terms.csv`` (28 licences, clause-level terms),
``licenses/scancode_ai_licenses.csv`` and ``licenses/hf_license_ids.csv`` (ids), the Model Openness Tool's
effective licence sets ``mot/licenses/derived-effective-license-sets.json`` and the SPDX-to-Wikidata links
``wikidata/spdx_wikidata_p2479.csv``. ``python -m loaders.license_kb`` writes ``licenses/license-kb.ttl``
and ``licenses/mof-open-ids.txt`` (the MOT's 226 "open" strings, for the MOF shapes).

Licence IRIs: ``http://spdx.org/licenses/{id}`` for listed SPDX licences; otherwise
``https://w3id.org/openness-graph/licenses/{id}`` where the id is the ScanCode ``LicenseRef-scancode-*`` key
when ScanCode has one, else a minted ``LicenseRef-og-{key}``. A restriction of licence ``{id}`` of kind
``{kind}`` is ``https://w3id.org/openness-graph/licenses/{id}/restriction/{kind}``.

Derivation rule for the four freedoms (og:grantsFreedom / og:withholdsFreedom with freedom:use,
freedom:study, freedom:modify and freedom:share). When no rule applies nothing is said: the freedom is
unknown, not withheld.
(1) A licence whose SPDX flag isOsiApproved or isFsfLibre is true grants all four.
(2) An open-data licence of the MOT's OPEN_DATA constant that is not NonCommercial or NoDerivatives grants
all four (PDDL-1.0 included: the constant misspells it ODC-PDDL-1.0); so does a licence whose row in
ai_license_terms.csv records use for any purpose, modification and redistribution with no restriction
flowing down (OpenMDW-1.0).
(3) A NonCommercial licence (CC BY-NC-*, NCGL-UK-2.0, PolyForm-Noncommercial, an AI licence whose
commercial_use is "no") withholds use, modify and share, because every licensed act is limited to
non-commercial purposes. A NoDerivatives licence (CC BY-ND-*, CC BY-NC-ND-*) withholds modify and share
(adapted material may not be shared). Any other licence whose SPDX isFsfLibre is explicitly false withholds
the freedoms the FSF's stated reason restricts.
(4) An AI model licence (a row of ai_license_terms.csv) grants use only if any_purpose_use is "yes"; grants
study (these licences let the licensee inspect the materials); grants modify only if modification is an
unqualified "yes"; grants share only if redistribution is "yes" and no use restriction flows down to
recipients (a recipient bound by an acceptable-use policy or a user cap cannot use the shared copy for any
purpose). Otherwise the freedom is withheld.
(5) A licence minted for a string in the records is described only as far as its title or its known
family makes certain ("Non-Commercial" in the title: rule 3; "Research" or "Evaluation" in the title:
withholds use); "Proprietary" withholds all four.
Share-alike and attribution are duties, recorded as restrictions; they withhold no freedom. Where rules
disagree (APSL-1.0, NASA-1.3 and Watcom-1.0 are OSI-approved but FSF non-free) a withheld freedom wins
over a granted one.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from loaders.bundled_data import data_dir as bundled_data_dir
from loaders.vocab import (
    DCAT,
    DCT,
    FREEDOM,
    OG,
    OGLIC,
    PROV,
    RESTRICTION,
    SKOS,
    SPDX_EXP,
    SPDX_LICENSE,
    WD,
    bind_prefixes,
    path_segment,
)

FREEDOMS = ("use", "study", "modify", "share")
RESTRICTION_KINDS = (
    "field-of-use", "user-count-cap", "revenue-cap", "non-commercial", "output-use-restriction",
    "naming-duty", "attribution-duty", "share-alike", "gated-acceptance", "remote-revocation",
    "hosting-restriction", "geographic-restriction", "research-only", "flow-down",
)
KB_IRI = URIRef(str(OGLIC))  # the header node of the knowledge base graph
SPDX_LIST_VERSION = "3.29.0"

# The module docstring states the same rule (a test keeps them equal).
DERIVATION_RULE = (
    'Derivation rule for the four freedoms (og:grantsFreedom / og:withholdsFreedom with freedom:use, '
    'freedom:study, freedom:modify and freedom:share). When no rule applies nothing is said: the freedom is '
    'unknown, not withheld. (1) A licence whose SPDX flag isOsiApproved or isFsfLibre is true grants all '
    "four. (2) An open-data licence of the MOT's OPEN_DATA constant that is not NonCommercial or "
    'NoDerivatives grants all four (PDDL-1.0 included: the constant misspells it ODC-PDDL-1.0); so does a '
    'licence whose row in ai_license_terms.csv records use for any purpose, modification and redistribution '
    'with no restriction flowing down (OpenMDW-1.0). (3) A NonCommercial licence (CC BY-NC-*, NCGL-UK-2.0, '
    'PolyForm-Noncommercial, an AI licence whose commercial_use is "no") withholds use, modify and share, '
    'because every licensed act is limited to non-commercial purposes. A NoDerivatives licence (CC BY-ND-*, '
    'CC BY-NC-ND-*) withholds modify and share (adapted material may not be shared). Any other licence whose '
    "SPDX isFsfLibre is explicitly false withholds the freedoms the FSF's stated reason restricts. (4) An AI "
    'model licence (a row of ai_license_terms.csv) grants use only if any_purpose_use is "yes"; grants study '
    '(these licences let the licensee inspect the materials); grants modify only if modification is an '
    'unqualified "yes"; grants share only if redistribution is "yes" and no use restriction flows down to '
    'recipients (a recipient bound by an acceptable-use policy or a user cap cannot use the shared copy for '
    'any purpose). Otherwise the freedom is withheld. (5) A licence minted for a string in the records is '
    'described only as far as its title or its known family makes certain ("Non-Commercial" in the title: '
    'rule 3; "Research" or "Evaluation" in the title: withholds use); "Proprietary" withholds all four. '
    'Share-alike and attribution are duties, recorded as '
    'restrictions; they withhold no freedom. Where rules disagree (APSL-1.0, NASA-1.3 and Watcom-1.0 are '
    'OSI-approved but FSF non-free) a withheld freedom wins over a granted one.'
)


# --- data classes ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestrictionSpec:
    kind: str
    clause: str | None
    comment: str


@dataclass
class LicenseEntry:
    """What the KB says about one licence node (SPDX or LicenseRef)."""

    license_id: str
    label: str
    grants: set[str] = field(default_factory=set)
    withholds: set[str] = field(default_factory=set)
    restrictions: dict[str, RestrictionSpec] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    hf_ids: set[str] = field(default_factory=set)
    scancode_key: str | None = None
    issued: str | None = None
    version_info: str | None = None
    see_also: set[str] = field(default_factory=set)
    source: str | None = None
    related: set[str] = field(default_factory=set)

    @property
    def iri(self) -> URIRef:
        return license_iri(self.license_id)

    def grant_all(self) -> None:
        self.grants.update(FREEDOMS)

    def withhold(self, *freedoms: str) -> None:
        self.withholds.update(freedoms)

    def restrict(self, kind: str, clause: str | None, comment: str) -> None:
        if kind not in RESTRICTION_KINDS:
            raise ValueError(f"unknown restriction kind {kind!r}")
        if kind not in self.restrictions:
            self.restrictions[kind] = RestrictionSpec(kind, clause, comment)


def license_iri(license_id: str) -> URIRef:
    """The IRI of a licence id: SPDX listed licences keep SPDX's IRI, everything else is under oglic:."""
    if license_id.startswith("LicenseRef-"):
        return OGLIC[path_segment(license_id)]
    return SPDX_LICENSE[license_id]


def restriction_iri(license_id: str, kind: str) -> URIRef:
    return OGLIC[f"{path_segment(license_id)}/restriction/{kind}"]


# --- readers -----------------------------------------------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def read_spdx(data_dir: Path) -> list[dict[str, str]]:
    return _read_csv(data_dir / "licenses" / f"spdx_licenses_{SPDX_LIST_VERSION}.csv")


def read_mot_sets(data_dir: Path) -> dict:
    with (data_dir / "mot" / "licenses" / "derived-effective-license-sets.json").open(encoding="utf-8") as fh:
        return json.load(fh)


def read_ai_terms(data_dir: Path) -> list[dict[str, str]]:
    return _read_csv(data_dir / "licenses" / "ai_license_terms.csv")


def read_scancode_ai(data_dir: Path) -> list[dict[str, str]]:
    return _read_csv(data_dir / "licenses" / "scancode_ai_licenses.csv")


def read_hf_ids(data_dir: Path) -> list[dict[str, str]]:
    return _read_csv(data_dir / "licenses" / "hf_license_ids.csv")


def read_wikidata(data_dir: Path) -> list[dict[str, str]]:
    return _read_csv(data_dir / "wikidata" / "spdx_wikidata_p2479.csv")


# --- SPDX licences -----------------------------------------------------------------------------------------

_NC = re.compile(r"(^CC-BY-NC-)|(^NCGL-)|(Noncommercial)", re.IGNORECASE)
_ND = re.compile(r"^CC-BY-(NC-)?ND(-|$)", re.IGNORECASE)
_SA = re.compile(r"^CC-BY-(NC-)?SA(-|$)", re.IGNORECASE)
_CC_BY = re.compile(r"^CC-BY(-|$)", re.IGNORECASE)
_COPYLEFT = re.compile(r"^(A?GPL|LGPL|GFDL|EUPL|MPL|EPL|OSL)-|^(ODbL-1\.0|CDLA-Sharing-1\.0)$")
_ATTRIBUTION_IDS = {"Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "ISC", "ODC-By-1.0", "OGL-UK-2.0",
                    "OGL-UK-3.0", "OGL-Canada-2.0"}

# Licences (other than Creative Commons NC/ND) that SPDX marks isFsfLibre=false: the freedoms the FSF's
# stated reason restricts (gnu.org/licenses/license-list, engineering summary), and a restriction kind
# where one of ours fits.
_FSF_NONFREE: dict[str, tuple[tuple[str, ...], str | None, str]] = {
    "Aladdin": (("share",), "non-commercial",
                "FSF: not free because it forbids charging for distribution."),
    "APSL-1.0": (("modify",), "remote-revocation",
                 "FSF: not free because it requires publishing changes even when they are only used "
                 "privately, and lets Apple revoke the licence."),
    "Artistic-1.0": ((), None,
                     "FSF: too vague to call free; no single freedom is named as restricted, so none is "
                     "stated."),
    "CPOL-1.02": (("use", "share"), "field-of-use",
                  "FSF: not free because it restricts use (not for 'illegal, immoral or improper purposes') "
                  "and forbids selling copies."),
    "JSON": (("use",), "field-of-use",
             "The licence says \"The Software shall be used for Good, not Evil.\" FSF: a usage restriction, "
             "against freedom 0."),
    "NASA-1.3": (("modify",), None,
                 "FSF: not free because contributions must be the contributor's 'original creation'."),
    "OPL-1.0": (("share",), None,
                "FSF: not free because every published modified version must be sent to the initial "
                "developer."),
    "PPL": (("use", "modify", "share"), "non-commercial",
            "Peer Production License: commercial exploitation is reserved to worker-owned organisations."),
    "RHeCos-1.1": (("share",), None,
                   "FSF: not free because every published modified version must be sent to the initial "
                   "developer."),
    "Watcom-1.0": (("modify",), None,
                   "FSF: not free because source must be published whenever the software is 'deployed', "
                   "private use included."),
}


def _cc_clause(license_id: str, element: str) -> str:
    """The clause of a Creative Commons licence behind a licence element (cited for 4.0 International)."""
    if re.search(r"-4\.0$", license_id):
        return {"NC": "s.2(a)(1) and s.1(i) NonCommercial",
                "ND": "s.2(a)(1)(B) (Adapted Material may be produced, not Shared)",
                "SA": "s.3(b) ShareAlike",
                "BY": "s.3(a) Attribution"}[element]
    return {"NC": "licence element NC (NonCommercial)", "ND": "licence element ND (NoDerivatives)",
            "SA": "licence element SA (ShareAlike)", "BY": "licence element BY (Attribution)"}[element]


def apply_name_rules(entry: LicenseEntry, name: str = "") -> None:
    """NC / ND / SA / attribution facts that follow from a licence id or title (rules 3 and duties)."""
    lid = entry.license_id.removeprefix("LicenseRef-og-")
    if _NC.search(lid) or _NC.search(name) or re.search(r"non[- ]commercial", name, re.IGNORECASE):
        entry.withhold("use", "modify", "share")
        clause = _cc_clause(lid, "NC") if lid.upper().startswith("CC-") else None
        entry.restrict("non-commercial", clause,
                       "NonCommercial: the licensed rights may be exercised only for non-commercial "
                       "purposes.")
    if _ND.search(lid):
        entry.withhold("modify", "share")
        entry.comments.append(
            f"NoDerivatives ({_cc_clause(lid, 'ND')}): adapted material may not be shared, so modify and "
            "share are withheld. No og:Restriction is written: the ontology has no restriction kind for it.")
    if _SA.search(lid):
        entry.restrict("share-alike", _cc_clause(lid, "SA"),
                       "ShareAlike: adapted material must be shared under the same or a compatible licence. "
                       "A duty, not a withheld freedom.")
    elif _COPYLEFT.search(lid):
        entry.restrict("share-alike", None,
                       "Copyleft: modified versions must be distributed under the same licence. A duty, not "
                       "a withheld freedom.")
    if _CC_BY.search(lid):
        entry.restrict("attribution-duty", _cc_clause(lid, "BY"),
                       "Attribution: credit the creator, keep the notices and link the licence.")
    elif lid in _ATTRIBUTION_IDS:
        entry.restrict("attribution-duty", None,
                       "Redistribution must keep the copyright and licence notices (attribution).")


def spdx_entries(data_dir: Path) -> dict[str, LicenseEntry]:
    mot = read_mot_sets(data_dir)
    open_data = set(mot["open_data_constant"])
    entries: dict[str, LicenseEntry] = {}
    for row in read_spdx(data_dir):
        lid = row["spdx_id"]
        entry = LicenseEntry(lid, row["name"])
        osi, fsf = row["is_osi_approved"] == "true", row["is_fsf_libre"]
        nc_or_nd = bool(_NC.search(lid) or _ND.search(lid))
        if osi or fsf == "true":
            entry.grant_all()
            flags = " and ".join(x for x, on in (("OSI-approved", osi), ("FSF-libre", fsf == "true")) if on)
            entry.comments.append(f"Freedoms: grants all four because SPDX lists it as {flags} (rule 1).")
        elif (lid in open_data or (lid == "PDDL-1.0" and "ODC-PDDL-1.0" in open_data)) and not nc_or_nd:
            entry.grant_all()
            note = " (the constant spells it ODC-PDDL-1.0)" if lid == "PDDL-1.0" else ""
            entry.comments.append("Freedoms: grants all four because it is an open-data licence of the Model "
                                  f"Openness Tool's OPEN_DATA constant{note} (rule 2).")
        apply_name_rules(entry, row["name"])
        if lid in _FSF_NONFREE:
            withheld, kind, reason = _FSF_NONFREE[lid]
            entry.withhold(*withheld)
            if kind:
                entry.restrict(kind, None, reason)
            entry.comments.append(f"Freedoms (rule 3): SPDX isFsfLibre is false. {reason}")
        elif fsf == "false" and nc_or_nd:
            entry.comments.append("Freedoms (rule 3): SPDX isFsfLibre is false; the NonCommercial / "
                                  "NoDerivatives elements name the restricted freedoms.")
        elif nc_or_nd:
            entry.comments.append("Freedoms (rule 3): the NonCommercial / NoDerivatives elements name the "
                                  "restricted freedoms.")
        entries[lid] = entry
    return entries


# --- AI model licences (ai_license_terms.csv) -------------------------------------------------------------

# Which restriction kinds each row shows: (kind, CSV column whose text is the comment, clause). Clauses are
# the ones the CSV or the licences spec (§4.1) cite; None where neither names one.
_META_AUP = ("field-of-use", "field_of_use_restrictions", "s.1.b.iv (Acceptable Use Policy)")
_META_CAP = ("user-count-cap", "user_count_or_revenue_cap", "s.2")
_META_NOTICE = ("attribution-duty", "attribution_notice", "s.1.b.iii")
_META_FLOW = ("flow-down", "restrictions_flow_downstream", "s.1.b.i")
_META_UPDATE = ("remote-revocation", "licensor_remote_restriction_or_unilateral_update",
                "s.1.b.iv (Acceptable Use Policy, updatable)")
_META_NAMING = ("naming-duty", "naming_or_branding", "s.1.b.i")
_META_EU = ("geographic-restriction", "geographic_restriction",
            "Acceptable Use Policy: multimodal models, rights under s.1(a)")
_RAIL = (
    ("field-of-use", "field_of_use_restrictions", "para.5 and Attachment A"),
    ("output-use-restriction", "outputs_training_restriction", "para.6"),
    ("flow-down", "restrictions_flow_downstream", "para.4(a)"),
    ("remote-revocation", "licensor_remote_restriction_or_unilateral_update", "para.7"),
    ("attribution-duty", "attribution_notice", "para.4"),
)
AI_RESTRICTIONS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "llama2": (_META_AUP, _META_CAP, ("output-use-restriction", "outputs_training_restriction", "s.1.b.v"),
               _META_NOTICE, _META_FLOW, _META_UPDATE),
    "llama3": (_META_AUP, _META_CAP, ("output-use-restriction", "outputs_training_restriction", "s.1.b.v"),
               _META_NAMING, _META_NOTICE, _META_FLOW, _META_UPDATE),
    "llama3.1": (_META_AUP, _META_CAP, _META_NAMING, _META_NOTICE, _META_FLOW, _META_UPDATE),
    "llama3.2": (_META_AUP, _META_CAP, _META_NAMING, _META_NOTICE, _META_FLOW, _META_UPDATE, _META_EU),
    "llama3.3": (_META_AUP, _META_CAP, _META_NAMING, _META_NOTICE, _META_FLOW, _META_UPDATE, _META_EU),
    "llama4": (_META_AUP, _META_CAP, _META_NAMING, _META_NOTICE, _META_FLOW, _META_UPDATE, _META_EU),
    "llama1": (("non-commercial", "commercial_use", "s.2"), ("research-only", "commercial_use", "s.2"),
               ("field-of-use", "field_of_use_restrictions", "s.2"),
               ("output-use-restriction", "outputs_training_restriction", None),
               ("attribution-duty", "attribution_notice", None),
               ("flow-down", "restrictions_flow_downstream", None),
               ("remote-revocation", "licensor_remote_restriction_or_unilateral_update", None)),
    "gemma": (("field-of-use", "field_of_use_restrictions", "s.3.2 (Gemma Prohibited Use Policy)"),
              ("output-use-restriction", "derivatives_incl_distillation", "s.1.1(e) (Model Derivatives)"),
              ("flow-down", "redistribution", "s.3.1"),
              ("attribution-duty", "attribution_notice", "s.3.1"),
              ("remote-revocation", "licensor_remote_restriction_or_unilateral_update", None)),
    "mrl-0.1": (("non-commercial", "field_of_use_restrictions", "s.3.2, s.9 (Research Purposes)"),
                ("research-only", "field_of_use_restrictions", "s.3.2, s.9 (Research Purposes)"),
                ("output-use-restriction", "outputs_training_restriction", "s.3.2"),
                ("hosting-restriction", "hosting_saas", "s.9 (Research Purposes exclude hosted services)"),
                ("attribution-duty", "attribution_notice", None),
                ("flow-down", "restrictions_flow_downstream", None)),
    "mnpl-0.1": (("non-commercial", "commercial_use", "s.3.2"),
                 ("research-only", "field_of_use_restrictions", "s.3.2"),
                 ("hosting-restriction", "hosting_saas", "s.3.2"),
                 ("attribution-duty", "attribution_notice", None),
                 ("flow-down", "restrictions_flow_downstream", None)),
    "tongyi-qianwen": (("user-count-cap", "user_count_or_revenue_cap", None),
                       ("output-use-restriction", "outputs_training_restriction", "s.5.b"),
                       ("attribution-duty", "attribution_notice", None),
                       ("flow-down", "restrictions_flow_downstream", None)),
    "qwen": (("user-count-cap", "user_count_or_revenue_cap", "s.4"),
             ("naming-duty", "naming_or_branding", "s.5.b"),
             ("attribution-duty", "attribution_notice", None),
             ("flow-down", "restrictions_flow_downstream", None)),
    "qwen-research": (("non-commercial", "field_of_use_restrictions", None),
                      ("research-only", "field_of_use_restrictions", None)),
    "deepseek-license-1.0": _RAIL,
    "falcon-180b-tii-1.0": (("field-of-use", "field_of_use_restrictions", "s.5 (Acceptable Use Policy)"),
                            ("hosting-restriction", "hosting_saas", "s.9"),
                            ("output-use-restriction", "outputs_training_restriction", "s.5"),
                            ("naming-duty", "naming_or_branding", "s.6"),
                            ("attribution-duty", "attribution_notice", None),
                            ("flow-down", "restrictions_flow_downstream", None),
                            ("remote-revocation", "licensor_remote_restriction_or_unilateral_update", None)),
    "falcon-2-11b-tii-1.0": (("field-of-use", "field_of_use_restrictions", None),
                             ("output-use-restriction", "outputs_training_restriction", None),
                             ("naming-duty", "naming_or_branding", None),
                             ("attribution-duty", "attribution_notice", None),
                             ("flow-down", "restrictions_flow_downstream", None),
                             ("remote-revocation", "licensor_remote_restriction_or_unilateral_update", None)),
    "bigscience-bloom-rail-1.0": _RAIL,
    "bigscience-openrail-m": _RAIL,
    "creativeml-openrail-m": _RAIL,
    "openrail++": _RAIL,
    "bigcode-openrail-m": _RAIL,
    "nvidia-open-model-license": (("field-of-use", "field_of_use_restrictions", None),
                                  ("naming-duty", "naming_or_branding", None),
                                  ("attribution-duty", "attribution_notice", None),
                                  ("flow-down", "restrictions_flow_downstream", None),
                                  ("remote-revocation", "licensor_remote_restriction_or_unilateral_update",
                                   None)),
    "stability-ai-community": (("revenue-cap", "user_count_or_revenue_cap", None),
                               ("field-of-use", "field_of_use_restrictions", None),
                               ("naming-duty", "naming_or_branding", None),
                               ("attribution-duty", "attribution_notice", None),
                               ("flow-down", "restrictions_flow_downstream", None),
                               ("remote-revocation", "licensor_remote_restriction_or_unilateral_update",
                                None)),
}
# Minted ids for rows without a ScanCode key (licences spec §1.4: LicenseRef-<project>-<key>).
_MINTED_AI = {"llama3": "llama-3"}


def ai_row_license_id(row: dict[str, str], spdx_ids: Iterable[str]) -> str:
    """The licence id of an ai_license_terms.csv row: SPDX id, ScanCode LicenseRef, or a minted LicenseRef."""
    ref = row["spdx_or_licenseref"].split()[0] if row["spdx_or_licenseref"] else ""
    if ref in set(spdx_ids):
        return ref
    if row["scancode_key"]:
        return "LicenseRef-scancode-" + row["scancode_key"]
    key = row["license_key"].split()[0]
    return "LicenseRef-og-" + _MINTED_AI.get(key, key)


def _starts_yes(text: str) -> bool:
    return text.lower().startswith("yes")


def ai_freedoms(row: dict[str, str]) -> tuple[set[str], set[str], list[str]]:
    """Rule 4 (and rule 3 for non-commercial rows): (grants, withholds, reasons) from one CSV row."""
    grants, withholds, why = set(), set(), []
    osaid = row["osaid_four_freedoms"].lower()
    if _starts_yes(row["any_purpose_use"]):
        grants.add("use")
        why.append("use granted (any_purpose_use: yes)")
    else:
        withholds.add("use")
        why.append(f"use withheld (any_purpose_use: {row['any_purpose_use'] or 'not stated'}; "
                   f"commercial_use: {row['commercial_use'] or 'not stated'})")
    grants.add("study")
    why.append("study granted (the licence lets the licensee inspect the materials)")
    modification = row["modification"]
    qualified = re.search(r"non-commercial|research|non-production|\bbut\b", modification, re.IGNORECASE)
    unqualified = _starts_yes(modification) and not qualified and "modify" not in osaid
    if modification.lower() == "yes" or unqualified:
        grants.add("modify")
        why.append(f"modify granted (modification: {modification})")
    else:
        withholds.add("modify")
        why.append(f"modify withheld (modification: {modification or 'not stated'}"
                   + ("; OSAID column: fails Modify" if "modify" in osaid else "") + ")")
    flow = row["restrictions_flow_downstream"]
    flows = flow.lower().startswith(("yes", "partial"))
    if _starts_yes(row["redistribution"]) and not flows and "share" not in osaid:
        grants.add("share")
        why.append("share granted (redistribution allowed, no restriction flows down)")
    else:
        withholds.add("share")
        reason = (f"use restrictions flow down to recipients ({flow}), so a shared copy cannot be used for "
                  "any purpose" if flows else f"redistribution: {row['redistribution'] or 'not stated'}")
        why.append(f"share withheld ({reason})")
    if row["commercial_use"].lower().startswith("no"):
        withholds.update({"use", "modify", "share"})
        grants -= {"use", "modify", "share"}
        why.append("non-commercial: use, modify and share withheld (rule 3)")
    return grants, withholds, why


_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def _first_url(text: str) -> str | None:
    token = text.split()[0] if text else ""
    return token if token.startswith(("http://", "https://")) else None


def ai_entries(data_dir: Path, spdx: dict[str, LicenseEntry]) -> dict[str, LicenseEntry]:
    """Licence nodes for the 23 AI licences of ai_license_terms.csv; the 5 SPDX rows enrich SPDX nodes."""
    entries: dict[str, LicenseEntry] = {}
    for row in read_ai_terms(data_dir):
        lid = ai_row_license_id(row, spdx)
        key = row["license_key"].split()[0]
        url = _first_url(row["primary_text_url"])
        if lid in spdx:  # baseline rows: Apache-2.0, MIT, CC-BY-4.0, CC-BY-NC-4.0, OpenMDW-1.0
            entry = spdx[lid]
            if url and not url.startswith("https://spdx.org/"):
                entry.see_also.add(url)
            if (not entry.grants and "grants all four" in row["osaid_four_freedoms"]
                    and _starts_yes(row["any_purpose_use"]) and row["restrictions_flow_downstream"] == "no"):
                entry.grant_all()
                entry.comments.append("Freedoms: grants all four because ai_license_terms.csv records use "
                                      "for any purpose, modification and redistribution with nothing "
                                      "flowing down (rule 2).")
            continue
        entry = LicenseEntry(lid, row["name"], source=row["evidence"] or None)
        entry.scancode_key = row["scancode_key"] or None
        if row["hf_license_id"] and not row["hf_license_id"].startswith("other"):
            entry.hf_ids.add(row["hf_license_id"])
        date = re.search(r"\d{4}-\d{2}-\d{2}$", row["scancode_key"]) or _DATE.search(row["version_date"])
        entry.issued = date.group(0) if date else None
        if row["version_date"] and row["version_date"] != entry.issued:
            entry.version_info = row["version_date"]
        if url:
            entry.see_also.add(url)
        grants, withholds, why = ai_freedoms(row)
        entry.grants, entry.withholds = grants, withholds
        entry.comments.append("Freedoms (rule 4, from ai_license_terms.csv): " + "; ".join(why) + ". "
                              f"The table's own OSAID verdict: {row['osaid_four_freedoms']}.")
        for kind, column, clause in AI_RESTRICTIONS.get(key, ()):
            entry.restrict(kind, clause, f"{column}: {row[column]}")
        entries[lid] = entry
    return entries


# --- other licence nodes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Custom:
    """A licence node minted for strings in the records or ids on the Hugging Face list (rule 5)."""

    license_id: str
    label: str
    comment: str
    url: str | None = None
    hf_id: str | None = None
    scancode_key: str | None = None
    withholds: tuple[str, ...] = ()
    restrictions: tuple[tuple[str, str | None, str], ...] = ()
    related: str | None = None


_TITLE_NC = ("non-commercial", None, "Inferred from the licence title, which says the licence is "
             "non-commercial; the text was not reviewed offline.")
_TITLE_RESEARCH = ("research-only", None, "Inferred from the licence title, which says the licence is for "
                   "research (or evaluation) only; the text was not reviewed offline.")
_NOT_REVIEWED = ("Its terms are not in ai_license_terms.csv: only what its title or family makes certain is "
                 "stated; any other freedom is unknown.")

CUSTOM_LICENSES: tuple[Custom, ...] = (
    Custom("LicenseRef-og-proprietary", "Proprietary",
           "A record says the artifact is proprietary (all rights reserved, no public licence). Withholds "
           "all four freedoms.", withholds=FREEDOMS),
    Custom("LicenseRef-og-arxiv-nonexclusive-1.0", "arXiv.org perpetual, non-exclusive license 1.0",
           "The licence an author grants arXiv to distribute a paper. It gives readers no right to modify or "
           "redistribute the paper: withholds modify and share.",
           url="https://arxiv.org/licenses/nonexclusive-distrib/1.0/license.html",
           withholds=("modify", "share")),
    Custom("LicenseRef-og-openrail", "OpenRAIL licence family (variant not stated)",
           "Hugging Face's umbrella id 'openrail'. Every OpenRAIL variant (BigScience OpenRAIL-M, CreativeML "
           "OpenRAIL-M / ++-M, BigCode OpenRAIL-M, BLOOM RAIL) carries use-based restrictions (para.5, "
           "Attachment A) that must be passed on: withholds use and share.",
           url="https://huggingface.co/blog/open_rail", hf_id="openrail", withholds=("use", "share"),
           restrictions=(("field-of-use", "para.5 and Attachment A",
                          "Use-based restrictions common to every OpenRAIL variant."),
                         ("flow-down", "para.4(a)", "The use restrictions must be included in any licence of "
                          "the model or its derivatives."))),
    Custom("LicenseRef-og-meta-llama-unspecified", "Meta Llama community licence (version not stated)",
           "A record names a Meta (LLaMA / Llama) licence without its version. Every Meta Llama licence "
           "either is non-commercial (LLaMA 1) or binds use to an Acceptable Use Policy (Llama 2 to 4): "
           "withholds use.", withholds=("use",),
           restrictions=(("field-of-use", None, "Common to every Meta Llama licence (AUP or research-only "
                          "terms)."),)),
    Custom("LicenseRef-og-research-only-rail-m", "Research-only RAIL-M",
           "A Responsible AI Licence (RAIL-M) for research use only. Withholds use.",
           withholds=("use",), restrictions=(_TITLE_RESEARCH, ("field-of-use", None,
                                             "RAIL licences carry use-based restrictions."))),
    Custom("LicenseRef-og-non-commercial-unspecified", "Non-commercial licence (terms not identified)",
           "A record says only that the licence is non-commercial (rule 3).",
           restrictions=(_TITLE_NC,)),
    Custom("LicenseRef-og-c4ai-aup", "Cohere For AI (C4AI) Acceptable Use Policy",
           "An acceptable use policy that accompanies Cohere For AI model licences. An AUP forbids some "
           "uses: withholds use.", withholds=("use",),
           restrictions=(("field-of-use", None, "Acceptable use policy: prohibited uses."),)),
    Custom("LicenseRef-og-cc-by-nd", "Creative Commons Attribution-NoDerivatives (version not stated)",
           "A CC BY-ND licence of unstated version."),
    Custom("LicenseRef-og-cc-by-nc-nd",
           "Creative Commons Attribution-NonCommercial-NoDerivatives (version not stated)",
           "A CC BY-NC-ND licence of unstated version."),
    Custom("LicenseRef-og-modified-mit", "Modified MIT License (vendor modification not identified)",
           "Several vendors publish an MIT text with added conditions under this name (Moonshot AI for Kimi "
           "K2, MiniMax, Mistral AI for Devstral 2). The name alone does not identify the conditions. "
           + _NOT_REVIEWED, related="LicenseRef-scancode-moonshot-ai-modified-mit-2025"),
    # Hugging Face family ids (hf_license_ids.csv mapping_kind 'family' without an SPDX id).
    Custom("LicenseRef-og-bsd", "BSD licence family (variant not stated)",
           "Hugging Face id 'bsd'. SPDX BSD variants differ (some forbid nuclear or military use), so no "
           "freedom is stated.", hf_id="bsd"),
    Custom("LicenseRef-og-cc", "Creative Commons licence family (variant not stated)",
           "Hugging Face id 'cc'. Creative Commons licences range from CC0 to BY-NC-ND, so no freedom is "
           "stated.", hf_id="cc"),
    Custom("LicenseRef-og-gpl", "GNU General Public License (version not stated)",
           "Hugging Face id 'gpl'. Versions differ in SPDX flags (GPL-1.0 is neither OSI-approved nor "
           "FSF-listed), so no freedom is stated.", hf_id="gpl",
           restrictions=(("share-alike", None, "Copyleft: modified versions must be distributed under the "
                          "same licence."),)),
    Custom("LicenseRef-og-lgpl", "GNU Lesser General Public License (version not stated)",
           "Hugging Face id 'lgpl'. Versions differ, so no freedom is stated.", hf_id="lgpl",
           restrictions=(("share-alike", None, "Weak copyleft: modified versions of the library must be "
                          "distributed under the same licence."),)),
    Custom("LicenseRef-og-gfdl", "GNU Free Documentation License (version not stated)",
           "Hugging Face id 'gfdl'. Variants differ in SPDX flags, so no freedom is stated.", hf_id="gfdl",
           restrictions=(("share-alike", None, "Copyleft: modified versions must be distributed under the "
                          "same licence."),)),
    # Hugging Face ids with no SPDX or ScanCode id (mapping_kind 'none').
    Custom("LicenseRef-og-h-research", "H Research License", "H company research licence. " + _NOT_REVIEWED,
           url="https://huggingface.co/Hcompany/Holo1-3B/blob/main/LICENSE", hf_id="h-research",
           withholds=("use",), restrictions=(_TITLE_RESEARCH,)),
    Custom("LicenseRef-og-intel-research", "Intel Research Use License Agreement", _NOT_REVIEWED,
           url="https://huggingface.co/OpenVINO/Llama-3.1-8B-Instruct-FastDraft-150M-int8-ov/blob/main/LICENSE.md",
           hf_id="intel-research", withholds=("use",), restrictions=(_TITLE_RESEARCH,)),
    Custom("LicenseRef-og-apple-ascl", "Apple Sample Code License",
           "Apple's sample-code licence (Apple grants a personal, non-exclusive licence to use, reproduce, "
           "modify and redistribute). Its wording is close to SPDX AML (Apple MIT License) but that is not "
           "verified offline. " + _NOT_REVIEWED,
           url="https://developer.apple.com/support/downloads/terms/apple-sample-code/Apple-Sample-Code-License.pdf",
           hf_id="apple-ascl", related="AML"),
    Custom("LicenseRef-og-apple-amlr", "Apple Model License for Research", _NOT_REVIEWED,
           url="https://huggingface.co/apple/deeplabv3-mobilevit-small/blob/main/LICENSE", hf_id="apple-amlr",
           withholds=("use",), restrictions=(_TITLE_RESEARCH,)),
    Custom("LicenseRef-og-openmdw-1.1", "Open Model, Data & Weights License Agreement v1.1",
           "Not in SPDX 3.29 nor ScanCode 32.5.0. " + _NOT_REVIEWED, url="https://openmdw.ai/license/1-1/",
           hf_id="openmdw-1.1"),
    Custom("LicenseRef-og-deepfloyd-if-license", "DeepFloyd IF Research License Agreement", _NOT_REVIEWED,
           hf_id="deepfloyd-if-license", withholds=("use",), restrictions=(_TITLE_RESEARCH,)),
    Custom("LicenseRef-og-fair-noncommercial-research-license", "FAIR Noncommercial Research License",
           "Meta FAIR licence. " + _NOT_REVIEWED,
           url="https://huggingface.co/facebook/fair-noncommercial-research-license/blob/main/LICENSE",
           hf_id="fair-noncommercial-research-license", withholds=("use",),
           restrictions=(_TITLE_NC, _TITLE_RESEARCH)),
    Custom("LicenseRef-og-grok2-community", "Grok 2 Community License Agreement",
           "xAI's licence for Grok 2 (records call it 'xAI Community License Agreement'). " + _NOT_REVIEWED,
           url="https://huggingface.co/xai-org/grok-2/blob/main/LICENSE", hf_id="grok2-community"),
    # Licences named in the MOT and Open Source AI Index records (no SPDX, ScanCode or HF id).
    Custom("LicenseRef-og-databricks-open-model", "Databricks Open Model License",
           "The licence of DBRX. " + _NOT_REVIEWED),
    Custom("LicenseRef-og-tongyi-qianwen-research", "Tongyi Qianwen Research License Agreement",
           "Alibaba Cloud's research licence for some Qwen 1.x/1.5 models. " + _NOT_REVIEWED,
           withholds=("use",), restrictions=(_TITLE_RESEARCH,)),
    Custom("LicenseRef-og-ai-sweden-llm", "AI Sweden's LLM AI Model License Agreement",
           "The licence of GPT-SW3 (the Open Source AI Index calls it a modified RAIL licence). "
           + _NOT_REVIEWED),
    Custom("LicenseRef-og-ntt-dialogue-evaluation", "Dialogue Model and Data Evaluation License Agreement",
           "NTT's evaluation licence for its dialogue models. " + _NOT_REVIEWED, withholds=("use",),
           restrictions=(_TITLE_RESEARCH,)),
    Custom("LicenseRef-og-telechat-community", "TeleChat Model Community License Agreement",
           "TeleChat模型社区许可协议 (China Telecom). The Open Source AI Index notes commercial-use "
           "restrictions. " + _NOT_REVIEWED),
    Custom("LicenseRef-og-tencent-hunyuan-community", "Tencent Hunyuan Community License Agreement",
           _NOT_REVIEWED, related="LicenseRef-scancode-tencent-hunyuan-3d-2.0-cla"),
    Custom("LicenseRef-og-baai-aquila", "BAAI Aquila Model License Agreement", _NOT_REVIEWED),
    Custom("LicenseRef-og-baichuan-7b", "Baichuan-7B License", _NOT_REVIEWED),
    Custom("LicenseRef-og-baichuan2-community", "Community License for Baichuan2 Model", _NOT_REVIEWED),
    Custom("LicenseRef-og-chatglm-6b", "ChatGLM-6B Model License", _NOT_REVIEWED),
    Custom("LicenseRef-og-chatglm2-6b", "ChatGLM2-6B Model License", _NOT_REVIEWED),
    Custom("LicenseRef-og-chatglm3-6b", "ChatGLM3-6B Model License", _NOT_REVIEWED),
    Custom("LicenseRef-og-codefuse-community", "CodeFuse Community License", _NOT_REVIEWED),
    Custom("LicenseRef-og-codegeex4", "CodeGeeX4 Model License", _NOT_REVIEWED),
    Custom("LicenseRef-og-tii-falcon-llm", "TII Falcon LLM License",
           "The Technology Innovation Institute's Falcon LLM licence (Falcon 3 / Falcon-H1 family), not the "
           "Falcon 180B licence. " + _NOT_REVIEWED),
    Custom("LicenseRef-og-exaone-ai-model-1.2", "EXAONE AI Model License Agreement 1.2",
           "LG AI Research's licence for EXAONE 3.5/4.0. " + _NOT_REVIEWED,
           related="LicenseRef-scancode-exaone-ai-model-1.1-nc"),
    Custom("LicenseRef-og-flux-dev-nc-2.0", "FLUX [dev] Non-Commercial License v2.0",
           "Black Forest Labs' licence for FLUX.2 [dev]; non-commercial per its title (rule 3).",
           restrictions=(_TITLE_NC,), related="LicenseRef-scancode-flux-1-nc"),
    Custom("LicenseRef-og-lfm-open-1.0", "LFM Open License v1.0", "Liquid AI's licence. " + _NOT_REVIEWED),
    # named by Hugging Face cards as `license: other` + `license_name` (tests/data/hub/README.md lists the cards)
    Custom("LicenseRef-og-exaone-unspecified", "EXAONE AI Model License Agreement (version not stated)",
           "LG AI Research's EXAONE licence as cards name it (`license_name: exaone`), without its version "
           "(1.1-NC for EXAONE 3.0, 1.2 for 3.5/4.0). " + _NOT_REVIEWED,
           related="LicenseRef-og-exaone-ai-model-1.2"),
    Custom("LicenseRef-og-yi-community", "Yi Series Models Community License Agreement",
           "01.AI's licence for the first Yi models (`license_name: yi-license`); later Yi releases moved to "
           "Apache-2.0. " + _NOT_REVIEWED, url="https://huggingface.co/01-ai/Yi-34B/blob/main/LICENSE"),
    Custom("LicenseRef-og-ltx-2-community", "LTX-2 Community License Agreement",
           "Lightricks' licence for LTX-2. " + _NOT_REVIEWED),
    Custom("LicenseRef-og-nexusflow-community", "Nexusflow Community License", _NOT_REVIEWED),
    Custom("LicenseRef-og-opt-175b", "OPT-175B / OPT-IML 175B License Agreement", _NOT_REVIEWED),
    Custom("LicenseRef-og-skywork-community", "Skywork Community License / Terms and Conditions",
           _NOT_REVIEWED),
    Custom("LicenseRef-og-upstage-solar", "Upstage Solar License", _NOT_REVIEWED),
    Custom("LicenseRef-og-stable-beluga-nc", "Stable Beluga Non-Commercial Community License",
           "Stability AI's licence for Stable Beluga; non-commercial per its title (rule 3).",
           restrictions=(_TITLE_NC,)),
    Custom("LicenseRef-scancode-open-aleph-1.0", "Open Aleph License 1.0",
           "Aleph Alpha's licence for Pharia models (ScanCode category Source-available). " + _NOT_REVIEWED,
           scancode_key="open-aleph-1.0"),
)

# Family ids (several texts, some OSI-approved): no isOsiApproved flag is written for them.
FAMILY_IDS = frozenset({"LicenseRef-og-bsd", "LicenseRef-og-cc", "LicenseRef-og-gpl", "LicenseRef-og-lgpl",
                        "LicenseRef-og-gfdl"})
# Hugging Face ids without an SPDX or ScanCode id, and where they point.
HF_MINTED = {c.hf_id: c.license_id for c in CUSTOM_LICENSES if c.hf_id}
HF_MINTED["llama3"] = "LicenseRef-og-llama-3"
HF_SPECIAL = {"unknown": "undisclosed", "other": "undisclosed"}

_NC_WITHHOLDS = ("use", "modify", "share")
# ScanCode model licences outside ai_license_terms.csv whose terms follow from the key or a CSV row.
_SCANCODE_TERMS: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str | None, str], ...], str]] = {
    "exaone-ai-model-1.1-nc": (_NC_WITHHOLDS, (_TITLE_NC,), "non-commercial (NC) per its title (rule 3)."),
    "flux-1-nc": (_NC_WITHHOLDS, (_TITLE_NC,), "non-commercial per its title (rule 3)."),
    "stability-ai-nc-2023-12-06": (_NC_WITHHOLDS, (_TITLE_NC, _TITLE_RESEARCH),
                                   "non-commercial research licence per its title (rule 3)."),
}


def scancode_entries(data_dir: Path, known: dict[str, LicenseEntry]) -> dict[str, LicenseEntry]:
    """ScanCode AI keys marked as model licences that neither SPDX nor ai_license_terms.csv covers."""
    entries: dict[str, LicenseEntry] = {}
    gemma = next((e for e in known.values() if e.scancode_key == "gemma-tou-2025-03-24"), None)
    for row in read_scancode_ai(data_dir):
        lid = row["spdx_license_key"]
        if row["model_license"] != "yes" or lid in known or row["scancode_key"] == "openmdw-1.0":
            continue
        entry = LicenseEntry(lid, row["short_name"], scancode_key=row["scancode_key"])
        if row["homepage_url"]:
            entry.see_also.add(row["homepage_url"])
        date = re.search(r"\d{4}-\d{2}-\d{2}$", row["scancode_key"])
        entry.issued = date.group(0) if date else None
        note = f"ScanCode LicenseDB key {row['scancode_key']} (category {row['category']})."
        if row["notes"]:
            note += f" {row['notes']}"
        entry.comments.append(note)
        if row["scancode_key"] == "gemma-tou-2024-04-01" and gemma is not None:
            entry.grants, entry.withholds = set(gemma.grants), set(gemma.withholds)
            entry.restrictions = dict(gemma.restrictions)
            entry.comments.append("Earlier version of the Gemma Terms of Use; terms as recorded for the "
                                  "Gemma row of ai_license_terms.csv.")
        elif row["scancode_key"] in _SCANCODE_TERMS:
            withheld, restrictions, why = _SCANCODE_TERMS[row["scancode_key"]]
            entry.withhold(*withheld)
            for kind, clause, comment in restrictions:
                entry.restrict(kind, clause, comment)
            entry.comments.append(f"Freedoms (rule 5): {why}")
        else:
            entry.comments.append(_NOT_REVIEWED)
        entries[lid] = entry
    return entries


def custom_entries() -> dict[str, LicenseEntry]:
    entries: dict[str, LicenseEntry] = {}
    for c in CUSTOM_LICENSES:
        entry = LicenseEntry(c.license_id, c.label, scancode_key=c.scancode_key)
        entry.comments.append(c.comment)
        if c.url:
            entry.see_also.add(c.url)
        if c.hf_id:
            entry.hf_ids.add(c.hf_id)
        entry.withhold(*c.withholds)
        for kind, clause, comment in c.restrictions:
            entry.restrict(kind, clause, comment)
        apply_name_rules(entry, c.label)
        if c.related:
            entry.related.add(c.related)
        entries[c.license_id] = entry
    return entries


def hf_targets(data_dir: Path) -> dict[str, str]:
    """Every Hugging Face licence id -> an SPDX id, a LicenseRef id, or a licence state ('undisclosed')."""
    targets: dict[str, str] = {}
    for row in read_hf_ids(data_dir):
        hf = row["hf_license_id"]
        if hf in HF_SPECIAL:
            targets[hf] = HF_SPECIAL[hf]
        elif row["spdx_id"] and row["spdx_id"] != "NOASSERTION":
            targets[hf] = row["spdx_id"]
        elif row["scancode_spdx_license_key"]:
            targets[hf] = row["scancode_spdx_license_key"]
        elif hf in HF_MINTED:
            targets[hf] = HF_MINTED[hf]
    return targets


@cache
def license_entries_cached(data_dir: Path) -> dict[str, LicenseEntry]:
    """``license_entries`` computed once per data folder (callers must not modify the entries)."""
    return license_entries(data_dir)


def license_entries(data_dir: Path) -> dict[str, LicenseEntry]:
    """All licence nodes of the KB, by id."""
    spdx = spdx_entries(data_dir)
    ai = ai_entries(data_dir, spdx)
    known: dict[str, LicenseEntry] = {**spdx, **ai}
    known.update(scancode_entries(data_dir, known))
    for lid, entry in custom_entries().items():
        if lid in known:
            raise ValueError(f"custom licence {lid} duplicates a generated one")
        known[lid] = entry
    scancode_keys = {r["hf_license_id"]: r["scancode_key"] for r in read_hf_ids(data_dir)}
    for hf, target in hf_targets(data_dir).items():
        if target in known:
            known[target].hf_ids.add(hf)
            if target in spdx:
                known[target].scancode_key = known[target].scancode_key or scancode_keys[hf] or None
    for entry in known.values():
        entry.grants -= entry.withholds
    return known


def known_license_ids(data_dir: Path) -> frozenset[str]:
    """The ids (SPDX and LicenseRef) that have a node in the KB."""
    return frozenset(license_entries_cached(data_dir))


# --- the graph ---------------------------------------------------------------------------------------------


def _bool(value: bool) -> Literal:
    return Literal(value, datatype=XSD.boolean)


def _date_literal(text: str) -> Literal:
    datatype = {10: XSD.date, 7: XSD.gYearMonth, 4: XSD.gYear}[len(text)]
    return Literal(text, datatype=datatype)


def _add_entry(g: Graph, entry: LicenseEntry) -> None:
    s = entry.iri
    g.add((s, RDF.type, OG.License))
    g.add((s, SKOS.notation, Literal(entry.license_id)))
    g.add((s, RDFS.label, Literal(entry.label)))
    for freedom in sorted(entry.grants):
        g.add((s, OG.grantsFreedom, FREEDOM[freedom]))
    for freedom in sorted(entry.withholds):
        g.add((s, OG.withholdsFreedom, FREEDOM[freedom]))
    for kind, spec in entry.restrictions.items():
        r = restriction_iri(entry.license_id, kind)
        g.add((s, OG.hasRestriction, r))
        g.add((r, RDF.type, OG.Restriction))
        g.add((r, OG.restrictionKind, RESTRICTION[kind]))
        g.add((r, RDFS.label, Literal(f"{kind} ({entry.license_id})")))
        if spec.clause:
            g.add((r, OG.clause, Literal(spec.clause)))
        g.add((r, RDFS.comment, Literal(spec.comment, lang="en")))
    for comment in entry.comments:
        g.add((s, RDFS.comment, Literal(comment, lang="en")))
    for hf in entry.hf_ids:
        g.add((s, OG.hfLicenseId, Literal(hf)))
    if entry.scancode_key:
        g.add((s, OG.scancodeKey, Literal(entry.scancode_key)))
    if entry.issued:
        g.add((s, DCT.issued, _date_literal(entry.issued)))
    if entry.version_info:
        g.add((s, OWL.versionInfo, Literal(entry.version_info)))
    for url in entry.see_also:
        g.add((s, RDFS.seeAlso, URIRef(url)))
    if entry.source:
        g.add((s, DCT.source, Literal(entry.source)))
    for other in entry.related:
        g.add((s, SKOS.relatedMatch, license_iri(other)))


def _add_header(g: Graph) -> None:
    g.add((KB_IRI, RDF.type, DCAT.Dataset))
    g.add((KB_IRI, DCT.title, Literal("Openness Graph licence knowledge base", lang="en")))
    g.add((KB_IRI, RDFS.label, Literal("Openness Graph licence knowledge base", lang="en")))
    g.add((KB_IRI, DCT.description, Literal(
        "Every licence of the SPDX License List 3.29.0, the AI model licences (ScanCode LicenseDB keys or "
        "minted LicenseRef-og ids) and the non-SPDX licences named in the bundled records, with OSI/FSF "
        "flags, the Model Openness Tool's licence sets, the four freedoms each licence grants or withholds "
        "and its restrictions with the clauses they come from. Generated by loaders/license_kb.py.",
        lang="en")))
    g.add((KB_IRI, RDFS.comment, Literal(DERIVATION_RULE, lang="en")))
    for rights in (
        f"SPDX License List {SPDX_LIST_VERSION}, © Linux Foundation and its Contributors.",
        "ScanCode LicenseDB data © nexB Inc. and others, CC-BY-4.0.",
        "Wikidata (SPDX license ID, P2479), CC0-1.0.",
        "Model Openness Tool licence sets (lfai/model_openness_tool), MIT.",
        "Hugging Face licence ids (huggingface/hub-docs), Apache-2.0.",
    ):
        g.add((KB_IRI, DCT.rights, Literal(rights)))
    for source in ("https://spdx.org/licenses/", "https://scancode-licensedb.aboutcode.org/",
                   "https://www.wikidata.org/wiki/Property:P2479",
                   "https://github.com/lfai/model_openness_tool",
                   "https://huggingface.co/docs/hub/repositories-licenses"):
        g.add((KB_IRI, PROV.wasDerivedFrom, URIRef(source)))


def build_license_kb(data_dir: Path) -> Graph:
    """The licence knowledge base as an rdflib graph (pure: reads only ``data_dir``)."""
    g = Graph()
    bind_prefixes(g)
    _add_header(g)
    entries = license_entries(data_dir)
    for lid in sorted(entries):
        _add_entry(g, entries[lid])

    spdx_rows = read_spdx(data_dir)
    for row in spdx_rows:
        s = SPDX_LICENSE[row["spdx_id"]]
        g.add((s, SPDX_EXP.isOsiApproved, _bool(row["is_osi_approved"] == "true")))
        if row["is_fsf_libre"] in ("true", "false"):
            g.add((s, SPDX_EXP.isFsfLibre, _bool(row["is_fsf_libre"] == "true")))
        g.add((s, SPDX_EXP.isDeprecatedLicenseId, _bool(row["is_deprecated_id"] == "true")))
        g.add((s, RDFS.seeAlso, URIRef(f"https://spdx.org/licenses/{row['spdx_id']}.html")))
    spdx_ids = {row["spdx_id"] for row in spdx_rows}
    for lid, entry in entries.items():
        if lid not in spdx_ids and lid not in FAMILY_IDS:  # OSI approves texts; a family id names none
            g.add((entry.iri, SPDX_EXP.isOsiApproved, _bool(False)))

    for row in read_wikidata(data_dir):
        if row["preferred"] == "true" and row["spdx_id"] in spdx_ids:
            match = SKOS.exactMatch if row["suggested_skos"] == "exactMatch" else SKOS.broadMatch
            g.add((SPDX_LICENSE[row["spdx_id"]], match, WD[row["wikidata_qid"]]))

    mot = read_mot_sets(data_dir)
    for lid in mot["open_any_type"]:
        if lid in spdx_ids:
            g.add((SPDX_LICENSE[lid], OG.mofOpen, _bool(True)))
    for lid in mot["open_data_constant"]:
        if lid in spdx_ids:
            g.add((SPDX_LICENSE[lid], OG.openDataLicense, _bool(True)))
    for content_type, ids in mot["type_appropriate"].items():
        for lid in ids:
            if lid in spdx_ids:
                g.add((SPDX_LICENSE[lid], OG.mofContentType, Literal(content_type)))
    return g


def mof_open_ids(data_dir: Path) -> list[str]:
    """The MOT's effective 'open' licence strings (226), exactly as the tool compares them, sorted."""
    return sorted(read_mot_sets(data_dir)["open_any_type"])


def main(argv: list[str] | None = None) -> int:
    data_dir = Path(argv[0]) if argv else bundled_data_dir()
    graph = build_license_kb(data_dir)
    out = data_dir / "licenses" / "license-kb.ttl"
    text = graph.serialize(format="turtle")
    header = ("# Generated by `python -m loaders.license_kb` from the tables in data/; do not edit.\n"
              f"# Sources: SPDX License List {SPDX_LIST_VERSION} (© Linux Foundation and its Contributors), "
              "ScanCode LicenseDB (CC-BY-4.0),\n# Wikidata (CC0-1.0), Model Openness Tool (MIT), "
              "ai_license_terms.csv (engineering notes, not legal advice).\n")
    out.write_text(header + text, encoding="utf-8")
    ids_file = data_dir / "licenses" / "mof-open-ids.txt"
    ids_file.write_text("".join(f"{lid}\n" for lid in mof_open_ids(data_dir)), encoding="utf-8")
    subjects = set(graph.subjects(RDF.type, OG.License))
    print(f"{out}: {len(graph)} triples, {len(subjects)} licences; {ids_file}: "
          f"{len(mof_open_ids(data_dir))} ids")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
