"""Clique states for people and tools: plain JSON-able variables for reports, ITF variables, and the events
of a message-sequence chart (one lane per node, an arrow per announcement received)."""

from __future__ import annotations

from typing import Any

from refmodel.model.core import Label
from refmodel.model.poa.state import Chain, PoaState, network_items


def render_state(model: Any, s: PoaState) -> dict[str, Any]:
    """Every state variable, per-node ones as ``{node: value}``; blocks as ``#n sealer dD [vote] [cp[...]]``."""
    names = [str(k) for k in model.honest]

    def per_node(fn: Any) -> dict[str, Any]:
        return {names[i]: fn(i) for i in range(len(names))}

    return {
        "chain": per_node(lambda i: [b.describe() for b in s.chains[i].blocks]),
        "signers": per_node(lambda i: [str(k) for k in s.chains[i].head.signers]),
        "votes": per_node(lambda i: [f"{b.signer}:{'+' if b.authorize else '-'}{b.target}"
                                     for b in s.chains[i].head.votes]),
        "online": per_node(lambda i: s.online[i]),
        "network": [", ".join(b.describe() for b in m.blocks) for m in network_items(s.network)],
    }


def itf_vars(model: Any, s: PoaState) -> dict[str, Any]:
    """The state as ITF variables: ``chain`` (node -> sequence of block records ``{number, sealer, vote,
    difficulty, checkpoint}``, a missing vote or list being ``Nil``), ``online`` (node -> bool), ``network``
    (set of announced chains).  The snapshots are a function of the blocks and are left out."""
    return {
        "chain": {k: s.chains[i].blocks for i, k in enumerate(model.honest)},
        "online": {k: s.online[i] for i, k in enumerate(model.honest)},
        "network": frozenset(m.blocks for m in s.network),
    }


def msc_lanes(model: Any) -> list[str]:
    """A lane per honest node, then one per intruder."""
    return [str(k) for k in model.ids]


def _key(chain: Chain, to: Any) -> str:
    return f"{chain.describe()}->{to}"


def msc_events(model: Any, before: PoaState, label: Label, after: PoaState) -> list[dict[str, Any]]:
    """An announcement is an arrow to each other online-or-not honest node, drawn when that node receives
    it; marks for sealing, adopting a chain (a reorganisation when blocks are replaced), rejected blocks,
    signer-set changes, and going offline or online."""
    events: list[dict[str, Any]] = []
    honest = [str(k) for k in model.honest]
    act = label.action
    if act in ("Announce", "IntruderSeal"):
        src = str(label.param("i") if act == "Announce" else label.param("x"))
        new = [m for m in after.network - before.network]
        for m in new:
            for to in honest:
                if to != src:
                    events.append({"kind": "send", "from": src, "to": to, "key": _key(m, to),
                                   "text": m.head_text})
    elif act == "Drop":
        for m in before.network - after.network:
            for to in honest:
                events.append({"kind": "drop", "at": to, "key": _key(m, to)})
    for i, at in enumerate(honest):
        a, b = before.chains[i], after.chains[i]
        if a != b:
            if act == "Receive" and str(label.param("i")) == at:
                m = next((m for m in network_items(before.network)
                          if m.head_text == label.param("head") and model.import_chain(m)[0] == b), None)
                if m is not None:
                    events.append({"kind": "receive", "at": at, "key": _key(m, at)})
                kept = sum(1 for x, y in zip(a.blocks, b.blocks) if x == y)
                text = f"adopt #{len(b)}" + (f" (reorg -{len(a) - kept})" if kept < len(a) else "")
                events.append({"kind": "mark", "at": at, "text": text, "style": "role"})
                if label.param("rejected"):
                    events.append({"kind": "mark", "at": at, "text": f"rejects {label.param('rejected')}",
                                   "style": "bad"})
            else:
                events.append({"kind": "mark", "at": at, "text": f"seal {b.head_text}", "style": "commit"})
            if a.head.signers != b.head.signers:
                events.append({"kind": "mark", "at": at, "text": "signers " + b.head.describe()})
        if before.online[i] != after.online[i]:
            events.append({"kind": "mark", "at": at, "text": "online" if after.online[i] else "offline",
                           "style": "" if after.online[i] else "bad"})
    return events
