"""The web pages in a real browser: headless Debian chromium against a real uvicorn serving the bundled
data. Screenshots must be non-empty PNGs; the DOM chromium builds must show what the page promises."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from server.app import create_app
from tests.conftest import live_server

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (/usr/bin/chromium)")]
ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def site(bundled_settings, bundled_store):
    with live_server(create_app(bundled_settings, bundled_store)) as url:
        yield url


def chromium(args: list[str], tmp_path: Path, timeout: int = 90) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    try:
        return subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def dump_dom(url: str, tmp_path: Path, budget_ms: int = 5000) -> str:
    done = chromium([f"--virtual-time-budget={budget_ms}", "--dump-dom", url], tmp_path)
    dom = done.stdout.decode("utf-8", "replace")
    assert "<html" in dom, done.stderr.decode("utf-8", "replace")[-2000:]
    return dom


def screenshot(url: str, tmp_path: Path, name: str) -> Path:
    target = tmp_path / f"{name}.png"
    chromium([f"--screenshot={target}", "--window-size=1280,1600", "--hide-scrollbars", url], tmp_path)
    assert target.exists() and target.stat().st_size > 10_000, f"no screenshot of {url}"
    assert target.read_bytes()[:8] == PNG
    return target


def test_model_page_shows_its_verdicts(site, tmp_path):
    url = f"{site}/models/mot/OLMo-7B"
    dom = dump_dom(url, tmp_path)
    assert "<h1>OLMo-7B" in dom
    assert re.search(r'<span class="v pass"[^>]*>pass</span>', dom)
    assert re.search(r'<span class="v mof-1"[^>]*>class 1</span>', dom)
    assert "Apache License 2.0" in dom and "Provenance" in dom
    screenshot(url, tmp_path, "model")


def test_matrix_with_a_filter(site, tmp_path):
    url = f"{site}/compare?source=mot&producer=Meta&sort=osaid-1.0"
    dom = dump_dom(url, tmp_path)
    assert "Llama-2-7B" in dom
    assert "OLMo-7B" not in dom  # filtered out
    assert "<svg" in dom and 'class="cell fail"' in dom
    screenshot(url, tmp_path, "matrix")


def test_validation_round_trip_through_the_html_form(site, tmp_path):
    """The real form of GET /validate, filled with a record and submitted by the browser (a POST of
    application/x-www-form-urlencoded); the browser shows the result page the server answers."""
    with urllib.request.urlopen(f"{site}/validate") as response:  # noqa: S310 (our own local server)
        page = response.read().decode()
    form = re.search(r"<form class=\"validate\".*?</form>", page, re.S).group(0)
    record = (ROOT / "data" / "mot" / "models" / "Llama-2-7B.yml").read_text()
    form = form.replace('action="/validate"', f'action="{site}/validate"')
    form = re.sub(r"(<textarea[^>]*>)(</textarea>)", lambda m: m.group(1) + html.escape(record) + m.group(2), form)
    # a local page (not served by us, so our CSP does not apply to it) that submits the form on load
    driver = tmp_path / "submit.html"
    driver.write_text(f"<!doctype html><html><body>{form}"
                      "<script>document.getElementById('submit').click()</script></body></html>")
    dom = dump_dom(driver.as_uri(), tmp_path, budget_ms=15000)
    assert "Validation result" in dom, dom[:2000]
    assert "Llama-2-7B" in dom
    assert "parameters-osi-terms" in dom and "restricted" in dom
    assert re.search(r'<span class="v fail"[^>]*>fail</span>', dom)


def test_landing_release_and_quality_pages(site, tmp_path):
    """The model level in a browser: the landing page counts what the graph holds and lists flagged
    releases, a release page shows its records, conflicts and consolidated verdicts, /quality the work list."""
    landing = dump_dom(f"{site}/", tmp_path)
    assert "How open is this AI model" in landing
    assert re.search(r"<strong>\d+</strong> releases", landing) and "466</strong> records" in landing
    assert 'href="/quality"' in landing and 'class="flag open-washing"' in landing
    screenshot(f"{site}/", tmp_path, "landing")

    release = dump_dom(f"{site}/releases/crystalchat", tmp_path)
    assert "<h1>CrystalChat" in release
    assert 'href="/models/mot/CrystalChat"' in release and 'href="/models/osai-index/Crystal"' in release
    assert "Where sources disagree" in release and "conflict-restrictive-reading" in release
    assert re.search(r'<span class="v fail"[^>]*>fail</span>', release)
    screenshot(f"{site}/releases/crystalchat", tmp_path, "release")

    quality = dump_dom(f"{site}/quality", tmp_path)
    assert "Unverified claims" in quality and "mot/Claude-2" in quality
    assert "Open-washing" in quality and "about.fb.com/news/2023/07/llama-2" in quality
    screenshot(f"{site}/quality", tmp_path, "quality")


def test_query_page_has_the_site_navigation(site, tmp_path):
    dom = dump_dom(f"{site}/sparql", tmp_path)
    assert '<a class="brand" href="/">' in dom and 'href="/releases"' in dom and 'href="/quality"' in dom


def test_a_listing_page_in_the_browser(site, tmp_path):
    """A middle page of /releases: the pager shows where it is and the total, and links both ways."""
    dom = dump_dom(f"{site}/releases?per_page=20&page=2&sort=name", tmp_path)
    assert re.search(r"21–40 of <strong>\d+</strong> releases", dom)
    assert '<link rel="next" href="/releases?per_page=20&amp;sort=name&amp;page=3">' in dom
    assert dom.count('<a rel="next"') == 2 and dom.count('<a rel="prev"') == 2
    assert len(re.findall(r'<td><a href="/(?:releases|models)/', dom)) == 20
