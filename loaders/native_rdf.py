"""Native records: Turtle, JSON-LD or N-Triples already in the ontology. Exactly one og:ModelRelease per
file. Nothing is fetched while parsing: remote JSON-LD contexts and owl:imports are never followed."""

from __future__ import annotations

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.exceptions import ParserError

from loaders.errors import RecordError
from loaders.record import LoadedRecord, SourceInfo, add_provenance, valid_iri
from loaders.vocab import DCT, OG, Minter

SOURCE = "native"
FORMATS = {".ttl": "turtle", ".jsonld": "json-ld", ".nt": "nt", ".json": "json-ld"}


def parse_rdf(text: str, rdf_format: str, file: str) -> Graph:
    """Parse RDF text; errors name the file and, when the parser says, the line."""
    graph = Graph()
    try:
        if rdf_format == "json-ld":
            _refuse_remote_context(text, file)
        graph.parse(data=text, format=rdf_format)
    except RecordError:
        raise
    except (SyntaxError, ParserError, ValueError, TypeError, KeyError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RecordError(file, f"malformed {rdf_format}: {message}", _line_of(exc)) from None
    except Exception as exc:  # rdflib's parsers raise a wide variety of errors on bad input
        raise RecordError(file, f"malformed {rdf_format}: {type(exc).__name__}: {exc}", _line_of(exc)) from None
    return graph


def _line_of(exc: Exception) -> int | None:
    for attr in ("lineno", "line"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    text = str(exc)
    marker = "line "
    if marker in text:
        digits = "".join(ch for ch in text.split(marker, 1)[1][:8] if ch.isdigit())
        if digits:
            return int(digits)
    return None


def _refuse_remote_context(text: str, file: str) -> None:
    """JSON-LD may name a remote @context; fetching it would let a record make us reach any URL."""
    import json

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(file, f"malformed JSON-LD: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise RecordError(file, "JSON-LD nested too deeply; refused", 1) from None

    def walk(node) -> None:
        if isinstance(node, dict):
            ctx = node.get("@context")
            for item in ctx if isinstance(ctx, list) else [ctx]:
                if isinstance(item, str):
                    raise RecordError(file, f"remote JSON-LD @context {item!r} is not fetched; inline the context")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


def _check_iris(graph: Graph, file: str) -> None:
    """Every term must be one the store accepts: absolute IRIs (JSON-LD without @base leaves relative IRIs
    as they are), well-formed language tags, datatypes and blank node ids. pyoxigraph validates."""
    import pyoxigraph as ox

    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef):
                if not valid_iri(str(term)):
                    raise RecordError(file, f"not an absolute IRI: {str(term)[:80]!r}")
                continue
            try:
                if isinstance(term, Literal):
                    if term.language:
                        ox.Literal(str(term), language=term.language)
                    elif term.datatype:
                        ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
                    else:
                        ox.Literal(str(term))
                else:
                    ox.BlankNode(str(term))
            except (ValueError, TypeError) as exc:
                raise RecordError(file, f"invalid RDF term {str(term)[:80]!r}: {exc}") from None


def load_native(text: str, info: SourceInfo, minter: Minter, record_name: str, rdf_format: str) -> LoadedRecord:
    graph = parse_rdf(text, rdf_format, info.file)
    _check_iris(graph, info.file)
    releases = sorted(set(graph.subjects(RDF.type, OG.ModelRelease)), key=str)
    if len(releases) != 1:
        raise RecordError(info.file, f"a native record describes exactly one og:ModelRelease; found {len(releases)}")
    rec = releases[0]
    if not isinstance(rec, URIRef):
        raise RecordError(info.file, "the og:ModelRelease must have an IRI, not a blank node")
    record_id = f"{SOURCE}/{record_name}"
    graph.remove((rec, OG.recordId, None))
    graph.remove((rec, OG.source, None))
    graph.add((rec, OG.recordId, Literal(record_id)))
    graph.add((rec, OG.source, Literal(SOURCE)))
    title = graph.value(rec, DCT.title) or record_name
    add_provenance(graph, minter, record_id, info, rec)
    return LoadedRecord(record_id, str(title), graph, rec, minter.record_graph(record_id))
