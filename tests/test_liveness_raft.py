"""Liveness of raft.tla on the explored graph: a client request a leader accepted is committed (or the leader
steps down) under fairness, and fails with a lasso without it; deadlock verdicts; the lasso in text, JSON
and ITF (with its loop index, re-checked by `refmodel replay`)."""

from __future__ import annotations

import json

from refmodel.checkers.cli import main

SMALL = ["raft", "--servers", "2", "--max-term", "2", "--max-log", "1", "--max-msg-count", "1", "--max-msgs", "1"]
FAIR = ["--fairness", "wf:AppendEntries", "--fairness", "sf:HandleAppendEntriesRequest",
        "--fairness", "sf:HandleAppendEntriesResponse", "--fairness", "wf:AdvanceCommitIndex",
        "--fairness", "sf:UpdateTerm"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_commit_holds_under_fairness(capsys):
    code, out, _ = run(capsys, "check", *SMALL, "--liveness", "client_request_committed", *FAIR, "--json")
    d = json.loads(out)
    assert code == 0 and d["verdict"] == "pass"
    [r] = d["liveness"]
    assert r["property"] == "raft.client_request_committed" and r["form"] == "leads_to" and r["holds"]
    assert r["fairness"][0] == "wf:AppendEntries"


def test_commit_fails_without_fairness_by_stuttering(capsys, tmp_path):
    f = tmp_path / "lasso.itf.json"
    code, out, _ = run(capsys, "check", *SMALL, "--liveness", "client_request_committed", "--json", "--itf", str(f))
    d = json.loads(out)
    assert code == 1 and d["verdict"] == "violation"
    [r] = d["liveness"]
    assert not r["holds"] and r["stutters"] and len(r["prefix"]) == 11 and r["cycle"] == []
    assert [s["action"].split("(")[0] for s in r["prefix"]][-2:] == ["BecomeLeader", "ClientRequest"]
    doc = json.loads(f.read_text())
    assert doc["loop"] == 10 and len(doc["states"]) == 11
    assert run(capsys, "replay", str(f))[0] == 0


def test_weak_fairness_of_receiving_is_not_enough(capsys, tmp_path):
    weak = [x.replace("sf:", "wf:") for x in FAIR]
    f = tmp_path / "lasso.itf.json"
    code, out, _ = run(capsys, "check", *SMALL, "--liveness", "client_request_committed", *weak, "--itf", str(f))
    assert code == 1
    assert "a prefix of 11 steps, then a cycle of 3 steps repeated for ever" in out
    assert "--- cycle from state 11 ---" in out and "DropMessage(" in out
    doc = json.loads(f.read_text())
    assert doc["loop"] == 11 and len(doc["states"]) == 15
    assert run(capsys, "replay", str(f))[0] == 0
    doc["loop"] = 12  # a cycle that does not close is refused
    f.write_text(json.dumps(doc))
    code, _, err = run(capsys, "replay", str(f))
    assert code == 2 and "where 'loop' says the cycle returns" in err


def test_leader_elected_needs_fairness(capsys):
    code, out, _ = run(capsys, "check", *SMALL, "--liveness", "leader_elected")
    assert code == 1 and "then stuttering for ever" in out and "a prefix of 0 steps" in out


def test_liveness_usage_errors(capsys):
    for argv, msg in [
        (["--liveness", "nope"], "unknown liveness property 'nope'"),
        (["--fairness", "wf:Timeout"], "name one with --liveness"),
        (["--liveness", "leader_elected", "--fairness", "wf:Nope"], "no action 'Nope'"),
        (["--liveness", "leader_elected", "--fairness", "xx"], "expected wf:Action"),
        (["--liveness", "leader_elected", "--symmetry"], "liveness is checked without --symmetry"),
    ]:
        code, _, err = run(capsys, "check", *SMALL, *argv)
        assert code == 2 and msg in err, (argv, err)


def test_deadlock_verdicts_per_protocol(capsys):
    """raft.tla and Clique have no deadlock (Restart is always enabled; Clique nodes can always announce or
    receive); the counts of states cut by the bounds are reported."""
    code, out, _ = run(capsys, "check", *SMALL, "--deadlock", "--json")
    d = json.loads(out)
    assert code == 0 and d["terminal"] == {"deadlock": 0, "cut_by_bounds": 0, "faults_only": 0}
    code, out, _ = run(capsys, "check", "poa", "--signers", "3", "--candidates", "1", "--max-height", "4",
                       "--json")
    d = json.loads(out)
    assert code == 0 and d["terminal"]["deadlock"] == 0 and d["terminal"]["cut_by_bounds"] == 24


def test_lasso_in_the_html_report(capsys, tmp_path):
    import re

    page = tmp_path / "lasso.html"
    weak = [x.replace("sf:", "wf:") for x in FAIR]
    code, _, _ = run(capsys, "check", *SMALL, "--liveness", "client_request_committed", *weak, "--html", str(page))
    assert code == 1
    data = json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>', page.read_text(),
                                re.S).group(1))
    assert data["msc"]["loop"] == 11 and len(data["msc"]["rows"]) == 15 and not data["msc"]["stutters"]
