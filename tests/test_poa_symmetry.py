"""What is and is not symmetric in the Clique model (model.poa.actions' docstring): intruders are
interchangeable, so symmetry reduction by their permutations counts exactly the orbits of the reachable
states; signers are not, because the in-turn rule orders them."""

from __future__ import annotations

from conftest import reachable

from refmodel import invariants
from refmodel.checkers.bfs import check
from refmodel.model.poa import build
from refmodel.model.poa.config import PoaConfig


def test_intruder_symmetry_counts_orbits():
    system = build(PoaConfig(signers=2, candidates=0, intruders=2, max_height=2))
    engine = system.engine()
    group = system.symmetry_group()
    assert len(group) == 2  # identity and the swap of x1, x2
    states, _ = reachable(engine)
    orbits = {frozenset(system.permute(s, p) for p in group) for s in map(engine.decode, states)}
    assert len(orbits) < len(states)  # the reduction does something
    r = check(engine, invariants.defaults("poa"), symmetry=True)
    assert r.verdict == "pass" and r.distinct_states == len(orbits)
    # and the permuted image of every reachable state is reachable
    as_set = set(map(engine.decode, states))
    assert all(system.permute(s, p) in as_set for s in as_set for p in group)


def test_no_symmetry_without_two_intruders():
    assert build(PoaConfig(signers=3, candidates=1, intruders=1)).symmetry_group() == []


def test_signers_are_not_interchangeable():
    """Swapping two signers maps a reachable state to an unreachable one: s2 seals block 1 in turn
    (difficulty 2), but s1 cannot seal block 1 with difficulty 2."""
    system = build(PoaConfig(signers=2, candidates=0, max_height=1))
    engine = system.engine()
    states = set(map(engine.decode, reachable(engine)[0]))
    in_turn = [s for s in states if s.chains[1].blocks and s.chains[1].blocks[0].difficulty == 2]
    assert in_turn
    from refmodel.model.poa.state import Chain

    def swap(s):
        blocks = tuple(b._replace(sealer=system.ids[1 - b.sealer]) for b in s.chains[1].blocks)
        return (blocks, s.chains[0].blocks)

    seen = {(s.chains[0].blocks, s.chains[1].blocks) for s in states}
    assert any(swap(s) not in seen for s in in_turn)
    del Chain
