"""The fast Clique engine (interned components, memoised rules, packed-int states) agrees with the readable
model, step for step; its portable form (split, join, component, intern_component) rebuilds every state."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest
from conftest import ROOT, reachable

from refmodel.checkers.bfs import check
from refmodel.model.core import ExplicitEngine
from refmodel.model.poa import build
from refmodel.model.poa.config import PoaConfig
from refmodel.model.poa.fast import FastPoaEngine

CASES = [
    (PoaConfig(signers=2, candidates=1, max_height=3), None),
    (PoaConfig(signers=3, candidates=0, max_height=2), None),
    (PoaConfig(signers=2, candidates=1, max_height=3, loss=True, offline=True), None),
    (PoaConfig(signers=3, candidates=0, max_height=3, proposer_rule="round_robin", offline=True, max_offline=2),
     None),
    (PoaConfig(signers=3, candidates=1, max_height=2, threshold="two_thirds", fork_choice="eip3436"), None),
    (PoaConfig(signers=2, candidates=1, max_height=2, threshold="two_thirds", fork_choice="eip3436", votes="any"),
     None),
    (PoaConfig(signers=2, candidates=1, max_height=3, fork_choice="first_observed", loss=True), None),
    (PoaConfig(signers=2, candidates=1, intruders=2, max_height=2, loss=True), None),
    (PoaConfig(signers=2, candidates=1, intruders=1, max_height=2), "accept_unauthorised_signer"),
    (PoaConfig(signers=2, candidates=1, max_height=3, epoch=2), "no_vote_reset_at_epoch"),
]


def _id(x):
    return x if isinstance(x, str) or x is None else (
        f"{x.short_name()}_{x.fork_choice}_{x.threshold}_{x.proposer_rule}_{x.votes}"
        f"{'_loss' if x.loss else ''}{'_offline' if x.offline else ''}")


@pytest.mark.parametrize("cfg,mutant", CASES, ids=_id)
def test_successors_identical(cfg, mutant):
    """For every reachable state, both engines list the same (label, successor) pairs in the same order,
    constraint-violating successors included."""
    model = build(cfg, mutant)
    fast, slow = model.engine(), ExplicitEngine(model)
    assert isinstance(fast, FastPoaEngine)
    states, gen = reachable(fast)
    assert len(states) > 40
    for e in states:
        readable = fast.decode(e)
        assert fast.encode(readable) == e
        want = [(slow.label(a), t) for a, t in slow.successors(readable)]
        got = [(fast.label(a), None if t is None else fast.decode(t)) for a, t in fast.successors(e)]
        assert got == want
    slow_states, slow_gen = reachable(slow)
    assert (len(states), gen) == (len(slow_states), slow_gen)


def test_violating_successors_are_listed():
    """Successors beyond the height bound are listed as None by both engines (the cases above include
    them; this makes sure they do)."""
    model = build(CASES[0][0])
    fast = model.engine()
    states, _ = reachable(fast)
    assert any(t is None for e in states for _, t in fast.successors(e))


def test_symmetry_reduction_agrees():
    """Canonicalising per component counts the same orbits as permuting whole readable states."""
    model = build(PoaConfig(signers=2, candidates=1, intruders=2, max_height=2, loss=True))
    assert model.has_symmetry()
    fast_states, fast_gen = reachable(model.engine(), symmetry=True)
    slow_states, slow_gen = reachable(ExplicitEngine(model), symmetry=True)
    assert (len(fast_states), fast_gen) == (len(slow_states), slow_gen)
    assert len(fast_states) < len(reachable(model.engine())[0])


def test_invariants_memoised_by_projection_agree():
    """A check with the default invariants (memoised on the chains part) gives the explicit engine's figures."""
    from refmodel import invariants

    model = build(PoaConfig(signers=2, candidates=1, max_height=3, loss=True, offline=True))
    props = invariants.defaults("poa")
    a, b = check(model.engine(), props), check(ExplicitEngine(model), props)
    assert a.verdict == b.verdict == "pass"
    assert (a.distinct_states, a.generated_states, a.depth, a.levels) == (
        b.distinct_states, b.generated_states, b.depth, b.levels)


PORTABLE_CFG = PoaConfig(signers=2, candidates=1, intruders=1, max_height=2, loss=True, offline=True)


def _portable(fast: FastPoaEngine, states: list[int]) -> list[list[tuple[int, object]]]:
    return [[(k, fast.component(k, c)) for k, c in zip(fast.slot_kinds, fast.split(e))] for e in states]


def test_portable_form_round_trip():
    """split/join are inverse; the component values, pickled and interned into a fresh engine, rebuild the
    same readable states with the same successors."""
    fast = build(PORTABLE_CFG).engine()
    states, _ = reachable(fast)
    assert len(states) > 100
    assert len(fast.slot_kinds) == fast.n + 2 and set(fast.slot_kinds) == {0, 1, 2}
    for e in states:
        ids = fast.split(e)
        assert len(ids) == len(fast.slot_kinds) and fast.join(ids) == e
    fresh = build(PORTABLE_CFG).engine()
    for e, comps in zip(states[::-1], _portable(fast, states[::-1])):  # another order: other local ids
        comps = pickle.loads(pickle.dumps(comps))
        f = fresh.join([fresh.intern_component(k, v) for k, v in comps])
        assert fresh.decode(f) == fast.decode(e)
        assert ([(fresh.label(a), None if t is None else fresh.decode(t)) for a, t in fresh.successors(f)]
                == [(fast.label(a), None if t is None else fast.decode(t)) for a, t in fast.successors(e)])


_CHILD = """
import pickle, sys
from refmodel.model.poa import build
from refmodel.model.poa.config import PoaConfig
cfg, rows = pickle.load(sys.stdin.buffer)
fresh = build(cfg).engine()
out = []
for comps in rows:
    f = fresh.join([fresh.intern_component(k, v) for k, v in comps])
    s = fresh.decode(f)
    out.append(([c.blocks for c in s.chains], s.online, sorted(m.blocks for m in s.network),
                sorted(str(fresh.label(a)) for a, _ in fresh.successors(f))))
pickle.dump(out, sys.stdout.buffer)
"""


def test_portable_form_across_processes():
    """Component values rebuild the same states in an engine of another process (hashes differ there)."""
    fast = build(PORTABLE_CFG).engine()
    states, _ = reachable(fast)
    sample = states[::7]
    proc = subprocess.run([sys.executable, "-c", _CHILD], input=pickle.dumps((PORTABLE_CFG, _portable(fast, sample))),
                          capture_output=True, cwd=ROOT, check=True)
    got = pickle.loads(proc.stdout)
    for e, row in zip(sample, got):
        s = fast.decode(e)
        assert row == ([c.blocks for c in s.chains], s.online, sorted(m.blocks for m in s.network),
                       sorted(str(fast.label(a)) for a, _ in fast.successors(e)))
