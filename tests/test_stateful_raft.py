"""Hypothesis stateful testing of Raft: random runs of a 5-server cluster (terms up to 6), every default
invariant checked after every step; and Hypothesis hunting mutants, with a bound on the shrunk run.

Which mutants Hypothesis finds within the CI budget, and which random simulation finds instead, is stated in
tests/test_simulate.py's table; every mutant is found by one or the other."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from stateful import Runs, hunt, machine_for

from refmodel import invariants
from refmodel.model.raft import build
from refmodel.model.raft.config import RaftConfig

DEFAULT = RaftConfig(servers=5, max_term=6, max_log=3, max_msg_count=2, max_msgs=6)
PROPS = invariants.defaults("raft")


def test_raft_five_servers_keeps_every_invariant():
    runs = Runs()
    run_state_machine_as_test(machine_for(build(DEFAULT), PROPS, runs))
    assert runs.runs >= settings().max_examples  # it really ran ...
    assert runs.max_depth >= min(20, settings().stateful_step_count)  # ... and went some way


# mutant -> (config, invariant expected to break, bound on the shrunk run's length; BFS's shortest is 16 / 10)
HUNTS = {
    "vote_twice": (RaftConfig(servers=2, max_term=2, max_log=0, max_msg_count=1, max_msgs=1),
                   "raft.election_safety", 20),
    "minority_quorum": (RaftConfig(servers=2, max_term=2, max_log=0, max_msg_count=1, max_msgs=1),
                        "raft.election_safety", 16),  # shrinks to 14 or 15 steps, depending on what ran before
}


@pytest.mark.parametrize("mutant", sorted(HUNTS))
def test_hypothesis_finds_mutant(mutant):
    cfg, inv, bound = HUNTS[mutant]
    hunt(build(cfg, mutant), PROPS, inv, bound)
