"""Named buggy variants of the Raft model, each replacing one rule, for showing that invariants can fail.

Each mutant swaps one of raft.tla's conditions (a LET of the operator, or the whole small operator) for a
buggy one, marked ``# BUG``; the rule that uses it is otherwise the model's own.  The fast engine uses the
same rules, so a mutant runs at full speed.  ``specs/raft_mutant_*.toml`` and ``tests/test_raft_mutants.py``
name the invariant each one breaks and the length of the shortest counterexample.
"""

from __future__ import annotations

from functools import partial

from refmodel.model import Mutant
from refmodel.model.raft.actions import (
    Handled,
    advance_commit_index,
    become_leader,
    candidate_log_ok,
    handle_append_entries_request,
    handle_request_vote_request,
    replace_rules,
)
from refmodel.model.raft.config import RaftConfig
from refmodel.model.raft.state import NIL, AppendEntriesRequest, Log, Message, RequestVoteRequest, ServerVars


def grant_without_voted_for(j: int, sv: ServerVars, m: RequestVoteRequest) -> bool:
    """grant, without checking votedFor."""
    return m.mterm == sv.currentTerm and candidate_log_ok(sv, m)  # BUG: votedFor \in {Nil, j} not checked


def grant_without_log_check(j: int, sv: ServerVars, m: RequestVoteRequest) -> bool:
    """grant, whatever the candidate's log."""
    return m.mterm == sv.currentTerm and sv.votedFor in (NIL, j)  # BUG: logOk not checked


def any_entry(sv: ServerVars, index: int) -> bool:
    """AdvanceCommitIndex's condition, dropped: an entry of any term may be committed by counting replicas
    (the Raft paper's Figure 8 error)."""
    return True  # BUG: log[i][index].term = currentTerm[i] not required


def half_is_quorum(cfg: RaftConfig, members: frozenset) -> bool:
    """Quorum as half of the servers rather than a strict majority."""
    return len(members) * 2 >= cfg.servers  # BUG: >= instead of >


def prev_index_only(log: Log, m: AppendEntriesRequest) -> bool:
    """logOk that checks the index of the previous entry but not its term."""
    return m.mprevLogIndex <= len(log)  # BUG: log[i][prevLogIndex].term = prevLogTerm not checked


def no_step_down_update_term(cfg: RaftConfig, i: int, j: int, sv: ServerVars, m: Message) -> Handled | None:
    """UpdateTerm that adopts the newer term but keeps the server's role (a Leader stays Leader)."""
    if m.mterm <= sv.currentTerm:
        return None
    return Handled(sv._replace(currentTerm=m.mterm, votedFor=NIL), consume=False, reply=None)  # BUG: state kept


MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    Mutant("vote_twice", "a server grants its vote without checking votedFor",
           replace_rules(handle_request_vote_request=partial(handle_request_vote_request,
                                                             grant_rule=grant_without_voted_for))),
    Mutant("no_log_up_to_date_check", "a server grants its vote without checking the candidate's log is up "
           "to date", replace_rules(handle_request_vote_request=partial(handle_request_vote_request,
                                                                        grant_rule=grant_without_log_check))),
    Mutant("commit_old_term_by_count", "a leader commits an entry of an earlier term once a quorum stores it "
           "(Raft paper, Figure 8)", replace_rules(advance_commit_index=partial(advance_commit_index,
                                                                                may_commit=any_entry))),
    Mutant("minority_quorum", "a candidate becomes leader with half of the votes",
           replace_rules(become_leader=partial(become_leader, quorum=half_is_quorum))),
    Mutant("no_log_matching_check", "a follower appends without checking prevLogTerm against its log",
           replace_rules(handle_append_entries_request=partial(handle_append_entries_request,
                                                               log_ok_rule=prev_index_only))),
    Mutant("no_step_down_on_higher_term", "a server adopting a newer term keeps its role instead of becoming "
           "Follower", replace_rules(update_term=no_step_down_update_term)),
)}
