"""Reading records back from the store: the list behind ``openness models`` and ``/models``."""

from __future__ import annotations

from server.store import GraphStore

RECORDS_QUERY = """
PREFIX og: <https://w3id.org/openness-graph/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?id ?name ?source ?same WHERE {
  ?m a og:ModelRelease ; og:recordId ?id ; og:source ?source .
  OPTIONAL { ?m dct:title ?name }
  OPTIONAL { ?m owl:sameAs ?o . ?o og:recordId ?same }
}"""


def list_records(store: GraphStore) -> list[dict]:
    """``[{"id", "name", "source", "same_as"}]`` sorted by id; same_as lists records of the same model
    from other sources (owl:sameAs links)."""
    records: dict[str, dict] = {}
    for row in store.select(RECORDS_QUERY):
        rid = row["id"].value
        entry = records.setdefault(rid, {"id": rid, "name": row["name"].value if "name" in row else rid,
                                         "source": row["source"].value, "same_as": []})
        if "same" in row and row["same"].value != rid and row["same"].value not in entry["same_as"]:
            entry["same_as"].append(row["same"].value)
    for entry in records.values():
        entry["same_as"].sort()
    return [records[k] for k in sorted(records)]
