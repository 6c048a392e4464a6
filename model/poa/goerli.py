"""The 8-signer halt of EIP-3436's rationale, as a directed replay of its blocks through the Clique rules.

Eight signers (``s1``..``s8`` for the EIP's 0..7).  A common prefix in which every signer seals in turn
(blocks 1 to 7 by ``s2``..``s8``, blocks 8 to 14 by ``s1``..``s7``), then a network split: signers 0, 2 and 3
extend one fork out of turn (blocks 15 to 17 by ``s1``, ``s4``, ``s3``), signers 1, 7 and 4 the other (``s2``,
``s8``, ``s5``), signer 6 (``s7``) follows the second fork and signer 5 (``s6``) goes offline.  Both forks have
the same total difficulty and height; on the first only ``s2``, ``s5``, ``s6``, ``s8`` may seal block 18 (the
others signed within the last four blocks), on the second only ``s1``, ``s3``, ``s4``, ``s6``: every online node
holds the fork it cannot extend.  This is the revised scenario of the EIP's discussion thread (EIP-3436's
second halting configuration).

:func:`halt_state` builds that state (both forks announced) for a fork-choice rule; BFS from it, with one
more block allowed, says what the rule does there (``tests/test_poa_goerli.py``).
"""

from __future__ import annotations

from refmodel.model.poa.actions import Poa
from refmodel.model.poa.config import PoaConfig
from refmodel.model.poa.rules import Block
from refmodel.model.poa.state import Chain, PoaState

PREFIX = [1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6]  # the EIP's signer index of blocks 1..14, all in turn
FORK_A = [0, 3, 2]  # blocks 15..17 on the first fork
FORK_B = [1, 7, 4]  # and on the second
ON_A, ON_B, OFFLINE = (0, 2, 3), (1, 4, 6, 7), 5


def config(fork_choice: str) -> PoaConfig:
    """8 signers, no candidates, no votes, an epoch beyond the scenario, room for one more block, and the
    offline fault (one node) so that signer 5 may stay offline or come back."""
    return PoaConfig(signers=8, candidates=0, max_height=18, epoch=1000, votes="none", offline=True,
                     max_offline=1, fork_choice=fork_choice)


def _chain(model: Poa, sealers: list[int]) -> Chain:
    chain = model.genesis
    for k in sealers:
        number = len(chain.blocks) + 1
        me = model.ids[k]
        block = Block(number, me, None, model.rules.calc_difficulty(chain.head, number, me), None)
        chain, err = model.extend(chain, block)
        if chain is None:
            raise ValueError(f"the scenario's block #{number} by {me} is rejected: {err}")
    return chain


class GoerliHalt(Poa):
    """The Clique model started in the split state instead of at genesis."""

    def __init__(self, config: PoaConfig) -> None:
        super().__init__(config)
        a, b = _chain(self, PREFIX + FORK_A), _chain(self, PREFIX + FORK_B)
        prefix = _chain(self, PREFIX)
        chains = tuple(a if k in ON_A else b if k in ON_B else prefix for k in range(8))
        self.start = PoaState(chains=chains, online=tuple(k != OFFLINE for k in range(8)),
                              network=frozenset({a, b}))

    def init_states(self) -> list[PoaState]:
        return [self.start]


def halt_state(fork_choice: str) -> tuple[GoerliHalt, PoaState]:
    """The model and the split state, for ``fork_choice``."""
    model = GoerliHalt(config(fork_choice))
    return model, model.start
