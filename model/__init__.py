"""Protocol models.  Each protocol package exposes ``PROTOCOL``, a :class:`ProtocolInfo`."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: protocol name -> the package that defines it (imported on first use)
PROTOCOL_MODULES = {"raft": "refmodel.model.raft", "poa": "refmodel.model.poa", "etcdraft": "refmodel.model.etcdraft",
                    # the model `refmodel trace validate --itf` traces step through (for `refmodel replay`)
                    "etcdraft_trace": "refmodel.model.etcdraft.trace"}


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


@dataclass(frozen=True)
class Mutant:
    """A named bug: what it does, in one line, and the bundle of rule functions (the model's ``Rules``, with
    one rule replaced) that it runs."""

    name: str
    description: str
    rules: Any


def build_model(model_class: Callable[..., Any], mutants: Mapping[str, Mutant], protocol: str, config: Any,
                mutant: str | None) -> Any:
    """``model_class(config)``, or with ``mutant``'s rules if one is named (:class:`UnknownMutant` if it is not
    one of ``mutants``)."""
    if mutant is None:
        return model_class(config)
    if mutant not in mutants:
        raise UnknownMutant(f"unknown {protocol} mutant '{mutant}' (known: {', '.join(sorted(mutants))})")
    return model_class(config, mutants[mutant].rules, mutant)


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
