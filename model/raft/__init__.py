"""Raft: a faithful port of Ongaro's raft.tla (ongardie/raft.tla at 6ecbdbcf)."""

from __future__ import annotations

from model import ProtocolInfo, UnknownMutant
from model.raft.actions import Raft
from model.raft.config import RaftConfig
from model.raft.mutants import MUTANTS


def build(config: RaftConfig, mutant: str | None = None) -> Raft:
    """The Raft model for ``config``, running ``mutant``'s rules if one is named."""
    if mutant is None:
        return Raft(config)
    if mutant not in MUTANTS:
        raise UnknownMutant(f"unknown raft mutant '{mutant}' (known: {', '.join(sorted(MUTANTS))})")
    return Raft(config, MUTANTS[mutant].rules, mutant)


PROTOCOL = ProtocolInfo(
    name="raft",
    description="Raft consensus, a faithful port of raft.tla (ongardie/raft.tla at 6ecbdbcf)",
    config_class=RaftConfig,
    build=build,
    mutants={name: m.description for name, m in MUTANTS.items()},
)
