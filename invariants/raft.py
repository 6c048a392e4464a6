"""Safety properties of raft.tla, stated over :class:`model.raft.state.RaftState`.

Each predicate says in its docstring exactly what it checks.  "Committed" here always means what the state
itself records: server i has committed the entries ``log[i][1..commitIndex[i]]``.
"""

from __future__ import annotations

from typing import Any

from refmodel.invariants import Fail, OverServers, invariant, liveness, transition_property
from refmodel.model.core import Sid
from refmodel.model.raft.config import RaftConfig
from refmodel.model.raft.state import LEADER, RaftState, ServerVars


def some_leader(cfg: RaftConfig, s: RaftState) -> bool:
    """some server is Leader"""
    return any(_is_leader(cfg, sv, s) for sv in s.servers)


def some_election(cfg: RaftConfig, s: RaftState) -> bool:
    """some leader was elected (elections is not empty)"""
    return bool(s.elections)


def two_logs_overlap(cfg: RaftConfig, s: RaftState) -> bool:
    """two servers hold an entry at the same index"""
    return sum(1 for sv in s.servers if sv.log) >= 2


def committed_and_later_leader(cfg: RaftConfig, s: RaftState) -> bool:
    """a server has committed an entry and a leader of a later term was elected"""
    return any(_committed_and_later_election(cfg, sv, s) for sv in s.servers)


def two_servers_committed(cfg: RaftConfig, s: RaftState) -> bool:
    """two servers have committed entries"""
    return sum(1 for sv in s.servers if sv.commitIndex > 0) >= 2


def _keeps_term(cfg: RaftConfig, a: ServerVars, b: ServerVars) -> bool:
    return a.state == LEADER == b.state and a.currentTerm == b.currentTerm and bool(a.log)


def leader_keeps_term(cfg: RaftConfig, s: RaftState, t: RaftState) -> bool:
    """a step keeps a non-empty-log Leader in its term"""
    for a, b in zip(s.servers, t.servers):  # a loop, not any(generator): steps are checked in the hot loop
        if _keeps_term(cfg, a, b):
            return True
    return False


def _is_leader(cfg: RaftConfig, sv: ServerVars, s: RaftState) -> bool:
    return sv.state == LEADER


def _not_two_leaders(cfg: RaftConfig, a: ServerVars, b: ServerVars) -> bool:
    return not (a.state == LEADER == b.state and a.currentTerm == b.currentTerm)


@invariant(reads={"servers"}, antecedent=some_leader,
           over_servers=OverServers(two=_not_two_leaders, one_holds=_is_leader))
def election_safety(cfg: RaftConfig, s: RaftState) -> bool:
    """No two servers are Leader in the same term in one state."""
    servers = s.servers
    for j in range(len(servers)):  # the first server that meets an earlier Leader of its term, and that Leader
        for i in range(j):
            if not _not_two_leaders(cfg, servers[i], servers[j]):
                return Fail(f"{Sid(i)} and {Sid(j)} are both Leader in term {servers[j].currentTerm}",
                            [Sid(i), Sid(j)])
    return True


@invariant(reads={"elections"}, antecedent=some_election)
def election_safety_history(cfg: RaftConfig, s: RaftState) -> bool:
    """At most one server was ever elected leader per term: records in `elections` with equal terms have
    the same leader."""
    leader_of: dict[int, int] = {}
    for e in sorted(s.elections, key=lambda e: (e.eterm, e.eleader)):
        other = leader_of.setdefault(e.eterm, e.eleader)
        if other != e.eleader:
            return Fail(f"{other} and {e.eleader} were both elected in term {e.eterm}", [other, e.eleader])
    return True


def _logs_match(cfg: RaftConfig, a: ServerVars, b: ServerVars) -> int:
    """0 if logs a and b match, else the index (from 1) of the highest entry of equal terms below which they
    differ."""
    la, lb = a.log, b.log
    # the highest common index with equal terms decides: the prefixes up to it must be equal
    for k in range(min(len(la), len(lb)), 0, -1):
        if la[k - 1].term == lb[k - 1].term:
            return 0 if la[:k] == lb[:k] else k
    return 0


def _both_logs(cfg: RaftConfig, a: ServerVars, b: ServerVars) -> bool:
    return bool(a.log) and bool(b.log)


@invariant(reads={"servers"}, antecedent=two_logs_overlap,
           over_servers=OverServers(two=lambda cfg, a, b: not _logs_match(cfg, a, b), two_holds=_both_logs))
def log_matching(cfg: RaftConfig, s: RaftState) -> bool:
    """If two logs have an entry with the same term at the same index, they are identical up to that index."""
    servers = s.servers
    for a in range(len(servers)):
        for b in range(a + 1, len(servers)):
            if k := _logs_match(cfg, servers[a], servers[b]):
                return Fail(f"the logs of {Sid(a)} and {Sid(b)} both have term {servers[a].log[k - 1].term} at index "
                            f"{k} but differ before it", [Sid(a), Sid(b)])
    return True


def _n_committed(sv: ServerVars) -> int:
    """How many entries server sv has committed (its commitIndex, within its log)."""
    return min(sv.commitIndex, len(sv.log))


def _elections_hold_committed(cfg: RaftConfig, sv: ServerVars, s: RaftState) -> Any:
    """None if every leader elected in a term later than sv's currentTerm had sv's committed entries when
    elected, else the first election record (in order of term, leader) that lacked them."""
    if k := _n_committed(sv):
        for e in sorted(s.elections, key=lambda e: (e.eterm, e.eleader)):
            if e.eterm > sv.currentTerm and e.elog[:k] != sv.log[:k]:
                return e
    return None


def _leader_holds_committed(sv: ServerVars, ld: ServerVars) -> bool:
    """Leader ld, if of a term later than sv's currentTerm, holds sv's committed entries."""
    if ld.state != LEADER or ld.currentTerm <= sv.currentTerm:
        return True
    k = _n_committed(sv)
    return ld.log[:k] == sv.log[:k]


def _committed_and_later_election(cfg: RaftConfig, sv: ServerVars, s: RaftState) -> bool:
    return sv.commitIndex > 0 and any(e.eterm > sv.currentTerm for e in s.elections)


@invariant(reads={"servers", "elections"}, antecedent=committed_and_later_leader,
           over_servers=OverServers(
               one=lambda cfg, sv, s: _elections_hold_committed(cfg, sv, s) is None,
               two=lambda cfg, a, b: _leader_holds_committed(a, b) and _leader_holds_committed(b, a),
               one_holds=_committed_and_later_election))
def leader_completeness(cfg: RaftConfig, s: RaftState) -> bool:
    """Every entry a server has committed (index <= its commitIndex) is, at the same index, in the log every
    later-term leader had when elected (history variable `elections`) and in every current leader's log of a
    later term.

    A server's currentTerm is at least the term in which its committed entries were committed, so
    "later than currentTerm[i]" is a sound reading of "a later term" without extra history."""
    for i, sv in enumerate(s.servers):
        k = _n_committed(sv)
        if (e := _elections_hold_committed(cfg, sv, s)) is not None:
            return Fail(f"{Sid(i)} committed {k} entr{'y' if k == 1 else 'ies'} (currentTerm {sv.currentTerm}) that "
                        f"{e.eleader}'s log lacked when elected in term {e.eterm}", [Sid(i), e.eleader])
        for j, ld in enumerate(s.servers):
            if not _leader_holds_committed(sv, ld):
                return Fail(f"{Sid(i)} committed entries that Leader {Sid(j)} (term {ld.currentTerm}) lacks",
                            [Sid(i), Sid(j)])
    return True


def _commit_within_log(cfg: RaftConfig, sv: ServerVars, s: RaftState) -> bool:
    return sv.commitIndex <= len(sv.log)


def _same_committed(cfg: RaftConfig, a: ServerVars, b: ServerVars) -> bool:
    k = min(a.commitIndex, b.commitIndex)
    return a.log[:k] == b.log[:k]


def _both_committed(cfg: RaftConfig, a: ServerVars, b: ServerVars) -> bool:
    return a.commitIndex > 0 and b.commitIndex > 0


@invariant(reads={"servers"}, antecedent=two_servers_committed,
           over_servers=OverServers(one=_commit_within_log, two=_same_committed, two_holds=_both_committed))
def state_machine_safety(cfg: RaftConfig, s: RaftState) -> bool:
    """No two servers have committed different entries at the same index, and no server's commitIndex
    exceeds its log (it never claims an entry it does not have)."""
    servers = s.servers
    for i, sv in enumerate(servers):
        if not _commit_within_log(cfg, sv, s):
            return Fail(f"{Sid(i)} has commitIndex {sv.commitIndex} beyond its log of {len(sv.log)}", [Sid(i)])
    for a in range(len(servers)):
        for b in range(a + 1, len(servers)):
            if not _same_committed(cfg, servers[a], servers[b]):
                return Fail(f"{Sid(a)} and {Sid(b)} committed different entries", [Sid(a), Sid(b)])
    return True


def _appends_only(cfg: RaftConfig, a: ServerVars, b: ServerVars) -> bool:
    return not (a.state == LEADER and b.state == LEADER and a.currentTerm == b.currentTerm
                and b.log[:len(a.log)] != a.log)


@transition_property(reads={"servers"}, antecedent=leader_keeps_term, per_server=(_appends_only, _keeps_term))
def leader_append_only(cfg: RaftConfig, s: RaftState, t: RaftState) -> bool:
    """A Leader's log only grows while it stays Leader in the same term: its old log is a prefix of the new."""
    i = 0
    for a, b in zip(s.servers, t.servers):
        if not _appends_only(cfg, a, b):
            return Fail(f"Leader {Sid(i)}'s log changed other than by appending in term {a.currentTerm}", [Sid(i)])
        i += 1
    return True


def _commits(cfg: RaftConfig, a: ServerVars, b: ServerVars) -> bool:
    return a.state == LEADER == b.state and a.currentTerm == b.currentTerm and b.commitIndex > a.commitIndex


def leader_commits(cfg: RaftConfig, s: RaftState, t: RaftState) -> bool:
    """a Leader raises its commitIndex within a term"""
    for a, b in zip(s.servers, t.servers):
        if _commits(cfg, a, b):
            return True
    return False


def _commits_current_term(cfg: RaftConfig, a: ServerVars, b: ServerVars) -> bool:
    return not _commits(cfg, a, b) or b.log[b.commitIndex - 1].term == b.currentTerm


@transition_property(reads={"servers"}, antecedent=leader_commits, per_server=(_commits_current_term, _commits))
def commit_current_term_only(cfg: RaftConfig, s: RaftState, t: RaftState) -> bool:
    """A Leader raises its commitIndex only to an entry of its current term (Raft paper section 5.4.2: entries
    of earlier terms are never committed by counting replicas, which Figure 8 shows to be unsafe)."""
    i = 0
    for a, b in zip(s.servers, t.servers):
        if not _commits_current_term(cfg, a, b):
            return Fail(f"Leader {Sid(i)} (term {b.currentTerm}) committed index {b.commitIndex}, an entry of term "
                        f"{b.log[b.commitIndex - 1].term}", [Sid(i)])
        i += 1
    return True


@transition_property(reads={"servers"}, default=False)
def commit_index_monotonic(cfg: RaftConfig, s: RaftState, t: RaftState) -> bool:
    """No step lowers a server's commitIndex to a positive value (Restart, which resets it to 0, is allowed).

    This textbook property FAILS in raft.tla, in two ways (kept off by default so that a spec can show it,
    ``specs/raft_quirk_commit_index_decreases.toml``):

    * a follower handling an old duplicated AppendEntries request sets commitIndex to that request's smaller
      mcommitIndex (raft.tla's own comment: "This could make our commitIndex decrease ... but that doesn't
      really affect anything");
    * a leader's commitIndex can go down too, which raft.tla does not remark on: a reordered, older success
      response sets matchIndex[i][j] back to a smaller value (it is assigned, not maxed), and
      AdvanceCommitIndex assigns the new quorum index without taking the max with the old commitIndex.
      This is the shortest violation (24 steps on n2_t2_l2_c1_m2)."""
    for i, (a, b) in enumerate(zip(s.servers, t.servers)):
        if 0 < b.commitIndex < a.commitIndex:
            return Fail(f"{Sid(i)}'s commitIndex went from {a.commitIndex} down to {b.commitIndex}", [Sid(i)])
    return True


# ------------------------------------------------------------------------------------------- liveness


@liveness("raft", reads={"servers"})
def leader_elected(cfg: RaftConfig, s: RaftState) -> bool:
    """Eventually some server is Leader."""
    return any(sv.state == LEADER for sv in s.servers)


def _no_pending_request(cfg: RaftConfig, s: RaftState) -> bool:
    """No Leader holds an uncommitted entry of its own term."""
    return not _pending_request(cfg, s)


def _pending_request(cfg: RaftConfig, s: RaftState) -> bool:
    return any(sv.state == LEADER and len(sv.log) > sv.commitIndex and sv.log[-1].term == sv.currentTerm
               for sv in s.servers)


@liveness("raft", form="leads_to", to=_no_pending_request, reads={"servers"})
def client_request_committed(cfg: RaftConfig, s: RaftState) -> bool:
    """A client request a Leader accepted (an uncommitted entry of its term) is eventually committed, or that
    server stops leading: P ~> Q with P = some Leader holds an uncommitted entry of its own term and Q = none
    does."""
    return _pending_request(cfg, s)
