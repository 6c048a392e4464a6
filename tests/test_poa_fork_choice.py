"""Clique fork-choice rules (--fork-choice) and the chain halt they allow or prevent."""

from __future__ import annotations

import pytest

import refmodel
from refmodel.model.poa.rules import Block, fork_choice


def b(n, sealer, d):
    return Block(n, sealer, None, d, None)


LOCAL = (b(1, "s1", 1), b(2, "s3", 2))  # td 3, height 2
EQUAL = (b(1, "s2", 2), b(2, "s4", 1))  # td 3, height 2
SHORT = (b(1, "s2", 2), )                # td 2
SHORTER_EQUAL = (b(1, "s4", 2),)         # td 2, height 1
HEAVY = LOCAL[:1] + (b(2, "s2", 2), b(3, "s4", 1))


@pytest.mark.parametrize("rule, external, want", [
    ("geth", HEAVY, (True,)), ("geth", SHORT, (False,)), ("geth", EQUAL, (True, False)),
    ("first_observed", EQUAL, (False,)), ("first_observed", HEAVY, (True,)),
    ("geth_shorter_first", EQUAL, (False,)),
    ("eip3436", EQUAL, (False,)),  # s4 at #2 of 4 signers: (2-3)%4=3; s3: (2-2)%4=0 (in turn): keep
])
def test_rules(rule, external, want):
    signers = ("s1", "s2", "s3", "s4")
    assert fork_choice(LOCAL, external, rule, signers, signers) == want


def test_shorter_chain_of_equal_weight():
    local = (b(1, "s1", 1), b(2, "s3", 1))  # td 2, height 2
    for rule, want in [("geth", (True,)), ("geth_shorter_first", (True,)), ("eip3436", (True,)),
                       ("first_observed", (False,))]:
        assert fork_choice(local, SHORTER_EQUAL, rule, ("s1", "s2", "s3", "s4"), ("s1", "s2", "s3", "s4")) == (want)


def test_eip3436_is_a_total_order_on_distinct_heads():
    signers = ("s1", "s2", "s3", "s4")
    x, y = (b(1, "s2", 1),), (b(1, "s3", 1),)
    assert fork_choice(x, y, "eip3436", signers, signers) != fork_choice(y, x, "eip3436", signers, signers)


@pytest.mark.parametrize("rule, verdict, length", [
    ("first_observed", "violation", 11), ("geth_shorter_first", "violation", 12),
    ("geth", "pass", None), ("eip3436", "pass", None),
])
def test_halt_table_on_four_signers(rule, verdict, length):
    r = refmodel.check("poa", signers=4, candidates=0, max_height=2, fork_choice=rule, invariants=["no_halt"],
                       deadlock=False)
    assert r.verdict == verdict
    if length is not None:
        assert r.violation.invariant == "poa.no_halt" and r.violation.length == length
        assert "none can seal, announce or adopt" in r.violation.why


def test_the_halt_is_a_deadlock_too():
    r = refmodel.check("poa", signers=4, candidates=0, max_height=2, fork_choice="first_observed")
    assert r.verdict == "deadlock" and r.violation.length == 11


def test_default_rule_keeps_the_shipped_counts():
    r = refmodel.check("poa", signers=3, candidates=1, max_height=4)
    assert (r.distinct_states, r.generated_states) == (51194, 369693)
