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
