"""One evidenced answer per release: each rule of docs/consolidation.md on small hand-made records (a sparse
record beside a located one, an unverified claim, conflicting licenses, a family-level fallback), and the
bundled data's answers for the models OSI validated and for releases whose weights were never released."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.vocab import Minter
from server.assess.consolidate import assess_releases
from server.assess.engine import assess_record, read_licenses, read_records
from server.ingest.loading import load_sources
from server.store import OxigraphStore

PREFIXES = """@prefix og: <https://w3id.org/openness-graph/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix kind: <https://w3id.org/openness-graph/kind/> .
@prefix avail: <https://w3id.org/openness-graph/availability/> .
@prefix licstate: <https://w3id.org/openness-graph/license-state/> .
@prefix ex: <https://example.org/> .
"""


def weights(node: str, license_id: str, url: str | None = None) -> str:
    located = f' ; dcat:accessURL <{url}>' if url else ""
    return (f'{node} a og:Artifact ; og:artifactKind kind:model-parameters-final ; og:availability avail:released ; '
            f'og:licenseState licstate:licensed ; og:licenseStatement "{license_id}" ; '
            f'dct:license <http://spdx.org/licenses/{license_id}>{located} .\n')


def record(name: str, title: str, body: str, *, complete: bool = False, hf: str | None = None) -> tuple[str, str]:
    hub = f' ; og:huggingFaceId "{hf}"' if hf else ""
    artifacts = sorted({part.split()[0] for part in body.strip().splitlines() if part.strip()})
    has = f" ; og:hasArtifact {', '.join(artifacts)}" if artifacts else ""
    text = (PREFIXES + f'ex:{name} a og:ModelRelease ; dct:title "{title}" ; og:completeComponentList '
            f'{"true" if complete else "false"}{hub}{has} .\n' + body)
    return f"{name}.ttl", text


def consolidate(tmp_path: Path, files: list[tuple[str, str]]) -> tuple[dict[str, dict], dict[str, dict]]:
    """Load the records with the reference graphs and identity, as ``openness load`` does; return the
    releases' consolidated results by release id and the records' own verdicts by record id."""
    paths = []
    for name, text in files:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append((path, None))
    store = OxigraphStore(None)
    report = load_sources(store, Minter(), paths, workers=1)
    assert report.ok, [str(e) for e in report.errors]
    licenses, records = read_licenses(store), read_records(store)
    per_record = {r.record_id: assess_record(r, licenses)["verdicts"] for r in records.values()}
    return {r["id"]: r for r in assess_releases(store, records, licenses)}, per_record


def test_absence_in_a_complete_record_does_not_outweigh_a_located_licensed_artifact(tmp_path):
    # widget-a lists every component it has (no weights); widget-b, same Hub repository, locates the weights
    a = record("widget-a", "Widget-7B", "ex:card-a a og:Artifact ; og:artifactKind kind:model-card .\n",
               complete=True, hf="acme/widget-7b")
    b = record("widget-b", "Widget-7B", weights("ex:w-b", "Apache-2.0", "https://example.org/widget-7b.safetensors"),
               hf="acme/widget-7b")
    releases, own = consolidate(tmp_path, [a, b])
    assert own["native/widget-a"]["owd-0.3"]["verdict"] == "fail"  # the record alone: weights missing
    release = releases["widget-7b"]
    assert release["records"] == ["native/widget-a", "native/widget-b"]
    assert release["verdicts"]["owd-0.3"] == {"verdict": "pass", "reasons": []}
    assert not release["conflicts"]


def test_a_claim_nothing_locates_is_unverified_and_no_pass_rests_on_it(tmp_path):
    claimed = record("gizmo", "Gizmo-1B", weights("ex:w", "MIT"), complete=True)
    releases, own = consolidate(tmp_path, [claimed])
    assert own["native/gizmo"]["owd-0.3"]["verdict"] == "pass"  # the record's own view is kept as it is
    owd = releases["gizmo-1b"]["verdicts"]["owd-0.3"]
    assert owd["verdict"] == "insufficient-evidence"
    unverified = [r for r in owd["reasons"] if r["kind"] == "unverified"]
    assert unverified and all(r["records"] == ["native/gizmo"] for r in unverified)
    assert unverified[0]["rule"] == "no-pass-without-evidence" and "MIT" in unverified[0]["message"]
    flags = [f for f in releases["gizmo-1b"]["flags"] if f["kind"] == "unverified-claim"]
    assert flags == [{"kind": "unverified-claim", "record": "native/gizmo", "components": ["Model parameters (Final)"],
                      "rule": "no-pass-without-evidence", "message": flags[0]["message"]}]


def test_conflicting_licenses_are_listed_and_the_restrictive_reading_wins(tmp_path):
    mit = record("gadget-mit", "Gadget-3B", weights("ex:w1", "MIT"), hf="acme/gadget-3b")
    gpl_nc = record("gadget-nc", "Gadget-3B", weights("ex:w2", "CC-BY-NC-4.0"), hf="acme/gadget-3b")
    releases, own = consolidate(tmp_path, [mit, gpl_nc])
    assert own["native/gadget-mit"]["owd-0.3"]["verdict"] == "pass"
    release = releases["gadget-3b"]
    (conflict,) = release["conflicts"]
    assert conflict["component"] == "Model parameters (Final)"
    assert {s["record"] for s in conflict["statements"]} == {"native/gadget-mit", "native/gadget-nc"}
    assert any(f["kind"] == "conflict" for f in release["flags"])
    owd = release["verdicts"]["owd-0.3"]
    assert owd["verdict"] == "fail"
    restricted = [r for r in owd["reasons"] if r["rule"] == "conflict-restrictive-reading"]
    assert restricted and restricted[0]["records"] == ["native/gadget-nc"]
    assert "sources disagree" in restricted[0]["message"]


INDEX = """system:
    name: Widget
    link: https://huggingface.co/acme/widget-chat-7b
    endmodelname: Widget-Chat-7B
    basemodelname: Widget-Base-9B
org:
    name: Acme
modelcard:
    class: open
    link: {link}
licenses:
    class: open
"""


@pytest.mark.parametrize(("link", "expected"), [
    ("https://huggingface.co/acme/widget-7b", "pass"),  # the family-level link points at this release
    ("https://huggingface.co/acme/widget-chat-7b", "insufficient-evidence"),  # a sibling's repository
])
def test_family_level_statements_apply_where_the_release_says_nothing(tmp_path, link, expected):
    index = ("Widget.yaml", INDEX.replace("{link}", link))
    own = record("widget-7b", "Widget-7B", weights("ex:w", "Apache-2.0") +
                 'ex:arch a og:Artifact ; og:artifactKind kind:model-architecture ; og:availability avail:released .\n',
                 hf="acme/widget-7b")
    releases, _own = consolidate(tmp_path, [index, own])
    release = releases["widget-7b"]
    assert release["family"] == releases["widget-chat-7b"]["family"] == "widget"
    assert "osai-index/Widget" in release["records"]  # its model card statement was used
    eu = release["verdicts"]["eu-ai-act-foss"]
    assert eu["verdict"] == expected
    if expected != "pass":
        (usage,) = [r for r in eu["reasons"] if r["requirement"] == "usage-information-public"]
        assert usage["kind"] == "unverified" and usage["records"] == ["osai-index/Widget"]


# --- the bundled data ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled_releases(bundled_store) -> dict[str, dict]:
    return {r["id"]: r for r in assess_releases(bundled_store, read_records(bundled_store),
                                                read_licenses(bundled_store))}


@pytest.mark.parametrize("release", ["pythia-6-9b", "pythia-1b", "olmo-7b", "olmo-7b-hf", "amber"])
def test_models_osi_validated_pass_osaid(bundled_releases, release):
    assert bundled_releases[release]["verdicts"]["osaid-1.0"] == {"verdict": "pass", "reasons": []}


@pytest.mark.parametrize("release", ["llama-2-7b", "llama-2-chat-70b", "bloom", "falcon-180b"])
def test_community_and_rail_licensed_models_fail_osaid_with_restrictions(bundled_releases, release):
    osaid = bundled_releases[release]["verdicts"]["osaid-1.0"]
    assert osaid["verdict"] == "fail"
    assert {r["kind"] for r in osaid["reasons"]} & {"restricted", "not-open"}


@pytest.mark.parametrize("release", ["grok-1", "phi-2", "mixtral-8x7b-v0-1", "mixtral-8x22b-v0-1"])
def test_other_models_do_not_pass_osaid(bundled_releases, release):
    assert bundled_releases[release]["verdicts"]["osaid-1.0"]["verdict"] != "pass"


@pytest.mark.parametrize("release", ["claude-1", "claude-2", "grok-0", "baichuan-1-53b"])
def test_weights_never_released_pass_nothing_and_the_claim_is_flagged(bundled_releases, release):
    result = bundled_releases[release]
    for definition in ("osaid-1.0", "owd-0.3", "fsf-free-ml", "eu-ai-act-foss"):
        assert result["verdicts"][definition]["verdict"] != "pass", definition
    (record_id,) = [r for r in result["records"] if r.startswith("mot/")]
    flagged = [f for f in result["flags"] if f["kind"] in ("unverified-claim", "conflict")
               and record_id in (f.get("record"), *f.get("records", ()))]
    assert flagged and "Model parameters (Final)" in str(flagged)


def test_no_release_passes_on_an_unlocated_weights_claim(bundled_releases):
    for result in bundled_releases.values():
        unverified = {r["requirement"] for d in ("owd-0.3", "eu-ai-act-foss", "osaid-1.0", "fsf-free-ml")
                      for r in result["verdicts"][d]["reasons"] if r["kind"] == "unverified"}
        for definition in ("owd-0.3", "eu-ai-act-foss"):
            if any(r["kind"] == "unverified" for r in result["verdicts"][definition]["reasons"]):
                assert result["verdicts"][definition]["verdict"] != "pass", (result["id"], unverified)


def test_open_washing_names_the_claim_and_the_failed_requirements(bundled_releases):
    flags = [f for f in bundled_releases["llama-2-7b"]["flags"] if f["kind"] == "open-washing"]
    assert flags and flags[0]["claim"]["source"] == "https://about.fb.com/news/2023/07/llama-2/"
    assert "osaid-1.0/parameters-osi-terms" in flags[0]["failed"]
    licensed = [f for f in bundled_releases["dbrx-base"]["flags"] if f["kind"] == "open-washing"]
    assert licensed and licensed[0]["claim"]["quote"] == "Databricks Open Model License"
    assert not [f for f in bundled_releases["olmo-7b"]["flags"] if f["kind"] == "open-washing"]


def test_release_dates_come_from_a_source_that_gives_the_models(bundled_releases, bundled_store):
    assert bundled_releases["llama-2-chat-70b"]["released"] == "2023-08"  # the Index's releasedate
    assert bundled_releases["llama-2-7b"]["released"] is None  # the MOT record's date is the record's
    rows = bundled_store.select("""PREFIX og: <https://w3id.org/openness-graph/ontology#>
        PREFIX dct: <http://purl.org/dc/terms/>
        SELECT ?d ?i WHERE { ?m og:recordId "mot/Llama-2-7B" ; og:recordDate ?d . OPTIONAL { ?m dct:issued ?i } }""")
    assert [r["d"].value for r in rows] == ["2024-10-03"] and "i" not in rows[0]


def test_releases_and_quality_commands(bundled_settings, bundled_store):
    """``openness releases`` and ``openness quality`` over the bundled store (held by this process, so the
    commands read a read-only view of it), as product.md describes their JSON."""
    import json

    from tests.test_faults import run

    bundled_store.oxigraph.flush()
    listed = run("releases", "--format", "json", store=bundled_settings.store)
    assert listed.returncode == 0, listed.stderr
    releases = {r["id"]: r for r in json.loads(listed.stdout)}
    assert set(releases["olmo-7b"]) == {"id", "name", "family", "records", "released", "verdicts", "conflicts",
                                        "flags"}
    assert releases["olmo-7b"]["verdicts"]["osaid-1.0"]["verdict"] == "pass"
    assert {f["kind"] for f in releases["claude-2"]["flags"]} == {"unverified-claim"}
    text = run("releases", store=bundled_settings.store)
    assert text.returncode == 0 and "claude-2 (mot/Claude-2): osaid-1.0=fail" in text.stdout
    quality = run("quality", "--format", "json", store=bundled_settings.store)
    assert quality.returncode == 0, quality.stderr
    report = json.loads(quality.stdout)
    assert report["counts"]["unverified_claims"] == len(report["unverified_claims"]) > 0
    assert {"conflicts", "open_washing", "unmatched_records"} <= set(report)
    bom = run("export", "--format", "cyclonedx", "--model", "olmo-7b", store=bundled_settings.store)
    assert bom.returncode == 0, bom.stderr
    assert json.loads(bom.stdout)["metadata"]["component"]["name"] == "OLMo-7B"
    unknown = run("export", "--format", "spdx3", "--model", "no-such-release", store=bundled_settings.store)
    assert unknown.returncode == 1 and "openness releases" in unknown.stderr


def test_one_record_releases_reuse_their_record_exactly(bundled_store):
    """The fast path of an assessment run (a one-record release from its record's verdict object) gives what
    the general merge gives, for every such release of the bundled data."""
    from server.assess.consolidate import _single_record, assess_release, claims_about, read_claims, read_releases

    licenses, records = read_licenses(bundled_store), read_records(bundled_store)
    own = {iri: assess_record(facts, licenses) for iri, facts in records.items()}
    claims = read_claims(bundled_store)
    fast = unverified = 0
    for rel in read_releases(bundled_store).values():
        general = assess_release(rel, records, licenses, claims_about(rel, claims))
        reused = assess_release(rel, records, licenses, claims_about(rel, claims), own)
        if _single_record(rel, records) is not None:
            fast += 1
            unverified += len(reused["shared"]) < len(reused["verdicts"])
        assert {k: v for k, v in reused.items() if k != "shared"} == \
            {k: v for k, v in general.items() if k != "shared"}, rel.release_id
    assert fast > 100 and unverified > 5  # some one-record releases gain an unverified reason
