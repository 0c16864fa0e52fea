"""A remote store that goes away mid-run (issue #10 item 5): the command stops with a one-line error and
a non-zero exit, and the store, restarted on the same database folder, holds only whole record graphs."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from server.remote_store import RemoteStore
from tests.virtuoso import SKIP_REASON, VirtuosoServer, available, clean_env

pytestmark = [pytest.mark.virtuoso, pytest.mark.skipif(not available(), reason=SKIP_REASON),
              pytest.mark.timeout(300)]

OG = "https://w3id.org/openness-graph/ontology#"


def test_store_killed_during_load_gives_one_line_error_and_no_half_record(tmp_path):
    with VirtuosoServer(tmp_path / "virtuoso") as virtuoso:
        load = subprocess.Popen([sys.executable, "-c", "from server.cli import main; main()", "load"],
                                env=clean_env(**virtuoso.env()), cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        store = RemoteStore(virtuoso.sparql_url, user=virtuoso.user, password=virtuoso.password)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and load.poll() is None:  # kill once some records are in
            rows = store.select(f"SELECT (COUNT(?m) AS ?n) WHERE {{ ?m a <{OG}ModelRelease> }}")
            if int(rows[0]["n"].value) >= 20:
                break
            time.sleep(0.2)
        store.close()
        assert load.poll() is None, "the load finished before the store could be killed"
        virtuoso.kill()
        out, err = load.communicate(timeout=120)
        assert load.returncode != 0
        assert "Traceback" not in err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert "SPARQL store" in lines[0] and ("cannot reach" in lines[0] or "connection" in lines[0]), lines[0]
        virtuoso.restart()
        store = RemoteStore(virtuoso.sparql_url, user=virtuoso.user, password=virtuoso.password)
        # every record graph that survived the crash is whole: a model release with its title and source
        rows = store.select(f"""SELECT ?g (COUNT(?m) AS ?n) WHERE {{
            GRAPH ?g {{ ?m a <{OG}ModelRelease> }}
            FILTER NOT EXISTS {{ GRAPH ?g {{ ?m <http://purl.org/dc/terms/title> ?t ; <{OG}source> ?s }} }}
        }} GROUP BY ?g""")
        store.close()
        assert rows == []
