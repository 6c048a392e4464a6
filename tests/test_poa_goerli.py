"""EIP-3436's 8-signer halt, replayed through the Clique rules: what each fork-choice rule does there."""

from __future__ import annotations

import pytest

from refmodel.invariants.poa import _halted, no_halt
from refmodel.model.poa.goerli import halt_state


def _step(model, s, action, i):
    """The successors of ``s`` by ``action`` of node ``i``."""
    return [t for lab, t in model.next_states(s) if lab.action == action and str(lab.param("i")) == i]


def test_the_split_is_the_scenario():
    model, s = halt_state("geth")
    a, b = s.chains[0], s.chains[1]
    assert len(a.blocks) == len(b.blocks) == 17 and a.td == b.td
    assert [str(x.sealer) for x in a.blocks[-3:]] == ["s1", "s4", "s3"]
    assert [str(x.sealer) for x in b.blocks[-3:]] == ["s2", "s8", "s5"]
    can_seal = lambda chain: {str(n) for k, n in enumerate(model.honest) if model.seal(k, chain)}  # noqa: E731
    assert can_seal(a) == {"s2", "s5", "s6", "s8"} and can_seal(b) == {"s1", "s3", "s4", "s6"}


@pytest.mark.parametrize("rule, halted", [("first_observed", True), ("geth_shorter_first", True),
                                          ("geth", False), ("eip3436", False)])
def test_each_rule_in_the_split(rule, halted):
    """first_observed and geth_shorter_first: halted (7 of 8 signers online, none can seal, announce or
    adopt); geth (a coin) and EIP-3436 (s5's head was in turn more recently than s3's: (17-4)%8 = 5 <
    (17-2)%8 = 7, so the first fork's nodes move to the second) let s1 adopt the other fork and seal block 18
    without the offline signer."""
    model, s = halt_state(rule)
    assert _halted(model.config, s) == halted
    assert bool(no_halt(model.config, s)) == (not halted)
    moved = _step(model, s, "Receive", "s1")
    if halted:
        assert not moved
        assert [lab.action for lab, _ in model.next_states(s)] == ["GoOnline"]  # nothing else is enabled
        back = _step(model, s, "GoOnline", "s6")  # the halt ends only when the offline signer returns,
        fork = _step(model, back[0], "Receive", "s6")  # adopts a fork (it holds the common prefix)
        assert fork and _step(model, fork[0], "Seal", "s6")  # and seals block 18 on it
    else:
        assert moved and len(moved[0].chains[0].blocks) == 17
        grown = _step(model, moved[0], "Seal", "s1")
        assert grown and len(grown[0].chains[0].blocks) == 18


def test_eip3436_moves_only_towards_the_fork_in_turn_more_recently():
    model, s = halt_state("eip3436")
    assert _step(model, s, "Receive", "s1") and not _step(model, s, "Receive", "s2")
