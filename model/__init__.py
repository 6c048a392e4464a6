"""Protocol models.  Each protocol package exposes ``PROTOCOL``, a :class:`ProtocolInfo`."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: protocol name -> the package that defines it (imported on first use)
PROTOCOL_MODULES = {"raft": "model.raft", "poa": "model.poa"}


@dataclass(frozen=True)
class ProtocolInfo:
    """What the CLI and spec files need to know about a protocol."""

    name: str
    description: str
    config_class: type  # a frozen dataclass whose fields are bounds (see model.core.bound)
    build: Callable[[Any, str | None], Any]  # (config, mutant name or None) -> TransitionSystem
    mutants: Mapping[str, str]  # mutant name -> one-line description


class UnknownProtocol(LookupError):
    pass


class UnknownMutant(LookupError):
    pass


def available_protocols() -> list[str]:
    out = []
    for name, module in PROTOCOL_MODULES.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            continue
        out.append(name)
    return out


def protocol(name: str) -> ProtocolInfo:
    """The :class:`ProtocolInfo` of ``name`` (``raft``, ``poa``)."""
    module = PROTOCOL_MODULES.get(name)
    if module is None:
        raise UnknownProtocol(f"unknown protocol '{name}' (known: {', '.join(available_protocols())})")
    try:
        return importlib.import_module(module).PROTOCOL
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise UnknownProtocol(f"protocol '{name}' is not available in this installation") from None
        raise
