"""Training datasets as entities of the loaded graph: the 15 most-cited open datasets are there with a
license and an OSAID data class, and records link to them."""

from __future__ import annotations

import pytest

NAMED = ["Wikipedia", "MNIST", "OpenWebText", "ImageNet", "COCO", "LibriSpeech", "Common Voice", "Common Crawl",
         "The Pile", "RedPajama", "Dolma", "FineWeb", "C4", "LAION-5B", "The Stack"]

DATASETS_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
SELECT ?ds ?title (COUNT(DISTINCT ?license) AS ?licenses) (SAMPLE(?class) AS ?dataClass) WHERE {
  ?ds a dcat:Dataset ; dct:title ?title ; og:dataClass ?class .
  { ?ds dct:license ?license } UNION { ?ds dcat:distribution/dct:license ?license }
} GROUP BY ?ds ?title"""


@pytest.mark.parametrize("name", NAMED)
def test_named_dataset_has_license_and_class(bundled_store, name):
    rows = bundled_store.select(DATASETS_QUERY)
    hits = [r for r in rows if name.lower() in r["title"].value.lower()]
    assert hits, f"no dataset titled like {name!r}"
    assert any(int(r["licenses"].value) >= 1 and r["dataClass"].value.startswith(
        "https://w3id.org/openness-graph/data-class/") for r in hits)


def test_records_link_to_datasets(bundled_store):
    rows = bundled_store.select("""
        PREFIX og: <https://w3id.org/openness-graph/ontology#>
        SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?ds) AS ?datasets) WHERE { ?m og:trainedOn ?ds }""")
    assert int(rows[0]["n"].value) > 100
    assert int(rows[0]["datasets"].value) > 30


def test_unmatched_mentions_are_listed(bundled_store):
    from pathlib import Path

    query = (Path(__file__).parents[1] / "server/web/examples/14-unmatched-dataset-mentions.rq").read_text()
    rows = bundled_store.select(query)
    assert rows and all("mention" in r and int(r["records"].value) >= 1 for r in rows)
