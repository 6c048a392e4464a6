"""The Raft port reproduces TLC exactly on raft.tla: distinct and generated state counts and depth for every
shared configuration, and the very states (and edges) TLC dumped."""

from __future__ import annotations

import pytest
from conftest import REFERENCE, need, reachable

from refmodel import invariants
from refmodel.checkers.bfs import check
from refmodel.model.raft import build
from refmodel.model.raft.config import RaftConfig


def config_of(c: dict) -> RaftConfig:
    return RaftConfig(servers=c["servers"], values=len(c.get("value_set", ["v1"])), max_term=c["max_term"],
                      max_log=c["max_log"], max_msg_count=c["max_msg_count"], max_msgs=c["max_msgs"])


def test_every_shared_config_matches_tlc(tlc_counts):
    """distinct, generated and depth equal TLC's for every config (with and without symmetry as listed), and
    every default invariant holds."""
    assert len(tlc_counts["configs"]) >= 7
    props = invariants.defaults("raft")
    for c in tlc_counts["configs"]:
        r = check(build(config_of(c)).engine(), props, symmetry=c["symmetry"])
        got = (r.verdict, r.distinct_states, r.generated_states, r.tlc_depth)
        assert got == ("pass", c["distinct"], c["generated"], c["tlc_depth"]), c["name"]


def _ours(n, t, l, c, m):
    engine = build(RaftConfig(servers=n, max_term=t, max_log=l, max_msg_count=c, max_msgs=m)).engine()
    states, _ = reachable(engine)
    return engine, {engine.decode(e) for e in states}


@pytest.mark.parametrize("name,bounds", [("n2_t2_l1_c1_m1", (2, 2, 1, 1, 1)), ("n2_t2_l1_c1_m2", (2, 2, 1, 1, 2))])
def test_same_states_as_tlc_dump(name, bounds):
    """The set of reachable states equals TLC's -dump, state for state (every variable, history included)."""
    import tla_dump

    path = need(REFERENCE / "raft-tla" / "dumps" / f"{name}_nosym.dump.gz")
    theirs = {tla_dump.to_raft_state(v, bounds[0]) for v in tla_dump.read_dump(path)}
    _, ours = _ours(*bounds)
    assert len(theirs) == len(ours)
    assert ours == theirs, (sorted(map(repr, ours - theirs))[:1], sorted(map(repr, theirs - ours))[:1])


def test_same_edges_as_tlc_dot():
    """The state graph's edges (which state steps to which) equal TLC's -dump dot for n2_t2_l1_c1_m1."""
    import tla_dump

    nodes, edges = tla_dump.read_dot(need(REFERENCE / "raft-tla" / "dumps" / "n2_t2_l1_c1_m1_nosym.dot.gz"))
    state_of = {k: tla_dump.to_raft_state(v, 2) for k, v in nodes.items()}
    theirs = {(state_of[a], state_of[b]) for a, b in edges}
    engine, _ = _ours(2, 2, 1, 1, 1)
    states, _ = reachable(engine)
    ours = {(engine.decode(s), engine.decode(t)) for s in states for _, t in engine.successors(s) if t is not None}
    assert len(state_of) == 1760
    assert ours == theirs
