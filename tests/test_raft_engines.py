"""The fast engine (interned, memoised, packed-int states) agrees with the readable model, step for step."""

from __future__ import annotations

import pytest
from conftest import reachable

from refmodel.model.core import ExplicitEngine
from refmodel.model.raft import build
from refmodel.model.raft.config import RaftConfig
from refmodel.model.raft.mutants import MUTANTS

CONFIGS = [RaftConfig(servers=2, max_term=2, max_log=1, max_msg_count=1, max_msgs=1),
           RaftConfig(servers=2, max_term=2, max_log=1, max_msg_count=2, max_msgs=1, values=2),
           RaftConfig(servers=3, max_term=2, max_log=0, max_msg_count=1, max_msgs=1)]
#: bags of several messages, some twice (the engine applies bag operations to message ids)
BAGS = RaftConfig(servers=2, max_term=2, max_log=0, max_msg_count=2, max_msgs=2)
CASES = [(CONFIGS[0], None), (CONFIGS[1], None), (CONFIGS[1], "no_step_down_on_higher_term"),
         (CONFIGS[0], "minority_quorum"), (CONFIGS[0], "no_log_matching_check"), (BAGS, None)]


@pytest.mark.parametrize("cfg,mutant", CASES, ids=lambda x: getattr(x, "short_name", lambda: str(x))())
def test_successors_identical(cfg, mutant):
    """For every reachable state, both engines list the same (label, successor) pairs in the same order,
    constraint-violating successors included."""
    model = build(cfg, mutant)
    fast, slow = model.engine(), ExplicitEngine(model)
    states, _ = reachable(fast)
    assert len(states) > 100
    for e in states:
        readable = fast.decode(e)
        want = [(slow.label(a), t) for a, t in slow.successors(readable)]
        got = [(fast.label(a), None if t is None else fast.decode(t)) for a, t in fast.successors(e)]
        assert got == want


@pytest.mark.parametrize("cfg,mutant", CASES, ids=lambda x: getattr(x, "short_name", lambda: str(x))())
def test_omitting_successors_leave_out_exactly_the_missing(cfg, mutant):
    """The successor function that leaves out what violates the constraint lists every other successor, in
    the same order, and counts the ones left out by action id (on a fresh engine, which it warms itself)."""
    ref = build(cfg, mutant).engine()
    states, _ = reachable(ref)
    fast = build(cfg, mutant).engine()
    omitting, missing = fast.omitting_successors()
    want: dict[int, int] = {}
    for e in states:
        e = fast.encode(ref.decode(e))
        got = omitting(e)  # first: it builds the memos
        full = fast.successors(e)
        assert got == [(a, t) for a, t in full if t is not None]
        for a, t in full:
            if t is None:
                want[a] = want.get(a, 0) + 1
    assert missing() == want and want


@pytest.mark.parametrize("cfg,depth", [(CONFIGS[0], None), (CONFIGS[1], None), (CONFIGS[2], 14)],
                         ids=["n2", "n2_v2", "n3_depth14"])
def test_symmetry_reduction_agrees(cfg, depth):
    """Canonicalising over interned ids counts the same orbits as permuting whole readable states."""
    model = build(cfg)
    fast_states, fast_gen = reachable(model.engine(), symmetry=True, max_depth=depth)
    slow_states, slow_gen = reachable(ExplicitEngine(model), symmetry=True, max_depth=depth)
    assert (len(fast_states), fast_gen) == (len(slow_states), slow_gen)
    assert len(fast_states) > 500


def test_canonical_is_orbit_invariant():
    """Every permutation of a state has the same canonical key, and states of different orbits differ."""
    model = build(CONFIGS[2])
    fast = model.engine()
    states, _ = reachable(fast, symmetry=True)
    keys = set()
    for e in states[::97]:
        s = fast.decode(e)
        images = {fast.canonical(fast.encode(model.permute(s, p))) for p in model.symmetry_group()}
        assert images == {fast.canonical(e)}
        keys.add(fast.canonical(e))
    assert len(keys) == len(states[::97])


def test_every_mutant_runs_on_both_engines():
    cfg = CONFIGS[0]
    for name in MUTANTS:
        model = build(cfg, name)
        states, gen = reachable(model.engine())
        slow_states, slow_gen = reachable(ExplicitEngine(model))
        assert (len(states), gen) == (len(slow_states), slow_gen), name
