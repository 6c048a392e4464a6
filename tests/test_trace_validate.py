"""The generic trace-validation search (checkers/trace_validate.py) on a toy model with a hidden variable."""

from __future__ import annotations

from typing import NamedTuple

from refmodel.checkers.trace_validate import Mismatch, TraceEvent, validate
from refmodel.model.core import Label


class Toy(NamedTuple):
    x: int  # observed by "at" events
    coin: int  # hidden until a "coin" event


class ToyMapping:
    """Events: ``("at", v)``: one or two ``Inc`` steps reach x = v, each step choosing the hidden coin freely;
    ``("coin", c)``: no step, only states whose coin is c explain it; ``("noop", _)``: no step."""

    def initial_states(self, events):
        return [Toy(0, 0)]

    def steps(self, s, ev):
        kind, v = ev.data
        if kind == "coin":
            if s.coin == v:
                yield (), s
            return
        if kind == "noop":
            yield (), s
            return
        for n in (1, 2):  # a chain of n Inc steps
            if s.x + n != v:
                continue
            chains = [((), s)]
            for _ in range(n):
                chains = [(ch + ((Label("Inc", (("coin", c),)), Toy(t.x + 1, c)),), Toy(t.x + 1, c))
                          for ch, t in chains for c in (0, 1)]
            yield from chains

    def diagnose(self, frontier, ev):
        kind, v = ev.data
        if kind == "coin":
            return Mismatch(allowed=(), field="coin", observed=v, model=sorted({s.coin for s in frontier}))
        return Mismatch(allowed=("Inc",), field="x", observed=v, model=sorted({s.x for s in frontier}))


def events(*items):
    return [TraceEvent(line=k, name=kind, data=(kind, v)) for k, (kind, v) in enumerate(items, 1)]


def test_valid_trace_keeps_every_hidden_candidate_and_rebuilds_a_behaviour():
    evs = events(("at", 1), ("at", 3), ("noop", None), ("coin", 1), ("at", 4))
    res = validate(ToyMapping(), evs)
    assert res.verdict == "valid"
    assert (res.events, res.explained) == (5, 5)
    assert res.frontier_peak == 2  # coin 0 or 1: deduplicated although two chains reach each
    # the behaviour: init, Inc (line 1), Inc Inc (line 2), Inc (line 5); lines 3 and 4 take no step
    assert [(line, lab.action if lab else None) for line, lab, _ in res.behaviour] == [
        (None, None), (1, "Inc"), (2, "Inc"), (2, "Inc"), (5, "Inc")]
    assert res.spec_steps == 4
    # states kept: init + line 1 (2 candidates) + line 2 (2 chains of 2 steps) + line 3 (2, no step) + line 4
    # (1 left, no step) + line 5 (2 candidates: the new coin)
    assert res.states == 1 + 2 + 4 + 2 + 1 + 2
    # the coin event at line 4 kept only coin 1: the state before line 5's step has coin 1
    assert res.behaviour[3][2] == Toy(3, 1)
    assert [s for _, _, s in res.behaviour][0] == Toy(0, 0)


def test_invalid_trace_reports_the_line_and_the_diagnosis():
    evs = events(("at", 1), ("coin", 0), ("at", 4), ("at", 5))
    res = validate(ToyMapping(), evs)
    assert res.verdict == "invalid"
    assert res.line == 3 and res.explained == 2 and res.event_name == "at"
    assert res.mismatch.field == "x" and res.mismatch.observed == 4 and res.mismatch.model == [1]
    assert res.to_json()["line"] == 3 and res.to_json()["verdict"] == "invalid"
    # the explained prefix is still a behaviour: init and line 1's step
    assert [s for _, _, s in res.behaviour] == [Toy(0, 0), Toy(1, 0)]


def test_hidden_variable_pruned_later():
    res = validate(ToyMapping(), events(("at", 2), ("coin", 1), ("coin", 0)))
    assert res.verdict == "invalid" and res.line == 3 and res.mismatch.model == [1]


def test_progress_reports_and_long_traces():
    seen = []
    n = 3000
    res = validate(ToyMapping(), events(*[("at", k) for k in range(1, n + 1)]), progress=seen.append,
                   progress_every=0.0)
    assert res.verdict == "valid" and res.spec_steps == n and res.frontier_peak == 2
    assert seen and seen[-1]["events"] == n and seen[-1]["total"] == n
    assert all(p["frontier"] in (1, 2) for p in seen)


def test_empty_trace_is_valid():
    res = validate(ToyMapping(), [])
    assert res.verdict == "valid" and res.explained == 0 and res.spec_steps == 0


def test_check_stops_at_the_step_that_reaches_a_bad_state():
    evs = events(("at", 1), ("at", 3), ("at", 4))
    res = validate(ToyMapping(), evs, check=lambda s: "x<3" if s.x >= 3 else None)
    assert res.verdict == "invalid" and res.invariant == "x<3" and res.line == 2 and res.explained == 2
    assert res.behaviour[-1][2].x == 3  # the behaviour ends in the violating state
    assert res.to_json()["invariant"] == "x<3"
    ok = validate(ToyMapping(), evs, check=lambda s: None)
    assert ok.verdict == "valid" and ok.invariant is None


def test_check_on_the_initial_state():
    res = validate(ToyMapping(), events(("at", 1)), check=lambda s: "bad" if s.x == 0 else None)
    assert res.verdict == "invalid" and res.invariant == "bad" and res.explained == 0 and res.line == 1
