"""The Clique model: the rule functions one by one, fork choice, the actions, the faults, the bounds, and the
invariants on the correct model (each one also fails on a mutant: test_poa_mutants.py)."""

from __future__ import annotations

import json

import pytest
from conftest import reachable

from refmodel import invariants
from refmodel.checkers.bfs import check
from refmodel.checkers.cli import main
from refmodel.model.core import ConfigError
from refmodel.model.poa import build
from refmodel.model.poa import rules as R
from refmodel.model.poa.config import PoaConfig
from refmodel.model.poa.rules import Block, Snapshot, Vote

DEFAULTS = invariants.defaults("poa")


def snap(signers="ABC", recents=(), votes=(), number=0) -> Snapshot:
    return Snapshot(number, tuple(sorted(signers)), tuple(recents), tuple(sorted(votes)))


def block(number, sealer, vote=None, auth=True, cp=None) -> Block:
    return Block(number, sealer, None if vote is None else Vote(vote, auth), R.DIFF_IN_TURN, cp)


def apply(s, b, epoch=30000, threshold="majority"):
    return R.apply_block(R.DEFAULT_RULES, epoch, threshold, s, b, verify_difficulty=False)


# ----------------------------------------------------------------------------------------------- rules


def test_signer_limit_and_recency_window():
    assert [R.signer_limit(n) for n in range(1, 7)] == [1, 2, 2, 3, 3, 4]
    s = snap()
    s1, err = apply(s, block(1, "A"))
    assert err is None and s1.recents == ((1, "A"),)
    assert apply(s1, block(2, "A")) == (None, R.ERR_RECENTLY_SIGNED)  # within L - 1 = 1 block
    s2, _ = apply(s1, block(2, "B"))
    s3, err = apply(s2, block(3, "A"))  # block 1's entry leaves the window at block 3
    assert err is None and s3.recents == ((2, "B"), (3, "A"))


def test_unauthorised_and_checkpoint_errors():
    assert apply(snap(), block(1, "D")) == (None, R.ERR_UNAUTHORIZED)
    assert apply(snap(number=2), block(3, "A", cp=("A", "B", "C")), epoch=3)[1] is None
    assert apply(snap(number=2), block(3, "A", cp=("A", "B")), epoch=3) == (None, R.ERR_MISMATCHING_CHECKPOINT)
    assert apply(snap(number=2), block(3, "A"), epoch=3) == (None, R.ERR_MISMATCHING_CHECKPOINT)
    assert apply(snap(number=2), block(3, "A", vote="D", cp=("A", "B", "C")), epoch=3) == \
        (None, R.ERR_CHECKPOINT_BENEFICIARY)
    assert apply(snap(), block(1, "A", cp=("A", "B", "C")), epoch=3) == (None, R.ERR_EXTRA_SIGNERS)
    assert apply(snap(), block(2, "A")) == (None, R.ERR_INVALID_VOTING_CHAIN)


def test_votes_cast_withdrawn_and_executed_on_touch():
    s, _ = apply(snap("AB"), block(1, "A", vote="C"))
    assert s.votes == (R.Ballot("A", "C", True),) and s.signers == ("A", "B")
    s, _ = apply(s, block(2, "B", vote="C"))  # 2 of 2 > 2/2: C is added, its votes deleted
    assert s.signers == ("A", "B", "C") and s.votes == ()
    # invalid votes are ignored: adding a signer, dropping a non-signer
    t, _ = apply(snap("AB"), block(1, "A", vote="B"))
    assert t.votes == ()
    # a sealer's later vote on the same target replaces its earlier one
    u, _ = apply(snap("ABC"), block(1, "A", vote="D"))
    u, _ = apply(u, block(2, "B", vote="C", auth=False))
    u, _ = apply(u, block(3, "A", vote="D", auth=True))
    assert u.votes == (R.Ballot("A", "D", True), R.Ballot("B", "C", False))


def test_drop_evicts_a_recent_and_discards_the_dropped_signers_votes():
    # 4 signers, limit 3; A and B vote to drop D, C votes for E; D drops at the 3rd vote
    s = snap("ABCD")
    for n, (sealer, target, auth) in enumerate([("D", "E", True), ("A", "D", False), ("B", "D", False)], 1):
        s, err = apply(s, block(n, sealer, vote=target, auth=auth))
        assert err is None
    assert s.signers == ("A", "B", "C", "D")
    s, err = apply(s, block(4, "C", vote="D", auth=False))  # 3 of 4 > 2: D dropped
    assert err is None and s.signers == ("A", "B", "C")
    assert all(b.signer != "D" for b in s.votes)  # D's vote for E went with it
    assert s.recents == ((3, "B"), (4, "C"))  # limit 2 now: block 2's entry was evicted as well


def test_checkpoint_clears_votes_but_not_recents():
    s, _ = apply(snap("ABC", number=0), block(1, "A", vote="D"), epoch=2)
    s, err = apply(s, block(2, "B", cp=("A", "B", "C")), epoch=2)
    assert err is None and s.votes == () and s.recents == ((1, "A"), (2, "B"))


def test_thresholds():
    assert [R.passes_threshold("majority", v, 3) for v in range(4)] == [False, False, True, True]
    assert [R.passes_threshold("two_thirds", v, 3) for v in range(4)] == [False, False, False, True]
    assert [R.passes_threshold("two_thirds", v, 6) for v in range(7)] == [False] * 5 + [True] * 2


def test_in_turn_and_difficulty():
    s = snap("CAB")
    assert [R.in_turn(s, n, "A") for n in range(4)] == [True, False, False, True]
    assert R.calc_difficulty(s, 2, "C") == 2 and R.calc_difficulty(s, 2, "A") == 1


def test_fork_choice():
    a = [block(1, "A")]
    heavier = [Block(1, "B", None, 2, None), Block(2, "A", None, 1, None)]
    assert R.fork_choice(a, heavier) == (True,) and R.fork_choice(heavier, a) == (False,)
    same_td_shorter = [Block(1, "B", None, 2, None)]
    two_noturn = [Block(1, "A", None, 1, None), Block(2, "B", None, 1, None)]
    assert R.fork_choice(two_noturn, same_td_shorter) == (True,)  # tie: lower number wins
    assert R.fork_choice(same_td_shorter, two_noturn) == (False,)
    other = [Block(1, "C", None, 2, None)]
    assert R.fork_choice(same_td_shorter, other) == (True, False)  # full tie: a coin


# ----------------------------------------------------------------------------------------------- model


def explore(cfg: PoaConfig, props=DEFAULTS, mutant=None, **kw):
    return check(build(cfg, mutant).engine(), props, **kw)


def states_of(cfg: PoaConfig) -> list:
    """Every reachable state (by the tests' own reference BFS, independent of checkers.bfs)."""
    engine = build(cfg).engine()
    return [engine.decode(e) for e in reachable(engine)[0]]


def test_three_signers_one_candidate_every_invariant_holds():
    cfg = PoaConfig(signers=3, candidates=1, max_height=3, epoch=3)
    r = explore(cfg)
    assert r.verdict == "pass" and r.distinct_states > 1000 and not r.vacuous
    states = states_of(cfg)
    assert len(states) == r.distinct_states
    # the candidate really gets voted in, and checkpoints happen: the invariants are not vacuous
    assert any(len(c.head.signers) == 4 for s in states for c in s.chains)
    assert any(b.checkpoint for s in states for c in s.chains for b in c.blocks)


def test_round_robin_only_in_turn_blocks():
    cfg = PoaConfig(signers=3, candidates=1, max_height=4, proposer_rule="round_robin")
    r = explore(cfg)
    assert r.verdict == "pass"
    blocks = {b for s in states_of(cfg) for c in s.chains for b in c.blocks}
    assert all(b.difficulty == R.DIFF_IN_TURN for b in blocks)
    assert sorted(b.number for b in blocks) == [1, 2, 3, 4]  # one proposer per height: no forks at all
    assert explore(PoaConfig(signers=3, candidates=1, max_height=4)).distinct_states > r.distinct_states


def test_two_thirds_needs_more_votes():
    """With 3 signers a candidate joins after 2 votes by majority, after 3 by two_thirds."""
    def joins(threshold: str) -> int:
        states = states_of(PoaConfig(signers=3, candidates=1, max_height=3, epoch=30, threshold=threshold))
        return min((len(c) for s in states for c in s.chains if len(c.head.signers) == 4), default=0)

    assert joins("majority") == 2 and joins("two_thirds") == 3


def test_intruder_blocks_are_announced_and_never_adopted():
    cfg = PoaConfig(signers=2, candidates=0, intruders=1, max_height=2)
    r = explore(cfg)
    assert r.verdict == "pass" and r.action_fired["IntruderSeal"] > 0
    states = states_of(cfg)
    assert any(b.sealer == 2 for s in states for m in s.network for b in m.blocks)  # x1 forged and announced
    assert all(b.sealer != 2 for s in states for c in s.chains for b in c.blocks)  # nobody adopted it


def test_accepting_an_intruder_block_is_caught():
    """With the unauthorised-signer bug an honest node adopts the intruder's forgery."""
    r = explore(PoaConfig(signers=2, candidates=0, intruders=1, max_height=2), mutant="accept_unauthorised_signer")
    assert r.verdict == "violation" and r.violation.invariant == "poa.only_authorised_proposers"
    assert [st.action.action for st in r.violation.trace[1:]] == ["IntruderSeal", "Receive"]
    assert r.violation.servers and "x1" in r.violation.why


def chains_reachable(cfg: PoaConfig) -> set:
    assert explore(cfg).verdict == "pass"
    return {s.chains for s in states_of(cfg)}


def test_loss_and_offline_add_states_but_no_chains():
    """As the model's docstring argues: a node may already never receive an announcement, and never act."""
    base = dict(signers=3, candidates=0, max_height=2)
    plain = chains_reachable(PoaConfig(**base))
    assert chains_reachable(PoaConfig(**base, loss=True, offline=True, max_offline=2)) == plain


def test_offline_node_does_nothing_until_back():
    system = build(PoaConfig(signers=2, candidates=0, max_height=2, offline=True))
    s0 = system.init_states()[0]
    off = next(t for lab, t in system.next_states(s0) if lab.action == "GoOffline" and str(lab.param("i")) == "s1")
    acts = {(lab.action, str(lab.param("i"))) for lab, _ in system.next_states(off)}
    assert ("GoOnline", "s1") in acts and not any(i == "s1" and a != "GoOnline" for a, i in acts)
    assert ("GoOffline", "s2") not in acts  # max_offline = 1


def test_height_bound_is_a_constraint():
    cfg = PoaConfig(signers=2, candidates=0, max_height=2)
    r = explore(cfg)
    assert max(len(c) for s in states_of(cfg) for c in s.chains) == 2
    assert r.generated_states > r.distinct_states


def test_cli_check_poa_json(capsys):
    code = main(["check", "poa", "--signers", "3", "--candidates", "1", "--intruders", "0", "--max-height", "3",
                 "--epoch", "3", "--threshold", "majority", "--proposer-rule", "clique", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert code == 0 and d["verdict"] == "pass"
    assert d["invariants"] == sorted(p.name for p in DEFAULTS)
    assert d["distinct_states"] == explore(PoaConfig(signers=3, candidates=1, max_height=3)).distinct_states
    assert d["tlc_depth"] == d["depth"] + 1


@pytest.mark.parametrize("argv, msg", [
    (["--signers", "0"], "--signers must be >= 1"),
    (["--threshold", "most"], "threshold"),
    (["--proposer-rule", "anyone"], "proposer"),
    (["--mutant", "nope"], "unknown poa mutant"),
    (["--invariant", "poa.nope"], "nope"),
])
def test_cli_check_poa_bad_input(capsys, argv, msg):
    assert main(["check", "poa", *argv]) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err


def test_config_validation():
    with pytest.raises(ConfigError):
        PoaConfig(epoch=0)


def test_fork_counterexample_shows_the_fork():
    r = explore(PoaConfig(signers=3, candidates=0, max_height=2, fork_depth=1),
                invariants.resolve("poa", ["no_fork_at_depth_k"]))
    v = r.violation
    assert r.verdict == "violation" and v.length == 8
    last = v.trace[-1].raw
    a, b = (last.chains[int(x[1]) - 1] for x in v.servers)
    assert a.blocks[0] != b.blocks[0] and len(a) == len(b) == 2
    assert "hold different blocks at height 1" in v.why
