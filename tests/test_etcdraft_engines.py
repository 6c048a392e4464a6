"""The fast etcdraft engine and the readable model list the same successors (label and state, constraint-
violating ones as None) in the same order, on every reachable state of small configurations, mutants included."""

from __future__ import annotations

import pytest
from conftest import reachable

from refmodel.model.core import ExplicitEngine
from refmodel.model.etcdraft import build
from refmodel.model.etcdraft.config import EtcdRaftConfig

CASES = [
    # (init_servers, servers, reconfiguration_limit, max_term, request_limit, max_log, max_in_flight), mutant
    ((2, 3, 1, 2, 0, 2, 1), None),  # TLC's e2to3_rc1_t2_r0_l2_f1: membership actions
    ((2, 2, 0, 2, 1, 3, 1), None),  # a client request: appends, conflicts, commits
    ((1, 2, 1, 2, 0, 2, 1), None),  # single initial server, a second one added
    ((2, 2, 0, 2, 0, 2, 2), None),  # two messages in flight: duplicates, counts
    ((2, 2, 1, 2, 0, 4, 1), "conf_change_while_pending"),
]


@pytest.mark.parametrize("bounds,mutant", CASES, ids=[f"{b}-{m}" for b, m in CASES])
def test_fast_engine_agrees_with_readable_model(bounds, mutant):
    system = build(EtcdRaftConfig(*bounds), mutant)
    fast, slow = system.engine(), ExplicitEngine(system)
    states, _ = reachable(fast, max_depth=None if mutant is None else 14)
    assert len(states) > 500
    for e in states:
        s = fast.decode(e)
        assert fast.encode(s) == e
        ours = [(fast.label(aid), None if t is None else fast.decode(t)) for aid, t in fast.successors(e)]
        theirs = [(slow.label(aid), t) for aid, t in slow.successors(s)]
        assert ours == theirs, s


def test_symmetry_counts_orbits_in_both_layers():
    """With --symmetry both layers count the same orbits.  With one initial server and two others of which at
    most one can ever join (one reconfiguration), the orbits of 1..3 are exactly the states of 1..2."""
    from refmodel.checkers.bfs import check

    three, two = build(EtcdRaftConfig(1, 3, 1, 2, 0, 2, 1)), build(EtcdRaftConfig(1, 2, 1, 2, 0, 2, 1))
    fast = check(three.engine(), symmetry=True)
    slow = check(ExplicitEngine(three), symmetry=True)
    plain = check(two.engine())
    assert fast.distinct_states == slow.distinct_states == plain.distinct_states == 5636
    assert fast.generated_states == slow.generated_states > plain.generated_states
    assert check(three.engine()).distinct_states > 5636


def test_symmetry_changes_no_count_on_a_tlc_config():
    """As the reference notes say of TLC: the bootstrap log names the initial servers, so Permutations(Server)
    reduces nothing when every server is an initial one."""
    from refmodel.checkers.bfs import check

    system = build(EtcdRaftConfig(2, 2, 0, 3, 0, 2, 1))
    assert check(system.engine(), symmetry=True).distinct_states == check(system.engine()).distinct_states == 13_176
