"""Every etcdraft mutant breaks the invariant it should, with the shortest counterexample of the stated length,
on a configuration where the correct model passes (both sides are checked); and etcdraft.tla itself breaks
QuorumLogInv once terms, reconfigurations and logs are large enough (slow)."""

from __future__ import annotations

import pytest

from refmodel import invariants
from refmodel.checkers.bfs import check
from refmodel.checkers.spec import discover, load_spec
from refmodel.model.etcdraft import build
from refmodel.model.etcdraft.config import EtcdRaftConfig
from refmodel.model.etcdraft.mutants import MUTANTS

from conftest import ROOT

DEFAULTS = invariants.defaults("etcdraft")

# mutant -> (bounds (I, N, R, T, Q, L, F), invariant broken, length of the shortest counterexample, distinct
# states of the correct model at these bounds)
CASES = {
    # the single-server membership bug: two changes computed from one configuration
    "conf_change_while_pending": ((2, 2, 1, 2, 0, 4, 1), "etcdraft.QuorumLogInv", 26, 111_082),
    "vote_twice": ((3, 3, 0, 2, 0, 3, 1), "etcdraft.MoreThanOneLeaderInv", 21, 117_482),
    "minority_quorum": ((2, 2, 0, 2, 0, 2, 1), "etcdraft.MoreThanOneLeaderInv", 10, 758),
    "send_before_persist": ((2, 2, 0, 2, 1, 3, 1), "etcdraft.CommittedIsDurableInv", 22, 2_956),
}


@pytest.mark.parametrize("mutant", sorted(CASES))
def test_mutant_caught_and_correct_model_passes(mutant):
    bounds, inv, length, correct_states = CASES[mutant]
    cfg = EtcdRaftConfig(*bounds)
    r = check(build(cfg, mutant).engine(), DEFAULTS)
    assert r.verdict == "violation"
    assert (r.violation.invariant, r.violation.length) == (inv, length)
    ok = check(build(cfg).engine(), DEFAULTS)
    assert (ok.verdict, ok.distinct_states) == ("pass", correct_states)


def test_every_mutant_has_a_case_and_a_spec():
    assert set(CASES) <= set(MUTANTS)
    specs = {s.mutant: s for s in map(load_spec, discover([str(ROOT / "specs")]))
             if s.protocol == "etcdraft" and s.mutant}
    assert set(specs) == set(CASES)
    for name, (bounds, inv, length, _) in CASES.items():
        assert specs[name].config == EtcdRaftConfig(*bounds)
        assert (specs[name].expect["invariant"], specs[name].expect["length"]) == (inv, length)


def test_membership_bug_counterexample_shape():
    """The mutant's counterexample: leader 1 appends two ConfigEntry entries while the first is pending, and
    ends applying a configuration whose only voter lacks the committed entries."""
    r = check(build(EtcdRaftConfig(2, 2, 1, 2, 0, 4, 1), "conf_change_while_pending").engine(), DEFAULTS)
    actions = [str(step.action) for step in r.violation.trace[1:]]
    changes = [a for a in actions if a.startswith(("AddNewServer", "AddLearner", "DeleteServer"))]
    assert len(changes) == 2 and all(a.startswith("DeleteServer(i=1") for a in changes)
    assert actions[-1] == "ApplySimpleConfChange(i=1)"
    assert r.violation.trace[-1].raw.servers[0].config.jointConfig[0] == frozenset({2})


@pytest.mark.slow
def test_spec_itself_breaks_quorum_log_inv_after_restart():
    """etcdraft.tla as written (no mutant) breaks QuorumLogInv at I=N=2, one reconfiguration, terms up to 3,
    logs of 4: leader 1 commits DeleteServer(2) but restarts before applying it; Restart resets
    pendingConfChangeIndex and BecomeLeader does not set it, so as leader of term 3 it proposes DeleteServer(1)
    from the stale config {1, 2}; it applies {1}, commits {2} alone and applies it.  4,228,906 states, ~85 s."""
    r = check(build(EtcdRaftConfig(2, 2, 1, 3, 0, 4, 1)).engine(), invariants.resolve("etcdraft", ["QuorumLogInv"]))
    assert r.verdict == "violation"
    assert (r.violation.invariant, r.violation.length) == ("etcdraft.QuorumLogInv", 42)
    actions = [str(step.action) for step in r.violation.trace[1:]]
    assert "Restart(i=1)" in actions and actions[-1] == "ApplySimpleConfChange(i=1)"
    assert [a for a in actions if a.startswith("DeleteServer")] == ["DeleteServer(i=1, j=2)", "DeleteServer(i=1, j=1)"]
