"""Traces in the Informal Trace Format (ITF, Apalache ADR-015) and their replay against the model.

Writing: each state's variables (the model's :meth:`~model.core.TransitionSystem.itf_vars`) are encoded
with integers as ``{"#bigint": "..."}``, sets as ``{"#set": [...]}``, functions as ``{"#map": [[k, v], ...]}``,
records as JSON objects and sequences as arrays; server identities and other model values as strings
(``"s1"``, ``"v1"``, ``"Nil"``).  Every state carries the action that produced it in ``mbt::actionTaken``
(``"init"`` for the first) and that action's parameters in ``mbt::nondetPicks`` (each an option variant
``{"tag": "Some", "value": v}``, as Apalache and Quint write them).  ``#meta`` records the protocol, its
configuration and mutant, so that a trace saved today can be re-checked tomorrow.

Replaying (:func:`replay`): the first state must be an initial state of the model and every later state the
result of the named action, with the named parameters, from the state before: otherwise the step number is
reported.  Sets and maps compare as sets, whatever their order in the file.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from refmodel.model.core import Record

ITF_URL = "https://apalache-mc.org/docs/adr/015adr-trace.html"


# ------------------------------------------------------------------------------------------------ encode


def encode(v: Any) -> Any:
    """A Python model value as ITF JSON."""
    if hasattr(v, "itf"):
        return encode(v.itf())
    if v is None:
        return "Nil"
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return {"#bigint": str(v)} if type(v) is int else str(v)  # Sid, ValueName: model values
    if isinstance(v, (str, float)):
        return v
    if isinstance(v, (frozenset, set)):
        return {"#set": sorted((encode(x) for x in v), key=_key)}
    if isinstance(v, Record):
        return {k: encode(x) for k, x in v.items()}
    if isinstance(v, dict):
        return {"#map": sorted(([encode(k), encode(x)] for k, x in v.items()), key=_key)}
    if hasattr(v, "_asdict"):  # NamedTuple: a record
        return {k: encode(x) for k, x in v._asdict().items()}
    if dataclasses.is_dataclass(v):
        return {f.name: encode(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, (tuple, list)):
        return [encode(x) for x in v]
    raise TypeError(f"cannot encode {type(v).__name__} in ITF: {v!r}")


def _key(x: Any) -> str:
    return json.dumps(x, sort_keys=True)


def normalise(v: Any) -> Any:
    """A canonical, hashable form of an ITF value: big integers as ints, sets and maps in sorted order."""
    if isinstance(v, dict):
        if set(v) == {"#bigint"}:
            return int(v["#bigint"])
        if set(v) == {"#set"}:
            return ("#set", tuple(sorted((normalise(x) for x in v["#set"]), key=repr)))
        if set(v) == {"#map"}:
            return ("#map", tuple(sorted(((normalise(k), normalise(x)) for k, x in v["#map"]), key=repr)))
        if set(v) == {"#tup"}:
            return tuple(normalise(x) for x in v["#tup"])
        return ("#rec", tuple(sorted((k, normalise(x)) for k, x in v.items())))
    if isinstance(v, list):
        return tuple(normalise(x) for x in v)
    return v


def state_itf(system: Any, state: Any) -> dict[str, Any]:
    return {k: encode(x) for k, x in system.itf_vars(state).items()}


def picks(label: Any) -> dict[str, Any]:
    return {k: {"tag": "Some", "value": encode(v)} for k, v in label.params}


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


# ------------------------------------------------------------------------------------------------ replay


class ITFError(ValueError):
    """A trace file is malformed, or a step is not a transition of the model (the message names it)."""


@dataclasses.dataclass
class ReplayResult:
    steps: int  # transitions replayed
    protocol: str
    config: dict[str, Any]
    mutant: str | None
    violation: str | None  # first property violated along the trace (from those checked)
    violated_at: int | None  # state index where it was violated
    outside_constraint: list[int]  # state indices outside the model's state constraint


def load(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        raise ITFError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ITFError(f"{path}: not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("states"), list) or not doc["states"]:
        raise ITFError(f"{path}: not an ITF trace (needs a non-empty 'states' list)")
    meta = doc.get("#meta")
    if not isinstance(meta, dict) or "protocol" not in meta:
        raise ITFError(f"{path}: '#meta' must name the 'protocol' (and its 'config') to replay against")
    return doc


def replay(doc: dict[str, Any], *, path: str = "trace", invariants: Sequence[Any] | None = None) -> ReplayResult:
    """Check that every step of an ITF trace is a transition of the model named in its ``#meta``."""
    from refmodel.model import UnknownMutant, UnknownProtocol, protocol
    from refmodel.model.core import ConfigError

    meta = doc["#meta"]
    try:
        proto = protocol(meta["protocol"])
        cfg = proto.config_class(**(meta.get("config") or {}))
        system = proto.build(cfg, meta.get("mutant"))
    except (UnknownProtocol, UnknownMutant, ConfigError, TypeError) as exc:
        raise ITFError(f"{path}: #meta does not describe a model: {exc}") from None
    if invariants is None:
        import refmodel.invariants as inv

        names = [meta["invariant"]] if meta.get("invariant") else None
        invariants = inv.resolve(proto.name, names) if names else inv.defaults(proto.name)

    def strip(state: dict[str, Any]) -> Any:
        return normalise({k: v for k, v in state.items() if not k.startswith("#") and not k.startswith("mbt::")})

    items = doc["states"]
    first = strip(items[0])
    current = next((s for s in system.init_states() if normalise(state_itf(system, s)) == first), None)
    if current is None:
        raise ITFError(f"{path}: state 0 is not an initial state of {proto.name} {_short(cfg)}")
    history = [current]
    for k, item in enumerate(items[1:], 1):
        action = item.get("mbt::actionTaken")
        want_picks = item.get("mbt::nondetPicks")
        target = strip(item)
        cands = [(lab, t) for lab, t in system.next_states(current) if action is None or lab.action == action]
        if not cands:
            raise ITFError(f"{path}: step {k}: action {action!r} is not enabled in state {k - 1}")
        if isinstance(want_picks, dict) and want_picks:
            want = normalise({n: p.get("value") if isinstance(p, dict) and "tag" in p else p
                              for n, p in want_picks.items()})
            cands = [(lab, t) for lab, t in cands
                     if normalise({n: x["value"] for n, x in picks(lab).items()}) == want]
            if not cands:
                raise ITFError(f"{path}: step {k}: {action} with these parameters is not enabled in state {k - 1}")
        nxt = next((t for _, t in cands if normalise(state_itf(system, t)) == target), None)
        if nxt is None:
            raise ITFError(f"{path}: step {k}: state {k} is not what {action or 'any action'} leads to from "
                           f"state {k - 1} (not a transition of the model)")
        history.append(nxt)
        current = nxt
    violation, at = None, None
    for idx, st in enumerate(history):
        for p in invariants:
            ok = p.fn(cfg, st) if p.kind == "state" else (idx == 0 or p.fn(cfg, history[idx - 1], st))
            if not ok:
                violation, at = p.name, idx
                break
        if violation:
            break
    return ReplayResult(steps=len(items) - 1, protocol=proto.name,
                        config=dataclasses.asdict(cfg), mutant=meta.get("mutant"), violation=violation,
                        violated_at=at,
                        outside_constraint=[i for i, st in enumerate(history) if not system.constraint(st)])


def _short(cfg: Any) -> str:
    return "[" + ", ".join(f"{f.name}={getattr(cfg, f.name)}" for f in dataclasses.fields(cfg)) + "]"


def cli_main(argv: Sequence[str]) -> int:
    """``refmodel replay FILE.itf.json [--json]``."""
    import argparse

    p = argparse.ArgumentParser(prog="refmodel replay",
                                description="Check that every step of an ITF trace is a transition of the model "
                                            "its #meta names, and report the first property it violates.")
    p.add_argument("file", help="an ITF trace (*.itf.json) written by refmodel")
    p.add_argument("--invariant", action="append", metavar="NAME",
                   help="properties to evaluate along the trace (default: the one in #meta, else the defaults)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    import sys

    try:
        doc = load(args.file)
        props = None
        if args.invariant:
            import refmodel.invariants as inv

            props = inv.resolve(doc["#meta"]["protocol"], args.invariant)
        res = replay(doc, path=args.file, invariants=props)
    except ITFError as exc:
        print(f"refmodel: error: {exc}", file=sys.stderr)
        return 2
    except LookupError as exc:
        print(f"refmodel: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(dataclasses.asdict(res), indent=1))
    else:
        print(f"{args.file}: {res.steps} steps, every one a transition of {res.protocol}"
              + (f" (mutant {res.mutant})" if res.mutant else ""))
        if res.outside_constraint:
            print(f"note: states {res.outside_constraint} lie outside the configured bounds")
        print(f"violates {res.violation} at state {res.violated_at}" if res.violation
              else "no checked property is violated along the trace")
    return 1 if res.violation else 0
