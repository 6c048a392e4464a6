"""Raft: a faithful port of Ongaro's raft.tla (ongardie/raft.tla at 6ecbdbcf)."""

from __future__ import annotations

from refmodel.model import ProtocolInfo, build_model
from refmodel.model.raft.system import Raft
from refmodel.model.raft.config import RaftConfig
from refmodel.model.raft.actions import Rules
from refmodel.model.raft.mutants import MUTANTS


def build(config: RaftConfig, mutant: str | None = None) -> Raft:
    """The Raft model for ``config``, running ``mutant``'s rules if one is named."""
    return build_model(Raft, MUTANTS, "raft", config, mutant, Rules)


PROTOCOL = ProtocolInfo(
    name="raft",
    description="Raft consensus, a faithful port of raft.tla (ongardie/raft.tla at 6ecbdbcf)",
    config_class=RaftConfig,
    build=build,
    mutants={name: m.description for name, m in MUTANTS.items()},
    # raft.tla's Restart is enabled in every state, so no deadlock can exist: checking (--deadlock) only costs
    # time on the benchmark configurations (TLC's own default is to check)
    check_deadlock=False,
)
