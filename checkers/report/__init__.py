"""Renderers of a :class:`checkers.bfs.CheckResult`: JSON (the CLI contract) and text for people."""

from __future__ import annotations

import json
from typing import Any

from refmodel.model.core import Label


def param_json(v: Any) -> Any:
    """A label parameter as JSON: identities and values as their names, records via ``to_json``."""
    if hasattr(v, "to_json"):
        return v.to_json()
    if isinstance(v, bool) or v is None or isinstance(v, float):
        return v
    if isinstance(v, int) and type(v) is not int:  # Sid, ValueName ...
        return str(v)
    if isinstance(v, (tuple, list)):
        return [param_json(x) for x in v]
    if isinstance(v, (frozenset, set)):
        return sorted((param_json(x) for x in v), key=repr)
    return v


def label_json(lab: Label | None) -> dict[str, Any] | None:
    if lab is None:
        return None
    return {"name": lab.action, "params": {k: param_json(v) for k, v in lab.params}}


def to_json(result: Any) -> dict[str, Any]:
    """The result as one JSON-able object (the ``--json`` contract)."""
    out: dict[str, Any] = {
        "verdict": result.verdict,
        "protocol": result.protocol,
        "config": result.config,
        "mutant": result.mutant,
        "symmetry": result.symmetry,
        "invariants": result.invariants,
        "distinct_states": result.distinct_states,
        "generated_states": result.generated_states,
        "depth": result.depth,
        "tlc_depth": result.tlc_depth,
        "elapsed_s": round(result.elapsed_s, 4),
        "states_per_s": round(result.states_per_s, 1),
        "generated_per_s": round(result.generated_per_s, 1),
        "levels": result.levels,
        "actions": {name: {"fired": result.action_fired[name], "new_states": result.action_new[name]}
                    for name in result.action_fired},
        "engine": result.engine_stats,
    }
    if result.incomplete_reason:
        out["incomplete_reason"] = result.incomplete_reason
    out["coverage"] = coverage(result)
    if getattr(result, "terminal", None):
        out["terminal"] = result.terminal
    if getattr(result, "liveness", None):
        out["liveness"] = [liveness_json(r) for r in result.liveness]
    if result.violation is not None:
        v = result.violation
        out["violation"] = {
            "invariant": v.invariant,
            "kind": v.kind,
            "description": v.doc,
            "why": v.why,
            "servers": v.servers,
            "length": v.length,
            "trace": [{"action": "Init" if st.action is None else str(st.action),
                       "label": label_json(st.action), "state": st.state} for st in v.trace],
        }
    return out


def dumps(result: Any) -> str:
    return json.dumps(to_json(result), indent=1)


# ------------------------------------------------------------------------------------------------- text


def _fmt(v: Any) -> str:
    return json.dumps(v, separators=(", ", ": "))


def diff_states(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Lines describing what changed: per-key for mappings (per-server variables), added/removed items for
    lists (message bags, history sets), the new value otherwise."""
    lines = []
    for var in after:
        a, b = before.get(var), after[var]
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for k in b:
                if a.get(k) != b[k]:
                    lines.append(f"{var}[{k}]: {_fmt(a.get(k))} -> {_fmt(b[k])}")
        elif isinstance(a, list) and isinstance(b, list):
            for x in a:
                if x not in b:
                    lines.append(f"{var}: - {_fmt(x)}")
            for x in b:
                if x not in a:
                    lines.append(f"{var}: + {_fmt(x)}")
        else:
            lines.append(f"{var}: {_fmt(a)} -> {_fmt(b)}")
    return lines


def counterexample_text(result: Any, full: bool = False) -> str:
    v = result.violation
    out = [f"Counterexample to {v.invariant} ({v.kind} property), {v.length} step{'s' * (v.length != 1)}:"]
    prev = None
    for n, st in enumerate(v.trace):
        head = f"  {n:>3}. {'Init' if st.action is None else st.action}"
        out.append(head)
        if prev is None or full:
            for var, val in st.state.items():
                out.append(f"         {var} = {_fmt(val)}")
        else:
            changes = diff_states(prev, st.state)
            out.extend(f"         {line}" for line in changes or ["(no variable changed)"])
        prev = st.state
    out.append(f"Violated: {v.invariant}")
    out.extend(f"  {line}" for line in (v.doc or "").splitlines())
    if v.why:
        out.append(f"Why: {v.why}")
    if v.servers:
        out.append(f"Servers involved: {', '.join(v.servers)}")
    return "\n".join(out)


def coverage(result: Any) -> dict[str, Any]:
    """Vacuity warnings: actions never enabled or never reaching a new state, and properties whose
    antecedent never held (their 'pass' proves little)."""
    return {
        "never_enabled": [a for a, n in result.action_fired.items() if n == 0],
        "never_new_state": [a for a, n in result.action_new.items() if n == 0 and result.action_fired[a] > 0],
        "vacuous_properties": result.vacuous,
    }


def coverage_text(result: Any) -> list[str]:
    """The action table (enabled / new states) and the vacuity warnings, for people."""
    lines = ["actions (enabled = successors generated, new = distinct states first reached):"]
    width = max(len(a) for a in result.action_fired) if result.action_fired else 0
    for a, n in result.action_fired.items():
        mark = "   <- never enabled" if n == 0 else ("   <- never led to a new state"
                                                     if result.action_new[a] == 0 else "")
        lines.append(f"  {a:<{width}}  enabled {n:>12,}  new {result.action_new[a]:>10,}{mark}")
    for name, ante in result.vacuous.items():
        lines.append(f"warning: {name} held vacuously: its antecedent ({ante}) never held in the explored states")
    return lines


def text(result: Any, full: bool = False) -> str:
    """A readable summary; with a counterexample, each step and what it changed."""
    cfg = ", ".join(f"{k}={v}" for k, v in result.config.items())
    lines = [
        f"{result.protocol} [{cfg}]" + (f" mutant={result.mutant}" if result.mutant else "")
        + (" symmetry" if result.symmetry else ""),
        f"verdict: {result.verdict.upper()}" + (f" ({result.incomplete_reason})" if result.incomplete_reason else ""),
        f"distinct states: {result.distinct_states:,}   generated: {result.generated_states:,}   "
        f"depth: {result.depth} (TLC: {result.tlc_depth})",
        f"time: {result.elapsed_s:.2f}s   {result.states_per_s:,.0f} distinct/s   "
        f"{result.generated_per_s:,.0f} generated/s",
        f"invariants: {', '.join(result.invariants) or '(none)'}",
    ]
    if getattr(result, "liveness", None):
        lines.append("liveness: " + ", ".join(f"{r.property} ({'holds' if r.holds else 'VIOLATED'})"
                                              for r in result.liveness)
                     + (f" under {', '.join(result.liveness[0].fairness)}" if result.liveness[0].fairness
                        else " (no fairness)"))
    lines.extend(coverage_text(result))
    if result.violation is not None:
        lines.append(counterexample_text(result, full))
    for r in getattr(result, "liveness", []) or []:
        if not r.holds:
            lines.append(lasso_text(r, full))
        lines.extend(f"warning: {r.property}: {w}" for w in r.warnings)
    return "\n".join(lines)


FORM_TEXT = {"eventually": "<>P", "always_eventually": "[]<>P", "leads_to": "P ~> Q"}


def liveness_json(r: Any) -> dict[str, Any]:
    """One liveness result: the verdict and, when violated, the lasso (prefix, then the cycle)."""
    def steps(xs: Any) -> list[dict[str, Any]]:
        return [{"action": "Init" if st.action is None else str(st.action), "label": label_json(st.action),
                 "state": st.state} for st in xs]

    out: dict[str, Any] = {"property": r.property, "form": r.form, "description": r.doc, "fairness": r.fairness,
                           "holds": r.holds, "elapsed_s": round(r.elapsed_s, 4), "warnings": r.warnings}
    if not r.holds:
        out.update(prefix=steps(r.prefix), cycle=steps(r.cycle), stutters=r.stutters,
                   loop_index=len(r.prefix) - 1)
    return out


def lasso_text(r: Any, full: bool = False) -> str:
    """A liveness counterexample: the prefix, then the cycle that repeats for ever (or stuttering)."""
    fair = f" under {', '.join(r.fairness)}" if r.fairness else " without fairness"
    out = [f"Counterexample to {r.property} ({FORM_TEXT.get(r.form, r.form)}){fair}: a prefix of "
           f"{len(r.prefix) - 1} step{'s' * (len(r.prefix) != 2)}, then "
           + ("stuttering for ever" if r.stutters else f"a cycle of {len(r.cycle)} step{'s' * (len(r.cycle) != 1)}"
              " repeated for ever") + ":"]
    prev = None
    for n, st in enumerate(r.prefix):
        out.append(f"  {n:>3}. {'Init' if st.action is None else st.action}")
        if prev is None or full:
            out.extend(f"         {var} = {_fmt(val)}" for var, val in st.state.items())
        else:
            out.extend(f"         {line}" for line in diff_states(prev, st.state) or ["(no variable changed)"])
        prev = st.state
    out.append(f"  --- cycle from state {len(r.prefix) - 1} ---" if r.cycle else
               f"  --- state {len(r.prefix) - 1} stutters for ever ---")
    for n, st in enumerate(r.cycle, len(r.prefix)):
        out.append(f"  {n:>3}. {st.action}")
        out.extend(f"         {line}" for line in diff_states(prev, st.state) or ["(no variable changed)"])
        prev = st.state
    out.append(f"Violated: {r.property}")
    out.extend(f"  {line}" for line in (r.doc or "").splitlines())
    return "\n".join(out)
