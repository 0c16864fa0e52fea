"""A fake Hugging Face Hub on 127.0.0.1 for tests and benchmarks: a real HTTP server answering the requests
``huggingface_hub`` sends (``/api/models`` paged with ``Link`` headers, ``/api/models/{id}``,
``/{id}/resolve/{rev}/README.md``) with the Hub's status codes and ``X-Error-Code`` headers, so the client's
own error mapping and backoff run. It serves real model cards (tests/data/hub/cards, sources in
tests/data/hub/README.md). Faults are queued per path prefix; every request is logged."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import yaml

CARDS = Path(__file__).parent / "data" / "hub" / "cards"
TOKEN = "hf_fake_test_token"


def real_cards() -> dict[str, str]:
    """{Hub id: README.md text} of the real cards kept as test data."""
    return {str(p.parent.relative_to(CARDS)): p.read_text(encoding="utf-8") for p in sorted(CARDS.rglob("README.md"))}


def card_data(readme: str | None) -> dict:
    """The front matter as the Hub's API reports it (``cardData``); {} when absent or not YAML."""
    text = (readme or "").lstrip("\ufeff").lstrip()
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    try:
        data = yaml.safe_load(text[3:end]) if end > 0 else None
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass
class FakeModel:
    id: str
    readme: str | None
    gated: bool | str = False
    version: int = 0
    siblings: list[str] = field(default_factory=lambda: ["README.md", "config.json", "model.safetensors"])

    @property
    def sha(self) -> str:
        return hashlib.sha1(f"{self.id}@{self.version}".encode()).hexdigest()

    def info(self) -> dict:
        """The API's answer for this model (computed once per version: listings ask for every model)."""
        cached = getattr(self, "_info", None)
        if cached is None or cached[0] != (self.version, self.gated):
            cached = self._info = ((self.version, self.gated), self._build_info())
        return cached[1]

    def _build_info(self) -> dict:
        card = card_data(self.readme)
        license_value = card.get("license")
        licenses = license_value if isinstance(license_value, list) else [license_value] if license_value else []
        tags = [t for t in card.get("tags") or [] if isinstance(t, str)] + [f"license:{x}" for x in licenses]
        return {"_id": self.sha[:24], "id": self.id, "modelId": self.id, "author": self.id.split("/")[0],
                "sha": self.sha, "private": False, "disabled": False, "gated": self.gated,
                "createdAt": "2024-04-18T15:03:41.000Z",
                "lastModified": f"2025-01-{1 + self.version % 28:02d}T10:00:00.000Z",
                "tags": tags, "pipeline_tag": card.get("pipeline_tag"), "library_name": card.get("library_name"),
                "siblings": [{"rfilename": f} for f in self.siblings], "cardData": card}


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that went away mid-answer (a harvest killed on purpose) is not an error of the fake Hub."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeHub:
    """``with FakeHub(models) as hub:`` serves them at ``hub.url`` until the block ends."""

    def __init__(self, models: list[FakeModel], token: str = TOKEN) -> None:
        self.models = {m.id.lower(): m for m in models}
        self.order = [m.id.lower() for m in models]
        self.token = token
        self.faults: dict[str, list[tuple[int, dict]]] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, path_prefix: str, status: int, headers: dict | None = None, times: int = 1) -> None:
        """Answer the next ``times`` requests whose path starts with ``path_prefix`` with ``status``."""
        with self.lock:
            self.faults.setdefault(path_prefix, []).extend([(status, headers or {})] * times)

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.startswith(prefix))

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes = b"", headers: dict | None = None,
                      ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, code: str, message: str) -> None:
                self._send(status, json.dumps({"error": message}).encode(),
                           {"X-Error-Code": code, "X-Error-Message": message})

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                path = unquote(parts.path)
                with hub.lock:
                    hub.requests.append(self.path)
                    fault = next((p for p in hub.faults if path.startswith(p) and hub.faults[p]), None)
                    queued = hub.faults[fault].pop(0) if fault else None
                if queued:
                    status, headers = queued
                    self._send(status, b'{"error": "fault"}', headers)
                    return
                if path == "/api/models":
                    self._list(parse_qs(parts.query))
                elif path.startswith("/api/models/"):
                    model = hub.models.get(path[len("/api/models/"):].lower())
                    if model is None:
                        self._error(404, "RepoNotFound", "Repository not found")
                    else:
                        self._send(200, json.dumps(model.info()).encode())
                elif "/resolve/" in path:
                    self._resolve(path)
                else:
                    self._error(404, "EntryNotFound", "no such route")

            def _resolve(self, path: str) -> None:
                repo, _, rest = path.lstrip("/").partition("/resolve/")
                revision, _, filename = rest.partition("/")
                model = hub.models.get(repo.lower())
                if model is None:
                    self._error(404, "RepoNotFound", "Repository not found")
                elif revision not in (model.sha, "main"):
                    self._error(404, "RevisionNotFound", "Invalid rev id")
                elif model.gated and self.headers.get("Authorization") != f"Bearer {hub.token}":
                    self._error(401, "GatedRepo", f"Access to model {model.id} is restricted.")
                elif filename != "README.md" or model.readme is None:
                    self._error(404, "EntryNotFound", f"{filename} does not exist")
                else:
                    self._send(200, model.readme.encode(), {"X-Repo-Commit": model.sha}, "text/markdown")

            def _list(self, query: dict[str, list[str]]) -> None:
                limit = min(int(query.get("limit", ["1000"])[0]), 1000)
                start = int(query.get("cursor", ["0"])[0])
                author = query.get("author", [None])[0]
                search = (query.get("search", [""])[0] or "").lower()
                tags = query.get("filter", [])
                with hub.lock:
                    ids = list(hub.order)
                matching = []
                for key in ids:
                    model = hub.models[key]
                    info = model.info()
                    if author and model.id.split("/")[0] != author:
                        continue
                    if search and search not in key:
                        continue
                    if any(t not in info["tags"] for t in tags):
                        continue
                    matching.append(info)
                page = matching[start:start + limit]
                headers = {}
                if start + limit < len(matching):
                    params = {k: v for k, v in query.items() if k != "cursor"} | {"cursor": [str(start + limit)]}
                    host = self.headers.get("Host")
                    headers["Link"] = f'<http://{host}/api/models?{urlencode(params, doseq=True)}>; rel="next"'
                self._send(200, json.dumps(page).encode(), headers)

        return Handler


def loadable_cards() -> dict[str, str]:
    """The real cards that load (the two replicate/lucataco LoRA card templates are malformed YAML)."""
    return {k: v for k, v in real_cards().items() if "template" not in k}


def synthetic_models(count: int, gated_every: int = 0) -> list[FakeModel]:
    """``count`` models whose cards are the loadable real cards cycled (ids ``org-{k % 50}/model-{k}``)."""
    cards = list(loadable_cards().values())
    return [FakeModel(f"org-{k % 50}/model-{k:05d}", cards[k % len(cards)],
                      gated="auto" if gated_every and k % gated_every == 0 else False) for k in range(count)]
