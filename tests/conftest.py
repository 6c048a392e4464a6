"""Shared test fixtures.  Reference data lives in ../shared (beside the checkout); tests that need it skip
with a clear reason where it is absent."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Hashable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "reference"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # test helpers (tla_dump)


def need(path: Path) -> Path:
    """``path`` if it exists, else skip the test naming what is missing."""
    if not path.exists():
        pytest.skip(f"reference data {path} is absent (tests expect ../shared beside the checkout)")
    return path


@pytest.fixture(scope="session")
def tlc_counts() -> dict:
    return json.loads(need(REFERENCE / "raft-tla" / "tlc_counts.json").read_text())


def reachable(engine, symmetry: bool = False, max_depth: int | None = None) -> tuple[list[Hashable], int]:
    """A plain reference BFS (independent of checkers.bfs): reachable encoded states (up to ``max_depth``
    steps) and the generated count."""
    key = engine.canonical if symmetry else (lambda e: e)
    init = engine.initial()
    seen = {key(e) for e in init}
    states, frontier, generated, depth = list(init), list(init), len(init), 0
    while frontier and (max_depth is None or depth < max_depth):
        depth += 1
        nxt = []
        for e in frontier:
            for _, t in engine.successors(e):
                generated += 1
                if t is not None and key(t) not in seen:
                    seen.add(key(t))
                    nxt.append(t)
        states += nxt
        frontier = nxt
    return states, generated


@functools.lru_cache(maxsize=64)  # (results are small: figures and one trace)
def default_check(protocol: str, config: Hashable, mutant: str | None, symmetry: bool):
    """``check`` of a model with its protocol's default invariants, run once per session for each set of
    arguments: tests that need the same long run (a mutant's shortest counterexample: test_raft_mutants.py and
    test_reports.py) share it.  Callers must not change the result."""
    from refmodel import invariants
    from refmodel.checkers.bfs import check
    from refmodel.model import protocol as proto

    return check(proto(protocol).build(config, mutant).engine(), invariants.defaults(protocol), symmetry=symmetry)


def same_result(a, b) -> None:
    """Two check results agree on everything but timings: counts, levels, actions fired and first reached,
    vacuity, why a run stopped, and the counterexample (property, explanation, servers, steps, states)."""
    assert (a.verdict, a.distinct_states, a.generated_states, a.depth, a.levels) == \
        (b.verdict, b.distinct_states, b.generated_states, b.depth, b.levels)
    assert a.action_fired == b.action_fired
    assert a.action_new == b.action_new
    assert a.vacuous == b.vacuous
    assert a.incomplete_reason == b.incomplete_reason
    if a.violation is None:
        assert b.violation is None
    else:
        va, vb = a.violation, b.violation
        assert (va.invariant, va.why, va.servers) == (vb.invariant, vb.why, vb.servers)
        assert [str(s.action) for s in va.trace] == [str(s.action) for s in vb.trace]
        assert [s.state for s in va.trace] == [s.state for s in vb.trace]


# Hypothesis profiles: `ci` (the default) is fast and deterministic; `deep` runs long searches.  Choose with
# REFMODEL_HYPOTHESIS_PROFILE=deep (see README).
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", max_examples=40, stateful_step_count=40, deadline=None, derandomize=True,
                          database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("deep", max_examples=2000, stateful_step_count=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(__import__("os").environ.get("REFMODEL_HYPOTHESIS_PROFILE", "ci"))
