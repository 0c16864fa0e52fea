"""The Hugging Face Hub as a live source (issue #19) against a fake Hub on 127.0.0.1 (tests/fakehub.py): the
real ``huggingface_hub`` client sends its real requests there. One model (fetched, cached, provenance), a
429 then success, a 5xx then success, a 404, a missing README, a gated repository with and without a token,
a paged listing, failures that do not stop a harvest, a changed commit on the second harvest, filters. The
command-line runs (real cards, ``openness harvest hf --limit 1000`` interrupted and resumed) are in
test_hub_cli.py. Every network call here goes to the fake Hub, bounded by its fault queue and pytest-timeout."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from rdflib import XSD, Literal, URIRef

from loaders.vocab import DCT, LICSTATE, OG, PROV, Minter
from server.ingest import hub
from server.ingest.hub import HarvestQuery, HubClient, HubError, harvest, load_models, read_cursor
from server.store import OxigraphStore
from tests.fakehub import TOKEN, FakeHub, FakeModel, real_cards, synthetic_models

pytestmark = pytest.mark.timeout(120)
MINTER = Minter()
CARDS = real_cards()
QWEN = "Qwen/Qwen1.5-7B"
SD35 = "stabilityai/stable-diffusion-3.5-large"


@pytest.fixture
def store(tmp_path):
    s = OxigraphStore(tmp_path / "store")
    yield s
    s.close()


def client_for(fake: FakeHub, tmp_path: Path, token: str | bool = False) -> HubClient:
    return HubClient(tmp_path / "store" / "hub-cache", endpoint=fake.url, token=token)


def record_graph(store: OxigraphStore, repo_id: str):
    return store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{MINTER.record_graph('hf/' + repo_id)}> "
                           "{ ?s ?p ?o } }")


def weights_license(graph, repo_id: str) -> tuple[set[str], str | None]:
    weights = URIRef(MINTER.artifact(f"hf/{repo_id}", "model-parameters-final"))
    state = graph.value(weights, OG.licenseState)
    return {str(x) for x in graph.objects(weights, DCT.license)}, str(state) if state else None


def test_one_model_is_fetched_cached_and_loaded_with_its_provenance(tmp_path, store):
    model = FakeModel(QWEN, CARDS[QWEN])
    with FakeHub([model]) as fake:
        report = load_models(store, MINTER, client_for(fake, tmp_path), [QWEN])
        assert report.loaded == [f"hf/{QWEN}"] and not report.errors
        assert fake.count(f"/api/models/{QWEN}") == 1 and fake.count(f"/{QWEN}/resolve/{model.sha}/README.md") == 1
    g = record_graph(store, QWEN)
    rec, graph_iri = URIRef(MINTER.record(f"hf/{QWEN}")), URIRef(MINTER.record_graph(f"hf/{QWEN}"))
    assert rec == URIRef(MINTER.base + "models/hf/Qwen%2FQwen1.5-7B")
    assert str(g.value(rec, OG.huggingFaceId)) == QWEN
    # provenance: the Hub repository, the commit, the retrieval time
    assert str(g.value(graph_iri, OG.sourceCommit)) == model.sha
    assert g.value(graph_iri, PROV.wasDerivedFrom) == URIRef(f"https://huggingface.co/{QWEN}")
    assert g.value(graph_iri, PROV.hadPrimarySource) == URIRef(f"{fake.url}/{QWEN}/blob/{model.sha}/README.md")
    retrieved = g.value(graph_iri, DCT.date)
    assert retrieved.datatype == XSD.dateTime and abs(retrieved.toPython().timestamp() - time.time()) < 120
    assert g.value(rec, DCT.issued) == Literal("2024-04-18", datatype=XSD.date)  # createdAt
    assert weights_license(g, QWEN) == ({"https://w3id.org/openness-graph/licenses/"
                                         "LicenseRef-scancode-tongyi-qianwen-2023"}, str(LICSTATE.licensed))
    # the raw answers, kept under the store folder
    folder = tmp_path / "store" / "hub-cache" / "models" / "qwen" / "qwen1.5-7b"
    assert (folder / "ref").read_text() == model.sha
    kept = json.loads((folder / f"{model.sha}.json").read_text())
    assert kept["readme"] == CARDS[QWEN] and kept["endpoint"] == fake.url and kept["card_unread"] is None
    assert json.loads(kept["info"]) == model.info()  # the API's answer, verbatim


def test_429_and_503_are_retried_with_backoff_honouring_retry_after(tmp_path):
    model = FakeModel(QWEN, CARDS[QWEN])
    with FakeHub([model]) as fake:
        fake.fail(f"/api/models/{QWEN}", 429, {"Retry-After": "0"})
        fake.fail(f"/{QWEN}/resolve/", 503)
        started = time.monotonic()
        fetched = client_for(fake, tmp_path).fetch(QWEN)
        elapsed = time.monotonic() - started
        assert fetched.sha == model.sha and fetched.readme == CARDS[QWEN]
        assert fake.count(f"/api/models/{QWEN}") == 2 and fake.count(f"/{QWEN}/resolve/") == 2
    assert 1.5 <= elapsed < 10  # Retry-After 0 (+1 s, the client's margin), then the first backoff step (1 s)


def test_persistent_429_fails_with_its_reason(tmp_path):
    with FakeHub([FakeModel(QWEN, CARDS[QWEN])]) as fake:
        fake.fail(f"/api/models/{QWEN}", 429, {"Retry-After": "0"}, times=3)
        client = HubClient(tmp_path / "cache", endpoint=fake.url, token=False, max_retries=1, base_wait=0.1)
        with pytest.raises(HubError, match="rate limited by the Hub .HTTP 429."):
            client.fetch(QWEN)
        assert fake.count(f"/api/models/{QWEN}") == 2


def test_404_missing_readme_and_bad_card_are_refused_with_one_line_and_store_nothing(tmp_path, store):
    models = [FakeModel("org/no-readme", None), FakeModel("replicate/flux-lora-template",
                                                          CARDS["replicate/flux-lora-template"])]
    with FakeHub(models) as fake:
        report = load_models(store, MINTER, client_for(fake, tmp_path),
                             ["nope/missing", "org/no-readme", "replicate/flux-lora-template"])
    assert report.loaded == []
    messages = [str(e) for e in report.errors]
    assert messages[0].startswith("hf:nope/missing: no such model on http://127.0.0.1:") and "HTTP 404" in messages[0]
    assert messages[1].startswith("hf:org/no-readme: no README.md at commit ")
    assert messages[2].startswith("hf:replicate/flux-lora-template:20:1: malformed YAML")
    assert all("\n" not in m for m in messages)
    assert not store.ask(f"ASK {{ ?m <{OG.source}> \"hf\" }}")


def test_gated_without_token_loads_what_the_api_says_and_marks_the_card_unread(tmp_path, store):
    model = FakeModel(SD35, CARDS[SD35], gated="manual")
    with FakeHub([model]) as fake:
        report = load_models(store, MINTER, client_for(fake, tmp_path, token=False), [SD35])
        assert report.loaded == [f"hf/{SD35}"] and fake.count(f"/{SD35}/resolve/") == 1
        g = record_graph(store, SD35)
        rec = URIRef(MINTER.record(f"hf/{SD35}"))
        reason = str(g.value(rec, OG.cardUnreadReason))
        assert reason.startswith("gated repository (gated: manual); README.md not readable (HTTP 401) without a token")
        assert str(g.value(rec, OG.gatedAccess)) == "manual"
        # the licence as the API's cardData states it
        assert weights_license(g, SD35)[0] == {"https://w3id.org/openness-graph/licenses/"
                                               "LicenseRef-scancode-stability-ai-community-2024"}
        # with a token that may read it, the card is read
        fetched = HubClient(tmp_path / "cache2", endpoint=fake.url, token=TOKEN).fetch(SD35)
        assert fetched.readme == CARDS[SD35] and fetched.card_unread is None


def test_harvest_pages_skips_unchanged_and_reports_failures_without_stopping(tmp_path, store, monkeypatch):
    monkeypatch.setattr(hub, "PAGE_SIZE", 10)  # pages of 10 listing entries, as the Hub pages 1000
    models = synthetic_models(30)
    models += [FakeModel("bad/no-readme", None), FakeModel("bad/template", CARDS["lucataco/sd3.5-lora-template"]),
               FakeModel("bad/deleted", CARDS[QWEN]), FakeModel(SD35, CARDS[SD35], gated="auto")]
    with FakeHub(models) as fake:
        fake.fail("/bad/deleted/resolve/", 404, {"X-Error-Code": "RepoNotFound"})
        client = client_for(fake, tmp_path)
        first = harvest(store, MINTER, client, HarvestQuery())
        assert (first.listed, first.loaded, first.unread, first.complete) == (34, 31, 1, True)
        assert dict(first.failed) == {
            "bad/no-readme": f"no README.md at commit {models[30].sha}: there is no card to read",
            "bad/template": "line 20: malformed YAML: could not find expected ':'",
            "bad/deleted": f"no such model on {fake.url} (HTTP 404); check the id (private models need HF_TOKEN)"}
        assert fake.count("/api/models?") == 4 and fake.count("/api/models?cursor=") == 0
        assert sum("cursor=" in r for r in fake.requests if r.startswith("/api/models?")) == 3
        assert read_cursor(store, MINTER) is None  # a complete harvest leaves no cursor
        # second harvest: two commits changed, the rest skipped without a request; the failures are retried
        # (the deleted model's 404 was one fault: it loads now)
        models[3].version = models[7].version = 1
        readmes_before = fake.count("/org-")
        second = harvest(store, MINTER, client, HarvestQuery())
        assert (second.loaded, second.unchanged, len(second.failed)) == (3, 29, 2)
        assert fake.count("/org-") - readmes_before == 2
    for model in (models[3], models[7]):
        assert str(record_graph(store, model.id).value(URIRef(MINTER.record_graph(f"hf/{model.id}")),
                                                       OG.sourceCommit)) == model.sha
    assert len(store.select(f"SELECT ?m WHERE {{ ?m a <{OG.ModelRelease}> ; <{OG.source}> \"hf\" }}")) == 32


def test_harvest_query_is_the_listing_query(tmp_path, store):
    models = synthetic_models(200)
    org, tag = next((m.id.split("/")[0], t) for m in models for t in m.info()["tags"] if t.startswith("license:"))
    expected = {m.id for m in models if m.id.startswith(f"{org}/") and "model-00" in m.id and tag in m.info()["tags"]}
    with FakeHub(models) as fake:
        report = harvest(store, MINTER, client_for(fake, tmp_path),
                         HarvestQuery(author=org, search="model-00", filter=[tag], limit=50))
        listing = [r for r in fake.requests if r.startswith("/api/models?")]
    assert len(listing) == 1
    for part in (f"author={org}", "search=model-00", f"filter={tag.replace(':', '%3A')}", "full=True",
                 "cardData=True", "limit=50"):
        assert part in listing[0]
    loaded = {r["id"].value for r in store.select(f"SELECT ?id WHERE {{ ?m a <{OG.ModelRelease}> ; "
                                                  f"<{OG.huggingFaceId}> ?id }}")}
    assert report.loaded == len(loaded) >= 1 and loaded == expected


def test_a_next_link_to_another_host_is_refused(tmp_path):
    with FakeHub(synthetic_models(3)) as fake:
        client = client_for(fake, tmp_path)
        pages = client.list_pages({}, start_url="http://127.0.0.2:9/api/models")
        with pytest.raises(HubError, match="another host"):
            next(pages)
        assert fake.requests == []
