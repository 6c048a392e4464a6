"""Replay of an ITF trace against the model its ``#meta`` names: the first state must be an initial state and
every later state the result of the named action, with the named parameters, from the state before
(otherwise the step is named); then the properties are evaluated along the trace."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from refmodel.checkers.itf import ITFError, enabled_summary, normalise, picks, state_itf


@dataclasses.dataclass
class ReplayResult:
    steps: int  # transitions replayed
    protocol: str
    config: dict[str, Any]
    mutant: str | None
    violation: str | None  # first property violated along the trace (from those checked)
    violated_at: int | None  # state index where it was violated
    outside_constraint: list[int]  # state indices outside the model's state constraint


def replay(doc: dict[str, Any], *, path: str = "trace", invariants: Sequence[Any] | None = None,
           mutant: str | None = None) -> ReplayResult:
    """Check that every step of an ITF trace is a transition of the model named in its ``#meta`` (with
    ``mutant``'s rules instead of the mutant ``#meta`` names, if given), and that every state whose ``#meta``
    lists the ``enabled`` action instances (as conformance vectors do) enables exactly those."""
    from refmodel.model import UnknownMutant, UnknownProtocol, protocol
    from refmodel.model.core import ConfigError

    meta = doc["#meta"]
    mutant = meta.get("mutant") if mutant is None else mutant
    try:
        proto = protocol(meta["protocol"])
        cfg = proto.config_class(**(meta.get("config") or {}))
        system = proto.build(cfg, mutant)
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
    _check_enabled(system, current, items[0], 0, path)
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
        _check_enabled(system, current, item, k, path)
    loop = doc.get("loop")
    if loop is not None:  # a lasso: the last state must lead back to state `loop` (or be it, stuttering)
        last = len(items) - 1
        if isinstance(loop, bool) or not isinstance(loop, int) or not 0 <= loop <= last:
            raise ITFError(f"{path}: 'loop' must be a state index from 0 to {last}, not {loop!r}")
        if loop != last and normalise(state_itf(system, history[-1])) != strip(items[loop]):
            raise ITFError(f"{path}: the last state is not state {loop}, where 'loop' says the cycle returns")
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
                        config=dataclasses.asdict(cfg), mutant=mutant, violation=violation,
                        violated_at=at,
                        outside_constraint=[i for i, st in enumerate(history) if not system.constraint(st)])


def _short(cfg: Any) -> str:
    return "[" + ", ".join(f"{f.name}={getattr(cfg, f.name)}" for f in dataclasses.fields(cfg)) + "]"


def _check_enabled(system: Any, state: Any, item: dict[str, Any], k: int, path: str) -> None:
    """If state ``k``'s ``#meta`` lists the enabled action instances, the model must enable exactly those."""
    meta = item.get("#meta")
    want = meta.get("enabled") if isinstance(meta, dict) else None
    if want is None:
        return
    if not isinstance(want, list) or not all(isinstance(x, str) for x in want):
        raise ITFError(f"{path}: state {k}: '#meta.enabled' must be a list of action instances (strings)")
    got = enabled_summary(lab for lab, _ in system.next_states(state))
    if sorted(want) != got:
        from collections import Counter

        extra = sorted((Counter(got) - Counter(want)).elements())
        missing = sorted((Counter(want) - Counter(got)).elements())
        what = "; ".join(([f"the model also enables {', '.join(extra[:3])}" + (" ..." if len(extra) > 3 else "")]
                          if extra else [])
                         + ([f"the model does not enable {', '.join(missing[:3])}"
                             + (" ..." if len(missing) > 3 else "")] if missing else []))
        raise ITFError(f"{path}: state {k}: the enabled actions differ from '#meta.enabled': {what}")
