"""Results rendered as ITF traces: a counterexample (or any run) as an ITF document, with ``#meta`` naming the
protocol, configuration and mutant so that ``refmodel replay`` can re-check it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from refmodel.checkers.itf import ITF_URL, encode, picks, state_itf


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


def write_streamed(path: str | Path, system: Any, steps: Sequence[tuple[Any, Any, dict[str, Any]]], *,
                   description: str, extra_meta: dict[str, Any] | None = None) -> None:
    """The ITF document of ``steps`` ((label or None, state, extra per-state ``#meta``)), written state by
    state for long behaviours: a variable's value (or an element of a tuple-valued variable) that is the same
    object as in an earlier state is encoded once.  The same document as :func:`trace_document`'s."""
    @dataclasses.dataclass(frozen=True)
    class _First:
        action: Any
        raw: Any

    head = trace_document(system, [_First(None, steps[0][1])], description=description, extra_meta=extra_meta)
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    memo: dict[int, tuple[Any, str]] = {}

    def enc(x: Any) -> str:
        hit = memo.get(id(x))
        if hit is None or hit[0] is not x:
            hit = (x, dumps(encode(x)))
            memo[id(x)] = hit
        return hit[1]

    def value(v: Any) -> str:
        if isinstance(v, tuple) and not hasattr(v, "_fields") and not hasattr(v, "itf"):
            return "[" + ",".join(enc(x) for x in v) + "]"
        return enc(v)

    with open(path, "w") as out:
        out.write('{"#meta":' + dumps(head["#meta"]) + ',"vars":' + dumps(head["vars"]) + ',"states":[')
        for k, (lab, st, meta) in enumerate(steps):
            out.write(("," if k else "") + '{"#meta":' + dumps({"index": k, **meta})
                      + ',"mbt::actionTaken":' + dumps("init" if lab is None else lab.action)
                      + ',"mbt::nondetPicks":' + dumps({} if lab is None else picks(lab)))
            for var, v in system.itf_vars(st).items():
                out.write("," + dumps(var) + ":" + value(v))
            out.write("}")
        out.write("]}\n")
