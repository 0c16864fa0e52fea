"""Schema-driven fuzzing: schemathesis generates requests from the app's own OpenAPI (every operation, with
and without the write token) and sends them to the real app over a copy of the bundled store. Whatever it
sends, the answer is never a 5xx, never carries a traceback, and every refusal is a 4xx that says why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from server.app import create_app
from server.settings import Settings
from tests.conftest import private_store_copy

TOKEN = "fuzz-token"
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', "Internal Server Error")
# Each operation gets this many generated examples (plus schemathesis's explicit/coverage ones); 27
# operations x 2 (with/without token) keep the whole file well under a minute on two cores.
EXAMPLES = 25
SEEN: dict[str, int] = {"cases": 0, "5xx": 0}


@pytest.fixture(scope="module")
def fuzz_client(bundled_settings, bundled_store, tmp_path_factory) -> Iterator[TestClient]:
    """The app over a private copy of the bundled data, with writes enabled by a token."""
    store = private_store_copy(bundled_settings, bundled_store, tmp_path_factory.mktemp("fuzz") / "store")
    fuzz_settings = Settings(store=store.path, token=TOKEN, query_timeout=5, query_workers=2,
                             max_body_bytes=1_000_000, _env_file=None)
    with TestClient(create_app(fuzz_settings, store), raise_server_exceptions=False) as client:
        yield client
    store.close()


def _openapi() -> dict:
    """The OpenAPI document the app publishes (routes do not depend on the store or settings)."""
    return create_app(Settings(_env_file=None)).openapi()


SCHEMA = schemathesis.openapi.from_dict(_openapi())
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}


def strategy_for(operation):
    """Valid requests (positive) and schema-violating ones (negative), where the operation has something
    to violate."""
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    try:
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    except Exception:  # noqa: BLE001  (an operation with no parameters has no negative cases)
        pass
    return st.one_of(strategies)


def assert_sane(response, what: str) -> None:
    """No 5xx, no traceback text, and a 4xx always explains itself in its body."""
    SEEN["cases"] += 1
    body = response.text if response.request.method != "HEAD" else ""
    if response.status_code >= 500 and response.status_code != 503:
        SEEN["5xx"] += 1
    assert response.status_code < 500 or response.status_code == 503 and "busy" in body.lower() \
        or response.status_code == 503 and "timed out" in body.lower(), f"{what}: {response.status_code} {body[:500]}"
    for marker in TRACEBACK_MARKERS:
        assert marker not in body, f"{what}: traceback text in the response: {body[:500]}"
    if 400 <= response.status_code < 500 and response.request.method != "HEAD":
        assert len(body.strip()) >= 5, f"{what}: a {response.status_code} without a message"


def send(client: TestClient, case, headers: dict[str, str] | None = None):
    """Send a schemathesis case through the TestClient (whose lifespan started the query workers)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    body = kwargs.pop("json", None)
    data = kwargs.pop("data", None)
    content = None
    if body is not None:
        import json

        content = json.dumps(body).encode()
    elif isinstance(data, (str, bytes)):
        content = data.encode() if isinstance(data, str) else data
    elif data is not None:
        kwargs["data"] = data
    allowed = {"method", "url", "headers", "params"}
    return client.request(content=content, **{k: v for k, v in kwargs.items() if k in allowed or k == "data"})


FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])


def test_served_openapi_is_the_fuzzed_one(fuzz_client: TestClient) -> None:
    """The document fuzzed here is the one the app serves at /openapi.json."""
    assert fuzz_client.get("/openapi.json").json() == _openapi()
    assert len(OPERATIONS) >= 25


@pytest.mark.parametrize("label", sorted(OPERATIONS))
@pytest.mark.parametrize("token", [False, True], ids=["anonymous", "token"])
def test_fuzz_openapi_operation(label: str, token: bool, fuzz_client: TestClient) -> None:
    """Every operation, anonymous and with the token: whatever is sent, the app answers sanely; without
    the token no write ever succeeds."""
    headers = {"Authorization": f"Bearer {TOKEN}"} if token else None

    @FUZZ_SETTINGS
    @given(case=strategy_for(OPERATIONS[label]))
    def check(case) -> None:
        response = send(fuzz_client, case, headers)
        assert_sane(response, f"{case.method} {case.formatted_path} {'(token)' if token else ''}")
        if not token and case.path in ("/update", "/store") and case.method in ("POST", "PUT", "DELETE"):
            assert response.status_code in (400, 401, 403, 405, 415), response.text

    check()


def test_fuzz_left_the_app_healthy(fuzz_client: TestClient) -> None:
    """After the fuzzing above the app still answers queries and reports its store."""
    health = fuzz_client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    ask = fuzz_client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert ask.status_code == 200 and ask.json()["boolean"] is True
    print(f"schemathesis: {SEEN['cases']} requests, {SEEN['5xx']} answered 5xx")
    assert SEEN["5xx"] == 0
