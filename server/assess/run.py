"""An assessment run: every record and every release against every definition, stored as the current run
(``server.assess.run_graphs``) so readers switch from the previous complete run to this one at once."""

from __future__ import annotations

import logging

from loaders.vocab import Minter
from server.assess.consolidate import assess_releases
from server.assess.cube import read_placements, run_counts
from server.assess.engine import assess_record, read_licenses, read_records
from server.assess.run_graphs import store_verdicts
from server.store import GraphStore

log = logging.getLogger("openness.assess")


def assess_all(store: GraphStore, settings) -> list[dict]:
    """(Re)assess every record, then every release on its records' merged evidence; store both in one run.
    Returns the records' verdict objects (``openness assess --format json``)."""
    licenses = read_licenses(store)
    records = read_records(store)
    own = {r.iri: assess_record(r, licenses) for r in sorted(records.values(), key=lambda r: r.record_id)}
    results = list(own.values())
    releases = assess_releases(store, records, licenses, own)
    cube = run_counts(records, own, releases, *read_placements(store))
    store_verdicts(store, Minter(settings.base_iri), results, releases, cube)
    log.info("assessed %d records and %d releases", len(results), len(releases))
    return results
