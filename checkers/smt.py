"""Z3: inductive-invariant proofs and bounded model checking of the abstract models, and quorum lemmas.

BFS proves an invariant only up to its bounds.  Here, for a fixed cluster size but **unbounded terms and
heights**, an invariant ``Inv`` is proved *inductive*: ``Init => Inv`` and ``Inv /\\ Next => Inv'``.  When
the second fails, the solver's model is a *counterexample to induction* (CTI): a state satisfying ``Inv``
and one step out of it, rendered like any other trace.  Bounded model checking (``--bmc K``) unrolls
``Init /\\ Next^d`` for d = 0..K and reports the shortest violation, which the tests cross-check against BFS
on the explicit version of the same model.

The models are abstractions, each stated exactly in its module's docstring:

* Raft: ``model/abstract_raft.py`` (explicit) and ``checkers/smt_raft.py`` (symbolic): message-free Raft,
  servers, terms, votes, logs of bounded length; every abstract run is a raft.tla run.
* Clique: ``model/abstract_clique.py`` and ``checkers/smt_clique.py``: one chain's voting snapshot (signers,
  votes, tallies, recents) and block sealing; every chain an honest Clique node accepts is an abstract run.

The encodings of the properties, and the auxiliary invariants that make them inductive, live beside the
predicates they encode (``invariants/raft_smt.py``, ``invariants/poa_smt.py``).

``refmodel prove raft|poa --servers N [--invariant NAME ...] [--bmc K] [--json] [--timeout S]``: verdicts
``proved`` (exit 0), ``counterexample`` (1), ``unknown`` (3: the solver ran out of time); usage errors exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, ClassVar

import z3

from refmodel.checkers.bfs import Step
from refmodel.checkers.cli import EXIT_USAGE, _flag, _nonneg_int, number_arg
from refmodel.model.core import Label

EXIT_PROVED, EXIT_COUNTEREXAMPLE, EXIT_UNKNOWN = 0, 1, 3  # usage errors: checkers.cli.EXIT_USAGE (2)
VERDICT_EXIT = {"proved": EXIT_PROVED, "counterexample": EXIT_COUNTEREXAMPLE, "unknown": EXIT_UNKNOWN}


# ---------------------------------------------------------------------------------------- the protocol


class SymState:
    """A symbolic state: one Z3 term per state variable, by key (fresh variables, or expressions over an
    earlier state when bounded model checking substitutes the transition function)."""

    def __init__(self, values: dict[tuple, Any]) -> None:
        self.values = values

    def __getitem__(self, key: tuple) -> Any:
        return self.values[key]


@dataclass
class SymAction:
    """One action instance: a guard over the pre-state S (and free choice variables) and the new value of
    each variable it changes (every other variable keeps its value).

    ``params`` are the label's fixed parameters; ``choices`` read further label parameters from a model
    (e.g. the voters of an election), whose variables are ``choice_vars`` ranging over ``domains``.
    ``rep`` marks the instances that represent all the others under the model's symmetry (only they are
    checked in a symmetry-reduced induction step)."""

    name: str
    params: tuple[tuple[str, Any], ...]
    guard: Any
    updates: dict[tuple, Any]
    rep: bool = True
    choices: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    choice_vars: list[Any] = field(default_factory=list)
    #: the domains of the choice variables (asserted for every step, whatever action it takes)
    domains: list[Any] = field(default_factory=list)

    def label(self, m: Any) -> Label:
        return Label(self.name, self.params + tuple((k, f(m)) for k, f in self.choices.items()))

    def relation(self, S: SymState, T: SymState) -> Any:
        """The step as a relation: the guard, and T's every variable equal to its new (or old) value."""
        return z3.And([self.guard] + self.domains + [T[k] == self.updates.get(k, v) for k, v in S.values.items()])

    def __str__(self) -> str:
        return str(Label(self.name, self.params))


class SymbolicModel:
    """What the engine needs of a symbolic model (see ``checkers/smt_raft.py`` for one)."""

    protocol: str = ""
    config: Any = None
    mutant: str | None = None
    explicit: Any = None  # the explicit TransitionSystem of the same abstract model
    encodings: ClassVar[dict[str, Any]] = {}  # name -> invariants.raft_smt.Encoding
    safety: ClassVar[list[str]] = []  # the properties people care about
    inductive: ClassVar[list[str]] = []  # the shipped inductive invariant (safety + auxiliary)
    symmetric: bool = True  # Inv and Next are invariant under renaming the servers

    def describe(self) -> dict[str, Any]:
        raise NotImplementedError

    def keys(self) -> list[tuple]:
        """The state variables, in a fixed order."""
        raise NotImplementedError

    def state(self, tag: str) -> SymState:
        """A state of fresh variables named after ``tag``."""
        raise NotImplementedError

    def state_of(self, values: dict[tuple, Any]) -> SymState:
        """A state of the given terms."""
        raise NotImplementedError

    def type_ok(self, S: Any) -> Any:
        """Every variable is in its domain (always part of the invariant)."""
        raise NotImplementedError

    def initial(self) -> dict[tuple, Any]:
        """The (unique) initial state, as constants."""
        raise NotImplementedError

    def init(self, S: SymState) -> Any:
        return z3.And([S[k] == v for k, v in self.initial().items()])

    def actions(self, S: Any, tag: str) -> list[SymAction]:
        """Every action instance from S, its choice variables named after ``tag``."""
        raise NotImplementedError

    def constraint(self, S: Any) -> Any:
        """The explicit model's state constraint (its BFS bounds), for cross-checks with BFS."""
        return z3.BoolVal(True)

    def bounds(self) -> dict[str, Any]:
        """The bounds :meth:`constraint` imposes, for reports."""
        return {}

    def small(self, S: Any, k: int) -> Any:
        """A preference for small numbers (k = 2, 3, ...), to make counterexamples readable."""
        return z3.BoolVal(True)

    def small_step(self, a: SymAction, k: int) -> Any:
        """The same preference for an action's choices."""
        return z3.BoolVal(True)

    def decode(self, m: Any, S: Any) -> Any:
        """The explicit state a model of the solver gives S."""
        raise NotImplementedError

    def values_of(self, s: Any) -> dict[tuple, Any]:
        """An explicit state's value for every key (ints, bools)."""
        raise NotImplementedError

    def encode(self, s: Any, S: SymState) -> Any:
        """S equals the explicit state s."""
        return z3.And([S[k] == v for k, v in self.values_of(s).items()])

    def concrete(self, s: Any) -> SymState:
        """The explicit state s as a symbolic state of constants (to evaluate encodings on it)."""
        return self.state_of({k: z3.BoolVal(v) if isinstance(v, bool) else z3.IntVal(v)
                              for k, v in self.values_of(s).items()})

    def render(self, s: Any) -> dict[str, Any]:
        return self.explicit.render(s)


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


# ------------------------------------------------------------------------------------------- rendering


def _cfg_json(cfg: Any) -> Any:
    return asdict(cfg) if is_dataclass(cfg) else cfg


def to_json(r: ProofResult) -> dict[str, Any]:
    from refmodel.checkers.report import label_json

    out: dict[str, Any] = {
        "verdict": r.verdict, "method": r.method, "protocol": r.protocol, "config": r.config,
        "mutant": r.mutant, "invariants": r.invariants, "elapsed_s": round(r.elapsed_s, 3),
        "obligations": [{"name": o.name, "result": o.result, "seconds": round(o.seconds, 3)} for o in r.obligations],
    }
    if r.method == "induction":
        out["symmetry"] = r.symmetry
    if r.depth is not None:
        out["depth"] = r.depth
    if r.unknown_reason:
        out["unknown_reason"] = r.unknown_reason
    if r.counterexample is not None:
        c = r.counterexample
        out["counterexample"] = {
            "kind": c.kind, "violated": c.violated, "descriptions": c.docs, "length": c.length,
            "trace": [{"action": _action_name(c, k, st), "label": label_json(st.action), "state": st.state}
                      for k, st in enumerate(c.trace)],
        }
    return out


def _action_name(c: Counterexample, k: int, st: Step) -> str:
    if st.action is not None:
        return str(st.action)
    return "Init" if c.kind in ("init", "trace") else "Inv"


def dumps(r: ProofResult) -> str:
    return json.dumps(to_json(r), indent=1)


def text(r: ProofResult, full: bool = False) -> str:
    from refmodel.checkers.report import diff_states

    cfg = ", ".join(f"{k}={v}" for k, v in r.config.items())
    what = "inductive invariant" if r.method == "induction" else f"bounded model check to depth {r.depth}"
    lines = [f"prove {r.protocol} [{cfg}]" + (f" mutant={r.mutant}" if r.mutant else "") + f": {what}",
             f"invariants: {', '.join(r.invariants)}"]
    if r.verdict == "proved":
        if r.method == "induction":
            lines.append(f"verdict: PROVED: Init => Inv and Inv /\\ Next => Inv' ({len(r.obligations)} queries"
                         + (", one action instance per symmetry class" if r.symmetry else "") + ")")
        else:
            lines.append(f"verdict: PROVED up to depth {r.depth}: no reachable state within {r.depth} steps "
                         "violates them (bounded)")
    elif r.verdict == "unknown":
        lines.append(f"verdict: UNKNOWN: {r.unknown_reason}")
    else:
        c = r.counterexample
        assert c is not None
        head = {"init": "an initial state violates the invariant",
                "cti": "counterexample to induction: a state satisfying the invariant and a step leaving it",
                "trace": f"counterexample: a run of {c.length} step{'s' * (c.length != 1)} from Init"}[c.kind]
        lines.append(f"verdict: COUNTEREXAMPLE: {head}")
        prev = None
        for k, st in enumerate(c.trace):
            label = _action_name(c, k, st)
            if label == "Inv":
                label = "Inv (a state satisfying the invariant)"
            lines.append(f"  {k:>3}. {label}")
            if prev is None or full:
                lines += [f"         {var} = {json.dumps(val, separators=(', ', ': '))}"
                          for var, val in st.state.items()]
            else:
                lines += [f"         {x}" for x in diff_states(prev, st.state) or ["(no variable changed)"]]
            prev = st.state
        for n in c.violated:
            lines.append(f"Violated: {n}: {c.docs.get(n, '')}")
    lines.append(f"time: {r.elapsed_s:.2f}s")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------- CLI


def symbolic_model(protocol: str, args: argparse.Namespace) -> SymbolicModel:
    """The symbolic model named on the command line."""
    from refmodel.model.core import ConfigError

    try:
        if protocol == "raft":
            from refmodel.checkers.smt_raft import RaftSymbolic
            from refmodel.model.abstract_raft import AbstractRaftConfig

            cfg = AbstractRaftConfig(servers=args.servers, max_log=args.max_log, values=args.values or 1,
                                     max_term=args.max_term)
            return RaftSymbolic(cfg, args.mutant, values=args.values)
        from refmodel.checkers.smt_clique import CliqueSymbolic
        from refmodel.model.abstract_clique import AbstractCliqueConfig

        cfg = AbstractCliqueConfig(signers=args.servers, candidates=args.candidates, epoch=args.epoch,
                                   threshold=args.threshold, proposer_rule=args.proposer_rule,
                                   max_height=args.max_height)
        return CliqueSymbolic(cfg, args.mutant)
    except ConfigError as exc:
        name, _, rest = str(exc).partition(" ")
        raise UsageError(f"{_flag(name)} {rest}") from None
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None


_positive = number_arg(int, 1)
_seconds = number_arg(float, 0, strict=True)


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (``refmodel prove: error: ...``), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="refmodel prove",
        description="Prove invariants of the abstract Raft or Clique model with Z3: inductive for a fixed "
                    "cluster size and unbounded terms/heights (default), or bounded model checking (--bmc K).",
        epilog="exit codes: 0 proved, 1 counterexample, 2 usage error, 3 unknown (solver timeout)")
    p.add_argument("protocol", choices=("raft", "poa", "quorum"),
                   help="raft: message-free Raft; poa: Clique voting; quorum: the quorum lemmas for every "
                        "cluster size up to --servers")
    p.add_argument("--servers", type=_positive, default=3, metavar="N",
                   help="raft: servers; poa: initial signers (default 3)")
    p.add_argument("--invariant", action="append", metavar="NAME",
                   help="prove this invariant (repeatable; default: the shipped inductive set); "
                        "`--list` shows the names")
    p.add_argument("--bmc", type=_nonneg_int, metavar="K",
                   help="bounded model checking to depth K instead of induction")
    p.add_argument("--mutant", metavar="NAME", help="a buggy variant of the abstract model (see --list)")
    p.add_argument("--timeout", type=_seconds, metavar="S", help="give the solver at most S seconds in all "
                   "(verdict unknown beyond)")
    p.add_argument("--no-symmetry", dest="symmetry", action="store_false",
                   help="check every action instance, not one per symmetry class")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--full", action="store_true", help="show whole states in counterexamples")
    p.add_argument("--list", action="store_true", help="list the invariants and mutants, then exit")
    g = p.add_argument_group("raft")
    g.add_argument("--max-log", type=_nonneg_int, default=2, metavar="L", help="log length bound (default 2)")
    g.add_argument("--values", type=_positive, metavar="K",
                   help="client values v1..vK (default: any value, symbolically)")
    g.add_argument("--max-term", type=_positive, default=3, metavar="T",
                   help="with --bmc: keep every term <= T, as BFS does (default 3; induction ignores it)")
    g = p.add_argument_group("poa")
    g.add_argument("--candidates", type=_nonneg_int, default=1, metavar="C",
                   help="identities that are not signers at genesis (default 1)")
    g.add_argument("--epoch", type=_positive, default=3, metavar="E", help="epoch length (default 3)")
    g.add_argument("--threshold", choices=("majority", "two_thirds"), default="majority")
    g.add_argument("--proposer-rule", choices=("clique", "round_robin"), default="clique")
    g.add_argument("--max-height", type=_positive, default=6, metavar="H",
                   help="with --bmc: keep every height <= H, as BFS does (default 6; induction ignores it)")
    return p


def cli_main(argv: list[str]) -> int:
    """``refmodel prove ...``; see :func:`parser`."""
    try:
        args = parser().parse_args(argv)
        if args.protocol == "quorum":
            return _cli_lemmas(args)
        if args.bmc is not None and args.values is None:
            args.values = 1  # bounded model checking enumerates values: v1 unless told otherwise
        model = symbolic_model(args.protocol, args)
        if args.list:
            for n, e in model.encodings.items():
                enc = f" (encodes {e.encodes})" if e.encodes else ""
                print(f"{n} [{e.role}, {e.kind}]{enc}: {_summary(e.doc)}")
            from refmodel.model.abstract_clique import MUTANTS as PM
            from refmodel.model.abstract_raft import MUTANTS as RM

            for name, m in (RM if args.protocol == "raft" else PM).items():
                print(f"mutant {name}: {m.description}")
            return EXIT_PROVED
        names = resolve(model, args.invariant)
        if args.bmc is not None:
            r = bmc(model, args.invariant or model.safety, args.bmc, timeout=args.timeout, constrained=True)
        else:
            r = prove(model, names, timeout=args.timeout, symmetry=args.symmetry)
    except UsageError as exc:
        print(f"refmodel prove: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:
        return int(exc.code or 0)
    print(dumps(r) if args.json else text(r, full=args.full))
    return VERDICT_EXIT[r.verdict]


def _summary(doc: str) -> str:
    """A docstring's first paragraph on one line, as ``refmodel list`` shows invariants (docstrings wrap
    mid-sentence)."""
    return " ".join(doc.split("\n\n")[0].split())


def _cli_lemmas(args: argparse.Namespace) -> int:
    rows = [lemma for n in range(1, args.servers + 1) for lemma in quorum_lemmas(n, args.timeout)]
    ok = all(lemma.proved for lemma in rows)
    if args.json:
        print(json.dumps({"verdict": "proved" if ok else "counterexample",
                          "lemmas": [{"name": x.name, "n": x.n, "statement": x.statement, "proved": x.proved,
                                      "seconds": round(x.seconds, 4)} for x in rows]}, indent=1))
    else:
        names = list(dict.fromkeys(x.name for x in rows))
        print("quorum lemmas (Z3), N = 1.." + str(args.servers) + ":")
        for name in names:
            mine = [x for x in rows if x.name == name]
            bad = [x.n for x in mine if not x.proved]
            print(f"  {name}: {mine[-1].statement}: " + ("proved for every N" if not bad else f"FAILS for N = {bad}"))
        print(f"verdict: {'PROVED' if ok else 'COUNTEREXAMPLE'} ({sum(x.seconds for x in rows):.2f}s)")
    return EXIT_PROVED if ok else EXIT_COUNTEREXAMPLE


def main() -> None:  # pragma: no cover - python -m checkers.smt
    sys.exit(cli_main(sys.argv[1:]))


if __name__ == "__main__":  # pragma: no cover
    main()
