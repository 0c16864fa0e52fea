"""An assessment run: every record and every release against every definition, with the run's statistics
cube (``server.assess.cube``), stored as the current run
(``server.assess.run_graphs``) so readers switch from the previous complete run to this one at once; or,
when only some records changed, the current run brought up to date (``server.assess.incremental``)."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from loaders.vocab import Minter
from server.assess.consolidate import assess_release, claims_about, read_claims, read_releases
from server.assess.cube import UNPLACED, Tally, read_placements, record_cells, release_cells
from server.assess.engine import assess_record, read_licenses, read_records
from server.assess.incremental import Outcome, assess_changed, input_digests, read_record_digests, trusted_digests
from server.assess.run_graphs import current_run, store_verdicts
from server.store import GraphStore, OxigraphStore

log = logging.getLogger("openness.assess")


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Within: no automatic cyclic garbage collection. A run holds every record's facts and verdicts
    (millions of objects at 100k records) while it allocates millions more, and the collector walked
    them all ~70 times (34 s of a 100k run) to find next to nothing: with it off, a 10k run ends at the
    same memory. On leaving, the collector is as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def assess_all(store: GraphStore, settings) -> list[dict]:
    """(Re)assess every record, then every release on its records' merged evidence; store both in one run,
    with the digests of their inputs. Returns the records' verdict objects (``openness assess --format
    json``)."""
    with _without_cyclic_gc():
        return _assess_all(store, settings)


def _assess_all(store: GraphStore, settings) -> list[dict]:
    journal = store.journal.read() if isinstance(store, OxigraphStore) else None  # what this run covers
    licenses = read_licenses(store)
    records = read_records(store)
    own = {r.iri: assess_record(r, licenses) for r in sorted(records.values(), key=lambda r: r.record_id)}
    results = list(own.values())
    minter = Minter(settings.base_iri)
    releases = read_releases(store, minter.links_graph)
    inputs = input_digests(store, releases, read_record_digests(store, trusted_digests(store, minter)))
    claims = read_claims(store)
    record_at, release_at = read_placements(store)
    tally = Tally()
    for iri, result in own.items():
        tally.add(iri, record_cells(records[iri], result, record_at.get(iri, UNPLACED)))

    def consolidated() -> Iterator[dict]:
        """The releases one by one, each counted as it goes to the writer (which writes the cube last)."""
        for rel in sorted(releases.values(), key=lambda rel: rel.release_id):
            result = assess_release(rel, records, licenses, claims_about(rel, claims), own)
            tally.add(rel.iri, release_cells(result, release_at.get(rel.release_id, UNPLACED)))
            yield result

    store_verdicts(store, minter, results, consolidated(), inputs, tally)
    store.clear_untracked_writes()
    if journal is not None and (current := current_run(store, minter)) is not None:
        store.journal.restart(current.graph, journal)
    log.info("assessed %d records and %d releases", len(results), len(releases))
    return results


def assess_changes(store: GraphStore, settings) -> Outcome | None:
    """Re-evaluate only the records and releases whose inputs changed since the current run (None when a
    full run is needed: see ``server.assess.incremental``)."""
    return assess_changed(store, Minter(settings.base_iri))
