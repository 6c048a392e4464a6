"""The liveness checker against a brute-force reference, on hand-made and Hypothesis-generated graphs.

The reference enumerates what a fair behaviour does for ever: the set S of states it visits infinitely often
and the set E of transitions it takes infinitely often (stuttering loops included), with (S, E) strongly
connected, S avoiding P (for ``<>P``) and reachable as the semantics require; the behaviour is fair when
every weak-fairness action is in E or disabled somewhere in S, and every strong-fairness action is in E or
disabled everywhere in S.  The checker (Tarjan's SCCs, Emerson-Lei for strong fairness) must agree on
every graph, with and without fairness, and its lasso must be a real behaviour that violates the property.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from toy import GraphSystem

from refmodel.checkers.bfs import check
from refmodel.checkers.liveness import Fairness, check_liveness
from refmodel.model.core import ExplicitEngine

ACTIONS = ("a", "b", "c")


def _run(edges, init, good, form="eventually", fairness=(), q=None):
    system = GraphSystem(edges, init, actions=ACTIONS)
    engine = ExplicitEngine(system)
    r = check(engine, transitions=True)
    prop = SimpleNamespace(name="toy.prop", form=form, doc="", p=lambda cfg, s: s in good,
                           q=(lambda cfg, s: s in q) if q is not None else None)
    fair = [Fairness.parse(f, system.action_names()) for f in fairness]
    return check_liveness(engine, r.transitions, prop, fair), system


def _reachable(edges, sources, allowed):
    seen = {s for s in sources if allowed(s)}
    todo = list(seen)
    while todo:
        v = todo.pop()
        for _, w in edges.get(v, []):
            if allowed(w) and w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def _brute(edges, init, good, form, fairness, q=None):
    """True if the property holds (no fair violating (S, E) exists)."""
    nodes = _reachable(edges, init, lambda v: True)
    if form == "eventually":
        bad, region = (lambda v: v not in good), _reachable(edges, init, lambda v: v not in good)
    elif form == "always_eventually":
        bad, region = (lambda v: v not in good), {v for v in nodes if v not in good}
    else:
        bad = (lambda v: v not in q)
        region = _reachable(edges, [v for v in nodes if v in good and v not in q], bad)
    trans = [(u, name, w) for u in region for name, w in edges.get(u, []) if w in region]
    trans += [(u, None, u) for u in region]  # stuttering
    enabled = {v: {name for name, _ in edges.get(v, [])} for v in region}
    for k in range(1, len(region) + 1):
        for S in itertools.combinations(sorted(region), k):
            S = set(S)
            inner = [t for t in trans if t[0] in S and t[2] in S]
            for m in range(1, len(inner) + 1):
                for E in itertools.combinations(inner, m):
                    if not _strongly_connected(S, E):
                        continue
                    taken = {t[1] for t in E}
                    fair = True
                    for f in fairness:
                        kind, act = f.split(":")
                        if act in taken:
                            continue
                        on = [v for v in S if act in enabled[v]]
                        if (kind == "wf" and len(on) == len(S)) or (kind == "sf" and on):
                            fair = False
                            break
                    if fair:
                        return False
    return True


def _strongly_connected(S, E):
    if any(t[0] not in S or t[2] not in S for t in E):
        return False
    covered = {t[0] for t in E} | {t[2] for t in E}
    if covered != S:
        return False
    start = next(iter(S))
    for direction in (0, 1):
        seen, todo = {start}, [start]
        while todo:
            v = todo.pop()
            for t in E:
                a, b = (t[0], t[2]) if direction == 0 else (t[2], t[0])
                if a == v and b not in seen:
                    seen.add(b)
                    todo.append(b)
        if seen != S:
            return False
    return True


graphs = st.integers(2, 4).flatmap(lambda n: st.tuples(
    st.just(n),
    st.dictionaries(st.integers(0, n - 1), st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, n - 1)),
                                                    max_size=2, unique=True), max_size=n),
    st.sets(st.integers(0, n - 1), max_size=n),
    st.sets(st.integers(0, n - 1), max_size=n),
    st.lists(st.sampled_from([f"{k}:{a}" for k in ("wf", "sf") for a in ACTIONS]), max_size=2, unique=True),
    st.sampled_from(["eventually", "always_eventually", "leads_to"]),
))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(graphs)
def test_agrees_with_brute_force_on_generated_graphs(g):
    n, edges, good, q, fairness, form = g
    res, _ = _run(edges, [0], good, form, fairness, q if form == "leads_to" else None)
    assert res.holds == _brute(edges, [0], good, form, fairness, q if form == "leads_to" else None), res
    if not res.holds:
        _assert_lasso(edges, res, good, form, q)


def _assert_lasso(edges, res, good, form, q):
    """The lasso is a behaviour of the graph, and its cycle avoids the goal."""
    states = [st.raw for st in res.prefix] + [st.raw for st in res.cycle]
    assert states[0] == 0
    for s, step in zip(states, (res.prefix + res.cycle)[1:]):
        assert (step.action.action, step.raw) in edges.get(s, [])
    loop = [res.prefix[-1].raw] + [st.raw for st in res.cycle]
    if res.cycle:
        assert res.cycle[-1].raw == res.prefix[-1].raw
    goal = good if form != "leads_to" else q
    assert all(s not in goal for s in loop)
    if form == "eventually":
        assert all(st.raw not in good for st in res.prefix)


def test_stuttering_violates_eventually_without_fairness():
    res, _ = _run({0: [("a", 1)]}, [0], {1})
    assert not res.holds and res.stutters and [s.raw for s in res.prefix] == [0]


def test_weak_fairness_forces_the_step():
    res, _ = _run({0: [("a", 1)]}, [0], {1}, fairness=["wf:a"])
    assert res.holds


def test_weak_fairness_is_not_enough_when_the_action_flickers_but_strong_is():
    # 0 -b-> 2 -b-> 0: a is enabled in 0, disabled in 2; a leads to 1 (the goal)
    edges = {0: [("a", 1), ("b", 2)], 2: [("b", 0)]}
    weak, _ = _run(edges, [0], {1}, fairness=["wf:a", "wf:b"])
    strong, _ = _run(edges, [0], {1}, fairness=["sf:a", "wf:b"])
    assert not weak.holds and [s.action.action for s in weak.cycle] == ["b", "b"]
    assert strong.holds


def test_leads_to_and_always_eventually():
    edges = {0: [("a", 1)], 1: [("b", 2)], 2: [("c", 0)]}
    assert _run(edges, [0], {1}, "leads_to", ["wf:a", "wf:b", "wf:c"], q={2})[0].holds
    assert _run(edges, [0], {1}, "always_eventually", ["wf:a", "wf:b", "wf:c"])[0].holds
    broken, _ = _run(edges, [0], {1}, "always_eventually", ["wf:a", "wf:b"])
    assert not broken.holds and broken.stutters and broken.prefix[-1].raw == 2


def test_per_instance_fairness_parses_and_bites():
    system = GraphSystem({0: [("a", 1)]}, [0])
    assert str(Fairness.parse("wf:a[*]", system.action_names())) == "wf:a[*]"
    with pytest.raises(ValueError, match="no action 'zz'"):
        Fairness.parse("wf:zz", system.action_names())
    with pytest.raises(ValueError, match="expected wf:Action"):
        Fairness.parse("fair:a", system.action_names())
    res, _ = _run({0: [("a", 1)]}, [0], {1}, fairness=["wf:a[*]"])
    assert res.holds


def test_a_wrong_fairness_rule_is_caught_by_the_reference():
    """The comparison bites: treating weak fairness as strong disagrees with the reference."""
    edges = {0: [("a", 1), ("b", 2)], 2: [("b", 0)]}
    res, _ = _run(edges, [0], {1}, fairness=["sf:a", "wf:b"])
    assert res.holds != _brute(edges, [0], {1}, "eventually", ["wf:a", "wf:b"])


def test_deadlock_is_found_with_a_shortest_path():
    system = GraphSystem({0: [("a", 1), ("b", 2)], 1: [("a", 3)], 2: [("c", 0)]}, [0])
    r = check(ExplicitEngine(system), deadlock=True)
    assert r.verdict == "deadlock" and [s.raw for s in r.violation.trace] == [0, 1, 3]
    r = check(ExplicitEngine(system))
    assert r.verdict == "pass" and r.terminal["deadlock"] == 1


def test_states_cut_by_bounds_are_not_deadlocks():
    system = GraphSystem({0: [("a", 1)], 1: [("a", 2)]}, [0], allowed={0, 1})
    r = check(ExplicitEngine(system), deadlock=True)
    assert r.verdict == "pass" and r.terminal == {"deadlock": 0, "cut_by_bounds": 1, "faults_only": 0}
