"""Users extend the model from their own files, with nothing inside the package edited: properties and rule
variants by PATH.py:NAME, MODULE:NAME or entry point, in flags and in spec files; the Python API; the
shipped specs from any directory."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

import refmodel
from refmodel.checkers.cli import main

ROOT = Path(__file__).resolve().parents[1]

PROPS = '''
def at_most_one_leader(cfg, s):
    """At most one server is Leader at a time."""
    return sum(sv.state == "Leader" for sv in s.servers) <= 1


def terms_only_grow(cfg, s, t):
    """No server's term goes down in a step."""
    return all(b.currentTerm >= a.currentTerm for a, b in zip(s.servers, t.servers))


def three(a, b, c, d):
    """Wrong arity."""
    return True
'''

DECORATED = '''
from refmodel.invariants import invariant

@invariant("raft", reads={"servers"})
def leaders_have_voted_for_themselves(cfg, s):
    """A Leader's vote went to itself or to nobody."""
    return all(sv.votedFor in (None, k) for k, sv in enumerate(s.servers) if sv.state == "Leader")

@invariant("poa")
def a_poa_property(cfg, s):
    """Always true, but for Clique."""
    return True
'''

BUG = '''
from refmodel.model import Mutant
from functools import partial

from refmodel.model.raft.actions import candidate_log_ok, handle_request_vote_request, replace_rules


def grant_twice(j, sv, m):
    """grant without checking votedFor (the project's own vote_twice, written by a user)."""
    return m.mterm == sv.currentTerm and candidate_log_ok(sv, m)


vote_twice_again = Mutant("vote_twice_again", "votes for two candidates in one term",
                          replace_rules(handle_request_vote_request=partial(handle_request_vote_request,
                                                                            grant_rule=grant_twice)))
not_a_mutant = 42
'''


@pytest.fixture
def userdir(tmp_path, monkeypatch):
    (tmp_path / "props.py").write_text(PROPS)
    (tmp_path / "decorated.py").write_text(DECORATED)
    (tmp_path / "bugs.py").write_text(BUG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plain_user_invariant_from_a_file_finds_two_leaders(userdir, capsys):
    """Two leaders of different terms coexist in raft.tla: with terms up to 3 (a leader of term 2 that has
    not heard of term 3) the shortest run is 18 steps."""
    code, out, _ = run(capsys, "check", "raft", "--servers", "3", "--max-term", "3", "--max-log", "0",
                       "--symmetry", "--invariant", "./props.py:at_most_one_leader")
    assert code == 1
    assert "Counterexample to props.at_most_one_leader (state property), 18 steps:" in out


def test_with_terms_up_to_2_every_leader_has_term_2_so_one_leader_at_most(userdir, capsys):
    """The issue's command (--max-term 2) passes, and must: terms start at 1, so every leader was elected in
    term 2, and election safety allows one leader per term.  Pinned so that a change to it is noticed."""
    code, out, _ = run(capsys, "check", "raft", "--servers", "3", "--max-term", "2", "--max-log", "0",
                       "--symmetry", "--invariant", "./props.py:at_most_one_leader")
    assert code == 0 and "verdict: PASS" in out


def test_transition_property_and_decorated_property_from_user_files(userdir, capsys):
    code, out, _ = run(capsys, "check", "raft", "--servers", "2", "--max-log", "0", "--invariant",
                       "props.py:terms_only_grow", "--invariant", "decorated.py:leaders_have_voted_for_themselves")
    assert code == 0, out
    assert "invariants: props.terms_only_grow, decorated.leaders_have_voted_for_themselves" in out


def test_module_reference(userdir, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(userdir))
    code, out, _ = run(capsys, "check", "raft", "--servers", "2", "--max-log", "0", "--invariant",
                       "props:terms_only_grow")
    assert code == 0 and "props.terms_only_grow" in out


@pytest.mark.parametrize("ref, message", [
    ("./nope.py:x", r"no file .*nope\.py"),
    ("./props.py:missing", r"has no 'missing'"),
    ("./props.py:three", r"must take \(cfg, state\) or \(cfg, state, next_state\), not 4 parameters"),
    ("./decorated.py:a_poa_property", r"is for poa, not raft"),
    ("no_such_module_xyz:f", r"no module named 'no_such_module_xyz'"),
    ("nosuchname", r"unknown invariant 'nosuchname'"),
])
def test_bad_invariant_references_are_one_line_errors(userdir, capsys, ref, message):
    code, out, err = run(capsys, "check", "raft", "--servers", "2", "--max-log", "0", "--invariant", ref)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err


def test_user_mutant_from_a_file_is_caught_like_the_shipped_one(userdir, capsys):
    code, out, _ = run(capsys, "check", "raft", "--servers", "2", "--max-log", "0", "--symmetry",
                       "--mutant", "./bugs.py:vote_twice_again")
    assert code == 1 and "Counterexample to raft.election_safety (state property), 16 steps:" in out


@pytest.mark.parametrize("ref, message", [
    ("./bugs.py:not_a_mutant", "is a int, not a refmodel.model.Mutant"),
    ("./bugs.py:nothing", "has no 'nothing'"),
    ("no_such_mutant", "unknown raft mutant 'no_such_mutant'"),
])
def test_bad_mutant_references_are_one_line_errors(userdir, capsys, ref, message):
    code, _, err = run(capsys, "check", "raft", "--servers", "2", "--max-log", "0", "--mutant", ref)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_a_raft_mutant_for_poa_is_refused(userdir, capsys):
    code, _, err = run(capsys, "check", "poa", "--signers", "2", "--max-height", "1",
                       "--mutant", "./bugs.py:vote_twice_again")
    assert code == 2 and "replaces rules of another protocol" in err


def test_spec_file_names_are_relative_to_the_spec(userdir, capsys, tmp_path_factory, monkeypatch):
    (userdir / "two_leaders.toml").write_text(textwrap.dedent('''
        protocol = "raft"
        symmetry = true
        invariants = ["./props.py:at_most_one_leader"]
        [bounds]
        servers = 3
        max_term = 3
        max_log = 0
        [expect]
        verdict = "violation"
        invariant = "props.at_most_one_leader"
        length = 18
    '''))
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    code, out, err = run(capsys, "check", str(userdir / "two_leaders.toml"))
    assert code == 0, out + err
    assert "1/1 specs as expected" in out


def test_spec_file_with_a_missing_user_file_names_the_field(userdir, capsys):
    (userdir / "bad.toml").write_text('protocol = "raft"\ninvariants = ["./gone.py:f"]\n[expect]\nverdict = "pass"\n')
    code, _, err = run(capsys, "check", "bad.toml")
    assert code == 2 and "bad.toml:2: field 'invariants'" in err and "gone.py" in err


def test_entry_points_contribute_properties_and_mutants(userdir, capsys, monkeypatch):
    import importlib.metadata as md

    monkeypatch.syspath_prepend(str(userdir))
    eps = [md.EntryPoint("mychecks.terms", "props:terms_only_grow", "refmodel.invariants"),
           md.EntryPoint("user_vote_twice", "bugs:vote_twice_again", "refmodel.mutants")]

    def entry_points(group=None, **_):
        return [e for e in eps if e.group == group]

    monkeypatch.setattr(md, "entry_points", entry_points)
    code, out, err = run(capsys, "check", "raft", "--servers", "2", "--max-log", "0", "--symmetry",
                         "--invariant", "mychecks.terms", "--invariant", "election_safety",
                         "--mutant", "user_vote_twice")
    assert code == 1, err
    assert "mychecks.terms" in out and "Counterexample to raft.election_safety" in out


def test_python_api():
    r = refmodel.check("raft", servers=2, max_term=2, max_log=1, max_msg_count=1, max_msgs=1)
    assert (r.verdict, r.distinct_states, r.generated_states, r.tlc_depth) == ("pass", 1760, 13797, 28)
    with pytest.raises(refmodel.InputError, match="unknown bound 'serverz'"):
        refmodel.check("raft", serverz=2)
    with pytest.raises(refmodel.InputError, match="unknown protocol 'paxos'"):
        refmodel.check("paxos")
    s = refmodel.simulate("raft", servers=3, runs=5, steps=20, seed=1, mutant="vote_twice")
    assert s.runs >= 1 and s.steps > 0
    p = refmodel.prove("raft", servers=3, invariants=["election_safety"])
    assert p.verdict == "counterexample"


def test_readme_python_example_runs_verbatim():
    """The README's Python API block is executed as it stands."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    api = [b for b in blocks if "import refmodel" in b]
    assert api, "README has no Python API example"
    for block in api:
        exec(compile(block, "README.md", "exec"), {})


def test_builtin_specs_are_shipped():
    from importlib.resources import files

    shipped = sorted(p.name for p in Path(str(files("refmodel.specs"))).glob("*.toml"))
    assert shipped == sorted(p.name for p in (ROOT / "specs").glob("*.toml"))


def test_builtin_with_a_spec_argument_is_refused(capsys):
    code, _, err = run(capsys, "check", "--builtin", "specs/raft_mutant_vote_twice.toml")
    assert code == 2 and "--builtin" in err


def test_python_api_validates_traces(tmp_path):
    trace = ROOT.parent / "shared" / "reference" / "etcd" / "example.ndjson"
    if not trace.exists():
        pytest.skip("../shared reference data not present")
    lines = trace.read_text().splitlines()[:400]
    good = tmp_path / "good.ndjson"
    good.write_text("\n".join(lines) + "\n")
    assert refmodel.validate_trace(str(good)).verdict == "valid"
    import json

    rec = json.loads(lines[205])
    rec["event"]["state"]["commit"] += 1
    lines[205] = json.dumps(rec)
    bad = tmp_path / "bad.ndjson"
    bad.write_text("\n".join(lines) + "\n")
    r = refmodel.validate_trace(str(bad))
    assert r.verdict == "invalid" and r.line == 206
    with pytest.raises(refmodel.InputError, match="no trace validation for model 'poa'"):
        refmodel.validate_trace(str(good), model="poa")
