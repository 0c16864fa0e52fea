"""Listing pages are cached between writes: a repeat is served from the cache, a write through /store or
/update makes the next answer fresh."""

from __future__ import annotations

from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import Settings

TOKEN = "cache-test-token"
RECORD = """@prefix og: <https://w3id.org/openness-graph/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://example.org/models/cache-test> a og:ModelRelease ; og:recordId "native/cache-test" ;
    og:source "native" ; dct:title "Cache Test Model" .
"""


def ids(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {entry["id"] for entry in response.json()}


def test_a_write_makes_the_listings_fresh(settings, oxigraph_store):
    writable = Settings(store=settings.store, token=TOKEN, _env_file=None)
    auth = {"authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(writable, oxigraph_store)) as client:
        before = ids(client.get("/models", headers={"accept": "application/json"}))
        assert "native/cache-test" not in before
        html = client.get("/compare")
        assert "Cache Test Model" not in html.text
        assert client.app.state.page_cache[1], "the listing was not cached"
        assert ids(client.get("/models", headers={"accept": "application/json"})) == before  # from the cache
        put = client.put("/store", params={"graph": "https://example.org/graph/cache-test"}, content=RECORD,
                         headers={**auth, "content-type": "text/turtle"})
        assert put.status_code in (201, 204), put.text
        assert "native/cache-test" in ids(client.get("/models", headers={"accept": "application/json"}))
        assert "Cache Test Model" in client.get("/compare").text
        drop = client.post("/update", data={"update": "DROP GRAPH <https://example.org/graph/cache-test>"},
                           headers=auth)
        assert drop.status_code == 204, drop.text
        assert ids(client.get("/models", headers={"accept": "application/json"})) == before
