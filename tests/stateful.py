"""Hypothesis stateful testing over any model, driving the model's own engine (the same transitions the BFS
checker explores, never a second copy of the protocol).

:func:`machine_for` builds a ``RuleBasedStateMachine`` in which

* one rule takes a step: Hypothesis picks which enabled action (among those with a successor within the
  bounds that changes the state) and which instance of it, choosing instances by the identities they name
  (``i``, ``j``) so that a choice keeps its meaning while Hypothesis shrinks a failing run; the model's fault
  actions (restarts, message loss) come last among the choices, since Hypothesis prefers "small" ones;
* an initial rule draws which actions the run may use at all (swarm testing), and shrinking switches off
  what a failure does not need;
* each registered state invariant is an ``@invariant()`` checked after every step, and transition
  properties are checked on every step taken.

The machine records the actions it took; after a failure, Hypothesis's last replay is the shrunk run, which
:attr:`Runs.last_run` keeps, so tests can bound its length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from refmodel.invariants import Property
from refmodel.model.core import Sid


class Runs:
    """Where the machine leaves what the last run did (read by tests after a failure)."""

    def __init__(self) -> None:
        self.last_run: list[str] = []
        self.runs = 0
        self.max_depth = 0


def sid_key(label: Any) -> tuple[int, ...]:
    """The server identities an action instance names, in parameter order."""
    return tuple(int(v) for _, v in label.params if isinstance(v, Sid))


def _distance(key: tuple[int, ...], want: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(abs(a - b) for a, b in zip(key, want)) + (len(key),)


def machine_for(system: Any, properties: Sequence[Property], runs: Runs | None = None, id_count: int = 8) -> type:
    """A RuleBasedStateMachine class for ``system`` checking ``properties``; ``id_count`` bounds the identities
    drawn for action parameters when the state has no ``servers`` field."""
    engine = system.engine()
    names = list(engine.action_names)
    k = len(names)
    cfg = system.config
    state_props = [p for p in properties if p.kind == "state"]
    step_props = [p for p in properties if p.kind == "transition"]
    record = runs or Runs()
    # environment faults (restarts, message loss ...) come last, so that Hypothesis's preference for "simple"
    # (small) choices favours protocol steps and shrinking removes faults first
    faults = set(getattr(system, "fault_actions", ()))
    # how many identities an action may name: the model's servers (or nodes)
    n_ids = max(1, len(getattr(engine.decode(engine.initial()[0]), "servers", ())) or id_count)

    class ModelMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.e = engine.initial()[0]
            self.s = engine.decode(self.e)
            self.taken: list[str] = []
            self._enabled: dict[int, list[tuple[int, Any]]] | None = None
            self.off: set[int] = set()
            record.runs += 1
            record.last_run = self.taken

        def enabled(self) -> dict[int, list[tuple[int, Any]]]:
            """Successors within the bounds, grouped by action (cached for the current state)."""
            if self._enabled is None:
                groups: dict[int, list[tuple[int, Any]]] = {}
                for aid, t in engine.successors(self.e):
                    if t is not None and t != self.e:  # within the bounds, and not a stuttering step
                        groups.setdefault(aid % k, []).append((aid, t))
                self._enabled = groups
            return self._enabled

        def take(self, kind: int, data: Any) -> None:
            options = self.enabled()[kind]
            if len(options) > 1:
                # Choose by the servers the action names (e.g. i, j), drawn as small ints: a choice then keeps
                # its meaning when shrinking removes earlier steps, which an index into the options would not.
                keys = [sid_key(engine.label(a)) for a, _ in options]
                width = max(len(key) for key in keys)
                want = tuple(data.draw(st.integers(0, n_ids - 1), label=f"{names[kind]} id {d}") for d in range(width))
                best = min(range(len(options)), key=lambda o: (_distance(keys[o], want), o))
                same = [o for o in range(len(options)) if keys[o] == keys[best]]
                pick = same[data.draw(st.integers(0, len(same) - 1), label=names[kind])] if len(same) > 1 else best
            else:
                pick = 0
            aid, t = options[pick]
            label = str(engine.label(aid))
            note(f"step {len(self.taken) + 1}: {label}")
            before = self.s
            self.e, self.s, self._enabled = t, engine.decode(t), None
            self.taken.append(label)
            record.max_depth = max(record.max_depth, len(self.taken))
            for p in step_props:
                assert p.fn(cfg, before, self.s), f"{p.name} violated by step {len(self.taken)}: {label}"

    @initialize(data=st.data())
    def swarm(self: Any, data: Any) -> None:
        """Swarm testing: each run switches some actions off (Hypothesis draws which; shrinking switches off
        what the failure does not need)."""
        self.off = {kind for kind in range(k) if not data.draw(st.booleans(), label=f"use {names[kind]}")}

    @rule(data=st.data())
    def step(self: Any, data: Any) -> None:
        """Take one enabled action: Hypothesis picks which action, then which instance of it."""
        enabled = {kind: opts for kind, opts in self.enabled().items() if kind not in self.off}
        if not enabled:  # no action changes the state within the bounds: the run stands still
            return
        kinds = sorted(enabled, key=lambda kind: (names[kind] in faults, kind))
        self.take(kinds[data.draw(st.integers(0, len(kinds) - 1), label="action")] if len(kinds) > 1 else kinds[0],
                  data)

    ModelMachine.step = step

    def make_invariant(p: Property) -> Any:
        def check(self: Any) -> None:
            assert p.fn(cfg, self.s), f"{p.name} violated after {len(self.taken)} steps"

        check.__name__ = check.__qualname__ = "invariant_" + p.name.replace(".", "_")
        return invariant()(check)

    for p in state_props:
        setattr(ModelMachine, "invariant_" + p.name.replace(".", "_"), make_invariant(p))
    ModelMachine.__name__ = f"{system.protocol.capitalize()}Machine"
    return ModelMachine


def hunt(system: Any, properties: Sequence[Property], invariant_name: str, bound: int, max_examples: int = 300,
         steps: int = 60) -> list[str]:
    """Run the machine of ``system`` (a mutant) until Hypothesis finds a violation of ``invariant_name``; check
    that the shrunk run has at most ``bound`` steps, and return it.

    Without Hypothesis's *explain* phase: it only annotates the report of a failure (which parts of the
    shrunk run do not matter), and a hunt expects its failure; on the raft ``vote_twice`` hunt it took 128 of
    130 s (cProfile), the search 2 runs and the shrinking about one second."""
    import re

    import pytest
    from hypothesis import Phase, settings
    from hypothesis.stateful import run_state_machine_as_test

    runs = Runs()
    phases = tuple(p for p in settings().phases if p != Phase.explain)
    with pytest.raises(AssertionError, match=re.escape(invariant_name)):
        run_state_machine_as_test(machine_for(system, properties, runs),
                                  settings=settings(settings(), max_examples=max_examples, stateful_step_count=steps,
                                                    phases=phases))
    assert len(runs.last_run) <= bound, runs.last_run  # the shrunk run is short
    return runs.last_run

