"""Each Raft invariant on hand-built states where it must hold and where it must fail, plus the raft.tla
quirk that makes the textbook "commitIndex never decreases" false."""

from __future__ import annotations

import pytest

from refmodel import invariants
from refmodel.checkers.bfs import check
from refmodel.invariants import raft as R
from refmodel.model.core import Sid
from refmodel.model.raft import build
from refmodel.model.raft.config import RaftConfig
from refmodel.model.raft.state import CANDIDATE, FOLLOWER, LEADER, Election, Entry, initial_state

CFG = RaftConfig(servers=3)


def state(**per_server):
    """initial_state(3) with server fields overridden: state(s1=dict(state=LEADER), ...)."""
    s = initial_state(3)
    servers = list(s.servers)
    for name, changes in per_server.items():
        k = int(name[1:]) - 1
        servers[k] = servers[k]._replace(**changes)
    return s._replace(servers=tuple(servers))


E1, E2, E3 = Entry(1, 1), Entry(2, 1), Entry(3, 1)


def test_election_safety():
    assert R.election_safety(CFG, state(s1=dict(state=LEADER, currentTerm=2), s2=dict(state=LEADER, currentTerm=3)))
    assert not R.election_safety(CFG, state(s1=dict(state=LEADER, currentTerm=2),
                                            s3=dict(state=LEADER, currentTerm=2)))
    assert R.election_safety(CFG, state(s1=dict(state=LEADER, currentTerm=2), s3=dict(state=CANDIDATE,
                                                                                       currentTerm=2)))


def test_election_safety_history():
    def el(term, leader):
        return Election(term, Sid(leader), (), frozenset(), ())

    s = initial_state(3)
    assert R.election_safety_history(CFG, s._replace(elections=frozenset({el(2, 0), el(3, 1)})))
    assert not R.election_safety_history(CFG, s._replace(elections=frozenset({el(2, 0), el(2, 1)})))


def test_log_matching():
    assert R.log_matching(CFG, state(s1=dict(log=(E1, E2)), s2=dict(log=(E1,)), s3=dict(log=(E1, E3))))
    # same term at index 2 but different entries before it
    assert not R.log_matching(CFG, state(s1=dict(log=(E1, E2)), s2=dict(log=(Entry(1, 2), E2))))
    # equal terms at index 1, different values: the logs differ at the matching index itself
    assert not R.log_matching(CFG, state(s1=dict(log=(Entry(1, 1),)), s2=dict(log=(Entry(1, 2),))))


def test_state_machine_safety():
    assert R.state_machine_safety(CFG, state(s1=dict(log=(E1, E2), commitIndex=2),
                                             s2=dict(log=(E1, E3), commitIndex=1)))
    assert not R.state_machine_safety(CFG, state(s1=dict(log=(E1, E2), commitIndex=2),
                                                 s2=dict(log=(E1, E3), commitIndex=2)))
    assert not R.state_machine_safety(CFG, state(s1=dict(log=(E1,), commitIndex=2)))  # beyond its log


def test_leader_completeness():
    committed = dict(log=(E1, E2), commitIndex=2, currentTerm=2)
    good = Election(3, Sid(1), (E1, E2), frozenset({Sid(1), Sid(2)}), ())
    bad = Election(3, Sid(1), (E1,), frozenset({Sid(1), Sid(2)}), ())
    base = state(s1=committed)
    assert R.leader_completeness(CFG, base._replace(elections=frozenset({good})))
    assert not R.leader_completeness(CFG, base._replace(elections=frozenset({bad})))
    # an election in the same term as the committing server's current term is not "later"
    same_term = Election(2, Sid(1), (), frozenset(), ())
    assert R.leader_completeness(CFG, base._replace(elections=frozenset({same_term})))
    # a current leader of a later term lacking the entry
    assert not R.leader_completeness(CFG, state(s1=committed, s2=dict(state=LEADER, currentTerm=3, log=(E1,))))


def test_leader_append_only():
    a = state(s1=dict(state=LEADER, currentTerm=2, log=(E1,)))
    assert R.leader_append_only(CFG, a, state(s1=dict(state=LEADER, currentTerm=2, log=(E1, E2))))
    assert not R.leader_append_only(CFG, a, state(s1=dict(state=LEADER, currentTerm=2, log=())))
    # a new term, or stepping down, is not constrained
    assert R.leader_append_only(CFG, a, state(s1=dict(state=LEADER, currentTerm=3, log=())))
    assert R.leader_append_only(CFG, a, state(s1=dict(state=FOLLOWER, currentTerm=2, log=())))


def test_default_set_and_registration():
    names = [p.name for p in invariants.defaults("raft")]
    assert names == ["raft.commit_current_term_only", "raft.election_safety", "raft.election_safety_history",
                     "raft.leader_append_only",
                     "raft.leader_completeness", "raft.log_matching", "raft.state_machine_safety"]
    assert all(p.doc for p in invariants.available("raft"))
    assert invariants.resolve("raft", ["log_matching"])[0].name == "raft.log_matching"
    with pytest.raises(invariants.UnknownProperty):
        invariants.resolve("raft", ["no_such_thing"])


QUIRK_CFG = RaftConfig(servers=2, max_term=2, max_log=2, max_msg_count=1, max_msgs=2)


def test_quirk_leader_commit_index_can_decrease():
    """The shortest way raft.tla lowers a commitIndex: a stale success response lowers matchIndex, then
    AdvanceCommitIndex (which does not take the max with the old value) lowers the leader's commitIndex."""
    r = check(build(QUIRK_CFG).engine(), invariants.resolve("raft", ["commit_index_monotonic"]), symmetry=True)
    assert r.verdict == "violation"
    v = r.violation
    assert v.length == 24
    steps = [st.action for st in v.trace[1:]]
    assert steps[-1].action == "AdvanceCommitIndex" and steps[-2].action == "HandleAppendEntriesResponse"
    i = steps[-1].param("i")
    before, after = v.trace[-2].raw.servers[i], v.trace[-1].raw.servers[i]
    assert before.state == after.state == LEADER
    assert 0 < after.commitIndex < before.commitIndex


def follower_commit_index_monotonic(cfg, s, t):
    """A Follower's commitIndex never drops to a smaller positive value while it stays Follower."""
    return all(not (a.state == FOLLOWER and b.state == FOLLOWER and 0 < b.commitIndex < a.commitIndex)
               for a, b in zip(s.servers, t.servers))


def test_quirk_follower_commit_index_decreases_on_old_duplicate():
    """raft.tla's documented quirk: a follower handling an old, duplicated AppendEntries request sets its
    commitIndex to that request's smaller mcommitIndex ("already done" case)."""
    p = invariants.Property("test.follower_commit_index_monotonic", "raft", follower_commit_index_monotonic,
                            "transition", frozenset({"servers"}), False, follower_commit_index_monotonic.__doc__)
    r = check(build(QUIRK_CFG).engine(), [p], symmetry=True)
    assert r.verdict == "violation" and r.violation.length == 25
    last = r.violation.trace[-1].action
    assert last.action == "HandleAppendEntriesRequest" and last.param("case") == "done"
    i = last.param("i")
    before, after = r.violation.trace[-2].raw.servers[i], r.violation.trace[-1].raw.servers[i]
    assert 0 < after.commitIndex < before.commitIndex
