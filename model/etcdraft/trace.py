"""etcd raft traces against etcdraft.tla: how each recorded event maps to spec steps (as Traceetcdraft.tla does).

etcd-io/raft (built with the ``with_tla`` tag) logs one ``TracingEvent`` per state-machine event, as NDJSON
zap records whose ``event`` is ``{name, nid, role, state{term,vote,commit}, log, conf, msg{...}, prop{cc}}``.
:func:`parse_trace` reads them; :class:`EtcdTraceMapping` tells the generic search
(:mod:`refmodel.checkers.trace_validate`) which spec steps explain each event from a given model state, and
which observed fields must agree.  The rules are those of etcd-io/raft's ``tla/Traceetcdraft.tla``
(cdfbeed3):

* Servers: every ``nid``, plus the target of a ChangeConf whose first change is AddNewServer or AddLearner.
  Each server's lines from its first InitState/BecomeFollower/ApplyConfChange up to (not including) its first
  other event are its *bootstrap*: the last of them gives its initial term, role, vote and commit, a log of that
  many term-1 ConfigEntry entries, and its configuration (the ``newconf`` of an ApplyConfChange, else ``conf``).
  Bootstrap lines are consumed without a step.
* One event, one action, with the parameters the event fixes (never an enumeration of every action): see
  :meth:`EtcdTraceMapping.steps`.  Responses sent to another server, and a BecomeFollower that the same
  node's previous receive explains, take no step (the receive produced them).
* A receive line matches any message of ``messages`` carrying the logged fields.  It takes a chain of
  ``Receive`` steps (UpdateTerm, log truncations, an append) and ends at the step that consumes the message;
  the receiver's state is compared before the first step only.
* Compared: the node's term, role, vote, log length, commit index and configuration, after the step for
  sends, BecomeLeader, Commit, restarts and step-downs; before it for receives; role and term only for
  BecomeCandidate; nothing for Replicate, ChangeConf, ApplyConfChange and Ready.  Entry contents, learners,
  tallies, matchIndex, durable state and the rest of the bags stay hidden.

Every spec step is a call of the project's port of the operator (:mod:`refmodel.model.etcdraft.actions`, the
plain etcdraft.tla forms: Traceetcdraft.tla extends etcdraft, not MCetcdraft) with the parameters the event
fixes.  Servers are numbered 1..N in the numeric order of their node ids (``Nil`` is node id ``"0"``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refmodel.model.trace import Mismatch, TraceEvent
from refmodel.model.core import Label
from refmodel.model.etcdraft import actions as A
from refmodel.model.etcdraft.system import EtcdRaft
from refmodel.model.etcdraft.config import EtcdRaftConfig
from refmodel.model.etcdraft.state import (
    CANDIDATE,
    CONFIG_ENTRY,
    EMPTY_BAG,
    FOLLOWER,
    LEADER,
    NIL,
    Config,
    ConfValue,
    Entry,
    EtcdState,
    Message,
    ServerVars,
    message_key,
    persisted,
)

# ------------------------------------------------------------------------------------------------ parsing


class TraceInputError(ValueError):
    """A trace file is malformed; the message is one line naming the file, the 1-based line and the field."""


#: Event names etcd's trace logger writes (state_trace.go at cdfbeed3), and those of the unmerged variant
#: (pull requests #204/#226) that etcdraft.tla at cdfbeed3 has no action for.
EVENT_NAMES = frozenset({
    "InitState", "BecomeCandidate", "BecomeFollower", "BecomeLeader", "Commit", "Replicate", "ChangeConf",
    "ApplyConfChange", "Ready", "SendAppendEntriesRequest", "ReceiveAppendEntriesRequest",
    "SendAppendEntriesResponse", "ReceiveAppendEntriesResponse", "SendRequestVoteRequest",
    "ReceiveRequestVoteRequest", "SendRequestVoteResponse", "ReceiveRequestVoteResponse", "SendSnapshot",
    "ReceiveSnapshot", "ReduceNextIndex",
})
UNMAPPED_EVENT_NAMES = frozenset({"Advance", "Bootstrap"})
RECEIVE_NAMES = frozenset({"ReceiveAppendEntriesRequest", "ReceiveAppendEntriesResponse", "ReceiveRequestVoteRequest",
                           "ReceiveRequestVoteResponse", "ReceiveSnapshot"})
#: the message type each receive event name matches (LoglineIsReceivedMessage)
RECEIVE_TYPES = {"ReceiveAppendEntriesRequest": "AppendEntriesRequest", "ReceiveAppendEntriesResponse":
                 "AppendEntriesResponse", "ReceiveRequestVoteRequest": "RequestVoteRequest",
                 "ReceiveRequestVoteResponse": "RequestVoteResponse", "ReceiveSnapshot": "AppendEntriesRequest"}
BOOTSTRAP_NAMES = frozenset({"InitState", "BecomeFollower", "ApplyConfChange"})
MESSAGE_EVENTS = RECEIVE_NAMES | {"SendAppendEntriesRequest", "SendAppendEntriesResponse", "SendRequestVoteRequest",
                                  "SendRequestVoteResponse", "SendSnapshot"}
ROLES = {"StateFollower": FOLLOWER, "StateCandidate": CANDIDATE, "StateLeader": LEADER}
#: raft.pb.go message types -> (spec message type, subtype)
MSG_TYPES = {
    "MsgApp": ("AppendEntriesRequest", "app"), "MsgAppResp": ("AppendEntriesResponse", "app"),
    "MsgVote": ("RequestVoteRequest", None), "MsgVoteResp": ("RequestVoteResponse", None),
    "MsgHeartbeat": ("AppendEntriesRequest", "heartbeat"), "MsgHeartbeatResp": ("AppendEntriesResponse", "heartbeat"),
    "MsgSnap": ("AppendEntriesRequest", "snapshot"),
}
CONF_ACTIONS = {"AddNewServer", "RemoveServer", "AddLearner"}


@dataclass(frozen=True)
class Observed:
    """The fields of one event the spec compares (node state) or matches (message)."""

    nid: str
    role: str
    term: int
    vote: str
    commit: int
    log: int
    conf: tuple[frozenset, frozenset]


@dataclass(frozen=True)
class ObservedMsg:
    type: str
    mtype: str
    subtype: str | None
    term: int
    src: str
    dst: str
    entries: int
    log_term: int
    index: int
    commit: int
    reject: bool


@dataclass(frozen=True)
class EtcdEvent:
    """An event's parsed data (the ``data`` of a :class:`TraceEvent`)."""

    obs: Observed
    msg: ObservedMsg | None = None
    change: tuple[str, str] | None = None  # ChangeConf: its first change (action, target nid)
    n_changes: int = 0  # ChangeConf: how many changes (the spec models one)
    newconf: frozenset | None = None  # ApplyConfChange: prop.cc.newconf, if logged
    skip: bool = False  # a line the spec consumes without a step (set by parse_trace)
    bootstrap: bool = False


def _get(d: Any, path: str, where: str, kind: type | tuple[type, ...]) -> Any:
    cur = d
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            raise TraceInputError(f"{where}: missing field '{path}'")
        cur = cur[part]
    if kind is int and (isinstance(cur, bool) or not isinstance(cur, int)):
        raise TraceInputError(f"{where}: field '{path}' must be an integer, not {json.dumps(cur)}")
    if kind is not int and not isinstance(cur, kind):
        names = {str: "a string", bool: "a boolean", list: "a list", dict: "an object"}
        want = names.get(kind, "valid")  # type: ignore[call-overload]
        raise TraceInputError(f"{where}: field '{path}' must be {want}, not {json.dumps(cur)}")
    return cur


def _nids(v: Any, where: str, path: str) -> frozenset:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise TraceInputError(f"{where}: field '{path}' must be a list of node ids (strings)")
    return frozenset(v)


def parse_record(ev: Any, where: str) -> tuple[str, EtcdEvent]:
    """One ``event`` object: its name and parsed data (:class:`TraceInputError` on a missing or bad field)."""
    if not isinstance(ev, dict):
        raise TraceInputError(f"{where}: field 'event' must be an object")
    name = _get(ev, "name", where, str)
    if name not in EVENT_NAMES and name not in UNMAPPED_EVENT_NAMES:
        raise TraceInputError(f"{where}: field 'event.name': unknown event name {name!r}")
    nid = _get(ev, "nid", where, str)
    role = _get(ev, "role", where, str)
    if role not in ROLES:
        raise TraceInputError(f"{where}: field 'event.role': unknown role {role!r}")
    conf = _get(ev, "conf", where, list)
    if len(conf) != 2:
        raise TraceInputError(f"{where}: field 'event.conf' must be [[voters], [outgoing voters]]")
    obs = Observed(nid=nid, role=ROLES[role], term=_get(ev, "state.term", where, int),
                   vote=_get(ev, "state.vote", where, str), commit=_get(ev, "state.commit", where, int),
                   log=_get(ev, "log", where, int),
                   conf=(_nids(conf[0], where, "conf[0]"), _nids(conf[1], where, "conf[1]")))
    msg = change = newconf = None
    n_changes = 0
    if name in MESSAGE_EVENTS:
        mt = _get(ev, "msg.type", where, str)
        if mt not in MSG_TYPES:
            raise TraceInputError(f"{where}: field 'event.msg.type': unknown message type {mt!r}")
        mtype, sub = MSG_TYPES[mt]
        msg = ObservedMsg(type=mt, mtype=mtype, subtype=sub, term=_get(ev, "msg.term", where, int),
                          src=_get(ev, "msg.from", where, str), dst=_get(ev, "msg.to", where, str),
                          entries=_get(ev, "msg.entries", where, int), log_term=_get(ev, "msg.logTerm", where, int),
                          index=_get(ev, "msg.index", where, int), commit=_get(ev, "msg.commit", where, int),
                          reject=_get(ev, "msg.reject", where, bool))
    if name == "ChangeConf":
        changes = _get(ev, "prop.cc.changes", where, list)
        parsed = []
        for k, c in enumerate(changes):
            action = _get(c, "action", where + f" (prop.cc.changes[{k}])", str)
            if action not in CONF_ACTIONS:
                raise TraceInputError(f"{where}: field 'event.prop.cc.changes[{k}].action': unknown action "
                                      f"{action!r}")
            parsed.append((action, _get(c, "nid", where + f" (prop.cc.changes[{k}])", str)))
        change = parsed[0] if parsed else None
        n_changes = len(parsed)
    if name == "ApplyConfChange":
        cc = ev.get("prop", {}).get("cc", {}) if isinstance(ev.get("prop"), dict) else {}
        if isinstance(cc, dict) and "newconf" in cc:
            newconf = _nids(cc["newconf"], where, "prop.cc.newconf")
    return name, EtcdEvent(obs=obs, msg=msg, change=change, newconf=newconf, n_changes=n_changes)


def parse_lines(lines: Iterable[str], path: str = "trace", *, max_events: int | None = None,
                extra_bootstrap: Iterable[str] = (), no_step: Iterable[str] = ()) -> list[TraceEvent]:
    """The trace records of an NDJSON text (records without ``"tag": "trace"`` are ignored, as
    Traceetcdraft.tla's ``SelectSeq`` ignores them); :class:`TraceInputError` names the first bad line.
    ``max_events`` keeps the first N records, before servers and bootstrap lines are worked out (as
    Traceetcdraft's ``MAX_TRACE``); the lines after them are not read.

    ``extra_bootstrap`` and ``no_step`` adapt the mapping to other logger versions (they are not
    Traceetcdraft.tla's): event names that also count as bootstrap events, and event names consumed without a
    spec step or any comparison."""
    events: list[TraceEvent] = []
    for no, text in enumerate(lines, 1):
        if max_events is not None and len(events) >= max_events:
            break
        if not text.strip():
            continue
        where = f"{path}:{no}"
        try:
            rec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TraceInputError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(rec, dict):
            raise TraceInputError(f"{where}: not a JSON object")
        if rec.get("tag") != "trace":
            continue
        if "event" not in rec:
            raise TraceInputError(f"{where}: missing field 'event'")
        name, data = parse_record(rec["event"], where)
        events.append(TraceEvent(line=no, name=name, data=data, raw=rec["event"]))
    if not events:
        raise TraceInputError(f"{path}: no trace records (lines with \"tag\": \"trace\")")
    return _annotate(events, path, BOOTSTRAP_NAMES | frozenset(extra_bootstrap), frozenset(no_step))


def parse_trace(path: str | Path, max_events: int | None = None) -> list[TraceEvent]:
    """Read and parse an NDJSON trace file (its first ``max_events`` records, if given)."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise TraceInputError(f"{p}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TraceInputError(f"{p}: not a text file (UTF-8)") from None
    return parse_lines(text.splitlines(), str(p), max_events=max_events)


def trace_servers(events: Sequence[TraceEvent]) -> list[str]:
    """Traceetcdraft's TraceServer: every nid, and the target of each AddNewServer/AddLearner; numeric ids in
    numeric order."""
    out = set()
    for ev in events:
        out.add(ev.data.obs.nid)
        if ev.data.change and ev.data.change[0] in ("AddNewServer", "AddLearner"):
            out.add(ev.data.change[1])
    return sorted(out, key=lambda s: (0, int(s), s) if s.isdigit() else (1, 0, s))


def _annotate(events: list[TraceEvent], path: str, boot_names: frozenset = BOOTSTRAP_NAMES,
              no_step: frozenset = frozenset()) -> list[TraceEvent]:
    """Mark bootstrap lines and lines the spec skips; check every node id the events name is a server."""
    servers = set(trace_servers(events))
    marker = LineMarker(boot_names, no_step)
    out = []
    for ev in events:
        d: EtcdEvent = ev.data
        where = f"{path}:{ev.line}"
        if d.msg is not None:
            for f, v in (("msg.from", d.msg.src), ("msg.to", d.msg.dst)):
                if v not in servers:
                    raise TraceInputError(f"{where}: field 'event.{f}': node {v!r} is never configured "
                                          f"(servers: {', '.join(sorted(servers))})")
        for v in d.obs.conf[0] | d.obs.conf[1] | (d.newconf or frozenset()):
            if v not in servers:
                raise TraceInputError(f"{where}: field 'event.conf': node {v!r} is never configured "
                                      f"(servers: {', '.join(sorted(servers))})")
        if d.obs.vote != "0" and d.obs.vote not in servers:
            raise TraceInputError(f"{where}: field 'event.state.vote': node {d.obs.vote!r} is never configured "
                                  f"(servers: {', '.join(sorted(servers))})")
        if d.change and d.change[1] not in servers:
            raise TraceInputError(f"{where}: field 'event.prop.cc.changes[0].nid': node {d.change[1]!r} is never "
                                  f"configured")
        out.append(marker.mark(ev))
    return out


class LineMarker:
    """Marks, line by line, the bootstrap lines and the lines the spec consumes without a step (what
    :func:`parse_lines` does to a whole trace; each mark depends only on the lines before, so a search that
    writes traces step by step marks them alike): a node's lines named as bootstrap events before its first
    other event are its bootstrap; responses sent to another node, ReduceNextIndex, and a BecomeFollower that
    the node's previous line (a receive) explains take no step."""

    def __init__(self, boot_names: frozenset = BOOTSTRAP_NAMES, no_step: frozenset = frozenset()) -> None:
        self.boot_names, self.no_step = boot_names, no_step
        self.active: frozenset[str] = frozenset()  # nodes that have logged an event other than a bootstrap one
        self.last: dict[str, Any] = {}  # each node's previous line (a receive's wrapped in _ReceiveMark)

    def copy(self) -> LineMarker:
        other = LineMarker(self.boot_names, self.no_step)
        other.active, other.last = self.active, dict(self.last)
        return other

    def mark(self, ev: TraceEvent) -> TraceEvent:
        d: EtcdEvent = ev.data
        nid = d.obs.nid
        boot = ev.name in self.boot_names and nid not in self.active
        if ev.name not in self.boot_names:
            self.active = self.active | {nid}
        skip = ev.name in self.no_step
        if not boot and not skip:
            if ev.name in ("SendAppendEntriesResponse", "SendRequestVoteResponse") and d.msg.src != d.msg.dst:
                skip = True
            elif ev.name == "ReduceNextIndex":
                skip = True
            elif ev.name == "BecomeFollower":
                skip = _follower_explained(self.last.get(nid), d)
        self.last[nid] = d if ev.name not in RECEIVE_NAMES else _ReceiveMark(d, ev.name)
        return TraceEvent(line=ev.line, name=ev.name, data=_with(d, skip=skip, bootstrap=boot), raw=ev.raw)


@dataclass(frozen=True)
class _ReceiveMark:
    data: EtcdEvent
    name: str


def _follower_explained(prev: Any, d: EtcdEvent) -> bool:
    """Traceetcdraft's LoglineIsBecomeFollowerInUpdateTermOrReturnToFollower: the node's previous line is a
    receive of a newer term (UpdateTerm) or of an append of its term while it was a candidate."""
    if not isinstance(prev, _ReceiveMark):
        return False
    p, m = prev.data, prev.data.msg
    if p.obs.term < m.term and m.term == d.obs.term:
        return True
    return (prev.name == "ReceiveAppendEntriesRequest" and p.obs.term == m.term and m.term == d.obs.term
            and p.obs.role == CANDIDATE)


def _with(d: EtcdEvent, **kw: Any) -> EtcdEvent:
    from dataclasses import replace

    return replace(d, **kw)


# ------------------------------------------------------------------------------------------------ mapping

#: the bounds written into an ITF trace's #meta: high enough never to bind on a recorded run
UNBOUNDED = 1_000_000


class _Diag:
    """Collects, for one event, the actions the model allowed and the first field that disagreed."""

    def __init__(self) -> None:
        self.allowed: list[str] = []
        self.field: str | None = None
        self.observed: Any = None
        self.model: Any = None
        self.note = ""

    def allow(self, label: Label) -> None:
        self.allowed.append(str(label))

    def mismatch(self, fld: str, observed: Any, model: Any) -> None:
        if self.field is None:
            self.field, self.observed, self.model = fld, observed, model

    def why(self, note: str) -> None:
        if not self.note:
            self.note = note


def _put(t: tuple, k: int, v: Any) -> tuple:
    return t[:k] + (v,) + t[k + 1:]


def _with_server(st: EtcdState, i: int, sv: ServerVars, **changes: Any) -> EtcdState:
    return st._replace(servers=_put(st.servers, i - 1, sv), **changes)


# Bags as the port represents them (frozensets of (message, count) pairs), updated with set operations that
# keep the stored hashes of the other pairs: the port's with_message/without_message rebuild the whole bag,
# rehashing every message (and its entries), which made a long trace quadratic.


def bag_count(bag: frozenset, m: Message) -> int:
    """``bag[m]`` (0 if absent)."""
    for x, c in bag:  # usually m is the bag's own object (a receive), found by identity
        if x is m:
            return c
    dest, term = m.mdest, m.mterm
    for x, c in bag:
        if x.mdest == dest and x.mterm == term and x == m:
            return c
    return 0


def bag_add(bag: frozenset, m: Message, copies: int = 1) -> frozenset:
    """``bag (+) SetToBag({m})`` (``copies`` times): as the port's ``with_message``."""
    c = bag_count(bag, m)
    return (bag - {(m, c)}) | {(m, c + copies)} if c else bag | {(m, copies)}


def bag_remove(bag: frozenset, m: Message) -> frozenset:
    """``bag (-) SetToBag({m})``: as the port's ``without_message``."""
    c = bag_count(bag, m)
    if c <= 1:
        return bag - {(m, c)} if c else bag
    return (bag - {(m, c)}) | {(m, c - 1)}


def _send(st: EtcdState, m: Message) -> EtcdState:
    return st._replace(pendingMessages=bag_add(st.pendingMessages, m))


def _ready_bags(i: int, messages: frozenset, pending: frozenset) -> tuple[frozenset, frozenset]:
    """SendPendingMessages(i), as the port's ``ready_bags``."""
    mine = [(m, c) for m, c in pending if m.msource == i]
    if not mine:
        return messages, pending
    for m, c in sorted(mine, key=lambda mc: message_key(mc[0])):
        messages = bag_add(messages, m, c)
    return messages, pending - frozenset(mine)


class EtcdTraceMapping:
    """Traceetcdraft.tla's mapping of etcd trace events to etcdraft.tla steps (a
    :class:`~refmodel.checkers.trace_validate.TraceMapping`) over :class:`~model.etcdraft.state.EtcdState`."""

    def __init__(self, events: Sequence[TraceEvent], rules: A.Rules | None = None) -> None:
        #: the rule functions each event's step calls (a mutant's, to ask whether a trace tells it apart); the
        #: operators MCetcdraft bounds are called in their plain forms (unbounded limits, see ``cfg``)
        self.rules = A.DEFAULT_RULES if rules is None else rules
        self.nids = tuple(trace_servers(events))
        self.num = {s: k for k, s in enumerate(self.nids, 1)}
        self.num[NIL_ID] = NIL
        self.boot = _bootstrap(events)
        first = events[0].data.obs.nid if events else None
        init = self.boot[first][5] if first in self.boot else frozenset()
        self.cfg = EtcdRaftConfig(init_servers=max(1, min(len(init), len(self.nids))), servers=max(1, len(self.nids)),
                                  reconfiguration_limit=UNBOUNDED, max_term=UNBOUNDED, request_limit=UNBOUNDED,
                                  max_log=UNBOUNDED, max_in_flight=UNBOUNDED)
        self._obs_cache: dict[int, tuple] = {}
        #: successor states enumerated so far, repeats included: with the initial state, TLC's "states
        #: generated" for Traceetcdraft (each line's step, each Receive disjunct taken on a receive line)
        self.generated = 0

    def name(self, k: int) -> str:
        """The node id of server k."""
        return NIL_ID if k == NIL else self.nids[k - 1]

    # ---------------------------------------------------------------------------------- initial state

    def initial_states(self, events: Sequence[TraceEvent]) -> list[EtcdState]:
        """TraceInit: each server from its last bootstrap line (TraceInitServerVars/LogVars/ConfigVars); a
        server without one as the spec's Init leaves it (term 0, Follower, empty)."""
        servers = []
        for nid in self.nids:
            role, term, vote, log_len, commit, conf = self.boot.get(nid, (FOLLOWER, 0, NIL_ID, 0, 0, frozenset()))
            c = frozenset(self.num[x] for x in conf)
            entry = Entry(1, CONFIG_ENTRY, ConfValue(c, frozenset()))
            sv = ServerVars(currentTerm=term, state=role, votedFor=self.num[vote], log=(entry,) * log_len,
                            commitIndex=commit, votesResponded=frozenset(), votesGranted=frozenset(),
                            matchIndex=(0,) * len(self.nids), pendingConfChangeIndex=0,
                            config=Config((c, frozenset()), frozenset()), durableState=None)  # type: ignore[arg-type]
            servers.append(sv._replace(durableState=persisted(sv)))
        return [EtcdState(tuple(servers), EMPTY_BAG, EMPTY_BAG, 0)]

    # -------------------------------------------------------------------------------------- comparison

    def forget(self) -> None:
        """Drop what is cached per event (by the event's identity): for a caller that discards events as it
        goes, whose ids Python may give to new ones."""
        self._obs_cache.clear()

    def _observed(self, d: EtcdEvent) -> tuple:
        key = id(d)
        got = self._obs_cache.get(key)
        if got is None:
            o = d.obs
            got = (o.term, o.role, self.num[o.vote], o.log, o.commit,
                   (frozenset(self.num[x] for x in o.conf[0]), frozenset(self.num[x] for x in o.conf[1])))
            self._obs_cache[key] = got
        return got

    FIELDS = ("term", "role", "vote", "log", "commit", "conf")

    def _compare(self, st: EtcdState, i: int, d: EtcdEvent, diag: _Diag | None,
                 fields: tuple[str, ...] = FIELDS) -> bool:
        """ValidatePreStates/ValidatePostStates: server i's variables against the event's."""
        sv = st.servers[i - 1]
        want = self._observed(d)
        have = (sv.currentTerm, sv.state, sv.votedFor, len(sv.log), sv.commitIndex, sv.config.jointConfig)
        for k, f in enumerate(self.FIELDS):
            if f in fields and have[k] != want[k]:
                if diag is not None:
                    diag.mismatch(f"{f} of node {self.name(i)}", self._show(f, want[k]), self._show(f, have[k]))
                return False
        return True

    def _show(self, f: str, v: Any) -> Any:
        if f == "vote":
            return self.name(v)
        if f == "conf":
            return [sorted((self.name(x) for x in s), key=_nid_key) for s in v]
        return v

    # ------------------------------------------------------------------------------------- messages

    def msg_matches(self, m: Message, o: ObservedMsg) -> bool:
        """LoglineIsAppendEntriesRequest/Response, LoglineIsRequestVoteRequest/Response."""
        if m.mtype != o.mtype or m.mterm != o.term or m.mdest != self.num[o.dst] or m.msource != self.num[o.src]:
            return False
        if o.mtype == "AppendEntriesRequest":
            return (m.msubtype == o.subtype
                    and (m.msubtype == "snapshot" or m.mcommitIndex == o.commit)
                    and (m.msubtype == "heartbeat" or (m.mprevLogTerm == o.log_term and m.mprevLogIndex == o.index))
                    and len(m.mentries) == o.entries)
        if o.mtype == "AppendEntriesResponse":
            return (m.msubtype == o.subtype and m.msuccess == (not o.reject)
                    and (o.reject or m.msubtype == "heartbeat" or m.mmatchIndex == o.index))
        if o.mtype == "RequestVoteRequest":
            return m.mlastLogIndex == o.index and m.mlastLogTerm == o.log_term
        return m.mvoteGranted == (not o.reject)

    def msg_str(self, m: Message) -> str:
        src, dst = self.name(m.msource), self.name(m.mdest)
        if m.mtype == "AppendEntriesRequest":
            return (f"{m.mtype}[{m.msubtype}] {src}->{dst} term {m.mterm} prev ({m.mprevLogIndex}, "
                    f"{m.mprevLogTerm}) entries {len(m.mentries)} commit {m.mcommitIndex}")
        if m.mtype == "AppendEntriesResponse":
            return (f"{m.mtype}[{m.msubtype}] {src}->{dst} term {m.mterm} success {str(m.msuccess).lower()} "
                    f"matchIndex {m.mmatchIndex}")
        if m.mtype == "RequestVoteRequest":
            return f"{m.mtype} {src}->{dst} term {m.mterm} lastLog ({m.mlastLogIndex}, {m.mlastLogTerm})"
        return f"{m.mtype} {src}->{dst} term {m.mterm} granted {str(m.mvoteGranted).lower()}"

    # ----------------------------------------------------------------------------------------- steps

    def steps(self, st: EtcdState, event: TraceEvent, diag: _Diag | None = None
              ) -> Iterator[tuple[tuple, EtcdState]]:
        """Every chain of spec steps from ``st`` that explains ``event``, with the state it ends in."""
        d: EtcdEvent = event.data
        name = event.name
        if d.bootstrap or d.skip:
            if diag is None:
                self.generated += 1
            yield (), st
            return
        if name in RECEIVE_NAMES:
            yield from self._receive(st, event, diag)
            return
        handler = getattr(self, "_on_" + name, None)
        if handler is None:
            if diag is not None:
                diag.why(f"etcdraft.tla has no action for event {name} (Traceetcdraft.tla maps no line to it)")
            return
        for lab, t in handler(st, d, diag):
            if diag is None:
                self.generated += 1
            yield ((lab, t),), t

    def _step(self, lab: Label, t: EtcdState | None, diag: _Diag | None) -> Iterator[tuple[Label, EtcdState]]:
        """A step no field of the event is compared against."""
        if t is None and diag is not None:
            diag.why(f"{lab} is not enabled (its guard is false)")
        if t is not None:
            if diag is not None:
                diag.allow(lab)
            yield lab, t

    def _post(self, lab: Label, t: EtcdState | None, i: int, d: EtcdEvent, diag: _Diag | None,
              fields: tuple[str, ...] = FIELDS, sent: Message | None = None) -> Iterator[tuple[Label, EtcdState]]:
        """A step followed by ValidatePostStates(i) (and, for a send, the logged message's fields)."""
        if t is None:
            if diag is not None:
                diag.why(f"{lab} is not enabled (its guard is false)")
            return
        if diag is not None:
            diag.allow(lab)
        if not self._compare(t, i, d, diag, fields):
            return
        if sent is not None and not self.msg_matches(sent, d.msg):
            if diag is not None:
                diag.mismatch("msg", _obs_msg_str(d.msg), self.msg_str(sent))
            return
        yield lab, t

    def _server(self, st: EtcdState, nid: str) -> tuple[int, ServerVars]:
        i = self.num[nid]
        return i, st.servers[i - 1]

    def _on_SendRequestVoteRequest(self, st, d, diag):  # RequestVoteIfLogged(i, j)
        i, sv = self._server(st, d.msg.src)
        j = self.num[d.msg.dst]
        m = self.rules.request_vote(self.cfg, i, j, sv)
        t = None if m is None else _send(st, m)
        yield from self._post(Label("RequestVote", (("i", i), ("j", j))), t, i, d, diag, sent=m)

    _on_SendRequestVoteResponse = _on_SendRequestVoteRequest  # to itself: the candidate's own vote

    def _on_BecomeLeader(self, st, d, diag):  # BecomeLeaderIfLogged(i)
        i, sv = self._server(st, d.obs.nid)
        new = self.rules.become_leader(self.cfg, i, sv)
        t = None if new is None else _with_server(st, i, new)
        yield from self._post(Label("BecomeLeader", (("i", i),)), t, i, d, diag)

    def _on_Replicate(self, st, d, diag):  # ClientRequestIfLogged(i, 0): nothing compared
        i, sv = self._server(st, d.obs.nid)
        new = A.client_request(self.cfg, i, 0, sv)
        yield from self._step(Label("ClientRequest", (("i", i), ("v", 0))),
                              None if new is None else _with_server(st, i, new), diag)

    def _on_Commit(self, st, d, diag):  # AdvanceCommitIndexIfLogged(i)
        i, sv = self._server(st, d.obs.nid)
        if d.obs.role != LEADER:
            if diag is not None:
                diag.mismatch(f"role of node {d.obs.nid}", d.obs.role, "a Commit line must be a Leader's")
            return
        new = self.rules.advance_commit_index(self.cfg, i, sv)
        yield from self._post(Label("AdvanceCommitIndex", (("i", i),)),
                              None if new is None else _with_server(st, i, new), i, d, diag)

    def _on_SendAppendEntriesRequest(self, st, d, diag):  # AppendEntries/Heartbeat/SendSnapshotIfLogged
        o = d.msg
        i, sv = self._server(st, o.src)
        j = self.num[o.dst]
        if o.type == "MsgApp":
            b = o.index + 1
            e = b + o.entries
            lo, hi = sv.matchIndex[j - 1] + 1, len(sv.log) + 1
            if not (lo <= b <= hi and lo <= e <= hi):  # \E b, e \in matchIndex[i][j]+1..Len(log[i])+1
                if diag is not None:
                    diag.mismatch("msg.index/msg.entries", f"range <<{b}, {e}>>",
                                  f"b, e in {lo}..{hi} (matchIndex[{o.src}][{o.dst}]+1..Len(log[{o.src}])+1)")
                return
            m = self.rules.append_entries(self.cfg, i, j, sv, b, e)
            lab = Label("AppendEntries", (("i", i), ("j", j), ("range", (b, e))))
        elif o.type == "MsgHeartbeat":
            m = self.rules.heartbeat(self.cfg, i, j, sv)
            lab = Label("Heartbeat", (("i", i), ("j", j)))
        elif o.type != "MsgSnap":  # no disjunct of TraceNextNonReceiveActions takes it
            if diag is not None:
                diag.mismatch("msg.type", o.type, "MsgApp, MsgHeartbeat or MsgSnap for SendAppendEntriesRequest")
            return
        else:  # MsgSnap: the logged entries count is the snapshot's index
            if not 1 <= o.entries <= sv.commitIndex:
                if diag is not None:
                    diag.mismatch("msg.entries (snapshot index)", o.entries, f"1..{sv.commitIndex}")
                return
            m = self.rules.send_snapshot(self.cfg, i, j, sv, o.entries)
            lab = Label("SendSnapshot", (("i", i), ("j", j), ("index", o.entries)))
        yield from self._post(lab, None if m is None else _send(st, m), i, d, diag, sent=m)

    def _on_SendAppendEntriesResponse(self, st, d, diag):  # AppendEntriesToSelfIfLogged(i) (others skipped)
        i, sv = self._server(st, d.msg.src)
        m = self.rules.append_entries_to_self(self.cfg, i, sv)
        yield from self._post(Label("AppendEntriesToSelf", (("i", i),)), None if m is None else _send(st, m), i, d,
                              diag, sent=m)

    def _on_BecomeCandidate(self, st, d, diag):  # TimeoutIfLogged(i): role and term compared
        i, sv = self._server(st, d.obs.nid)
        if d.obs.role != CANDIDATE:
            if diag is not None:
                diag.mismatch(f"role of node {d.obs.nid}", d.obs.role, CANDIDATE)
            return
        new = A.timeout(self.cfg, i, sv)
        yield from self._post(Label("Timeout", (("i", i),)), None if new is None else _with_server(st, i, new), i,
                              d, diag, fields=("role", "term"))

    def _on_ChangeConf(self, st, d, diag):  # AddNewServer/AddLearner/DeleteServerIfLogged(i, j): nothing compared
        i, sv = self._server(st, d.obs.nid)
        if d.n_changes != 1:  # AddNewServerIfLogged etc. need Len(changes) = 1
            if diag is not None:
                diag.why(f"etcdraft.tla models single-server changes only; this ChangeConf has {d.n_changes}")
            return
        action, target = d.change
        j = self.num[target]
        r = self.rules  # MC forms: with ReconfigurationLimit unbounded and no change counted, the plain operator
        fn, name = {"AddNewServer": (r.add_new_server, "AddNewServer"), "AddLearner": (r.add_learner, "AddLearner"),
                    "RemoveServer": (r.delete_server, "DeleteServer")}[action]
        new = fn(self.cfg, i, j, sv, 0)
        yield from self._step(Label(name, (("i", i), ("j", j))), None if new is None else _with_server(st, i, new),
                              diag)

    def _on_ApplyConfChange(self, st, d, diag):  # ApplySimpleConfChangeIfLogged(i): nothing compared
        i, sv = self._server(st, d.obs.nid)
        res = self.rules.apply_simple_conf_change(self.cfg, i, sv)
        t = None
        if res is not None:
            new, bump = res
            t = _with_server(st, i, new, reconfigCount=st.reconfigCount + 1) if bump else _with_server(st, i, new)
        yield from self._step(Label("ApplySimpleConfChange", (("i", i),)), t, diag)

    def _on_Ready(self, st, d, diag):  # ReadyIfLogged(i): nothing compared
        i, sv = self._server(st, d.obs.nid)
        msgs, pend = _ready_bags(i, st.messages, st.pendingMessages)
        t = _with_server(st, i, self.rules.ready(self.cfg, i, sv), messages=msgs, pendingMessages=pend)
        yield from self._step(Label("Ready", (("i", i),)), t, diag)

    def _on_InitState(self, st, d, diag):  # RestartIfLogged(i)
        i, sv = self._server(st, d.obs.nid)
        t = _with_server(st, i, self.rules.restart(self.cfg, i, sv),
                         pendingMessages=A.restart_pending(i, st.pendingMessages))
        yield from self._post(Label("Restart", (("i", i),)), t, i, d, diag)

    def _on_BecomeFollower(self, st, d, diag):  # StepDownToFollowerIfLogged(i)
        i, sv = self._server(st, d.obs.nid)
        new = self.rules.step_down_to_follower(self.cfg, i, sv)
        yield from self._post(Label("StepDownToFollower", (("i", i),)),
                              None if new is None else _with_server(st, i, new), i, d, diag)

    def _on_SendSnapshot(self, st, d, diag):
        if diag is not None:
            diag.why("Traceetcdraft.tla maps no line named SendSnapshot (etcd logs MsgSnap as "
                     "SendAppendEntriesRequest)")
        return iter(())

    # --------------------------------------------------------------------------------------- receive

    def _matching(self, st: EtcdState, o: ObservedMsg) -> list[Message]:
        dst = self.num[o.dst]
        found = [m for m, _ in st.messages if m.mdest == dst and self.msg_matches(m, o)]
        return sorted(found, key=message_key) if len(found) > 1 else found

    def _receive(self, st: EtcdState, event: TraceEvent, diag: _Diag | None) -> Iterator[tuple[tuple, EtcdState]]:
        """TraceNextReceiveActions: Receive(m) steps for a matching m until one consumes it."""
        d: EtcdEvent = event.data
        o = d.msg
        i = self.num[o.dst]
        want = RECEIVE_TYPES[event.name]
        if o.mtype != want:  # LoglineIsReceivedMessage: the event name fixes the message type
            if diag is not None:
                diag.mismatch("msg.type", o.type, f"a {want} message for {event.name}")
            return
        if diag is not None and not self._matching(st, o):
            diag.why("no message in flight carries the logged fields" + self._near_miss(st, o))
            closest = min((self.msg_diff(m, o) for m, _ in st.messages
                           if m.msource == self.num[o.src] and m.mdest == i and m.mtype == o.mtype),
                          key=len, default=None)
            if closest:
                diag.mismatch(*closest[0])
        if not self._compare(st, i, d, diag):  # ValidatePreStates: on the line's first step only
            return
        todo: list[tuple[tuple, EtcdState]] = [((), st)]
        seen = [st]  # states of this line's chains (compared with ==: they share most of their parts)
        done: list[tuple[tuple, EtcdState]] = []
        while todo:
            chain, s = todo.pop(0)
            sv = s.servers[i - 1]
            for m in self._matching(s, o):
                j = m.msource
                for name, handler in self.rules.handlers(m):
                    h = handler(self.cfg, i, j, sv, m)
                    if h is None:
                        continue
                    if diag is None:
                        self.generated += 1
                    t = _with_server(s, i, h.sv,
                                     messages=bag_remove(s.messages, m) if h.consume else s.messages,
                                     pendingMessages=(s.pendingMessages if h.reply is None
                                                      else bag_add(s.pendingMessages, h.reply)))
                    lab = A.receive_label(name, m)
                    if diag is not None:
                        diag.allow(lab)
                    step = chain + ((lab, t),)
                    if h.consume:  # StepToNextTraceIfMessageIsProcessed: the line is done
                        if not any(t == u for _, u in done):
                            done.append((step, t))
                    elif not any(t == u for u in seen):  # the line continues from t (not from a state it saw)
                        seen.append(t)
                        todo.append((step, t))
        yield from done

    def msg_diff(self, m: Message, o: ObservedMsg) -> list[tuple[str, Any, Any]]:
        """The logged message fields that message m of the same type, source and destination does not carry:
        (field, observed, model) in the order LoglineIs... compares them."""
        out: list[tuple[str, Any, Any]] = []
        sub = getattr(m, "msubtype", None)
        if sub != o.subtype:
            out.append(("msg.type", o.type, f"a {sub} message"))
        if m.mterm != o.term:
            out.append(("msg.term", o.term, m.mterm))
        if o.mtype == "AppendEntriesRequest":
            if sub != "snapshot" and m.mcommitIndex != o.commit:
                out.append(("msg.commit", o.commit, m.mcommitIndex))
            if sub != "heartbeat" and m.mprevLogTerm != o.log_term:
                out.append(("msg.logTerm", o.log_term, m.mprevLogTerm))
            if sub != "heartbeat" and m.mprevLogIndex != o.index:
                out.append(("msg.index", o.index, m.mprevLogIndex))
            if len(m.mentries) != o.entries:
                out.append(("msg.entries", o.entries, len(m.mentries)))
        elif o.mtype == "AppendEntriesResponse":
            if m.msuccess == o.reject:
                out.append(("msg.reject", o.reject, not m.msuccess))
            elif not o.reject and sub != "heartbeat" and m.mmatchIndex != o.index:
                out.append(("msg.index", o.index, m.mmatchIndex))
        elif o.mtype == "RequestVoteRequest":
            if m.mlastLogIndex != o.index:
                out.append(("msg.index", o.index, m.mlastLogIndex))
            if m.mlastLogTerm != o.log_term:
                out.append(("msg.logTerm", o.log_term, m.mlastLogTerm))
        elif m.mvoteGranted == o.reject:
            out.append(("msg.reject", o.reject, not m.mvoteGranted))
        return out

    def _near_miss(self, s: EtcdState, o: ObservedMsg) -> str:
        src, dst = self.num[o.src], self.num[o.dst]
        pend = [m for m, _ in s.pendingMessages if self.msg_matches(m, o)]
        same = sorted((m for m, _ in s.messages if m.msource == src and m.mdest == dst and m.mtype == o.mtype),
                      key=message_key)
        out = ""
        if pend:
            out += f"; a matching message is pending (sent, but node {o.src} has had no Ready step since)"
        if same:
            out += (f"; in flight {o.src}->{o.dst}: " + "; ".join(self.msg_str(m) for m in same[:4])
                    + (f" (and {len(same) - 4} more)" if len(same) > 4 else ""))
        else:
            out += f"; nothing of that type in flight {o.src}->{o.dst}"
        return out

    # ------------------------------------------------------------------------------------- diagnosis

    def diagnose(self, frontier: Sequence[EtcdState], event: TraceEvent) -> Mismatch:
        diag = _Diag()
        for st in frontier:
            for _ in self.steps(st, event, diag):
                pass
        return Mismatch(allowed=tuple(dict.fromkeys(diag.allowed)), field=diag.field, observed=diag.observed,
                        model=diag.model, note=diag.note)


NIL_ID = "0"


def _nid_key(s: str) -> tuple:
    return (0, int(s), s) if s.isdigit() else (1, 0, s)


def _obs_msg_str(o: ObservedMsg) -> str:
    return (f"{o.type} {o.src}->{o.dst} term {o.term} index {o.index} logTerm {o.log_term} entries {o.entries} "
            f"commit {o.commit} reject {str(o.reject).lower()}")


def _bootstrap(events: Sequence[TraceEvent]) -> dict[str, tuple]:
    """Each server's last bootstrap line as (role, term, vote, log length, commit, configuration):
    LastBootstrapLog and BootstrappedConfig."""
    out: dict[str, tuple] = {}
    for ev in events:
        d: EtcdEvent = ev.data
        if not d.bootstrap:
            continue
        if ev.name == "ApplyConfChange":
            conf = d.newconf if d.newconf is not None else frozenset()
        else:
            conf = d.obs.conf[0]
        out[d.obs.nid] = (d.obs.role, d.obs.term, d.obs.vote, d.obs.log, d.obs.commit, conf)
    return out


def trace_notes(events: Sequence[TraceEvent], path: str = "trace") -> list[str]:
    """What Traceetcdraft.tla does not compare but a reader of the verdict should know; the verdict stays the
    spec's.  A send logged by another node than the message's sender, or a receive by another node than the
    message's addressee: the spec takes ``msg.from`` and ``msg.to`` and never reads ``nid`` on those lines, so a
    trace logger that records the wrong node passes.  A node with no bootstrap line: this port starts it as the
    spec's Init leaves it, where TLC stops on the trace with an evaluation error (``TraceLog[0]``)."""
    notes: list[str] = []
    odd: dict[str, list[TraceEvent]] = {}
    for ev in events:
        d: EtcdEvent = ev.data
        if d.msg is None:
            continue
        if ev.name.startswith("Send") and d.obs.nid != d.msg.src:
            odd.setdefault("sender", []).append(ev)
        elif ev.name.startswith("Receive") and d.obs.nid != d.msg.dst:
            odd.setdefault("addressee", []).append(ev)
    for role, evs in odd.items():
        ev = evs[0]
        d = ev.data
        who = d.msg.src if role == "sender" else d.msg.dst
        more = f"; {len(evs) - 1} more such line{'s' if len(evs) > 2 else ''}" if len(evs) > 1 else ""
        notes.append(f"{path}:{ev.line}: {ev.name} logged by node {d.obs.nid} for a message whose {role} is node "
                     f"{who} (the spec takes the message's {role} and does not compare nid on this line{more})")
    boot = _bootstrap(events)
    for nid in trace_servers(events):
        if nid not in boot:
            first = next((ev.line for ev in events if ev.data.obs.nid == nid), None)
            at = f" (first named on line {first})" if first is not None else ""
            notes.append(f"{path}: node {nid}{at} has no bootstrap line (InitState, BecomeFollower or "
                         "ApplyConfChange before its first other event): it starts as the spec's Init leaves it "
                         "(term 0, Follower, empty log); TLC stops on such a trace with an evaluation error")
    return notes


def mutant_names() -> tuple[str, ...]:
    """The mutants ``refmodel trace validate --mutant`` knows (model/etcdraft/mutants.py)."""
    from refmodel.model.etcdraft.mutants import MUTANTS

    return tuple(MUTANTS)


def mutant_rules(name: str) -> A.Rules:
    """The rules of mutant ``name`` (:class:`KeyError` if there is none)."""
    from refmodel.model.etcdraft.mutants import MUTANTS

    return MUTANTS[name].rules


def mapping(events: Sequence[TraceEvent], rules: A.Rules | None = None) -> EtcdTraceMapping:
    """The mapping for ``events`` (servers and initial state come from the events); ``rules``: a mutant's
    rule bundle instead of the model's."""
    return EtcdTraceMapping(events, rules)


# ------------------------------------------------------------------------------------------------ ITF


@dataclass(frozen=True)
class TraceModelConfig:
    """The model an ITF trace of a validated run steps through: etcdraft.tla's plain Next (Traceetcdraft.tla
    uses etcdraft's operators, not MCetcdraft's bounded overrides) over ``servers`` servers, from the initial
    state the trace's bootstrap lines give.  ``init`` holds, per server 1..N, ``[role, term, vote, log length,
    commit, configuration]``; ``nodes`` the etcd node id of each server.  The state constraint never binds."""

    servers: int = field(default=1, metadata={"help": "number of servers (written by `refmodel trace validate "
                                                      "--itf`; this model is for replay, not for check)"})
    nodes: tuple = field(default=(), metadata={"help": "the etcd node id of each server (from the trace)"})
    init: tuple = field(default=(), metadata={"help": "each server's initial [role, term, vote, log, commit, "
                                                      "[config]] (from the trace's bootstrap lines)"})
    init_servers: int = field(default=1, metadata={"help": "size of the first node's bootstrapped configuration"})
    max_log: int = field(default=UNBOUNDED, metadata={"help": "constraint: every Len(log[i]) <= L (never binds)"})
    max_in_flight: int = field(default=UNBOUNDED, metadata={"help": "constraint: messages in flight <= F "
                                                                    "(never binds)"})

    def __post_init__(self) -> None:
        from refmodel.model.core import ConfigError

        object.__setattr__(self, "nodes", tuple(str(x) for x in self.nodes))
        try:
            init = tuple((str(r), int(t), int(v), int(n), int(c), tuple(int(x) for x in conf))
                         for r, t, v, n, c, conf in self.init)
        except (TypeError, ValueError):
            raise ConfigError("init must list [role, term, vote, log, commit, [config]] per server") from None
        object.__setattr__(self, "init", init)
        if len(self.init) != self.servers or len(self.nodes) != self.servers:
            raise ConfigError(f"init and nodes must describe {self.servers} servers")

    def short_name(self) -> str:
        return f"trace_n{self.servers}"


def _plain_rules() -> Any:
    """etcdraft.tla's Next as Traceetcdraft.tla runs it: Timeout, ClientRequest, Send, AddNewServer,
    AddLearner and DeleteServer without MCetcdraft's bounds."""
    return A.replace_rules(
        timeout=lambda cfg, i, sv, candidates: A.timeout(cfg, i, sv),
        client_request=A.client_request,
        send_ok=lambda m, messages, pending: True,
        add_new_server=lambda cfg, i, j, sv, rc: A.add_new_server(cfg, i, j, sv),
        add_learner=lambda cfg, i, j, sv, rc: A.add_learner(cfg, i, j, sv),
        delete_server=lambda cfg, i, j, sv, rc: A.delete_server(cfg, i, j, sv))


class TraceEtcdRaft(EtcdRaft):
    """etcdraft.tla (plain Next with membership changes) from a trace's initial state, for ``refmodel replay``
    of the ITF a validation run writes."""

    protocol = "etcdraft_trace"

    def __init__(self, config: TraceModelConfig, rules: Any = None, mutant: str | None = None) -> None:
        super().__init__(config, _plain_rules() if rules is None else rules, mutant)  # type: ignore[arg-type]

    def init_states(self) -> list[EtcdState]:
        servers = []
        n = self.config.servers
        for role, term, vote, log_len, commit, conf in self.config.init:
            c = frozenset(conf)
            sv = ServerVars(currentTerm=term, state=role, votedFor=vote,
                            log=(Entry(1, CONFIG_ENTRY, ConfValue(c, frozenset())),) * log_len, commitIndex=commit,
                            votesResponded=frozenset(), votesGranted=frozenset(), matchIndex=(0,) * n,
                            pendingConfChangeIndex=0, config=Config((c, frozenset()), frozenset()),
                            durableState=None)  # type: ignore[arg-type]
            servers.append(sv._replace(durableState=persisted(sv)))
        return [EtcdState(tuple(servers), EMPTY_BAG, EMPTY_BAG, 0)]

    def engine(self):  # noqa: ANN201 - the explicit engine: the fast one assumes MCetcdraft's rules
        from refmodel.model.core import ExplicitEngine

        return ExplicitEngine(self)


def _build_trace_model(config: TraceModelConfig, mutant: str | None = None) -> TraceEtcdRaft:
    from refmodel.model import UnknownMutant

    if mutant is not None:
        raise UnknownMutant(f"unknown etcdraft_trace mutant '{mutant}' (it has none)")
    return TraceEtcdRaft(config)


def _protocol() -> Any:
    from refmodel.model import ProtocolInfo

    return ProtocolInfo(name="etcdraft_trace",
                        description="etcdraft.tla's plain Next from an etcd trace's initial state (the model "
                                    "`refmodel trace validate --itf` traces step through; for replay)",
                        config_class=TraceModelConfig, build=_build_trace_model, mutants={})


PROTOCOL = _protocol()


def trace_model_config(m: EtcdTraceMapping, initial: EtcdState) -> TraceModelConfig:
    init = tuple((sv.state, sv.currentTerm, sv.votedFor, len(sv.log), sv.commitIndex,
                  tuple(sorted(sv.config.jointConfig[0]))) for sv in initial.servers)
    return TraceModelConfig(servers=len(m.nids), nodes=m.nids, init=init, init_servers=m.cfg.init_servers)


def itf_behaviour(events: Sequence[TraceEvent], result: Any, source: str = "trace"
                  ) -> tuple[Any, list[tuple[Label | None, EtcdState, dict[str, Any]]], str, dict[str, Any]]:
    """What an ITF trace of a validation run holds: the model it steps through (``etcdraft_trace``, the plain
    Next from the trace's initial state, so that ``refmodel replay`` can rebuild it from ``#meta``), every
    spec step of the explained prefix with the trace line it explains (``#meta.line``), a description and
    the extra ``#meta``.  ``checkers/report/itf.py`` writes it."""
    m = mapping(events)
    system = TraceEtcdRaft(trace_model_config(m, result.behaviour[0][2]))
    steps = [(lab, st, {} if line is None else {"line": line}) for line, lab, st in result.behaviour]
    description = (f"etcdraft.tla behaviour explaining {result.explained} events of {source} ({result.verdict})")
    return system, steps, description, {"trace": source, "verdict": result.verdict, "explained": result.explained}


#: What each invariant of ``invariants/etcdraft.py`` reads of a server (read there): the checker re-evaluates an
#: invariant only when this projection of some server changed since the last state it was evaluated on (logs
#: are compared by identity: an unchanged log is the same object).  Any other invariant reads everything.
_READS: dict[str, Any] = {
    "LogMatchingInv": lambda sv: id(sv.log),
    "LogInv": lambda sv: (id(sv.log), sv.commitIndex),
    "MoreUpToDateCorrectInv": lambda sv: (id(sv.log), sv.commitIndex),
    "QuorumLogInv": lambda sv: (id(sv.log), sv.commitIndex, sv.config.jointConfig[0]),
    "MoreThanOneLeaderInv": lambda sv: (sv.state, sv.currentTerm),
    "ElectionSafetyInv": lambda sv: (sv.state, sv.currentTerm, id(sv.log)),
    "LeaderCompletenessInv": lambda sv: (sv.state, sv.currentTerm, id(sv.log), sv.commitIndex),
    "CommittedIsDurableInv": lambda sv: (sv.state, sv.commitIndex, sv.durableState.log),
}


def invariant_checker(m: EtcdTraceMapping, memo: bool = True) -> Any:
    """The eight invariants Traceetcdraft.cfg checks (LogInv ... CommittedIsDurableInv, the port's
    ``invariants/etcdraft.py``) as one check: a state -> the first violated one, with why, or None.

    With ``memo``, an invariant is not re-evaluated on a state whose servers agree with the last evaluated
    state on what it reads (:data:`_READS`); its result is the same."""
    import refmodel.invariants as inv

    props = inv.defaults("etcdraft")
    last: dict[str, tuple[Any, Any, Any]] = {}  # invariant -> (key, states kept alive, result)

    def check(st: EtcdState) -> str | None:
        for p in props:
            proj = _READS.get(p.short) if memo else None
            key = None
            if proj is not None:
                key = tuple(proj(sv) for sv in st.servers)
                hit = last.get(p.short)
                if hit is not None and hit[0] == key:
                    ok = hit[2]
                else:
                    ok = p.fn(m.cfg, st)
                    last[p.short] = (key, st, ok)  # st keeps the logs alive, so their ids stay unique
            else:
                ok = p.fn(m.cfg, st)
            if not ok:
                why = getattr(ok, "why", "")
                return p.short + (f" ({why})" if why else "")
        return None

    return check
