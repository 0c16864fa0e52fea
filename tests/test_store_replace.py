"""OxigraphStore.replace_quads: every path (fresh graph, small diff, large diff, blank nodes) leaves the
graph holding exactly the new quads and nothing else touched."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from server.store import OxigraphStore, nquads
from server.store.nquads import line
from server.store.oxigraph import LARGE_DIFF

G, OTHER = "https://example.org/g", "https://example.org/other"


def quads(graph: str, start: int, count: int, blank: bool = False) -> list[ox.Quad]:
    g = ox.NamedNode(graph)
    subject = ox.BlankNode("b") if blank else ox.NamedNode("https://example.org/s")
    return [ox.Quad(subject, ox.NamedNode(f"https://example.org/p{i % 7}"), ox.Literal(f"v{i}"), g)
            for i in range(start, start + count)]


def graph_set(store: OxigraphStore, graph: str) -> set[ox.Quad]:
    return set(store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


@pytest.mark.parametrize("new_count", [10, LARGE_DIFF + 500], ids=["small-diff", "large-diff"])
def test_replacing_a_present_graph_leaves_exactly_the_new_quads(tmp_path, new_count):
    store = OxigraphStore(tmp_path / "store")
    store.replace_quads({G: quads(G, 0, 300), OTHER: quads(OTHER, 0, 5)})
    new = quads(G, 200, new_count)  # 100 kept, the rest new; 200 removed
    store.replace_quads({G: new})
    assert graph_set(store, G) == set(new)
    assert graph_set(store, OTHER) == set(quads(OTHER, 0, 5))
    store.close()


def test_blank_node_graphs_are_replaced_whole(tmp_path):
    store = OxigraphStore(tmp_path / "store")
    store.replace_quads({G: quads(G, 0, 50, blank=True)})
    new = quads(G, 25, 50, blank=True)
    store.replace_quads({G: new})
    assert len(graph_set(store, G)) == 50
    store.close()


def test_large_graphs_are_dropped_whole_in_batches(tmp_path, monkeypatch):
    """drop_large_graphs removes a graph over several batches (bounded memory) and nothing else."""
    from server.store import oxigraph as store_module

    monkeypatch.setattr(store_module, "DROP_BATCH", 7)
    store = OxigraphStore(tmp_path / "store")
    store.replace_quads({G: quads(G, 0, 50), OTHER: quads(OTHER, 0, 5)})
    store.drop_large_graphs([G])
    assert graph_set(store, G) == set() and G not in store.named_graphs()
    assert graph_set(store, OTHER) == set(quads(OTHER, 0, 5))
    store.close()


def test_a_large_graph_streamed_in_chunks_arrives_whole(tmp_path, monkeypatch):
    """add_large_graph hands the bulk loader LINES_CHUNK lines at a time (its memory is bounded by a chunk),
    written by a thread of its own: every chunk, the last partial one included, lands, the written count is
    exact, and literals that need escaping arrive as they were."""
    monkeypatch.setattr("server.store.oxigraph.LINES_CHUNK", 7)
    store = OxigraphStore(tmp_path / "store")
    store.replace_quads({OTHER: quads(OTHER, 0, 5)})
    written = store.quads_written
    new = quads(G, 0, 50) + [ox.Quad(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/m"),
                                     ox.Literal(text), ox.NamedNode(G)) for text in ('say "so"\n', "a\\b\r")]
    store.add_large_graph(G, (line(nquads.iri(q.subject.value), nquads.iri(q.predicate.value),
                                   nquads.literal(q.object.value), nquads.iri(G)) for q in new))
    assert graph_set(store, G) == set(new)  # 7 full chunks and one of 3
    assert graph_set(store, OTHER) == set(quads(OTHER, 0, 5))
    assert store.quads_written - written == 52
    store.close()


@pytest.mark.parametrize("bad_chunk", [0, 3], ids=["first-chunk", "later-chunk"])
def test_a_large_graph_that_fails_to_parse_raises_and_stops_reading(tmp_path, monkeypatch, bad_chunk):
    """A line the loader rejects (no object) reaches the caller as the parser's error, in any chunk, and the builder
    stops soon after instead of waiting on a writer that has stopped (at most the waiting chunks more)."""
    monkeypatch.setattr("server.store.oxigraph.LINES_CHUNK", 5)
    store = OxigraphStore(tmp_path / "store")
    taken = []

    def lines():
        for i in range(200):
            taken.append(i)
            yield "<https://example.org/s> <https://example.org/p> .\n" if i == bad_chunk * 5 else \
                line(nquads.iri(f"https://example.org/s{i}"), nquads.iri("https://example.org/p"),
                     nquads.literal(str(i)), nquads.iri(G))

    with pytest.raises(SyntaxError):
        store.add_large_graph(G, lines())
    assert len(taken) < 200
    store.close()
