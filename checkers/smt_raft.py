"""The abstract, message-free Raft (``model/abstract_raft.py``) as a symbolic transition relation for Z3.

One symbolic state has, per server, Int variables for ``currentTerm`` (unbounded), the role (0 Follower,
1 Candidate, 2 Leader), ``votedFor`` (-1 for Nil), the log length (0..max_log), each entry's term and value
(0 beyond the log) and ``commitIndex``.  Each action instance of the explicit model (``Timeout(i)``,
``AppendEntries(i, j)`` ...) is one disjunct, written guard first and then the new value of every variable;
the voters of ``BecomeLeader`` and the value of ``ClientRequest`` are free variables of their disjunct, read
back from a model for the label.  ``tests/test_smt_raft.py`` checks that every disjunct has exactly the
successors of the explicit rule, state by state.

Mutants are the explicit model's (``model.abstract_raft.MUTANTS``), each the same one-line change here.
"""

from __future__ import annotations

from typing import Any

import z3

from checkers.smt import SymAction, SymbolicModel
from invariants import raft_smt as E
from invariants.raft_smt import CANDIDATE, FOLLOWER, LEADER, NIL
from model.abstract_raft import MUTANTS, AbstractRaftConfig, AbstractRaftState, Server, ValueName, build
from model.core import Sid
from model.raft.state import Entry

ROLE_NAMES = {FOLLOWER: "Follower", CANDIDATE: "Candidate", LEADER: "Leader"}
ROLE_CODES = {v: k for k, v in ROLE_NAMES.items()}


class RaftSymState:
    """The Z3 variables of one abstract Raft state (see ``invariants/raft_smt.py`` for the layout)."""

    def __init__(self, tag: str, n: int, L: int) -> None:
        self.n, self.L, self.tag = n, L, tag
        I = z3.Int  # noqa: E741
        self.term = [I(f"{tag}.term[s{i + 1}]") for i in range(n)]
        self.role = [I(f"{tag}.role[s{i + 1}]") for i in range(n)]
        self.vf = [I(f"{tag}.votedFor[s{i + 1}]") for i in range(n)]
        self.len = [I(f"{tag}.len[s{i + 1}]") for i in range(n)]
        self.et = [[I(f"{tag}.log[s{i + 1}][{x + 1}].term") for x in range(L)] for i in range(n)]
        self.ev = [[I(f"{tag}.log[s{i + 1}][{x + 1}].value") for x in range(L)] for i in range(n)]
        self.commit = [I(f"{tag}.commitIndex[s{i + 1}]") for i in range(n)]

    def server(self, i: int) -> list[Any]:
        return [self.term[i], self.role[i], self.vf[i], self.len[i], self.commit[i], *self.et[i], *self.ev[i]]


def last_term(S: RaftSymState, i: int) -> Any:
    out = z3.IntVal(0)
    for k in range(1, S.L + 1):
        out = z3.If(S.len[i] == k, S.et[i][k - 1], out)
    return out


def unchanged(S: RaftSymState, T: RaftSymState, i: int) -> Any:
    return z3.And([a == b for a, b in zip(S.server(i), T.server(i))])


def frame(S: RaftSymState, T: RaftSymState, changed: set[int]) -> Any:
    return z3.And([unchanged(S, T, k) for k in range(S.n) if k not in changed])


def same_log(S: RaftSymState, T: RaftSymState, i: int) -> Any:
    return z3.And([S.len[i] == T.len[i]] + [S.et[i][x] == T.et[i][x] for x in range(S.L)]
                  + [S.ev[i][x] == T.ev[i][x] for x in range(S.L)])


class RaftSymbolic(SymbolicModel):
    """Symbolic abstract Raft for a fixed number of servers and log bound; terms are unbounded."""

    protocol = "raft"
    encodings = E.ENCODINGS
    safety = E.SAFETY
    inductive = E.INDUCTIVE

    def __init__(self, config: AbstractRaftConfig, mutant: str | None = None, values: int | None = None) -> None:
        if mutant is not None and mutant not in MUTANTS:
            raise KeyError(f"unknown raft mutant for the abstract model '{mutant}' "
                           f"(known: {', '.join(sorted(MUTANTS))})")
        self.config, self.mutant = config, mutant
        #: client values: 1..values, or any positive integer (None)
        self.values = values
        self.n, self.L = config.servers, config.max_log
        self.explicit = build(config, mutant)

    def describe(self) -> dict[str, Any]:
        return {"servers": self.n, "max_log": self.L,
                "values": self.values if self.values is not None else "unbounded", "terms": "unbounded"}

    # ------------------------------------------------------------------------------------------ states

    def state(self, tag: str) -> RaftSymState:
        return RaftSymState(tag, self.n, self.L)

    def type_ok(self, S: RaftSymState) -> Any:
        out = []
        for i in range(self.n):
            out += [S.term[i] >= 1, S.role[i] >= 0, S.role[i] <= 2, S.vf[i] >= NIL, S.vf[i] < self.n,
                    S.len[i] >= 0, S.len[i] <= self.L, S.commit[i] >= 0, S.commit[i] <= self.L]
            for x in range(self.L):
                inside = S.len[i] > x
                value_ok = S.ev[i][x] >= 1 if self.values is None else z3.And(S.ev[i][x] >= 1,
                                                                              S.ev[i][x] <= self.values)
                out.append(z3.If(inside, z3.And(S.et[i][x] >= 1, value_ok), z3.And(S.et[i][x] == 0, S.ev[i][x] == 0)))
        return z3.And(out)

    def init(self, S: RaftSymState) -> Any:
        return z3.And([z3.And(S.term[i] == 1, S.role[i] == FOLLOWER, S.vf[i] == NIL, S.len[i] == 0,
                              S.commit[i] == 0, *[S.et[i][x] == 0 for x in range(self.L)],
                              *[S.ev[i][x] == 0 for x in range(self.L)]) for i in range(self.n)])

    def constraint(self, S: RaftSymState) -> Any:
        return z3.And([S.term[i] <= self.config.max_term for i in range(self.n)])

    def small(self, S: RaftSymState, k: int) -> Any:
        return z3.And([z3.And(S.term[i] <= k, S.len[i] <= k - 2) for i in range(self.n)]
                      + [S.ev[i][x] <= max(1, k - 3) for i in range(self.n) for x in range(self.L)])

    def encode(self, s: AbstractRaftState, S: RaftSymState) -> Any:
        out = []
        for i, sv in enumerate(s.servers):
            out += [S.term[i] == sv.currentTerm, S.role[i] == ROLE_CODES[sv.state],
                    S.vf[i] == (NIL if sv.votedFor is None else int(sv.votedFor)), S.len[i] == len(sv.log),
                    S.commit[i] == sv.commitIndex]
            for x in range(self.L):
                e = sv.log[x] if x < len(sv.log) else Entry(0, 0)
                out += [S.et[i][x] == e.term, S.ev[i][x] == e.value]
        return z3.And(out)

    def decode(self, m: Any, S: RaftSymState) -> AbstractRaftState:
        val = lambda e: m.eval(e, model_completion=True).as_long()  # noqa: E731
        servers = []
        for i in range(self.n):
            vf = val(S.vf[i])
            n = max(0, min(self.L, val(S.len[i])))
            servers.append(Server(currentTerm=val(S.term[i]), state=ROLE_NAMES.get(val(S.role[i]), "?"),
                                  votedFor=None if vf < 0 else Sid(vf),
                                  log=tuple(Entry(val(S.et[i][x]), val(S.ev[i][x])) for x in range(n)),
                                  commitIndex=val(S.commit[i])))
        return AbstractRaftState(tuple(servers))

    # ----------------------------------------------------------------------------------------- actions

    def _update_term(self, S: RaftSymState, j: int, term: Any) -> tuple[Any, Any, Any]:
        """(term, role, votedFor) of server j after raft.tla UpdateTerm with ``term`` (mutant-aware)."""
        newer = S.term[j] < term
        role = S.role[j] if self.mutant == "no_step_down_on_higher_term" else z3.If(newer, FOLLOWER, S.role[j])
        return z3.If(newer, term, S.term[j]), role, z3.If(newer, NIL, S.vf[j])

    def _is_quorum(self, bools: list[Any]) -> Any:
        if self.mutant == "minority_quorum":
            return 2 * E.count(bools) >= self.n
        return E.is_quorum(bools, self.n)

    def actions(self, S: RaftSymState, T: RaftSymState, tag: str) -> list[SymAction]:
        n, out = self.n, []
        for i in range(n):
            si = Sid(i)
            out.append(SymAction("Restart", (("i", si),), self.restart(S, T, i), rep=i == 0))
            out.append(SymAction("Timeout", (("i", si),), self.timeout(S, T, i), rep=i == 0))
            for j in range(n):
                if j != i:
                    out.append(SymAction("UpdateTerm", (("i", si), ("j", Sid(j))), self.update_term(S, T, i, j),
                                         rep=(i, j) == (0, 1)))
            q = [z3.Bool(f"{tag}.votes[s{i + 1}][s{k + 1}]") for k in range(n)]
            out.append(SymAction("BecomeLeader", (("i", si),), self.become_leader(S, T, i, q), rep=i == 0,
                                 choices={"votes": lambda m, q=q: frozenset(
                                     Sid(k) for k in range(n) if z3.is_true(m.eval(q[k], model_completion=True)))}))
            v = z3.Int(f"{tag}.value[s{i + 1}]")
            out.append(SymAction("ClientRequest", (("i", si),), self.client_request(S, T, i, v), rep=i == 0,
                                 choices={"v": lambda m, v=v: ValueName(m.eval(v, model_completion=True).as_long())}))
            out.append(SymAction("AdvanceCommitIndex", (("i", si),), self.advance_commit_index(S, T, i),
                                 rep=i == 0))
            for j in range(n):
                if j != i:
                    out.append(SymAction("AppendEntries", (("i", si), ("j", Sid(j))),
                                         self.append_entries(S, T, i, j), rep=(i, j) == (0, 1)))
        return out

    def restart(self, S: RaftSymState, T: RaftSymState, i: int) -> Any:
        """raft.tla Restart(i)."""
        return z3.And(T.role[i] == FOLLOWER, T.commit[i] == 0, T.term[i] == S.term[i], T.vf[i] == S.vf[i],
                      same_log(S, T, i), frame(S, T, {i}))

    def timeout(self, S: RaftSymState, T: RaftSymState, i: int) -> Any:
        """raft.tla Timeout(i)."""
        return z3.And(S.role[i] != LEADER,
                      T.term[i] == S.term[i] + 1, T.role[i] == CANDIDATE, T.vf[i] == NIL, T.commit[i] == S.commit[i],
                      same_log(S, T, i), frame(S, T, {i}))

    def update_term(self, S: RaftSymState, T: RaftSymState, i: int, j: int) -> Any:
        """raft.tla UpdateTerm: i hears the newer term of Candidate or Leader j."""
        term, role, vf = self._update_term(S, i, S.term[j])
        return z3.And(S.role[j] != FOLLOWER, S.term[j] > S.term[i],
                      T.term[i] == term, T.role[i] == role, T.vf[i] == vf, T.commit[i] == S.commit[i],
                      same_log(S, T, i), frame(S, T, {i}))

    def become_leader(self, S: RaftSymState, T: RaftSymState, i: int, q: list[Any]) -> Any:
        """Candidate i wins the votes of the quorum q (RequestVote ... BecomeLeader)."""
        t = S.term[i]
        parts = [S.role[i] == CANDIDATE, self._is_quorum(q)]
        for j in range(self.n):
            term_j, role_j, vf_j = self._update_term(S, j, t)
            log_ok = z3.Or(last_term(S, i) > last_term(S, j),
                           z3.And(last_term(S, i) == last_term(S, j), S.len[i] >= S.len[j]))
            grant = [term_j == t]
            if self.mutant != "no_log_up_to_date_check":
                grant.append(log_ok)
            if self.mutant != "vote_twice":
                grant.append(z3.Or(vf_j == NIL, vf_j == i))
            new_role = LEADER if j == i else role_j
            voter = z3.And(S.term[j] <= t, *grant, T.term[j] == t, T.vf[j] == i, T.role[j] == new_role,
                           T.commit[j] == S.commit[j], same_log(S, T, j))
            if j == i:
                stay = z3.And(T.role[i] == LEADER, T.term[i] == S.term[i], T.vf[i] == S.vf[i],
                              T.commit[i] == S.commit[i], same_log(S, T, i))
            else:
                stay = unchanged(S, T, j)
            parts.append(z3.If(q[j], voter, stay))
        return z3.And(parts)

    def client_request(self, S: RaftSymState, T: RaftSymState, i: int, v: Any) -> Any:
        """raft.tla ClientRequest(i, v), if the log has room."""
        value_ok = v >= 1 if self.values is None else z3.And(v >= 1, v <= self.values)
        parts = [S.role[i] == LEADER, S.len[i] < self.L, value_ok, T.len[i] == S.len[i] + 1]
        for x in range(self.L):
            parts += [T.et[i][x] == z3.If(S.len[i] == x, S.term[i], S.et[i][x]),
                      T.ev[i][x] == z3.If(S.len[i] == x, v, S.ev[i][x])]
        parts += [T.term[i] == S.term[i], T.role[i] == S.role[i], T.vf[i] == S.vf[i], T.commit[i] == S.commit[i],
                  frame(S, T, {i})]
        return z3.And(parts)

    def advance_commit_index(self, S: RaftSymState, T: RaftSymState, i: int) -> Any:
        """raft.tla AdvanceCommitIndex(i), agreement read off the logs of the servers in i's term."""
        new = S.commit[i]
        for k in range(1, self.L + 1):
            agree = z3.And(E.has(S, i, k), E.is_quorum(
                [z3.BoolVal(True) if j == i else z3.And(S.term[j] == S.term[i], E.same_prefix(S, i, j, k))
                 for j in range(self.n)], self.n))
            if self.mutant == "commit_old_term_by_count":
                new = z3.If(agree, k, new)
            else:
                new = z3.If(agree, z3.If(E.term_at(S, i, k) == S.term[i], k, S.commit[i]), new)
        return z3.And(S.role[i] == LEADER, T.commit[i] == new, T.term[i] == S.term[i], T.role[i] == S.role[i],
                      T.vf[i] == S.vf[i], same_log(S, T, i), frame(S, T, {i}))

    def append_entries(self, S: RaftSymState, T: RaftSymState, i: int, j: int) -> Any:
        """Leader i sends follower j the entry after their last match, and its commitIndex."""
        t = S.term[i]
        term_j, role_j, vf_j = self._update_term(S, j, t)
        if self.mutant == "no_log_matching_check":
            p = z3.If(S.len[i] <= S.len[j], S.len[i], S.len[j])
        else:
            p = z3.IntVal(0)
            for k in range(1, self.L + 1):
                p = z3.If(z3.And(E.has(S, i, k), E.has(S, j, k), E.term_at(S, i, k) == E.term_at(S, j, k)), k, p)
        sends = p < S.len[i]
        parts = [S.role[i] == LEADER, S.term[j] <= t, role_j != LEADER,
                 T.term[j] == term_j, T.role[j] == FOLLOWER, T.vf[j] == vf_j,
                 T.len[j] == z3.If(sends, p + 1, S.len[j]),
                 T.commit[j] == z3.If(sends, z3.If(S.commit[i] <= p + 1, S.commit[i], p + 1),
                                      z3.If(S.commit[i] <= S.len[i], S.commit[i], S.len[i]))]
        for x in range(self.L):  # 0-based position x holds entry x+1
            for new, old, lead in ((T.et[j][x], S.et[j][x], S.et[i][x]), (T.ev[j][x], S.ev[j][x], S.ev[i][x])):
                parts.append(new == z3.If(sends, z3.If(x < p, old, z3.If(x == p, lead, 0)), old))
        parts.append(frame(S, T, {j}))
        return z3.And(parts)
