"""The abstract, message-free Raft (``model/raft/abstract.py``) as a symbolic transition relation for Z3.

One symbolic state has, per server, Int variables for ``currentTerm`` (unbounded), the role (0 Follower,
1 Candidate, 2 Leader), ``votedFor`` (-1 for Nil), the log length (0..max_log), each entry's term and value
(0 beyond the log) and ``commitIndex``.  Each action instance of the explicit model (``Timeout(i)``,
``AppendEntries(i, j)`` ...) is one disjunct, written guard first and then the new value of every variable;
the voters of ``BecomeLeader`` and the value of ``ClientRequest`` are free variables of their disjunct, read
back from a model for the label.  ``tests/test_smt_raft.py`` checks that every disjunct has exactly the
successors of the explicit rule, state by state.

Mutants are the explicit model's (``model.raft.abstract.MUTANTS``), each the same one-line change here.
"""

from __future__ import annotations

from typing import Any

import z3

from refmodel.model.symbolic import SymAction, SymbolicModel, SymState
from refmodel.invariants import raft_smt as E
from refmodel.invariants.raft_smt import CANDIDATE, FOLLOWER, LEADER, NIL
from refmodel.model.raft.abstract import MUTANTS, AbstractRaftConfig, AbstractRaftState, Server, ValueName, build
from refmodel.model.core import Sid
from refmodel.model.raft.state import Entry

ROLE_NAMES = {FOLLOWER: "Follower", CANDIDATE: "Candidate", LEADER: "Leader"}
ROLE_CODES = {v: k for k, v in ROLE_NAMES.items()}


class RaftSymState(SymState):
    """The Z3 terms of one abstract Raft state (see ``invariants/raft_smt.py`` for the layout): fresh
    variables, or (in bounded model checking) expressions over the previous state."""

    def __init__(self, n: int, L: int, values: dict[tuple, Any]) -> None:
        super().__init__(values)
        self.n, self.L = n, L
        self.term = [values[("term", i)] for i in range(n)]
        self.role = [values[("role", i)] for i in range(n)]
        self.vf = [values[("vf", i)] for i in range(n)]
        self.len = [values[("len", i)] for i in range(n)]
        self.et = [[values[("et", i, x)] for x in range(L)] for i in range(n)]
        self.ev = [[values[("ev", i, x)] for x in range(L)] for i in range(n)]
        self.commit = [values[("commit", i)] for i in range(n)]


def raft_keys(n: int, L: int) -> list[tuple]:
    keys: list[tuple] = []
    for i in range(n):
        keys += [("term", i), ("role", i), ("vf", i), ("len", i), ("commit", i)]
        keys += [("et", i, x) for x in range(L)] + [("ev", i, x) for x in range(L)]
    return keys


def key_name(tag: str, key: tuple) -> str:
    var, i, *x = key
    name = {"term": "currentTerm", "role": "state", "vf": "votedFor", "len": "len", "commit": "commitIndex",
            "et": "term", "ev": "value"}[var]
    if x:
        return f"{tag}.log[s{i + 1}][{x[0] + 1}].{name}"
    return f"{tag}.{name}[s{i + 1}]"


def last_term(S: RaftSymState, i: int) -> Any:
    out = z3.IntVal(0)
    for k in range(1, S.L + 1):
        out = z3.If(S.len[i] == k, S.et[i][k - 1], out)
    return out


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

    def keys(self) -> list[tuple]:
        return raft_keys(self.n, self.L)

    def state(self, tag: str) -> RaftSymState:
        return RaftSymState(self.n, self.L, {k: z3.Int(key_name(tag, k)) for k in self.keys()})

    def state_of(self, values: dict[tuple, Any]) -> RaftSymState:
        return RaftSymState(self.n, self.L, values)

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

    def initial(self) -> dict[tuple, Any]:
        init = {"term": 1, "role": FOLLOWER, "vf": NIL, "len": 0, "commit": 0, "et": 0, "ev": 0}
        return {k: z3.IntVal(init[k[0]]) for k in self.keys()}

    def bounds(self) -> dict[str, Any]:
        return {"terms": f"<= {self.config.max_term}"}

    def constraint(self, S: RaftSymState) -> Any:
        return z3.And([S.term[i] <= self.config.max_term for i in range(self.n)])

    def small(self, S: RaftSymState, k: int) -> Any:
        return z3.And([z3.And(S.term[i] <= k, S.len[i] <= k - 2) for i in range(self.n)]
                      + [S.ev[i][x] <= max(1, k - 3) for i in range(self.n) for x in range(self.L)])

    def small_step(self, a: SymAction, k: int) -> Any:
        return z3.And([v <= max(1, k - 3) for v in a.choice_vars if v.sort() == z3.IntSort()])

    def values_of(self, s: AbstractRaftState) -> dict[tuple, int]:
        out: dict[tuple, int] = {}
        for i, sv in enumerate(s.servers):
            out[("term", i)], out[("role", i)], out[("len", i)] = sv.currentTerm, ROLE_CODES[sv.state], len(sv.log)
            out[("vf", i)] = NIL if sv.votedFor is None else int(sv.votedFor)
            out[("commit", i)] = sv.commitIndex
            for x in range(self.L):
                e = sv.log[x] if x < len(sv.log) else Entry(0, 0)
                out[("et", i, x)], out[("ev", i, x)] = e.term, e.value
        return out

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
    # Each returns (guard, updates): the new value of every variable the action may change.

    def _update_term(self, S: RaftSymState, j: int, term: Any) -> tuple[Any, Any, Any]:
        """(term, role, votedFor) of server j after raft.tla UpdateTerm with ``term`` (mutant-aware)."""
        newer = S.term[j] < term
        role = S.role[j] if self.mutant == "no_step_down_on_higher_term" else z3.If(newer, FOLLOWER, S.role[j])
        return z3.If(newer, term, S.term[j]), role, z3.If(newer, NIL, S.vf[j])

    def _value_ok(self, v: Any) -> Any:
        return v >= 1 if self.values is None else z3.And(v >= 1, v <= self.values)

    def _is_quorum(self, bools: list[Any]) -> Any:
        if self.mutant == "minority_quorum":
            return 2 * E.count(bools) >= self.n
        return E.is_quorum(bools, self.n)

    def actions(self, S: RaftSymState, tag: str) -> list[SymAction]:
        n, out = self.n, []
        for i in range(n):
            si = Sid(i)
            out.append(SymAction("Restart", (("i", si),), *self.restart(S, i), rep=i == 0))
            out.append(SymAction("Timeout", (("i", si),), *self.timeout(S, i), rep=i == 0))
            for j in range(n):
                if j != i:
                    out.append(SymAction("UpdateTerm", (("i", si), ("j", Sid(j))), *self.update_term(S, i, j),
                                         rep=(i, j) == (0, 1)))
            q = [z3.Bool(f"{tag}.votes[s{i + 1}][s{k + 1}]") for k in range(n)]
            out.append(SymAction("BecomeLeader", (("i", si),), *self.become_leader(S, i, q), rep=i == 0,
                                 choices={"votes": lambda m, q=q: frozenset(
                                     Sid(k) for k in range(n) if z3.is_true(m.eval(q[k], model_completion=True)))},
                                 choice_vars=q))
            v = z3.Int(f"{tag}.value[s{i + 1}]")
            out.append(SymAction("ClientRequest", (("i", si),), *self.client_request(S, i, v), rep=i == 0,
                                 choices={"v": lambda m, v=v: ValueName(m.eval(v, model_completion=True).as_long())},
                                 choice_vars=[v], domains=[self._value_ok(v)]))
            out.append(SymAction("AdvanceCommitIndex", (("i", si),), *self.advance_commit_index(S, i), rep=i == 0))
            for j in range(n):
                if j != i:
                    out.append(SymAction("AppendEntries", (("i", si), ("j", Sid(j))), *self.append_entries(S, i, j),
                                         rep=(i, j) == (0, 1)))
        return out

    def restart(self, S: RaftSymState, i: int) -> tuple[Any, dict]:
        """raft.tla Restart(i)."""
        return z3.BoolVal(True), {("role", i): z3.IntVal(FOLLOWER), ("commit", i): z3.IntVal(0)}

    def timeout(self, S: RaftSymState, i: int) -> tuple[Any, dict]:
        """raft.tla Timeout(i)."""
        return S.role[i] != LEADER, {("term", i): S.term[i] + 1, ("role", i): z3.IntVal(CANDIDATE),
                                     ("vf", i): z3.IntVal(NIL)}

    def update_term(self, S: RaftSymState, i: int, j: int) -> tuple[Any, dict]:
        """raft.tla UpdateTerm: i hears the newer term of Candidate or Leader j."""
        term, role, vf = self._update_term(S, i, S.term[j])
        return z3.And(S.role[j] != FOLLOWER, S.term[j] > S.term[i]), {("term", i): term, ("role", i): role,
                                                                      ("vf", i): vf}

    def become_leader(self, S: RaftSymState, i: int, q: list[Any]) -> tuple[Any, dict]:
        """Candidate i wins the votes of the quorum q (RequestVote ... BecomeLeader)."""
        t = S.term[i]
        guard = [S.role[i] == CANDIDATE, self._is_quorum(q)]
        upd: dict[tuple, Any] = {}
        for j in range(self.n):
            _, role_j, vf_j = self._update_term(S, j, t)
            log_ok = z3.Or(last_term(S, i) > last_term(S, j),
                           z3.And(last_term(S, i) == last_term(S, j), S.len[i] >= S.len[j]))
            grant = [S.term[j] <= t]
            if self.mutant != "no_log_up_to_date_check":
                grant.append(log_ok)
            if self.mutant != "vote_twice":
                grant.append(z3.Or(vf_j == NIL, vf_j == i))
            guard.append(z3.Implies(q[j], z3.And(grant)))
            upd[("term", j)] = z3.If(q[j], t, S.term[j])
            upd[("vf", j)] = z3.If(q[j], z3.IntVal(i), S.vf[j])
            upd[("role", j)] = z3.IntVal(LEADER) if j == i else z3.If(q[j], role_j, S.role[j])
        return z3.And(guard), upd

    def client_request(self, S: RaftSymState, i: int, v: Any) -> tuple[Any, dict]:
        """raft.tla ClientRequest(i, v), if the log has room."""
        value_ok = self._value_ok(v)
        upd: dict[tuple, Any] = {("len", i): S.len[i] + 1}
        for x in range(self.L):
            upd[("et", i, x)] = z3.If(S.len[i] == x, S.term[i], S.et[i][x])
            upd[("ev", i, x)] = z3.If(S.len[i] == x, v, S.ev[i][x])
        return z3.And(S.role[i] == LEADER, S.len[i] < self.L, value_ok), upd

    def advance_commit_index(self, S: RaftSymState, i: int) -> tuple[Any, dict]:
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
        return S.role[i] == LEADER, {("commit", i): new}

    def append_entries(self, S: RaftSymState, i: int, j: int) -> tuple[Any, dict]:
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
        upd: dict[tuple, Any] = {
            ("term", j): term_j, ("role", j): z3.IntVal(FOLLOWER), ("vf", j): vf_j,
            ("len", j): z3.If(sends, p + 1, S.len[j]),
            ("commit", j): z3.If(sends, z3.If(S.commit[i] <= p + 1, S.commit[i], p + 1),
                                 z3.If(S.commit[i] <= S.len[i], S.commit[i], S.len[i]))}
        for x in range(self.L):  # 0-based position x holds entry x+1
            for var, arr in (("et", S.et), ("ev", S.ev)):
                upd[(var, j, x)] = z3.If(sends, z3.If(x < p, arr[j][x], z3.If(x == p, arr[i][x], 0)), arr[j][x])
        return z3.And(S.role[i] == LEADER, S.term[j] <= t, role_j != LEADER), upd
