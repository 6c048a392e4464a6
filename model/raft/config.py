"""Bounds of a Raft model check: TLC's model constants plus the state constraint, as one frozen value."""

from __future__ import annotations

from dataclasses import dataclass

from refmodel.model.core import bound, validate_config


@dataclass(frozen=True)
class RaftConfig:
    """Constants and state-constraint bounds for raft.tla (see ``specs/`` for the shared configurations)."""

    servers: int = bound(2, "number of servers (Server = {s1..sN})", minimum=1)
    values: int = bound(1, "number of client values (Value = {v1..vK})", minimum=1)
    max_term: int = bound(2, "constraint: every currentTerm <= T", minimum=1)
    max_log: int = bound(1, "constraint: every log length <= L", minimum=0)
    max_msg_count: int = bound(1, "constraint: every message's count in the bag <= C", minimum=0)
    max_msgs: int = bound(1, "constraint: distinct messages in the bag <= M", minimum=0)

    def __post_init__(self) -> None:
        validate_config(self)

    @property
    def quorum_size(self) -> int:
        """Smallest strict majority of the servers."""
        return self.servers // 2 + 1

    def short_name(self) -> str:
        """The name the shared reference data uses, e.g. ``n2_t2_l1_c1_m1``."""
        return (f"n{self.servers}_t{self.max_term}_l{self.max_log}_c{self.max_msg_count}_m{self.max_msgs}"
                + (f"_v{self.values}" if self.values != 1 else ""))
