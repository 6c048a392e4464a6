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

The spec operators are the ones of ``etcdraft.tla`` (see :mod:`refmodel.model.etcdraft.trace_ops`); each is
called with the parameters the event fixes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refmodel.checkers.trace_validate import Mismatch, TraceEvent
from refmodel.model.core import Label
from refmodel.model.etcdraft import trace_ops as ops
from refmodel.model.etcdraft.trace_ops import (
    CANDIDATE,
    FOLLOWER,
    LEADER,
    NIL,
    AERequest,
    AEResponse,
    EState,
    RVRequest,
    RVResponse,
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
    change: tuple[str, str] | None = None  # ChangeConf: (action, target nid)
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
        want = {str: "a string", bool: "a boolean", list: "a list", dict: "an object"}.get(kind, "valid")  # type: ignore
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
        if len(changes) != 1:
            raise TraceInputError(f"{where}: field 'event.prop.cc.changes': the spec models single-server changes "
                                  f"only, this one has {len(changes)}")
        action = _get(changes[0], "action", where + " (prop.cc.changes[0])", str)
        if action not in CONF_ACTIONS:
            raise TraceInputError(f"{where}: field 'event.prop.cc.changes[0].action': unknown action {action!r}")
        change = (action, _get(changes[0], "nid", where + " (prop.cc.changes[0])", str))
    if name == "ApplyConfChange":
        cc = ev.get("prop", {}).get("cc", {}) if isinstance(ev.get("prop"), dict) else {}
        if isinstance(cc, dict) and "newconf" in cc:
            newconf = _nids(cc["newconf"], where, "prop.cc.newconf")
    return name, EtcdEvent(obs=obs, msg=msg, change=change, newconf=newconf)


def parse_lines(lines: Iterable[str], path: str = "trace") -> list[TraceEvent]:
    """The trace records of an NDJSON text (records without ``"tag": "trace"`` are ignored, as
    Traceetcdraft.tla's ``SelectSeq`` ignores them); :class:`TraceInputError` names the first bad line."""
    events: list[TraceEvent] = []
    for no, text in enumerate(lines, 1):
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
    return _annotate(events, path)


def parse_trace(path: str | Path) -> list[TraceEvent]:
    """Read and parse an NDJSON trace file."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise TraceInputError(f"{p}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TraceInputError(f"{p}: not a text file (UTF-8)") from None
    return parse_lines(text.splitlines(), str(p))


def trace_servers(events: Sequence[TraceEvent]) -> list[str]:
    """Traceetcdraft's TraceServer: every nid, and the target of each AddNewServer/AddLearner; numeric ids in
    numeric order."""
    out = set()
    for ev in events:
        out.add(ev.data.obs.nid)
        if ev.data.change and ev.data.change[0] in ("AddNewServer", "AddLearner"):
            out.add(ev.data.change[1])
    return sorted(out, key=lambda s: (0, int(s), s) if s.isdigit() else (1, 0, s))


def _annotate(events: list[TraceEvent], path: str) -> list[TraceEvent]:
    """Mark bootstrap lines and lines the spec skips; check every node id the events name is a server."""
    servers = set(trace_servers(events))
    first_other: dict[str, int] = {}
    for k, ev in enumerate(events):
        if ev.name not in BOOTSTRAP_NAMES:
            first_other.setdefault(ev.data.obs.nid, k)
    first_boot: dict[str, int] = {}
    for k, ev in enumerate(events):
        if ev.name in BOOTSTRAP_NAMES:
            first_boot.setdefault(ev.data.obs.nid, k)
    last_line_of: dict[str, EtcdEvent] = {}
    out = []
    for k, ev in enumerate(events):
        d: EtcdEvent = ev.data
        nid = d.obs.nid
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
        if d.change and d.change[1] not in servers:
            raise TraceInputError(f"{where}: field 'event.prop.cc.changes[0].nid': node {d.change[1]!r} is never "
                                  f"configured")
        boot = nid in first_boot and first_boot[nid] <= k < first_other.get(nid, len(events))
        skip = False
        if not boot:
            if ev.name in ("SendAppendEntriesResponse", "SendRequestVoteResponse") and d.msg.src != d.msg.dst:
                skip = True
            elif ev.name == "ReduceNextIndex":
                skip = True
            elif ev.name == "BecomeFollower":
                skip = _follower_explained(last_line_of.get(nid), d)
        last_line_of[nid] = d if ev.name not in RECEIVE_NAMES else _ReceiveMark(d, ev.name)
        out.append(TraceEvent(line=ev.line, name=ev.name, data=_with(d, skip=skip, bootstrap=boot), raw=ev.raw))
    return out


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


class _Diag:
    """Collects, for one event and one state, the actions the model allowed and the first field that disagreed."""

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


def _fmt(v: Any) -> Any:
    if isinstance(v, frozenset):
        return sorted(v, key=lambda s: (len(s), s))
    if isinstance(v, tuple):
        return [_fmt(x) for x in v]
    return v


class EtcdTraceMapping:
    """Traceetcdraft.tla's mapping of etcd trace events to etcdraft.tla steps (a
    :class:`~refmodel.checkers.trace_validate.TraceMapping`)."""

    def __init__(self, events: Sequence[TraceEvent]) -> None:
        self.servers = tuple(trace_servers(events))
        self.index = {s: k for k, s in enumerate(self.servers)}

    # ---------------------------------------------------------------------------------- initial state

    def initial_states(self, events: Sequence[TraceEvent]) -> list[EState]:
        """One state: each server from its last bootstrap line (TraceInitServerVars/LogVars/ConfigVars)."""
        last: dict[str, TraceEvent] = {}
        for ev in events:
            if ev.data.bootstrap:
                last[ev.data.obs.nid] = ev
        per = []
        for s in self.servers:
            ev = last.get(s)
            if ev is None:  # a server with no bootstrap line: the spec's plain Init
                per.append(ops.init_server(self.servers, FOLLOWER, 0, NIL, 0, 0, frozenset()))
                continue
            d: EtcdEvent = ev.data
            conf = d.newconf if ev.name == "ApplyConfChange" and d.newconf is not None else d.obs.conf[0]
            if ev.name == "ApplyConfChange" and d.newconf is None:
                conf = frozenset()  # "prop":{"cc":{}}: ToSet of an absent newconf; only reached with no change
            per.append(ops.init_server(self.servers, d.obs.role, d.obs.term, d.obs.vote, d.obs.log, d.obs.commit,
                                       conf))
        return [ops.init_state(self.servers, per)]

    # -------------------------------------------------------------------------------------- comparison

    def _compare(self, st: EState, nid: str, obs: Observed, diag: _Diag | None,
                 fields: tuple[str, ...] = ("term", "role", "vote", "log", "commit", "conf")) -> bool:
        sv = st.servers[self.index[nid]]
        for f in fields:
            if f == "term":
                model, want = sv.currentTerm, obs.term
            elif f == "role":
                model, want = sv.state, obs.role
            elif f == "vote":
                model, want = sv.votedFor, obs.vote
            elif f == "log":
                model, want = len(sv.log), obs.log
            elif f == "commit":
                model, want = sv.commitIndex, obs.commit
            else:
                model, want = sv.config.jointConfig, obs.conf
            if model != want:
                if diag is not None:
                    diag.mismatch(f"{f} of node {nid}", _fmt(want), _fmt(model))
                return False
        return True

    # ------------------------------------------------------------------------------------- messages

    @staticmethod
    def msg_matches(m: Any, o: ObservedMsg) -> bool:
        """LoglineIsAppendEntriesRequest/Response, LoglineIsRequestVoteRequest/Response."""
        if m.mtype != o.mtype or m.mdest != o.dst or m.msource != o.src or m.mterm != o.term:
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

    def _sent(self, before: EState, after: EState, o: ObservedMsg, diag: _Diag | None) -> bool:
        """``\\E m \\in DOMAIN pendingMessages' : LoglineIs...(m) /\\ OneMoreMessage(m)``."""
        for m in ops.bag_added(before.pending, after.pending):
            if self.msg_matches(m, o):
                return True
            if diag is not None:
                diag.mismatch("msg", _obs_msg_str(o), ops.msg_str(m))
        return False

    # ----------------------------------------------------------------------------------------- steps

    def steps(self, st: EState, event: TraceEvent, diag: _Diag | None = None) -> Iterator[tuple[tuple, EState]]:
        d: EtcdEvent = event.data
        name = event.name
        if d.bootstrap or d.skip:
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
            yield ((lab, t),), t

    def _post(self, st: EState, t: EState | None, lab: Label, d: EtcdEvent, diag: _Diag | None,
              nid: str | None = None, fields: tuple[str, ...] | None = None, sent: bool = False
              ) -> Iterator[tuple[Label, EState]]:
        if t is None:
            return
        if diag is not None:
            diag.allow(lab)
        nid = nid or d.obs.nid
        ok = self._compare(t, nid, d.obs, diag, fields) if fields else self._compare(t, nid, d.obs, diag)
        if ok and sent:
            ok = self._sent(st, t, d.msg, diag)
        if ok:
            yield lab, t

    def _node(self, d: EtcdEvent, nid: str, diag: _Diag | None) -> int:
        return self.index[nid]

    def _on_SendRequestVoteRequest(self, st, d, diag):
        i, j = d.msg.src, d.msg.dst
        t = ops.request_vote(st, self.index[i], self.index[j])
        yield from self._post(st, t, Label("RequestVote", (("i", i), ("j", j))), d, diag, nid=i, sent=True)

    def _on_SendRequestVoteResponse(self, st, d, diag):  # i = j: the candidate's vote for itself
        yield from self._on_SendRequestVoteRequest(st, d, diag)

    def _on_BecomeLeader(self, st, d, diag):
        i = d.obs.nid
        t = ops.become_leader(st, self.index[i])
        if t is not None and d.obs.role != LEADER:
            if diag is not None:
                diag.mismatch(f"role of node {i}", d.obs.role, LEADER)
            return
        yield from self._post(st, t, Label("BecomeLeader", (("i", i),)), d, diag)

    def _on_Replicate(self, st, d, diag):
        i = d.obs.nid
        t = ops.client_request(st, self.index[i], 0)
        if t is not None:
            lab = Label("ClientRequest", (("i", i), ("v", 0)))
            if diag is not None:
                diag.allow(lab)
            yield lab, t

    def _on_Commit(self, st, d, diag):
        i = d.obs.nid
        if d.obs.role != LEADER or st.servers[self.index[i]].state != LEADER:
            if diag is not None:
                diag.mismatch(f"role of node {i}", d.obs.role, st.servers[self.index[i]].state)
            return
        t = ops.advance_commit_index(st, self.index[i])
        yield from self._post(st, t, Label("AdvanceCommitIndex", (("i", i),)), d, diag)

    def _on_SendAppendEntriesRequest(self, st, d, diag):
        m = d.msg
        i, j = m.src, m.dst
        ii, jj = self.index[i], self.index[j]
        if m.type == "MsgApp":
            b = m.index + 1
            e = b + m.entries
            sv = st.servers[ii]
            if not (sv.matchIndex[jj] + 1 <= b <= len(sv.log) + 1 and e <= len(sv.log) + 1):
                if diag is not None:
                    diag.mismatch(f"msg.index/entries (range <<{b}, {e}>>)", f"<<{b}, {e}>>",
                                  f"b, e in {sv.matchIndex[jj] + 1}..{len(sv.log) + 1}")
                return
            t = ops.append_entries(st, ii, jj, b, e)
            lab = Label("AppendEntries", (("i", i), ("j", j), ("range", (b, e))))
        elif m.type == "MsgHeartbeat":
            t = ops.heartbeat(st, ii, jj)
            lab = Label("Heartbeat", (("i", i), ("j", j)))
        else:  # MsgSnap: entries is the snapshot's index
            if not 1 <= m.entries <= st.servers[ii].commitIndex:
                if diag is not None:
                    diag.mismatch("msg.entries (snapshot index)", m.entries,
                                  f"1..{st.servers[ii].commitIndex} (commitIndex of {i})")
                return
            t = ops.send_snapshot(st, ii, jj, m.entries)
            lab = Label("SendSnapshot", (("i", i), ("j", j), ("index", m.entries)))
        yield from self._post(st, t, lab, d, diag, nid=i, sent=True)

    def _on_SendSnapshot(self, st, d, diag):
        if diag is not None:
            diag.why("Traceetcdraft.tla maps no line named SendSnapshot (etcd logs MsgSnap as "
                     "SendAppendEntriesRequest)")
        return iter(())

    def _on_SendAppendEntriesResponse(self, st, d, diag):  # to itself (other responses are skipped)
        i = d.msg.src
        t = ops.append_entries_to_self(st, self.index[i])
        yield from self._post(st, t, Label("AppendEntriesToSelf", (("i", i),)), d, diag, nid=i, sent=True)

    def _on_BecomeCandidate(self, st, d, diag):
        i = d.obs.nid
        t = ops.timeout(st, self.index[i])
        if d.obs.role != CANDIDATE:
            if diag is not None:
                diag.mismatch(f"role of node {i}", d.obs.role, CANDIDATE)
            return
        yield from self._post(st, t, Label("Timeout", (("i", i),)), d, diag, fields=("role", "term"))

    def _on_ChangeConf(self, st, d, diag):
        i = d.obs.nid
        action, j = d.change
        fn = {"AddNewServer": ops.add_new_server, "AddLearner": ops.add_learner,
              "RemoveServer": ops.delete_server}[action]
        t = fn(st, self.index[i], self.index[j])
        if t is not None:
            lab = Label({"RemoveServer": "DeleteServer"}.get(action, action), (("i", i), ("j", j)))
            if diag is not None:
                diag.allow(lab)
            yield lab, t

    def _on_ApplyConfChange(self, st, d, diag):
        i = d.obs.nid
        t = ops.apply_simple_conf_change(st, self.index[i])
        if t is not None:
            lab = Label("ApplySimpleConfChange", (("i", i),))
            if diag is not None:
                diag.allow(lab)
            yield lab, t

    def _on_Ready(self, st, d, diag):
        i = d.obs.nid
        lab = Label("Ready", (("i", i),))
        if diag is not None:
            diag.allow(lab)
        yield lab, ops.ready(st, self.index[i])

    def _on_InitState(self, st, d, diag):
        i = d.obs.nid
        yield from self._post(st, ops.restart(st, self.index[i]), Label("Restart", (("i", i),)), d, diag)

    def _on_BecomeFollower(self, st, d, diag):
        i = d.obs.nid
        t = ops.step_down_to_follower(st, self.index[i])
        yield from self._post(st, t, Label("StepDownToFollower", (("i", i),)), d, diag)

    # --------------------------------------------------------------------------------------- receive

    def _receive(self, st: EState, event: TraceEvent, diag: _Diag | None) -> Iterator[tuple[tuple, EState]]:
        d: EtcdEvent = event.data
        o = d.msg
        if event.name == "ReceiveSnapshot" and o.mtype != "AppendEntriesRequest":
            return
        ii = self.index[o.dst]
        if diag is not None and not any(self.msg_matches(m, o) for m in ops.bag_domain(st.messages)):
            diag.why("no message in flight carries the logged fields" + _near_miss(st, o, self.msg_matches))
        if not self._compare(st, o.dst, d.obs, diag):  # ValidatePreStates, on the line's first step only
            return
        # chains of Receive(m) steps; a step that does not consume m keeps the line (a new chain state)
        todo: list[tuple[tuple, EState]] = [((), st)]
        seen = {st}
        done: dict[EState, tuple] = {}
        while todo:
            chain, s = todo.pop(0)
            matching = [m for m in ops.bag_domain(s.messages) if m.mdest == o.dst and self.msg_matches(m, o)]
            for m in matching:
                for lab_name, t in ops.receive(s, m, ii, self.index[m.msource]):
                    if t == s:
                        continue  # a step that changes nothing (e.g. appending no missing entry)
                    lab = Label(lab_name, (("m", ops.msg_str(m)),))
                    if diag is not None:
                        diag.allow(lab)
                    step = chain + ((lab, t),)
                    if ops.bag_count(t.messages, m) == ops.bag_count(s.messages, m) - 1:
                        done.setdefault(t, step)
                    elif t not in seen:
                        seen.add(t)
                        todo.append((step, t))
        for t, chain in done.items():
            yield chain, t

    # ------------------------------------------------------------------------------------- diagnosis

    def diagnose(self, frontier: Sequence[EState], event: TraceEvent) -> Mismatch:
        diag = _Diag()
        for st in frontier:
            for _ in self.steps(st, event, diag):
                pass
        allowed = tuple(dict.fromkeys(diag.allowed))
        return Mismatch(allowed=allowed, field=diag.field, observed=diag.observed, model=diag.model, note=diag.note)


def _obs_msg_str(o: ObservedMsg) -> str:
    return (f"{o.type} {o.src}->{o.dst} term {o.term} index {o.index} logTerm {o.log_term} entries {o.entries} "
            f"commit {o.commit} reject {str(o.reject).lower()}")


def _near_miss(s: EState, o: ObservedMsg, matches: Any) -> str:
    """Name the in-flight (or not yet released) messages between the same servers, to show what differs."""
    same = [m for m in ops.bag_domain(s.messages) if m.mdest == o.dst and m.msource == o.src and m.mtype == o.mtype]
    pend = [m for m in ops.bag_domain(s.pending) if m.mdest == o.dst and m.msource == o.src and matches(m, o)]
    out = ""
    if pend:
        out += f"; a matching message is still pending (sent, but node {o.src} has not had its Ready step)"
    if same:
        out += "; in flight from " + o.src + " to " + o.dst + ": " + "; ".join(ops.msg_str(m) for m in same[:4])
    return out


def mapping(events: Sequence[TraceEvent]) -> EtcdTraceMapping:
    """The mapping for ``events`` (servers and initial state come from the events)."""
    return EtcdTraceMapping(events)


# ------------------------------------------------------------------------------------------------ ITF


@dataclass(frozen=True)
class TraceModelConfig:
    """What ``#meta`` records of the model an ITF trace of a validated run steps through."""

    servers: tuple[str, ...]
    init_server: tuple[str, ...]


class _ItfView:
    """The minimum :func:`refmodel.checkers.itf.trace_document` needs of a model."""

    protocol = "etcdraft"
    mutant = None

    def __init__(self, config: TraceModelConfig) -> None:
        self.config = config

    def itf_vars(self, state: EState) -> dict[str, Any]:
        return ops.itf_vars(state)


@dataclass(frozen=True)
class _ItfStep:
    action: Label | None
    raw: EState


def itf_document(events: Sequence[TraceEvent], result: Any, source: str = "trace") -> dict[str, Any]:
    """The explained prefix of a validation run as an ITF document: every spec step, with the trace line it
    explains in ``#meta``."""
    from refmodel.checkers.itf import trace_document

    servers = tuple(trace_servers(events))
    first = events[0].data.obs.nid if events else ""
    init = ()
    if result.behaviour:
        st0 = result.behaviour[0][2]
        k = list(st0.ids).index(first) if first in st0.ids else 0
        init = tuple(sorted(st0.servers[k].config.jointConfig[0]))
    view = _ItfView(TraceModelConfig(servers=servers, init_server=init))
    steps = [_ItfStep(lab, st) for _, lab, st in result.behaviour]
    doc = trace_document(view, steps, description=f"etcdraft.tla behaviour explaining {result.explained} events "
                         f"of {source} ({result.verdict})",
                         extra_meta={"trace": source, "verdict": result.verdict, "explained": result.explained})
    for item, (line, _, _) in zip(doc["states"], result.behaviour):
        if line is not None:
            item["#meta"]["line"] = line
    return doc
