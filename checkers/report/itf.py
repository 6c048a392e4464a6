"""Results rendered as ITF traces: a counterexample (or any run) as an ITF document, with ``#meta`` naming the
protocol, configuration and mutant so that ``refmodel replay`` can re-check it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from refmodel.checkers.itf import ITF_URL, picks, state_itf


def trace_document(system: Any, steps: Sequence[Any], *, description: str, extra_meta: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """The ITF document of ``steps`` (objects with ``action`` (a Label or None) and ``raw`` (the state))."""
    cfg = system.config
    states = []
    for k, st in enumerate(steps):
        body = state_itf(system, st.raw)
        item: dict[str, Any] = {"#meta": {"index": k}}
        item["mbt::actionTaken"] = "init" if st.action is None else st.action.action
        item["mbt::nondetPicks"] = {} if st.action is None else picks(st.action)
        item.update(body)
        states.append(item)
    variables = list(system.itf_vars(steps[0].raw)) if steps else []
    meta = {"format": "ITF", "format-description": ITF_URL, "source": "consensus-refmodel",
            "description": description, "protocol": system.protocol,
            "config": dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else {},
            "mutant": getattr(system, "mutant", None)}
    meta.update(extra_meta or {})
    return {"#meta": meta, "vars": variables, "states": states}


def write_violation(result: Any, system: Any, path: str | Path) -> None:
    """Write a check result's counterexample as ITF."""
    v = result.violation
    doc = trace_document(system, v.trace, description=f"counterexample to {v.invariant} ({v.length} steps)",
                         extra_meta={"invariant": v.invariant, "verdict": result.verdict})
    Path(path).write_text(json.dumps(doc, indent=1) + "\n")


def write_lasso(lasso: Any, system: Any, path: str | Path) -> None:
    """Write a liveness counterexample as ITF: the prefix and the cycle, with ``loop`` the index of the state
    the behaviour returns to for ever (the last state itself when it stutters)."""
    steps = list(lasso.prefix) + list(lasso.cycle)
    doc = trace_document(system, steps, description=f"counterexample to {lasso.property} ({lasso.form}): "
                         f"a prefix and a cycle", extra_meta={"liveness": lasso.property, "fairness": lasso.fairness,
                                                              "verdict": "violation"})
    doc["loop"] = len(lasso.prefix) - 1
    Path(path).write_text(json.dumps(doc, indent=1) + "\n")
