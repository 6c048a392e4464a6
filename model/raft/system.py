"""raft.tla's ``Init`` and ``Next`` as a :class:`~refmodel.model.core.TransitionSystem`: the rules of
``actions.py`` composed per server and per message, bounded by TLC's state constraint, with the fast engine
(``fast.py``) that the checkers drive."""

from __future__ import annotations

from collections.abc import Iterator

from refmodel.model.core import Label, Permutation, Sid, TransitionSystem, all_permutations
from refmodel.model.raft.actions import (
    ACTION_NAMES,
    DEFAULT_RULES,
    MessageView,
    Rules,
    apply_bag_op,
    put,
    receive_label,
)
from refmodel.model.raft.config import RaftConfig
from refmodel.model.raft.fast import FastRaftEngine
from refmodel.model.raft.render import itf_vars, msc_events, render_state
from refmodel.model.raft.state import (
    FIELDS,
    RaftState,
    ServerVars,
    ValueName,
    bag_items,
    initial_state,
    permute_state,
    with_message,
    without_message,
)


_MESSAGE_TYPES = ("RequestVoteRequest", "RequestVoteResponse", "AppendEntriesRequest", "AppendEntriesResponse")

#: Every branch of raft.tla's Next, in spec order: what ``refmodel vectors raft --cover branches`` covers.
BRANCHES: tuple[str, ...] = (
    "Restart", "Timeout", "RequestVote", "BecomeLeader", "ClientRequest", "AdvanceCommitIndex", "AppendEntries",
    *(f"UpdateTerm/{t}" for t in _MESSAGE_TYPES),
    "HandleRequestVoteRequest/grant", "HandleRequestVoteRequest/deny",
    "HandleRequestVoteResponse/granted", "HandleRequestVoteResponse/denied",
    "DropStaleResponse/RequestVoteResponse", "DropStaleResponse/AppendEntriesResponse",
    "HandleAppendEntriesRequest/reject", "HandleAppendEntriesRequest/step down", "HandleAppendEntriesRequest/done",
    "HandleAppendEntriesRequest/conflict", "HandleAppendEntriesRequest/append",
    "HandleAppendEntriesResponse/success", "HandleAppendEntriesResponse/failure",
    "DuplicateMessage", "DropMessage",
)


def branch_of(label: Label) -> str:
    """The branch of :data:`BRANCHES` a step with ``label`` takes."""
    name, case, view = label.action, label.param("case"), label.param("m")
    if case:
        return f"{name}/{case}"
    if name in ("UpdateTerm", "DropStaleResponse"):
        return f"{name}/{type(view.msg).__name__}"
    if name == "HandleRequestVoteResponse":
        return f"{name}/{'granted' if view.msg.mvoteGranted else 'denied'}"
    if name == "HandleAppendEntriesResponse":
        return f"{name}/{'success' if view.msg.msuccess else 'failure'}"
    return name


class Raft(TransitionSystem):
    """raft.tla (ongardie/raft.tla at 6ecbdbcf) as a transition system, bounded by a state constraint."""

    protocol = "raft"
    state_fields = FIELDS
    fault_actions = ("Restart", "DuplicateMessage", "DropMessage")

    def __init__(self, config: RaftConfig, rules: Rules = DEFAULT_RULES, mutant: str | None = None) -> None:
        self.config = config
        self.rules = rules
        self.mutant = mutant

    def init_states(self) -> list[RaftState]:
        return [initial_state(self.config.servers)]

    def constraint(self, s: RaftState) -> bool:
        cfg = self.config
        return (all(sv.currentTerm <= cfg.max_term and len(sv.log) <= cfg.max_log for sv in s.servers)
                and all(c <= cfg.max_msg_count for _, c in s.messages)
                and len(s.messages) <= cfg.max_msgs)

    def action_names(self) -> tuple[str, ...]:
        return ACTION_NAMES

    def symmetry_group(self) -> list[Permutation]:
        """Every permutation of the servers: n! of them, built only when asked (the fast engine canonicalises
        without them; the explicit engine, for cross-checks on small clusters, enumerates them)."""
        return all_permutations(self.config.servers)

    def has_symmetry(self) -> bool:
        return self.config.servers > 1

    def permute(self, s: RaftState, p: Permutation) -> RaftState:
        return permute_state(s, p)

    def next_states(self, s: RaftState) -> Iterator[tuple[Label, RaftState]]:
        """raft.tla Next: every enabled action, each followed by allLogs' = allLogs \\cup {log[i]}.

        Disjuncts are listed per server (its actions in raft.tla's order), then per message."""
        all_logs = s.allLogs | {sv.log for sv in s.servers}
        for lab, t in self._steps(s):
            yield lab, t._replace(allLogs=all_logs)

    def _steps(self, s: RaftState) -> Iterator[tuple[Label, RaftState]]:
        cfg, r, n = self.config, self.rules, self.config.servers

        def with_server(i: int, sv: ServerVars, **changes: object) -> RaftState:
            return s._replace(servers=put(s.servers, i, sv), **changes)

        for i in range(n):
            sv0 = s.servers[i]
            # Restart(i)
            yield Label("Restart", (("i", Sid(i)),)), with_server(i, r.restart(cfg, i, sv0))
            # Timeout(i)
            if (sv := r.timeout(cfg, i, sv0)) is not None:
                yield Label("Timeout", (("i", Sid(i)),)), with_server(i, sv)
            # RequestVote(i, j)
            for j in range(n):
                if (m := r.request_vote(cfg, i, j, sv0)) is not None:
                    yield (Label("RequestVote", (("i", Sid(i)), ("j", Sid(j)))),
                           s._replace(messages=with_message(m, s.messages)))
            # BecomeLeader(i)
            if (res := r.become_leader(cfg, i, sv0)) is not None:
                sv, record = res
                yield Label("BecomeLeader", (("i", Sid(i)),)), with_server(i, sv, elections=s.elections | {record})
            # ClientRequest(i, v)
            for v in range(1, cfg.values + 1):
                if (sv := r.client_request(cfg, i, v, sv0)) is not None:
                    yield Label("ClientRequest", (("i", Sid(i)), ("v", ValueName(v)))), with_server(i, sv)
            # AdvanceCommitIndex(i)
            if (sv := r.advance_commit_index(cfg, i, sv0)) is not None:
                yield Label("AdvanceCommitIndex", (("i", Sid(i)),)), with_server(i, sv)
            # AppendEntries(i, j)
            for j in range(n):
                if (m := r.append_entries(cfg, i, j, sv0)) is not None:
                    yield (Label("AppendEntries", (("i", Sid(i)), ("j", Sid(j)))),
                           s._replace(messages=with_message(m, s.messages)))
        for m, _ in bag_items(s.messages):
            # Receive(m): every enabled disjunct (for raft.tla's handlers at most one is)
            i, j = m.mdest, m.msource
            for name, handler in r.handlers(m):
                if (h := handler(cfg, i, j, s.servers[i], m)) is not None:
                    yield receive_label(name, m, h.case), with_server(i, h.sv, messages=apply_bag_op(s.messages, m, h))
            # DuplicateMessage(m)
            yield Label("DuplicateMessage", (("m", MessageView(m)),)), s._replace(messages=with_message(m, s.messages))
            # DropMessage(m)
            yield Label("DropMessage", (("m", MessageView(m)),)), s._replace(messages=without_message(m, s.messages))

    def render(self, s: RaftState) -> dict[str, object]:
        return render_state(s)

    def msc_lanes(self, s: RaftState) -> list[str]:
        return [f"s{k + 1}" for k in range(len(s.servers))]

    def msc_events(self, before: RaftState, label: Label, after: RaftState) -> list[dict[str, object]]:
        return msc_events(before, label, after)

    def itf_vars(self, s: RaftState) -> dict[str, object]:
        return itf_vars(s)

    def branches(self, label: Label) -> tuple[str, ...]:
        """The branch of raft.tla a step takes (see :data:`BRANCHES`): the action, refined by the handler's
        case, by the answer a response carries, or by the type of the message a term update or a stale drop
        reads."""
        return (branch_of(label),)

    def branch_universe(self) -> tuple[str, ...]:
        return BRANCHES

    def with_rules(self, rules: Rules, mutant: str | None) -> Raft:
        return Raft(self.config, rules, mutant)

    def engine(self):  # noqa: ANN201 - see model.raft.fast
        return FastRaftEngine(self)

    def portable_engine(self):  # noqa: ANN201 - see model.raft.fast
        return FastRaftEngine(self, portable=True)
