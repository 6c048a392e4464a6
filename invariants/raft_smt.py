"""Z3 encodings of the Raft safety properties, and the auxiliary invariants that make them inductive.

These are stated over the *abstract*, message-free Raft (``model/raft/abstract.py``; its symbolic transition
relation is ``model/raft/symbolic.py``).  Each safety encoding names the predicate of ``invariants/raft.py`` it
encodes; on an abstract state that predicate is evaluated on :func:`model.raft.abstract.to_raft_state`, the
raft.tla state with the same variables, no messages and no history (so the history clause of
``leader_completeness`` is vacuous, and the current-leader clause is the one encoded).  Each auxiliary
invariant has a plain-Python twin (``py=``) so that BFS can check it on every reachable state too, and the
tests check that each encoding and its predicate agree state by state.

A symbolic state ``S`` has, per server ``i`` (0-based) and log position ``x`` (0-based: entry x+1):
``S.term[i]``, ``S.role[i]`` (:data:`FOLLOWER`/:data:`CANDIDATE`/:data:`LEADER`), ``S.vf[i]`` (votedFor,
:data:`NIL` = none), ``S.len[i]``, ``S.et[i][x]`` / ``S.ev[i][x]`` (entry term / value; 0 beyond the log),
``S.commit[i]``, and ``S.n`` (servers), ``S.L`` (the log bound).

This module registers nothing with the BFS registry and imports z3 only inside functions (``invariants``'s
``load_all`` imports every module here; z3 is slow to import), so importing it is cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# role codes of the symbolic state (the explicit model's strings are model.raft.state's)
FOLLOWER, CANDIDATE, LEADER = 0, 1, 2
NIL = -1


@dataclass(frozen=True)
class Encoding:
    """A property as a Z3 formula builder, with the predicate it encodes.

    ``z3(S)`` (state) or ``z3(S, T)`` (transition) builds the formula; ``py(cfg, s)`` / ``py(cfg, s, t)``
    evaluates the same property on explicit states of the abstract model; ``encodes`` names the predicate
    of ``invariants/`` this is the encoding of (None for an auxiliary invariant, whose predicate is ``py``).
    ``role`` is ``safety`` (a property people care about) or ``auxiliary`` (part of the strengthening)."""

    name: str
    kind: str  # "state" or "transition"
    role: str  # "safety" or "auxiliary"
    doc: str
    z3: Callable[..., Any]
    py: Callable[..., bool]
    encodes: str | None = None


def _encoding(registry: dict[str, Encoding], *, kind: str = "state", role: str, encodes: str | None = None,
              py: Callable[..., bool] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        doc = (fn.__doc__ or "").strip()
        if not doc:
            raise ValueError(f"{fn.__name__}: an encoding needs a docstring stating the property")
        if py is None:
            raise ValueError(f"{fn.__name__}: an encoding needs its plain predicate")
        registry[fn.__name__] = Encoding(fn.__name__, kind, role, doc, fn, py, encodes)
        return fn
    return deco


#: name -> encoding, in the order the strengthening was built (safety properties first)
ENCODINGS: dict[str, Encoding] = {}


# ----------------------------------------------------------------------------------------------- helpers


def _z3() -> Any:
    import z3

    return z3


def count(bools: Iterable[Any]) -> Any:
    """The number of true formulas among ``bools``."""
    z3 = _z3()
    return z3.Sum([z3.If(b, 1, 0) for b in bools])


def is_quorum(bools: Iterable[Any], n: int) -> Any:
    """A strict majority of the ``n`` servers satisfies its formula."""
    return 2 * count(bools) > n


def has(S: Any, i: int, k: int) -> Any:
    """Server i's log has an entry at (1-based) index k."""
    return S.len[i] >= k


def term_at(S: Any, i: int, k: int) -> Any:
    """The term of server i's entry k (1-based; 0 if there is none)."""
    return S.et[i][k - 1]


def same_entry(S: Any, i: int, T: Any, j: int, k: int) -> Any:
    """Entry k of server i in S equals entry k of server j in T (term and value)."""
    z3 = _z3()
    return z3.And(S.et[i][k - 1] == T.et[j][k - 1], S.ev[i][k - 1] == T.ev[j][k - 1])


def same_prefix(S: Any, i: int, j: int, k: int) -> Any:
    """Servers i and j have the same first k entries (both logs have at least k)."""
    z3 = _z3()
    return z3.And([has(S, i, k), has(S, j, k)] + [same_entry(S, i, S, j, x) for x in range(1, k + 1)])


def prefix_upto(S: Any, i: int, j: int, m: Any) -> Any:
    """Servers i and j agree on every index k <= m (a symbolic bound) that i's log has."""
    z3 = _z3()
    return z3.And([z3.Implies(k <= m, z3.And(has(S, j, k), same_entry(S, i, S, j, k))) for k in range(1, S.L + 1)])


def voted_for(S: Any, l: int, t: Any) -> list[Any]:
    """Per server k: k is past term t, or in term t having voted for l."""
    z3 = _z3()
    return [z3.Or(S.term[k] > t, z3.And(S.term[k] == t, S.vf[k] == l)) for k in range(S.n)]


def pairs(n: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(n) for j in range(n) if i != j]


# ------------------------------------------------------------------------------ plain twins (abstract)
# The predicates of invariants/raft.py evaluated on the abstract state, and the auxiliary ones.

def _raft(name: str) -> Callable[[Any, Any], bool]:
    def pred(cfg: Any, s: Any) -> bool:
        from refmodel.invariants import raft
        from refmodel.model.raft.abstract import to_raft_state

        return bool(getattr(raft, name)(cfg, to_raft_state(s)))
    pred.__name__ = f"raft.{name}"
    return pred


def _lead(s: Any) -> list[tuple[int, Any]]:
    return [(i, sv) for i, sv in enumerate(s.servers) if sv.state == "Leader"]


def _py_entry_terms(cfg: Any, s: Any) -> bool:
    return all(1 <= e.term <= sv.currentTerm for sv in s.servers for e in sv.log) and all(
        a.term <= b.term for sv in s.servers for a, b in zip(sv.log, sv.log[1:]))


def _py_leader_has_own(cfg: Any, s: Any) -> bool:
    for _, ld in _lead(s):
        for sv in s.servers:
            for k, e in enumerate(sv.log):
                if e.term == ld.currentTerm and not (k < len(ld.log) and ld.log[k].term == e.term):
                    return False
    return True


def _py_term_order(cfg: Any, s: Any) -> bool:
    for a in s.servers:
        for b in s.servers:
            for k, e in enumerate(a.log):
                for x in range(k, len(b.log)):
                    if b.log[x].term == e.term and b.log[k].term != e.term:
                        return False
    return True


def _voters(s: Any, l: int, t: int) -> int:
    return sum(1 for sv in s.servers if sv.currentTerm > t or (sv.currentTerm == t and sv.votedFor == l))


def _py_leader_votes(cfg: Any, s: Any) -> bool:
    n = len(s.servers)
    return all(2 * _voters(s, l, ld.currentTerm) > n for l, ld in _lead(s))


def _py_entry_elected(cfg: Any, s: Any) -> bool:
    n = len(s.servers)
    terms = {e.term for sv in s.servers for e in sv.log}
    return all(any(2 * _voters(s, l, t) > n for l in range(n)) for t in terms)


def _py_candidate_unvoted(cfg: Any, s: Any) -> bool:
    return all(not (sv.currentTerm == c.currentTerm and sv.votedFor == i)
               for i, c in enumerate(s.servers) if c.state == "Candidate" for sv in s.servers)


def _py_vote_not_ahead(cfg: Any, s: Any) -> bool:
    return all(sv.votedFor is None or sv.currentTerm <= s.servers[sv.votedFor].currentTerm for sv in s.servers)


def _py_commit_witnessed(cfg: Any, s: Any) -> bool:
    n = len(s.servers)
    for i, me in enumerate(s.servers):
        c = me.commitIndex
        if c == 0:
            continue
        ok = False
        for k in range(max(c, 1), cfg.max_log + 1):
            for t in sorted({sv.log[k - 1].term for sv in s.servers if len(sv.log) >= k}):
                holders = [sv for sv in s.servers if len(sv.log) >= k and sv.log[k - 1].term == t]
                if (t <= me.currentTerm and 2 * len(holders) > n
                        and all(h.log[:c] == me.log[:c] and len(h.log) >= c for h in holders)
                        and all(len(sv.log) >= k and sv.log[k - 1].term == t
                                for sv in s.servers if any(e.term > t for e in sv.log))
                        and all(len(ld.log) >= k and ld.log[k - 1].term == t
                                for _, ld in _lead(s) if ld.currentTerm >= t)):
                    ok = True
        if not ok:
            return False
    return True


# ------------------------------------------------------------------------------------ safety encodings

raft_encoding = lambda **kw: _encoding(ENCODINGS, **kw)  # noqa: E731


@raft_encoding(role="safety", encodes="raft.election_safety", py=_raft("election_safety"))
def election_safety(S: Any) -> Any:
    """No two servers are Leader in the same term."""
    z3 = _z3()
    return z3.And([z3.Not(z3.And(S.role[i] == LEADER, S.role[j] == LEADER, S.term[i] == S.term[j]))
                   for i in range(S.n) for j in range(i + 1, S.n)])


@raft_encoding(role="safety", encodes="raft.log_matching", py=_raft("log_matching"))
def log_matching(S: Any) -> Any:
    """If two logs have an entry of the same term at an index, they are identical up to that index."""
    z3 = _z3()
    return z3.And([z3.Implies(z3.And(has(S, i, k), has(S, j, k), term_at(S, i, k) == term_at(S, j, k)),
                              same_prefix(S, i, j, k))
                   for i in range(S.n) for j in range(i + 1, S.n) for k in range(1, S.L + 1)])


@raft_encoding(role="safety", encodes="raft.leader_completeness", py=_raft("leader_completeness"))
def leader_completeness(S: Any) -> Any:
    """Every entry server i has committed is, at the same index, in the log of every Leader of a term later
    than currentTerm[i]."""
    z3 = _z3()
    return z3.And([z3.Implies(z3.And(S.role[l] == LEADER, S.term[l] > S.term[i], k <= S.commit[i], has(S, i, k)),
                              z3.And(has(S, l, k), same_entry(S, l, S, i, k)))
                   for i, l in pairs(S.n) for k in range(1, S.L + 1)])


@raft_encoding(role="safety", encodes="raft.state_machine_safety", py=_raft("state_machine_safety"))
def state_machine_safety(S: Any) -> Any:
    """No commitIndex exceeds its log, and no two servers have committed different entries at an index."""
    z3 = _z3()
    return z3.And([S.commit[i] <= S.len[i] for i in range(S.n)]
                  + [z3.Implies(z3.And(k <= S.commit[i], k <= S.commit[j], has(S, i, k), has(S, j, k)),
                                same_entry(S, i, S, j, k))
                     for i in range(S.n) for j in range(i + 1, S.n) for k in range(1, S.L + 1)])


# ----------------------------------------------------------------------------------- the strengthening


@raft_encoding(role="auxiliary", py=_py_vote_not_ahead)
def vote_not_ahead(S: Any) -> Any:
    """A server that voted for c is not in a later term than c."""
    z3 = _z3()
    return z3.And([z3.Implies(S.vf[k] == c, S.term[k] <= S.term[c]) for k in range(S.n) for c in range(S.n)])


@raft_encoding(role="auxiliary", py=_py_candidate_unvoted)
def candidate_unvoted(S: Any) -> Any:
    """Nobody in a Candidate's term has voted for it (votes are cast only in the step that elects)."""
    z3 = _z3()
    return z3.And([z3.Implies(S.role[c] == CANDIDATE, z3.Not(z3.And(S.term[k] == S.term[c], S.vf[k] == c)))
                   for c in range(S.n) for k in range(S.n)])


@raft_encoding(role="auxiliary", py=_py_leader_votes)
def leader_votes(S: Any) -> Any:
    """A Leader of term t holds a quorum: a majority of servers are past t or in t having voted for it."""
    z3 = _z3()
    return z3.And([z3.Implies(S.role[l] == LEADER, is_quorum(voted_for(S, l, S.term[l]), S.n)) for l in range(S.n)])


@raft_encoding(role="auxiliary", py=_py_entry_terms)
def entry_terms(S: Any) -> Any:
    """Entries have terms between 1 and their holder's currentTerm, non-decreasing along each log."""
    z3 = _z3()
    out = []
    for i in range(S.n):
        for k in range(1, S.L + 1):
            out.append(z3.Implies(has(S, i, k), z3.And(term_at(S, i, k) >= 1, term_at(S, i, k) <= S.term[i])))
            if k < S.L:
                out.append(z3.Implies(has(S, i, k + 1), term_at(S, i, k) <= term_at(S, i, k + 1)))
    return z3.And(out)


@raft_encoding(role="auxiliary", py=_py_entry_elected)
def entry_elected(S: Any) -> Any:
    """The term of every entry is one in which some server won a quorum of votes (as in leader_votes)."""
    z3 = _z3()
    return z3.And([z3.Implies(has(S, j, k), z3.Or([is_quorum(voted_for(S, l, term_at(S, j, k)), S.n)
                                                   for l in range(S.n)]))
                   for j in range(S.n) for k in range(1, S.L + 1)])


@raft_encoding(role="auxiliary", py=_py_leader_has_own)
def leader_has_own_entries(S: Any) -> Any:
    """Every entry of a Leader's term, in any log, is in the Leader's log at the same index."""
    z3 = _z3()
    return z3.And([z3.Implies(z3.And(S.role[l] == LEADER, has(S, j, k), term_at(S, j, k) == S.term[l]),
                              z3.And(has(S, l, k), term_at(S, l, k) == S.term[l]))
                   for l, j in pairs(S.n) for k in range(1, S.L + 1)])


@raft_encoding(role="auxiliary", py=_py_term_order)
def term_order(S: Any) -> Any:
    """If term t is at index k of one log and at an index x >= k of another, the other has t at k too."""
    z3 = _z3()
    return z3.And([z3.Implies(z3.And(has(S, i, k), has(S, j, x), term_at(S, i, k) == term_at(S, j, x)),
                              term_at(S, j, k) == term_at(S, i, k))
                   for i, j in pairs(S.n) for k in range(1, S.L + 1) for x in range(k, S.L + 1)])


@raft_encoding(role="auxiliary", py=_py_commit_witnessed)
def commit_witnessed(S: Any) -> Any:
    """Every server's committed prefix is witnessed by an entry (k, t), k >= commitIndex, t <= its term, held
    by a quorum; every holder agrees with the committed prefix; every log with an entry of a term above t
    holds (k, t); and so does every Leader of term t or later."""
    z3 = _z3()
    out = []
    for i in range(S.n):
        options = []
        for k in range(1, S.L + 1):
            for w in range(S.n):
                t = term_at(S, w, k)
                holds = [z3.And(has(S, j, k), term_at(S, j, k) == t) for j in range(S.n)]
                options.append(z3.And(
                    k >= S.commit[i], has(S, w, k), t <= S.term[i],
                    is_quorum(holds, S.n),
                    z3.And([z3.Implies(holds[j], prefix_upto(S, i, j, S.commit[i])) for j in range(S.n)]),
                    z3.And([z3.Implies(z3.And(has(S, j, x), term_at(S, j, x) > t), holds[j])
                            for j in range(S.n) for x in range(1, S.L + 1)]),
                    z3.And([z3.Implies(z3.And(S.role[l] == LEADER, S.term[l] >= t), holds[l]) for l in range(S.n)])))
        out.append(z3.Implies(S.commit[i] > 0, z3.Or(options)))
    return z3.And(out)


SAFETY = [n for n, e in ENCODINGS.items() if e.role == "safety"]
AUXILIARY = [n for n, e in ENCODINGS.items() if e.role == "auxiliary"]
#: the shipped inductive invariant: the four safety properties and the strengthening
INDUCTIVE = SAFETY + AUXILIARY
