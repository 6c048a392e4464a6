"""etcdraft states as JSON-able variables (for reports and counterexample traces), named as in the spec."""

from __future__ import annotations

from typing import Any

from refmodel.model.etcdraft.state import Config, EtcdState, Message, bag_items


def _config(c: Config) -> dict[str, Any]:
    return {"jointConfig": [sorted(c.jointConfig[0]), sorted(c.jointConfig[1])], "learners": sorted(c.learners)}


def message(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f, v in zip(m._fields, m):
        out[f] = [e.describe() for e in v] if f == "mentries" else v
    return out


def render_state(s: EtcdState) -> dict[str, Any]:
    """Every variable of the spec, as a function from server (\"1\"..\"N\") where it is per server."""
    def per(f):  # noqa: ANN001, ANN202
        return {str(k + 1): f(sv) for k, sv in enumerate(s.servers)}

    return {
        "currentTerm": per(lambda sv: sv.currentTerm),
        "state": per(lambda sv: sv.state),
        "votedFor": per(lambda sv: sv.votedFor),
        "log": per(lambda sv: [e.describe() for e in sv.log]),
        "commitIndex": per(lambda sv: sv.commitIndex),
        "votesResponded": per(lambda sv: sorted(sv.votesResponded)),
        "votesGranted": per(lambda sv: sorted(sv.votesGranted)),
        "matchIndex": per(lambda sv: list(sv.matchIndex)),
        "pendingConfChangeIndex": per(lambda sv: sv.pendingConfChangeIndex),
        "config": per(lambda sv: _config(sv.config)),
        "durableState": per(lambda sv: {"currentTerm": sv.durableState.currentTerm,
                                        "votedFor": sv.durableState.votedFor, "log": sv.durableState.log,
                                        "commitIndex": sv.durableState.commitIndex,
                                        "config": _config(sv.durableState.config)}),
        "reconfigCount": s.reconfigCount,
        "messages": [{"msg": message(m), "count": c} for m, c in bag_items(s.messages)],
        "pendingMessages": [{"msg": message(m), "count": c} for m, c in bag_items(s.pendingMessages)],
    }
