"""Where the bundled reference data lives (the MOT's schema, the license KB's sources, the dataset KB):
the checkout's top-level ``data/`` folder, or the copy an installed wheel carries inside this package. The
loaders find it themselves, so they never import the server to read a file."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir() -> Path:
    """The ``data`` folder of this installation."""
    for candidate in (_PACKAGE.parent / "data", _PACKAGE / "data"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the 'data' folder is missing from this installation; reinstall the package")


def data_file(*parts: str) -> Path:
    """A file under the ``data`` folder, e.g. ``data_file("licenses", "license-kb.ttl")``."""
    return data_dir().joinpath(*parts)
