"""Named buggy variants of the Clique rules, each replacing one rule function, to show the checks bite.

Every mutant is the readable rule with one line changed (marked ``# BUG``).  The model, the invariants'
view of each node (its snapshots) and ``refmodel poa replay --mutant`` all use the mutated rule.
``tests/test_poa_mutants.py`` states how each one is caught: by a BFS invariant (with the length of the
shortest counterexample), by go-ethereum's voting vectors (which scenarios mismatch), or both.
"""

from __future__ import annotations

from collections.abc import Hashable

from refmodel.model import Mutant
from refmodel.model.poa.rules import Snapshot, is_checkpoint, replace_rules


def no_recency_check(snap: Snapshot, sealer: Hashable) -> str | None:
    """check_recency that lets a signer seal again at once."""
    return None  # BUG: recents not consulted


def accept_unauthorised_signer(snap: Snapshot, sealer: Hashable) -> str | None:
    """check_authorised that accepts any sealer."""
    return None  # BUG: signer set not consulted


def threshold_half(threshold: str, votes: int, n: int) -> bool:
    """passes_threshold with half of the signers enough (>= N/2 instead of > N/2)."""
    if threshold == "two_thirds":
        return 3 * votes >= 2 * n  # BUG: >= instead of >
    return 2 * votes >= n  # BUG: >= instead of >


def no_vote_reset_at_epoch(epoch: int, snap: Snapshot, number: int) -> Snapshot:
    """reset_votes_at_checkpoint that keeps pending votes across checkpoints."""
    return snap  # BUG: votes survive the checkpoint


def recents_reset_at_checkpoint(epoch: int, snap: Snapshot, number: int, sealer: Hashable) -> Snapshot:
    """record_recent that leaves the snapshot of a checkpoint block with no recent signers, as a snapshot
    rebuilt from a checkpoint header did (go-ethereum issue 17593, the Rinkeby split)."""
    if is_checkpoint(epoch, number):
        return snap._replace(recents=())  # BUG: recents forgotten at a checkpoint
    return snap._replace(recents=snap.recents + ((number, sealer),))


def keep_votes_of_dropped_signer(snap: Snapshot, signer: Hashable) -> Snapshot:
    """discard_votes_of that keeps the votes a dropped signer cast."""
    return snap  # BUG: a dropped signer's votes still count


MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    Mutant("no_recency_check", "a signer may seal again without waiting SIGNER_LIMIT - 1 blocks",
           replace_rules(check_recency=no_recency_check)),
    Mutant("accept_unauthorised_signer", "a block sealed by a non-signer is accepted",
           replace_rules(check_authorised=accept_unauthorised_signer)),
    Mutant("threshold_half", "a vote passes with half of the signers (>= N/2, not > N/2)",
           replace_rules(passes_threshold=threshold_half)),
    Mutant("no_vote_reset_at_epoch", "pending votes survive a checkpoint block",
           replace_rules(reset_votes_at_checkpoint=no_vote_reset_at_epoch)),
    Mutant("recents_reset_at_checkpoint", "the snapshot of a checkpoint forgets the recent signers "
           "(go-ethereum issue 17593)", replace_rules(record_recent=recents_reset_at_checkpoint)),
    Mutant("keep_votes_of_dropped_signer", "the votes of a dropped signer keep counting",
           replace_rules(discard_votes_of=keep_votes_of_dropped_signer)),
)}
