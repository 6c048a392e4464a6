"""Hypothesis stateful testing of Clique: random runs of 5 signers and 2 candidates (heights up to 30, with an
intruder, lost announcements and offline nodes), every default invariant checked after every step; and
Hypothesis hunting the Clique mutants, with a bound on the shrunk run.

Each PoA mutant is also caught by BFS and by go-ethereum's vectors (test_poa_mutants.py); the table in
tests/test_simulate.py says which tool finds which mutant in CI."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from stateful import Runs, hunt, machine_for

from refmodel import invariants
from refmodel.model.poa import build
from refmodel.model.poa.config import PoaConfig

DEFAULT = PoaConfig(signers=5, candidates=2, intruders=1, max_height=30, epoch=10, loss=True, offline=True)
PROPS = invariants.defaults("poa")


def test_poa_five_signers_keeps_every_invariant():
    runs = Runs()
    # a chain grows by one block per Seal, so runs are longer than the profile's default to get high
    steps = max(120, settings().stateful_step_count)
    run_state_machine_as_test(machine_for(build(DEFAULT), PROPS, runs),
                              settings=settings(settings(), stateful_step_count=steps))
    assert runs.runs >= settings().max_examples
    assert runs.max_depth >= 100


# mutant -> (config, invariant expected to break, bound on the shrunk run's length; BFS's shortest in brackets)
HUNTS = {
    "no_recency_check": (PoaConfig(signers=5, candidates=2), "poa.signer_recency", 4),  # [2 on s2 c1]
    "accept_unauthorised_signer": (PoaConfig(signers=5, candidates=2), "poa.only_authorised_proposers", 3),  # [1]
    "threshold_half": (PoaConfig(signers=4, candidates=2, epoch=10), "poa.signer_changes_by_quorum", 8),  # [1 on s2]
    "no_vote_reset_at_epoch": (PoaConfig(signers=3, candidates=1, max_height=6, epoch=2),
                               "poa.signer_changes_by_quorum", 12),  # [7]
    "recents_reset_at_checkpoint": (PoaConfig(signers=3, candidates=1, max_height=6, epoch=2),
                                    "poa.signer_recency", 10),  # [5 on s2 c1]
    # (drop votes needed; found in 21 steps, about 20 s on a slow 2-core machine)
    "keep_votes_of_dropped_signer": (PoaConfig(signers=3, candidates=0, max_height=4, epoch=10, votes="any"),
                                     "poa.signer_changes_by_quorum", 24),  # [10]
}


@pytest.mark.parametrize("mutant", sorted(HUNTS))
def test_hypothesis_finds_mutant(mutant):
    cfg, inv, bound = HUNTS[mutant]
    hunt(build(cfg, mutant), PROPS, inv, bound)
