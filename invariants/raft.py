"""Safety properties of raft.tla, stated over :class:`model.raft.state.RaftState`.

Each predicate says in its docstring exactly what it checks.  "Committed" here always means what the state
itself records: server i has committed the entries ``log[i][1..commitIndex[i]]``.
"""

from __future__ import annotations

from invariants import invariant, transition_property
from model.raft.config import RaftConfig
from model.raft.state import LEADER, RaftState


@invariant(reads={"servers"})
def election_safety(cfg: RaftConfig, s: RaftState) -> bool:
    """No two servers are Leader in the same term in one state."""
    terms = [sv.currentTerm for sv in s.servers if sv.state == LEADER]
    return len(terms) == len(set(terms))


@invariant(reads={"elections"})
def election_safety_history(cfg: RaftConfig, s: RaftState) -> bool:
    """At most one server was ever elected leader per term: records in `elections` with equal terms have
    the same leader."""
    leader_of: dict[int, int] = {}
    for e in s.elections:
        if leader_of.setdefault(e.eterm, e.eleader) != e.eleader:
            return False
    return True


@invariant(reads={"servers"})
def log_matching(cfg: RaftConfig, s: RaftState) -> bool:
    """If two logs have an entry with the same term at the same index, they are identical up to that index."""
    logs = [sv.log for sv in s.servers]
    for a in range(len(logs)):
        for b in range(a + 1, len(logs)):
            la, lb = logs[a], logs[b]
            # the highest common index with equal terms decides: the prefixes up to it must be equal
            for k in range(min(len(la), len(lb)), 0, -1):
                if la[k - 1].term == lb[k - 1].term:
                    if la[:k] != lb[:k]:
                        return False
                    break
    return True


@invariant(reads={"servers", "elections"})
def leader_completeness(cfg: RaftConfig, s: RaftState) -> bool:
    """Every entry a server has committed (index <= its commitIndex) is, at the same index, in the log every
    later-term leader had when elected (history variable `elections`) and in every current leader's log of a
    later term.

    A server's currentTerm is at least the term in which its committed entries were committed, so
    "later than currentTerm[i]" is a sound reading of "a later term" without extra history."""
    leaders = [sv for sv in s.servers if sv.state == LEADER]
    for sv in s.servers:
        committed = sv.log[:sv.commitIndex]
        if not committed:
            continue
        k = len(committed)
        for e in s.elections:
            if e.eterm > sv.currentTerm and e.elog[:k] != committed:
                return False
        for ld in leaders:
            if ld.currentTerm > sv.currentTerm and ld.log[:k] != committed:
                return False
    return True


@invariant(reads={"servers"})
def state_machine_safety(cfg: RaftConfig, s: RaftState) -> bool:
    """No two servers have committed different entries at the same index, and no server's commitIndex
    exceeds its log (it never claims an entry it does not have)."""
    committed = []
    for sv in s.servers:
        if sv.commitIndex > len(sv.log):
            return False
        committed.append(sv.log[:sv.commitIndex])
    for a in range(len(committed)):
        for b in range(a + 1, len(committed)):
            k = min(len(committed[a]), len(committed[b]))
            if committed[a][:k] != committed[b][:k]:
                return False
    return True


@transition_property(reads={"servers"})
def leader_append_only(cfg: RaftConfig, s: RaftState, t: RaftState) -> bool:
    """A Leader's log only grows while it stays Leader in the same term: its old log is a prefix of the new."""
    for a, b in zip(s.servers, t.servers):
        if a.state == LEADER and b.state == LEADER and a.currentTerm == b.currentTerm:
            if b.log[:len(a.log)] != a.log:
                return False
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
    return all(not (0 < b.commitIndex < a.commitIndex) for a, b in zip(s.servers, t.servers))
