"""Read TLC's state dumps of raft.tla (``-dump`` and ``-dump dot``) into our readable Raft states.

Used by tests to diff the port against TLC state by state.  TLC prints values in TLA+ notation: integers,
strings, model values (``s1``, ``Follower``, ``Nil``, ``RequestVoteRequest``, ``v1``), ``TRUE``/``FALSE``,
sets ``{...}``, sequences ``<<...>>``, records ``[k |-> v, ...]`` and functions ``(a :> x @@ b :> y)``; an
empty function prints as ``<<>>``.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from refmodel.model.core import Sid
from refmodel.model.raft.state import (
    AppendEntriesRequest,
    AppendEntriesResponse,
    Election,
    Entry,
    RaftState,
    RequestVoteRequest,
    RequestVoteResponse,
    ServerVars,
)

_TOKEN = re.compile(r'\s*(<<|>>|\|->|:>|@@|[\[\]{}(),]|"[^"]*"|-?\d+|[A-Za-z_][A-Za-z0-9_]*)')


class _FrozenDict(dict):
    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))


class Fn(_FrozenDict):
    """A TLA+ function value (``a :> x @@ b :> y``)."""


class Rec(_FrozenDict):
    """A TLA+ record value."""


class Model(str):
    """A TLA+ model value or identifier."""


def tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"cannot tokenise at {text[pos:pos + 30]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, toks: list[str]) -> None:
        self.toks, self.i = toks, 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expect: str | None = None) -> str:
        t = self.toks[self.i]
        if expect is not None and t != expect:
            raise ValueError(f"expected {expect!r}, got {t!r}")
        self.i += 1
        return t

    def expr(self) -> Any:
        first = self.atom()
        if self.peek() != ":>":
            return first
        fn = Fn()
        key = first
        while True:
            self.take(":>")
            fn[key] = self.atom()
            if self.peek() != "@@":
                return fn
            self.take("@@")
            key = self.atom()

    def items(self, close: str) -> list[Any]:
        out = []
        while self.peek() != close:
            out.append(self.expr())
            if self.peek() == ",":
                self.take(",")
        self.take(close)
        return out

    def atom(self) -> Any:
        t = self.take()
        if t == "(":
            v = self.expr()
            self.take(")")
            return v
        if t == "<<":
            return tuple(self.items(">>"))
        if t == "{":
            return frozenset(self.items("}"))
        if t == "[":
            rec = Rec()
            while self.peek() != "]":
                k = self.take()
                self.take("|->")
                rec[k] = self.expr()
                if self.peek() == ",":
                    self.take(",")
            self.take("]")
            return rec
        if t.startswith('"'):
            return t[1:-1]
        if t in ("TRUE", "FALSE"):
            return t == "TRUE"
        if re.fullmatch(r"-?\d+", t):
            return int(t)
        return Model(t)


def parse_value(text: str) -> Any:
    p = _Parser(tokens(text))
    v = p.expr()
    if p.peek() is not None:
        raise ValueError(f"trailing tokens after value: {p.toks[p.i:p.i + 5]}")
    return v


def parse_state_text(block: str) -> dict[str, Any]:
    """``/\\ var = value`` lines (values may span lines) -> {var: value}."""
    out: dict[str, Any] = {}
    for part in re.split(r"(?:^|\n)/\\ ", block.strip()):
        if not part.strip():
            continue
        var, _, value = part.partition(" = ")
        out[var.strip()] = parse_value(value)
    return out


def read_dump(path: Path) -> Iterator[dict[str, Any]]:
    """Every state of a TLC ``-dump`` file, as {var: value}, in TLC's order."""
    with gzip.open(path, "rt") as f:
        text = f.read()
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block:
            continue
        head, _, body = block.partition("\n")
        if not head.startswith("State "):
            raise ValueError(f"unexpected block header {head!r}")
        yield parse_state_text(body)


def read_dot(path: Path) -> tuple[dict[str, dict[str, Any]], set[tuple[str, str]]]:
    """A TLC ``-dump dot`` file: node id -> state, and the set of edges (node id pairs)."""
    with gzip.open(path, "rt") as f:
        text = f.read()
    nodes: dict[str, dict[str, Any]] = {}
    edges: set[tuple[str, str]] = set()
    for line in text.splitlines():
        if m := re.match(r'(-?\d+) -> (-?\d+) ', line):
            edges.add((m.group(1), m.group(2)))
        elif m := re.match(r'(-?\d+) \[label="(.*?)"(?:,|\])', line):
            label = m.group(2).encode().decode("unicode_escape")
            nodes[m.group(1)] = parse_state_text(label)
    return nodes, edges


# ------------------------------------------------------------------------------------- to RaftState


def _sid(v: Model) -> Sid:
    return Sid(int(v[1:]) - 1)


def _log(v: tuple) -> tuple[Entry, ...]:
    return tuple(Entry(e["term"], int(e["value"][1:])) for e in v)


def _per_server(v: Any, n: int) -> list[Any]:
    if isinstance(v, tuple) and not v:  # an empty function prints as <<>>
        return []
    return [v[Model(f"s{k + 1}")] for k in range(n)]


def _logmap(v: Any) -> tuple:
    if isinstance(v, tuple) and not v:
        return ()
    return tuple(sorted((_sid(k), _log(x)) for k, x in v.items()))


def _message(r: dict[str, Any]) -> Any:
    t = r["mtype"]
    src, dst = _sid(r["msource"]), _sid(r["mdest"])
    if t == "RequestVoteRequest":
        return RequestVoteRequest(r["mterm"], r["mlastLogTerm"], r["mlastLogIndex"], src, dst)
    if t == "RequestVoteResponse":
        return RequestVoteResponse(r["mterm"], r["mvoteGranted"], _log(r["mlog"]), src, dst)
    if t == "AppendEntriesRequest":
        return AppendEntriesRequest(r["mterm"], r["mprevLogIndex"], r["mprevLogTerm"], _log(r["mentries"]),
                                    _log(r["mlog"]), r["mcommitIndex"], src, dst)
    return AppendEntriesResponse(r["mterm"], r["msuccess"], r["mmatchIndex"], src, dst)


def to_raft_state(v: dict[str, Any], n: int) -> RaftState:
    """A TLC state of raft.tla as our :class:`RaftState`."""
    servers = []
    names = [Model(f"s{k + 1}") for k in range(n)]
    for k, name in enumerate(names):
        voted = v["votedFor"][name]
        servers.append(ServerVars(
            currentTerm=v["currentTerm"][name], state=str(v["state"][name]),
            votedFor=None if voted == "Nil" else _sid(voted), log=_log(v["log"][name]),
            commitIndex=v["commitIndex"][name],
            votesResponded=frozenset(_sid(x) for x in v["votesResponded"][name]),
            votesGranted=frozenset(_sid(x) for x in v["votesGranted"][name]),
            voterLog=_logmap(v["voterLog"][name]),
            nextIndex=tuple(_per_server(v["nextIndex"][name], n)),
            matchIndex=tuple(_per_server(v["matchIndex"][name], n))))
    msgs = v["messages"]
    bag = frozenset() if isinstance(msgs, tuple) else frozenset(
        (_message(m), c) for m, c in msgs.items())
    elections = frozenset(
        Election(eterm=e["eterm"], eleader=_sid(e["eleader"]), elog=_log(e["elog"]),
                 evotes=frozenset(_sid(x) for x in e["evotes"]), evoterLog=_logmap(e["evoterLog"]))
        for e in v["elections"])
    all_logs = frozenset(_log(x) for x in v["allLogs"])
    return RaftState(tuple(servers), bag, elections, all_logs)
