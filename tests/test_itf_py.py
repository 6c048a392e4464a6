"""Every ITF trace we write is read by itf-py (the Apalache/Quint ITF library) with the same values.

We keep our own codec (``checkers/itf.py``: it encodes the models' own types and compares traces whatever the
order of sets and maps); this holds it to the reference reader: each value itf-py decodes, put in our
canonical form, equals our own reading of the same JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refmodel.checkers.cli import main
from refmodel.checkers.itf import normalise

itf_py = pytest.importorskip("itf_py")


def _canon(v):
    """An itf-py value in the canonical form of :func:`refmodel.checkers.itf.normalise`."""
    if isinstance(v, bool) or isinstance(v, (int, str)):
        return v
    if isinstance(v, frozenset):
        return ("#set", tuple(sorted((_canon(x) for x in v), key=repr)))
    if isinstance(v, dict):  # ImmutableDict: a #map
        return ("#map", tuple(sorted(((_canon(k), _canon(x)) for k, x in v.items()), key=repr)))
    if hasattr(v, "_fields"):  # a record (namedtuple)
        return ("#rec", tuple(sorted((k, _canon(getattr(v, k))) for k in v._fields)))
    if isinstance(v, (list, tuple)):
        return tuple(_canon(x) for x in v)
    raise TypeError(type(v))


@pytest.mark.parametrize("argv", [
    ["raft", "--servers", "2", "--max-log", "0", "--mutant", "vote_twice", "--symmetry"],
    ["raft", "--servers", "2", "--max-term", "3", "--max-log", "1", "--mutant", "commit_old_term_by_count"],
    ["poa", "--signers", "3", "--candidates", "1", "--max-height", "3", "--epoch", "2",
     "--mutant", "no_vote_reset_at_epoch"],
    ["poa", "--signers", "3", "--max-height", "2", "--invariant", "no_fork_at_depth_k"],
], ids=["raft-vote-twice", "raft-figure8", "poa-epoch", "poa-fork"])
def test_itf_py_reads_our_traces_with_the_same_values(tmp_path, capsys, argv):
    path = tmp_path / "cex.itf.json"
    assert main(["check", *argv, "--itf", str(path), "--progress", "off"]) == 1
    capsys.readouterr()
    raw = json.loads(path.read_text())
    trace = itf_py.trace_from_json(raw)
    assert trace.vars == raw["vars"] and len(trace.states) == len(raw["states"]) > 1
    for ours, theirs in zip(raw["states"], trace.states):
        for var in raw["vars"]:
            assert _canon(theirs.values[var]) == normalise(ours[var]), var
        assert theirs.values["mbt::actionTaken"] == ours["mbt::actionTaken"]


def test_the_comparison_bites():
    """A value itf-py reads differently is noticed (a set against a list of the same items)."""
    assert _canon(itf_py.itf.value_from_json({"#set": [1, 2]})) != normalise([1, 2])
