"""``POST /validate?hf=ORG/NAME`` and the validate form's Hub id: the one way a request can make the server
fetch from the Hugging Face Hub. Off unless ``OPENNESS_HF_FETCH=true``; only strict ``ORG/NAME`` ids (never a
URL, so no request can point the server at another host); at most ``OPENNESS_HF_FETCH_PER_MINUTE`` fetches
per client address and minute. The fetch itself is the ingest wing's (``server/ingest/hub.py``): the same
client, cache and loader as ``openness validate hf:ORG/NAME``."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from pathlib import Path

from loaders.errors import RecordError
from loaders.vocab import Minter
from server.assess.validation import Outcome, refused, validate_record
from server.ingest.hub import HubClient, HubError, parse_hub_id

MAX_CLIENTS = 10_000  # client addresses remembered by the rate limiter (the oldest are forgotten first)


class RateLimiter:
    """A sliding one-minute window of fetches per client address."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """None if ``client`` may fetch now (and counts the fetch), else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            times = self._seen.pop(client, deque())
            while times and now - times[0] >= 60:
                times.popleft()
            self._seen[client] = times
            while len(self._seen) > MAX_CLIENTS:
                self._seen.popitem(last=False)
            if len(times) >= self.per_minute:
                return max(1, int(60 - (now - times[0])) + 1)
            times.append(now)
            return None


def hub_id(text: str) -> str | None:
    """The strict ``ORG/NAME`` a request names (an ``hf:`` prefix is allowed, a URL never)."""
    return parse_hub_id(text) if "://" not in text else None


def validate_hub(settings, repo_id: str, definition: str | None) -> Outcome:
    """Fetch the model (cached under the store folder) and assess it without storing it. Raises HubError."""
    try:
        record = HubClient(Path(settings.store) / "hub-cache").fetch(repo_id).record(Minter(settings.base_iri))
    except RecordError as exc:
        return refused(RecordError(f"hf:{repo_id}", exc.message, exc.line, exc.column))
    return validate_record(record, settings, definition=definition)


__all__ = ["HubError", "RateLimiter", "hub_id", "validate_hub"]
