"""Abstract Clique (EIP-225): one chain's voting snapshot and block sealing, for Z3 and BFS.

Written from the rules of issue 3 (go-ethereum's ``consensus/clique`` snapshot logic); it does not use
``model.poa`` (the message-level model), so that the two can be compared rather than share a bug.

State: the snapshot at the head of one chain (``height``, the ``signers`` set, ``recents``, pending
``votes`` and cached ``tally``) plus three history variables used only to state the properties: the sealers
of the last blocks (``sealers``), the latest vote each signer put in a block of the current epoch about each
identity (``cast``), and the vote carried by the head block (``head_vote``).

``recents`` is go-ethereum's map from block number to sealer, kept relative to the head: ``recents[d]`` is
the sealer of block ``height - d`` if that entry is still in the map (d < W, W the largest possible
SIGNER_LIMIT).  Votes are ``ADD`` (authorise) or ``DROP``.  Identities are ``A``, ``B`` ...: the first
``signers`` of them are the genesis signers, the next ``candidates`` can be voted in.

One action, ``Seal(s, vote)``: signer s seals block ``n = height + 1`` carrying ``vote`` (none, or a target
and a direction), applied exactly as a Clique node validates and applies a block:

1. authorisation (s is a signer of the parent snapshot) and, under ``round_robin``, in-turn-ness (s is at
   position ``n % N`` of the sorted signers);
2. on a checkpoint (``n % epoch == 0``) the block carries no vote and all votes and tallies are cleared;
3. the recents entry of block ``n - limit`` is evicted (limit = floor(N/2) + 1), s must not be among the
   remaining recents, and s becomes the recent sealer of block n;
4. s's earlier vote on the target is withdrawn; the new vote is cast if valid (add a non-signer, drop a
   signer);
5. if the target's tally passes the threshold (majority: > N/2; two_thirds: > 2N/3; N of the parent
   snapshot) the change executes: add, or drop (then one more recents entry is evicted for the smaller
   limit and every vote the dropped signer cast is discarded); all votes about the target are deleted.
   This is "execute on touch": only a vote on the target triggers it, even one that cast nothing.

How this relates to the message-level model (``model/poa``): every chain an honest node holds there is a
sequence of blocks, each accepted by these rules from its parent's snapshot, so each honest chain is a run
of this model (and every run of this model is a chain some honest node could build and accept).  What is
abstracted away: the network, forks and fork choice (a run follows one chain), offline nodes and lost
announcements (they only decide which chain is built), intruders' blocks (rejected by rule 1), difficulty
(it only matters for fork choice), timestamps, and checkpoint signer lists (equal to the parent's signers on
an accepted chain).  So a property of every run proved here holds of every honest chain there.

Bounds: ``max_height`` is a BFS state constraint only; the proofs have unbounded heights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from refmodel.model.core import Label, TransitionSystem, bound, validate_config

ADD, DROP = 1, 2
DIRECTION = {ADD: "add", DROP: "drop"}


class Node(int):
    """An identity, shown as ``A``, ``B`` ... (go-ethereum's test vectors name signers by letter)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return chr(ord("A") + int(self)) if self < 26 else f"N{int(self)}"

    __str__ = __repr__


class Vote(NamedTuple):
    """A block's vote: authorise (add) or deauthorise (drop) ``target``."""

    target: Node
    direction: int

    def describe(self) -> str:
        return f"{DIRECTION.get(self.direction, self.direction)} {self.target}"

    def to_json(self) -> dict[str, Any]:
        return {"target": str(self.target), "direction": DIRECTION.get(self.direction, self.direction)}


@dataclass(frozen=True)
class AbstractCliqueConfig:
    """Bounds and rules of the abstract Clique model."""

    signers: int = bound(3, "genesis signers", minimum=1, maximum=12)
    candidates: int = bound(1, "identities that can be voted in", minimum=0, maximum=12)
    epoch: int = bound(3, "epoch length: blocks n with n % epoch == 0 are checkpoints", minimum=1)
    threshold: str = bound("majority", "votes needed for a change: majority (> N/2) or two_thirds (> 2N/3)",
                           choices=("majority", "two_thirds"))
    proposer_rule: str = bound("clique", "clique (any signer not recent) or round_robin (only the in-turn one)",
                               choices=("clique", "round_robin"))
    max_height: int = bound(6, "BFS only: constraint height <= H (proofs have unbounded heights)", minimum=0)

    def __post_init__(self) -> None:
        validate_config(self)

    @property
    def identities(self) -> int:
        return self.signers + self.candidates

    @property
    def window(self) -> int:
        """W: the largest SIGNER_LIMIT any snapshot can have (every identity a signer)."""
        return self.identities // 2 + 1


class CliqueState(NamedTuple):
    height: int
    signers: frozenset[Node]
    recents: tuple[Node | None, ...]  # recents[d]: sealer of block height-d, if still in the recents map
    votes: tuple[tuple[int, ...], ...]  # votes[v][x]: v's pending vote on x (0 none, ADD, DROP)
    tally: tuple[int, ...]  # tally[x]: the snapshot's cached count of votes on x
    sealers: tuple[Node | None, ...]  # history: sealer of block height-d (None: no such block)
    cast: tuple[tuple[int, ...], ...]  # history: v's latest vote on x in a block of this epoch since x changed
    head_vote: Vote | None  # history: the vote the head block carries


FIELDS = CliqueState._fields


def limit(n_signers: int) -> int:
    """go-ethereum's SIGNER_LIMIT: a signer may seal one block in any ``limit`` consecutive ones."""
    return n_signers // 2 + 1


def initial_state(cfg: AbstractCliqueConfig) -> CliqueState:
    m, w = cfg.identities, cfg.window
    zero = tuple((0,) * m for _ in range(m))
    return CliqueState(height=0, signers=frozenset(Node(k) for k in range(cfg.signers)), recents=(None,) * w,
                       votes=zero, tally=(0,) * m, sealers=(None,) * w, cast=zero, head_vote=None)


def put(t: tuple, k: int, v: Any) -> tuple:
    return t[:k] + (v,) + t[k + 1:]


def put2(t: tuple, i: int, k: int, v: Any) -> tuple:
    return put(t, i, put(t[i], k, v))


# ------------------------------------------------------------------------------------------------ rules


def passes(cfg: AbstractCliqueConfig, votes: int, n_signers: int) -> bool:
    """The configured threshold: majority (> N/2, go-ethereum) or two_thirds (> 2N/3)."""
    if cfg.threshold == "two_thirds":
        return 3 * votes > 2 * n_signers
    return 2 * votes > n_signers


def authorised(cfg: AbstractCliqueConfig, s: CliqueState, sealer: Node) -> bool:
    """EIP-225: the sealer is a signer of the parent snapshot (errUnauthorizedSigner otherwise)."""
    return sealer in s.signers


def in_turn(cfg: AbstractCliqueConfig, s: CliqueState, sealer: Node) -> bool:
    """The signer at position ``number % N`` of the address-sorted signer list."""
    order = sorted(s.signers)
    return bool(order) and order[(s.height + 1) % len(order)] == sealer


def recently_signed(cfg: AbstractCliqueConfig, recents: tuple[Node | None, ...], sealer: Node) -> bool:
    """errRecentlySigned: the sealer is among the recents left after this block's eviction."""
    return sealer in recents


def reset_votes_at_checkpoint(cfg: AbstractCliqueConfig) -> bool:
    return True


def reset_recents_at_checkpoint(cfg: AbstractCliqueConfig) -> bool:
    return False


def discard_votes_of_dropped(cfg: AbstractCliqueConfig) -> bool:
    return True


@dataclass(frozen=True)
class Rules:
    """The rule functions the model uses; a mutant replaces one."""

    authorised: Callable = authorised
    recently_signed: Callable = recently_signed
    passes: Callable = passes
    reset_votes_at_checkpoint: Callable = reset_votes_at_checkpoint
    reset_recents_at_checkpoint: Callable = reset_recents_at_checkpoint
    discard_votes_of_dropped: Callable = discard_votes_of_dropped


DEFAULT_RULES = Rules()


class Rejected(Exception):
    """A block the rules reject; ``args[0]`` is go-ethereum's error name."""


def apply_block(cfg: AbstractCliqueConfig, r: Rules, s: CliqueState, sealer: Node, vote: Vote | None) -> CliqueState:
    """The snapshot after ``sealer`` seals block ``height + 1`` carrying ``vote`` (see the module docstring);
    raises :class:`Rejected` with go-ethereum's error name if the block is invalid."""
    n = s.height + 1
    N = len(s.signers)
    checkpoint = n % cfg.epoch == 0
    if not r.authorised(cfg, s, sealer):
        raise Rejected("errUnauthorizedSigner")
    if cfg.proposer_rule == "round_robin" and not in_turn(cfg, s, sealer):
        raise Rejected("errWrongDifficulty")  # an out-of-turn block is not allowed under round_robin
    if checkpoint and vote is not None:
        raise Rejected("errInvalidCheckpointBeneficiary")
    votes, tally, cast = s.votes, s.tally, s.cast
    m = cfg.identities
    if checkpoint:  # (1) a checkpoint clears votes and tallies
        if r.reset_votes_at_checkpoint(cfg):
            votes, tally = tuple((0,) * m for _ in range(m)), (0,) * m
        cast = tuple((0,) * m for _ in range(m))
    # (2) evict the entry of block n - limit, check the sealer, record it
    recents = put(s.recents, limit(N) - 1, None) if limit(N) - 1 < len(s.recents) else s.recents
    if r.recently_signed(cfg, recents, sealer):
        raise Rejected("errRecentlySigned")
    recents = (sealer,) + recents[:-1]
    signers = s.signers
    if vote is not None:
        x = vote.target
        if votes[sealer][x]:  # (3) withdraw the sealer's earlier vote on the target
            votes, tally = put2(votes, sealer, x, 0), put(tally, x, tally[x] - 1)
        valid = (vote.direction == ADD) == (x not in signers)
        if valid:  # (4) cast the new vote
            votes, tally = put2(votes, sealer, x, vote.direction), put(tally, x, tally[x] + 1)
        cast = put2(cast, sealer, x, vote.direction)
        if r.passes(cfg, tally[x], N):  # (5) execute on touch
            if x not in signers:
                signers = signers | {x}
            else:
                signers = signers - {x}
                new_limit = limit(N - 1)
                if new_limit < len(recents):
                    recents = put(recents, new_limit, None)
                if r.discard_votes_of_dropped(cfg):
                    for y in range(m):
                        if votes[x][y]:
                            votes, tally = put2(votes, x, y, 0), put(tally, y, tally[y] - 1)
            votes = tuple(put(row, x, 0) for row in votes)
            tally = put(tally, x, 0)
            cast = tuple(put(row, x, 0) for row in cast)
    if checkpoint and r.reset_recents_at_checkpoint(cfg):
        recents = (None,) * len(recents)
    return CliqueState(height=n, signers=signers, recents=recents, votes=votes, tally=tally,
                       sealers=(sealer,) + s.sealers[:-1], cast=cast, head_vote=vote)


class AbstractClique(TransitionSystem):
    """The abstract Clique transition system (see the module docstring)."""

    protocol = "poa-abstract"
    state_fields = FIELDS

    def __init__(self, config: AbstractCliqueConfig, rules: Rules = DEFAULT_RULES, mutant: str | None = None):
        self.config, self.rules, self.mutant = config, rules, mutant
        m = config.identities
        self._votes: list[Vote | None] = [None] + [Vote(Node(x), d) for x in range(m) for d in (ADD, DROP)]

    def init_states(self) -> list[CliqueState]:
        return [initial_state(self.config)]

    def constraint(self, s: CliqueState) -> bool:
        return s.height <= self.config.max_height

    def action_names(self) -> tuple[str, ...]:
        return ("Seal",)

    def next_states(self, s: CliqueState) -> Iterator[tuple[Label, CliqueState]]:
        cfg, r = self.config, self.rules
        for k in range(cfg.identities):
            sealer = Node(k)
            for vote in self._votes:
                try:
                    t = apply_block(cfg, r, s, sealer, vote)
                except Rejected:
                    continue
                yield Label("Seal", (("s", sealer), ("vote", vote))), t

    def render(self, s: CliqueState) -> dict[str, Any]:
        return render_state(self.config, s)


def _name(x: Node | None) -> str | None:
    return None if x is None else str(x)


def render_state(cfg: AbstractCliqueConfig, s: CliqueState) -> dict[str, Any]:
    """Blocks by number, votes as ``{voter: {target: "add"/"drop"}}``."""
    m = cfg.identities
    ids = [Node(k) for k in range(m)]
    return {
        "height": s.height,
        "signers": sorted(str(x) for x in s.signers),
        "recents": {str(s.height - d): str(x) for d, x in enumerate(s.recents) if x is not None},
        "votes": {str(v): {str(x): DIRECTION.get(s.votes[v][x], s.votes[v][x]) for x in ids if s.votes[v][x]}
                  for v in ids if any(s.votes[v])},
        "tally": {str(x): s.tally[x] for x in ids if s.tally[x]},
        "sealers": {str(s.height - d): str(x) for d, x in enumerate(s.sealers) if x is not None},
        "cast": {str(v): {str(x): DIRECTION.get(s.cast[v][x], s.cast[v][x]) for x in ids if s.cast[v][x]}
                 for v in ids if any(s.cast[v])},
        "head_vote": None if s.head_vote is None else s.head_vote.to_json(),
    }


# ------------------------------------------------------------------------------------------------ mutants
# issue 3's PoA mutants, each one rule changed.


@dataclass(frozen=True)
class AbstractMutant:
    name: str
    description: str
    rules: Rules


MUTANTS: dict[str, AbstractMutant] = {m.name: m for m in (
    AbstractMutant("no_recency_check", "a signer may seal again before SIGNER_LIMIT blocks have passed",
                   replace(DEFAULT_RULES, recently_signed=lambda cfg, recents, sealer: False)),
    AbstractMutant("accept_unauthorised_signer", "a block sealed by a non-signer is accepted",
                   replace(DEFAULT_RULES, authorised=lambda cfg, s, sealer: True)),
    AbstractMutant("threshold_half", "a change passes with half of the signers' votes (>= N/2)",
                   replace(DEFAULT_RULES, passes=lambda cfg, votes, n: 2 * votes >= n)),
    AbstractMutant("no_vote_reset_at_epoch", "votes and tallies survive checkpoints",
                   replace(DEFAULT_RULES, reset_votes_at_checkpoint=lambda cfg: False)),
    AbstractMutant("recents_reset_at_checkpoint", "a snapshot rebuilt at a checkpoint forgets its recent "
                   "sealers (go-ethereum issue 17593)",
                   replace(DEFAULT_RULES, reset_recents_at_checkpoint=lambda cfg: True)),
    AbstractMutant("keep_votes_of_dropped_signer", "the votes a dropped signer cast keep counting",
                   replace(DEFAULT_RULES, discard_votes_of_dropped=lambda cfg: False)),
)}


def build(config: AbstractCliqueConfig, mutant: str | None = None) -> AbstractClique:
    if mutant is None:
        return AbstractClique(config)
    if mutant not in MUTANTS:
        raise KeyError(f"unknown abstract poa mutant '{mutant}' (known: {', '.join(sorted(MUTANTS))})")
    return AbstractClique(config, MUTANTS[mutant].rules, mutant)
