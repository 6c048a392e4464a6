"""Trace validation: does some behaviour of a model explain a recorded run of an implementation, line by line?

This is the search TLC performs on a trace spec (a ``Trace<spec>.tla`` with ``TraceView == <<vars, l>>``), done
directly: the *frontier* holds every model state consistent with the events read so far (the observed fields
fix part of the state; the rest, e.g. message contents or which of two equal messages was received, stays
hidden and may branch).  Each event advances every frontier state by the chains of spec steps that explain it;
the successors, deduplicated, are the next frontier.  The trace is valid when the frontier survives the last
event.  Parents are recorded per event, so the explained prefix can be rebuilt as a sequence of labelled spec
steps (for ITF output).

Work per event is proportional to the frontier times the cost of the mapping's ``steps``, so time grows
linearly with the trace when the frontier stays small (it is one state for most real traces).

This module knows no protocol: a protocol supplies a :class:`TraceMapping` (for etcd's raft,
``refmodel.model.etcdraft.trace``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from refmodel.model.core import Label
from refmodel.model.trace import Chain, Mismatch, Step, TraceEvent, TraceMapping  # noqa: F401 - re-exported

@dataclass
class TraceResult:
    """The outcome of validating a trace."""

    verdict: str  # "valid" or "invalid"
    events: int  # events read (after any --max-events cut)
    explained: int  # events explained (== events when valid)
    spec_steps: int  # spec steps along one explaining behaviour of the explained prefix
    frontier_peak: int  # the largest frontier (candidate states after an event)
    elapsed_s: float
    line: int | None = None  # on invalid: the 1-based line no behaviour explains
    event: Any = None  # on invalid: that line's event, as read
    event_name: str | None = None
    mismatch: Mismatch | None = None
    invariant: str | None = None  # on invalid: the invariant a reached state violates (None: no behaviour fits)
    check_s: float = 0.0  # time spent evaluating ``check`` (included in elapsed_s)
    #: the initial states plus every successor the mapping enumerated, repeats included (TLC's "states
    #: generated"), if the mapping counts them (an int attribute ``generated``)
    generated: int | None = None
    #: states kept (initial, each line's candidates and the intermediate states of multi-step lines): TLC's
    #: "distinct states" for a trace spec whose view includes the line number
    states: int = 0
    #: one explaining behaviour of the explained prefix: the initial state, then (label, state) per spec step,
    #: each with the 1-based line it explains
    behaviour: list[tuple[int | None, Label | None, Hashable]] = field(default_factory=list, repr=False)
    #: what the protocol's mapping says the spec does not compare (its ``trace_notes``), set by the caller; the
    #: verdict is the spec's either way
    warnings: list[str] = field(default_factory=list)

    @property
    def events_per_s(self) -> float:
        return self.explained / self.elapsed_s if self.elapsed_s > 0 else float("inf")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verdict": self.verdict, "events": self.events, "explained": self.explained,
                               "spec_steps": self.spec_steps, "frontier_peak": self.frontier_peak,
                               "elapsed_s": round(self.elapsed_s, 3), "events_per_s": round(self.events_per_s, 1)}
        out["states"] = self.states
        out["warnings"] = list(self.warnings)
        if self.generated is not None:
            out["generated"] = self.generated
        if self.check_s:
            out["invariants_s"] = round(self.check_s, 3)
        if self.verdict == "invalid":
            m = self.mismatch or Mismatch()
            if self.invariant is not None:
                out["invariant"] = self.invariant
            out.update(line=self.line, event=self.event, allowed=list(m.allowed), field=m.field,
                       observed=m.observed, model=m.model, note=m.note)
        return out


Progress = Callable[[dict[str, Any]], None]


def validate(mapping: TraceMapping, events: Sequence[TraceEvent], *, progress: Progress | None = None,
             progress_every: float = 0.5, check: Callable[[Hashable], str | None] | None = None) -> TraceResult:
    """Validate ``events`` against ``mapping``'s model: breadth-first over the hidden parts of the state,
    one event at a time.  ``progress`` (if given) is called at most every ``progress_every`` seconds with
    ``{"events": done, "total": n, "frontier": size, "events_per_s": rate, "elapsed_s": t}``.

    ``check`` (if given) is evaluated on every state the search keeps (the initial ones and each step's), as
    TLC evaluates a trace spec's INVARIANTS: the first state for which it returns a message stops the run,
    ``invalid`` at the line whose step reached it, with ``invariant`` set to the message."""
    start = time.perf_counter()
    # levels[k]: the frontier after event k, as (state, index of its parent in the level before, chain)
    frontier = _dedup([(s, -1, ()) for s in mapping.initial_states(events)])
    roots = frontier
    violated: str | None = None
    check_s = 0.0
    if check is not None:
        t0 = time.perf_counter()
        violated = next((v for s, _, _ in frontier if (v := check(s))), None)
        check_s += time.perf_counter() - t0
    levels: list[list[tuple[Hashable, int, tuple[Step, ...]]]] = []
    peak = len(frontier)
    next_report = start + progress_every
    failed_at: int | None = None
    for k, ev in enumerate(events):
        if violated is not None:
            break
        nxt = [(t, pi, tuple(chain)) for pi, (s, _, _) in enumerate(frontier) for chain, t in mapping.steps(s, ev)]
        if not nxt:
            failed_at = k
            break
        if len(nxt) > 1:
            nxt = _dedup(nxt)
        levels.append(nxt)
        frontier = nxt
        if check is not None:
            t0 = time.perf_counter()
            for t, pi, chain in nxt:
                violated = next((v for _, u in chain if (v := check(u))), None)
                if violated is not None:
                    failed_at = k
                    break
            check_s += time.perf_counter() - t0
        peak = max(peak, len(frontier))
        if progress is not None:
            now = time.perf_counter()
            if now >= next_report:
                next_report = now + progress_every
                progress({"events": k + 1, "total": len(events), "frontier": len(frontier),
                          "events_per_s": round((k + 1) / (now - start), 1), "elapsed_s": round(now - start, 3)})
    if violated is not None and failed_at is None:  # an initial state violates it: no line explained
        levels, frontier, failed_at = [], roots, 0
    explained = len(events) if failed_at is None else failed_at
    if violated is not None and levels:
        # the violating step's line counts as explained: keep its level to rebuild the behaviour up to it
        levels = levels[:failed_at + 1]
        frontier = levels[-1]
        explained = failed_at + 1
    behaviour: list[tuple[int | None, Label | None, Hashable]] = []
    if frontier:
        # rebuild one behaviour backwards from the first state of the last explained frontier
        chains: list[tuple[int, tuple[Step, ...]]] = []
        idx = 0
        for k in range(explained - 1, -1, -1):
            _, parent, chain = levels[k][idx]
            chains.append((events[k].line, chain))
            idx = parent
        behaviour.append((None, None, roots[idx][0]))
        for line, chain in reversed(chains):
            for lab, t in chain:
                behaviour.append((line, lab, t))
    spec_steps = max(len(behaviour) - 1, 0)
    # states kept: the initial ones, then per line each candidate with the intermediate states of its chain (a
    # line taking no step still makes a new state for TLC, whose view includes the line number)
    states = len(roots) + sum(max(len(chain), 1) for level in levels[:explained] for _, _, chain in level)
    counted = getattr(mapping, "generated", None)
    generated = len(roots) + counted if isinstance(counted, int) else None
    elapsed = time.perf_counter() - start
    if progress is not None:
        progress({"events": explained, "total": len(events), "frontier": len(frontier),
                  "events_per_s": round(explained / elapsed, 1) if elapsed else 0.0, "elapsed_s": round(elapsed, 3)})
    if failed_at is None:
        return TraceResult("valid", len(events), explained, spec_steps, peak, elapsed, behaviour=behaviour,
                           check_s=check_s, generated=generated, states=states)
    ev = events[failed_at] if events else TraceEvent(0, "", None)
    if violated is not None:
        return TraceResult("invalid", len(events), explained, spec_steps, peak, elapsed, line=ev.line or None,
                           event=ev.raw, event_name=ev.name or None, invariant=violated, behaviour=behaviour,
                           mismatch=Mismatch(note=f"the spec state reached violates {violated}"), check_s=check_s,
                           generated=generated, states=states)
    mismatch = mapping.diagnose([s for s, _, _ in frontier], ev)
    elapsed = time.perf_counter() - start
    return TraceResult("invalid", len(events), explained, spec_steps, peak, elapsed, line=ev.line,
                       event=ev.raw, event_name=ev.name, mismatch=mismatch, behaviour=behaviour, check_s=check_s,
                       generated=generated, states=states)


def _dedup(items: list[tuple[Hashable, int, tuple[Step, ...]]]) -> list[tuple[Hashable, int, tuple[Step, ...]]]:
    """The items with distinct states, first occurrence kept.  Few items (the usual case) are compared with
    ``==`` (cheap when states share their parts), many through a dict."""
    if len(items) <= 1:
        return items
    out: list[tuple[Hashable, int, tuple[Step, ...]]] = []
    if len(items) <= 8:
        for it in items:
            if not any(it[0] == o[0] for o in out):
                out.append(it)
        return out
    seen: dict[Hashable, None] = {}
    for it in items:
        if it[0] not in seen:
            seen[it[0]] = None
            out.append(it)
    return out
