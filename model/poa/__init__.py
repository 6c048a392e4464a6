"""Proof-of-Authority: Clique (EIP-225) as go-ethereum implements it (``consensus/clique``)."""

from __future__ import annotations

from model import ProtocolInfo, UnknownMutant
from model.poa.actions import Poa
from model.poa.config import PoaConfig
from model.poa.mutants import MUTANTS


def build(config: PoaConfig, mutant: str | None = None) -> Poa:
    """The Clique model for ``config``, running ``mutant``'s rules if one is named."""
    if mutant is None:
        return Poa(config)
    if mutant not in MUTANTS:
        raise UnknownMutant(f"unknown poa mutant '{mutant}' (known: {', '.join(sorted(MUTANTS))})")
    return Poa(config, MUTANTS[mutant].rules, mutant)


PROTOCOL = ProtocolInfo(
    name="poa",
    description="Proof-of-Authority: Clique (EIP-225) as go-ethereum implements it",
    config_class=PoaConfig,
    build=build,
    mutants={name: m.description for name, m in MUTANTS.items()},
)
