"""Large graphs built as N-Quads text rather than pyoxigraph terms. In Python a ``Quad`` of four new terms costs
~7 us and its line of text ~1 us; Oxigraph then parses the text in Rust, where its bulk loader also releases the
GIL, so the Python that builds a graph and the loader that writes it run at once on two cores
(bench/RESULTS.md). The text is only ever built from IRIs this product minted or read from a store, so
:func:`iri` does not check them: :func:`parse_lines` does (a bad line is a SyntaxError naming it), and the bulk
writer of large graphs (``OxigraphStore.add_large_graph``) skips that check for speed."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def iri(value: str) -> str:
    """An IRI as an N-Quads term."""
    return f"<{value}>"


def literal(value: str, datatype: str | None = None, language: str | None = None) -> str:
    """A literal as an N-Quads term (a plain one is an xsd:string), escaped as N-Quads requires."""
    if '"' in value or "\\" in value or "\n" in value or "\r" in value:
        value = value.translate(_ESCAPES)
    if language:
        return f'"{value}"@{language}'
    if datatype and datatype != XSD + "string":
        return f'"{value}"^^<{datatype}>'
    return f'"{value}"'


def line(subject: str, predicate: str, obj: str, graph: str) -> str:
    """One quad: four terms made by :func:`iri` or :func:`literal`."""
    return f"{subject} {predicate} {obj} {graph} .\n"


def parse_lines(lines: Iterable[str]) -> list[ox.Quad]:
    """The quads of N-Quads lines, parsed in one call (for the graphs that are written as quad lists)."""
    return list(ox.parse("".join(lines).encode(), format=ox.RdfFormat.N_QUADS))
