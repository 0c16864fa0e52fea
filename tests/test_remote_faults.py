"""A remote store that goes away mid-run (issue #10 item 5): the command stops with a one-line error and
a non-zero exit, and the store, restarted on the same database folder, holds only whole record graphs."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from loaders.vocab import STATIC
from server.store.remote import RemoteStore
from tests.virtuoso import SKIP_REASON, VirtuosoServer, available, clean_env

pytestmark = [pytest.mark.virtuoso, pytest.mark.skipif(not available(), reason=SKIP_REASON),
              pytest.mark.timeout(300)]

OG = "https://w3id.org/openness-graph/ontology#"


def _kill_when(virtuoso: VirtuosoServer, command: subprocess.Popen, count_query: str, at_least: int) -> str:
    """Kill Virtuoso once ``count_query`` counts ``at_least``, while ``command`` runs; the command must then
    fail with one line on stderr and no traceback. Returns that stderr."""
    store = RemoteStore(virtuoso.sparql_url, user=virtuoso.user, password=virtuoso.password, graph_prefixes=(STATIC,))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and command.poll() is None:
        if int(store.select(count_query)[0]["n"].value) >= at_least:
            break
        time.sleep(0.1)
    store.close()
    assert command.poll() is None, "the command finished before the store could be killed"
    virtuoso.kill()
    _, err = command.communicate(timeout=120)
    assert command.returncode != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_store_killed_during_load_gives_one_line_error_and_no_half_record(tmp_path):
    with VirtuosoServer(tmp_path / "virtuoso") as virtuoso:
        load = subprocess.Popen([sys.executable, "-c", "from server.cli import main; main()", "load"],
                                env=clean_env(**virtuoso.env()), cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        # kill once some records are in
        err = _kill_when(virtuoso, load, f"SELECT (COUNT(?m) AS ?n) WHERE {{ ?m a <{OG}ModelRelease> }}", 20)
        lines = err.strip().splitlines()
        assert "SPARQL store" in lines[0] and ("cannot reach" in lines[0] or "connection" in lines[0]), lines[0]
        virtuoso.restart()
        store = RemoteStore(virtuoso.sparql_url, user=virtuoso.user, password=virtuoso.password,
                            graph_prefixes=(STATIC,))
        # every record graph that survived the crash is whole: a model release with its title and source
        rows = store.select(f"""SELECT ?g (COUNT(?m) AS ?n) WHERE {{
            GRAPH ?g {{ ?m a <{OG}ModelRelease> }}
            FILTER NOT EXISTS {{ GRAPH ?g {{ ?m <http://purl.org/dc/terms/title> ?t ; <{OG}source> ?s }} }}
        }} GROUP BY ?g""")
        store.close()
        assert rows == []


def test_store_killed_during_assessment_leaves_the_previous_run_current(tmp_path):
    """Virtuoso killed while a new run's verdicts are being written (in small chunks, so the write spans
    many requests): the command fails in one line; after a restart readers see the previous run whole;
    the next `openness assess` drops the cut-off graph and switches to a complete run."""
    from loaders.vocab import Minter
    from server.assess.run_graphs import current_run
    from server.web.page_queries import stored_verdicts

    with VirtuosoServer(tmp_path / "virtuoso") as virtuoso:
        env = clean_env(**virtuoso.env())
        for command in ("load", "assess"):
            done = subprocess.run([sys.executable, "-c", "from server.cli import main; main()", command], env=env,
                                  cwd=tmp_path, capture_output=True, text=True, timeout=240)
            assert done.returncode == 0, done.stderr
        minter = Minter("https://w3id.org/openness-graph/")
        store = RemoteStore(virtuoso.sparql_url, user=virtuoso.user, password=virtuoso.password,
                            graph_prefixes=(STATIC,))
        before, shown = current_run(store, minter), stored_verdicts(store, minter)
        assert before.digest and len(shown) == 466
        # without its digest the current run no longer matches: the next run writes a new run graph
        store.update(f"DELETE WHERE {{ GRAPH <{before.graph}> {{ ?run <{OG}verdictsDigest> ?d }} }}")
        store.close()
        assess = subprocess.Popen(
            [sys.executable, "-c", "import server.store.remote as r; r.GSP_CHUNK_TRIPLES = 500; "
             "from server.cli import main; main()", "assess"],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pointer = minter.assessments_graph
        # kill once the new run is part-written
        _kill_when(virtuoso, assess, f"""SELECT (COUNT(*) AS ?n) WHERE {{
            GRAPH <{pointer}> {{ <{pointer}> <{OG}graphToDrop> ?g }} GRAPH ?g {{ ?s ?p ?o }} }}""", 5_000)
        virtuoso.restart()
        store = RemoteStore(virtuoso.sparql_url, user=virtuoso.user, password=virtuoso.password,
                            graph_prefixes=(STATIC,))
        assert current_run(store, minter).graph == before.graph
        assert stored_verdicts(store, minter) == shown  # what pages read: the previous run, whole
        store.close()
        again = subprocess.run([sys.executable, "-c", "from server.cli import main; main()", "assess"], env=env,
                               cwd=tmp_path, capture_output=True, text=True, timeout=240)
        assert again.returncode == 0, again.stderr
        store = RemoteStore(virtuoso.sparql_url, user=virtuoso.user, password=virtuoso.password,
                            graph_prefixes=(STATIC,))
        after = current_run(store, minter)
        assert after.digest and after.graph != before.graph
        runs = store.select(f"""SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
            FILTER(STRSTARTS(STR(?g), "{pointer}/")) }}""")
        assert [r["g"].value for r in runs] == [after.graph]  # the cut-off and the previous run are gone
        assert stored_verdicts(store, minter) == shown  # same records, same verdicts
        store.close()
