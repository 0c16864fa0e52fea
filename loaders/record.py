"""What every loader returns, and the small RDF-building helpers they share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import yaml
from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.plugins.stores.memory import SimpleMemory

from loaders import LOADER_VERSION
from loaders.components import ComponentKind
from loaders.errors import RecordError
from loaders.license_names import LicenseResolution, resolve_license
from loaders.vocab import AVAIL, DCAT, DCT, LICSTATE, OG, PROV, STATIC, Minter

FOAF_NAME = URIRef("http://xmlns.com/foaf/0.1/name")
FOAF_AGENT = URIRef("http://xmlns.com/foaf/0.1/Agent")
FOAF_HOMEPAGE = URIRef("http://xmlns.com/foaf/0.1/homepage")


@dataclass(frozen=True)
class SourceInfo:
    """Where a record came from: the upstream it was copied from, for PROV-O."""

    source: str  # "mot", "osai-index", "hf", "native"
    file: str  # path inside the source, e.g. "models/OLMo-7B.yml"
    commit: str | None = None
    upstream_url: str | None = None  # the file's URL upstream (prov:hadPrimarySource)
    data_license: str | None = None  # license IRI of the source data
    retrieved: str | None = None  # retrieval date when there is no commit


@dataclass
class LoadedRecord:
    record_id: str  # "{source}/{file stem}"
    name: str
    graph: Graph
    iri: URIRef
    graph_iri: str
    warnings: list[str] = field(default_factory=list)


class RecordStore(SimpleMemory):
    """The rdflib store of one record's graph (~100 triples): a dict of triples in insertion order, matched
    by scanning. Adding a triple is one dict insert instead of ``SimpleMemory``'s three nested indexes (the
    loaders' hot spot: 40 % of a MOT record's graph building); pattern lookups, rare on a record graph, scan
    ~100 triples. Namespace bindings are ``SimpleMemory``'s."""

    def __init__(self, configuration: str | None = None, identifier=None) -> None:
        super().__init__(configuration, identifier)
        self._triples: dict[tuple, None] = {}

    def add(self, triple, context, quoted: bool = False) -> None:
        self._triples[triple] = None

    def remove(self, triple_pattern, context=None) -> None:
        for triple, _ in list(self.triples(triple_pattern)):
            del self._triples[triple]

    def triples(self, triple_pattern, context=None):
        s, p, o = triple_pattern
        for triple in tuple(self._triples):  # a copy: callers may add while iterating
            if (s is None or triple[0] == s) and (p is None or triple[1] == p) and (o is None or triple[2] == o):
                yield triple, iter(())

    def __len__(self, context=None) -> int:
        return len(self._triples)

    def all_triples(self) -> list[tuple]:
        """Every triple, without rdflib's per-triple generator layers (for converting to store quads)."""
        return list(self._triples)


def new_graph() -> Graph:
    """A plain graph on a :class:`RecordStore`; prefixes are bound only when a graph is serialised (binding
    costs time per graph)."""
    return Graph(store=RecordStore(), bind_namespaces="none")


@lru_cache(maxsize=16384)
def lit(text: str) -> Literal:
    """A plain string literal, built once per distinct text: the loaders repeat the same strings (component
    names, license statements, sources) in every record, and rdflib's Literal constructor is slow."""
    return Literal(text)


_iri = lru_cache(maxsize=4096)(URIRef)  # license IRIs: a few hundred, repeated in every record


_NOW: list = [None, None]  # (second, literal) of the last load time built


def now_literal() -> Literal:
    """The current time (to the second) as an xsd:dateTime literal, built once per second."""
    now = datetime.now(UTC).replace(microsecond=0)
    if _NOW[0] != now:
        _NOW[0], _NOW[1] = now, Literal(now, datatype=XSD.dateTime)
    return _NOW[1]


def add_provenance(graph: Graph, minter: Minter, record_id: str, info: SourceInfo, record: URIRef) -> None:
    """The record's named graph as a prov:Entity: source, file, commit, load time, loader version."""
    g = URIRef(minter.record_graph(record_id))
    graph.add((g, RDF.type, OG.SourceRecord))
    graph.add((g, RDF.type, PROV.Entity))
    graph.add((g, OG.record, record))
    graph.add((g, OG.source, lit(info.source)))
    graph.add((g, OG.sourceFile, Literal(info.file)))
    graph.add((g, OG.loaderVersion, lit(LOADER_VERSION)))
    if info.commit:
        graph.add((g, OG.sourceCommit, lit(info.commit)))
    if info.upstream_url:
        graph.add((g, PROV.hadPrimarySource, URIRef(info.upstream_url)))
    if info.data_license:
        graph.add((g, DCT.license, URIRef(info.data_license)))
    if info.retrieved:  # a date, or (fetched from the Hub) the retrieval time
        typed = XSD.dateTime if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", info.retrieved) else None
        graph.add((g, DCT.date, Literal(info.retrieved, datatype=typed)))
    activity = URIRef(f"{g}#load")  # an IRI, not a blank node: reloading an unchanged record changes 1 triple
    graph.add((g, PROV.wasGeneratedBy, activity))
    graph.add((activity, RDF.type, PROV.Activity))
    graph.add((activity, PROV.wasAssociatedWith, URIRef(f"{STATIC}loaders/{info.source}")))
    graph.add((activity, PROV.endedAtTime, now_literal()))


def add_organization(graph: Graph, minter: Minter, name: str, homepage: str | None = None) -> URIRef:
    org = URIRef(minter.organization(name))
    graph.add((org, RDF.type, FOAF_AGENT))
    graph.add((org, RDF.type, PROV.Organization))
    graph.add((org, FOAF_NAME, lit(name)))
    graph.add((org, RDFS.label, lit(name)))
    if homepage and is_http_url(homepage):
        graph.add((org, FOAF_HOMEPAGE, URIRef(homepage.strip())))
    return org


def add_license(graph: Graph, artifact: URIRef, statement: str | None, resolved_from: str,
                resolve_as: str | None = None) -> LicenseResolution:
    """State an artifact's license: the original string, how it was resolved, the license IRIs.
    ``resolve_as``: the text to resolve when it differs from the statement kept (a card's licence list)."""
    resolution = resolve_license(statement if resolve_as is None else resolve_as)
    if statement is not None:
        graph.add((artifact, OG.licenseStatement, lit(statement)))
    graph.add((artifact, OG.licenseResolvedFrom, lit(resolved_from)))
    graph.add((artifact, OG.licenseState, LICSTATE[resolution.state]))
    for iri in resolution.iris:
        graph.add((artifact, DCT.license, _iri(iri)))
    return resolution


def add_artifact(graph: Graph, record: URIRef, iri: URIRef, kind: ComponentKind, availability: str) -> URIRef:
    graph.add((record, OG.hasArtifact, iri))
    graph.add((iri, RDF.type, OG.Artifact))
    graph.add((iri, RDF.type, DCAT.Distribution))
    graph.add((iri, OG.artifactKind, kind.iri))
    graph.add((iri, OG.component, lit(kind.name)))
    graph.add((iri, OG.availability, AVAIL[availability]))
    return iri


_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


def is_http_url(text: object) -> bool:
    """Only well-formed http(s) URLs become IRIs; anything else (paths, prose) stays out of the graph."""
    return isinstance(text, str) and bool(_URL.match(text.strip())) and valid_iri(text.strip())


@lru_cache(maxsize=65536)
def valid_iri(text: str) -> bool:
    """An absolute IRI (RFC 3987) the store accepts: pyoxigraph's validator is the reference (it refuses
    what a regex lets through: a bad port, a '%' without two hex digits, control characters)."""
    import pyoxigraph

    try:
        pyoxigraph.NamedNode(text)
    except ValueError:
        return False
    return True


def issued_literal(value: object) -> Literal | None:
    """A release date as xsd:date, xsd:gYearMonth or xsd:gYear, whichever the source gives."""
    text = str(value).strip() if value is not None else ""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return Literal(text, datatype=XSD.date)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return Literal(text, datatype=XSD.gYearMonth)
    if re.fullmatch(r"\d{4}", text):
        return Literal(text, datatype=XSD.gYear)
    return None


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_EXPANDED_NODES = 200_000


MAX_YAML_DEPTH = 64  # records nest a handful of levels; hostile documents nest thousands


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expanded_size(root: yaml.Node, memo: dict[int, int]) -> int:
    """Node count with aliases expanded, memoised so a billion-laughs document is measured, not built.
    Iterative (an explicit stack), so no document can exhaust the Python stack here."""
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            memo[key] = min(1 + sum(memo[id(c)] for c in _children(node)), MAX_EXPANDED_NODES + 1)
            continue
        if key in memo:
            continue
        memo[key] = 1  # guards against recursive aliases
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in memo)
    return memo[id(root)]


def _check_depth(text: str, file: str) -> None:
    """Refuse YAML nested deeper than MAX_YAML_DEPTH before composing it. libyaml's parser is iterative
    but PyYAML's composer recurses once per level in C: ~100 000 '[' (200 kB) overflow the C stack and
    kill the process with SIGSEGV, which no ``except`` can catch."""
    loader = _Loader(text)
    try:
        depth = 0
        while True:
            try:
                event = loader.get_event()
            except yaml.MarkedYAMLError as exc:
                # libyaml >= 0.2.5 as bundled by PyYAML 6.0.3+ refuses ~1000 levels in its scanner, which reads
                # ahead of the events counted here: say it in the product's own words, whichever layer refused
                if "nesting depth" not in str(exc.problem):
                    raise
                mark = exc.problem_mark
                raise RecordError(file, f"YAML nested more than {MAX_YAML_DEPTH} levels deep; refused",
                                  mark.line + 1 if mark else 1, mark.column + 1 if mark else None) from None
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise RecordError(file, f"YAML nested more than {MAX_YAML_DEPTH} levels deep; refused",
                                      event.start_mark.line + 1, event.start_mark.column + 1)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


def parse_yaml(text: str, file: str) -> tuple[object, yaml.Node | None]:
    """Parse YAML safely; return the data and the node tree (for line numbers). Errors name file and line.
    Alias bombs and deeply nested documents are refused before anything is built."""
    try:
        _check_depth(text, file)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            # without an anchor ('&') there is no alias to expand: the measure is for alias bombs only
            if node is not None and "&" in text and _expanded_size(node, {}) > MAX_EXPANDED_NODES:
                raise RecordError(file, "YAML expands to too many nodes (alias bomb?); refused", 1)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise RecordError(file, f"malformed YAML: {exc.problem or exc}", line, column) from None
    except yaml.YAMLError as exc:
        raise RecordError(file, f"malformed YAML: {exc}") from None
    except RecursionError:  # the pure-Python loader (no libyaml) recurses per level too
        raise RecordError(file, "YAML nested too deeply; refused", 1) from None
    return data, node


def node_line(node: yaml.Node | None, path: list[str | int]) -> int | None:
    """1-based line of the value at ``path`` in a composed YAML tree (closest ancestor if absent)."""
    line = node.start_mark.line + 1 if node is not None else None
    current = node
    for key in path:
        if isinstance(current, yaml.MappingNode):
            nxt = next((v for k, v in current.value if getattr(k, "value", None) == key), None)
        elif isinstance(current, yaml.SequenceNode) and isinstance(key, int) and key < len(current.value):
            nxt = current.value[key]
        else:
            nxt = None
        if nxt is None:
            break
        current = nxt
        line = current.start_mark.line + 1
    return line
