"""Listings that scale (``server/web/listing.py``) over the bundled data: pages and their links, totals,
filters and sorts against the whole list, parameter bounds, JSON shapes, and the index following the
assessment run."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from loaders.vocab import Minter
from server.app import create_app
from server.ingest.records import list_records
from server.web import listing
from server.web.page_queries import model_path
from tests.conftest import private_store_copy
from tests.test_pages import HTML, JSON


def links(response) -> dict[str, str]:
    """The Link header as ``{rel: path?query}``."""
    return {rel: httpx.URL(url).raw_path.decode() for url, rel in
            re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("link", ""))}


def walk(client, url: str) -> tuple[list[dict], list]:
    """Every entry of a JSON listing, following rel=next from ``url``; also each page's response."""
    entries, responses = [], []
    while url:
        response = client.get(url, headers=JSON)
        assert response.status_code == 200, response.text
        entries += response.json()
        responses.append(response)
        url = links(response).get("next")
    return entries, responses


def test_json_pages_walk_the_whole_list(pages_client, bundled_store):
    everything = list_records(bundled_store)
    unpaged = pages_client.get("/models", headers=JSON)
    assert unpaged.json() == everything  # no page parameter: the whole list, as before
    assert unpaged.headers["x-total-count"] == str(len(everything)) and "link" not in unpaged.headers
    entries, responses = walk(pages_client, "/models?per_page=100")
    assert entries == everything
    assert len(responses) == 5 and [len(r.json()) for r in responses] == [100, 100, 100, 100, 66]
    assert all(r.headers["x-total-count"] == "466" for r in responses)
    first, last = links(responses[0]), links(responses[-1])
    assert "prev" not in first and first["next"] == "/models?per_page=100&page=2"
    assert "next" not in last and last["prev"] == "/models?per_page=100&page=4"
    assert first["last"] == last["last"] == "/models?per_page=100&page=5"
    assert responses[0].headers["link"].startswith("<http://testserver/models?")  # absolute URLs
    releases, pages = walk(pages_client, "/releases?per_page=200&sort=name")
    full = pages_client.get("/releases", headers=JSON).json()
    assert sorted(r["id"] for r in releases) == sorted(r["id"] for r in full) and len(pages) == -(-len(full) // 200)
    assert set(releases[0]) == {"id", "name", "family", "records", "released", "verdicts", "flags"}


def test_filters_and_sorts_agree_with_the_whole_list(pages_client):
    full = pages_client.get("/releases", headers=JSON).json()
    assert [r["id"] for r in full] == sorted(r["id"] for r in full)
    passing = [r for r in full if r["verdicts"].get("osaid-1.0", {}).get("verdict") == "pass"
               and any(rid.startswith("mot/") for rid in r["records"])]
    by_name = sorted(passing, key=lambda r: (r["name"].lower(), r["id"]))
    assert len(by_name) > 12
    page2 = pages_client.get("/releases?source=mot&osaid-1.0=pass&sort=name&per_page=6&page=2", headers=JSON)
    assert [r["id"] for r in page2.json()] == [r["id"] for r in by_name[6:12]]
    assert page2.headers["x-total-count"] == str(len(by_name))
    same = pages_client.get("/releases?source=mot&verdict=osaid-1.0:pass&sort=name&per_page=6&page=2", headers=JSON)
    assert same.json() == page2.json()
    reversed_ = pages_client.get("/releases?source=mot&osaid-1.0=pass&sort=-name", headers=JSON).json()
    assert [r["id"] for r in reversed_] == [r["id"] for r in reversed(by_name)]
    dated = pages_client.get("/releases?sort=date", headers=JSON).json()
    dates = [r["released"] for r in dated]
    known = [d for d in dates if d]
    assert known == sorted(known, reverse=True) and dates == known + [None] * (len(dates) - len(known))
    washing = pages_client.get("/releases?flag=open-washing&q=llama", headers=JSON).json()
    assert washing and all(r["flags"]["open-washing"] and "llama" in r["name"].lower() for r in washing)
    mof = pages_client.get("/releases?sort=mof-1.0", headers=JSON).json()
    classes = [r["verdicts"]["mof-1.0"]["class"] for r in mof if "mof-1.0" in r["verdicts"]]
    assert classes == sorted(classes, reverse=True) and classes[0] > classes[-1]
    records = pages_client.get("/models?producer=meta&sort=producer&mof-1.0=0", headers=JSON).json()
    assert records and all(r["id"] in {e["id"] for e in pages_client.get("/models?producer=meta").json()}
                           for r in records)


@pytest.mark.parametrize(("query", "words"), [
    ("per_page=0", ["per_page", "from 1 to 500", "'0'"]),
    ("per_page=501", ["per_page", "from 1 to 500"]),
    ("per_page=lots", ["per_page", "whole number"]),
    ("page=0", ["page", "1 or more"]),
    ("page=99", ["page 99 is past the last page", "ask for page 1 to"]),
    ("sort=colour", ["cannot sort by 'colour'", "osaid-1.0", "reverses"]),
    ("osaid-1.0=maybe", ["pass, fail or insufficient-evidence", "?osaid-1.0=pass"]),
    ("verdict=osaid-2:pass", ["unknown definition 'osaid-2'", "mof-1.0"]),
    ("mof-1.0=4", ["class 0, 1, 2 or 3"]),
])
@pytest.mark.parametrize("path", ["/models", "/releases", "/compare"])
def test_bad_parameters_say_what_to_send(pages_client, path, query, words):
    response = pages_client.get(f"{path}?{query}", headers=JSON)
    assert response.status_code == 400
    assert response.json()["error"] == "bad-parameter"
    for word in words:
        assert word in response.json()["message"], response.json()["message"]
    page = pages_client.get(f"{path}?{query}", headers=HTML)
    assert page.status_code == 400 and words[0].replace("'", "&#39;") in page.text


def test_html_pages_link_each_other_and_show_the_total(pages_client):
    total = len(pages_client.get("/releases", headers=JSON).json())
    middle = pages_client.get("/releases?per_page=10&page=2", headers=HTML)
    assert f"11–20 of <strong>{total}</strong> releases" in middle.text
    assert '<link rel="next" href="/releases?per_page=10&amp;page=3">' in middle.text
    assert '<link rel="prev" href="/releases?per_page=10&amp;page=1">' in middle.text
    assert middle.text.count('<a rel="next"') == 2  # pager above and below the table
    assert links(middle)["next"] == "/releases?per_page=10&page=3"
    assert middle.text.count('<a href="/releases/') + middle.text.count('<a href="/models/') >= 10
    last_page = -(-total // 10)
    last = pages_client.get(f"/releases?per_page=10&page={last_page}", headers=HTML)
    assert 'rel="next"' not in last.text and "next" not in links(last)
    assert f"of {last_page}" in last.text
    default = pages_client.get("/releases", headers=HTML)
    assert f"1–50 of <strong>{total}</strong>" in default.text  # 50 a page unless asked


def test_models_html_pages_both_views(pages_client, bundled_store):
    records = [e["id"] for e in list_records(bundled_store)]
    page = pages_client.get("/models?view=records&per_page=5&page=2", headers=HTML)
    assert re.findall(r'<td><a href="(/models/[^"]+)">', page.text) == [model_path(r) for r in records[5:10]]
    assert "6–10 of <strong>466</strong> records" in page.text
    assert links(page)["next"] == "/models?view=records&per_page=5&page=3"
    releases = pages_client.get("/models?source=osai-index&per_page=20", headers=HTML)
    assert "releases" in releases.text and "rel=\"next\"" in releases.text
    assert 'href="/compare?source=osai-index"' in releases.text


def test_compare_pages_keep_the_chart_over_the_whole_selection(pages_client):
    one = pages_client.get("/compare?source=osai-index&per_page=5&sort=osai-index", headers=HTML)
    assert one.text.count('<tr>') == 5 + 1  # five rows and the header
    assert "<svg" in one.text and one.text.count("<circle") > 5  # the chart reads every row kept, not the page
    assert links(one)["next"] == "/compare?source=osai-index&per_page=5&sort=osai-index&page=2"
    assert 'href="/compare?source=osai-index&amp;per_page=5&amp;sort=-osai-index"' in one.text  # header reverses
    records = pages_client.get("/compare?view=records&per_page=3", headers=HTML)
    assert records.text.count('<tr>') == 3 + 1 and "view=records" in links(records)["next"]


def test_the_index_follows_the_assessment_run(tmp_path, bundled_settings, bundled_store):
    """An assessment that changes the verdicts (a new digest, the same run graph when written in place) makes
    the next request build a new index; nothing else rebuilds it."""
    from server.assess.run import assess_all

    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    with TestClient(create_app(bundled_settings, store)) as client:
        before = listing.current_listing(client.app.state)
        assert listing.current_listing(client.app.state) is before  # the pointer unchanged: kept
        assert "mot/OLMo-7B" in [e["id"] for e in client.get("/models?q=olmo-7b", headers=JSON).json()]
        store.drop_graphs([minter.record_graph("mot/OLMo-7B")])  # behind the server's back, then assessed
        assess_all(store, bundled_settings)
        after = listing.current_listing(client.app.state)
        assert after is not before and after.key != before.key
        assert "mot/OLMo-7B" not in [r.id for r in after.records]
        assert "mot/OLMo-7B" not in [e["id"] for e in client.get("/models?q=OLMo-7B", headers=JSON).json()]
    store.close()


def test_the_index_is_saved_and_loaded_for_the_same_state_only(tmp_path, bundled_settings, bundled_store,
                                                                monkeypatch):
    """A built index is saved in the store folder; another process on the same store state loads it (equal
    rows and orders) instead of building it; a write the journal sees makes it build again."""
    store = private_store_copy(bundled_settings, bundled_store, tmp_path / "store")
    minter = Minter(bundled_settings.base_iri)
    with TestClient(create_app(bundled_settings, store)) as client:
        built = listing.current_listing(client.app.state)
        listing.stop_warmers(client.app.state)
    assert (tmp_path / "store" / listing.SAVED_INDEX).exists()

    def no_build(*args):
        raise AssertionError("built, though the saved index matches the store")

    with monkeypatch.context() as patched:
        patched.setattr(listing, "build_listing", no_build)
        with TestClient(create_app(bundled_settings, store)) as client:  # a new process: an empty cache
            loaded = listing.current_listing(client.app.state)
            assert client.get("/health").json()["listing"] == {
                "records": 466, "releases": len(built.releases), "origin": "saved",
                "seconds": round(loaded.build_seconds, 3)}
            assert loaded.records == built.records and loaded.releases == built.releases
            assert all(loaded.orders[k] == built.orders[k] for k in built.orders) and loaded.orders.keys() == \
                built.orders.keys()
            assert [e["id"] for e in client.get("/models?per_page=5&sort=-name", headers=JSON).json()] == \
                [r.id for r in reversed(built.orders[("records", "name")])][:5]
    store.drop_graphs([minter.record_graph("mot/OLMo-7B")])  # noted in the change journal
    with TestClient(create_app(bundled_settings, store)) as client:
        rebuilt = listing.current_listing(client.app.state)
        assert "mot/OLMo-7B" not in [r.id for r in rebuilt.records]
    store.close()
