"""The official validators of SPDX 3.0.1 and CycloneDX 1.6, run offline on BOMs (tests/test_bom*.py).

SPDX: the JSON schema (with ``jsonschema-rs``), pySHACL with ``spdx-model.ttl`` as shapes and ontology, and the
AI/Dataset profile shapes written for this project (the official SHACL leaves the profiles' mandatory fields
out), all from ``../shared/data/spdx3``; and ``spdx3-validate`` itself with ``urllib`` answering its three
spdx.org URLs from that folder and refusing every other URL. CycloneDX: ``cyclonedx-python-lib``'s strict
JSON validator for 1.6, which ships its schemas."""

from __future__ import annotations

import io
import json
import urllib.request
from contextlib import contextmanager
from email.message import Message
from functools import cache
from pathlib import Path

import jsonschema_rs
import pyshacl
import rdflib
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from rdflib import XSD

SPDX_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "spdx3"
SPDX_URLS = {
    "https://spdx.org/rdf/3.0.1/spdx-context.jsonld": SPDX_DIR / "spdx-context.jsonld",
    "https://spdx.org/rdf/3.0.1/spdx-model.ttl": SPDX_DIR / "spdx-model.ttl",
    "https://spdx.org/schema/3.0.1/spdx-json-schema.json": SPDX_DIR / "spdx-json-schema.json",
}
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@cache
def spdx_model() -> rdflib.Graph:
    return rdflib.Graph().parse(SPDX_DIR / "spdx-model.ttl", format="turtle")


@cache
def profile_shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(SPDX_DIR / "ai-dataset-profile-conformance.shacl.ttl", format="turtle")


@cache
def spdx_context() -> dict:
    return json.loads((SPDX_DIR / "spdx-context.jsonld").read_text())["@context"]


@cache
def spdx_schema() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads((SPDX_DIR / "spdx-json-schema.json").read_text()))


def spdx_schema_errors(document: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in spdx_schema().iter_errors(document)]


def spdx_graph(documents: list[dict]) -> rdflib.Graph:
    """The documents as one RDF graph with the SPDX model mixed in, ready for pySHACL.

    The context is inlined (pySHACL would fetch it). Blank node labels are made per document (rdflib keeps a
    label across parses into one graph, and every document has its ``_:CreationInfo0``). The model is mixed in
    here, once, which is what pySHACL's ``ont_graph`` does on a copy of the data graph: validating in place
    then halves the time. rdflib's global literal map loses ``xsd:dateTimeStamp``'s lexical form once owlrl
    has run in this process (../shared/data/spdx3/README.md, caveat 6): dropped before parsing."""
    rdflib.term._toPythonMapping.pop(XSD.dateTimeStamp, None)
    graph = rdflib.Graph()
    for index, doc in enumerate(documents):
        text = json.dumps(dict(doc, **{"@context": spdx_context()})).replace('"_:', f'"_:d{index}-')
        graph.parse(data=text, format="json-ld")
    graph += spdx_model()
    return graph


def shacl_violations(graph: rdflib.Graph, shapes: rdflib.Graph) -> list[str]:
    """pySHACL's results on a graph from :func:`spdx_graph`, as '<focus node>: <message>' lines (empty when
    it conforms)."""
    conforms, report, _ = pyshacl.validate(graph, shacl_graph=shapes, inference="none", inplace=True)
    if conforms:
        return []
    return sorted(f"{report.value(r, SH.focusNode)}: {report.value(r, SH.resultMessage)}"
                  for r in report.objects(None, SH.result))


def spdx_violations(documents: list[dict]) -> dict[str, list[str]]:
    """Schema errors per document, SHACL violations of them all (official model; profile shapes)."""
    graph = spdx_graph(documents)
    return {
        "schema": [f"{_document_id(doc)}: {e}" for doc in documents for e in spdx_schema_errors(doc)],
        "spdx-model.ttl": shacl_violations(graph, spdx_model()),
        "profile shapes": shacl_violations(graph, profile_shapes()),
    }


def spdx_file_violations(paths: list[Path]) -> dict[str, list[str]]:
    """:func:`spdx_violations` of the documents in ``paths`` (a worker process's share)."""
    return spdx_violations([json.loads(p.read_text(encoding="utf-8")) for p in paths])


def spdx_violations_parallel(paths: list[Path], workers: int = 2) -> dict[str, list[str]]:
    """:func:`spdx_violations` of many files, split over ``workers`` processes (pySHACL is single-threaded
    and takes ~0.1 s per BOM)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    shares = [paths[i::workers] for i in range(workers)]
    merged: dict[str, list[str]] = {}
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        for result in pool.map(spdx_file_violations, shares):
            for key, found in result.items():
                merged.setdefault(key, []).extend(found)
    return merged


def _document_id(doc: dict) -> str:
    return next((n["spdxId"] for n in doc.get("@graph", []) if n.get("type") == "SpdxDocument"), "?")


class _SpdxFromDisk(urllib.request.BaseHandler):
    """Serves the three spdx.org URLs spdx3-validate reads from the offline copies; refuses everything else."""

    handler_order = 100  # ahead of urllib's own HTTP(S) handlers

    def _answer(self, req):
        url = req.get_full_url()
        path = SPDX_URLS.get(url)
        if path is None:
            raise urllib.error.URLError(f"offline test: refusing to fetch {url}")
        headers = Message()
        headers["Content-Type"] = "application/ld+json" if url.endswith(".jsonld") else "text/turtle" \
            if url.endswith(".ttl") else "application/json"
        response = urllib.response.addinfourl(io.BytesIO(path.read_bytes()), headers, url, 200)
        response.msg = "OK"
        return response

    https_open = http_open = _answer


@contextmanager
def spdx_offline():
    """``urllib`` (and so rdflib and spdx3-validate) served from ../shared/data/spdx3, for the block."""
    previous = urllib.request._opener
    urllib.request.install_opener(urllib.request.build_opener(_SpdxFromDisk()))
    try:
        yield
    finally:
        urllib.request._opener = previous


def spdx3_validate(path: Path) -> list[str]:
    """``spdx3-validate`` (schema with ``jsonschema``, SHACL with pySHACL) on one file, offline."""
    import spdx3_validate

    rdflib.term._toPythonMapping.pop(XSD.dateTimeStamp, None)
    with spdx_offline():
        return [str(e) for e in spdx3_validate.validate(str(path)).errors]


@cache
def cyclonedx_validator() -> JsonStrictValidator:
    _parse_each_iri_once()
    return JsonStrictValidator(SchemaVersion.V1_6)


def _parse_each_iri_once() -> None:
    """The strict validator checks ``iri-reference`` formats with rfc3987-syntax, whose Earley parser takes
    ~50 ms per IRI; BOMs repeat the same IRIs (licenses, publishers, repositories). The parse, a pure function,
    is memoised for this process: the same check on the same strings, done once each."""
    from functools import lru_cache

    import rfc3987_syntax.syntax_helpers as helpers

    if not hasattr(helpers.parse, "cache_info"):
        helpers.parse = lru_cache(maxsize=None)(helpers.parse)


def cyclonedx_error(text: str) -> str | None:
    """The strict 1.6 validator's error, or None for a valid document."""
    error = cyclonedx_validator().validate_str(text)
    return None if error is None else str(error)
