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


def to_json(r: SimResult) -> dict[str, Any]:
    from refmodel.checkers.report import label_json

    out: dict[str, Any] = {
        "verdict": r.verdict, "protocol": r.protocol, "config": r.config, "mutant": r.mutant,
        "invariants": r.invariants, "seed": r.seed, "swarm": r.swarm, "runs": r.runs, "steps": r.steps,
        "max_steps_per_run": r.max_steps, "distinct_states": r.distinct_states,
        "elapsed_s": round(r.elapsed_s, 4), "steps_per_s": round(r.steps_per_s, 1),
        "actions": r.action_fired,
    }
    if r.violation is not None:
        v = r.violation
        out["violation"] = {
            "invariant": v.invariant, "kind": v.kind, "description": v.doc, "why": v.why, "servers": v.servers,
            "length": v.length, "run": r.runs,
            "trace": [{"action": "Init" if st.action is None else str(st.action), "label": label_json(st.action),
                       "state": st.state} for st in v.trace],
        }
    return out


def text(r: SimResult, full: bool = False) -> str:
    from refmodel.checkers.report import counterexample_text

    cfg = ", ".join(f"{k}={v}" for k, v in r.config.items())
    lines = [
        f"{r.protocol} [{cfg}]" + (f" mutant={r.mutant}" if r.mutant else "") + (" swarm" if r.swarm else ""),
        f"simulation: {r.runs:,} runs of up to {r.max_steps} steps, seed {r.seed}",
        f"verdict: {r.verdict.upper()}",
        f"steps: {r.steps:,}   distinct states: {r.distinct_states:,}   time: {r.elapsed_s:.2f}s   "
        f"{r.steps_per_s:,.0f} steps/s",
        f"invariants: {', '.join(r.invariants) or '(none)'}",
    ]
    never = [a for a, n in r.action_fired.items() if n == 0]
    if never:
        lines.append(f"actions never taken: {', '.join(never)}")
    if r.violation is not None:
        lines.append(f"violation found in run {r.runs} (loops cut from the trace):")
        lines.append(counterexample_text(r, full))
    return "\n".join(lines)


def cli_main(argv: Sequence[str]) -> int:
    """``refmodel simulate <protocol> [bounds] --runs R --steps S --seed X [--mutant M] [--json]``."""
    import argparse
    import json
    import sys
    from dataclasses import fields

    from refmodel.checkers.cli import EXIT_USAGE, InputError, _nonneg_int, build_config, protocol_parser
    from refmodel.model import PROTOCOL_MODULES, UnknownMutant, UnknownProtocol, protocol

    if not argv or argv[0] not in PROTOCOL_MODULES:
        print("usage: refmodel simulate <protocol> [bounds] --runs R --steps S --seed X [--mutant M] [--json]\n"
              f"protocols: {', '.join(PROTOCOL_MODULES)}", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else EXIT_USAGE
    import refmodel.invariants as inv

    try:
        proto = protocol(argv[0])
        p = protocol_parser(proto, f"refmodel simulate {argv[0]}", run_options=False)
        p.description = f"Random walks through {proto.description} (TLC's simulation mode)."
        p.add_argument("--runs", type=_nonneg_int, default=100, help="number of random walks (default 100)")
        p.add_argument("--steps", type=_nonneg_int, default=100, help="steps per walk at most (default 100)")
        p.add_argument("--seed", type=int, default=0, help="random seed; the same seed repeats every run")
        p.add_argument("--swarm", action="store_true", help="swarm testing: each run weights the actions at "
                       "random (some left out), which reaches deep scenarios far more often")
        p.add_argument("--invariant", action="append", metavar="NAME", help="property to check (repeatable)")
        p.add_argument("--mutant", metavar="NAME", help="run a named buggy variant")
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument("--full", action="store_true", help="whole states in the counterexample")
        p.add_argument("--itf", metavar="FILE", help="write the violating run (else the first run) as ITF")
        args = p.parse_args(argv[1:])
        config = build_config(proto, {f.name: getattr(args, f.name) for f in fields(proto.config_class)})
        system = proto.build(config, args.mutant)
        props = inv.resolve(proto.name, args.invariant) if args.invariant else inv.defaults(proto.name)
        if args.itf and not args.itf.endswith(".json"):
            raise InputError(f"--itf file must end in .json: {args.itf}")
    except (UnknownProtocol, UnknownMutant, inv.UnknownProperty) as exc:
        print(f"refmodel: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as exc:
        print(f"refmodel: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = simulate(system.engine(), props, runs=args.runs, steps=args.steps, seed=args.seed, swarm=args.swarm)
    if args.itf:
        from pathlib import Path

        from refmodel.checkers.itf import trace_document

        trace = result.violation.trace if result.violation else result.last_trace
        desc = (f"simulation seed {args.seed}: counterexample to {result.violation.invariant}" if result.violation
                else f"simulation seed {args.seed}: first run")
        extra = {"invariant": result.violation.invariant} if result.violation else {}
        Path(args.itf).write_text(json.dumps(trace_document(system, trace, description=desc, extra_meta=extra),
                                             indent=1) + "\n")
    print(json.dumps(to_json(result), indent=1) if args.json else text(result, args.full))
    return 1 if result.violation else 0
