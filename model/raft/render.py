"""Raft states as plain JSON-able data, in raft.tla's variable layout (``currentTerm: {s1: 1, ...}``)."""

from __future__ import annotations

from typing import Any

from refmodel.model.core import Sid
from refmodel.model.raft.state import Entry, Message, RaftState


def entry(e: Entry) -> dict[str, Any]:
    return {"term": e.term, "value": f"v{e.value}"}


def log(lg: tuple[Entry, ...]) -> list[dict[str, Any]]:
    return [entry(e) for e in lg]


def sid(k: Any) -> str | None:
    return None if k is None else str(k)


def message(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"mtype": type(m).__name__}
    for f in m.__slots__:
        v = getattr(m, f)
        if f in ("msource", "mdest"):
            v = sid(v)
        elif f in ("mlog", "mentries"):
            v = log(v)
        out[f] = v
    return out


def render_state(s: RaftState) -> dict[str, Any]:
    """Every variable of raft.tla, per-server ones as ``{server: value}``; bags as lists with counts."""
    names = [f"s{k + 1}" for k in range(len(s.servers))]

    def per_server(fn: Any) -> dict[str, Any]:
        return {names[k]: fn(sv) for k, sv in enumerate(s.servers)}

    def row(t: tuple[int, ...]) -> dict[str, int]:
        return {names[k]: v for k, v in enumerate(t)}

    msgs = sorted(((message(m), c) for m, c in s.messages), key=lambda mc: repr(mc[0]))
    return {
        "currentTerm": per_server(lambda sv: sv.currentTerm),
        "state": per_server(lambda sv: sv.state),
        "votedFor": per_server(lambda sv: sid(sv.votedFor)),
        "log": per_server(lambda sv: log(sv.log)),
        "commitIndex": per_server(lambda sv: sv.commitIndex),
        "votesResponded": per_server(lambda sv: sorted(map(str, sv.votesResponded))),
        "votesGranted": per_server(lambda sv: sorted(map(str, sv.votesGranted))),
        "voterLog": per_server(lambda sv: {str(j): log(lg) for j, lg in sv.voterLog}),
        "nextIndex": per_server(lambda sv: row(sv.nextIndex)),
        "matchIndex": per_server(lambda sv: row(sv.matchIndex)),
        "messages": [dict(m, count=c) for m, c in msgs],
        "elections": sorted(
            ({"eterm": e.eterm, "eleader": str(e.eleader), "elog": log(e.elog),
              "evotes": sorted(map(str, e.evotes)), "evoterLog": {str(j): log(lg) for j, lg in e.evoterLog}}
             for e in s.elections), key=repr),
        "allLogs": sorted((log(lg) for lg in s.allLogs), key=repr),
    }


def itf_vars(s: RaftState) -> dict[str, Any]:
    """raft.tla's variables as ITF values: per-server functions keyed by server, the bag as a function from
    message records to counts, history sets as sets."""
    ids = [Sid(k) for k in range(len(s.servers))]

    def fn(get: Any) -> dict[Any, Any]:
        return {k: get(sv) for k, sv in zip(ids, s.servers)}

    return {
        "currentTerm": fn(lambda sv: sv.currentTerm),
        "state": fn(lambda sv: sv.state),
        "votedFor": fn(lambda sv: sv.votedFor),
        "log": fn(lambda sv: sv.log),
        "commitIndex": fn(lambda sv: sv.commitIndex),
        "votesResponded": fn(lambda sv: sv.votesResponded),
        "votesGranted": fn(lambda sv: sv.votesGranted),
        "voterLog": fn(lambda sv: dict(sv.voterLog)),
        "nextIndex": fn(lambda sv: dict(zip(ids, sv.nextIndex))),
        "matchIndex": fn(lambda sv: dict(zip(ids, sv.matchIndex))),
        "messages": dict(s.messages),
        "elections": frozenset(s.elections),
        "allLogs": s.allLogs,
    }


_SHORT = {"RequestVoteRequest": "RV", "RequestVoteResponse": "RV resp", "AppendEntriesRequest": "AE",
          "AppendEntriesResponse": "AE resp"}
RECEIVE_ACTIONS = {"UpdateTerm", "HandleRequestVoteRequest", "HandleRequestVoteResponse", "DropStaleResponse",
                   "HandleAppendEntriesRequest", "HandleAppendEntriesResponse"}


def message_text(m: Message) -> str:
    """A short caption for a message arrow."""
    name = type(m).__name__
    text = f"{_SHORT[name]} t{m.mterm}"
    if name == "RequestVoteResponse":
        text += " yes" if m.mvoteGranted else " no"
    elif name == "AppendEntriesRequest":
        text += f" prev {m.mprevLogIndex}" + (f" +{len(m.mentries)}" if m.mentries else "") + f" c{m.mcommitIndex}"
    elif name == "AppendEntriesResponse":
        text += f" ok {m.mmatchIndex}" if m.msuccess else " fail"
    return text


def msc_events(before: RaftState, label: Any, after: RaftState) -> list[dict[str, Any]]:
    """Sends, receipts, drops and per-server markers of one step, for the message-sequence chart."""
    events: list[dict[str, Any]] = []
    old, new = dict(before.messages), dict(after.messages)
    for m in sorted(set(old) | set(new), key=lambda m: m.sort_key()):
        delta = new.get(m, 0) - old.get(m, 0)
        key = repr(m)
        for _ in range(max(delta, 0)):
            events.append({"kind": "send", "from": str(m.msource), "to": str(m.mdest), "key": key,
                           "text": message_text(m) + (" (dup)" if label.action == "DuplicateMessage" else "")})
        for _ in range(max(-delta, 0)):
            kind = "drop" if label.action == "DropMessage" else "receive"
            events.append({"kind": kind, "at": str(m.mdest), "key": key})
    for k, (a, b) in enumerate(zip(before.servers, after.servers)):
        at = f"s{k + 1}"
        if label.action == "Restart" and int(label.param("i")) == k:
            events.append({"kind": "mark", "at": at, "text": "restart", "style": "bad"})
        if a.state != b.state:
            events.append({"kind": "mark", "at": at, "text": f"{b.state} t{b.currentTerm}", "style": "role"})
        elif a.currentTerm != b.currentTerm:
            events.append({"kind": "mark", "at": at, "text": f"term {b.currentTerm}"})
        if a.votedFor != b.votedFor and b.votedFor is not None:
            events.append({"kind": "mark", "at": at, "text": f"votes {b.votedFor}"})
        if a.log != b.log:
            grown = len(b.log) - len(a.log)
            events.append({"kind": "mark", "at": at, "text": f"log +{grown}" if grown > 0 else f"log {grown}"})
        if a.commitIndex != b.commitIndex:
            events.append({"kind": "mark", "at": at, "text": f"commit {b.commitIndex}", "style": "commit"})
    return events
