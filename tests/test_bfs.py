"""The generic BFS checker on small hand-made transition systems whose answers are known."""

from __future__ import annotations

import json
from itertools import combinations_with_replacement

import networkx as nx
import pytest

from refmodel.checkers.bfs import Limits, check
from refmodel.checkers.report.graph_files import write_graph
from refmodel.invariants import Property
from refmodel.model.core import UndeclaredRead
from toy import GraphSystem, TokenSystem


def prop(fn, kind="state", reads=None, name="toy.p") -> Property:
    return Property(name=name, protocol="toy", fn=fn, kind=kind, reads=reads, default=True, doc=fn.__doc__ or "p")


def chain(n: int) -> GraphSystem:
    return GraphSystem({k: [("Inc", k + 1)] for k in range(n)}, [0])


def test_counts_follow_tlc_constraint_semantics():
    """A state outside the constraint counts as generated, but is not stored, checked or expanded."""
    sys = GraphSystem({k: [("Inc", k + 1), ("Stay", k)] for k in range(10)}, [0], allowed=set(range(4)))
    r = check(sys.engine(), [prop(lambda cfg, s: s != 4, name="toy.never4")])
    assert r.verdict == "pass"  # 4 violates the constraint, so the invariant is never checked on it
    assert r.distinct_states == 4
    assert r.generated_states == 1 + 4 * 2  # init + (Inc, Stay) from each of 0..3, the step to 4 included
    assert (r.depth, r.tlc_depth) == (3, 4)
    assert r.levels == [1, 1, 1, 1]
    assert r.action_fired == {"Inc": 4, "Stay": 4, "none": 0}
    assert r.action_new == {"Inc": 3, "Stay": 0, "none": 0}


def test_shortest_counterexample_is_found_and_labelled():
    edges = {"a": [("Long", "b"), ("Short", "x")], "b": [("Go", "c")], "c": [("Go", "bad")],
             "x": [("Hop", "bad")], "bad": []}
    r = check(GraphSystem(edges, ["a"]).engine(), [prop(lambda cfg, s: s != "bad", name="toy.not_bad")])
    assert r.verdict == "violation"
    v = r.violation
    assert v.invariant == "toy.not_bad" and v.length == 2
    assert [None if st.action is None else st.action.action for st in v.trace] == [None, "Short", "Hop"]
    assert [st.raw for st in v.trace] == ["a", "x", "bad"]


def test_violation_in_initial_state_has_length_zero():
    r = check(chain(3).engine(), [prop(lambda cfg, s: s != 0)])
    assert r.verdict == "violation" and r.violation.length == 0 and r.distinct_states == 1


def test_transition_property_checked_on_edges_to_seen_states():
    """A bad step back to an already-seen state is still caught, and the trace ends with that step."""
    edges = {0: [("Up", 1)], 1: [("Up", 2)], 2: [("Reset", 0)]}
    no_reset = prop(lambda cfg, s, t: t >= s, kind="transition", name="toy.monotone")
    r = check(GraphSystem(edges, [0]).engine(), [no_reset])
    assert r.verdict == "violation" and r.violation.kind == "transition"
    assert [st.raw for st in r.violation.trace] == [0, 1, 2, 0]
    assert str(r.violation.trace[-1].action) == "Reset"


@pytest.mark.parametrize("limits,reason", [(Limits(max_states=5), "state limit"),
                                           (Limits(max_depth=3), "depth limit"),
                                           (Limits(time_limit=0), "time limit")])
def test_limits_end_incomplete(limits, reason):
    big = GraphSystem({k: [("Inc", k + 1)] for k in range(100_000)}, [0])
    r = check(big.engine(), [prop(lambda cfg, s: True)], limits=limits)
    assert r.verdict == "incomplete" and reason in r.incomplete_reason
    if limits.max_states:
        assert r.distinct_states == 5
    if limits.max_depth:
        assert r.depth == 3 and r.distinct_states == 4


def test_depth_limit_that_covers_everything_passes():
    r = check(chain(3).engine(), [], limits=Limits(max_depth=3))
    assert r.verdict == "pass" and r.distinct_states == 4


@pytest.mark.parametrize("n,k", [(2, 3), (3, 2), (4, 2)])
def test_symmetry_counts_one_state_per_orbit(n, k):
    full = check(TokenSystem(n, k + 1).engine(), [])
    reduced = check(TokenSystem(n, k + 1).engine(), [], symmetry=True)
    assert full.distinct_states == (k + 1) ** n
    assert reduced.distinct_states == len(list(combinations_with_replacement(range(k + 1), n)))
    assert reduced.depth == full.depth == n * k


def test_undeclared_read_fails_loudly():
    """A memoised predicate that reads a field outside its reads= declaration raises instead of answering."""
    sneaky = prop(lambda cfg, s: len(s.values) >= 0, reads=frozenset(), name="toy.sneaky")
    with pytest.raises(UndeclaredRead):
        check(TokenSystem(2, 2).engine(), [sneaky])
    honest = prop(lambda cfg, s: max(s.values) <= 1, reads=frozenset({"values"}), name="toy.honest")
    assert check(TokenSystem(2, 2).engine(), [honest]).verdict == "pass"


def test_graph_export_roundtrip(tmp_path):
    r = check(TokenSystem(2, 3).engine(), [], graph=True)
    g = r.graph
    assert isinstance(g, nx.DiGraph)
    assert g.number_of_nodes() == r.distinct_states == 9
    assert g.number_of_edges() == 12  # each token can be raised from 0 and from 1: 2 * 2 * 3 edges
    assert all(d["action"].startswith("Move") for _, _, d in g.edges(data=True))
    assert [n for n, d in g.nodes(data=True) if d["initial"]] == [0]
    for ext in ("graphml", "dot", "json"):
        write_graph(g, tmp_path / f"g.{ext}")
    back = nx.read_graphml(tmp_path / "g.graphml")
    assert back.number_of_nodes() == 9 and back.number_of_edges() == 12
    data = json.loads((tmp_path / "g.json").read_text())
    assert len(data["nodes"]) == 9
    assert (tmp_path / "g.dot").read_text().count("->") == 12
    with pytest.raises(ValueError):
        write_graph(g, tmp_path / "g.png")


def test_runs_are_deterministic():
    from refmodel.checkers.report import to_json
    from refmodel.model.raft import build
    from refmodel.model.raft.config import RaftConfig
    from refmodel import invariants

    def run():
        cfg = RaftConfig(servers=2, max_term=2, max_log=0)
        out = to_json(check(build(cfg, "vote_twice").engine(), invariants.defaults("raft"), symmetry=True))
        for k in ("elapsed_s", "states_per_s", "generated_per_s"):
            out.pop(k)
        return out

    assert run() == run()
