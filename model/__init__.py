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
    #: whether a state with no enabled action is an error by default (TLC's default: yes)
    check_deadlock: bool = True


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


#: entry-point group through which an installed package contributes rule variants (mutants) by name
MUTANT_ENTRY_POINTS = "refmodel.mutants"


def build_model(model_class: Callable[..., Any], mutants: Mapping[str, Mutant], protocol: str, config: Any,
                mutant: str | None, rules_class: type | None = None) -> Any:
    """``model_class(config)``, or with ``mutant``'s rules if one is named: a shipped mutant, a
    ``PATH.py:NAME`` or ``MODULE:NAME`` reference to a :class:`Mutant` in the user's own code, or one an
    installed package offers under the entry-point group ``refmodel.mutants`` (:class:`UnknownMutant` if none
    of these, or if it is not a :class:`Mutant` whose rules are a ``rules_class``)."""
    if mutant is None:
        return model_class(config)
    found = mutants.get(mutant)
    if found is None:
        from refmodel.model.core import UnknownReference, entry_point, is_reference, load_reference

        try:
            found = load_reference(mutant)[0] if is_reference(mutant) else entry_point(MUTANT_ENTRY_POINTS, mutant)
        except UnknownReference as exc:
            raise UnknownMutant(f"mutant {exc}") from None
        if found is None:
            raise UnknownMutant(f"unknown {protocol} mutant '{mutant}' (known: {', '.join(sorted(mutants))}; or "
                                "PATH.py:NAME, MODULE:NAME)")
        if not isinstance(found, Mutant):
            raise UnknownMutant(f"mutant '{mutant}' is a {type(found).__name__}, not a refmodel.model.Mutant")
        if rules_class is not None and not isinstance(found.rules, rules_class):
            raise UnknownMutant(f"mutant '{mutant}' replaces rules of another protocol, not {protocol}'s "
                                f"({type(found.rules).__name__}, not {rules_class.__name__})")
    return model_class(config, found.rules, mutant)


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
