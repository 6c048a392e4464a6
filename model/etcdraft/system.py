"""MCetcdraft's ``Init`` and ``NextDynamic`` as a :class:`~refmodel.model.core.TransitionSystem`: the rules of
``actions.py`` composed per server and per message, bounded by the reference README's constraint, with the
fast engine (``fast.py``) that the checkers drive; and :func:`step`, one named action's successors (for trace
validation)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from refmodel.model.core import Label, Permutation, TransitionSystem, all_permutations
from refmodel.model.etcdraft.actions import (
    ACTION_NAMES,
    DEFAULT_RULES,
    MessageView,
    Rules,
    put,
    ready_bags,
    receive_label,
    restart_pending,
)
from refmodel.model.etcdraft.config import EtcdRaftConfig
from refmodel.model.etcdraft.fast import FastEtcdRaftEngine
from refmodel.model.etcdraft.render import render_state
from refmodel.model.etcdraft.state import (
    CANDIDATE,
    FIELDS,
    EtcdState,
    Message,
    ServerVars,
    bag_cardinality,
    bag_items,
    initial_state,
    permute_state,
    with_message,
    without_message,
)


class EtcdRaft(TransitionSystem):
    """MCetcdraft (etcd-io/raft tla/, cdfbeed3): Init and NextDynamic with MC's overrides, bounded by
    Len(log[i]) <= max_log and BagCardinality(messages) + BagCardinality(pendingMessages) <= max_in_flight."""

    protocol = "etcdraft"
    state_fields = FIELDS
    fault_actions = ("Restart", "DuplicateMessage", "DropMessage")

    def __init__(self, config: EtcdRaftConfig, rules: Rules = DEFAULT_RULES, mutant: str | None = None) -> None:
        self.config = config
        self.rules = rules
        self.mutant = mutant

    def init_states(self) -> list[EtcdState]:
        return [initial_state(self.config.init_servers, self.config.servers)]

    def constraint(self, s: EtcdState) -> bool:
        cfg = self.config
        return (all(len(sv.log) <= cfg.max_log for sv in s.servers)
                and bag_cardinality(s.messages) + bag_cardinality(s.pendingMessages) <= cfg.max_in_flight)

    def action_names(self) -> tuple[str, ...]:
        return ACTION_NAMES

    def symmetry_group(self) -> list[Permutation]:
        """Permutations(Server), as MCetcdraft's Symmetry (TLC's five runs did not use it)."""
        return all_permutations(self.config.servers)

    def has_symmetry(self) -> bool:
        return self.config.servers > 1

    def permute(self, s: EtcdState, p: Permutation) -> EtcdState:
        return permute_state(s, p)

    def next_states(self, s: EtcdState) -> Iterator[tuple[Label, EtcdState]]:
        """NextDynamic: every enabled action instance and its successor (TLC generates each one, identical or
        not).  Listed per server i = 1..N (its actions in :data:`SERVER_ACTIONS` order, parameters ascending),
        then per message of ``messages`` (in :func:`~model.etcdraft.state.bag_items` order) its receive
        disjuncts, DuplicateMessage and DropMessage."""
        cfg, r, n = self.config, self.rules, self.config.servers
        msgs, pend = s.messages, s.pendingMessages
        candidates = frozenset(k + 1 for k, sv in enumerate(s.servers) if sv.state == CANDIDATE)

        def with_server(i: int, sv: ServerVars, **changes: Any) -> EtcdState:
            return s._replace(servers=put(s.servers, i - 1, sv), **changes)

        def send(m: Message) -> EtcdState:
            return s._replace(pendingMessages=with_message(m, pend))

        for i in range(1, n + 1):
            sv0 = s.servers[i - 1]
            si = ("i", i)
            for j in range(1, n + 1):  # RequestVote(i, j)
                if (m := r.request_vote(cfg, i, j, sv0)) is not None and r.send_ok(m, msgs, pend):
                    yield Label("RequestVote", (si, ("j", j))), send(m)
            if (sv := r.become_leader(cfg, i, sv0)) is not None:
                yield Label("BecomeLeader", (si,)), with_server(i, sv)
            if (sv := r.client_request(cfg, i, 0, sv0)) is not None:
                yield Label("ClientRequest", (si, ("v", 0))), with_server(i, sv)
            if (sv := r.advance_commit_index(cfg, i, sv0)) is not None:
                yield Label("AdvanceCommitIndex", (si,)), with_server(i, sv)
            for j in range(1, n + 1):  # \E b, e \in matchIndex[i][j]+1..Len(log[i])+1 : AppendEntries(i, j, <<b, e>>)
                lo, hi = sv0.matchIndex[j - 1] + 1, len(sv0.log) + 1
                for b in range(lo, hi + 1):
                    for e in range(lo, hi + 1):
                        if (m := r.append_entries(cfg, i, j, sv0, b, e)) is not None and r.send_ok(m, msgs, pend):
                            yield Label("AppendEntries", (si, ("j", j), ("range", (b, e)))), send(m)
            if (m := r.append_entries_to_self(cfg, i, sv0)) is not None and r.send_ok(m, msgs, pend):
                yield Label("AppendEntriesToSelf", (si,)), send(m)
            for j in range(1, n + 1):
                if (m := r.heartbeat(cfg, i, j, sv0)) is not None and r.send_ok(m, msgs, pend):
                    yield Label("Heartbeat", (si, ("j", j))), send(m)
            for j in range(1, n + 1):
                for index in range(1, sv0.commitIndex + 1):
                    if (m := r.send_snapshot(cfg, i, j, sv0, index)) is not None and r.send_ok(m, msgs, pend):
                        yield Label("SendSnapshot", (si, ("j", j), ("index", index))), send(m)
            if (sv := r.timeout(cfg, i, sv0, candidates)) is not None:
                yield Label("Timeout", (si,)), with_server(i, sv)
            nm, npend = ready_bags(i, msgs, pend)
            yield Label("Ready", (si,)), with_server(i, r.ready(cfg, i, sv0), messages=nm, pendingMessages=npend)
            if (sv := r.step_down_to_follower(cfg, i, sv0)) is not None:
                yield Label("StepDownToFollower", (si,)), with_server(i, sv)
            yield (Label("Restart", (si,)),
                   with_server(i, r.restart(cfg, i, sv0), pendingMessages=restart_pending(i, pend)))
            for name, rule in (("AddNewServer", r.add_new_server), ("AddLearner", r.add_learner),
                               ("DeleteServer", r.delete_server)):
                for j in range(1, n + 1):
                    if (sv := rule(cfg, i, j, sv0, s.reconfigCount)) is not None:
                        yield Label(name, (si, ("j", j))), with_server(i, sv)
            if (res := r.apply_simple_conf_change(cfg, i, sv0)) is not None:
                sv, bump = res
                yield (Label("ApplySimpleConfChange", (si,)),
                       with_server(i, sv, reconfigCount=s.reconfigCount + 1) if bump else with_server(i, sv))
        for m, count in bag_items(msgs):
            i, j = m.mdest, m.msource
            for name, handler in r.handlers(m):
                if (h := handler(cfg, i, j, s.servers[i - 1], m)) is not None:
                    yield receive_label(name, m), with_server(
                        i, h.sv, messages=without_message(m, msgs) if h.consume else msgs,
                        pendingMessages=pend if h.reply is None else with_message(h.reply, pend))
            if count == 1:  # NextUnreliable: duplicate or drop a message only while it has one copy
                view = (("m", MessageView(m)),)
                yield Label("DuplicateMessage", view), s._replace(messages=with_message(m, msgs))
                yield Label("DropMessage", view), s._replace(messages=without_message(m, msgs))

    def render(self, s: EtcdState) -> dict[str, Any]:
        return render_state(s)

    def msc_lanes(self, s: EtcdState) -> list[str]:
        return [str(k) for k in range(1, len(s.servers) + 1)]

    def with_rules(self, rules: Rules, mutant: str | None) -> EtcdRaft:
        return EtcdRaft(self.config, rules, mutant)

    def engine(self):  # noqa: ANN201 - see model.etcdraft.fast
        return FastEtcdRaftEngine(self)

    def portable_engine(self):  # noqa: ANN201 - see model.etcdraft.fast
        return FastEtcdRaftEngine(self, portable=True)


def step(system: EtcdRaft, s: EtcdState, action: str, **params: Any) -> list[EtcdState]:
    """The successors of ``s`` by the instances of ``action`` whose label parameters include ``params`` (a
    message parameter ``m`` may be given as the message itself), in :meth:`EtcdRaft.next_states` order.

    For trace validation: ``step(model, s, "Timeout", i=2)`` or ``step(model, s, "AppendEntriesAlreadyDone",
    m=msg)``; an empty list means the action is not enabled with those parameters."""
    want = {k: (MessageView(v) if k == "m" and not isinstance(v, MessageView) else v) for k, v in params.items()}
    out = []
    for lab, t in system.next_states(s):
        if lab.action == action and all(lab.param(k, _ABSENT) == v for k, v in want.items()):
            out.append(t)
    return out


_ABSENT = object()
