"""Random simulation (TLC's simulation mode): random walks through a model, checking properties on the way.

Each run starts in an initial state and takes up to ``steps`` steps, each chosen uniformly at random among the
enabled actions whose successor satisfies the state constraint (the same bounds as BFS) and differs from the
current state; a run ends early when no such action is left.  (Unlike TLC, stuttering steps are never taken:
they change nothing, and bounded models otherwise spend most of a walk restarting idle servers once the term
budget is used up.)  Every visited state is checked against the state invariants and every step
against the transition properties.  The walk is driven by one ``random.Random(seed)``, so a seed reproduces
every run exactly; only the two timing figures differ between two runs of the same command.

``swarm=True`` (swarm testing, Groce et al. 2012, with weights) gives each run its own random weighting of
the model's actions: each action is left out with probability 1/4, otherwise weighted by ``exp(u)`` for ``u``
uniform in [-5, 0], and a step picks among the enabled successors in proportion to their action's weight.
Runs that rarely time out, drop or restart reach deep, rare scenarios far more often than uniform walks
(bounded terms are a budget that uniform walks spend at once), while the union of runs still covers every
action.

On a violation the trace is shortened by cutting the loops it contains (a state visited twice) and reported
in the same form as a BFS counterexample.
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from refmodel.checkers.bfs import Step, Violation, _config_dict, _StateChecker, _StepChecker
from refmodel.invariants import Property
from refmodel.model.core import Engine, Sid


@dataclass
class SimResult:
    verdict: str  # "pass" or "violation"
    protocol: str
    config: dict[str, Any]
    mutant: str | None
    invariants: list[str]
    seed: int
    runs: int  # runs made (the last one is the violating one, if any)
    steps: int  # steps taken over all runs
    max_steps: int  # the per-run bound
    swarm: bool
    distinct_states: int
    elapsed_s: float
    action_fired: dict[str, int]  # steps taken per action
    violation: Violation | None = None
    run_lengths: list[int] = field(default_factory=list, repr=False)
    last_trace: list[Step] = field(default_factory=list, repr=False)  # the first run, for --itf without violation

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.elapsed_s if self.elapsed_s > 0 else 0.0


def simulate(engine: Engine, properties: Sequence[Property] = (), *, runs: int = 100, steps: int = 100,
             seed: int = 0, swarm: bool = False) -> SimResult:
    """Random walks; see the module docstring."""
    gc_was = gc.isenabled()
    gc.disable()
    try:
        return _simulate(engine, properties, runs, steps, seed, swarm)
    finally:
        if gc_was:
            gc.enable()


def _simulate(engine: Engine, properties: Sequence[Property], runs: int, steps: int, seed: int,
              swarm: bool) -> SimResult:
    t0 = time.perf_counter()
    rng = random.Random(seed)
    system = engine.system
    inv = _StateChecker(engine, [p for p in properties if p.kind == "state"])
    stepc = _StepChecker(engine, [p for p in properties if p.kind == "transition"])
    names = list(engine.action_names)
    k = len(names)
    fired = [0] * k
    seen: set[Hashable] = set()
    initial = engine.initial()
    total, lengths = 0, []
    violation, first_trace = None, []
    for run in range(runs):
        weights = _swarm_weights(rng, k) if swarm else None
        s = rng.choice(initial)
        path: list[tuple[int, Hashable]] = [(-1, s)]
        seen.add(s)
        bad = inv.first_violated(s)
        taken = 0
        while bad is None and taken < steps:
            succ = [(a, t) for a, t in engine.successors(s) if t is not None and t != s
                    and (weights is None or weights[a % k] > 0)]
            if not succ:
                break
            if weights is None:
                aid, t = succ[rng.randrange(len(succ))]
            else:
                aid, t = rng.choices(succ, [weights[a % k] for a, _ in succ])[0]
            fired[aid % k] += 1
            taken += 1
            if stepc.active:
                bad = stepc.first_violated(s, t, None)
                if bad is not None:
                    path.append((aid, t))
                    break
            path.append((aid, t))
            seen.add(t)
            s = t
            bad = inv.first_violated(t)
        total += taken
        lengths.append(taken)
        if run == 0:
            first_trace = _steps(engine, path)
        if bad is not None:
            violation = _violation(engine, bad, path)
            break
    return SimResult(
        verdict="violation" if violation else "pass", protocol=system.protocol,
        config=_config_dict(system.config), mutant=getattr(system, "mutant", None),
        invariants=[p.name for p in properties], seed=seed, runs=len(lengths), steps=total, max_steps=steps,
        swarm=swarm, distinct_states=len(seen), elapsed_s=time.perf_counter() - t0,
        action_fired=dict(zip(names, fired)), violation=violation, run_lengths=lengths, last_trace=first_trace)


def _swarm_weights(rng: random.Random, k: int) -> list[float]:
    """A run's action weights: 0 (left out) with probability 1/4, else exp(u), u uniform in [-5, 0]."""
    w = [0.0 if rng.random() < 0.25 else math.exp(rng.uniform(-5.0, 0.0)) for _ in range(k)]
    if not any(w):
        w[rng.randrange(k)] = 1.0
    return w


def cut_loops(path: list[tuple[int, Hashable]], transition: bool) -> list[tuple[int, Hashable]]:
    """Remove the cycles of a path: whenever a state recurs, drop the steps between its visits.  The last
    step of a transition-property violation is kept as it is (it is the violating step)."""
    body, tail = (path[:-1], path[-1:]) if transition else (path, [])
    out: list[tuple[int, Hashable]] = []
    where: dict[Hashable, int] = {}
    for aid, s in body:
        if s in where:
            cut = where[s]
            for _, dropped in out[cut + 1:]:
                where.pop(dropped, None)
            del out[cut + 1:]
            continue
        where[s] = len(out)
        out.append((aid, s))
    return out + tail


def _steps(engine: Engine, path: list[tuple[int, Hashable]]) -> list[Step]:
    system = engine.system
    out = []
    for aid, e in path:
        raw = engine.decode(e)
        out.append(Step(None if aid < 0 else engine.label(aid), system.render(raw), raw))
    return out


def _violation(engine: Engine, prop: Property, path: list[tuple[int, Hashable]]) -> Violation:
    steps = _steps(engine, cut_loops(path, prop.kind == "transition"))
    cfg = engine.system.config
    verdict = prop.fn(cfg, steps[-1].raw) if prop.kind == "state" else prop.fn(cfg, steps[-2].raw, steps[-1].raw)
    servers = list(getattr(verdict, "servers", []))
    if not servers and steps[-1].action is not None:
        servers = sorted({str(v) for _, v in steps[-1].action.params if isinstance(v, Sid)})
    return Violation(invariant=prop.name, kind=prop.kind, doc=prop.doc, trace=steps,
                     why=getattr(verdict, "why", ""), servers=servers)
