"""The curated example questions: each answers something on the bundled data and is listed in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GALLERY = sorted((ROOT / "server" / "web" / "examples").glob("*.rq"))


def title(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# title:"), path
    return first.split(":", 1)[1].strip()


def test_gallery_has_at_least_ten_questions():
    assert len(GALLERY) >= 10


@pytest.mark.parametrize("path", GALLERY, ids=lambda p: p.stem)
def test_question_is_in_the_readme(path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"**{title(path)}**" in readme and path.name in readme


@pytest.mark.parametrize("path", GALLERY, ids=lambda p: p.stem)
def test_question_answers_on_bundled_data(bundled_store, path):
    rows = bundled_store.select(path.read_text(encoding="utf-8"))
    assert rows, f"{path.name} returned no rows on the bundled data"
    assert any(row for row in rows), f"{path.name} returned only empty rows"
