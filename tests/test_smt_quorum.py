"""The quorum lemmas the safety arguments rest on, proved by Z3 for every cluster size up to 12."""

from __future__ import annotations

import json

import pytest

from refmodel.checkers.cli.prove import cli_main
from refmodel.checkers.smt import quorum_lemmas

NAMES = ["majority_intersect", "majority_overlap_tight", "two_thirds_intersect", "two_thirds_honest"]


@pytest.mark.parametrize("n", range(1, 13))
def test_quorum_lemmas_hold(n):
    lemmas = quorum_lemmas(n)
    assert [x.name for x in lemmas] == NAMES
    assert all(x.proved and x.n == n for x in lemmas), [x.name for x in lemmas if not x.proved]


def test_lemmas_can_fail():
    """The checks are not vacuous: with the thresholds weakened the same queries find counterexamples."""
    import z3

    from refmodel.checkers.smt import _card, _subset

    for n in (4, 6, 9):
        A, B = _subset(n, "a"), _subset(n, "b")
        s = z3.Solver()  # two halves (not majorities) can be disjoint for even n; 2/3 sets can share <= n/3
        s.add(2 * _card(A) >= n, 2 * _card(B) >= n, z3.Not(z3.Or([z3.And(a, b) for a, b in zip(A, B)])))
        assert s.check() == (z3.sat if n % 2 == 0 else z3.unsat)
    for n in (6, 9, 12):  # with ">= 2N/3" (not ">") two such sets may share exactly a third
        A, B = _subset(n, "a"), _subset(n, "b")
        s = z3.Solver()
        s.add(3 * _card(A) >= 2 * n, 3 * _card(B) >= 2 * n,
              3 * _card([z3.And(a, b) for a, b in zip(A, B)]) <= n)
        assert s.check() == z3.sat


def test_cli_quorum(capsys):
    assert cli_main(["quorum", "--servers", "9", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["verdict"] == "proved" and len(d["lemmas"]) == 4 * 9
    assert {x["n"] for x in d["lemmas"]} == set(range(1, 10)) and all(x["proved"] for x in d["lemmas"])
    assert cli_main(["quorum", "--servers", "5"]) == 0
    out = capsys.readouterr().out
    assert "two_thirds_honest" in out and "proved for every N" in out and "PROVED" in out
