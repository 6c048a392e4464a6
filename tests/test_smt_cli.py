"""``refmodel prove``: verdicts, exit codes (0 proved, 1 counterexample, 2 usage, 3 unknown), the JSON
contract, one-line errors; and z3 stays out of the BFS command's imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from refmodel.checkers.cli import main


def run(capsys, *argv):
    code = main(["prove", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_raft_five_servers_proved(capsys):
    """Acceptance: the shipped inductive set is proved for 5 servers (logs of 2, unbounded terms)."""
    code, out, _ = run(capsys, "raft", "--servers", "5", "--json")
    d = json.loads(out)
    assert code == 0 and d["verdict"] == "proved" and d["method"] == "induction"
    assert d["config"] == {"servers": 5, "max_log": 2, "values": "unbounded", "terms": "unbounded"}
    assert "election_safety" in d["invariants"] and "commit_witnessed" in d["invariants"]
    assert d["obligations"][0]["name"] == "init" and all(o["result"] == "holds" for o in d["obligations"])


def test_election_safety_alone_gives_a_cti(capsys):
    """Acceptance: election safety alone is not inductive; the CTI is a state and a step, rendered."""
    code, out, _ = run(capsys, "raft", "--servers", "3", "--invariant", "election_safety")
    assert code == 1
    assert "COUNTEREXAMPLE: counterexample to induction" in out
    assert "0. Inv (a state satisfying the invariant)" in out and "1. BecomeLeader(i=s" in out
    assert 'state[s1]: "Candidate" -> "Leader"' in out or '-> "Leader"' in out
    assert "Violated: election_safety: No two servers are Leader in the same term." in out
    code, out, _ = run(capsys, "raft", "--servers", "3", "--invariant", "raft.election_safety", "--json")
    d = json.loads(out)
    assert code == 1 and d["verdict"] == "counterexample"
    c = d["counterexample"]
    assert c["kind"] == "cti" and c["violated"] == ["election_safety"] and c["length"] == 1
    assert c["trace"][0]["action"] == "Inv" and c["trace"][1]["label"]["name"] == "BecomeLeader"
    post = c["trace"][1]["state"]
    assert set(post) == {"currentTerm", "state", "votedFor", "log", "commitIndex"}
    leaders = [s for s, role in post["state"].items() if role == "Leader"]
    assert len(leaders) == 2 and post["currentTerm"][leaders[0]] == post["currentTerm"][leaders[1]]


def test_bmc_finds_a_mutant_and_passes_the_correct_model(capsys):
    code, out, _ = run(capsys, "raft", "--servers", "2", "--max-log", "0", "--mutant", "vote_twice", "--bmc", "6",
                       "--json")
    d = json.loads(out)
    assert code == 1 and d["method"] == "bmc" and d["depth"] == 4
    assert d["counterexample"]["kind"] == "trace" and d["counterexample"]["trace"][0]["action"] == "Init"
    assert d["config"]["terms"] == "<= 3" and d["config"]["values"] == 1
    code, out, _ = run(capsys, "raft", "--servers", "2", "--max-log", "0", "--bmc", "4")
    assert code == 0 and "PROVED up to depth 4" in out and "(bounded)" in out


def test_poa_proved_and_cti(capsys):
    code, out, _ = run(capsys, "poa", "--servers", "3", "--candidates", "1", "--threshold", "two_thirds")
    assert code == 0 and "PROVED" in out
    code, out, _ = run(capsys, "poa", "--servers", "3", "--invariant", "signer_recency", "--json")
    d = json.loads(out)
    assert code == 1 and d["counterexample"]["violated"] == ["signer_recency"]
    assert d["counterexample"]["trace"][1]["label"]["name"] == "Seal"
    code, out, _ = run(capsys, "poa", "--servers", "2", "--mutant", "no_recency_check", "--bmc", "3")
    assert code == 1 and "a run of 2 steps" in out and "Violated: signer_recency" in out


def test_timeout_gives_unknown_with_the_time(capsys):
    code, out, _ = run(capsys, "raft", "--servers", "5", "--timeout", "0.01", "--json")
    d = json.loads(out)
    assert code == 3 and d["verdict"] == "unknown" and "gave up" in d["unknown_reason"]
    assert "s" in d["unknown_reason"] and d["elapsed_s"] >= 0


@pytest.mark.parametrize("argv,needle", [
    (["raft", "--servers", "0"], "--servers"),
    (["raft", "--invariant", "nope"], "unknown invariant 'nope'"),
    (["raft", "--mutant", "nope"], "unknown raft mutant"),
    (["poa", "--threshold", "half"], "--threshold"),
    (["paxos"], "invalid choice"),
    (["raft", "--timeout", "-1"], "--timeout"),
])
def test_usage_errors_are_one_line(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err


def test_list(capsys):
    code, out, _ = run(capsys, "raft", "--list")
    assert code == 0 and "commit_witnessed [auxiliary, state]" in out
    assert "election_safety [safety, state] (encodes raft.election_safety)" in out and "mutant vote_twice" in out


def test_bfs_cli_and_invariants_do_not_import_z3():
    """z3 is slow to import: loading every invariant module (as `refmodel list` does) must not pull it in."""
    code = ("import sys, refmodel.invariants as inv, refmodel.checkers.cli; inv.load_all(); "
            "import refmodel.model.raft.abstract, refmodel.model.poa.abstract; print('z3' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
