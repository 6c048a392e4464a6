"""Symbolic models: what the Z3 engine (``checkers/smt.py``) needs of a protocol's symbolic transition relation.

A symbolic model states its variables as Z3 terms and each action instance as a guard and updates; the
protocols' own symbolic models (``model/raft/symbolic.py``, ``model/poa/symbolic.py``) implement
:class:`SymbolicModel`, and the engine proves or bounded-model-checks any of them without knowing which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import z3

from refmodel.model.core import Label


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
    """What the engine needs of a symbolic model (see ``model/raft/symbolic.py`` for one)."""

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
