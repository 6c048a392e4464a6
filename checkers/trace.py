"""Traces against a model: drive a scenario step by step, or replay a recorded run and check each step.

:class:`Scenario` walks a readable :class:`~model.core.TransitionSystem` one named action at a time (the
successor whose label matches the action name and the given parameters), which is how directed
counterexamples too deep for BFS are written down and re-checked in tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from refmodel.model.core import Label, TransitionSystem


class ReplayError(ValueError):
    """A step of a trace is not a transition of the model; the message names the step."""


def label_matches(lab: Label, action: str, params: dict[str, Any]) -> bool:
    """Whether ``lab`` is ``action`` with (at least) the given parameters; a parameter value may be given
    as the object or as its printed form (``"s1"``, ``"v1"``); ``m=`` may name just the message type."""
    if lab.action != action:
        return False
    have = dict(lab.params)
    for k, want in params.items():
        if k not in have:
            return False
        got = have[k]
        if got == want or str(got) == str(want):
            continue
        if k == "m" and hasattr(got, "msg") and type(got.msg).__name__ == want:
            continue
        return False
    return True


@dataclass
class Scenario:
    """A run built one action at a time: ``sc.do("Timeout", i="s1")``."""

    system: TransitionSystem
    states: list[Any] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.states:
            self.states = [next(iter(self.system.init_states()))]

    @property
    def state(self) -> Any:
        return self.states[-1]

    def enabled(self) -> list[Label]:
        return [lab for lab, _ in self.system.next_states(self.state)]

    def do(self, action: str, **params: Any) -> Any:
        """Take the one enabled step matching ``action`` and ``params``; return the new state."""
        matches = [(lab, t) for lab, t in self.system.next_states(self.state) if label_matches(lab, action, params)]
        step = len(self.labels) + 1
        if not matches:
            enabled = ", ".join(sorted({str(lab.action) for lab in self.enabled()}))
            raise ReplayError(f"step {step}: {action}({params}) is not enabled (enabled: {enabled})")
        if len({t for _, t in matches}) > 1:
            raise ReplayError(f"step {step}: {action}({params}) is ambiguous: "
                              + "; ".join(str(lab) for lab, _ in matches))
        lab, t = matches[0]
        self.labels.append(lab)
        self.states.append(t)
        return t

    def run(self, steps: Iterable[tuple[str, dict[str, Any]]]) -> Scenario:
        for action, params in steps:
            self.do(action, **params)
        return self

    def __len__(self) -> int:
        return len(self.labels)
