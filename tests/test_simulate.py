"""Random simulation (`refmodel simulate`): reproducible for a seed, fast, and able to find every mutant.

Which tool finds which mutant in CI (every mutant of both protocols is found by one of them):

=============================== ============================================== ================================
mutant                          found by                                       invariant
=============================== ============================================== ================================
raft vote_twice                 Hypothesis (test_stateful_raft.py) and BFS     raft.election_safety
raft minority_quorum            Hypothesis (test_stateful_raft.py) and BFS     raft.election_safety
raft no_step_down_on_higher_term simulate --swarm, seed 1 (here) and BFS        raft.election_safety
raft commit_old_term_by_count   simulate --swarm, seed 1 (here) and BFS        raft.commit_current_term_only
raft no_log_up_to_date_check    simulate --swarm, seed 1 (here) and BFS        raft.state_machine_safety
raft no_log_matching_check      simulate --swarm, seed 4 (here)                raft.log_matching
poa no_recency_check            Hypothesis (test_stateful_poa.py), BFS, vectors poa.signer_recency
poa accept_unauthorised_signer  Hypothesis (test_stateful_poa.py), BFS, vectors poa.only_authorised_proposers
poa threshold_half              Hypothesis (test_stateful_poa.py), BFS, vectors poa.signer_changes_by_quorum
poa no_vote_reset_at_epoch      Hypothesis (test_stateful_poa.py), BFS, vectors poa.signer_changes_by_quorum
poa recents_reset_at_checkpoint Hypothesis (test_stateful_poa.py), BFS, vectors poa.signer_recency
poa keep_votes_of_dropped_signer Hypothesis, simulate --swarm, seed 1 (here), BFS, vectors poa.signer_changes_by_quorum
=============================== ============================================== ================================

benchmarks/simulate_mutants.py measures how many runs other seeds need.
"""

from __future__ import annotations

import json

import pytest

from refmodel import invariants
from refmodel.checkers.cli import main
from refmodel.checkers.itf import load
from refmodel.checkers.replay import replay
from refmodel.checkers.simulate import cut_loops, simulate
from refmodel.model.raft import build
from refmodel.model.raft.config import RaftConfig

FIVE = ["--servers", "5", "--max-term", "6", "--max-log", "3", "--max-msg-count", "2", "--max-msgs", "6"]


def run_json(capsys, *argv) -> tuple[int, dict]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def without_timing(d: dict) -> dict:
    return {k: v for k, v in d.items() if k not in ("elapsed_s", "steps_per_s")}


@pytest.mark.parametrize("runs", [pytest.param(1000, marks=pytest.mark.slow), 200])
def test_five_servers_runs_reproducible(capsys, runs):
    """The acceptance command: 5 servers, 1000 runs of 100 steps, seed 1; twice, the same output.  (About a
    minute on a slow 2-core machine: CI runs 200, -m slow the 1000.)"""
    argv = ["simulate", "raft", *FIVE, "--runs", str(runs), "--steps", "100", "--seed", "1", "--json"]
    code, first = run_json(capsys, *argv)
    assert code == 0 and first["verdict"] == "pass"
    assert first["runs"] == runs and 50 * runs < first["steps"] <= 100 * runs
    assert first["distinct_states"] > 10 * runs and first["steps_per_s"] > 0
    _, second = run_json(capsys, *argv)
    assert without_timing(first) == without_timing(second)


def test_seeds_differ(capsys):
    argv = ["simulate", "raft", "--servers", "3", "--runs", "50", "--steps", "30", "--json"]
    _, a = run_json(capsys, *argv, "--seed", "1")
    _, b = run_json(capsys, *argv, "--seed", "2")
    assert a["actions"] != b["actions"]


# (protocol, mutant) -> (bounds, steps per run, seed, invariant, largest run count needed, bound on the trace
# length)
HUNTS = {
    ("raft", "no_step_down_on_higher_term"): (dict(servers=2, max_term=3, max_log=1), 60, 1, "raft.election_safety",
                                              1_000, 30),
    ("raft", "commit_old_term_by_count"): (dict(servers=2, max_term=3, max_log=1), 60, 1,
                                           "raft.commit_current_term_only", 20_000, 40),
    ("raft", "no_log_up_to_date_check"): (dict(servers=3, max_term=3, max_log=1), 60, 1, "raft.state_machine_safety",
                                          1_000, 60),
    ("raft", "no_log_matching_check"): (dict(servers=3, max_term=4, max_log=2), 80, 4, "raft.log_matching",
                                        100_000, 80),
    ("poa", "keep_votes_of_dropped_signer"): (dict(signers=3, candidates=0, max_height=8, epoch=30, votes="any"), 40,
                                              1, "poa.signer_changes_by_quorum", 1_000, 40),
    ("poa", "recents_reset_at_checkpoint"): (dict(signers=5, candidates=2, max_height=12, epoch=4), 60, 1,
                                             "poa.signer_recency", 1_000, 60),
}


@pytest.mark.parametrize("proto, mutant", sorted(HUNTS))
def test_simulation_finds_mutant(proto, mutant, tmp_path, capsys):
    bounds, steps, seed, inv, max_runs, max_len = HUNTS[proto, mutant]
    flags = [x for k, v in bounds.items() for x in ("--" + k.replace("_", "-"), str(v))]
    search = ["--swarm", "--steps", str(steps), "--seed", str(seed), "--runs", str(max_runs)]
    itf = tmp_path / "found.itf.json"
    code, d = run_json(capsys, "simulate", proto, *flags, "--mutant", mutant, *search, "--itf", str(itf), "--json")
    assert code == 1 and d["verdict"] == "violation"
    v = d["violation"]
    assert v["invariant"] == inv and v["length"] <= max_len
    res = replay(load(itf))  # the trace is a real run of the mutant that violates the invariant
    assert res.violation == inv and res.steps == v["length"]
    if proto == "poa":  # the correct rules survive the same search (Raft's: test_correct_model_survives_...)
        code, d = run_json(capsys, "simulate", proto, *flags, *search, "--json")
        assert code == 0 and d["verdict"] == "pass" and d["runs"] == max_runs


def test_poa_five_signers_simulation_reproducible(capsys):
    argv = ["simulate", "poa", "--signers", "5", "--candidates", "2", "--intruders", "1", "--max-height", "30",
            "--epoch", "10", "--loss", "--offline", "--runs", "200", "--steps", "100", "--seed", "1", "--json"]
    code, first = run_json(capsys, *argv)
    assert code == 0 and first["verdict"] == "pass" and first["runs"] == 200
    assert first["distinct_states"] > 5_000
    _, second = run_json(capsys, *argv)
    assert without_timing(first) == without_timing(second)


def test_correct_model_survives_the_same_search():
    """The deepest hunt above, on the correct model, finds nothing."""
    cfg = RaftConfig(servers=3, max_term=4, max_log=2)
    r = simulate(build(cfg).engine(), invariants.defaults("raft"), runs=3000, steps=80, seed=4, swarm=True)
    assert r.verdict == "pass" and r.runs == 3000


def test_cut_loops():
    path = [(-1, "a"), (1, "b"), (2, "c"), (3, "b"), (4, "d"), (5, "a"), (6, "e")]
    assert cut_loops(path, transition=False) == [(-1, "a"), (6, "e")]
    path = [(-1, "a"), (1, "b"), (2, "a"), (3, "c")]
    assert cut_loops(path, transition=True) == [(-1, "a"), (3, "c")]  # the last (violating) step is kept


def test_simulate_bad_input(capsys):
    assert main(["simulate", "raft", "--servers", "0"]) == 2
    assert "--servers must be >= 1" in capsys.readouterr().err
    assert main(["simulate", "raft", "--runs", "-1"]) == 2
    assert main(["simulate", "paxos"]) == 2
