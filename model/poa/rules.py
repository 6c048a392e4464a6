"""Clique (EIP-225) as go-ethereum implements it: the snapshot rules as pure functions, one per rule.

A *snapshot* is what a node knows after a block: the signer set, the recent signers, the pending votes.
:func:`apply_block` applies one block to its parent's snapshot and returns the new snapshot or the error
go-ethereum would return for that block; the model (``model.poa.actions``), the invariants
(``invariants.poa``) and the vector replay (``refmodel poa replay``) all go through it, so there is one copy
of the protocol.  Every rule is a field of :class:`Rules`; a mutant (``model.poa.mutants``) replaces one.

The functions are generic over identities: anything hashable and totally ordered (the model's
:class:`~model.poa.state.Node` ints, the replay's letters).  The order of identities is the address order
go-ethereum sorts signers by (``Snapshot.signers()``), which decides who is in turn.

References: EIP-225 ("Clique proof-of-authority consensus protocol"); go-ethereum ``consensus/clique``:
``snapshot.go`` (``apply``, ``cast``, ``uncast``, ``validVote``, ``inturn``) and ``clique.go``
(``verifyHeader``, ``verifyCascadingFields``, ``verifySeal``, ``calcDifficulty``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

#: difficulty of an in-turn and of an out-of-turn block (EIP-225 DIFF_INTURN, DIFF_NOTURN)
DIFF_IN_TURN, DIFF_NO_TURN = 2, 1

#: thresholds a vote must pass (configuration): more than half, or more than two thirds, of the signers
THRESHOLDS = ("majority", "two_thirds")

# go-ethereum's names for the errors a block can fail with (clique.go)
ERR_UNAUTHORIZED = "errUnauthorizedSigner"
ERR_RECENTLY_SIGNED = "errRecentlySigned"
ERR_MISMATCHING_CHECKPOINT = "errMismatchingCheckpointSigners"
ERR_CHECKPOINT_BENEFICIARY = "errInvalidCheckpointBeneficiary"
ERR_EXTRA_SIGNERS = "errExtraSigners"
ERR_WRONG_DIFFICULTY = "errWrongDifficulty"
ERR_INVALID_VOTING_CHAIN = "errInvalidVotingChain"
ERRORS = (ERR_UNAUTHORIZED, ERR_RECENTLY_SIGNED, ERR_MISMATCHING_CHECKPOINT, ERR_CHECKPOINT_BENEFICIARY,
          ERR_EXTRA_SIGNERS, ERR_WRONG_DIFFICULTY, ERR_INVALID_VOTING_CHAIN)


class Vote(NamedTuple):
    """What a block votes on: add (``authorize``) or drop ``target`` (header.Coinbase and header.Nonce)."""

    target: Any
    authorize: bool

    def describe(self) -> str:
        return f"{'+' if self.authorize else '-'}{self.target}"


class Block(NamedTuple):
    """A block header as Clique reads it; a signature is modelled as the sealer's identity."""

    number: int
    sealer: Any
    vote: Vote | None  # None: no vote (coinbase 0x0)
    difficulty: int
    checkpoint: tuple | None  # signer list in extra-data; None: no list

    def describe(self) -> str:
        out = f"#{self.number} {self.sealer} d{self.difficulty}"
        if self.vote is not None:
            out += f" {self.vote.describe()}"
        if self.checkpoint is not None:
            out += " cp[" + ",".join(map(str, self.checkpoint)) + "]"
        return out


class Ballot(NamedTuple):
    """A pending vote in a snapshot (go-ethereum's ``Vote``): ``signer`` voted to add/drop ``target``."""

    signer: Any
    target: Any
    authorize: bool


class Snapshot(NamedTuple):
    """The voting state after block ``number`` (go-ethereum's ``Snapshot``), every collection sorted.

    The tally of go-ethereum is not stored: it always equals the count of pending ballots on a target
    (``cast`` and ``uncast`` move both together), so :func:`tally` derives it."""

    number: int
    signers: tuple  # sorted (address order)
    recents: tuple[tuple[int, Any], ...]  # (block number, signer), sorted by number
    votes: tuple[Ballot, ...]  # sorted

    def describe(self) -> str:
        return "[" + ",".join(map(str, self.signers)) + "]"


def genesis_snapshot(signers: Any) -> Snapshot:
    """snapshot.go newSnapshot: the genesis signers, no recents, no votes."""
    return Snapshot(number=0, signers=tuple(sorted(signers)), recents=(), votes=())


# ------------------------------------------------------------------------------------------- the rules


def signer_limit(n: int) -> int:
    """SIGNER_LIMIT = floor(N/2) + 1 (EIP-225; snapshot.go apply(): ``len(snap.Signers)/2 + 1``)."""
    return n // 2 + 1


def is_checkpoint(epoch: int, number: int) -> bool:
    """A block whose number is a multiple of EPOCH_LENGTH is a checkpoint (EIP-225; clique.go verifyHeader)."""
    return number % epoch == 0


def check_checkpoint_beneficiary(epoch: int, block: Block) -> str | None:
    """A checkpoint block votes on nobody (clique.go verifyHeader: errInvalidCheckpointBeneficiary)."""
    if is_checkpoint(epoch, block.number) and block.vote is not None:
        return ERR_CHECKPOINT_BENEFICIARY
    return None


def check_extra_signers(epoch: int, block: Block) -> str | None:
    """Only a checkpoint block carries a signer list (clique.go verifyHeader: errExtraSigners)."""
    if not is_checkpoint(epoch, block.number) and block.checkpoint is not None:
        return ERR_EXTRA_SIGNERS
    return None


def check_checkpoint_signers(epoch: int, snap: Snapshot, block: Block) -> str | None:
    """A checkpoint block lists exactly the parent snapshot's signers, in address order (clique.go
    verifyCascadingFields: errMismatchingCheckpointSigners; a missing list is an empty one)."""
    if is_checkpoint(epoch, block.number) and tuple(block.checkpoint or ()) != snap.signers:
        return ERR_MISMATCHING_CHECKPOINT
    return None


def check_authorised(snap: Snapshot, sealer: Hashable) -> str | None:
    """The sealer is a signer of the parent snapshot (clique.go verifySeal, snapshot.go apply():
    errUnauthorizedSigner)."""
    return None if sealer in snap.signers else ERR_UNAUTHORIZED


def check_recency(snap: Snapshot, sealer: Hashable) -> str | None:
    """The sealer sealed none of the previous SIGNER_LIMIT - 1 blocks, i.e. is not in the (already evicted)
    recents (snapshot.go apply(), clique.go verifySeal: errRecentlySigned)."""
    return ERR_RECENTLY_SIGNED if any(s == sealer for _, s in snap.recents) else None


def in_turn(snap: Snapshot, number: int, signer: Hashable) -> bool:
    """The signer at position ``number % N`` of the address-sorted signer list is in turn (snapshot.go
    inturn)."""
    signers = snap.signers
    return bool(signers) and signer in signers and signers.index(signer) == number % len(signers)


def calc_difficulty(snap: Snapshot, number: int, signer: Hashable) -> int:
    """DIFF_INTURN (2) in turn, DIFF_NOTURN (1) otherwise (clique.go calcDifficulty)."""
    return DIFF_IN_TURN if in_turn(snap, number, signer) else DIFF_NO_TURN


def check_difficulty(snap: Snapshot, block: Block) -> str | None:
    """The block's difficulty matches the sealer's turn (clique.go verifySeal: errWrongDifficulty)."""
    if block.difficulty != calc_difficulty(snap, block.number, block.sealer):
        return ERR_WRONG_DIFFICULTY
    return None


def reset_votes_at_checkpoint(epoch: int, snap: Snapshot, number: int) -> Snapshot:
    """Step 1: a checkpoint block discards every pending vote and tally (snapshot.go apply())."""
    return snap._replace(votes=()) if is_checkpoint(epoch, number) else snap


def evict_recent(snap: Snapshot, number: int) -> Snapshot:
    """Step 2: the entry of block ``number - SIGNER_LIMIT`` leaves the recents, so that signer may seal again
    (snapshot.go apply(): ``delete(snap.Recents, number-limit)``)."""
    limit = signer_limit(len(snap.signers))
    if number < limit:
        return snap
    old = number - limit
    return snap._replace(recents=tuple(r for r in snap.recents if r[0] != old))


def record_recent(epoch: int, snap: Snapshot, number: int, sealer: Hashable) -> Snapshot:
    """Step 2: the sealer joins the recents; recents are *not* reset at checkpoints (snapshot.go apply();
    go-ethereum issue 17593)."""
    return snap._replace(recents=snap.recents + ((number, sealer),))


def withdraw_earlier_vote(snap: Snapshot, sealer: Hashable, target: Hashable) -> Snapshot:
    """Step 3: the sealer's earlier vote on the same target, if any, is uncast (snapshot.go apply(): "discard
    any previous votes from the signer")."""
    return snap._replace(votes=tuple(b for b in snap.votes if not (b.signer == sealer and b.target == target)))


def is_valid_vote(snap: Snapshot, vote: Vote) -> bool:
    """A vote may only add a non-signer or drop a signer (snapshot.go validVote)."""
    return (vote.target in snap.signers) != vote.authorize


def cast_vote(snap: Snapshot, sealer: Hashable, vote: Vote) -> Snapshot:
    """Step 4: a valid vote is added to the pending votes; an invalid one is ignored (snapshot.go cast)."""
    if not is_valid_vote(snap, vote):
        return snap
    return snap._replace(votes=tuple(sorted(snap.votes + (Ballot(sealer, vote.target, vote.authorize),))))


def tally(snap: Snapshot, target: Hashable) -> tuple[int, bool]:
    """The tally of ``target``: how many pending votes name it, and their direction (snapshot.go Tally; all
    pending votes on one target share a direction, since a status change deletes them)."""
    votes = [b.authorize for b in snap.votes if b.target == target]
    return len(votes), bool(votes) and votes[0]


def passes_threshold(threshold: str, votes: int, n: int) -> bool:
    """A tally passes with more than N/2 votes (``majority``, snapshot.go apply(): ``tally.Votes >
    len(snap.Signers)/2``) or more than 2N/3 (``two_thirds``)."""
    if threshold == "two_thirds":
        return 3 * votes > 2 * n
    return 2 * votes > n


def discard_votes_of(snap: Snapshot, signer: Hashable) -> Snapshot:
    """Step 5, on a drop: every vote the dropped signer cast is uncast (snapshot.go apply(): "discard any
    previous votes the deauthorized signer cast")."""
    return snap._replace(votes=tuple(b for b in snap.votes if b.signer != signer))


def discard_votes_on(snap: Snapshot, target: Hashable) -> Snapshot:
    """Step 5: every vote about the changed account is deleted, with its tally (snapshot.go apply():
    "discard any previous votes around the just changed account")."""
    return snap._replace(votes=tuple(b for b in snap.votes if b.target != target))


# ------------------------------------------------------------------------------------ composing the rules


@dataclass(frozen=True)
class Rules:
    """The rule functions a Clique model uses; a mutant replaces one of them."""

    check_checkpoint_beneficiary: Callable = check_checkpoint_beneficiary
    check_extra_signers: Callable = check_extra_signers
    check_checkpoint_signers: Callable = check_checkpoint_signers
    check_authorised: Callable = check_authorised
    check_recency: Callable = check_recency
    check_difficulty: Callable = check_difficulty
    calc_difficulty: Callable = calc_difficulty
    in_turn: Callable = in_turn
    reset_votes_at_checkpoint: Callable = reset_votes_at_checkpoint
    evict_recent: Callable = evict_recent
    record_recent: Callable = record_recent
    withdraw_earlier_vote: Callable = withdraw_earlier_vote
    is_valid_vote: Callable = is_valid_vote
    cast_vote: Callable = cast_vote
    tally: Callable = tally
    passes_threshold: Callable = passes_threshold
    discard_votes_of: Callable = discard_votes_of
    discard_votes_on: Callable = discard_votes_on


DEFAULT_RULES = Rules()


def replace_rules(**changes: Callable) -> Rules:
    """The default rules with some replaced (used by mutants)."""
    return replace(DEFAULT_RULES, **changes)


def execute_vote(r: Rules, snap: Snapshot, target: Hashable, authorize: bool, number: int) -> Snapshot:
    """Step 5: a passing tally adds ``target`` or drops it (then one more recent leaves the window of the
    smaller set, and the dropped signer's votes are discarded); all votes about ``target`` go (snapshot.go
    apply(): "if the vote passed, update the list of signers")."""
    if authorize:
        snap = snap._replace(signers=tuple(sorted(snap.signers + (target,))))
    else:
        snap = snap._replace(signers=tuple(s for s in snap.signers if s != target))
        snap = r.evict_recent(snap, number)
        snap = r.discard_votes_of(snap, target)
    return r.discard_votes_on(snap, target)


def verify_header(r: Rules, epoch: int, snap: Snapshot, block: Block) -> str | None:
    """The checks of a header against its parent's snapshot that come before the seal (clique.go
    verifyHeader, verifyCascadingFields), in go-ethereum's order."""
    return (r.check_checkpoint_beneficiary(epoch, block) or r.check_extra_signers(epoch, block)
            or r.check_checkpoint_signers(epoch, snap, block))


def apply_block(r: Rules, epoch: int, threshold: str, snap: Snapshot, block: Block,
                verify_difficulty: bool = True) -> tuple[Snapshot | None, str | None]:
    """The snapshot after ``block`` on top of its parent's ``snap``, or ``(None, error)``: header checks,
    then EIP-225's per-block order (snapshot.go apply(), clique.go verifySeal).

    ``verify_difficulty=False`` skips the turn check, as go-ethereum's test harness does (``fakeDiff``)."""
    if block.number != snap.number + 1:
        return None, ERR_INVALID_VOTING_CHAIN
    if (err := verify_header(r, epoch, snap, block)) is not None:
        return None, err
    s = r.reset_votes_at_checkpoint(epoch, snap, block.number)  # (1)
    s = r.evict_recent(s, block.number)  # (2)
    err = r.check_authorised(s, block.sealer) or r.check_recency(s, block.sealer)
    if err is None and verify_difficulty:
        err = r.check_difficulty(s, block)
    if err is not None:
        return None, err
    s = r.record_recent(epoch, s, block.number, block.sealer)
    if block.vote is not None:
        target = block.vote.target
        s = r.withdraw_earlier_vote(s, block.sealer, target)  # (3)
        s = r.cast_vote(s, block.sealer, block.vote)  # (4)
        votes, authorize = r.tally(s, target)  # (5) execute on touch
        if votes and r.passes_threshold(threshold, votes, len(s.signers)):
            s = execute_vote(r, s, target, authorize, block.number)
    return s._replace(number=block.number), None


def apply_chain(r: Rules, epoch: int, threshold: str, genesis: Snapshot, blocks: Any,
                verify_difficulty: bool = True) -> tuple[list[Snapshot], int | None, str | None]:
    """Apply ``blocks`` in order from ``genesis``: the snapshots after each valid block (genesis first), and
    the number and error of the first invalid block (``None, None`` if all are valid)."""
    snaps = [genesis]
    for block in blocks:
        nxt, err = apply_block(r, epoch, threshold, snaps[-1], block, verify_difficulty)
        if err is not None:
            return snaps, block.number, err
        snaps.append(nxt)
    return snaps, None, None


# ------------------------------------------------------------------------------------------- fork choice


def total_difficulty(blocks: Any) -> int:
    """The sum of the blocks' difficulties (the chain's weight in fork choice)."""
    return sum(b.difficulty for b in blocks)


def block_key(b: Block) -> tuple:
    """A sort key for blocks (a vote may be None, which does not compare with a vote)."""
    vote = (0,) if b.vote is None else (1, b.vote.target, b.vote.authorize)
    return (b.number, b.sealer, vote, b.difficulty, b.checkpoint or ())


#: the fork-choice rules a node may follow when a chain is announced (``--fork-choice``)
FORK_CHOICE_RULES = ("geth", "first_observed", "geth_shorter_first", "eip3436")


def fork_choice(local: Any, external: Any, rule: str = "geth", local_signers: tuple = (),
                external_signers: tuple = ()) -> tuple[bool, ...]:
    """Whether a node whose head chain is ``local`` switches to ``external`` (block tuples), by ``rule``;
    returns the possible answers.  Every rule first prefers the higher total difficulty; on a tie:

    * ``geth``: the lower block number, then a coin, so both answers are possible (core/forkchoice.go
      ReorgNeeded);
    * ``first_observed``: keep the current head (Besu, Nethermind and OpenEthereum on Goerli in 2021);
    * ``geth_shorter_first``: the lower block number, then keep the current head;
    * ``eip3436``: EIP-3436's rules 2 to 4: the lower block number, then the head whose sealer was in turn
      most recently, i.e. the lower ``(number - index) % count`` with ``index`` the sealer's position in the
      sorted signers of the snapshot it sealed on (``*_signers``) and ``count`` their number, then the lower
      hash.  The model has no hashes: its stand-in is the order of the chains' block descriptions
      (``block_key``), which every node computes alike, as it would a hash.
    """
    td_l, td_e = total_difficulty(local), total_difficulty(external)
    if td_e != td_l:
        return (td_e > td_l,)
    if rule == "first_observed":
        return (False,)
    if len(external) != len(local):
        return (len(external) < len(local),)
    if rule == "geth":
        return (True, False)
    if rule == "geth_shorter_first" or not local or not external:
        return (False,)
    turn_l = _since_in_turn(local[-1], local_signers)
    turn_e = _since_in_turn(external[-1], external_signers)
    if turn_l != turn_e:
        return (turn_e < turn_l,)
    return (tuple(map(block_key, external)) < tuple(map(block_key, local)),)


def _since_in_turn(block: Any, signers: tuple) -> int:
    """EIP-3436 rule 3: how many blocks ago the sealer of ``block`` was last in turn (0: in turn now)."""
    if not signers or block.sealer not in signers:
        return len(signers)
    return (block.number - signers.index(block.sealer)) % len(signers)
