"""etcdraft: a port of etcd-io/raft's own TLA+ spec (tla/etcdraft.tla with MCetcdraft's overrides, cdfbeed3)."""

from __future__ import annotations

from refmodel.model import ProtocolInfo, build_model
from refmodel.model.etcdraft.system import EtcdRaft
from refmodel.model.etcdraft.config import EtcdRaftConfig
from refmodel.model.etcdraft.mutants import MUTANTS


def build(config: EtcdRaftConfig, mutant: str | None = None) -> EtcdRaft:
    """The etcdraft model for ``config``, running ``mutant``'s rules if one is named."""
    return build_model(EtcdRaft, MUTANTS, "etcdraft", config, mutant)


PROTOCOL = ProtocolInfo(
    name="etcdraft",
    description="etcd-io/raft's TLA+ spec (tla/etcdraft.tla + MCetcdraft at cdfbeed3), bounded by log length "
                "and messages in flight",
    config_class=EtcdRaftConfig,
    build=build,
    mutants={name: m.description for name, m in MUTANTS.items()},
    check_deadlock=False,  # MCetcdraft.cfg: CHECK_DEADLOCK FALSE
)
