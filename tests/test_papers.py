"""arXiv and DOI links on paper artifacts become identifiers and sameAs links (outbound links for catalogs)."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef

from loaders.papers import paper_identifiers
from loaders.vocab import DCT, SDO, Minter


@pytest.mark.parametrize("url", ["https://arxiv.org/abs/2402.00838", "https://arxiv.org/pdf/2402.00838v4",
                                 "http://arxiv.org/pdf/2402.00838.pdf", "https://www.arxiv.org/abs/2402.00838/"])
def test_arxiv_url_forms_give_one_identity(url):
    assert paper_identifiers(url) == [
        (DCT.identifier, Literal("arXiv:2402.00838")),
        (SDO.sameAs, URIRef("https://arxiv.org/abs/2402.00838")),
        (SDO.sameAs, URIRef("https://doi.org/10.48550/arXiv.2402.00838"))]


def test_old_style_arxiv_id_and_doi():
    assert paper_identifiers("https://arxiv.org/abs/hep-th/9901001")[0] == (DCT.identifier,
                                                                             Literal("arXiv:hep-th/9901001"))
    assert paper_identifiers("https://doi.org/10.1145/3442188.3445922") == [
        (DCT.identifier, Literal("doi:10.1145/3442188.3445922")),
        (SDO.sameAs, URIRef("https://doi.org/10.1145/3442188.3445922"))]


@pytest.mark.parametrize("url", ["https://github.com/allenai/OLMo", "https://arxiv.org/list/cs.CL/recent",
                                 "https://example.org/arxiv.org/abs/2402.00838", "javascript:alert(1)"])
def test_other_links_are_not_papers(url):
    assert paper_identifiers(url) == []


def test_bundled_olmo_paper_links_to_arxiv_and_doi(bundled_store, bundled_settings):
    record = Minter(bundled_settings.base_iri).record("mot/OLMo-7B-hf")
    rows = bundled_store.select(f"""
PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
SELECT ?id ?same WHERE {{ <{record}> og:hasArtifact ?a . ?a dct:identifier ?id ; schema:sameAs ?same }}""")
    assert {(r["id"].value, r["same"].value) for r in rows} >= {
        ("arXiv:2402.00838", "https://arxiv.org/abs/2402.00838"),
        ("arXiv:2402.00838", "https://doi.org/10.48550/arXiv.2402.00838")}
