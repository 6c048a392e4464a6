"""BFS and bounded model checking (Z3) on the same abstract models agree: on every configuration below, BMC
finds a violation at depth d exactly when BFS's shortest counterexample has length d (and neither finds one
when the model is correct), for the correct models and every mutant that applies to the abstractions.

Both run under the same bounds: BFS drops states outside the explicit model's constraint (terms <= T,
heights <= H), and BMC asserts that constraint on every state of the path.  A passing BFS explores every
reachable state, so BMC to BFS's depth (the longest shortest path) must find nothing either.  Each BMC
trace is also replayed in the explicit model, step by step, and must end in the violation it reports.
"""

from __future__ import annotations

import pytest

from refmodel.checkers.bfs import check
from refmodel.checkers.smt import bmc
from refmodel.model.poa.symbolic import CliqueSymbolic
from refmodel.model.raft.symbolic import RaftSymbolic
from refmodel.invariants import Property
from refmodel.invariants import poa_smt, raft_smt
from refmodel.model.poa import abstract as AC
from refmodel.model.raft import abstract as AR


def safety_props(enc_module) -> list[Property]:
    return [Property(name=n, protocol="abstract", fn=enc_module.ENCODINGS[n].py, kind=enc_module.ENCODINGS[n].kind,
                     reads=None, default=True, doc="") for n in enc_module.SAFETY]


def cross_check(explicit, symbolic, enc_module) -> tuple[int, str | None]:
    """Run both; assert they agree; return (depth, BFS's violated invariant or None)."""
    r = check(explicit.engine(), safety_props(enc_module))
    assert r.verdict in ("pass", "violation")
    depth = r.violation.length if r.violation else r.depth
    b = bmc(symbolic, enc_module.SAFETY, depth, constrained=True)
    if r.violation is None:
        assert b.verdict == "proved" and b.depth == depth
        return depth, None
    assert b.verdict == "counterexample" and b.depth == depth
    c = b.counterexample
    # the BMC trace is a run of the explicit model that ends in the violation it names
    cfg = explicit.config
    assert c.trace[0].raw in explicit.init_states()
    for prev, step in zip(c.trace, c.trace[1:]):
        assert (step.action, step.raw) in set(explicit.next_states(prev.raw))
        assert explicit.constraint(step.raw)
    last, before = c.trace[-1].raw, c.trace[-2].raw if len(c.trace) > 1 else None
    for n in c.violated:
        e = enc_module.ENCODINGS[n]
        assert not (e.py(cfg, before, last) if e.kind == "transition" else e.py(cfg, last))
    return depth, r.violation.invariant


RAFT_CASES = [
    # (mutant, servers, max_term, max_log, expected depth, expected invariant)
    (None, 2, 2, 1, 7, None),
    (None, 3, 2, 1, 8, None),
    (None, 2, 3, 2, 13, None),
    ("vote_twice", 2, 2, 0, 4, "election_safety"),
    ("minority_quorum", 2, 2, 0, 4, "election_safety"),
    ("no_step_down_on_higher_term", 2, 3, 0, 4, "election_safety"),
    ("no_log_up_to_date_check", 3, 3, 1, 7, "leader_completeness"),
    ("no_log_matching_check", 3, 3, 1, 9, "state_machine_safety"),
    ("no_log_matching_check", 3, 4, 2, 8, "log_matching"),
]


@pytest.mark.parametrize("mutant,n,t,L,depth,inv", RAFT_CASES)
def test_raft_bfs_and_bmc_agree(mutant, n, t, L, depth, inv):
    cfg = AR.AbstractRaftConfig(servers=n, max_term=t, max_log=L, values=1)
    assert cross_check(AR.build(cfg, mutant), RaftSymbolic(cfg, mutant, values=1), raft_smt) == (depth, inv)


def test_smaller_configs_do_not_show_the_raft_mutants():
    """The configurations above are the smallest (servers first, then terms, then log) for their mutant."""
    for mutant, n, t, L in [("no_step_down_on_higher_term", 2, 2, 0), ("no_log_up_to_date_check", 2, 3, 1),
                            ("no_log_up_to_date_check", 3, 2, 1), ("commit_old_term_by_count", 3, 4, 1),
                            ("no_log_matching_check", 2, 4, 2), ("no_log_matching_check", 3, 3, 0)]:
        cfg = AR.AbstractRaftConfig(servers=n, max_term=t, max_log=L, values=1)
        assert check(AR.build(cfg, mutant).engine(), safety_props(raft_smt)).verdict == "pass", mutant


@pytest.mark.slow
def test_raft_figure8_mutant_bfs_and_bmc_agree():
    """commit_old_term_by_count (the Raft paper's Figure 8) needs 3 servers and 5 terms: 14 steps.  BFS
    takes 3 s; BMC 4 to 7 minutes on a 2-core machine (its UNSAT depths 11-13 dominate), hence slow."""
    cfg = AR.AbstractRaftConfig(servers=3, max_term=5, max_log=1, values=1)
    mutant = "commit_old_term_by_count"
    assert cross_check(AR.build(cfg, mutant), RaftSymbolic(cfg, mutant, values=1), raft_smt) == (
        14, "leader_completeness")


POA_CASES = [
    # (mutant, config, expected depth, expected invariant)
    (None, dict(signers=2, candidates=1, epoch=2, max_height=5), 5, None),
    (None, dict(signers=3, candidates=1, epoch=3, max_height=4), 4, None),
    (None, dict(signers=2, candidates=1, epoch=3, max_height=5, threshold="two_thirds"), 5, None),
    ("no_recency_check", dict(signers=2, candidates=1, epoch=3, max_height=4), 2, "signer_recency"),
    ("accept_unauthorised_signer", dict(signers=2, candidates=1, epoch=3, max_height=4), 1,
     "only_authorised_proposers"),
    ("threshold_half", dict(signers=2, candidates=1, epoch=3, max_height=4), 1, "signer_changes_by_quorum"),
    ("no_vote_reset_at_epoch", dict(signers=2, candidates=1, epoch=3, max_height=5), 4,
     "signer_changes_by_quorum"),
    ("recents_reset_at_checkpoint", dict(signers=2, candidates=1, epoch=2, max_height=4), 3, "signer_recency"),
    ("keep_votes_of_dropped_signer", dict(signers=3, candidates=1, epoch=30, max_height=5), 4,
     "signer_changes_by_quorum"),
]


@pytest.mark.parametrize("mutant,kw,depth,inv", POA_CASES)
def test_poa_bfs_and_bmc_agree(mutant, kw, depth, inv):
    cfg = AC.AbstractCliqueConfig(**kw)
    assert cross_check(AC.build(cfg, mutant), CliqueSymbolic(cfg, mutant), poa_smt) == (depth, inv)


def test_every_mutant_is_cross_checked():
    assert {m for m, *_ in RAFT_CASES if m} | {"commit_old_term_by_count"} == set(AR.MUTANTS)
    assert {m for m, *_ in POA_CASES if m} == set(AC.MUTANTS)
