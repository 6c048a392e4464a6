"""Raft states as plain JSON-able data, in raft.tla's variable layout (``currentTerm: {s1: 1, ...}``)."""

from __future__ import annotations

from typing import Any

from model.raft.state import Entry, Message, RaftState


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
