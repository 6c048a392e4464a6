"""go-ethereum's Clique voting scenarios replayed through the model's rule functions (`refmodel poa replay`),
the mutants the vectors catch, and one-line errors for malformed scenario files."""

from __future__ import annotations

import json

import pytest
from conftest import REFERENCE, need

from refmodel.checkers.cli import main
from refmodel.model.poa import rules as R
from refmodel.model.poa.replay import ScenarioError, parse_scenarios, replay_all

VECTORS = REFERENCE / "clique" / "geth_snapshot_vectors.json"


@pytest.fixture(scope="module")
def vectors() -> dict:
    return json.loads(need(VECTORS).read_text())


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_all_24_scenarios_match(capsys, vectors):
    code, out, _ = run(capsys, "poa", "replay", str(VECTORS), "--json")
    rows = json.loads(out)
    assert code == 0
    assert len(rows) == len(vectors["scenarios"]) == 24
    assert all(set(r) == {"id", "final_signers", "failure", "failing_block", "matches"} for r in rows)
    mismatched = [r["id"] for r in rows if not r["matches"]]
    assert mismatched == []
    # the outcomes are the expectations, not just "matches" flags
    for r, sc in zip(rows, vectors["scenarios"]):
        exp = sc["expected"]
        if exp["failure"] is None:
            assert r["failure"] is None and r["final_signers"] == sorted(exp["final_signers"])
        else:
            assert r["failure"] == exp["failure"] and r["final_signers"] is None
            assert isinstance(r["failing_block"], int)


def test_text_output_names_each_scenario(capsys, vectors):
    code, out, _ = run(capsys, "poa", "replay", str(VECTORS))
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 25
    assert lines[-1] == "24/24 scenarios match go-ethereum's expectations"
    assert any("errRecentlySigned at block" in ln and ln.endswith("ok") for ln in lines)


def test_the_replay_uses_the_models_rules(monkeypatch, vectors):
    """One copy of the protocol: breaking the model's rule function breaks the replay."""
    broken = R.replace_rules(check_recency=lambda snap, sealer: None)
    monkeypatch.setattr(R, "DEFAULT_RULES", broken)
    from refmodel.model.poa import replay as rp

    monkeypatch.setattr(rp, "DEFAULT_RULES", broken)
    assert [o.id for o in replay_all(vectors) if not o.matches] == [21, 22, 23]


# mutant -> the scenarios whose expectation it breaks (each mutant is also caught by BFS: test_poa_mutants.py)
CAUGHT_BY_VECTORS = {
    "no_recency_check": [21, 22, 23],
    "accept_unauthorised_signer": [20],
    "threshold_half": [1, 2, 4, 5, 7, 9, 10, 11, 13, 14, 15, 16, 17, 19],
    "no_vote_reset_at_epoch": [19],
    "recents_reset_at_checkpoint": [22, 23],
    "keep_votes_of_dropped_signer": [13, 14],
}


@pytest.mark.parametrize("mutant", sorted(CAUGHT_BY_VECTORS))
def test_vectors_catch_mutant(capsys, vectors, mutant):
    code, out, _ = run(capsys, "poa", "replay", str(VECTORS), "--mutant", mutant, "--json")
    assert code == 1
    assert [r["id"] for r in json.loads(out) if not r["matches"]] == CAUGHT_BY_VECTORS[mutant]


def write(tmp_path, data) -> str:
    p = tmp_path / "scenarios.json"
    p.write_text(json.dumps(data))
    return str(p)


def scenario(**over) -> dict:
    sc = {"id": 7, "name": "demo", "epoch": 30000, "initial_signers": ["A", "B"],
          "blocks": [{"number": 1, "signer": "A", "voted": "C", "auth": True, "checkpoint": None},
                     {"number": 2, "signer": "B", "voted": "C", "auth": True, "checkpoint": None}],
          "expected": {"final_signers": ["A", "B", "C"], "failure": None}}
    sc.update(over)
    return sc


def test_own_scenario_file(capsys, tmp_path):
    code, out, _ = run(capsys, "poa", "replay", write(tmp_path, {"scenarios": [scenario()]}), "--json")
    assert code == 0 and json.loads(out) == [{"id": 7, "final_signers": ["A", "B", "C"], "failure": None,
                                              "failing_block": None, "matches": True}]
    wrong = scenario(expected={"final_signers": ["A", "B"], "failure": None})
    code, out, _ = run(capsys, "poa", "replay", write(tmp_path, {"scenarios": [wrong]}))
    assert code == 1 and "MISMATCH: expected signers [A, B]" in out


def _blocks(**change) -> list:
    b = scenario()["blocks"]
    b[1] = {**b[1], **change}
    return b


@pytest.mark.parametrize("data, names", [
    ({"scenarios": [{k: v for k, v in scenario().items() if k != "epoch"}]},
     ["scenario 7 (demo)", "'epoch'", "missing"]),
    ({"scenarios": [scenario(blocks=[{"number": 1, "signer": "A", "voted": None, "auth": False}])]},
     ["scenario 7", "'blocks[0].checkpoint'", "missing"]),
    ({"scenarios": [scenario(blocks=_blocks(signer="a1"))]},
     ["scenario 7", "'blocks[1].signer'", "unknown signer 'a1'"]),
    ({"scenarios": [scenario(initial_signers=["A", "?"])]}, ["scenario 7", "'initial_signers[1]'", "unknown signer"]),
    ({"scenarios": [scenario(blocks=_blocks(number=1))]}, ["scenario 7", "'blocks[1].number'", "does not increase"]),
    ({"scenarios": [scenario(blocks=_blocks(number=4))]}, ["scenario 7", "'blocks[1].number'", "skips a height"]),
    ({"scenarios": [scenario(expected={"final_signers": None, "failure": "errBogus"})]},
     ["scenario 7", "'expected.failure'", "unknown error"]),
    ({"scenario": []}, ["file", "'scenarios'", "missing"]),
])
def test_bad_scenario_file_one_line_exit_2(capsys, tmp_path, data, names):
    path = write(tmp_path, data)
    code, out, err = run(capsys, "poa", "replay", path)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert path in err
    for n in names:
        assert n in err


def test_unreadable_and_unknown(capsys, tmp_path):
    assert run(capsys, "poa", "replay", str(tmp_path / "nope.json"))[0] == 2
    (tmp_path / "bad.json").write_text("{not json")
    code, _, err = run(capsys, "poa", "replay", str(tmp_path / "bad.json"))
    assert code == 2 and "not valid JSON" in err
    code, _, err = run(capsys, "poa", "replay", str(tmp_path / "bad.json"), "--mutant", "nope")
    assert code == 2 and "unknown poa mutant 'nope'" in err
    code, _, err = run(capsys, "poa", "frobnicate")
    assert code == 2 and "unknown poa command" in err


def test_parse_errors_are_scenario_errors():
    with pytest.raises(ScenarioError) as exc:
        parse_scenarios({"scenarios": [scenario(epoch=0)]})
    assert exc.value.field == "epoch" and exc.value.scenario == "scenario 7 (demo)"
