"""Conformance vectors in etcd's trace schema: the explored etcdraft graph as etcd's trace can show it, each
step written as the ndjson events etcd-io/raft's ``with_tla`` tracing logs for it, and the mutant oracle.

``refmodel vectors etcdraft --format etcd`` writes one ``vector_NNNN.ndjson`` per vector; each is accepted by
``refmodel trace validate FILE --model etcdraft`` (:mod:`refmodel.model.etcdraft.trace`, Traceetcdraft.tla's
mapping), which is how an implementation's harness compares its own trace with the expected one.

**What the etcd trace can show** (:class:`EtcdView`).  A vector is a path through a graph the trace can
express, built from the model's explored graph:

* a *receive* is one trace line (``Receive...``) for the whole chain of etcdraft.tla ``Receive`` steps that
  one message takes at its recipient: the steps that keep the message (UpdateTerm, ReturnToFollowerState,
  ConflictAppendEntriesRequest, NoConflictAppendEntriesRequest) and the one that consumes it (etcd's
  ``Step`` handles a message in one call; the validator, like Traceetcdraft.tla, takes such a chain per
  receive line).  In the model the chain's steps may be interleaved with other steps; in the view a chain
  is one step, from the state before its first step to the state after its last, all within the bounds.
  Its label is the consuming step's, with ``after=`` naming the steps before it; it covers every action and
  branch of the chain;
* ``DuplicateMessage`` and ``DropMessage`` are left out: etcd's trace has no event for the network's faults
  (a dropped message is one no line receives, which says nothing to check; a duplicated one received twice
  cannot be explained by the validator, whose bag holds the copies that were sent);
* the receive of an ``AppendEntriesResponse`` answering a snapshot is left out: etcd's trace logs no
  message type the validator maps to it (``MsgAppResp`` is an answer to ``MsgApp``);
* ApplySimpleConfChange of a bootstrap entry other than the last (a server outside the initial
  configuration that has received, and committed, only part of the bootstrap log) is left out: the
  validator, like Traceetcdraft.tla's TraceInitLogVars, gives every bootstrap entry the configuration of the
  last one, so it would apply another configuration than the model (``MCetcdraft``'s BootstrapLog lists
  ``{1}``, ``{1, 2}``, ...);
* every other action is one line: RequestVote -> ``SendRequestVoteRequest`` (to itself:
  ``SendRequestVoteResponse``), AppendEntries / Heartbeat / SendSnapshot -> ``SendAppendEntriesRequest``
  (``MsgApp`` / ``MsgHeartbeat`` / ``MsgSnap``, whose ``entries`` is the snapshot's index, as etcd logs it),
  AppendEntriesToSelf -> ``SendAppendEntriesResponse`` to itself, BecomeLeader, ClientRequest ->
  ``Replicate``, AdvanceCommitIndex -> ``Commit``, Timeout -> ``BecomeCandidate``, StepDownToFollower ->
  ``BecomeFollower``, Ready, Restart -> ``InitState``, AddNewServer / AddLearner / DeleteServer ->
  ``ChangeConf`` (``AddNewServer`` / ``AddLearner`` / ``RemoveServer``), ApplySimpleConfChange ->
  ``ApplyConfChange``.

Items (actions or branches) some step of the model covers but no step of the view does are reported as not
expressible in this format (:meth:`ViewSystem.not_expressible`), apart from those the bounds never reach.

**Lines** (:func:`vector_lines`).  A trace starts with one ``InitState`` line per server, its initial state
(the validator's bootstrap).  A receive line carries the recipient's state before the chain; it is
followed, as etcd logs them, by ``BecomeFollower`` when the chain made the recipient a follower
(UpdateTerm, ReturnToFollowerState) and by the ``Send...Response`` of the answer, if any (the validator
checks neither: the receive explains them).  Every other line carries the node's state after its step
(``ChangeConf`` and ``ApplyConfChange``: before, as etcd logs them).  Nodes are ``"1"``..``"N"``, ``"0"``
is no vote.  Each record has etcd's zap fields (``level``, ``ts``, ``caller``, ``msg``, ``tag``) with a
``ts`` that counts lines, so the same vectors are the same bytes.  Not written: the ``prop`` of a ``MsgApp``
send (the sender's own progress, which neither the model nor the validator has).

**Mutants** (:class:`EtcdTraceOracle`).  A mutant fails a vector when the validator, calling the mutant's
rules, rejects it; one no covering vector kills gets the shortest vector its validation rejects, found
breadth first over (view state, the mutant's frontier).  A mutant that only weakens a guard
(``minority_quorum``) explains every trace the model explains, so no etcd vector can kill it.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import networkx as nx

from refmodel.model.core import Label
from refmodel.model.etcdraft.state import (
    AE_REQ,
    AE_RESP,
    CANDIDATE,
    CONFIG_ENTRY,
    FOLLOWER,
    LEADER,
    RV_REQ,
    EtcdState,
    Message,
    ServerVars,
)

#: receive steps that consume the message (the end of a receive line's chain)
CONSUMING = frozenset({"HandleRequestVoteRequest", "HandleRequestVoteResponse", "DropStaleResponse",
                       "RejectAppendEntriesRequest", "AppendEntriesAlreadyDone", "HandleAppendEntriesResponse"})
#: receive steps that keep the message (the chain goes on at the same recipient with the same message)
KEEPING = frozenset({"UpdateTerm", "ReturnToFollowerState", "ConflictAppendEntriesRequest",
                     "NoConflictAppendEntriesRequest"})
#: the network's faults: no etcd trace event
NETWORK = frozenset({"DuplicateMessage", "DropMessage"})
#: the longest chain of receive steps one line stands for (each keeping step changes the recipient's term, role
#: or log; chains within small bounds are two or three steps)
MAX_CHAIN = 12

ROLE_NAMES = {FOLLOWER: "StateFollower", CANDIDATE: "StateCandidate", LEADER: "StateLeader"}
CONF_ACTIONS = {"AddNewServer": "AddNewServer", "AddLearner": "AddLearner", "DeleteServer": "RemoveServer"}
#: what the format leaves out, and why (the reports print it)
NOTE = ("etcd trace view: a receive line stands for the chain of Receive steps one message takes (UpdateTerm, "
        "ReturnToFollowerState, Conflict/NoConflictAppendEntriesRequest, then the step that consumes it); "
        "DuplicateMessage and DropMessage have no etcd event, nor the receive of an answer to a snapshot, nor "
        "ApplySimpleConfChange of a bootstrap entry but the last")


def _message(label: Label) -> Message | None:
    view = label.param("m")
    return None if view is None else view.msg


def _applies_partial_bootstrap(st: EtcdState, label: Label, init_servers: int) -> bool:
    """ApplySimpleConfChange(i) in ``st`` applies bootstrap entry k < I (the first I entries of every log are the
    bootstrap's term-1 ConfigEntry entries, entry k listing servers 1..k; see ``state.bootstrap_log``)."""
    sv = st.servers[label.param("i") - 1]
    k = next((x for x in range(sv.commitIndex, 0, -1) if sv.log[x - 1].type == CONFIG_ENTRY), 0)
    return 0 < k < init_servers


def _expressible_receive(m: Message) -> bool:
    return not (m.mtype == AE_RESP and m.msubtype == "snapshot")


class ViewSystem:
    """The etcdraft model as the view's steps see it: the branches and actions a (chain) step covers, and
    what the format cannot express.  Everything else is the model's."""

    def __init__(self, view: EtcdView) -> None:
        self._view = view
        self._base = view.base_engine.system
        self.protocol = self._base.protocol
        self.config = self._base.config
        self.view_note = NOTE
        self.model_graph = {"states": view.base_states, "transitions": view.base_transitions}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)

    def _parts(self, label: Label) -> tuple[Label, ...]:
        return self._view.sub_labels.get(label, (label,))

    def branches(self, label: Label) -> tuple[str, ...]:
        return tuple(dict.fromkeys(b for part in self._parts(label) for b in self._base.branches(part)))

    def actions_of(self, label: Label) -> tuple[str, ...]:
        return tuple(dict.fromkeys(part.action for part in self._parts(label)))

    def branch_universe(self) -> Any:
        return self._base.branch_universe()

    def not_expressible(self, cover: str) -> list[str]:
        """Items (``cover``: actions or branches) a step of the model's graph covers and none of the view's."""
        if cover == "edges":
            return []
        v = self._view

        def items(label: Label) -> tuple[str, ...]:
            return self.actions_of(label) if cover == "actions" else self.branches(label)

        model = {x for a in v.base_aids for x in (
            (v.base_engine.label(a).action,) if cover == "actions" else self._base.branches(v.base_engine.label(a)))}
        shown = {x for a in v.view_aids for x in items(v.label(a))}
        order = list(v.base_engine.action_names) if cover == "actions" else list(
            self._base.branch_universe() or v.base_engine.action_names)
        order += sorted(model - set(order))
        return [x for x in order if x in model and x not in shown]


class ViewEngine:
    """The view's labels and states for :func:`refmodel.checkers.vectors.build_suite` (it asks nothing else)."""

    def __init__(self, view: EtcdView) -> None:
        self._view = view
        self.system = ViewSystem(view)
        self.action_names = view.base_engine.action_names

    def label(self, aid: int) -> Label:
        return self._view.label(aid)

    def decode(self, encoded: Any) -> EtcdState:
        return self._view.base_engine.decode(encoded)

    def successors(self, encoded: Any) -> Any:
        raise NotImplementedError("the etcd view has no successor function (it is a graph, not an engine)")


class EtcdView:
    """The graph of the etcd trace view, built from a labelled exploration of the model
    (``check(engine, graph="labelled")``): nodes are the model's states reachable by the view's steps,
    renumbered breadth first; edges are the model's expressible steps (with their action ids) and the
    receive chains (with new action ids).  :attr:`engine` and :attr:`result` stand in for the model's
    engine and check result in :func:`~refmodel.checkers.vectors.build_suite`."""

    def __init__(self, engine: Any, result: Any) -> None:
        self.base_engine = engine
        g = result.graph
        self._base_states = result.graph_states
        out: dict[int, list[tuple[int, int]]] = {u: [] for u in g.nodes}
        top = -1
        for u, v, a in g.edges(keys=True):
            out[u].append((a, v))
            top = max(top, a)
        self.base_aids = sorted({a for _, _, a in g.edges(keys=True)})
        self.base_states, self.base_transitions = g.number_of_nodes(), g.number_of_edges()
        self._labels: dict[int, Label] = {}
        self.sub_labels: dict[Label, tuple[Label, ...]] = {}  # chain label -> its steps' labels
        self._chain_aid: dict[tuple[int, ...], int] = {}
        self._next_aid = top + 1
        #: (model node, view action id) -> the model nodes after each step of it
        self.paths: dict[tuple[int, int], list[int]] = {}

        init_servers = engine.system.config.init_servers

        def base_label(a: int) -> Label:
            lab = self._labels.get(a)
            if lab is None:
                lab = self._labels[a] = engine.label(a)
            return lab

        def steps_from(u: int) -> list[tuple[int, int]]:
            """The view's steps from model node u: (view action id, model node reached)."""
            found: list[tuple[int, int]] = []
            for a, v in out[u]:
                lab = base_label(a)
                if lab.action in NETWORK:
                    continue
                if lab.action in CONSUMING or lab.action in KEEPING:
                    m = _message(lab)
                    if not _expressible_receive(m):
                        continue
                    for aids, nodes in _chains(a, v, lab.param("i"), m):
                        aid = aids[0] if len(aids) == 1 else self._chain(aids)
                        self.paths[(u, aid)] = nodes
                        found.append((aid, nodes[-1]))
                    continue
                if (lab.action == "ApplySimpleConfChange"
                        and _applies_partial_bootstrap(self.state(u), lab, init_servers)):
                    continue
                self.paths[(u, a)] = [v]
                found.append((a, v))
            return found

        def _chains(a: int, v: int, i: int, m: Message) -> list[tuple[tuple[int, ...], list[int]]]:
            done = []
            stack = [((a,), [v])]
            while stack:
                aids, nodes = stack.pop()
                if base_label(aids[-1]).action in CONSUMING:
                    done.append((aids, nodes))
                    continue
                if len(aids) >= MAX_CHAIN:
                    continue
                for b, w in out[nodes[-1]]:
                    lab = base_label(b)
                    if ((lab.action in CONSUMING or lab.action in KEEPING) and lab.param("i") == i
                            and _message(lab) == m and w not in nodes):
                        stack.append((aids + (b,), nodes + [w]))
            return sorted(done)

        initial = [u for u, d in g.nodes(data=True) if d["initial"]]
        new_id: dict[int, int] = {}
        order: list[int] = []
        depth: list[int] = []
        edges: list[tuple[int, int, int]] = []
        queue = deque()
        for u in initial:
            new_id[u] = len(order)
            order.append(u)
            depth.append(0)
            queue.append(u)
        while queue:
            u = queue.popleft()
            for aid, v in steps_from(u):
                if v not in new_id:
                    new_id[v] = len(order)
                    order.append(v)
                    depth.append(depth[new_id[u]] + 1)
                    queue.append(v)
                edges.append((u, aid, v))
        h = nx.MultiDiGraph()
        for k, u in enumerate(order):
            h.add_node(k, depth=depth[k], initial=k < len(initial))
        for u, aid, v in edges:
            h.add_edge(new_id[u], new_id[v], key=aid)
        self.base_of = order  # view node -> model node
        self.view_aids = sorted({aid for _, aid, _ in edges})
        self.graph = h
        self.engine = ViewEngine(self)
        self.result = SimpleNamespace(
            graph=h, graph_states=[self._base_states[u] for u in order], verdict=result.verdict,
            violation=result.violation, incomplete_reason=result.incomplete_reason, config=result.config,
            elapsed_s=result.elapsed_s, generated_states=result.generated_states)

    def _chain(self, aids: tuple[int, ...]) -> int:
        aid = self._chain_aid.get(aids)
        if aid is None:
            aid = self._chain_aid[aids] = self._next_aid
            self._next_aid += 1
            parts = tuple(self._labels[a] for a in aids)
            last = parts[-1]
            lab = Label(last.action, last.params + (("after", ", ".join(p.action for p in parts[:-1])),))
            self._labels[aid] = lab
            self.sub_labels[lab] = parts
        return aid

    def label(self, aid: int) -> Label:
        lab = self._labels.get(aid)
        if lab is None:
            lab = self._labels[aid] = self.base_engine.label(aid)
        return lab

    def state(self, base_node: int) -> EtcdState:
        return self.base_engine.decode(self._base_states[base_node])

    def steps(self, nodes: Sequence[int], aids: Sequence[int]) -> list[list[tuple[Label, EtcdState, EtcdState]]]:
        """Per step of a vector (view node ids and action ids): the model steps it stands for, as
        (label, state before, state after)."""
        out = []
        for k, aid in enumerate(aids):
            u = self.base_of[nodes[k]]
            path = self.paths[(u, aid)]
            parts = self.sub_labels.get(self.label(aid), (self.label(aid),))
            before = self.state(u)
            chain = []
            for lab, w in zip(parts, path):
                after = self.state(w)
                chain.append((lab, before, after))
                before = after
            out.append(chain)
        return out


# ------------------------------------------------------------------------------------------------ lines


def _conf(sv: ServerVars) -> list[list[str]]:
    return [[str(x) for x in sorted(part)] for part in sv.config.jointConfig]


def node_event(name: str, i: int, sv: ServerVars) -> dict[str, Any]:
    """An event's node part, as etcd's ``traceEvent`` writes it: server i's term, vote, commit, role, last
    log index and voters (incoming, outgoing)."""
    return {"name": name, "nid": str(i),
            "state": {"term": sv.currentTerm, "vote": str(sv.votedFor), "commit": sv.commitIndex},
            "role": ROLE_NAMES[sv.state], "log": len(sv.log), "conf": _conf(sv)}


def message_fields(m: Message) -> dict[str, Any]:
    """etcd's ``TracingMessage`` of a model message (``makeTracingMessage``: a snapshot logs its index as
    ``entries`` and no index or log term)."""
    out = {"type": "", "term": m.mterm, "from": str(m.msource), "to": str(m.mdest), "entries": 0, "logTerm": 0,
           "index": 0, "commit": 0, "vote": "0", "reject": False, "rejectHint": 0}
    if m.mtype == AE_REQ:
        out["type"] = {"app": "MsgApp", "heartbeat": "MsgHeartbeat", "snapshot": "MsgSnap"}[m.msubtype]
        out["entries"] = len(m.mentries)
        out["commit"] = m.mcommitIndex
        if m.msubtype == "app":
            out["logTerm"], out["index"] = m.mprevLogTerm, m.mprevLogIndex
    elif m.mtype == AE_RESP:
        out["type"] = "MsgHeartbeatResp" if m.msubtype == "heartbeat" else "MsgAppResp"
        out["reject"] = not m.msuccess
        out["index"] = m.mmatchIndex
    elif m.mtype == RV_REQ:
        out["type"] = "MsgVote"
        out["logTerm"], out["index"] = m.mlastLogTerm, m.mlastLogIndex
    else:
        out["type"] = "MsgVoteResp"
        out["reject"] = not m.mvoteGranted
    return out


def _added(before: frozenset, after: frozenset) -> list[Message]:
    """The messages ``after`` holds more copies of than ``before`` (bags of (message, count))."""
    had = dict(before)
    return sorted((m for m, c in after if c > had.get(m, 0)), key=lambda m: (m.msource, m.mdest, repr(m)))


_SEND = {AE_REQ: "SendAppendEntriesRequest", AE_RESP: "SendAppendEntriesResponse", RV_REQ: "SendRequestVoteRequest"}
_RECEIVE = {AE_REQ: "ReceiveAppendEntriesRequest", AE_RESP: "ReceiveAppendEntriesResponse",
            RV_REQ: "ReceiveRequestVoteRequest"}
_NODE_EVENTS = {"BecomeLeader": "BecomeLeader", "ClientRequest": "Replicate", "AdvanceCommitIndex": "Commit",
                "Timeout": "BecomeCandidate", "StepDownToFollower": "BecomeFollower", "Ready": "Ready",
                "Restart": "InitState"}


def _send_event(i: int, sv: ServerVars, m: Message) -> dict[str, Any]:
    ev = node_event(_SEND.get(m.mtype, "SendRequestVoteResponse"), i, sv)
    ev["msg"] = message_fields(m)
    return ev


def step_events(chain: Sequence[tuple[Label, EtcdState, EtcdState]]) -> list[dict[str, Any]]:
    """The etcd events of one view step (one model step, or a receive chain): see the module docstring."""
    lab, s, t = chain[0][0], chain[0][1], chain[-1][2]
    act = chain[-1][0].action
    if act in CONSUMING:  # a receive line, and what etcd logs while handling it
        m = _message(chain[-1][0])
        i = m.mdest
        ev = node_event(_RECEIVE.get(m.mtype, "ReceiveRequestVoteResponse"), i, s.servers[i - 1])
        ev["msg"] = message_fields(m)
        out = [ev]
        for part, _, after in chain:
            if part.action in ("UpdateTerm", "ReturnToFollowerState"):
                out.append(node_event("BecomeFollower", i, after.servers[i - 1]))
        for reply in _added(chain[-1][1].pendingMessages, t.pendingMessages):
            out.append(_send_event(i, t.servers[i - 1], reply))
        return out
    i = lab.param("i")
    sv_before, sv_after = s.servers[i - 1], t.servers[i - 1]
    if lab.action in ("RequestVote", "AppendEntries", "Heartbeat", "SendSnapshot", "AppendEntriesToSelf"):
        return [_send_event(i, sv_after, m) for m in _added(s.pendingMessages, t.pendingMessages)]
    if lab.action in _NODE_EVENTS:
        return [node_event(_NODE_EVENTS[lab.action], i, sv_after)]
    if lab.action in CONF_ACTIONS:
        ev = node_event("ChangeConf", i, sv_before)
        ev["prop"] = {"cc": {"changes": [{"nid": str(lab.param("j")), "action": CONF_ACTIONS[lab.action]}]}}
        return [ev]
    if lab.action == "ApplySimpleConfChange":
        ev = node_event("ApplyConfChange", i, sv_before)
        ev["prop"] = {"cc": {"newconf": _conf(sv_after)[0]}}
        return [ev]
    raise ValueError(f"no etcd trace event for {lab}")


def record(k: int, event: dict[str, Any]) -> str:
    """One ndjson line: zap's fields around the event (``ts`` counts lines: the output is reproducible)."""
    return json.dumps({"level": "debug", "ts": round(k / 1000, 3), "caller": "refmodel/vectors", "msg": "trace",
                       "tag": "trace", "event": event}, separators=(",", ":"))


def vector_lines(view: EtcdView, nodes: Sequence[int], aids: Sequence[int]) -> tuple[list[str], list[int]]:
    """The ndjson lines of a vector (view node ids and action ids) and, per line, the index of the vector's
    state the line reaches (0 for the InitState lines)."""
    init = view.state(view.base_of[nodes[0]])
    events = [(node_event("InitState", i, sv), 0) for i, sv in enumerate(init.servers, 1)]
    for k, chain in enumerate(view.steps(nodes, aids), 1):
        events.extend((ev, k) for ev in step_events(chain))
    return [record(n, ev) for n, (ev, _) in enumerate(events)], [k for _, k in events]


# ------------------------------------------------------------------------------------------------ mutants


class EtcdTraceOracle:
    """A mutant's verdict on etcd vectors: ``refmodel trace validate`` with the mutant's rules (the mapping
    of :mod:`~refmodel.model.etcdraft.trace` calling the mutant's operators); ``validate`` is the search
    (``refmodel.checkers.trace_validate.validate``, handed in: a model imports no checker)."""

    def __init__(self, name: str, view: EtcdView, rules: Any, validate: Callable[..., Any],
                 budget: int = 400_000) -> None:
        self.name, self.view, self.rules, self._validate, self.budget = name, view, rules, validate, budget
        #: why :meth:`distinguish` found nothing (the suite's report says it)
        self.why_none: str | None = None

    def verdict(self, nodes: Sequence[int], aids: Sequence[int]) -> tuple[int, str] | None:
        from refmodel.model.etcdraft.trace import mapping, parse_lines

        lines, where = vector_lines(self.view, nodes, aids)
        events = parse_lines(["{}", *lines], "vector")  # line 1: the file's first record (not a trace event)
        res = self._validate(mapping(events, self.rules), events)
        if res.verdict == "valid":
            return None
        why = res.mismatch.describe() if res.mismatch is not None else ""
        return where[res.line - 2], f"line {res.line} ({res.event_name}) not explained: {why}".rstrip(": ")

    def first_failure(self, explored: Any, vector: Any) -> tuple[int, str] | None:
        return self.verdict(vector.nodes, vector.aids)

    def distinguish(self, explored: Any) -> list[Label] | None:
        """The labels of a shortest vector the mutant's validation rejects: breadth first over (state of the
        view, the mutant's frontier: the states of its model that explain the lines so far, the nodes past
        their bootstrap), each step's lines validated as they are written, until a line leaves the mutant's
        frontier empty.  Exhaustive within the bounds unless it expands more than ``budget`` steps (then
        :attr:`why_none` says so)."""
        from refmodel.model.etcdraft.trace import LineMarker, mapping, parse_record
        from refmodel.model.trace import TraceEvent

        view = self.view
        expanded = 0

        def event(ev: dict[str, Any]) -> TraceEvent:
            name, data = parse_record(ev, "vector")
            return TraceEvent(0, name, data, raw=ev)

        for root in explored.initial:
            init = view.state(view.base_of[root])
            marker = LineMarker()
            head = [marker.mark(event(node_event("InitState", i, sv))) for i, sv in enumerate(init.servers, 1)]
            m = mapping(head, self.rules)
            start = (root, frozenset(m.initial_states(head)), marker.active)
            parent: dict[tuple, tuple | None] = {start: None}
            markers = {start: marker}
            queue = deque([start])
            while queue:
                key = queue.popleft()
                u, frontier, _ = key
                for e in explored.out[u]:
                    expanded += 1
                    if expanded > self.budget:
                        self.why_none = (f"passes every vector; the search for one that tells it apart stopped "
                                         f"after {self.budget:,} steps without finding one")
                        return None
                    mk = markers[key].copy()
                    nxt = frontier
                    v, aid = explored.dst[e], explored.aid[e]
                    for ev in step_events(view.steps([u, v], [aid])[0]):
                        te = mk.mark(event(ev))
                        nxt = frozenset(t for st in nxt for _, t in m.steps(st, te))
                        if not nxt:
                            break
                    m.forget()  # the events of this step are dropped: their ids will be reused
                    if not nxt:
                        edges = [e]
                        back = parent[key]
                        while back is not None:
                            edges.append(back[1])
                            back = parent[back[0]]
                        return [explored.label(explored.aid[f]) for f in reversed(edges)]
                    k2 = (v, nxt, mk.active)
                    if k2 not in parent:
                        parent[k2] = (key, e)
                        markers[k2] = mk
                        queue.append(k2)
        self.why_none = ("passes every vector, and the search of every path within the bounds found none that "
                         "tells it apart")
        return None


def etcd_oracles(view: EtcdView, validate: Callable[..., Any]) -> list[EtcdTraceOracle]:
    """One oracle per shipped etcdraft mutant."""
    from refmodel.model.etcdraft.mutants import MUTANTS

    return [EtcdTraceOracle(name, view, m.rules, validate) for name, m in MUTANTS.items()]


def vector_file(view: EtcdView, vector: Any, k: int, total: int) -> tuple[str, str]:
    """A vector as a file: its name (``vector_NNNN.ndjson``) and text: a first record tagged ``vector`` (what
    the vector covers; the validator, like Traceetcdraft.tla, reads only records tagged ``trace``), then the
    trace's lines."""
    lines, _ = vector_lines(view, vector.nodes, vector.aids)
    covers = [x for c in vector.covers for x in c]
    head = {"level": "info", "msg": "conformance vector", "tag": "vector", "vector": k, "vectors": total,
            "purpose": vector.purpose, "steps": vector.steps,
            "covers": covers if any(covers) else sum(len(c) for c in vector.covers)}
    name = f"vector_{k:0{max(4, len(str(total - 1)))}d}.ndjson"
    return name, "\n".join([json.dumps(head, separators=(",", ":")), *lines]) + "\n"
