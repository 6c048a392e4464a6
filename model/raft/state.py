"""Immutable Raft states, mirroring the variables of raft.tla (ongardie/raft.tla at 6ecbdbcf).

raft.tla keeps one function per variable over ``Server``; here the per-server variables of one server are
grouped in a :class:`ServerVars` record (``s.servers[i].currentTerm`` is raft.tla's ``currentTerm[i]``), so
that a fast engine can intern and memoise each server's part on its own.  Server identities are
:class:`~model.core.Sid` values 0..N-1, shown as ``s1..sN`` like TLC's model values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from refmodel.model.core import Permutation, Record, Sid, bag_add, bag_remove

# Server states (raft.tla CONSTANTS Follower, Candidate, Leader) and the reserved value Nil.
FOLLOWER, CANDIDATE, LEADER = "Follower", "Candidate", "Leader"
NIL = None


class ValueName(int):
    """A client value k, shown as ``v{k}`` (TLC's model values v1, v2 ...)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"v{int(self)}"

    __str__ = __repr__


class Entry(NamedTuple):
    """A log entry: raft.tla's record [term |-> t, value |-> v]; value k is shown as ``v{k}``."""

    term: int
    value: int

    def describe(self) -> str:
        return f"[term |-> {self.term}, value |-> v{self.value}]"

    def itf(self) -> Record:
        return Record(term=self.term, value=ValueName(self.value))


Log = tuple[Entry, ...]
#: A function from servers to logs (raft.tla's voterLog[i], evoterLog): pairs sorted by server.
LogMap = tuple[tuple[Sid, Log], ...]


def last_term(log: Log) -> int:
    """raft.tla LastTerm: the term of the last entry, or 0 for an empty log."""
    return log[-1].term if log else 0


def map_put_first(fm: LogMap, j: int, log: Log) -> LogMap:
    """raft.tla ``f @@ (j :> log)``: add j unless already in the domain (the left operand wins)."""
    if any(k == j for k, _ in fm):
        return fm
    return tuple(sorted(fm + ((Sid(j), log),)))


# ---------------------------------------------------------------------------------------------- messages
# Each message type is its own frozen record (equality includes the type).  Fields are raft.tla's.


class _Record:
    """Common behaviour of message records."""

    __slots__ = ()

    def itf(self) -> Record:
        """The message as raft.tla's record, with its ``mtype``."""
        return Record(mtype=type(self).__name__, **{f: getattr(self, f) for f in self.__slots__})


@dataclass(frozen=True, slots=True)
class RequestVoteRequest(_Record):
    mterm: int
    mlastLogTerm: int
    mlastLogIndex: int
    msource: Sid
    mdest: Sid

    def sort_key(self) -> tuple:
        return (0, self.msource, self.mdest, self.mterm, self.mlastLogTerm, self.mlastLogIndex)

    def permute(self, p: Permutation) -> RequestVoteRequest:
        return RequestVoteRequest(self.mterm, self.mlastLogTerm, self.mlastLogIndex, p.sid(self.msource),
                                  p.sid(self.mdest))


@dataclass(frozen=True, slots=True)
class RequestVoteResponse(_Record):
    mterm: int
    mvoteGranted: bool
    mlog: Log  # history field: the voter's log, for the `elections` history variable
    msource: Sid
    mdest: Sid

    def sort_key(self) -> tuple:
        return (1, self.msource, self.mdest, self.mterm, self.mvoteGranted, self.mlog)

    def permute(self, p: Permutation) -> RequestVoteResponse:
        return RequestVoteResponse(self.mterm, self.mvoteGranted, self.mlog, p.sid(self.msource),
                                   p.sid(self.mdest))


@dataclass(frozen=True, slots=True)
class AppendEntriesRequest(_Record):
    mterm: int
    mprevLogIndex: int
    mprevLogTerm: int
    mentries: Log
    mlog: Log  # history field: the leader's whole log
    mcommitIndex: int
    msource: Sid
    mdest: Sid

    def sort_key(self) -> tuple:
        return (2, self.msource, self.mdest, self.mterm, self.mprevLogIndex, self.mprevLogTerm,
                self.mentries, self.mlog, self.mcommitIndex)

    def permute(self, p: Permutation) -> AppendEntriesRequest:
        return AppendEntriesRequest(self.mterm, self.mprevLogIndex, self.mprevLogTerm, self.mentries,
                                    self.mlog, self.mcommitIndex, p.sid(self.msource), p.sid(self.mdest))


@dataclass(frozen=True, slots=True)
class AppendEntriesResponse(_Record):
    mterm: int
    msuccess: bool
    mmatchIndex: int
    msource: Sid
    mdest: Sid

    def sort_key(self) -> tuple:
        return (3, self.msource, self.mdest, self.mterm, self.msuccess, self.mmatchIndex)

    def permute(self, p: Permutation) -> AppendEntriesResponse:
        return AppendEntriesResponse(self.mterm, self.msuccess, self.mmatchIndex, p.sid(self.msource),
                                     p.sid(self.mdest))


Message = RequestVoteRequest | RequestVoteResponse | AppendEntriesRequest | AppendEntriesResponse
#: raft.tla's `messages`: a bag, i.e. a function from message records to counts >= 1.
Bag = frozenset[tuple[Message, int]]
EMPTY_BAG: Bag = frozenset()


def bag_items(bag: Bag) -> list[tuple[Message, int]]:
    """The bag's (message, count) pairs in a fixed order (independent of hashing)."""
    return sorted(bag, key=lambda mc: mc[0].sort_key())


def with_message(m: Message, bag: Bag) -> Bag:
    """raft.tla WithMessage: one more copy of m."""
    return bag_add(m, bag)


def without_message(m: Message, bag: Bag) -> Bag:
    """raft.tla WithoutMessage: one copy fewer of m (removed from the domain at zero; absent: unchanged)."""
    return bag_remove(m, bag)


# ------------------------------------------------------------------------------------- history records


@dataclass(frozen=True, slots=True)
class Election:
    """A record of the `elections` history variable, added by BecomeLeader."""

    eterm: int
    eleader: Sid
    elog: Log
    evotes: frozenset[Sid]
    evoterLog: LogMap

    def permute(self, p: Permutation) -> Election:
        return Election(self.eterm, p.sid(self.eleader), self.elog, frozenset(p.sid(v) for v in self.evotes),
                        tuple(sorted((p.sid(k), lg) for k, lg in self.evoterLog)))


# ------------------------------------------------------------------------------------------ server vars


class ServerVars(NamedTuple):
    """All of raft.tla's per-server variables for one server i (each field is ``var[i]``)."""

    currentTerm: int
    state: str
    votedFor: Sid | None
    log: Log
    commitIndex: int
    votesResponded: frozenset[Sid]
    votesGranted: frozenset[Sid]
    voterLog: LogMap
    nextIndex: tuple[int, ...]  # nextIndex[i][j], indexed by j
    matchIndex: tuple[int, ...]  # matchIndex[i][j], indexed by j

    def permute(self, p: Permutation) -> ServerVars:
        """Rename every server identity this record mentions (the owner's own slot moves separately)."""
        n = len(self.nextIndex)
        inv = p.inverse()
        return self._replace(
            votedFor=None if self.votedFor is None else p.sid(self.votedFor),
            votesResponded=frozenset(p.sid(j) for j in self.votesResponded),
            votesGranted=frozenset(p.sid(j) for j in self.votesGranted),
            voterLog=tuple(sorted((p.sid(j), lg) for j, lg in self.voterLog)),
            nextIndex=tuple(self.nextIndex[inv[k]] for k in range(n)),
            matchIndex=tuple(self.matchIndex[inv[k]] for k in range(n)),
        )


class RaftState(NamedTuple):
    """A state of raft.tla: per-server variables, the message bag, and the history variables."""

    servers: tuple[ServerVars, ...]
    messages: Bag
    elections: frozenset[Election]
    allLogs: frozenset[Log]


#: The groups of state fields a predicate may declare it reads (see invariants.registry).
FIELDS = ("servers", "messages", "elections", "allLogs")


def initial_server(n: int) -> ServerVars:
    """raft.tla Init restricted to one server."""
    return ServerVars(currentTerm=1, state=FOLLOWER, votedFor=NIL, log=(), commitIndex=0,
                      votesResponded=frozenset(), votesGranted=frozenset(), voterLog=(),
                      nextIndex=(1,) * n, matchIndex=(0,) * n)


def initial_state(n: int) -> RaftState:
    """raft.tla Init."""
    return RaftState(servers=(initial_server(n),) * n, messages=EMPTY_BAG, elections=frozenset(),
                     allLogs=frozenset())


def permute_state(s: RaftState, p: Permutation) -> RaftState:
    """The image of s when server k is renamed p[k] (raft.tla is symmetric in Server)."""
    inv = p.inverse()
    return RaftState(
        servers=tuple(s.servers[inv[k]].permute(p) for k in range(len(s.servers))),
        messages=frozenset((m.permute(p), c) for m, c in s.messages),
        elections=frozenset(e.permute(p) for e in s.elections),
        allLogs=s.allLogs,
    )
