"""Bad input never shows a traceback: random bytes and near-valid mutations of spec files, ITF traces and
Clique scenario files give exit 2 and one line naming the file (or, when a mutation happens to stay valid,
an ordinary verdict).  Hypothesis generates a few hundred examples of each in CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refmodel.checkers.cli import main

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT.parent / "shared" / "reference" / "clique" / "geth_snapshot_vectors.json"
SPEC = (ROOT / "specs" / "raft_mutant_vote_twice.toml").read_bytes()
FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")


def _one_line_error(capsys, code: int, name: str) -> None:
    out, err = capsys.readouterr()
    assert code in (0, 1, 2, 3), code
    assert "Traceback" not in err + out
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and name in lines[0], err


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Delete, insert or overwrite a few bytes: the near-valid files that people and tools produce."""
    b = bytearray(data)
    for pos, kind, payload in edits:
        pos = pos % (len(b) + 1)
        if kind == 0:
            del b[pos:pos + len(payload) + 1]
        elif kind == 1:
            b[pos:pos] = payload
        else:
            b[pos:pos + len(payload)] = payload
    return bytes(b)


EDITS = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 2),
                           st.sampled_from([b'"', b"=", b"[", b"]", b"{", b"}", b"\n", b"\xff\xfe", b"-1", b"0",
                                            b"99999999999999999999", b"true", b"null", b"x", b",", b":"])
                           | st.binary(max_size=4)),
                 min_size=1, max_size=4)


def _spec_check(capsys, tmp_path, data: bytes) -> None:
    """Spec files are validated before anything runs, so loading is what the fuzz exercises (a valid mutant
    would start a model check): load_spec raises only SpecError, which the CLI prints as one line."""
    from refmodel.checkers.spec import SpecError, load_spec

    f = tmp_path / "fuzz.toml"
    f.write_bytes(data)
    try:
        load_spec(f)
    except SpecError as exc:
        msg = str(exc)
        assert "\n" not in msg.strip() and "fuzz.toml" in msg, msg


@FUZZ
@given(data=st.binary(max_size=300))
def test_spec_file_random_bytes(tmp_path, capsys, data):
    _spec_check(capsys, tmp_path, data)


@FUZZ
@given(edits=EDITS)
def test_spec_file_near_valid(tmp_path, capsys, edits):
    _spec_check(capsys, tmp_path, _mutate(SPEC, edits))


@pytest.fixture(scope="module")
def itf_trace(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("itf") / "cex.itf.json"
    code = main(["check", "raft", "--servers", "2", "--max-log", "0", "--mutant", "vote_twice", "--symmetry",
                 "--itf", str(path), "--progress", "off"])
    assert code == 1
    return path.read_bytes()


@FUZZ
@given(edits=EDITS)
def test_itf_trace_near_valid(tmp_path, capsys, itf_trace, edits):
    f = tmp_path / "fuzz.itf.json"
    f.write_bytes(_mutate(itf_trace, edits))
    _one_line_error(capsys, main(["replay", str(f)]), "fuzz.itf.json")


@FUZZ
@given(data=st.binary(max_size=300))
def test_itf_trace_random_bytes(tmp_path, capsys, data):
    f = tmp_path / "fuzz.itf.json"
    f.write_bytes(data)
    code = main(["replay", str(f)])
    _one_line_error(capsys, code, "fuzz.itf.json")
    assert code == 2


@FUZZ
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                          lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                          max_leaves=10))
def test_itf_trace_wrong_shapes(tmp_path, capsys, itf_trace, value):
    """Valid JSON with a field replaced by an arbitrary value."""
    doc = json.loads(itf_trace)
    doc["states"][min(1, len(doc["states"]) - 1)]["currentTerm"] = value
    f = tmp_path / "fuzz.itf.json"
    f.write_text(json.dumps(doc))
    _one_line_error(capsys, main(["replay", str(f)]), "fuzz.itf.json")


@pytest.fixture(scope="module")
def vectors() -> bytes:
    if not VECTORS.exists():
        pytest.skip("../shared reference data not present")
    return VECTORS.read_bytes()


@FUZZ
@given(edits=EDITS)
def test_clique_scenarios_near_valid(tmp_path, capsys, vectors, edits):
    f = tmp_path / "fuzz.json"
    f.write_bytes(_mutate(vectors, edits))
    _one_line_error(capsys, main(["poa", "replay", str(f)]), "fuzz.json")


@FUZZ
@given(value=st.recursive(st.none() | st.booleans() | st.integers(-3, 40) | st.text(max_size=3),
                          lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                          max_leaves=8),
       which=st.integers(0, 50), field=st.sampled_from(["signers", "epoch", "blocks", "expected", "id", "name"]))
def test_clique_scenarios_wrong_shapes(tmp_path, capsys, vectors, value, which, field):
    doc = json.loads(vectors)
    scenarios = doc["scenarios"] if isinstance(doc, dict) else doc
    scenarios[which % len(scenarios)][field] = value
    f = tmp_path / "fuzz.json"
    f.write_text(json.dumps(doc))
    _one_line_error(capsys, main(["poa", "replay", str(f)]), "fuzz.json")
