"""Named buggy variants of the Raft model, each replacing one rule, for showing that invariants can fail.

Every mutant is the readable rule with one line changed (marked ``# BUG``); the fast engine uses the same
rules, so a mutant runs at full speed.  ``specs/mutant_*.toml`` and ``tests/test_raft_mutants.py`` name the
invariant each one breaks and the length of the shortest counterexample.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.raft.actions import Handled, Rules, is_quorum, replace_rules
from model.raft.config import RaftConfig
from model.raft.state import (
    CANDIDATE,
    FOLLOWER,
    LEADER,
    NIL,
    AppendEntriesRequest,
    AppendEntriesResponse,
    Election,
    Message,
    RequestVoteRequest,
    RequestVoteResponse,
    ServerVars,
    last_term,
)
from model.core import Sid


def _vote_reply(i: int, j: int, sv: ServerVars, grant: bool) -> Handled:
    reply = RequestVoteResponse(mterm=sv.currentTerm, mvoteGranted=grant, mlog=sv.log, msource=Sid(i),
                                mdest=Sid(j))
    return Handled(sv._replace(votedFor=Sid(j)) if grant else sv, consume=True, reply=reply,
                   case="grant" if grant else "deny")


def _log_ok_for_vote(sv: ServerVars, m: RequestVoteRequest) -> bool:
    my_last = last_term(sv.log)
    return m.mlastLogTerm > my_last or (m.mlastLogTerm == my_last and m.mlastLogIndex >= len(sv.log))


def vote_twice_handle_request_vote_request(cfg: RaftConfig, i: int, j: int, sv: ServerVars,
                                           m: RequestVoteRequest) -> Handled | None:
    """HandleRequestVoteRequest that grants without checking votedFor."""
    if m.mterm > sv.currentTerm:
        return None
    grant = m.mterm == sv.currentTerm and _log_ok_for_vote(sv, m)  # BUG: votedFor \in {Nil, j} not checked
    return _vote_reply(i, j, sv, grant)


def no_log_check_handle_request_vote_request(cfg: RaftConfig, i: int, j: int, sv: ServerVars,
                                             m: RequestVoteRequest) -> Handled | None:
    """HandleRequestVoteRequest that grants whatever the candidate's log."""
    if m.mterm > sv.currentTerm:
        return None
    grant = m.mterm == sv.currentTerm and sv.votedFor in (NIL, j)  # BUG: logOk not checked
    return _vote_reply(i, j, sv, grant)


def by_count_advance_commit_index(cfg: RaftConfig, i: int, sv: ServerVars) -> ServerVars | None:
    """AdvanceCommitIndex that commits an entry of an older term once a quorum stores it (Raft paper,
    Figure 8: the error the current-term rule prevents)."""
    if sv.state != LEADER:
        return None
    agree_indexes = [index for index in range(1, len(sv.log) + 1)
                     if is_quorum(cfg, frozenset({i} | {k for k in range(cfg.servers)
                                                        if sv.matchIndex[k] >= index}))]
    new_commit = sv.commitIndex
    if agree_indexes:  # BUG: log[i][Max(agreeIndexes)].term = currentTerm[i] not required
        new_commit = max(agree_indexes)
    return sv._replace(commitIndex=new_commit)


def minority_become_leader(cfg: RaftConfig, i: int, sv: ServerVars) -> tuple[ServerVars, Election] | None:
    """BecomeLeader with half of the votes (not a strict majority)."""
    if sv.state != CANDIDATE or not len(sv.votesGranted) * 2 >= cfg.servers:  # BUG: >= instead of >
        return None
    new = sv._replace(state=LEADER, nextIndex=(len(sv.log) + 1,) * cfg.servers, matchIndex=(0,) * cfg.servers)
    return new, Election(eterm=sv.currentTerm, eleader=Sid(i), elog=sv.log, evotes=sv.votesGranted,
                         evoterLog=sv.voterLog)


def no_log_matching_handle_append_entries_request(cfg: RaftConfig, i: int, j: int, sv: ServerVars,
                                                  m: AppendEntriesRequest) -> Handled | None:
    """HandleAppendEntriesRequest whose follower accepts without comparing prevLogTerm with its own log."""
    if m.mterm > sv.currentTerm:
        return None
    log = sv.log
    log_ok = m.mprevLogIndex <= len(log)  # BUG: log[i][prevLogIndex].term = prevLogTerm not checked
    if m.mterm < sv.currentTerm or (sv.state == FOLLOWER and not log_ok):
        reply = AppendEntriesResponse(mterm=sv.currentTerm, msuccess=False, mmatchIndex=0, msource=Sid(i),
                                      mdest=Sid(j))
        return Handled(sv, consume=True, reply=reply, case="reject")
    if sv.state == CANDIDATE:
        return Handled(sv._replace(state=FOLLOWER), consume=False, reply=None, case="step down")
    if sv.state != FOLLOWER:
        return None
    index = m.mprevLogIndex + 1
    if not m.mentries or (len(log) >= index and log[index - 1].term == m.mentries[0].term):
        reply = AppendEntriesResponse(mterm=sv.currentTerm, msuccess=True,
                                      mmatchIndex=m.mprevLogIndex + len(m.mentries), msource=Sid(i), mdest=Sid(j))
        return Handled(sv._replace(commitIndex=m.mcommitIndex), consume=True, reply=reply, case="done")
    if len(log) >= index:
        return Handled(sv._replace(log=log[:-1]), consume=False, reply=None, case="conflict")
    if len(log) == m.mprevLogIndex:
        return Handled(sv._replace(log=log + (m.mentries[0],)), consume=False, reply=None, case="append")
    return None


def no_step_down_update_term(cfg: RaftConfig, i: int, j: int, sv: ServerVars, m: Message) -> Handled | None:
    """UpdateTerm that adopts the newer term but keeps the server's role (a Leader stays Leader)."""
    if m.mterm <= sv.currentTerm:
        return None
    return Handled(sv._replace(currentTerm=m.mterm, votedFor=NIL), consume=False, reply=None)  # BUG: state kept


@dataclass(frozen=True)
class Mutant:
    """A named bug: the rules it runs, and what it is expected to break."""

    name: str
    description: str
    rules: Rules


MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    Mutant("vote_twice", "a server grants its vote without checking votedFor",
           replace_rules(handle_request_vote_request=vote_twice_handle_request_vote_request)),
    Mutant("no_log_up_to_date_check", "a server grants its vote without checking the candidate's log is up "
           "to date", replace_rules(handle_request_vote_request=no_log_check_handle_request_vote_request)),
    Mutant("commit_old_term_by_count", "a leader commits an entry of an earlier term once a quorum stores it "
           "(Raft paper, Figure 8)", replace_rules(advance_commit_index=by_count_advance_commit_index)),
    Mutant("minority_quorum", "a candidate becomes leader with half of the votes",
           replace_rules(become_leader=minority_become_leader)),
    Mutant("no_log_matching_check", "a follower appends without checking prevLogTerm against its log",
           replace_rules(handle_append_entries_request=no_log_matching_handle_append_entries_request)),
    Mutant("no_step_down_on_higher_term", "a server adopting a newer term keeps its role instead of becoming "
           "Follower", replace_rules(update_term=no_step_down_update_term)),
)}
