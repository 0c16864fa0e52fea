"""The query page: YASGUI served from the local npm install (``server/web/node_modules``, never a CDN)
and a gallery of example queries kept as data in ``server/web/examples/*.rq``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

WEB_DIR = Path(__file__).parent
EXAMPLES_DIR = WEB_DIR / "examples"
STATIC_DIR = WEB_DIR / "static"
NODE_MODULES = WEB_DIR / "node_modules"
YASGUI_DIR = NODE_MODULES / "@zazuko" / "yasgui" / "build"
SWAGGER_DIR = NODE_MODULES / "swagger-ui-dist"

_HEADER = re.compile(r"^#\s*(title|description):\s*(.*)$")


@dataclass(frozen=True)
class Example:
    """One curated query: ``slug`` is the file name without ``.rq``."""

    slug: str
    title: str
    description: str
    query: str


def _read_example(path: Path) -> Example:
    text = path.read_text(encoding="utf-8")
    fields = {}
    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if not match:
            break
        fields[match.group(1)] = match.group(2).strip()
    if "title" not in fields or "description" not in fields:
        raise ValueError(f"{path} must start with '# title: ...' and '# description: ...' lines")
    return Example(path.stem, fields["title"], fields["description"], text)


def example_queries() -> list[Example]:
    """Every example query of the gallery, in file-name order."""
    return [_read_example(p) for p in sorted(EXAMPLES_DIR.glob("*.rq"))]


def yasgui_installed() -> bool:
    return (YASGUI_DIR / "yasgui.min.js").is_file()


def swagger_installed() -> bool:
    return (SWAGGER_DIR / "swagger-ui-bundle.js").is_file()


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(WEB_DIR / "templates"), autoescape=select_autoescape(["html"]))


def render_query_page(request) -> str:
    """The HTML query editor page (YASGUI + gallery)."""
    return _templates().get_template("query.html").render(
        examples=example_queries(), yasgui=yasgui_installed(), endpoint=str(request.url.path))


def render_docs_page(openapi_url: str) -> str:
    """Swagger UI from the local install (its initialiser is a static file: the CSP allows no inline JS)."""
    return _templates().get_template("docs.html").render(swagger=swagger_installed(), openapi_url=openapi_url)
