"""Immutable states of etcdraft.tla (etcd-io/raft ``tla/etcdraft.tla`` at cdfbeed3, run through MCetcdraft).

Stable API (the trace validator, ``model/etcdraft/trace.py``, builds on these names):

* Servers are the integers ``1..N`` as in MCetcdraft.cfg; ``NIL = 0`` (the spec's ``Nil``).
* :class:`EtcdState` has four fields: ``servers`` (a tuple of :class:`ServerVars`, server ``i`` at index
  ``i - 1``), ``messages`` and ``pendingMessages`` (bags, :data:`Bag`) and the global ``reconfigCount``.
* :class:`ServerVars` groups every per-server variable of the spec for one server ``i``:
  ``currentTerm, state, votedFor, log, commitIndex, votesResponded, votesGranted, matchIndex,
  pendingConfChangeIndex, config, durableState`` (``sv.currentTerm`` is the spec's ``currentTerm[i]``;
  ``sv.matchIndex[j - 1]`` is ``matchIndex[i][j]``).
* A log is a tuple of :class:`Entry` ``(term, type, value)``; ``type`` is :data:`VALUE_ENTRY` or
  :data:`CONFIG_ENTRY`; ``value`` is :class:`ClientValue` (``[val |-> v]``), :data:`EMPTY_VALUE` (``<<>>``,
  appended for a refused configuration change) or :class:`ConfValue` (``[newconf |-> S, learners |-> L]``).
* ``config`` is :class:`Config` (``jointConfig = (incoming, outgoing)`` and ``learners``, frozensets);
  ``durableState`` is :class:`Durable` (``currentTerm, votedFor, log`` (a length), ``commitIndex, config``).
* Messages are :class:`RequestVoteRequest`, :class:`RequestVoteResponse`, :class:`AppendEntriesRequest`,
  :class:`AppendEntriesResponse` (NamedTuples, field names as in the spec, ``mtype`` first so that records of
  different types never compare equal).  A bag is a frozenset of ``(message, count)`` pairs, count >= 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from refmodel.model.core import Permutation, Record, bag_add, bag_remove

# Server states, entry types, message types and Nil, as MCetcdraft.cfg sets them.
FOLLOWER, CANDIDATE, LEADER = "Follower", "Candidate", "Leader"
VALUE_ENTRY, CONFIG_ENTRY = "ValueEntry", "ConfigEntry"
NIL = 0
RV_REQ, RV_RESP = "RequestVoteRequest", "RequestVoteResponse"
AE_REQ, AE_RESP = "AppendEntriesRequest", "AppendEntriesResponse"


def sorted_set(s: frozenset) -> tuple:
    return tuple(sorted(s))


class ClientValue(NamedTuple):
    """The value of a client request's entry: the spec's record ``[val |-> v]``."""

    val: int

    def describe(self) -> str:
        return f"[val |-> {self.val}]"

    def key(self) -> tuple:
        return (0, self.val)


class ConfValue(NamedTuple):
    """The value of a ConfigEntry: ``[newconf |-> S, learners |-> L]``."""

    newconf: frozenset[int]
    learners: frozenset[int]

    def describe(self) -> str:
        return f"[newconf |-> {_set(self.newconf)}, learners |-> {_set(self.learners)}]"

    def key(self) -> tuple:
        return (2, sorted_set(self.newconf), sorted_set(self.learners))


class _Empty(tuple):
    """The spec's ``<<>>``: the value of the ValueEntry a refused configuration change appends."""

    __slots__ = ()

    def describe(self) -> str:
        return "<<>>"

    def key(self) -> tuple:
        return (1,)

    def __repr__(self) -> str:
        return "EMPTY_VALUE"


EMPTY_VALUE = _Empty()


def _set(s: frozenset) -> str:
    return "{" + ", ".join(str(x) for x in sorted(s)) + "}"


class Entry(NamedTuple):
    """A log entry ``[term |-> t, type |-> ValueEntry or ConfigEntry, value |-> v]``."""

    term: int
    type: str
    value: Any  # ClientValue | ConfValue | EMPTY_VALUE

    def describe(self) -> str:
        return f"[term |-> {self.term}, type |-> {self.type}, value |-> {self.value.describe()}]"

    def key(self) -> tuple:
        return (self.term, self.type, self.value.key())

    def itf(self) -> Record:
        v = self.value
        if isinstance(v, ConfValue):
            val: Any = Record(newconf=v.newconf, learners=v.learners)
        elif isinstance(v, ClientValue):
            val = Record(val=v.val)
        else:
            val = ()
        return Record(term=self.term, type=self.type, value=val)


Log = tuple[Entry, ...]


def last_term(log: Log) -> int:
    """etcdraft LastTerm: the term of the last entry, or 0 for an empty log."""
    return log[-1].term if log else 0


def log_key(log: Log) -> tuple:
    return tuple(e.key() for e in log)


class Config(NamedTuple):
    """``config[i]``: ``[jointConfig |-> <<incoming, outgoing>>, learners |-> L]``."""

    jointConfig: tuple[frozenset[int], frozenset[int]]
    learners: frozenset[int]

    def key(self) -> tuple:
        return (sorted_set(self.jointConfig[0]), sorted_set(self.jointConfig[1]), sorted_set(self.learners))


class Durable(NamedTuple):
    """``durableState[i]``: what PersistState saved (``log`` is a length)."""

    currentTerm: int
    votedFor: int
    log: int
    commitIndex: int
    config: Config


class ServerVars(NamedTuple):
    """Every per-server variable of etcdraft.tla for one server i (each field is ``var[i]``)."""

    currentTerm: int
    state: str
    votedFor: int
    log: Log
    commitIndex: int
    votesResponded: frozenset[int]
    votesGranted: frozenset[int]
    matchIndex: tuple[int, ...]  # matchIndex[i][j] at index j - 1
    pendingConfChangeIndex: int
    config: Config
    durableState: Durable


# ---------------------------------------------------------------------------------------------- messages


class RequestVoteRequest(NamedTuple):
    mtype: str
    mterm: int
    mlastLogTerm: int
    mlastLogIndex: int
    msource: int
    mdest: int


class RequestVoteResponse(NamedTuple):
    mtype: str
    mterm: int
    mvoteGranted: bool
    msource: int
    mdest: int


class AppendEntriesRequest(NamedTuple):
    mtype: str
    msubtype: str  # "app", "heartbeat" or "snapshot"
    mterm: int
    mprevLogIndex: int
    mprevLogTerm: int
    mentries: Log
    mcommitIndex: int
    msource: int
    mdest: int


class AppendEntriesResponse(NamedTuple):
    mtype: str
    msubtype: str
    mterm: int
    msuccess: bool
    mmatchIndex: int
    msource: int
    mdest: int


Message = RequestVoteRequest | RequestVoteResponse | AppendEntriesRequest | AppendEntriesResponse


def rv_request(mterm: int, mlastLogTerm: int, mlastLogIndex: int, msource: int, mdest: int) -> RequestVoteRequest:
    return RequestVoteRequest(RV_REQ, mterm, mlastLogTerm, mlastLogIndex, msource, mdest)


def rv_response(mterm: int, mvoteGranted: bool, msource: int, mdest: int) -> RequestVoteResponse:
    return RequestVoteResponse(RV_RESP, mterm, mvoteGranted, msource, mdest)


def ae_request(msubtype: str, mterm: int, mprevLogIndex: int, mprevLogTerm: int, mentries: Log,
               mcommitIndex: int, msource: int, mdest: int) -> AppendEntriesRequest:
    return AppendEntriesRequest(AE_REQ, msubtype, mterm, mprevLogIndex, mprevLogTerm, mentries, mcommitIndex,
                                msource, mdest)


def ae_response(msubtype: str, mterm: int, msuccess: bool, mmatchIndex: int, msource: int,
                mdest: int) -> AppendEntriesResponse:
    return AppendEntriesResponse(AE_RESP, msubtype, mterm, msuccess, mmatchIndex, msource, mdest)


def message_key(m: Message) -> tuple:
    """A total order on messages (independent of hashing): by source, destination, type, then fields."""
    fields = tuple(log_key(v) if f == "mentries" else v for f, v in zip(m._fields, m) if f not in ("msource", "mdest"))
    return (m.msource, m.mdest) + fields


# -------------------------------------------------------------------------------------------------- bags

#: A bag: a frozenset of (message, count) pairs, count >= 1 (the spec's function from messages to counts).
Bag = frozenset
EMPTY_BAG: Bag = frozenset()


def bag_items(bag: Bag) -> list[tuple[Message, int]]:
    """The bag's (message, count) pairs in a fixed order (independent of hashing)."""
    return sorted(bag, key=lambda mc: message_key(mc[0]))


def bag_cardinality(bag: Bag) -> int:
    """Bags BagCardinality: the number of copies."""
    return sum(c for _, c in bag)


def with_message(m: Message, bag: Bag) -> Bag:
    """etcdraft WithMessage: one more copy of m."""
    return bag_add(m, bag)


def without_message(m: Message, bag: Bag) -> Bag:
    """etcdraft WithoutMessage (Bags (-)): one copy fewer of m; gone at zero; absent: unchanged."""
    return bag_remove(m, bag)


def pending_from(bag: Bag, i: int) -> Bag:
    """etcdraft PendingMessages(i): the sub-bag of messages sent by i."""
    return frozenset((m, c) for m, c in bag if m.msource == i)


def bag_sum(a: Bag, b: Bag) -> Bag:
    """Bags (+)."""
    d = dict(a)
    for m, c in b:
        d[m] = d.get(m, 0) + c
    return frozenset(d.items())


def bag_minus_all_from(bag: Bag, i: int) -> Bag:
    """``bag (-) PendingMessages(i)``: the messages not sent by i."""
    return frozenset((m, c) for m, c in bag if m.msource != i)


# ------------------------------------------------------------------------------------------------ states


class EtcdState(NamedTuple):
    """A state of MCetcdraft: per-server variables, both message bags and the global reconfigCount."""

    servers: tuple[ServerVars, ...]
    messages: Bag
    pendingMessages: Bag
    reconfigCount: int


#: The groups of state fields a predicate may declare it reads.
FIELDS = ("servers", "messages", "pendingMessages", "reconfigCount")


def persisted(sv: ServerVars) -> Durable:
    """etcdraft PersistState(i)'s record (also InitDurableState's)."""
    return Durable(sv.currentTerm, sv.votedFor, len(sv.log), sv.commitIndex, sv.config)


def bootstrap_log(init_servers: int) -> Log:
    """MCetcdraft BootstrapLog: one term-1 ConfigEntry per initial server, entry k listing the first k
    servers of SetToSeq(InitServer) = <<1, ..., I>> (so entry k's newconf is {1..k}, no learners).

    The order only names the servers (the counts are the same either way, by symmetry); this is the order
    the shared reference notes state (entry k lists the first k servers)."""
    return tuple(Entry(1, CONFIG_ENTRY, ConfValue(frozenset(range(1, k + 1)), frozenset()))
                 for k in range(1, init_servers + 1))


def initial_state(init_servers: int, servers: int) -> EtcdState:
    """MCetcdraft's Init: etcdInitServerVars, etcdInitLogVars, etcdInitConfigVars, InitDurableState."""
    init = frozenset(range(1, init_servers + 1))
    out = []
    for i in range(1, servers + 1):
        boot = i in init
        cfg = Config((init if boot else frozenset(), frozenset()), frozenset())
        log = bootstrap_log(init_servers) if boot else ()
        sv = ServerVars(currentTerm=1 if boot else 0, state=FOLLOWER, votedFor=NIL, log=log,
                        commitIndex=init_servers if boot else 0, votesResponded=frozenset(),
                        votesGranted=frozenset(), matchIndex=(0,) * servers, pendingConfChangeIndex=0,
                        config=cfg, durableState=None)  # type: ignore[arg-type]
        out.append(sv._replace(durableState=persisted(sv)))
    return EtcdState(tuple(out), EMPTY_BAG, EMPTY_BAG, 0)


# ------------------------------------------------------------------------------------------------ symmetry


def _rename(p: Permutation) -> Callable[[int], int]:
    """Server x (1-based; 0 is Nil) under permutation p of 0-based identities."""
    return lambda x: 0 if x == NIL else p[x - 1] + 1


def _rename_set(f: Callable[[int], int], s: frozenset[int]) -> frozenset[int]:
    return frozenset(f(x) for x in s)


def _permute_config(f: Callable[[int], int], c: Config) -> Config:
    return Config((_rename_set(f, c.jointConfig[0]), _rename_set(f, c.jointConfig[1])), _rename_set(f, c.learners))


def _permute_log(f: Callable[[int], int], log: Log) -> Log:
    return tuple(e._replace(value=ConfValue(_rename_set(f, e.value.newconf), _rename_set(f, e.value.learners)))
                 if isinstance(e.value, ConfValue) else e for e in log)


def _permute_message(f: Callable[[int], int], m: Message) -> Message:
    m = m._replace(msource=f(m.msource), mdest=f(m.mdest))
    return m._replace(mentries=_permute_log(f, m.mentries)) if isinstance(m, AppendEntriesRequest) else m


def permute_server(sv: ServerVars, p: Permutation) -> ServerVars:
    """Server record sv with every server k+1 it mentions renamed p[k]+1 (its own slot moves separately)."""
    f = _rename(p)
    inv = p.inverse()
    d = sv.durableState
    return sv._replace(
        votedFor=f(sv.votedFor), log=_permute_log(f, sv.log),
        votesResponded=_rename_set(f, sv.votesResponded), votesGranted=_rename_set(f, sv.votesGranted),
        matchIndex=tuple(sv.matchIndex[inv[j]] for j in range(len(sv.matchIndex))),
        config=_permute_config(f, sv.config),
        durableState=d._replace(votedFor=f(d.votedFor), config=_permute_config(f, d.config)))


def permute_bag(bag: Bag, p: Permutation) -> Bag:
    """A bag with every server renamed by p."""
    f = _rename(p)
    return frozenset((_permute_message(f, m), c) for m, c in bag)


def permute_state(s: EtcdState, p: Permutation) -> EtcdState:
    """The image of s when server k+1 is renamed p[k]+1 everywhere (etcdraft.tla is symmetric in Server up to
    the bootstrap log, which names the initial servers)."""
    inv = p.inverse()
    servers = tuple(permute_server(s.servers[inv[k]], p) for k in range(len(s.servers)))
    return EtcdState(servers, permute_bag(s.messages, p), permute_bag(s.pendingMessages, p), s.reconfigCount)
