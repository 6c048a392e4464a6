"""Bounds of a Proof-of-Authority (Clique) model check, as one frozen value."""

from __future__ import annotations

from dataclasses import dataclass

from refmodel.model.core import bound, validate_config
from refmodel.model.poa.rules import FORK_CHOICE_RULES, THRESHOLDS

PROPOSER_RULES = ("clique", "round_robin")
VOTE_MODES = ("any", "add_candidates", "none")


@dataclass(frozen=True)
class PoaConfig:
    """Identities, protocol parameters, bounds and fault switches of a Clique model check."""

    signers: int = bound(3, "genesis signers s1..sN (honest nodes)", minimum=1)
    candidates: int = bound(1, "honest non-signers c1..cC that can be voted in", minimum=0)
    intruders: int = bound(0, "unauthorised nodes x1..xX that forge blocks (IntruderSeal)", minimum=0)
    max_height: int = bound(3, "constraint: every chain (held or announced) has at most H blocks", minimum=0)
    epoch: int = bound(3, "EPOCH_LENGTH: blocks numbered a multiple of E are checkpoints", minimum=1)
    threshold: str = bound("majority", "votes needed to change the signer set: > N/2 or > 2N/3",
                           choices=THRESHOLDS)
    proposer_rule: str = bound("clique", "who may seal: any recent-free signer, out of turn with "
                               "difficulty 1 (clique), or only the in-turn signer (round_robin)",
                               choices=PROPOSER_RULES)
    votes: str = bound("add_candidates", "what sealers vote for: any valid change or nothing (any), one of their "
                       "proposals to add every candidate, nothing once none is valid (add_candidates), nothing "
                       "(none)", choices=VOTE_MODES)
    loss: bool = bound(False, "fault: announcements can be lost (Drop)")
    offline: bool = bound(False, "fault: nodes can go offline and come back (GoOffline, GoOnline)")
    max_offline: int = bound(1, "with --offline: at most this many nodes offline at once", minimum=1)
    fork_choice: str = bound("geth", "how a node chooses between an announced chain and its own, on equal total "
                             "difficulty: geth (lower number, then a coin), first_observed (keep its own), "
                             "geth_shorter_first (lower number, then keep its own), eip3436 (lower number, then "
                             "the sealer most recently in turn, then the lower hash)", choices=FORK_CHOICE_RULES)
    fork_depth: int = bound(1, "k of poa.no_fork_at_depth_k: blocks at least k deep must agree", minimum=1)

    def __post_init__(self) -> None:
        validate_config(self)

    @property
    def honest(self) -> int:
        """Number of honest nodes: the genesis signers, then the candidates."""
        return self.signers + self.candidates

    def short_name(self) -> str:
        """A compact name, e.g. ``s3_c1_x0_h3_e3``."""
        return f"s{self.signers}_c{self.candidates}_x{self.intruders}_h{self.max_height}_e{self.epoch}"
