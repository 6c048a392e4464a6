"""Z3: inductive-invariant proofs and bounded model checking of the abstract models, and quorum lemmas.

BFS proves an invariant only up to its bounds.  Here, for a fixed cluster size but **unbounded terms and
heights**, an invariant ``Inv`` is proved *inductive*: ``Init => Inv`` and ``Inv /\\ Next => Inv'``.  When
the second fails, the solver's model is a *counterexample to induction* (CTI): a state satisfying ``Inv``
and one step out of it, rendered like any other trace.  Bounded model checking (``--bmc K``) unrolls
``Init /\\ Next^d`` for d = 0..K and reports the shortest violation, which the tests cross-check against BFS
on the explicit version of the same model.

The models are abstractions, each stated exactly in its module's docstring:

* Raft: ``model/raft/abstract.py`` (explicit) and ``model/raft/symbolic.py`` (symbolic): message-free Raft,
  servers, terms, votes, logs of bounded length; every abstract run is a raft.tla run.
* Clique: ``model/poa/abstract.py`` and ``model/poa/symbolic.py``: one chain's voting snapshot (signers,
  votes, tallies, recents) and block sealing; every chain an honest Clique node accepts is an abstract run.

The encodings of the properties, and the auxiliary invariants that make them inductive, live beside the
predicates they encode (``invariants/raft_smt.py``, ``invariants/poa_smt.py``).

The command line is ``refmodel prove`` (``checkers/cli/prove.py``); results render in
``checkers/report/smt.py``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import z3

from refmodel.checkers.bfs import Step
from refmodel.model.core import Label
from refmodel.model.symbolic import SymAction, SymbolicModel, SymState  # noqa: F401 - the engine's input


class UsageError(Exception):
    """Bad input: one line, exit code 2."""


def resolve(model: SymbolicModel, names: Sequence[str] | None) -> list[str]:
    """Encoding names (short, or qualified ``raft.x`` / ``raft_smt.x``) -> short names, in the model's order."""
    if not names:
        return list(model.inductive)
    out = []
    for name in names:
        short = name.strip().rsplit(".", 1)[-1]
        if short not in model.encodings:
            raise UsageError(f"unknown invariant '{name}' for prove {model.protocol} (known: "
                             f"{', '.join(model.encodings)})")
        if short not in out:
            out.append(short)
    return out


# ------------------------------------------------------------------------------------------- results


@dataclass
class Obligation:
    """One solver query: ``init`` (Init => Inv), an action instance (Inv /\\ A => Inv'), or ``depth d``."""

    name: str
    result: str  # "holds", "fails", "unknown"
    seconds: float


@dataclass
class Counterexample:
    """A counterexample: an initial state violating Inv (``init``), a counterexample to induction (``cti``:
    a state satisfying Inv, one step, a state violating it), or a trace from Init (``trace``, from BMC)."""

    kind: str
    violated: list[str]
    trace: list[Step]
    docs: dict[str, str]

    @property
    def length(self) -> int:
        return len(self.trace) - 1


@dataclass
class ProofResult:
    verdict: str  # "proved", "counterexample", "unknown"
    method: str  # "induction" or "bmc"
    protocol: str
    config: dict[str, Any]
    mutant: str | None
    invariants: list[str]
    elapsed_s: float
    obligations: list[Obligation]
    counterexample: Counterexample | None = None
    unknown_reason: str | None = None
    depth: int | None = None  # BMC: the depth explored (or of the counterexample)
    symmetry: bool = False


# ------------------------------------------------------------------------------------------- solving


class _Clock:
    def __init__(self, timeout: float | None) -> None:
        self.t0 = time.perf_counter()
        self.deadline = None if timeout is None else self.t0 + timeout

    def remaining_ms(self) -> int | None:
        if self.deadline is None:
            return None
        return max(1, int((self.deadline - time.perf_counter()) * 1000))

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


def _solver(clock: _Clock) -> Any:
    s = z3.Solver()
    ms = clock.remaining_ms()
    if ms is not None:
        s.set("timeout", ms)
    return s


def _check(s: Any, clock: _Clock) -> Any:
    ms = clock.remaining_ms()
    if ms is not None:
        s.set("timeout", ms)
    return s.check()


def conj(model: SymbolicModel, names: Sequence[str], S: Any) -> list[tuple[str, Any]]:
    """(name, formula) of each named state invariant over S, the type invariant first."""
    out = [("type_ok", model.type_ok(S))]
    out += [(n, model.encodings[n].z3(S)) for n in names if model.encodings[n].kind == "state"]
    return out


def step_props(model: SymbolicModel, names: Sequence[str], S: Any, T: Any) -> list[tuple[str, Any]]:
    return [(n, model.encodings[n].z3(S, T)) for n in names if model.encodings[n].kind == "transition"]


def _violated(m: Any, parts: list[tuple[str, Any]]) -> list[str]:
    return [n for n, f in parts if not z3.is_true(m.eval(f, model_completion=True))]


def _step(model: SymbolicModel, m: Any, S: Any, action: Label | None) -> Step:
    raw = model.decode(m, S)
    return Step(action, model.render(raw), raw)


def _docs(model: SymbolicModel, names: Sequence[str]) -> dict[str, str]:
    return {n: model.encodings[n].doc if n in model.encodings else "the variables are in their domains"
            for n in names}


def prove(model: SymbolicModel, names: Sequence[str] | None = None, *, timeout: float | None = None,
          symmetry: bool = True, pretty: bool = True) -> ProofResult:
    """Prove that the conjunction of the named invariants (default: the shipped inductive set) is inductive.

    With ``symmetry`` (and a symmetric model) only one representative of each family of action instances
    is checked (e.g. ``AppendEntries(i=s1, j=s2)`` for every ``AppendEntries(i, j)``): sound because the
    invariant, Init and Next are unchanged by renaming servers."""
    names = resolve(model, names)
    clock = _Clock(timeout)
    use_sym = symmetry and model.symmetric
    S, T = model.state("s"), model.state("t")
    inv_s = conj(model, names, S)
    inv_t = conj(model, names, T)
    props = step_props(model, names, S, T)
    obligations: list[Obligation] = []

    def result(verdict: str, cex: Counterexample | None = None, reason: str | None = None) -> ProofResult:
        return ProofResult(verdict=verdict, method="induction", protocol=model.protocol, config=model.describe(),
                           mutant=model.mutant, invariants=names, elapsed_s=clock.elapsed(),
                           obligations=obligations, counterexample=cex, unknown_reason=reason, symmetry=use_sym)

    # Init => Inv
    t0 = time.perf_counter()
    s = _solver(clock)
    s.add(model.init(S), z3.Not(z3.And([f for _, f in inv_s])))
    r = _check(s, clock)
    obligations.append(Obligation("init", _word(r), time.perf_counter() - t0))
    if r == z3.sat:
        m = s.model()
        cex = Counterexample("init", _violated(m, inv_s), [_step(model, m, S, None)], {})
        cex.docs = _docs(model, cex.violated)
        return result("counterexample", cex)
    if r == z3.unknown:
        return result("unknown", reason=f"solver gave up on Init => Inv after {clock.elapsed():.1f}s "
                                        f"({s.reason_unknown()})")

    # Inv /\ Next => Inv'
    goal = z3.And([f for _, f in inv_t] + [f for _, f in props])
    acts = [a for a in model.actions(S, "step") if a.rep or not use_sym]
    for a in acts:
        t0 = time.perf_counter()
        s = _solver(clock)
        s.add([f for _, f in inv_s])
        s.add(a.relation(S, T), z3.Not(goal))
        r = _check(s, clock)
        obligations.append(Obligation(str(a), _word(r), time.perf_counter() - t0))
        if r == z3.sat:
            if pretty:
                s = _prettier(model, s, S, a, clock) or s
            m = s.model()
            bad = _violated(m, inv_t + props)
            cex = Counterexample("cti", bad, [_step(model, m, S, None), _step(model, m, T, a.label(m))],
                                 _docs(model, bad))
            return result("counterexample", cex)
        if r == z3.unknown:
            return result("unknown", reason=f"solver gave up on {a} after {clock.elapsed():.1f}s "
                                            f"({s.reason_unknown()})")
    return result("proved")


def _prettier(model: SymbolicModel, s: Any, S: Any, a: SymAction, clock: _Clock) -> Any:
    """The same query with a preference for small numbers (readable CTIs); None if none is found."""
    for k in (2, 3, 4, 6):
        s.push()
        s.add(model.small(S, k), model.small_step(a, k))
        if _check(s, clock) == z3.sat:
            return s
        s.pop()
    return None


def _word(r: Any) -> str:
    return "holds" if r == z3.unsat else "fails" if r == z3.sat else "unknown"


def _bounded_solver(formulas: list[Any], clock: _Clock) -> tuple[Any, str]:
    """A solver for ``formulas``: bit-blasted to SAT when every integer in them is bounded, so that the
    translation to bit-vectors is exact (Z3 marks the goal *precise*), else Z3's default solver.

    Bounded model checking with the state constraint has only bounded integers (the steps' action
    selectors and choices; states are terms over them), and SAT solving is an order of magnitude faster
    there than linear integer arithmetic.  ``nla2bv`` is an under-approximation in general, hence the check
    of the goal's precision before its answer is trusted."""
    g = z3.Goal()
    g.add(formulas)
    pre = z3.Then("simplify", "propagate-values", "solve-eqs", "elim-uncnstr", "nla2bv")
    try:
        precise = all(sub.prec() == z3.Z3_GOAL_PRECISE for sub in pre(g))
    except z3.Z3Exception:
        precise = False
    if precise:
        s = z3.Then(pre, "simplify", "bit-blast", "sat").solver()
        how = "sat"
    else:
        s = z3.Solver()
        how = "smt"
    ms = clock.remaining_ms()
    if ms is not None:
        s.set("timeout", ms)
    s.add(formulas)
    return s, how


def bmc(model: SymbolicModel, names: Sequence[str] | None = None, depth: int = 10, *, timeout: float | None = None,
        constrained: bool = False) -> ProofResult:
    """Bounded model checking: is a state violating one of the named properties reachable in d <= depth
    steps?  The first (smallest) d found is the length of a shortest counterexample.  ``constrained`` keeps
    every state of the path inside the explicit model's state constraint, as BFS does.

    The unrolling is functional: state d+1 is a term over state d, the step's action selector and its
    choice variables (each variable an if-then-else over the actions that change it), so the only
    variables are the per-step choices, all bounded, and each depth is one query for a SAT solver (see
    :func:`_bounded_solver`)."""
    names = resolve(model, names or model.safety)
    clock = _Clock(timeout)
    obligations: list[Obligation] = []
    states = [model.state_of(model.initial())]
    steps: list[tuple[Any, list[SymAction]]] = []
    path: list[Any] = [model.constraint(states[0])] if constrained else []

    config = model.describe()
    if constrained:
        config.update(model.bounds())

    def result(verdict: str, d: int, cex: Counterexample | None = None, reason: str | None = None) -> ProofResult:
        return ProofResult(verdict=verdict, method="bmc", protocol=model.protocol, config=config,
                           mutant=model.mutant, invariants=names, elapsed_s=clock.elapsed(),
                           obligations=obligations, counterexample=cex, unknown_reason=reason, depth=d)

    for d in range(depth + 1):
        if d > 0:
            S = states[-1]
            sel = z3.Int(f"step{d}.action")
            acts = model.actions(S, f"step{d}")
            path += [sel >= 0, sel < len(acts), z3.Or([z3.And(sel == k, a.guard) for k, a in enumerate(acts)])]
            path += [f for a in acts for f in a.domains]
            nxt = {}
            for key, old in S.values.items():
                expr = old
                for k, a in enumerate(acts):
                    if key in a.updates:
                        expr = z3.If(sel == k, a.updates[key], expr)
                nxt[key] = expr
            T = model.state_of(nxt)
            states.append(T)
            steps.append((sel, acts))
            if constrained:
                path.append(model.constraint(T))
        parts = conj(model, names, states[d])[1:]
        if d > 0:
            parts += step_props(model, names, states[d - 1], states[d])
        if not parts:
            if d == 0 and any(model.encodings[n].kind == "transition" for n in names):
                obligations.append(Obligation("depth 0 (no step yet)", "holds", 0.0))
                continue
            raise UsageError("no property to check")
        t0 = time.perf_counter()
        s, how = _bounded_solver(path + [z3.Or([z3.Not(f) for _, f in parts])], clock)
        r = s.check()
        obligations.append(Obligation(f"depth {d} ({how})", _word(r), time.perf_counter() - t0))
        if r == z3.sat:
            m = s.model()
            trace = [_step(model, m, states[0], None)]
            for k, (sel, acts) in enumerate(steps):
                a = acts[m.eval(sel, model_completion=True).as_long()]
                trace.append(_step(model, m, states[k + 1], a.label(m)))
            bad = _violated(m, parts)
            return result("counterexample", d, Counterexample("trace", bad, trace, _docs(model, bad)))
        if r == z3.unknown:
            return result("unknown", d, reason=f"solver gave up at depth {d} after {clock.elapsed():.1f}s "
                                               f"({s.reason_unknown()})")
    return result("proved", depth)


def holds(formula: Any) -> bool:
    """The truth value of a closed formula (over constants only)."""
    v = z3.simplify(formula)
    if not (z3.is_true(v) or z3.is_false(v)):
        raise ValueError(f"not a closed formula: {v}")
    return z3.is_true(v)


def successors(model: SymbolicModel, state: Any, limit: int = 10_000) -> set[tuple[Label, Any]]:
    """Every (label, successor) of an explicit ``state`` under the symbolic relation, by enumerating models
    (used to test that the symbolic and explicit relations agree)."""
    S, T = model.state("s"), model.state("t")
    out: set[tuple[Label, Any]] = set()
    for a in model.actions(S, "step"):
        s = z3.Solver()
        s.add(model.encode(state, S), a.relation(S, T))
        while s.check() == z3.sat:
            m = s.model()
            succ = model.decode(m, T)
            out.add((a.label(m), succ))
            block = [model.encode(succ, T)] + [v == m.eval(v, model_completion=True) for v in a.choice_vars]
            s.add(z3.Not(z3.And(block)))
            if len(out) > limit:
                raise RuntimeError("too many successors")
    return out


# -------------------------------------------------------------------------------------- quorum lemmas


@dataclass
class Lemma:
    name: str
    statement: str
    n: int
    proved: bool
    seconds: float


def _subset(n: int, name: str) -> list[Any]:
    return [z3.Bool(f"{name}{k}") for k in range(n)]


def _card(bits: list[Any]) -> Any:
    return z3.Sum([z3.If(b, 1, 0) for b in bits])


def quorum_lemmas(n: int, timeout: float | None = None) -> list[Lemma]:
    """The quorum-intersection facts the safety arguments use, proved by Z3 for ``n`` servers/signers
    (A, B, F range over all subsets; a lemma is proved when the negation of its conclusion is unsatisfiable,
    or, for a ``tight`` one, when its witness exists).

    * ``majority_intersect``: two strict majorities share a member.  Raft: two elections of one term share a
      voter, who votes once per term; a committed entry's holders include a voter of every later leader.
      Clique (majority): two changes need more than N/2 distinct signers each, so they share a backer.
    * ``majority_overlap_tight``: and no more can be promised: some two majorities share exactly
      2q - N members (q = floor(N/2) + 1): one for odd N, two for even N.  So with the majority threshold a
      single faulty signer can be the whole overlap (odd N): it tolerates no equivocating signer.
    * ``two_thirds_intersect``: with the ``two_thirds`` threshold (3|A| > 2N), two such sets share more than
      a third: 3|A ∩ B| > N.
    * ``two_thirds_honest``: hence, when at most a third of the signers are faulty (3|F| <= N), two such sets
      share an honest signer: A ∩ B ⊄ F.  This is the lemma the two_thirds PoA safety argument needs: two
      conflicting decisions, each backed by more than 2N/3 signers, would need an honest signer to back
      both, which an honest signer never does.
    """
    lemmas = []
    A, B, F = _subset(n, "a"), _subset(n, "b"), _subset(n, "f")
    both = [z3.And(a, b) for a, b in zip(A, B)]
    q = n // 2 + 1

    def run(name: str, statement: str, hyp: list[Any], concl: Any, tight: bool = False) -> None:
        t0 = time.perf_counter()
        s = z3.Solver()
        if timeout is not None:
            s.set("timeout", int(timeout * 1000))
        s.add(hyp + ([concl] if tight else [z3.Not(concl)]))
        r = s.check()
        lemmas.append(Lemma(name, statement, n, r == (z3.sat if tight else z3.unsat), time.perf_counter() - t0))

    run("majority_intersect", "2|A| > N and 2|B| > N imply A ∩ B ≠ ∅",
        [2 * _card(A) > n, 2 * _card(B) > n], z3.Or(both))
    run("majority_overlap_tight", "some A, B with 2|A| > N and 2|B| > N have |A ∩ B| = 2(floor(N/2)+1) - N "
        "(1 for odd N, 2 for even N): the bound is tight",
        [2 * _card(A) > n, 2 * _card(B) > n], _card(both) == 2 * q - n, tight=True)
    run("two_thirds_intersect", "3|A| > 2N and 3|B| > 2N imply 3|A ∩ B| > N",
        [3 * _card(A) > 2 * n, 3 * _card(B) > 2 * n], 3 * _card(both) > n)
    run("two_thirds_honest", "3|A| > 2N, 3|B| > 2N and 3|F| <= N imply A ∩ B ⊄ F",
        [3 * _card(A) > 2 * n, 3 * _card(B) > 2 * n, 3 * _card(F) <= n],
        z3.Or([z3.And(x, z3.Not(f)) for x, f in zip(both, F)]))
    return lemmas
