"""``refmodel vectors``: covering traces generated from the model, their replay (both sides: the model accepts
them, each killed mutant's model rejects them where the table says), the geth scenarios, determinism, the
construction on a graph small enough to check by hand, and one-line errors for bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from toy import GraphSystem

import refmodel
from refmodel.checkers.bfs import check
from refmodel.checkers.cli import main
from refmodel.checkers.vectors import build_suite
from refmodel.model.poa.rules import ERRORS, ERR_INVALID_VOTING_CHAIN, ERR_WRONG_DIFFICULTY
from refmodel.model.poa.vectors import BRANCHES

RAFT_SMALL = ["--servers", "2", "--max-term", "2", "--max-log", "1"]
FIVE_FAILURES = sorted(set(ERRORS) - {ERR_WRONG_DIFFICULTY, ERR_INVALID_VOTING_CHAIN})


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


# ------------------------------------------------------------------------------------ the construction


def test_greedy_and_naive_on_a_graph_checked_by_hand():
    """a -x-> b -z-> d, a -y-> c -w-> d, d -loop-> d: two traces (x z loop, y w), 5 steps; naive 5 traces,
    1 + 1 + 2 + 2 + 3 = 9 steps."""
    edges = {"a": [("x", "b"), ("y", "c")], "b": [("z", "d")], "c": [("w", "d")], "d": [("loop", "d")]}
    system = GraphSystem(edges, ["a"])
    engine = system.engine()
    greedy = build_suite(engine, check(engine, [], graph="labelled"), cover="edges", max_steps=100)
    ex = greedy.explored
    got = [[ex.label(a).action for a in v.aids] for v in greedy.vectors]
    assert greedy.method == "greedy" and got == [["x", "z", "loop"], ["y", "w"]]
    assert (greedy.greedy.traces, greedy.greedy.steps, greedy.naive.traces, greedy.naive.steps) == (2, 5, 5, 9)
    assert greedy.items == greedy.reachable == greedy.covered == 5
    flow = build_suite(engine, check(engine, [], graph="labelled"), cover="edges")
    got = sorted(flow.explored.label(a).action for v in flow.vectors for a in v.aids)
    assert flow.method.startswith("min-cost flow") and got == ["loop", "w", "x", "y", "z"]
    assert (flow.greedy.traces, flow.greedy.steps) == (2, 5)
    actions = build_suite(engine, check(engine, [], graph="labelled"), cover="actions")
    assert actions.unreachable == ["none"] and actions.covered == actions.reachable == 5


def test_max_steps_bounds_every_vector_and_reports_what_it_cannot_reach(capsys, tmp_path):
    code, out, _ = run(capsys, "vectors", "raft", *RAFT_SMALL, "--cover", "branches", "--max", "3",
                       "--out", tmp_path / "v", "--json", "--no-kill")
    d = json.loads(out)
    assert code == 3 and d["beyond_max"] and d["covered"] + len(d["beyond_max"]) == d["reachable"]
    assert all(f["steps"] <= 3 for f in json.loads((tmp_path / "v" / "suite.json").read_text())["files"])


# ------------------------------------------------------------------------------------------ raft, ITF


def _transitions(files: list[Path]) -> set[str]:
    """Distinct (state, action, parameters, next state) in ITF files, hashed: read from the files alone."""
    seen = set()
    for f in files:
        states = json.loads(f.read_text())["states"]
        body = [json.dumps({k: v for k, v in s.items() if not k.startswith(("#", "mbt::"))}, sort_keys=True)
                for s in states]
        for k in range(1, len(states)):
            step = json.dumps([states[k]["mbt::actionTaken"], states[k]["mbt::nondetPicks"]], sort_keys=True)
            seen.add(hashlib.sha1("|".join((body[k - 1], step, body[k])).encode()).hexdigest())
    return seen


def test_raft_edges_cover_every_transition(capsys, tmp_path):
    """Issue 13's acceptance: every transition of n2_t2_l1_c1_m1 (1,760 states, 13,797 generated), in fewer
    steps than one shortest trace per transition; counted again from the written files alone."""
    out_dir = tmp_path / "edges"
    code, out, _ = run(capsys, "vectors", "raft", *RAFT_SMALL, "--cover", "edges", "--out", out_dir, "--json",
                       "--no-kill")
    d = json.loads(out)
    assert code == 0
    assert (d["graph"]["states"], d["graph"]["generated"], d["graph"]["transitions"]) == (1760, 13797, 7112)
    assert d["items"] == d["reachable"] == d["covered"] == 7112 and not d["unreachable"]
    assert (d["covering"]["traces"], d["covering"]["steps"], d["naive"]["traces"], d["naive"]["steps"]) == \
        (2040, 32358, 7112, 92456)
    files = sorted(out_dir.glob("vector_*.itf.json"))
    assert len(files) == d["vectors"] == d["covering"]["traces"]
    assert len(_transitions(files)) == 7112
    sample = [str(f) for f in files[::97]]  # the whole suite replays in benchmarks/vectors.py
    assert run(capsys, "replay", *sample)[0] == 0


# mutant -> first failing vector of the suite below (n2_t3_l1_c1_m1, --cover branches); the last survives:
# telling it apart needs a follower whose log disagrees with a leader's at a same-term AppendEntries, which
# takes three servers
RAFT_T3 = ["--servers", "2", "--max-term", "3", "--max-log", "1"]
RAFT_T3_KILLS = {"vote_twice": 4, "no_log_up_to_date_check": 5, "commit_old_term_by_count": 6, "minority_quorum": 0,
                 "no_step_down_on_higher_term": 0, "no_log_matching_check": None}


def test_raft_suite_replays_and_each_killed_mutant_fails_it_where_the_table_says(capsys, tmp_path):
    out_dir = tmp_path / "t3"
    code, out, _ = run(capsys, "vectors", "raft", *RAFT_T3, "--cover", "branches", "--out", out_dir, "--json")
    d = json.loads(out)
    assert code == 0  # without --mutants a survivor does not change the exit code
    assert d["covered"] == d["reachable"] == 23 and d["items"] == 26
    assert {m["mutant"]: m["first_failing_vector"] for m in d["mutants"]} == RAFT_T3_KILLS
    code, out, _ = run(capsys, "replay", out_dir)
    assert code == 0 and out.strip().endswith(f"{d['vectors']}/{d['vectors']} traces replay as transitions of "
                                              "the model")
    files = sorted(str(f) for f in out_dir.glob("vector_*.itf.json"))
    for mutant, first in RAFT_T3_KILLS.items():
        code, out, err = run(capsys, "replay", out_dir, "--mutant", mutant, "--json")
        failing = [r["file"] for r in json.loads(out) if "error" in r]
        if first is None:
            assert code == 0 and failing == []
        else:
            assert code == 2 and failing[0] == files[first], mutant
            assert err.count("\n") == len(failing)  # one line per failing trace


def test_mutants_table_and_exit_code(capsys, tmp_path):
    code, out, _ = run(capsys, "vectors", "raft", *RAFT_T3, "--out", tmp_path / "m", "--mutants")
    assert code == 1  # no_log_matching_check survives
    table = out[out.index("mutant  "):].splitlines()
    assert table[1].startswith("vote_twice ") and "vector_0004.itf.json (added for it)" in table[1]
    assert any(line.startswith("no_log_matching_check") and "none (survives)" in line for line in table)


def test_a_tampered_vector_is_rejected(capsys, tmp_path):
    out_dir = tmp_path / "v"
    assert run(capsys, "vectors", "raft", *RAFT_SMALL, "--out", out_dir, "--no-kill")[0] == 0
    f = out_dir / "vector_0000.itf.json"
    doc = json.loads(f.read_text())
    ok = json.dumps(doc)
    doc["states"][3]["#meta"]["enabled"] = doc["states"][3]["#meta"]["enabled"][1:]
    f.write_text(json.dumps(doc))
    code, _, err = run(capsys, "replay", f)
    assert code == 2 and "state 3: the enabled actions differ" in err and err.count("\n") == 1
    doc = json.loads(ok)
    doc["states"][2]["currentTerm"]["#map"][0][1] = {"#bigint": "9"}
    f.write_text(json.dumps(doc))
    code, _, err = run(capsys, "replay", f)
    assert code == 2 and "step 2" in err


def test_same_command_same_bytes(capsys, tmp_path):
    outs = []
    for k in range(2):
        code, out, _ = run(capsys, "vectors", "raft", *RAFT_SMALL, "--seed", "7", "--out", tmp_path / f"r{k}",
                           "--mutants")
        outs.append(out.replace(str(tmp_path / f"r{k}"), "OUT"))
        code, out, _ = run(capsys, "vectors", "poa", "--max-height", "4", "--format", "geth",
                           "--out", tmp_path / f"g{k}.json")
        outs.append(out.replace(str(tmp_path / f"g{k}.json"), "OUT"))
    assert outs[0] == outs[2] and outs[1] == outs[3]
    first = sorted(p.name for p in (tmp_path / "r0").iterdir())
    assert first == sorted(p.name for p in (tmp_path / "r1").iterdir())
    assert all((tmp_path / "r0" / n).read_bytes() == (tmp_path / "r1" / n).read_bytes() for n in first)
    assert (tmp_path / "g0.json").read_bytes() == (tmp_path / "g1.json").read_bytes()


def test_seed_reorders_but_still_covers(capsys, tmp_path):
    figures = []
    for seed in (0, 5):
        code, out, _ = run(capsys, "vectors", "poa", "--signers", "2", "--max-height", "2", "--cover", "edges",
                           "--seed", seed, "--out", tmp_path / str(seed), "--json", "--no-kill")
        d = json.loads(out)
        assert code == 0 and d["covered"] == d["reachable"] == d["graph"]["transitions"] == 84
        assert run(capsys, "replay", tmp_path / str(seed))[0] == 0
        figures.append((d["covering"]["steps"], d["vectors"]))
    assert figures[0] == figures[1]  # the fewest steps, whatever the seed
    names = sorted(p.name for p in (tmp_path / "0").glob("vector_*"))
    assert any((tmp_path / "0" / n).read_bytes() != (tmp_path / "5" / n).read_bytes() for n in names)


def test_edges_cover_takes_the_fewest_steps_and_greedy_is_close(capsys, tmp_path):
    """On n2_t2_l1_c1_m1 the min-cost-flow construction takes 32,358 steps; --max (which makes the
    construction greedy) with room to spare takes more, and one shortest trace per transition far more."""
    system = refmodel.build("raft", servers=2, max_term=2, max_log=1)
    engine = system.engine()
    suite = build_suite(engine, check(engine, [], graph="labelled"), cover="edges", max_steps=1000)
    assert suite.method == "greedy" and suite.covered == 7112
    assert 32358 < suite.greedy.steps < suite.naive.steps == 92456


# -------------------------------------------------------------------------------------------- geth


GETH = ["--candidates", "1", "--max-height", "4", "--epoch", "3", "--cover", "branches", "--format", "geth"]


@pytest.mark.parametrize("extra,unreachable", [
    (["--signers", "3"], 5), (["--signers", "4"], 9), (["--signers", "3", "--threshold", "two_thirds"], 9)])
def test_geth_acceptance_runs(capsys, tmp_path, extra, unreachable):
    """Issue 13's acceptance runs: scenarios `refmodel poa replay` accepts, with all five failures; every
    mutant but keep_votes_of_dropped_signer killed (with epoch 3 no chain tells it apart: see README)."""
    out = tmp_path / "v.json"
    code, text, _ = run(capsys, "vectors", "poa", *extra, *GETH, "--out", out, "--json")
    d = json.loads(text)
    assert code == 0 and d["covered"] == d["reachable"] == 24 - unreachable
    doc = json.loads(out.read_text())
    assert set(doc["scenarios"][0]) >= {"id", "name", "description", "epoch", "initial_signers", "blocks",
                                       "expected"}
    assert sorted({sc["expected"]["failure"] for sc in doc["scenarios"]} - {None}) == FIVE_FAILURES
    code, text, _ = run(capsys, "poa", "replay", out, "--json")
    assert code == 0 and all(r["matches"] for r in json.loads(text))
    table = {m["mutant"]: m["first_failing_vector"] for m in d["mutants"]}
    assert [m for m, v in table.items() if v is None] == ["keep_votes_of_dropped_signer"]
    for mutant, first in table.items():
        code, text, _ = run(capsys, "poa", "replay", out, "--mutant", mutant, "--json")
        wrong = [r["id"] for r in json.loads(text) if not r["matches"]]
        assert (code, wrong[:1]) == ((0, []) if first is None else (1, [first])), mutant


def test_geth_suite_with_room_for_votes_kills_every_mutant(capsys, tmp_path):
    out = tmp_path / "v.json"
    code, text, _ = run(capsys, "vectors", "poa", "--signers", "3", "--candidates", "1", "--max-height", "6",
                        "--epoch", "5", "--format", "geth", "--out", out, "--json", "--mutants")
    d = json.loads(text)
    assert code == 0 and all(m["killed"] for m in d["mutants"])
    assert d["unreachable"] == [b for b in BRANCHES if b.startswith("execute on touch")]
    assert run(capsys, "poa", "replay", out)[0] == 0


def test_epoch_3_leaves_no_room_for_keep_votes_of_dropped_signer():
    """benchmarks/vectors.md's explanation of the acceptance runs' survivor, pinned: with --epoch 3 only two
    blocks between checkpoints can vote, so the exhaustive scan (pairs of model and mutant snapshots along
    every chain of the bounds) finds no chain telling keep_votes_of_dropped_signer apart, and a vote cast
    again, a withdrawn vote, a drop shrinking the recency window and execute on touch are out of reach; with
    --epoch 5 --max-height 6 the scan finds a four-block chain (a signer's drop vote outlives its own drop and
    still counts) and only execute on touch stays out of reach."""
    from refmodel.model.poa.config import PoaConfig
    from refmodel.model.poa.vectors import CliqueChain, geth_oracles

    def scan(height: int, epoch: int):
        chain = CliqueChain(PoaConfig(signers=3, candidates=1, max_height=height, epoch=epoch))
        oracle = next(o for o in geth_oracles(chain) if o.name == "keep_votes_of_dropped_signer")
        return oracle.distinguish(None)

    assert scan(4, 3) is None
    found = scan(6, 5)
    assert found is not None and len(found) == 4
    assert "drop: the dropped signer's votes are discarded" in str(found[2])
    small = refmodel.vectors("poa", format="geth", signers=3, candidates=1, max_height=4, epoch=3, kill=False)
    # (the e5 h6 suite misses only execute on touch: test_geth_suite_with_room_for_votes_kills_every_mutant)
    touch = [b for b in BRANCHES if b.startswith("execute on touch")]
    assert small.unreachable == ["vote cast again: counted once",
                                 "vote withdrawn: an invalid vote uncasts the sealer's earlier one",
                                 "drop: one more recent leaves the smaller window", *touch]


def test_geth_scenarios_end_where_their_outcome_shows(tmp_path, capsys):
    """A rejected block is the last of its scenario and the only branch that scenario claims to cover."""
    out = tmp_path / "v.json"
    run(capsys, "vectors", "poa", *GETH, "--out", out)
    for sc in json.loads(out.read_text())["scenarios"]:
        if sc["expected"]["failure"] is not None and sc["description"].startswith("Covers"):
            assert sc["description"].count(";") == 0 and sc["expected"]["failure"] in sc["description"]


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("argv,message", [
    (["vectors"], "vectors needs a protocol"),
    (["vectors", "paxos", "--out", "x"], "paxos"),
    (["vectors", "raft", "--format", "geth", "--out", "x"], "--format geth is go-ethereum's Clique table"),
    (["vectors", "raft", "--format", "etcd", "--out", "x"], "for etcdraft, not raft"),
    (["vectors", "raft", "--servers", "0", "--out", "x"], "--servers must be >= 1"),
    (["vectors", "raft", "--max", "0", "--out", "x"], "--max"),
    (["vectors", "raft"], "--out"),
    (["vectors", "raft", "--cover", "paths", "--out", "x"], "--cover"),
    (["vectors", "poa", "--signers", "20", "--candidates", "6", "--format", "geth", "--out", "x"], "A-Z"),
    (["replay", "/nonexistent/dir/x.itf.json"], "cannot read"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and err.strip().count("\n") <= 1 and "Traceback" not in err


def test_unwritable_out_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run(capsys, "vectors", "poa", "--max-height", "1", "--format", "geth", "--out",
                       blocker / "v.json")
    assert code == 2 and "cannot write" in err and err.count("\n") == 1


# ------------------------------------------------------------------------------------------ README


def _readme_section() -> str:
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = text.index("## Conformance vectors")
    return text[start:text.index("\n## ", start + 1)]


def test_readme_commands_and_harness_examples_run(capsys, tmp_path, monkeypatch):
    """The section's shell commands give the exit codes it states, and the three harness examples run verbatim
    on what they wrote."""
    section = _readme_section()
    shell = section.split("```sh\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    expected = {"--mutants  # exit 1": 1, "minority_quorum": 2, "keep_votes_of_dropped_signer": 1,
                "--mutant send_before_persist": 1}
    for line in shell.splitlines():
        if not line.startswith("refmodel ") or "--cover edges" in line:  # that one: test_raft_edges_cover_...
            continue
        argv = line.split("#", 1)[0].split()[1:]
        want = next((code for key, code in expected.items() if key in line), 0)
        assert run(capsys, *argv)[0] == want, line
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    assert len(blocks) == 3  # itf, geth, etcd
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
        assert capsys.readouterr().out.startswith("every ")


def test_itf_py_reads_the_vectors_with_the_same_values(capsys, tmp_path):
    """The reference ITF reader (itf-py) reads every vector, its per-state #meta included, as we do."""
    itf_py = pytest.importorskip("itf_py")
    from test_itf_py import _canon

    from refmodel.checkers.itf import normalise

    assert run(capsys, "vectors", "raft", *RAFT_SMALL, "--out", tmp_path, "--no-kill")[0] == 0
    for f in sorted(tmp_path.glob("vector_*.itf.json")):
        raw = json.loads(f.read_text())
        trace = itf_py.trace_from_json(raw)
        assert len(trace.states) == len(raw["states"]) > 1
        for ours, theirs in zip(raw["states"], trace.states):
            assert all(_canon(theirs.values[v]) == normalise(ours[v]) for v in raw["vars"])
