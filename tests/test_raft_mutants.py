"""Every Raft mutant breaks the invariant it should, with the shortest counterexample of the stated length on
the smallest configuration that shows it (servers first, then the sum of the bounds).

``commit_old_term_by_count`` breaks ``raft.commit_current_term_only`` (a leader commits an entry of an earlier
term) in 26 steps on 2 servers; the unsafe *consequence* the Raft paper's Figure 8 describes (a later leader
lacking a committed entry) needs 3 servers and five terms, deeper than BFS reaches in CI.
``no_log_matching_check`` needs 3 servers, four terms and logs of 2 before any invariant breaks.  For these two
deep scenarios this file replays a directed counterexample (every step a transition of the model) ending in
the violation, and checks that the correct model does not violate it; random simulation hunts
``no_log_matching_check`` without a script (tests/test_simulate.py), and ``benchmarks/mutants_big.py``
records the exhaustive attempts.
"""

from __future__ import annotations

import pytest
from conftest import default_check

from refmodel import invariants
from refmodel.checkers.bfs import Limits, check
from refmodel.checkers.trace import ReplayError, Scenario
from refmodel.model.raft import build
from refmodel.model.raft.config import RaftConfig

# mutant -> (config, invariant broken, length of the shortest counterexample)
BFS_CASES = {
    "vote_twice": (RaftConfig(servers=2, max_term=2, max_log=0, max_msg_count=1, max_msgs=1),
                   "raft.election_safety", 16),
    "minority_quorum": (RaftConfig(servers=2, max_term=2, max_log=0, max_msg_count=1, max_msgs=1),
                        "raft.election_safety", 10),
    "no_step_down_on_higher_term": (RaftConfig(servers=2, max_term=3, max_log=0, max_msg_count=1, max_msgs=1),
                                    "raft.election_safety", 18),
    "no_log_up_to_date_check": (RaftConfig(servers=3, max_term=3, max_log=1, max_msg_count=1, max_msgs=1),
                                "raft.leader_completeness", 25),
    "commit_old_term_by_count": (RaftConfig(servers=2, max_term=3, max_log=1, max_msg_count=1, max_msgs=1),
                                 "raft.commit_current_term_only", 26),
}
DEFAULTS = invariants.defaults("raft")


@pytest.mark.parametrize("mutant", sorted(BFS_CASES))
def test_mutant_caught_by_bfs(mutant):
    cfg, inv, length = BFS_CASES[mutant]
    r = default_check("raft", cfg, mutant, True)  # (shared with test_reports.py, which renders it)
    assert r.verdict == "violation"
    assert (r.violation.invariant, r.violation.length) == (inv, length)
    # without the bug, the same configuration shows no violation among as many states (n3_t3_l1 is too big
    # to explore whole in CI: the bound keeps this comparison cheap and still meaningful)
    correct = check(build(cfg).engine(), DEFAULTS, symmetry=True, limits=Limits(max_states=r.distinct_states))
    assert correct.verdict != "violation"


def test_no_smaller_config_shows_the_election_mutants():
    """The configurations above are the smallest: the next smaller ones pass even with the bug."""
    tiny = RaftConfig(servers=2, max_term=2, max_log=0, max_msg_count=1, max_msgs=1)
    assert check(build(tiny, "no_step_down_on_higher_term").engine(), DEFAULTS, symmetry=True).verdict == "pass"
    smaller = RaftConfig(servers=3, max_term=2, max_log=1, max_msg_count=1, max_msgs=1)
    assert check(build(smaller, "no_log_up_to_date_check").engine(), DEFAULTS, symmetry=True).verdict == "pass"
    two = RaftConfig(servers=2, max_term=3, max_log=1, max_msg_count=1, max_msgs=1)
    assert check(build(two, "no_log_up_to_date_check").engine(), DEFAULTS, symmetry=True).verdict == "pass"
    two_terms = RaftConfig(servers=2, max_term=2, max_log=2, max_msg_count=1, max_msgs=2)
    assert check(build(two_terms, "commit_old_term_by_count").engine(), DEFAULTS, symmetry=True).verdict == "pass"


# ------------------------------------------------------------------------------------ directed scenarios


def elect(sc: Scenario, leader: str, voter: str, timeouts: int = 1) -> None:
    """``leader`` times out ``timeouts`` times, votes for itself, wins ``voter``'s vote and leads."""
    for _ in range(timeouts):
        sc.do("Timeout", i=leader)
    for j in (leader, voter):
        sc.do("RequestVote", i=leader, j=j)
        if sc.enabled() and any(lab.action == "UpdateTerm" for lab in sc.enabled()):
            sc.do("UpdateTerm", i=j, j=leader)
        sc.do("HandleRequestVoteRequest", i=j, j=leader, case="grant")
        sc.do("HandleRequestVoteResponse", i=leader, j=j)
    sc.do("BecomeLeader", i=leader)


def two_divergent_leaders_then_s1(model) -> Scenario:
    """s1 leads term 2 and s3 term 3 (each with s2's vote), each writing an entry no one else gets; then s1
    restarts and wins term 4 with s2's vote (s2's log is still empty)."""
    sc = Scenario(model)
    elect(sc, "s1", "s2")
    sc.do("ClientRequest", i="s1", v="v1")
    elect(sc, "s3", "s2", timeouts=2)
    sc.do("ClientRequest", i="s3", v="v1")
    sc.do("Restart", i="s1")
    elect(sc, "s1", "s2", timeouts=2)
    return sc


def figure8(model) -> Scenario:
    """Raft paper Figure 8 on 3 servers: after the prefix above, s1 copies its term-2 entry to s2 and,
    counting replicas, commits it; s3 then wins term 5 with s2's vote (its term-3 entry is more up to date)
    although s1 committed an entry s3 lacks."""
    sc = two_divergent_leaders_then_s1(model)
    sc.do("AppendEntries", i="s1", j="s2")  # prevLogIndex 1: s2 has no entry 1 yet
    sc.do("HandleAppendEntriesRequest", i="s2", j="s1", case="reject")
    sc.do("HandleAppendEntriesResponse", i="s1", j="s2")
    sc.do("AppendEntries", i="s1", j="s2")
    sc.do("HandleAppendEntriesRequest", i="s2", j="s1", case="append")
    sc.do("HandleAppendEntriesRequest", i="s2", j="s1", case="done")
    sc.do("HandleAppendEntriesResponse", i="s1", j="s2")
    sc.do("AdvanceCommitIndex", i="s1")
    sc.do("Restart", i="s3")
    elect(sc, "s3", "s2", timeouts=2)
    return sc


FIG8_CFG = RaftConfig(servers=3, max_term=5, max_log=1, max_msg_count=1, max_msgs=1)


def test_commit_old_term_by_count_figure8():
    model = build(FIG8_CFG, "commit_old_term_by_count")
    sc = figure8(model)
    assert all(model.constraint(s) for s in sc.states)  # within n3_t5_l1_c1_m1
    assert len(sc) == 51
    broken = [p.name for p in DEFAULTS if p.kind == "state" and not p.fn(FIG8_CFG, sc.state)]
    assert broken == ["raft.leader_completeness"]
    assert all(p.fn(FIG8_CFG, s) for s in sc.states[:-1] for p in DEFAULTS if p.kind == "state")
    # the step property catches the bug where it happens: s1's AdvanceCommitIndex in term 4
    commit = invariants.resolve("raft", ["commit_current_term_only"])[0]
    bad_steps = [k for k in range(1, len(sc.states)) if not commit.fn(FIG8_CFG, sc.states[k - 1], sc.states[k])]
    assert [sc.labels[k - 1].action for k in bad_steps] == ["AdvanceCommitIndex"]
    s1 = sc.state.servers[0]
    assert s1.commitIndex == 1 and s1.log[0].term == 2 and s1.currentTerm == 4


def test_figure8_needs_the_bug():
    """Without the mutant, AdvanceCommitIndex will not commit s1's term-2 entry in term 4."""
    sc = figure8(build(FIG8_CFG))
    assert sc.state.servers[0].commitIndex == 0
    assert all(p.fn(FIG8_CFG, sc.state) for p in DEFAULTS if p.kind == "state")


NLM_CFG = RaftConfig(servers=3, max_term=4, max_log=2, max_msg_count=1, max_msgs=1)


def log_mismatch(model) -> Scenario:
    """After the same prefix, s1 (leading term 4) appends a second entry; its AppendEntries for index 2
    (prevLogTerm 2) reaches s3, whose entry 1 is of term 3."""
    sc = two_divergent_leaders_then_s1(model)
    sc.do("ClientRequest", i="s1", v="v1")
    sc.do("AppendEntries", i="s1", j="s3")
    sc.do("UpdateTerm", i="s3", j="s1")
    sc.do("HandleAppendEntriesRequest", i="s3", j="s1")
    return sc


def test_no_log_matching_check_directed():
    model = build(NLM_CFG, "no_log_matching_check")
    sc = log_mismatch(model)
    assert all(model.constraint(s) for s in sc.states) and len(sc) == 36
    assert sc.labels[-1].param("case") == "append"
    broken = [p.name for p in DEFAULTS if p.kind == "state" and not p.fn(NLM_CFG, sc.state)]
    assert broken == ["raft.log_matching"]


def test_log_mismatch_needs_the_bug():
    """The correct follower rejects that request (its entry 1 has another term)."""
    sc = log_mismatch(build(NLM_CFG))
    assert sc.labels[-1].param("case") == "reject"
    assert all(p.fn(NLM_CFG, sc.state) for p in DEFAULTS if p.kind == "state")


def test_scenario_rejects_a_step_that_is_not_enabled():
    sc = Scenario(build(FIG8_CFG))
    with pytest.raises(ReplayError, match="step 1: BecomeLeader"):
        sc.do("BecomeLeader", i="s1")
