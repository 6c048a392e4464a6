"""What a protocol gives trace validation (``checkers/trace_validate.py``): the parsed events of an
implementation's recorded run, the mapping of each event to chains of spec steps, and the explanation when
no model state explains one.  A protocol's ``trace`` module (``model/etcdraft/trace.py``) implements
:class:`TraceMapping`; the engine drives any of them without knowing which."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from refmodel.model.core import Label

#: One spec step: its label and the state it leads to.
Step = tuple[Label, Hashable]
#: The explanation of one event from one state: the spec steps taken (possibly none, for a line the spec
#: consumes by stuttering) and the state after the last of them.
Chain = tuple[tuple[Step, ...], Hashable]


@dataclass(frozen=True)
class TraceEvent:
    """One recorded event: where it is (1-based line of the file), its name, and the protocol's parsed data."""

    line: int
    name: str
    data: Any
    raw: Any = None  # the record as read (for reports)


@dataclass(frozen=True)
class Mismatch:
    """Why no frontier state explains an event: the spec actions the model allowed there (those whose guard
    holds and whose parameters the event fixes), and the first observed field that disagrees, with the
    observed and the model's value."""

    allowed: tuple[str, ...] = ()
    field: str | None = None
    observed: Any = None
    model: Any = None
    note: str = ""

    def describe(self) -> str:
        parts = []
        if self.field is not None:
            parts.append(f"field {self.field}: observed {self.observed!r}, model {self.model!r}")
        if self.note:
            parts.append(self.note)
        parts.append("model allowed: " + (", ".join(self.allowed) if self.allowed else "no action"))
        return "; ".join(parts)


class TraceMapping(Protocol):
    """What a protocol provides to validate its implementation's traces."""

    def initial_states(self, events: Sequence[TraceEvent]) -> Iterable[Hashable]:
        """The model states the trace may start from (usually fixed by each server's bootstrap lines)."""

    def steps(self, state: Hashable, event: TraceEvent) -> Iterable[Chain]:
        """Every chain of spec steps from ``state`` that explains ``event`` (with the observed fields checked),
        each with the state it ends in.  No chain: ``state`` cannot explain the event."""

    def diagnose(self, frontier: Sequence[Hashable], event: TraceEvent) -> Mismatch:
        """Why no state of ``frontier`` explains ``event``."""
