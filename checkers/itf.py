"""The Informal Trace Format (ITF, Apalache ADR-015): how model values are encoded, compared and read.

Each state's variables (the model's :meth:`~model.core.TransitionSystem.itf_vars`) are encoded
with integers as ``{"#bigint": "..."}``, sets as ``{"#set": [...]}``, functions as ``{"#map": [[k, v], ...]}``,
records as JSON objects and sequences as arrays; server identities and other model values as strings
(``"s1"``, ``"v1"``, ``"Nil"``).  Every state carries the action that produced it in ``mbt::actionTaken``
(``"init"`` for the first) and that action's parameters in ``mbt::nondetPicks`` (each an option variant
``{"tag": "Some", "value": v}``, as Apalache and Quint write them).  ``#meta`` records the protocol, its
configuration and mutant, so that a trace saved today can be re-checked tomorrow.

Replaying (``checkers/replay.py``): the first state must be an initial state of the model and every later state the
result of the named action, with the named parameters, from the state before: otherwise the step number is
reported.  Sets and maps compare as sets, whatever their order in the file.
"""

from __future__ import annotations

import dataclasses
import json
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


# ------------------------------------------------------------------------------------------------ read


class ITFError(ValueError):
    """A trace file is malformed, or a step is not a transition of the model (the message names it)."""


def load(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        raise ITFError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ITFError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ITFError(f"{path}: not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("states"), list) or not doc["states"]:
        raise ITFError(f"{path}: not an ITF trace (needs a non-empty 'states' list)")
    meta = doc.get("#meta")
    if not isinstance(meta, dict) or "protocol" not in meta:
        raise ITFError(f"{path}: '#meta' must name the 'protocol' (and its 'config') to replay against")
    return doc


# ------------------------------------------------------------------------------------ enabled actions


def enabled_summary(labels: Any) -> list[str]:
    """The action instances enabled in a state, as conformance vectors list them in each state's
    ``#meta.enabled``: each label as text with its scalar parameters only (identities, values, cases; a
    message parameter is left out, the message being in the state), sorted, with repeats."""
    from refmodel.model.core import Label

    out = []
    for lab in labels:
        params = tuple((k, v) for k, v in lab.params if v is None or isinstance(v, (bool, int, str)))
        out.append(str(Label(lab.action, params)))
    return sorted(out)
