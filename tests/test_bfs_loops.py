"""The checker has two copies of its successor loop: a lean one for runs that record no edges, and one that
records them (graphs, liveness transitions).  Both must find exactly the same: counts, levels, actions fired
and first reached, vacuous antecedents, the verdict and the counterexample (actions fired are counted up to
the successor where a violation stops the run)."""

from __future__ import annotations

import pytest
from conftest import same_result

from refmodel import invariants
from refmodel.checkers.bfs import Limits, check
from refmodel.model.raft import build
from refmodel.model.raft.config import RaftConfig

DEFAULTS = invariants.defaults("raft")
SMALL = RaftConfig(servers=2, max_term=2, max_log=1, max_msg_count=1, max_msgs=1)


@pytest.mark.parametrize("symmetry", [False, True])
def test_lean_loop_agrees_with_recording_loop(symmetry):
    lean = check(build(SMALL).engine(), DEFAULTS, symmetry=symmetry)
    recording = check(build(SMALL).engine(), DEFAULTS, symmetry=symmetry, graph=True)
    assert lean.verdict == "pass"
    same_result(lean, recording)


@pytest.mark.parametrize("mutant,cfg", [
    ("minority_quorum", RaftConfig(servers=2, max_term=2, max_log=0, max_msg_count=1, max_msgs=1)),
    ("commit_old_term_by_count", RaftConfig(servers=2, max_term=3, max_log=1, max_msg_count=1, max_msgs=1)),
])
def test_lean_loop_agrees_on_violations(mutant, cfg):
    """A state invariant (minority_quorum) and a transition property (commit_old_term_by_count) broken."""
    lean = check(build(cfg, mutant).engine(), DEFAULTS)
    recording = check(build(cfg, mutant).engine(), DEFAULTS, graph=True)
    assert lean.verdict == "violation"
    same_result(lean, recording)


@pytest.mark.parametrize("limits", [Limits(max_states=500), Limits(max_depth=7)])
def test_lean_loop_agrees_when_stopped(limits):
    lean = check(build(SMALL).engine(), DEFAULTS, limits=limits)
    recording = check(build(SMALL).engine(), DEFAULTS, limits=limits, graph=True)
    assert lean.verdict == "incomplete"
    same_result(lean, recording)


def test_via_widens_beyond_32_bits():
    """An action id that does not fit 32 bits widens the ``via`` array instead of failing."""
    from refmodel.checkers import bfs

    class Wide:
        def __init__(self, engine):
            self.engine, self.system, self.action_names = engine, engine.system, engine.action_names
            self.k = len(engine.action_names)

        def initial(self):
            return self.engine.initial()

        def successors(self, e):  # the same actions, under ids beyond 2**31 (still aid % k = the action)
            return [(aid + self.k * (1 << 32), t) for aid, t in self.engine.successors(e)]

        def canonical(self, e):
            return self.engine.canonical(e)

        def decode(self, e, hide=frozenset()):
            return self.engine.decode(e, hide)

        def label(self, aid):
            return self.engine.label(aid - self.k * (1 << 32))

        def projector(self, reads):
            return self.engine.projector(reads)

        def stats(self):
            return {}

    plain = check(build(SMALL).engine(), DEFAULTS)
    wide = bfs.check(Wide(build(SMALL).engine()), DEFAULTS)
    assert (wide.distinct_states, wide.generated_states, wide.action_fired) == \
        (plain.distinct_states, plain.generated_states, plain.action_fired)


def test_lean_loop_checks_raft_steps_per_server():
    """Raft's default transition properties are declared per server, so that the lean loop checks steps on
    pairs of server components (the recording loop on pairs of servers parts): the comparisons above then
    compare the two ways; here also where antecedents stay vacuous (max_log 0), where both hold (max_log 2)
    and with three servers (the recording loop records transitions here, which is cheaper than a graph)."""
    from refmodel.checkers.bfs import _StepChecker

    engine = build(SMALL).engine()
    assert _StepChecker(engine, [p for p in DEFAULTS if p.kind == "transition"]).pairs is not None
    for cfg, symmetry in ((RaftConfig(servers=2, max_term=2, max_log=0, max_msg_count=1, max_msgs=1), False),
                          (RaftConfig(servers=2, max_term=2, max_log=2, max_msg_count=1, max_msgs=2), False),
                          (RaftConfig(servers=3, max_term=2, max_log=0, max_msg_count=1, max_msgs=1), True)):
        lean = check(build(cfg).engine(), DEFAULTS, symmetry=symmetry)
        recording = check(build(cfg).engine(), DEFAULTS, symmetry=symmetry, transitions=True)
        assert lean.verdict == "pass"
        same_result(lean, recording)
