"""Where the shipped ontology, shapes and data live: the checkout's top-level folders, or the copies a
wheel carries inside the ``server`` package."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    """Folder ``name`` (``ontology``, ``shapes`` or ``data``) of this installation."""
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "resources" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the '{name}' folder is missing from this installation; reinstall the package")


def ontology_file() -> Path:
    return resource_dir("ontology") / "openness.ttl"


def data_file(*parts: str) -> Path:
    return resource_dir("data").joinpath(*parts)
