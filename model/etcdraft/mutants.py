"""Named buggy variants of the etcdraft model, each replacing one rule, for showing that invariants can fail.

Each mutant swaps one condition of etcdraft.tla (a LET, a helper, or a small operator) for a buggy one,
marked ``# BUG``; the rule that uses it is otherwise the model's own, and the fast engine runs the same rules.
``specs/etcdraft_mutant_*.toml`` and ``tests/test_etcdraft_mutants.py`` name the invariant each one breaks,
the configuration and the length of the shortest counterexample.

Not shipped: Figure 8's "commit an earlier term's entry by counting replicas" (AdvanceCommitIndex without the
current-term check) broke no invariant at e2_t2_r1_l3_f2, e3_t2_r0_l3_f1 or e2_t3_r1_l3_f1 (every entry but the
bootstrap is of the one term a leader can reach there), and e3_t3_r1_l4_f1 was too large to finish here.
"""

from __future__ import annotations

from functools import partial

from refmodel.model import Mutant
from refmodel.model.etcdraft.actions import (
    EtcdRaftConfig,
    become_leader,
    handle_request_vote_request,
    mc_add_learner,
    mc_add_new_server,
    mc_delete_server,
    replace_rules,
    replicate,
    vote_log_ok,
)
from refmodel.model.etcdraft.state import CONFIG_ENTRY, ConfValue, RequestVoteRequest, ServerVars


def conf_change_ignoring_pending(sv: ServerVars, value: ConfValue) -> ServerVars | None:
    """AddNewServer/AddLearner/DeleteServer's IF, dropped: the ConfigEntry is appended even while another
    change is pending (uncommitted or unapplied) -- the single-server membership bug (Ongaro, raft-dev 2015):
    two changes in flight, each computed from the same applied configuration."""
    new = replicate(sv, value, CONFIG_ENTRY)  # BUG: pendingConfChangeIndex[i] = 0 not required
    return None if new is None else new._replace(pendingConfChangeIndex=len(new.log))


def grant_without_voted_for(j: int, sv: ServerVars, m: RequestVoteRequest) -> bool:
    """grant, without checking votedFor."""
    return m.mterm == sv.currentTerm and vote_log_ok(sv, m)  # BUG: votedFor \\in {Nil, j} not checked


def half_is_quorum(members: frozenset[int], c: frozenset[int]) -> bool:
    """Quorum(c) as half of c rather than a strict majority."""
    return members <= c and len(members) * 2 >= len(c)  # BUG: >= instead of >


def ready_without_persist(cfg: EtcdRaftConfig, i: int, sv: ServerVars) -> ServerVars:
    """Ready(i) releasing the pending messages without PersistState(i)."""
    return sv  # BUG: durableState[i] not updated before the messages go out


_PENDING = dict(conf_change=conf_change_ignoring_pending)

MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    Mutant("conf_change_while_pending", "a leader proposes a configuration change while another is still "
           "pending (the single-server membership bug, Ongaro 2015)",
           replace_rules(add_new_server=partial(mc_add_new_server, **_PENDING),
                         add_learner=partial(mc_add_learner, **_PENDING),
                         delete_server=partial(mc_delete_server, **_PENDING))),
    Mutant("vote_twice", "a server grants its vote without checking votedFor",
           replace_rules(handle_request_vote_request=partial(handle_request_vote_request,
                                                             grant_rule=grant_without_voted_for))),
    Mutant("minority_quorum", "a candidate becomes leader with half of its voters' votes",
           replace_rules(become_leader=partial(become_leader, quorum=half_is_quorum))),
    Mutant("send_before_persist", "Ready releases a server's messages without persisting its state",
           replace_rules(ready=ready_without_persist)),
)}
