"""The listing pages at scale: how long the listing index takes to build and how much memory it holds, then
how long ``/models``, ``/releases`` and ``/compare`` answer (first page, a filtered page, a later page) through
the app (TestClient) or a running server (``--url``).

    python -m bench.pages_bench --store /tmp/store-10k                 # in process, index built first
    python -m bench.pages_bench --url http://127.0.0.1:8000            # a running ``openness serve``

Each timed request carries an unused parameter of its own, so the page cache never answers it."""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import httpx

HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
PAGES = [
    ("/models", HTML), ("/models?page=20", HTML), ("/models?source=mot&osaid-1.0=pass", HTML),
    ("/models?q=llama&sort=-date", HTML), ("/models?view=records&page=100", HTML),
    ("/models?per_page=50", JSON), ("/models?per_page=500&page=3&sort=name", JSON),
    ("/releases", HTML), ("/releases?page=50", HTML), ("/releases?flag=open-washing&sort=producer", HTML),
    ("/releases?per_page=100&mof-1.0=1", JSON),
    ("/compare", HTML), ("/compare?page=30", HTML), ("/compare?source=mot&sort=osaid-1.0", HTML),
    ("/compare?view=records&producer=meta", HTML),
]


def timed(get: Callable[[str, dict], httpx.Response], repeat: int) -> list[tuple[str, str, float, int]]:
    """Per page: (path, media, median ms over ``repeat`` uncached requests, X-Total-Count)."""
    out = []
    for n, (path, headers) in enumerate(PAGES):
        times, total = [], -1
        for i in range(repeat):
            sep = "&" if "?" in path else "?"
            started = time.perf_counter()
            response = get(f"{path}{sep}bench={n}-{i}-{time.time_ns()}", headers)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
            total = int(response.headers.get("x-total-count", -1))
        out.append((path, headers["accept"].split("/")[1], statistics.median(times), total))
    return out


def in_process(store_path: Path, repeat: int) -> None:
    from fastapi.testclient import TestClient

    from loaders.vocab import Minter
    from server.app import create_app
    from server.settings import Settings
    from server.store import OxigraphStore
    from server.web import listing

    settings = Settings(store=store_path, _env_file=None)
    store = OxigraphStore(store_path, read_only=True)

    class State:
        pass

    state = State()
    state.store, state.settings = store, settings
    started = time.perf_counter()
    key = listing.state_key(state)
    print(f"state key (pointer query): {(time.perf_counter() - started) * 1000:.1f} ms")
    built = listing.build_listing(store, Minter(settings.base_iri), key)
    print(f"index: {len(built.records)} records, {len(built.releases)} releases, built in {built.build_seconds:.2f} s")
    del built
    tracemalloc.start()
    built = listing.build_listing(store, Minter(settings.base_iri), key)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"index memory: {current / 2**20:.0f} MiB held, {peak / 2**20:.0f} MiB peak while building")
    del built
    with TestClient(create_app(settings, store)) as client:
        started = time.perf_counter()
        client.get("/models?per_page=1", headers=JSON)  # waits for the warmer started with the app
        print(f"first request after start (waits for the index): {time.perf_counter() - started:.2f} s")
        report(timed(lambda url, h: client.get(url, headers=h), repeat))


def over_http(url: str, repeat: int) -> None:
    with httpx.Client(base_url=url, timeout=300) as client:
        started = time.perf_counter()
        client.get("/models?per_page=1", headers=JSON)
        print(f"first request: {time.perf_counter() - started:.2f} s")
        report(timed(lambda path, h: client.get(path, headers=h), repeat))


def report(rows: list[tuple[str, str, float, int]]) -> None:
    for path, media, ms, total in rows:
        print(f"{ms:8.1f} ms  {media:5}  total={total:<7} {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="an assessed store folder (in-process measurement)")
    parser.add_argument("--url", help="a running server's base URL")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.url:
        over_http(args.url, args.repeat)
    elif args.store:
        in_process(args.store, args.repeat)
    else:
        parser.error("give --store or --url")


if __name__ == "__main__":
    main()
