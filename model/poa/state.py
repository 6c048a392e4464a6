"""Immutable states of the Clique model: each honest node's chain, its online flag, and the network.

Identities are :class:`Node` ints whose value is the address rank Clique sorts signers by: the genesis
signers ``s1..sN`` first, then the candidates ``c1..cC``, then the intruders ``x1..xX``.  Honest nodes (the
signers and the candidates) have index ``0 .. N+C-1`` in the per-node tuples.

A :class:`Chain` is a node's canonical chain: its blocks (genesis excluded) and the snapshot after each of
them as that node computed it with the model's rules (``snapshots[0]`` is genesis).  The snapshots are a
function of the blocks, so they add no states; they are kept so that invariants see what each node
believes the signer set is, mutants included.  Chains compare and hash by their blocks, with the hash
computed once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from refmodel.model.core import Sid
from refmodel.model.poa.rules import Block, Snapshot, block_key, total_difficulty  # noqa: F401 - block_key: re-exported


class Node(Sid):
    """An identity: an int (its rank in address order, which is what Clique sorts signers by) with a name
    that says its role (``s1``, ``c1``, ``x1``).  Hashes, compares and sorts as its int; a :class:`Sid`, so
    the checkers and testers treat it as a node identity."""

    def __new__(cls, rank: int, name: str) -> Node:
        obj = int.__new__(cls, rank)
        obj.__dict__["name"] = name
        return obj

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("identities are immutable")

    def __repr__(self) -> str:
        return self.__dict__["name"]

    __str__ = __repr__

    def __reduce__(self) -> tuple:
        return (Node, (int(self), self.__dict__["name"]))


def make_identities(signers: int, candidates: int, intruders: int) -> tuple[Node, ...]:
    """Every identity of a configuration, in address order: signers, candidates, intruders."""
    names = ([f"s{k + 1}" for k in range(signers)] + [f"c{k + 1}" for k in range(candidates)]
             + [f"x{k + 1}" for k in range(intruders)])
    return tuple(Node(rank, name) for rank, name in enumerate(names))


@dataclass(frozen=True, eq=False, slots=True)
class Chain:
    """A chain of blocks and the snapshots after each valid one (see the module docstring)."""

    blocks: tuple[Block, ...]
    snapshots: tuple[Snapshot, ...]
    _hash: int = field(init=False, repr=False)
    _key: tuple = field(init=False, repr=False)
    #: fork choice's order on chains: (total difficulty, minus the number of blocks)
    weight: tuple[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash(self.blocks))
        object.__setattr__(self, "_key", tuple(map(block_key, self.blocks)))
        object.__setattr__(self, "weight", (total_difficulty(self.blocks), -len(self.blocks)))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Chain) and self._hash == other._hash
                                 and self.blocks == other.blocks)

    def __len__(self) -> int:
        return len(self.blocks)

    def __stable__(self) -> tuple:
        """What stands for the chain in a content hash (model.core.stable_hash): its blocks, as in equality
        (the snapshots follow from them; the cached hash differs between processes)."""
        return self.blocks

    def sort_key(self) -> tuple:
        """A total order on chains that does not depend on hashing."""
        return self._key

    @property
    def head(self) -> Snapshot:
        """The snapshot after the last valid block."""
        return self.snapshots[-1]

    @property
    def td(self) -> int:
        return self.weight[0]

    @property
    def head_text(self) -> str:
        """The head block, described (``genesis`` for an empty chain)."""
        return self.blocks[-1].describe() if self.blocks else "genesis"

    def extends(self, other: Chain) -> bool:
        """Whether ``other``'s blocks are a prefix of this chain's (a chain extends itself)."""
        return len(other.blocks) <= len(self.blocks) and self.blocks[:len(other.blocks)] == other.blocks

    def describe(self) -> str:
        return "<<" + ", ".join(b.describe() for b in self.blocks) + ">>"


def network_items(network: frozenset[Chain]) -> list[Chain]:
    """The announced chains in a fixed order (independent of hashing)."""
    return sorted(network, key=Chain.sort_key)


class PoaState(NamedTuple):
    """A state: per honest node its chain and online flag; the announced chains.

    The network is a pool of announcements that every node may receive, at any time, any number of times,
    or never: receiving does not consume an announcement (each peer gets its own copy), so delay,
    duplication and reordering are all there.  ``Drop`` loses an announcement for every peer that has not
    received it yet."""

    chains: tuple[Chain, ...]
    online: tuple[bool, ...]
    network: frozenset[Chain]


#: the state fields a predicate may declare it reads
FIELDS = ("chains", "online", "network")


def permute_block(b: Block, ren: Any) -> Block:
    """``b`` with every identity ``k`` it names replaced by ``ren[k]``."""
    vote = None if b.vote is None else b.vote._replace(target=ren[b.vote.target])
    cp = None if b.checkpoint is None else tuple(sorted(ren[s] for s in b.checkpoint))
    return b._replace(sealer=ren[b.sealer], vote=vote, checkpoint=cp)
