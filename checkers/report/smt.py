"""Rendering of Z3 results (:class:`~refmodel.checkers.smt.ProofResult`): text and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from typing import Any

from refmodel.checkers.bfs import Step
from refmodel.checkers.report import diff_states, label_json
from refmodel.checkers.smt import Counterexample, ProofResult



def _cfg_json(cfg: Any) -> Any:
    return asdict(cfg) if is_dataclass(cfg) else cfg


def to_json(r: ProofResult) -> dict[str, Any]:
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
