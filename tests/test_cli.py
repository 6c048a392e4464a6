"""The command line: exit codes, the JSON contract, spec files, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refmodel.checkers.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--servers", "2", "--max-term", "2", "--max-log", "1", "--max-msg-count", "1", "--max-msgs", "1"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_raft_json_contract(capsys):
    code, out, _ = run(capsys, "check", "raft", *SMALL, "--json")
    d = json.loads(out)
    assert code == 0
    assert d["verdict"] == "pass"
    assert (d["distinct_states"], d["generated_states"], d["depth"], d["tlc_depth"]) == (1760, 13797, 27, 28)
    assert d["elapsed_s"] >= 0 and d["states_per_s"] > 0
    assert "raft.election_safety" in d["invariants"] and "violation" not in d
    assert d["actions"]["Restart"]["fired"] > 0


def test_violation_json_has_trace(capsys):
    code, out, _ = run(capsys, "check", "raft", "--servers", "2", "--max-log", "0", "--mutant", "vote_twice",
                       "--symmetry", "--json")
    d = json.loads(out)
    assert code == 1 and d["verdict"] == "violation"
    v = d["violation"]
    assert v["invariant"] == "raft.election_safety" and v["length"] == 16 and len(v["trace"]) == 17
    assert v["trace"][0]["action"] == "Init"
    assert v["trace"][-1]["label"] == {"name": "BecomeLeader", "params": {"i": v["trace"][-1]["label"]["params"]["i"]}}
    last = v["trace"][-1]["state"]
    leaders = [s for s, role in last["state"].items() if role == "Leader"]
    assert len(leaders) == 2 and len({last["currentTerm"][s] for s in leaders}) == 1


def test_text_counterexample_shows_changes(capsys):
    code, out, _ = run(capsys, "check", "raft", "--servers", "2", "--max-log", "0", "--mutant", "minority_quorum")
    assert code == 1
    assert "Counterexample to raft.election_safety" in out
    assert "1. Timeout(i=s" in out and 'state[s' in out and '"Follower" -> "Candidate"' in out
    assert "Violated: raft.election_safety\n  No two servers are Leader in the same term" in out
    assert "Why: s1 and s2 are both Leader in term 2" in out and "Servers involved: s1, s2" in out


def test_limits_exit_3(capsys):
    code, out, _ = run(capsys, "check", "raft", *SMALL, "--max-states", "100", "--json")
    d = json.loads(out)
    assert code == 3 and d["verdict"] == "incomplete" and d["distinct_states"] == 100
    assert "state limit" in d["incomplete_reason"]


def test_graph_export(capsys, tmp_path):
    import networkx as nx

    path = tmp_path / "g.graphml"
    code, _, _ = run(capsys, "check", "raft", *SMALL, "--graph", str(path))
    assert code == 0
    g = nx.read_graphml(path)
    assert g.number_of_nodes() == 1760


@pytest.mark.parametrize("argv,needle", [
    (["check", "raft", "--servers", "-1"], "--servers must be >= 1"),
    (["check", "raft", "--max-log", "-2"], "--max-log must be >= 0"),
    (["check", "raft", "--invariant", "nope"], "unknown invariant 'nope'"),
    (["check", "raft", "--mutant", "nope"], "unknown raft mutant 'nope'"),
    (["check", "raft", "--graph", "x.png"], "--graph file must end in"),
    (["check", "raft", "--time-limit", "soon"], "not a number"),
    (["check", "nosuch.toml"], "nosuch.toml: no such spec file"),
    (["frobnicate"], "unknown command"),
])
def test_bad_input_exit_2_one_line(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err


@pytest.mark.parametrize("body,needle", [
    ('protocol = "raft"\n[bounds]\nservers = 2\n', "[expect] with at least 'verdict' is missing"),
    ('protocol = "raft"\n[bounds]\nservers = -3\n[expect]\nverdict = "pass"\n', ":3: field 'bounds.servers'"),
    ('protocol = "raft"\n[bounds]\nservres = 2\n[expect]\nverdict = "pass"\n', ":3: field 'bounds.servres': unknown"),
    ('protocol = "paxos"\n[expect]\nverdict = "pass"\n', ":1: field 'protocol': unknown protocol 'paxos'"),
    ('protocol = "raft"\n[expect]\nverdict = "maybe"\n', ":3: field 'expect.verdict': must be one of"),
    ('protocol = "raft"\nmutant = "oops"\n[expect]\nverdict = "pass"\n', ":2: field 'mutant': unknown raft mutant"),
    ('protocol = "raft"\n[expect\n', "not valid TOML"),
])
def test_malformed_spec_exit_2(capsys, tmp_path, body, needle):
    spec = tmp_path / "bad.toml"
    spec.write_text(body)
    code, _, err = run(capsys, "check", str(spec))
    assert code == 2, err
    assert str(spec) in err and needle in err
    assert len(err.strip().splitlines()) == 1


def test_spec_mismatch_exits_1(capsys, tmp_path):
    spec = tmp_path / "wrong.toml"
    spec.write_text('protocol = "raft"\n[bounds]\nservers = 2\nmax_log = 1\n[expect]\nverdict = "pass"\n'
                    'distinct_states = 1761\n')
    code, out, _ = run(capsys, "check", str(spec))
    assert code == 1
    assert "MISMATCH: distinct_states 1760, expected 1761" in out


def test_specs_directory_small_ones(capsys, tmp_path):
    for name in ("raft_n2_t2_l1_c1_m1_sym.toml", "raft_mutant_vote_twice.toml"):
        (tmp_path / name).write_text((ROOT / "specs" / name).read_text())
    code, out, _ = run(capsys, "check", str(tmp_path), "--json")
    rows = json.loads(out)
    assert code == 0 and [r["ok"] for r in rows] == [True, True]
    assert rows[0]["result"]["verdict"] == "violation" and rows[1]["result"]["distinct_states"] == 889


def test_list(capsys):
    code, out, _ = run(capsys, "list", "--json")
    d = json.loads(out)
    assert code == 0
    assert "raft.log_matching" in [i["name"] for i in d["raft"]["invariants"]]
    assert set(d["raft"]["mutants"]) >= {"vote_twice", "no_log_up_to_date_check", "commit_old_term_by_count",
                                          "minority_quorum", "no_log_matching_check", "no_step_down_on_higher_term"}
    assert d["raft"]["bounds"]["max_msgs"]["flag"] == "--max-msgs"


def test_shipped_specs_are_valid():
    from refmodel.checkers.spec import discover, load_spec

    specs = [load_spec(p) for p in discover([str(ROOT / "specs")])]
    assert len(specs) >= 12
