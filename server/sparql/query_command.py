"""``openness query``: run SPARQL on the store and print it as a table, SPARQL JSON, CSV or TSV."""

from __future__ import annotations

import pyoxigraph as ox
from rich.console import Console
from rich.table import Table

from server.store import GraphStore, OxigraphStore

RESULT_FORMATS = {"json": ox.QueryResultsFormat.JSON, "csv": ox.QueryResultsFormat.CSV,
                  "tsv": ox.QueryResultsFormat.TSV}


def run_query(store: GraphStore, sparql: str, fmt: str) -> str:
    """The query's results serialised by the store's own writers (datatypes and language tags kept)."""
    if isinstance(store, OxigraphStore):
        results = store.oxigraph.query(sparql, use_default_graph_as_union=True)
    else:
        results = store.raw_query(sparql)  # type: ignore[attr-defined]
    if isinstance(results, ox.QueryTriples):
        return results.serialize(format=ox.RdfFormat.N_TRIPLES).decode()
    if fmt in RESULT_FORMATS:
        return results.serialize(format=RESULT_FORMATS[fmt]).decode()
    if isinstance(results, ox.QueryBoolean):
        return f"{bool(results)}\n"
    names = [v.value for v in results.variables]
    table = Table(*names)
    count = 0
    for solution in results:
        table.add_row(*[_show(solution[n]) for n in names])
        count += 1
    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(table)
    return console.export_text() + f"{count} rows\n"


def _show(term) -> str:
    if term is None:
        return ""
    return term.value if not isinstance(term, ox.BlankNode) else f"_:{term.value}"
