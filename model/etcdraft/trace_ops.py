"""etcdraft.tla's variables and the operators trace validation calls, as pure functions with parameters.

STAND-IN: the project's port of etcdraft.tla (``model/etcdraft/state.py`` and ``actions.py``, written on
another branch) had not landed when trace validation was written, so this module carries the operators
Traceetcdraft.tla uses, one function per TLA+ operator, read from ``tla/etcdraft.tla`` at etcd-io/raft
cdfbeed3.  Each returns the successor state, or ``None`` when the operator's guard is false.  When the port
lands, these become thin calls into it (same names, same parameters).

Representation (chosen for trace validation, where the frontier holds a handful of states):

* servers are etcd node ids (strings, as the trace logs them), ``Nil = "0"``; per-server variables of server
  ``k`` (the k-th id of :attr:`EState.ids`) live in ``EState.servers[k]``; ``matchIndex[i]`` is a tuple in
  the same order;
* bags are frozensets of ``(message, copy)`` pairs, copies numbered 1..count, so that adding and removing
  one copy keeps the hashes of every other element;
* log entries are ``[term, type, value]`` records; a client value is ``[val |-> v]``, a refused
  configuration change ``<<>>``, a configuration ``[newconf, learners]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from refmodel.model.core import Record

FOLLOWER, CANDIDATE, LEADER = "StateFollower", "StateCandidate", "StateLeader"
NIL = "0"
VALUE_ENTRY, CONFIG_ENTRY = "ValueEntry", "ConfigEntry"

# -------------------------------------------------------------------------------------------- values


class ClientValue(NamedTuple):
    val: int


class ConfValue(NamedTuple):
    newconf: frozenset
    learners: frozenset


class Entry(NamedTuple):
    term: int
    type: str
    value: Any  # ClientValue, ConfValue or () (a refused change's empty entry)


class Config(NamedTuple):
    jointConfig: tuple[frozenset, frozenset]
    learners: frozenset


class Durable(NamedTuple):
    currentTerm: int
    votedFor: str
    log: int
    commitIndex: int
    config: Config


class RVRequest(NamedTuple):
    mtype: str
    mterm: int
    mlastLogTerm: int
    mlastLogIndex: int
    msource: str
    mdest: str


class RVResponse(NamedTuple):
    mtype: str
    mterm: int
    mvoteGranted: bool
    msource: str
    mdest: str


class AERequest(NamedTuple):
    mtype: str
    msubtype: str
    mterm: int
    mprevLogIndex: int
    mprevLogTerm: int
    mentries: tuple
    mcommitIndex: int
    msource: str
    mdest: str


class AEResponse(NamedTuple):
    mtype: str
    msubtype: str
    mterm: int
    msuccess: bool
    mmatchIndex: int
    msource: str
    mdest: str


class Server(NamedTuple):
    """The per-server variables of one server."""

    currentTerm: int
    state: str
    votedFor: str
    log: tuple
    commitIndex: int
    votesResponded: frozenset
    votesGranted: frozenset
    matchIndex: tuple  # by server position
    pendingConfChangeIndex: int
    config: Config
    durableState: Durable


class EState(NamedTuple):
    ids: tuple[str, ...]
    servers: tuple[Server, ...]
    messages: frozenset
    pending: frozenset
    reconfigCount: int


Bag = frozenset

# ---------------------------------------------------------------------------------------------- bags


def bag_count(bag: Bag, m: Any) -> int:
    k = 0
    while (m, k + 1) in bag:
        k += 1
    return k


def bag_add(bag: Bag, m: Any) -> Bag:
    """``bag (+) SetToBag({m})``."""
    return bag | {(m, bag_count(bag, m) + 1)}


def bag_remove(bag: Bag, m: Any) -> Bag:
    """``bag (-) SetToBag({m})`` (a message not in the bag leaves it unchanged)."""
    c = bag_count(bag, m)
    return bag - {(m, c)} if c else bag


def bag_domain(bag: Bag) -> list[Any]:
    """``DOMAIN bag``, in a deterministic order."""
    return sorted((m for m, k in bag if k == 1), key=msg_str)


def bag_added(before: Bag, after: Bag) -> list[Any]:
    """The messages of which ``after`` has more copies than ``before``."""
    return sorted({m for m, _ in after - before}, key=msg_str)


def bag_as_function(bag: Bag) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for m, k in bag:
        out[m] = max(out.get(m, 0), k)
    return out


def msg_str(m: Any) -> str:
    """A one-line rendering of a message (also the sort key of messages)."""
    if m.mtype == "AppendEntriesRequest":
        return (f"AppendEntriesRequest[{m.msubtype}] {m.msource}->{m.mdest} term {m.mterm} "
                f"prev ({m.mprevLogIndex}, {m.mprevLogTerm}) entries {len(m.mentries)} commit {m.mcommitIndex}")
    if m.mtype == "AppendEntriesResponse":
        return (f"AppendEntriesResponse[{m.msubtype}] {m.msource}->{m.mdest} term {m.mterm} "
                f"success {str(m.msuccess).lower()} matchIndex {m.mmatchIndex}")
    if m.mtype == "RequestVoteRequest":
        return (f"RequestVoteRequest {m.msource}->{m.mdest} term {m.mterm} lastLog ({m.mlastLogIndex}, "
                f"{m.mlastLogTerm})")
    return f"RequestVoteResponse {m.msource}->{m.mdest} term {m.mterm} granted {str(m.mvoteGranted).lower()}"


# ----------------------------------------------------------------------------------------- init


def init_server(ids: tuple[str, ...], role: str, term: int, vote: str, log_len: int, commit: int,
                conf: frozenset) -> Server:
    """One server of Traceetcdraft's initial state: a bootstrap log of ``log_len`` term-1 ConfigEntry entries
    naming ``conf``; durable state as the state itself (InitDurableState)."""
    config = Config((frozenset(conf), frozenset()), frozenset())
    entry = Entry(1, CONFIG_ENTRY, ConfValue(frozenset(conf), frozenset()))
    return Server(currentTerm=term, state=role, votedFor=vote, log=(entry,) * log_len, commitIndex=commit,
                  votesResponded=frozenset(), votesGranted=frozenset(), matchIndex=(0,) * len(ids),
                  pendingConfChangeIndex=0, config=config,
                  durableState=Durable(term, vote, log_len, commit, config))


def init_state(ids: Iterable[str], servers: Iterable[Server]) -> EState:
    return EState(tuple(ids), tuple(servers), frozenset(), frozenset(), 0)


# --------------------------------------------------------------------------------------- helpers


def _put(t: tuple, k: int, v: Any) -> tuple:
    return t[:k] + (v,) + t[k + 1:]


def _set(st: EState, i: int, sv: Server, **kw: Any) -> EState:
    return st._replace(servers=_put(st.servers, i, sv), **kw)


def is_quorum(members: frozenset, conf: frozenset) -> bool:
    """``members \\in Quorum(conf)``: a subset of conf, more than half of it."""
    return members <= conf and len(members) * 2 > len(conf)


def last_term(log: tuple) -> int:
    return log[-1].term if log else 0


def get_config(sv: Server) -> frozenset:
    return sv.config.jointConfig[0]


def is_joint(sv: Server) -> bool:
    return bool(sv.config.jointConfig[1])


def send(st: EState, m: Any) -> EState:
    return st._replace(pending=bag_add(st.pending, m))


def discard(st: EState, m: Any) -> EState:
    return st._replace(messages=bag_remove(st.messages, m))


def reply(st: EState, response: Any, request: Any) -> EState:
    return st._replace(pending=bag_add(st.pending, response), messages=bag_remove(st.messages, request))


def commit_to(sv: Server, c: int) -> Server:
    return sv._replace(commitIndex=max(sv.commitIndex, c))


def become_follower_of_term(sv: Server, t: int) -> Server:
    return sv._replace(currentTerm=t, state=FOLLOWER, votedFor=NIL if sv.currentTerm != t else sv.votedFor)


# ------------------------------------------------------------------------------------------ actions


def restart(st: EState, i: int) -> EState:
    """Restart(i)."""
    sv = st.servers[i]
    ds = sv.durableState
    me = st.ids[i]
    new = sv._replace(state=FOLLOWER, votesResponded=frozenset(), votesGranted=frozenset(),
                      matchIndex=(0,) * len(st.ids), pendingConfChangeIndex=0, currentTerm=ds.currentTerm,
                      commitIndex=ds.commitIndex, votedFor=ds.votedFor, log=sv.log[:ds.log], config=ds.config)
    pending = frozenset(x for x in st.pending if x[0].msource != me)
    return _set(st, i, new, pending=pending)


def timeout(st: EState, i: int) -> EState | None:
    """Timeout(i)."""
    sv = st.servers[i]
    if sv.state not in (FOLLOWER, CANDIDATE) or st.ids[i] not in get_config(sv):
        return None
    return _set(st, i, sv._replace(state=CANDIDATE, currentTerm=sv.currentTerm + 1, votedFor=st.ids[i],
                                   votesResponded=frozenset(), votesGranted=frozenset()))


def request_vote(st: EState, i: int, j: int) -> EState | None:
    """RequestVote(i, j)."""
    sv = st.servers[i]
    me, to = st.ids[i], st.ids[j]
    if sv.state != CANDIDATE or to not in (get_config(sv) | sv.config.learners) or to in sv.votesResponded:
        return None
    if i != j:
        m = RVRequest("RequestVoteRequest", sv.currentTerm, last_term(sv.log), len(sv.log), me, to)
    else:
        m = RVResponse("RequestVoteResponse", sv.currentTerm, True, me, me)
    return send(st, m)


def append_entries_in_range_to_peer(st: EState, subtype: str, i: int, j: int, b: int, e: int) -> EState | None:
    """AppendEntriesInRangeToPeer(subtype, i, j, <<b, e>>)."""
    sv = st.servers[i]
    to = st.ids[j]
    if i == j or b > e or sv.state != LEADER or to not in (get_config(sv) | sv.config.learners):
        return None
    prev_index = b - 1
    prev_term = sv.log[prev_index - 1].term if 0 < prev_index <= len(sv.log) else 0
    last_entry = min(len(sv.log), e - 1)
    entries = sv.log[b - 1:last_entry]
    commit = min(sv.commitIndex, sv.matchIndex[j]) if subtype == "heartbeat" else min(sv.commitIndex, last_entry)
    return send(st, AERequest("AppendEntriesRequest", subtype, sv.currentTerm, prev_index, prev_term, entries,
                              commit, st.ids[i], to))


def append_entries(st: EState, i: int, j: int, b: int, e: int) -> EState | None:
    """AppendEntries(i, j, <<b, e>>)."""
    return append_entries_in_range_to_peer(st, "app", i, j, b, e)


def heartbeat(st: EState, i: int, j: int) -> EState | None:
    """Heartbeat(i, j)."""
    return append_entries_in_range_to_peer(st, "heartbeat", i, j, 1, 1)


def send_snapshot(st: EState, i: int, j: int, index: int) -> EState | None:
    """SendSnapshot(i, j, index)."""
    return append_entries_in_range_to_peer(st, "snapshot", i, j, 1, index + 1)


def append_entries_to_self(st: EState, i: int) -> EState | None:
    """AppendEntriesToSelf(i)."""
    sv = st.servers[i]
    if sv.state != LEADER:
        return None
    me = st.ids[i]
    return send(st, AEResponse("AppendEntriesResponse", "app", sv.currentTerm, True, len(sv.log), me, me))


def become_leader(st: EState, i: int) -> EState | None:
    """BecomeLeader(i)."""
    sv = st.servers[i]
    if sv.state != CANDIDATE or not is_quorum(sv.votesGranted, get_config(sv)):
        return None
    match = tuple(len(sv.log) if k == i else 0 for k in range(len(st.ids)))
    return _set(st, i, sv._replace(state=LEADER, matchIndex=match))


def replicate(sv: Server, v: Any, t: str) -> Server:
    """Replicate(i, v, t) (the guard state[i] = Leader is checked by the callers)."""
    return sv._replace(log=sv.log + (Entry(sv.currentTerm, t, v),))


def client_request(st: EState, i: int, v: int) -> EState | None:
    """ClientRequest(i, v)."""
    sv = st.servers[i]
    if sv.state != LEADER:
        return None
    return _set(st, i, replicate(sv, ClientValue(v), VALUE_ENTRY))


def advance_commit_index(st: EState, i: int) -> EState | None:
    """AdvanceCommitIndex(i)."""
    sv = st.servers[i]
    if sv.state != LEADER:
        return None
    conf = get_config(sv)
    pos = {s: k for k, s in enumerate(st.ids)}
    matches = sorted((sv.matchIndex[pos[k]] for k in conf), reverse=True)
    # the largest index that a quorum of conf agrees on: the (|conf| div 2 + 1)-th largest matchIndex
    need = len(conf) // 2 + 1
    best = min(matches[need - 1], len(sv.log)) if len(matches) >= need else 0
    new = best if best >= 1 and sv.log[best - 1].term == sv.currentTerm else sv.commitIndex
    return _set(st, i, commit_to(sv, new))


def _change(st: EState, i: int, j: int, ok: bool, value: ConfValue) -> EState | None:
    sv = st.servers[i]
    if not ok:
        return None
    if sv.pendingConfChangeIndex == 0:
        new = replicate(sv, value, CONFIG_ENTRY)
        new = new._replace(pendingConfChangeIndex=len(new.log))
    else:
        new = replicate(sv, (), VALUE_ENTRY)
    return _set(st, i, new)


def add_new_server(st: EState, i: int, j: int) -> EState | None:
    """AddNewServer(i, j)."""
    sv = st.servers[i]
    to = st.ids[j]
    ok = sv.state == LEADER and to not in get_config(sv) and not is_joint(sv)
    return _change(st, i, j, ok, ConfValue(get_config(sv) | {to}, sv.config.learners))


def add_learner(st: EState, i: int, j: int) -> EState | None:
    """AddLearner(i, j)."""
    sv = st.servers[i]
    to = st.ids[j]
    ok = sv.state == LEADER and to not in (get_config(sv) | sv.config.learners) and not is_joint(sv)
    return _change(st, i, j, ok, ConfValue(get_config(sv), sv.config.learners | {to}))


def delete_server(st: EState, i: int, j: int) -> EState | None:
    """DeleteServer(i, j)."""
    sv = st.servers[i]
    to = st.ids[j]
    ok = sv.state == LEADER and to in (get_config(sv) | sv.config.learners) and not is_joint(sv)
    return _change(st, i, j, ok, ConfValue(get_config(sv) - {to}, sv.config.learners - {to}))


def apply_simple_conf_change(st: EState, i: int) -> EState | None:
    """ApplySimpleConfChange(i)."""
    sv = st.servers[i]
    if is_joint(sv):
        return None
    k = next((n for n in range(min(sv.commitIndex, len(sv.log)), 0, -1) if sv.log[n - 1].type == CONFIG_ENTRY), 0)
    if k == 0:
        return None
    value = sv.log[k - 1].value
    new = sv._replace(config=Config((value.newconf, frozenset()), value.learners))
    if sv.state == LEADER and sv.pendingConfChangeIndex >= k:
        return _set(st, i, new._replace(pendingConfChangeIndex=0), reconfigCount=st.reconfigCount + 1)
    return _set(st, i, new)


def ready(st: EState, i: int) -> EState:
    """Ready(i): PersistState(i) and SendPendingMessages(i)."""
    sv = st.servers[i]
    me = st.ids[i]
    new = sv._replace(durableState=Durable(sv.currentTerm, sv.votedFor, len(sv.log), sv.commitIndex, sv.config))
    mine = [m for m, k in st.pending if k == 1 and m.msource == me]
    messages = st.messages
    for m in sorted(mine, key=msg_str):
        for _ in range(bag_count(st.pending, m)):
            messages = bag_add(messages, m)
    pending = frozenset(x for x in st.pending if x[0].msource != me)
    return _set(st, i, new, messages=messages, pending=pending)


def step_down_to_follower(st: EState, i: int) -> EState | None:
    """StepDownToFollower(i)."""
    sv = st.servers[i]
    if sv.state not in (LEADER, CANDIDATE):
        return None
    return _set(st, i, become_follower_of_term(sv, sv.currentTerm))


# ------------------------------------------------------------------------------------ message handlers


def _has_no_conflict(sv: Server, index: int, ents: tuple) -> bool:
    if index > len(sv.log) + 1:
        return False
    return all(sv.log[index + k - 2].term == ents[k - 1].term
               for k in range(1, len(ents) + 1) if index + k - 1 <= len(sv.log))


def receive(st: EState, m: Any, i: int, j: int) -> list[tuple[str, EState]]:
    """Receive(m) (i = m.mdest, j = m.msource at positions ``i``, ``j``): every enabled disjunct, named by the
    operator that takes the step, with its successor."""
    sv = st.servers[i]
    me, frm = st.ids[i], st.ids[j]
    out: list[tuple[str, EState]] = []
    if m.mterm > sv.currentTerm:  # UpdateTerm(i, j, m)
        out.append(("UpdateTerm", _set(st, i, become_follower_of_term(sv, m.mterm))))
    if m.mtype == "RequestVoteRequest" and m.mterm <= sv.currentTerm:  # HandleRequestVoteRequest
        log_ok = (m.mlastLogTerm > last_term(sv.log)
                  or (m.mlastLogTerm == last_term(sv.log) and m.mlastLogIndex >= len(sv.log)))
        grant = m.mterm == sv.currentTerm and log_ok and sv.votedFor in (NIL, frm)
        new = sv._replace(votedFor=frm) if grant else sv
        resp = RVResponse("RequestVoteResponse", sv.currentTerm, grant, me, frm)
        out.append(("HandleRequestVoteRequest", reply(_set(st, i, new), resp, m)))
    elif m.mtype in ("RequestVoteResponse", "AppendEntriesResponse"):
        if m.mterm < sv.currentTerm:  # DropStaleResponse
            out.append(("DropStaleResponse", discard(st, m)))
        elif m.mterm == sv.currentTerm and m.mtype == "RequestVoteResponse":  # HandleRequestVoteResponse
            new = sv._replace(votesResponded=sv.votesResponded | {frm},
                              votesGranted=sv.votesGranted | {frm} if m.mvoteGranted else sv.votesGranted)
            out.append(("HandleRequestVoteResponse", discard(_set(st, i, new), m)))
        elif m.mterm == sv.currentTerm:  # HandleAppendEntriesResponse
            new = sv
            if m.msuccess:
                new = sv._replace(matchIndex=_put(sv.matchIndex, j, max(sv.matchIndex[j], m.mmatchIndex)))
            out.append(("HandleAppendEntriesResponse", discard(_set(st, i, new), m)))
    elif m.mtype == "AppendEntriesRequest" and m.mterm <= sv.currentTerm:
        out.extend(_handle_append_entries_request(st, m, i, sv, me, frm))
    return out


def _handle_append_entries_request(st: EState, m: AERequest, i: int, sv: Server, me: str, frm: str
                                   ) -> list[tuple[str, EState]]:
    out = []
    log_ok = (m.mprevLogIndex == 0
              or (0 < m.mprevLogIndex <= len(sv.log) and m.mprevLogTerm == sv.log[m.mprevLogIndex - 1].term))
    if m.mterm < sv.currentTerm or (m.mterm == sv.currentTerm and sv.state == FOLLOWER and not log_ok):
        resp = AEResponse("AppendEntriesResponse", "app", sv.currentTerm, False, 0, me, frm)
        out.append(("RejectAppendEntriesRequest", reply(st, resp, m)))
    if m.mterm == sv.currentTerm and sv.state == CANDIDATE:
        out.append(("ReturnToFollowerState", _set(st, i, sv._replace(state=FOLLOWER))))
    if m.mterm == sv.currentTerm and sv.state == FOLLOWER and log_ok:
        index = m.mprevLogIndex + 1
        n = len(m.mentries)
        no_conflict = _has_no_conflict(sv, index, m.mentries)
        if index <= sv.commitIndex or (not m.mentries or (m.mprevLogIndex + n <= len(sv.log) and no_conflict)):
            if index <= sv.commitIndex:
                new = commit_to(sv, m.mcommitIndex) if m.msubtype == "heartbeat" else sv
            else:
                new = commit_to(sv, min(m.mcommitIndex, m.mprevLogIndex + n))
            match = (m.mprevLogIndex + n if m.msubtype == "heartbeat" or index > sv.commitIndex
                     else sv.commitIndex)
            resp = AEResponse("AppendEntriesResponse", m.msubtype, sv.currentTerm, True, match, me, frm)
            out.append(("AppendEntriesAlreadyDone", reply(_set(st, i, new), resp, m)))
        if m.mentries and index > sv.commitIndex and not no_conflict:
            out.append(("ConflictAppendEntriesRequest", _set(st, i, sv._replace(log=sv.log[:-1]))))
        if m.mentries and index > sv.commitIndex and no_conflict:
            # log \o SubSeq(m.mentries, Len(log) - index + 2, Len(m.mentries))
            start = len(sv.log) - index + 2
            out.append(("NoConflictAppendEntriesRequest",
                        _set(st, i, sv._replace(log=sv.log + m.mentries[max(start, 1) - 1:]))))
    return out


# ----------------------------------------------------------------------------------------------- ITF


def itf_vars(st: EState) -> dict[str, Any]:
    """The state as etcdraft.tla's 14 variables (functions over the node ids)."""
    ids = st.ids

    def fn(get: Any) -> dict[str, Any]:
        return {s: get(sv) for s, sv in zip(ids, st.servers)}

    def entry(e: Entry) -> Record:
        v = e.value
        if isinstance(v, ClientValue):
            val: Any = Record(val=v.val)
        elif isinstance(v, ConfValue):
            val = Record(newconf=v.newconf, learners=v.learners)
        else:
            val = ()
        return Record(term=e.term, type=e.type, value=val)

    def conf(c: Config) -> Record:
        return Record(jointConfig=c.jointConfig, learners=c.learners)

    def msg(m: Any) -> Record:
        r = Record(m._asdict())
        if "mentries" in r:
            r["mentries"] = tuple(entry(e) for e in r["mentries"])
        return r

    def bag(b: Bag) -> dict[Any, int]:
        return {_Hashable(msg(m)): c for m, c in bag_as_function(b).items()}

    return {
        "messages": bag(st.messages),
        "pendingMessages": bag(st.pending),
        "currentTerm": fn(lambda sv: sv.currentTerm),
        "state": fn(lambda sv: sv.state),
        "votedFor": fn(lambda sv: sv.votedFor),
        "log": fn(lambda sv: tuple(entry(e) for e in sv.log)),
        "commitIndex": fn(lambda sv: sv.commitIndex),
        "votesResponded": fn(lambda sv: sv.votesResponded),
        "votesGranted": fn(lambda sv: sv.votesGranted),
        "matchIndex": fn(lambda sv: dict(zip(ids, sv.matchIndex))),
        "pendingConfChangeIndex": fn(lambda sv: sv.pendingConfChangeIndex),
        "config": fn(lambda sv: conf(sv.config)),
        "reconfigCount": st.reconfigCount,
        "durableState": fn(lambda sv: Record(currentTerm=sv.durableState.currentTerm,
                                              votedFor=sv.durableState.votedFor, log=sv.durableState.log,
                                              commitIndex=sv.durableState.commitIndex,
                                              config=conf(sv.durableState.config))),
    }


class _Hashable:
    """A record used as a function key (a bag's message): encodes as the record."""

    __slots__ = ("rec",)

    def __init__(self, rec: Record) -> None:
        self.rec = rec

    def itf(self) -> Record:
        return self.rec
