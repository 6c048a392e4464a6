"""The labels of the Clique model's steps that ``Poa.next_states`` builds inline, and the intruders' guard:
shared by the readable model (:mod:`model.poa.actions`) and the fast engine (:mod:`model.poa.fast`) so that
both list the very same action instances."""

from __future__ import annotations

from refmodel.model.core import Label
from refmodel.model.poa.state import Chain, Node

#: action names, in the order next_states lists them
ACTION_NAMES = ("Seal", "Announce", "Receive", "GoOffline", "GoOnline", "Drop", "IntruderSeal")


def _head(chain: Chain) -> str:
    """A chain as a label parameter: its head block."""
    return chain.head_text


def announce_label(me: Node, chain: Chain) -> Label:
    return Label("Announce", (("i", me), ("head", _head(chain))))


def receive_label(me: Node, m: Chain, rejected: str | None) -> Label:
    params: tuple = (("i", me), ("head", _head(m)))
    if rejected is not None:
        params += (("rejected", rejected),)
    return Label("Receive", params)


def drop_label(m: Chain) -> Label:
    return Label("Drop", (("head", _head(m)),))


def intruder_label(x: Node, on: Node, forged: Chain) -> Label:
    return Label("IntruderSeal", (("x", x), ("on", on), ("head", _head(forged))))


def forging(x: Node, network: frozenset[Chain]) -> bool:
    """Whether intruder x has a forgery in flight (an announced chain whose head block x sealed)."""
    return any(m.blocks and m.blocks[-1].sealer == x for m in network)
