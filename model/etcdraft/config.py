"""Bounds of an etcdraft model check: MCetcdraft's constants plus the bounding state constraint, as one value.

``max_term`` is MCetcdraft's ``MaxTermLimit`` (MCTimeout fires only below it), ``request_limit`` its
``RequestLimit`` (ValueEntry entries per log, MCClientRequest), ``reconfiguration_limit`` its
``ReconfigurationLimit`` (MCAddNewServer/MCAddLearner/MCDeleteServer need reconfigCount below it).
``max_log`` and ``max_in_flight`` are the state constraint TLC ran with (see
``../shared/reference/etcdraft/README.md``): every ``Len(log[i]) <= max_log`` and
``BagCardinality(messages) + BagCardinality(pendingMessages) <= max_in_flight``.
"""

from __future__ import annotations

from dataclasses import dataclass

from refmodel.model.core import ConfigError, bound, validate_config


@dataclass(frozen=True)
class EtcdRaftConfig:
    """Constants of MCetcdraft (InitServer = 1..init_servers, Server = 1..servers) and the state constraint."""

    init_servers: int = bound(2, "servers bootstrapped with the initial configuration (InitServer = {1..I})",
                              minimum=1)
    servers: int = bound(2, "number of servers (Server = {1..N}, N >= init_servers)", minimum=1)
    reconfiguration_limit: int = bound(0, "MC: membership changes allowed (ReconfigurationLimit)", minimum=0)
    max_term: int = bound(2, "MC: Timeout only while currentTerm < T (MaxTermLimit)", minimum=0)
    request_limit: int = bound(0, "MC: ValueEntry entries per log a ClientRequest may reach (RequestLimit)",
                               minimum=0)
    max_log: int = bound(3, "constraint: every Len(log[i]) <= L", minimum=0)
    max_in_flight: int = bound(1, "constraint: messages plus pendingMessages, with multiplicity, <= F", minimum=0)

    def __post_init__(self) -> None:
        validate_config(self)
        if self.servers < self.init_servers:
            raise ConfigError(f"servers must be >= init_servers ({self.init_servers}), not {self.servers}")

    def short_name(self) -> str:
        """The name the shared reference data uses, e.g. ``e2_t2_r1_l3_f2`` or ``e2to3_rc1_t2_r0_l2_f1``."""
        e = (f"e{self.init_servers}" if self.servers == self.init_servers
             else f"e{self.init_servers}to{self.servers}")
        rc = f"_rc{self.reconfiguration_limit}" if self.reconfiguration_limit else ""
        return f"{e}{rc}_t{self.max_term}_r{self.request_limit}_l{self.max_log}_f{self.max_in_flight}"
