"""Counterexamples in all three forms (text, ITF, HTML); ITF replay, including a corrupted trace; the HTML
report opened in headless Chromium; graph statistics."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, default_check

from refmodel.checkers import report
from refmodel.checkers.bfs import Limits, check
from refmodel.checkers.cli import main
from refmodel.checkers.report.html import render_html
from refmodel.checkers.itf import ITFError, load
from refmodel.checkers.replay import replay
from refmodel.checkers.report.itf import trace_document
from refmodel.checkers.spec import discover, load_spec
from refmodel.model import protocol

ARTIFACTS = ROOT / "test-artifacts"
# every spec that expects a counterexample (mutants, quirks, properties a protocol does not guarantee)
# (liveness specs have lassos instead: tests/test_liveness_raft.py renders those)
VIOLATING = [p for p in discover([str(ROOT / "specs")])
             if load_spec(p).expect["verdict"] == "violation" and not load_spec(p).liveness]


def run_spec(path: Path):
    from refmodel import invariants

    spec = load_spec(path)
    proto = protocol(spec.protocol)
    system = proto.build(spec.config, spec.mutant)
    if not spec.invariants and not spec.limits:  # (the long mutant runs are shared with test_raft_mutants.py)
        return system, default_check(proto.name, spec.config, spec.mutant, spec.symmetry)
    props = invariants.resolve(proto.name, spec.invariants) if spec.invariants else invariants.defaults(proto.name)
    return system, check(system.engine(), props, symmetry=spec.symmetry, limits=Limits(**spec.limits))


@pytest.mark.parametrize("path", VIOLATING, ids=lambda p: p.stem)
def test_counterexample_in_all_three_forms(path, tmp_path):
    system, result = run_spec(path)
    v = result.violation
    assert v is not None
    text = report.text(result)
    assert f"Counterexample to {v.invariant}" in text and f"{v.length}." in text
    doc = trace_document(system, v.trace, description="t", extra_meta={"invariant": v.invariant})
    f = tmp_path / "cex.itf.json"
    f.write_text(json.dumps(doc))
    res = replay(load(f), path=str(f))
    assert res.steps == v.length and res.violation == v.invariant and res.violated_at == v.length
    page = render_html(result, system)
    data = json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert len(data["msc"]["rows"]) == v.length + 1  # the page draws one row per step from this data
    if result.protocol == "raft":
        assert data["msc"]["lanes"] == [f"s{k + 1}" for k in range(result.config["servers"])]


def _vote_twice_trace(tmp_path):
    f = tmp_path / "cx.itf.json"
    assert main(["check", "raft", "--servers", "2", "--max-log", "0", "--mutant", "vote_twice",
                 "--itf", str(f), "--json"]) == 1
    return f


def test_itf_format(tmp_path, capsys):
    doc = json.loads(_vote_twice_trace(tmp_path).read_text())
    capsys.readouterr()
    assert doc["#meta"]["format"] == "ITF" and doc["#meta"]["protocol"] == "raft"
    assert doc["vars"][:3] == ["currentTerm", "state", "votedFor"]
    s0, s1 = doc["states"][0], doc["states"][1]
    assert s0["mbt::actionTaken"] == "init" and s0["mbt::nondetPicks"] == {}
    assert s0["currentTerm"] == {"#map": [["s1", {"#bigint": "1"}], ["s2", {"#bigint": "1"}]]}
    assert s0["votesGranted"] == {"#map": [["s1", {"#set": []}], ["s2", {"#set": []}]]}
    assert s1["mbt::actionTaken"] == "Timeout" and s1["mbt::nondetPicks"]["i"]["tag"] == "Some"
    assert s1["allLogs"] == {"#set": [[]]}
    msgs = doc["states"][2]["messages"]["#map"]
    assert msgs[0][0]["mtype"] == "RequestVoteRequest" and msgs[0][1] == {"#bigint": "1"}


def test_replay_cli_accepts_and_rejects(tmp_path, capsys):
    f = _vote_twice_trace(tmp_path)
    capsys.readouterr()
    assert main(["replay", str(f)]) == 1  # a valid trace that ends in a violation: exit code 1
    out = capsys.readouterr().out
    assert "16 steps, every one a transition of raft" in out and "violates raft.election_safety at state 16" in out

    doc = json.loads(f.read_text())
    bad = copy.deepcopy(doc)  # step 7 changes a value the action does not produce
    bad["states"][7]["currentTerm"]["#map"][0][1] = {"#bigint": "5"}
    g = tmp_path / "bad.itf.json"
    g.write_text(json.dumps(bad))
    assert main(["replay", str(g)]) == 2
    assert "step 7: state 7 is not what" in capsys.readouterr().err

    bad = copy.deepcopy(doc)  # step 3 names an action that is not enabled
    bad["states"][3]["mbt::actionTaken"] = "BecomeLeader"
    g.write_text(json.dumps(bad))
    assert main(["replay", str(g)]) == 2
    assert "step 3: action 'BecomeLeader' is not enabled" in capsys.readouterr().err

    bad = copy.deepcopy(doc)  # the initial state is not one
    bad["states"][0]["commitIndex"]["#map"][1][1] = {"#bigint": "1"}
    g.write_text(json.dumps(bad))
    with pytest.raises(ITFError, match="state 0 is not an initial state"):
        replay(load(g))
    g.write_text("{not json")
    assert main(["replay", str(g)]) == 2 and "not JSON" in capsys.readouterr().err


def test_replay_ignores_set_order(tmp_path, capsys):
    f = _vote_twice_trace(tmp_path)
    capsys.readouterr()
    doc = json.loads(f.read_text())
    for st in doc["states"]:
        st["votesGranted"]["#map"].reverse()
        st["state"]["#map"].reverse()
    f.write_text(json.dumps(doc))
    assert replay(load(f)).steps == 16


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_html_report_in_headless_chromium(tmp_path):
    exe = chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed here (apt-get install chromium)")
    page = tmp_path / "report.html"
    assert main(["check", "raft", "--servers", "3", "--max-log", "0", "--mutant", "vote_twice",
                 "--symmetry", "--html", str(page), "--json"]) == 1
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run([exe, *CHROME_FLAGS, *profile, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    lanes = re.findall(r'<g class="lane[^"]*" data-lane="(s\d)"', dom)
    rows = re.findall(r'<tr class="step" data-step="(\d+)"', dom)
    steps = json.loads(re.search(r'"length": (\d+)', page.read_text()).group(0).join("{}"))["length"]
    assert lanes == ["s1", "s2", "s3"]  # one lane per server
    assert rows == [str(k) for k in range(steps + 1)]  # one row per step, the initial state included
    assert dom.count('class="msg"') >= 2 and 'id="msc"' in dom
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "raft_counterexample.png"
    subprocess.run([exe, *CHROME_FLAGS, *profile, "--window-size=1400,1500", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000


def test_graph_stats(capsys):
    assert main(["graph-stats", "raft", "--servers", "2", "--max-log", "1", "--json"]) == 0
    st = json.loads(capsys.readouterr().out)["graph_stats"]
    assert st["nodes"] == 1760 and sum(st["depth_histogram"]) == 1760 and len(st["depth_histogram"]) == 28
    assert st["terminal_states"] == 0  # Restart is always enabled: no deadlock
    assert st["sccs"] >= 1 and st["largest_scc"] >= 1


def test_coverage_flags_vacuity(capsys):
    assert main(["check", "raft", "--servers", "2", "--max-log", "0", "--json"]) == 0
    cov = json.loads(capsys.readouterr().out)["coverage"]
    assert "DropStaleResponse" in cov["never_enabled"]
    assert "ClientRequest" in cov["never_new_state"]  # logs are bounded to length 0
    assert set(cov["vacuous_properties"]) == {"raft.log_matching", "raft.leader_completeness",
                                              "raft.state_machine_safety", "raft.leader_append_only",
                                              "raft.commit_current_term_only"}
    assert main(["check", "raft", "--servers", "2", "--max-log", "1", "--json"]) == 0
    cov = json.loads(capsys.readouterr().out)["coverage"]
    assert "raft.log_matching" not in cov["vacuous_properties"]
