"""Small hand-made transition systems for testing the checkers."""

from __future__ import annotations

from typing import Any, NamedTuple

from refmodel.model.core import Label, Permutation, TransitionSystem, all_permutations


class GraphSystem(TransitionSystem):
    """Nodes of an explicit labelled graph; the constraint keeps nodes in ``allowed``."""

    protocol = "toy"

    def __init__(self, edges: dict[Any, list[tuple[str, Any]]], init: list[Any], allowed=None, actions=()) -> None:
        self.edges, self.init, self.allowed, self.actions = edges, init, allowed, tuple(actions)
        self.config = None

    def init_states(self):
        return self.init

    def next_states(self, s):
        return [(Label(name), t) for name, t in self.edges.get(s, [])]

    def constraint(self, s):
        return self.allowed is None or s in self.allowed

    def action_names(self):
        return sorted({name for out in self.edges.values() for name, _ in out} | {"none"} | set(self.actions))


class Tokens(NamedTuple):
    values: tuple[int, ...]


class TokenSystem(TransitionSystem):
    """n tokens with values in 0..k-1, symmetric in the tokens.  ``moves`` is a set of (a, b): any token of
    value a may become b; ``crowd`` a set of (a, c, b): a token of value a may become b when at least c tokens
    have value a."""

    protocol = "toy"
    state_fields = ("values",)

    def __init__(self, n: int, k: int, moves=None, crowd=()) -> None:
        self.n, self.k, self.config = n, k, None
        self.moves = sorted(moves if moves is not None else {(v, v + 1) for v in range(k - 1)})
        self.crowd = sorted(crowd)

    def init_states(self):
        return [Tokens((0,) * self.n)]

    def next_states(self, s):
        for i, v in enumerate(s.values):
            for a, b in self.moves:
                if v == a:
                    yield Label("Move", (("i", i), ("to", b))), Tokens(s.values[:i] + (b,) + s.values[i + 1:])
            for a, c, b in self.crowd:
                if v == a and s.values.count(a) >= c:
                    yield Label("Crowd", (("i", i), ("to", b))), Tokens(s.values[:i] + (b,) + s.values[i + 1:])

    def action_names(self):
        return ("Move", "Crowd")

    def symmetry_group(self):
        return all_permutations(self.n)

    def permute(self, s, p: Permutation):
        inv = p.inverse()
        return Tokens(tuple(s.values[inv[k]] for k in range(self.n)))
