"""An assessment run: every record and every release against every definition, stored as the current run
(``server.assess.run_graphs``) so readers switch from the previous complete run to this one at once; or,
when only some records changed, the current run brought up to date (``server.assess.incremental``)."""

from __future__ import annotations

import logging

from loaders.vocab import Minter
from server.assess.consolidate import assess_release, claims_about, read_claims, read_releases
from server.assess.engine import assess_record, read_licenses, read_records
from server.assess.incremental import Outcome, assess_changed, input_digests, read_record_digests, trusted_digests
from server.assess.run_graphs import store_verdicts
from server.store import GraphStore

log = logging.getLogger("openness.assess")


def assess_all(store: GraphStore, settings) -> list[dict]:
    """(Re)assess every record, then every release on its records' merged evidence; store both in one run,
    with the digests of their inputs. Returns the records' verdict objects (``openness assess --format
    json``)."""
    licenses = read_licenses(store)
    records = read_records(store)
    own = {r.iri: assess_record(r, licenses) for r in sorted(records.values(), key=lambda r: r.record_id)}
    results = list(own.values())
    releases = read_releases(store)
    minter = Minter(settings.base_iri)
    inputs = input_digests(store, releases, read_record_digests(store, trusted_digests(store, minter)))
    claims = read_claims(store)
    consolidated = (assess_release(rel, records, licenses, claims_about(rel, claims), own)
                    for rel in sorted(releases.values(), key=lambda rel: rel.release_id))
    store_verdicts(store, minter, results, consolidated, inputs)  # releases one by one
    store.clear_untracked_writes()
    log.info("assessed %d records and %d releases", len(results), len(releases))
    return results


def assess_changes(store: GraphStore, settings) -> Outcome | None:
    """Re-evaluate only the records and releases whose inputs changed since the current run (None when a
    full run is needed: see ``server.assess.incremental``)."""
    return assess_changed(store, Minter(settings.base_iri))
