"""The model-level pages over the bundled data (TestClient): the landing page, releases, a release by
content negotiation, families, /quality, and the record page's link to its release."""

from __future__ import annotations

import rdflib

from tests.test_pages import HTML, JSON

TURTLE = {"accept": "text/turtle"}


def test_landing_page(pages_client):
    html = pages_client.get("/", headers=HTML)
    assert html.status_code == 200 and "What the graph holds" in html.text
    data = pages_client.get("/", headers=JSON).json()
    assert data["counts"]["records"] == 466 and data["counts"]["sources"] == {"mot": 273, "osai-index": 193}
    assert data["counts"]["releases"] > 400 and data["counts"]["families"] < data["counts"]["releases"]
    osaid = data["verdicts"]["osaid-1.0"]
    assert osaid["pass"] > 10 and sum(osaid.values()) == data["counts"]["releases"]
    assert any(r["id"] == "claude-2" for r in data["flagged"])


def test_releases_list_and_filters(pages_client):
    rows = pages_client.get("/releases", headers=JSON).json()
    olmo = next(r for r in rows if r["id"] == "olmo-7b")
    assert olmo["records"] == ["mot/OLMo-7B"] and olmo["family"] == "olmo"
    assert olmo["verdicts"]["osaid-1.0"] == {"verdict": "pass"}
    washing = pages_client.get("/releases?flag=open-washing", headers=JSON).json()
    assert "llama-2-7b" in [r["id"] for r in washing] and "olmo-7b" not in [r["id"] for r in washing]
    assert all(r["flags"]["open-washing"] for r in washing)
    both = pages_client.get("/releases?source=osai-index&q=crystal", headers=JSON).json()
    assert [r["id"] for r in both] == ["crystalchat"]
    html = pages_client.get("/releases?verdict=osaid-1.0:pass", headers=HTML).text
    assert 'href="/releases/pythia-6-9b"' in html and 'href="/releases/llama-2-7b"' not in html


def test_release_by_content_negotiation(pages_client):
    result = pages_client.get("/releases/crystalchat", headers=JSON).json()
    assert set(result) == {"iri", "id", "name", "family", "records", "released", "verdicts", "conflicts", "flags",
                           "bases", "evidence"}
    weights = next(e for e in result["evidence"] if e["component"] == "Model parameters (Final)")
    assert {s["record"] for s in weights["statements"]} == {"mot/CrystalChat", "osai-index/Crystal"}
    assert all(s["located"] for s in weights["statements"])  # the release's Hub repository locates them
    assert result["records"] == ["mot/CrystalChat", "osai-index/Crystal"]
    assert result["verdicts"]["osaid-1.0"]["verdict"] == "fail"
    assert all(r["records"] for r in result["verdicts"]["osaid-1.0"]["reasons"])
    assert {c["component"] for c in result["conflicts"]} >= {"Training code", "Datasets"}
    graph = rdflib.Graph().parse(data=pages_client.get("/releases/crystalchat", headers=TURTLE).text, format="turtle")
    og = rdflib.Namespace("https://w3id.org/openness-graph/ontology#")
    release = rdflib.URIRef(result["iri"])
    assert (release, rdflib.RDF.type, og.Release) in graph
    assert len(set(graph.subjects(og.assessedRelease, release))) == 6
    assert set(graph.objects(release, og.hasFlag))
    assert pages_client.get("/releases/no-such-release", headers=JSON).status_code == 404
    assert pages_client.get("/releases/..%2Fetc", headers=JSON).status_code == 404


def test_family_page(pages_client):
    family = pages_client.get("/families/llama-2", headers=JSON).json()
    assert family["name"] == "Llama 2" and family["family_records"] == ["osai-index/llama-2-chat"]
    assert {r["id"] for r in family["releases"]} == {"llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-2-chat-7b",
                                                    "llama-2-chat-13b", "llama-2-chat-70b"}
    assert "Family-level records" in pages_client.get("/families/llama-2", headers=HTML).text
    assert pages_client.get("/families/nope", headers=JSON).status_code == 404


def test_quality_page(pages_client):
    report = pages_client.get("/quality", headers=JSON).json()
    claims = {(f["release"], tuple(f["records"])) for f in report["unverified_claim"]}
    assert ("claude-2", ("mot/Claude-2",)) in claims and ("grok-0", ("mot/Grok-0",)) in claims
    assert any(f["release"] == "crystalchat" for f in report["conflict"])
    assert any(f["release"] == "llama-2-7b" for f in report["open_washing"])
    assert "mot/Claude-2" not in report["unmatched_records"]  # in a family with Claude-1 (curated)
    assert "mot/Aquila-7B" in report["unmatched_records"]


def test_record_page_links_its_release_and_shows_the_record_date(pages_client):
    html = pages_client.get("/models/mot/Llama-2-7B", headers=HTML).text
    assert 'href="/releases/llama-2-7b"' in html
    assert "Record date" in html and "<dt>Released</dt>" not in html
    assert pages_client.get("/models/mot/Llama-2-7B", headers=JSON).json()["release"] == "llama-2-7b"


def test_release_bom_by_negotiation(pages_client):
    spdx = pages_client.get("/releases/olmo-7b/bom", headers={"accept": "application/spdx+json"})
    assert spdx.status_code == 200 and spdx.headers["content-type"].startswith("application/spdx+json")
    assert 'filename="olmo-7b.spdx3.json"' in spdx.headers["content-disposition"]
    assert any(n.get("type") == "ai_AIPackage" for n in spdx.json()["@graph"])
    cdx = pages_client.get("/releases/olmo-7b/bom?format=cyclonedx").json()
    assert cdx["bomFormat"] == "CycloneDX" and cdx["metadata"]["component"]["type"] == "machine-learning-model"
    assert pages_client.get("/releases/olmo-7b/bom", headers={"accept": "text/csv"}).status_code == 406
    assert pages_client.get("/releases/no-such/bom?format=spdx3", headers=JSON).status_code == 404
