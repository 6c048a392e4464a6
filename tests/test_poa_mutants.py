"""Every Clique mutant is caught: by a BFS invariant on the smallest configuration that shows it (the shortest
counterexample's exact length, from the mutant's spec in specs/), and by go-ethereum's voting vectors
(test_poa_replay.py says which scenarios); the correct rules pass the same configurations.

========================================= ================================ ====== ==========================
mutant                                    invariant (BFS)                  length vectors that mismatch
========================================= ================================ ====== ==========================
no_recency_check (s2 c1 h2)               poa.signer_recency               2      21, 22, 23
accept_unauthorised_signer (s2 c1 h1)     poa.only_authorised_proposers    1      20
threshold_half (s2 c1 h1)                 poa.signer_changes_by_quorum     1      14 of the 24
no_vote_reset_at_epoch (s3 c1 h3 e2)      poa.signer_changes_by_quorum     7      19
recents_reset_at_checkpoint (s2 c1 h3 e2) poa.signer_recency               5      22, 23
keep_votes_of_dropped_signer (s3 h4 any)  poa.signer_changes_by_quorum     10     13, 14
========================================= ================================ ====== ==========================
"""

from __future__ import annotations

import pytest
from conftest import ROOT

from refmodel import invariants
from refmodel.checkers.bfs import Limits, check
from refmodel.checkers.spec import discover, load_spec
from refmodel.model.poa import build
from refmodel.model.poa.mutants import MUTANTS

SPECS = {s.mutant: s for s in map(load_spec, discover([str(ROOT / "specs")])) if s.protocol == "poa" and s.mutant}

EXPECTED = {
    "no_recency_check": ("poa.signer_recency", 2),
    "accept_unauthorised_signer": ("poa.only_authorised_proposers", 1),
    "threshold_half": ("poa.signer_changes_by_quorum", 1),
    "no_vote_reset_at_epoch": ("poa.signer_changes_by_quorum", 7),
    "recents_reset_at_checkpoint": ("poa.signer_recency", 5),
    "keep_votes_of_dropped_signer": ("poa.signer_changes_by_quorum", 10),
}


def test_every_mutant_has_a_spec_and_an_expectation():
    assert set(SPECS) == set(MUTANTS) == set(EXPECTED)
    for name, spec in SPECS.items():
        assert (spec.expect["invariant"], spec.expect["length"]) == EXPECTED[name]


@pytest.mark.parametrize("mutant", sorted(EXPECTED))
def test_bfs_catches_mutant(mutant):
    spec = SPECS[mutant]
    props = invariants.defaults("poa")
    r = check(build(spec.config, mutant).engine(), props, symmetry=spec.symmetry)
    inv, length = EXPECTED[mutant]
    assert r.verdict == "violation"
    assert r.violation.invariant == inv and r.violation.length == length
    assert r.violation.why and r.violation.servers  # explained, naming the nodes
    # the correct rules explore the same configuration at least as far without a violation: it is the bug's
    # (keep_votes_of_dropped_signer's configuration, with every vote allowed, is too big to finish in CI)
    good = check(build(spec.config).engine(), props, symmetry=spec.symmetry,
                 limits=Limits(max_states=max(r.distinct_states, 10_000)))
    assert good.violation is None and good.distinct_states >= r.distinct_states


def test_judgement_memo_tells_a_mutants_chain_from_the_correct_one():
    """The invariants judge each chain once, keyed by its blocks: a mutant's node derives other snapshots from
    the same blocks, so a chain judged fine for the correct model must be judged again for a mutant."""
    spec = SPECS["threshold_half"]
    props = invariants.defaults("poa")
    assert check(build(spec.config).engine(), props).verdict == "pass"
    assert check(build(spec.config, "threshold_half").engine(), props).verdict == "violation"


def test_recents_reset_counterexample_is_the_rinkeby_split():
    """go-ethereum issue 17593: after a checkpoint the snapshot forgot who sealed recently, so a signer sealed
    twice in a row."""
    spec = SPECS["recents_reset_at_checkpoint"]
    v = check(build(spec.config, "recents_reset_at_checkpoint").engine(), invariants.defaults("poa")).violation
    seals = [st.action for st in v.trace[1:] if st.action.action == "Seal"]
    assert [str(a.param("i")) for a in seals[-2:]] == ["s2", "s2"]
    last = v.trace[-1].raw.chains[1]
    assert [b.number for b in last.blocks][-2:] == [2, 3] and last.blocks[1].checkpoint is not None
