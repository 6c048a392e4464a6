"""Rendering of random-simulation results (:class:`~refmodel.checkers.simulate.SimResult`): text and JSON."""

from __future__ import annotations

from typing import Any

from refmodel.checkers.report import counterexample_text, label_json
from refmodel.checkers.simulate import SimResult


def to_json(r: SimResult) -> dict[str, Any]:
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
