"""Where the shipped ontology and shapes live: the checkout's top-level folders, or the copies a wheel
carries inside the ``server`` package. (Bundled data is the loaders' to find: ``loaders.bundled_data``.)"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    """Folder ``name`` (``ontology`` or ``shapes``) of this installation."""
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "resources" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the '{name}' folder is missing from this installation; reinstall the package")


def ontology_file() -> Path:
    return resource_dir("ontology") / "openness.ttl"


def definitions_file() -> Path:
    """The definitions and requirements as data, generated from the definitions table."""
    return resource_dir("ontology") / "definitions.ttl"
