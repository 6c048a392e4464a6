"""Proof-of-Authority: Clique (EIP-225) as go-ethereum implements it (``consensus/clique``)."""

from __future__ import annotations

from refmodel.model import ProtocolInfo, build_model
from refmodel.model.poa.actions import Poa
from refmodel.model.poa.config import PoaConfig
from refmodel.model.poa.mutants import MUTANTS
from refmodel.model.poa.rules import Rules


def build(config: PoaConfig, mutant: str | None = None) -> Poa:
    """The Clique model for ``config``, running ``mutant``'s rules if one is named."""
    return build_model(Poa, MUTANTS, "poa", config, mutant, Rules)


PROTOCOL = ProtocolInfo(
    name="poa",
    description="Proof-of-Authority: Clique (EIP-225) as go-ethereum implements it",
    config_class=PoaConfig,
    build=build,
    mutants={name: m.description for name, m in MUTANTS.items()},
)
