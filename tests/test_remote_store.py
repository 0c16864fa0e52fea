"""The remote SPARQL 1.1 store against a real Virtuoso 7 (a private instance on 127.0.0.1, see
tests/virtuoso.py): the product, with only OPENNESS_* environment variables changed, gives the same
answers as with the embedded store, and fails with one-line messages when the store is unreachable or
refuses the credentials."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare

from loaders.vocab import STATIC
from server.settings import Settings
from server.store import StoreError
from server.store.remote import RemoteStore
from tests.virtuoso import SKIP_REASON, VirtuosoServer, available, clean_env, free_port

pytestmark = [pytest.mark.virtuoso, pytest.mark.skipif(not available(), reason=SKIP_REASON),
              pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parent.parent
OPENNESS = [sys.executable, "-c", "from server.cli import main; main()"]
EX = "https://w3id.org/openness-graph/test/"


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    with VirtuosoServer(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@pytest.fixture
def remote(virtuoso):
    settings = Settings(_env_file=None, **{k.removeprefix("OPENNESS_").lower(): v
                                           for k, v in virtuoso.env().items()})
    store = RemoteStore.from_settings(settings)
    store.graph_prefixes = (EX,)  # count, list and dump only this module's graphs
    yield store
    store.drop_graphs(g for g in store.named_graphs() if g.startswith(EX))
    store.close()


def run(args: list[str], env: dict[str, str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(OPENNESS + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=240,
                          **kwargs)


def start(args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    script = f"{OPENNESS[0]} -c 'from server.cli import main; main()' {args}"
    return subprocess.Popen(["bash", "-c", script], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def loaded(virtuoso, tmp_path_factory):
    """`openness load && openness assess --format json` on the embedded store and on Virtuoso, run at
    the same time (half the wall time): (embedded, remote) CompletedProcess-like results."""
    work = tmp_path_factory.mktemp("pipeline")
    pipeline = "load >/dev/null && " + OPENNESS[0] + " -c 'from server.cli import main; main()' assess --format json"
    embedded = start(pipeline, clean_env(OPENNESS_STORE=str(work / "store")), work)
    remote = start(pipeline, clean_env(**virtuoso.env()), work)
    outcomes = []
    for process in (embedded, remote):
        out, err = process.communicate(timeout=240)
        outcomes.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return tuple(outcomes)


def test_load_and_assess_give_the_same_json_as_the_embedded_store(loaded):
    """Byte-identical `openness assess --format json` output on both stores."""
    embedded, remote = loaded
    assert embedded.returncode == 0, embedded.stderr
    assert remote.returncode == 0, remote.stderr
    assert "Traceback" not in remote.stderr
    assert len(json.loads(remote.stdout)) == 466
    assert remote.stdout == embedded.stdout


def test_query_validate_and_models_work_against_virtuoso(virtuoso, loaded, tmp_path):
    env = clean_env(**virtuoso.env())
    count = run(["query", "PREFIX og: <https://w3id.org/openness-graph/ontology#> "
                 "SELECT (COUNT(?m) AS ?n) WHERE { ?m a og:ModelRelease }", "--format", "json"], env, tmp_path)
    assert count.returncode == 0, count.stderr
    n = json.loads(count.stdout)["results"]["bindings"][0]["n"]
    assert n == {"type": "literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer", "value": "466"}
    ask = run(["query", "ASK { ?s a <https://w3id.org/openness-graph/ontology#License> }"], env, tmp_path)
    assert ask.returncode == 0 and ask.stdout.strip() == "True", ask.stderr
    table = run(["query", "PREFIX og: <https://w3id.org/openness-graph/ontology#> "
                 "SELECT ?id WHERE { ?m og:recordId ?id } ORDER BY ?id LIMIT 2"], env, tmp_path)
    assert table.returncode == 0 and "2 rows" in table.stdout, table.stderr
    graph = run(["query", "CONSTRUCT { ?m a ?t } WHERE { ?m a ?t ; "
                 "<https://w3id.org/openness-graph/ontology#recordId> \"mot/Llama-2-7B\" }"], env, tmp_path)
    assert graph.returncode == 0, graph.stderr
    assert len(rdflib.Graph().parse(data=graph.stdout, format="nt")) >= 1
    bad = run(["query", "SELEKT nothing"], env, tmp_path)
    assert bad.returncode == 1 and bad.stderr.startswith("openness: bad SPARQL query"), bad.stderr
    record = next((ROOT / "data" / "mot" / "models").glob("*.yml"))
    valid = run(["validate", str(record), "--format", "json"], env, tmp_path)
    assert valid.returncode == 0, valid.stderr
    assert json.loads(valid.stdout)["well_formed"] is True
    listed = run(["models", "--format", "json"], env, tmp_path)
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 466, listed.stderr


def _one_line_failure(done: subprocess.CompletedProcess, expected: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert expected in lines[0], lines[0]


@pytest.mark.parametrize("command", [["load"], ["assess", "--format", "json"], ["query", "ASK {}"]])
def test_bad_credentials_fail_in_one_line(virtuoso, tmp_path, command):
    env = clean_env(**virtuoso.env(OPENNESS_SPARQL_PASSWORD="wrong"))
    _one_line_failure(run(command, env, tmp_path),
                      "the SPARQL store refused the credentials (401): check OPENNESS_SPARQL_USER/PASSWORD")


@pytest.mark.parametrize("command", [["load"], ["query", "ASK {}"]])
def test_unreachable_store_fails_in_one_line(tmp_path, command):
    url = f"http://127.0.0.1:{free_port()}/sparql"  # nothing listens there
    env = clean_env(OPENNESS_SPARQL_URL=url, OPENNESS_GSP_URL=url.replace("sparql", "gsp"))
    done = run(command, env, tmp_path)
    _one_line_failure(done, f"cannot reach the SPARQL store at {url.removesuffix('sparql')}")
    assert "check OPENNESS_SPARQL_URL" in done.stderr or "check OPENNESS_GSP_URL" in done.stderr


# --- the store's own contract on Virtuoso ----------------------------------------------------------------

TURTLE = f"""
@prefix ex: <{EX}> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:s ex:yes true ; ex:no false ; ex:n 42 ; ex:d 0.5 ; ex:when "2024-01-02T03:04:05Z"^^xsd:dateTime ;
     ex:text "ünïcödé 😀 \\"quoted\\"\\nnew line" ; ex:label "Hallo"@de ; ex:odd "abc"^^ex:type ;
     ex:node [ ex:inner "in a blank node" ; ex:deeper [ ex:leaf 1 ] ] .
"""


def _graph(text: str = TURTLE) -> rdflib.Graph:
    return rdflib.Graph().parse(data=text, format="turtle")


def _embedded(graphs: dict[str, rdflib.Graph]):
    from server.store import OxigraphStore

    store = OxigraphStore(None)
    store.replace_graphs(graphs)
    return store


@pytest.mark.parametrize("use_gsp", [True, False])
def test_rows_are_the_same_terms_as_oxigraphs(remote, use_gsp):
    if not use_gsp:
        remote.gsp_url = None  # the SPARQL Update path: INSERT {...} WHERE {} in batches
    graphs = {EX + "graph/a": _graph()}
    remote.replace_graphs(graphs)
    query = f"SELECT ?p ?o WHERE {{ <{EX}s> ?p ?o FILTER(!isBlank(?o)) }} ORDER BY ?p"
    embedded = _embedded(graphs)
    assert remote.select(query) == embedded.select(query)
    deep = f"SELECT ?leaf WHERE {{ <{EX}s> <{EX}node> ?b . ?b <{EX}deeper> ?c . ?c <{EX}leaf> ?leaf }}"
    assert [r["leaf"].value for r in remote.select(deep)] == ["1"]
    blank = remote.select(f"SELECT ?b WHERE {{ <{EX}s> <{EX}node> ?b }}")
    assert isinstance(blank[0]["b"], ox.BlankNode)
    assert remote.ask(f"ASK {{ <{EX}s> <{EX}yes> true }}") is True
    assert remote.ask(f"ASK {{ <{EX}s> <{EX}yes> false }}") is False
    assert rdflib.compare.isomorphic(remote.graph_triples(EX + "graph/a"), embedded.graph_triples(EX + "graph/a"))


def test_replace_is_whole_and_large_graphs_are_batched(remote):
    remote.gsp_url = None
    big = rdflib.Graph()
    for i in range(4000):  # beyond what one Virtuoso update can compile
        node = rdflib.BNode()
        big.add((rdflib.URIRef(f"{EX}r{i}"), rdflib.URIRef(EX + "has"), node))
        big.add((node, rdflib.URIRef(EX + "value"), rdflib.Literal(i)))
    remote.replace_graphs({EX + "graph/big": big, EX + "graph/small": _graph()})
    linked = remote.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{EX}graph/big> {{ ?r <{EX}has> ?b . "
                           f"?b <{EX}value> ?v }} }}")
    assert linked[0]["n"].value == "4000"
    remote.replace_graphs({EX + "graph/big": _graph(f"<{EX}only> <{EX}p> 1 .")})
    assert len(remote.graph_triples(EX + "graph/big")) == 1
    remote.replace_graphs({EX + "graph/big": rdflib.Graph()})
    assert EX + "graph/big" not in remote.named_graphs()


def _quads(graph: rdflib.Graph, iri: str) -> list[ox.Quad]:
    from server.store import graph_quads

    return list(graph_quads(graph, iri))


def _writes(remote, monkeypatch) -> list[str]:
    """Record the store's write requests: PUT / POST (Graph Store) or UPDATE."""
    seen: list[str] = []
    send = remote._send

    def spy(method, url, *, read, **kwargs):
        if not read:
            seen.append(method if "params" in kwargs else "UPDATE")  # Graph Store requests name the graph
        return send(method, url, read=read, **kwargs)

    monkeypatch.setattr(remote, "_send", spy)
    return seen


def test_a_large_graph_goes_in_chunks_in_order(remote, monkeypatch):
    """Beyond GSP_CHUNK_TRIPLES a graph is one PUT and then POSTs (bounded requests); blank nodes that
    link triples stay in one chunk, and a later smaller graph replaces it whole."""
    import server.store.remote as remote_store

    monkeypatch.setattr(remote_store, "GSP_CHUNK_TRIPLES", 100)
    big = rdflib.Graph()
    for i in range(120):
        node = rdflib.BNode()
        big.add((rdflib.URIRef(f"{EX}r{i}"), rdflib.URIRef(EX + "has"), node))
        big.add((node, rdflib.URIRef(EX + "value"), rdflib.Literal(i)))
    for i in range(100):
        big.add((rdflib.URIRef(f"{EX}p{i}"), rdflib.URIRef(EX + "n"), rdflib.Literal(i)))
    iri = EX + "graph/chunked"
    writes = _writes(remote, monkeypatch)
    remote.replace_quads({iri: _quads(big, iri)})
    assert writes[0] == "PUT" and set(writes[1:]) == {"POST"} and len(writes) >= 4
    assert rdflib.compare.isomorphic(remote.graph_triples(iri), big)
    remote.replace_quads({iri: _quads(_graph(f"<{EX}only> <{EX}p> 1 ."), iri)})
    assert len(remote.graph_triples(iri)) == 1


def test_partial_anytime_answers_are_refused():
    """Virtuoso's "anytime" answer (200, partial rows, X-SQL-State: S1TAT) must not pass as facts."""
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"X-SQL-State": "S1TAT", "Content-Type": "application/sparql-results+json"},
                              json={"head": {"vars": ["s"]}, "results": {"bindings": []}})

    store = RemoteStore("http://store.invalid/sparql", graph_prefixes=(STATIC,))
    store._client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(StoreError, match="partial results"):
        store.select("SELECT ?s WHERE { ?s ?p ?o }")
    store.close()


def test_counts_graphs_and_dump_cover_only_the_products_graphs(remote):
    before = remote.quad_count()
    remote.replace_graphs({EX + "graph/a": _graph(), EX + "graph/b": _graph(f"<{EX}x> <{EX}p> <{EX}y> .")})
    assert remote.quad_count() == before + len(_graph()) + 1
    graphs = remote.named_graphs()
    assert {EX + "graph/a", EX + "graph/b"} <= set(graphs)
    assert not any("openlinksw" in g or g.startswith("http://www.w3.org/") for g in graphs)
    dataset = rdflib.Dataset()
    dataset.parse(data=remote.dump(ox.RdfFormat.N_QUADS), format="nquads")
    assert len(dataset.graph(rdflib.URIRef(EX + "graph/b"))) == 1
    assert rdflib.compare.isomorphic(dataset.graph(rdflib.URIRef(EX + "graph/a")), _graph())
    remote.drop_graphs([EX + "graph/a"])
    assert EX + "graph/a" not in remote.named_graphs()


def test_store_errors_are_one_line(virtuoso):
    wrong = RemoteStore(virtuoso.sparql_url, user=virtuoso.user, password="nope", graph_prefixes=(STATIC,))
    with pytest.raises(StoreError, match=r"refused the credentials \(401\)"):
        wrong.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    anonymous = RemoteStore(virtuoso.sparql_url, graph_prefixes=(STATIC,))
    with pytest.raises(StoreError, match=r"requires credentials \(401\)"):
        anonymous.ask("ASK {}")
    readonly = RemoteStore(f"{virtuoso.base}/sparql",
                           graph_prefixes=(STATIC,))  # Virtuoso's anonymous endpoint: reads only
    assert readonly.ask("ASK {}") in (True, False)
    with pytest.raises(StoreError) as denied:
        readonly.update(f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}a> <{EX}b> <{EX}c> }} }}")
    assert "\n" not in str(denied.value)
    missing = RemoteStore(f"{virtuoso.base}/no-such-endpoint", graph_prefixes=(STATIC,))
    with pytest.raises(StoreError, match="404"):
        missing.ask("ASK {}")
    for store in (wrong, anonymous, readonly, missing):
        store.close()
