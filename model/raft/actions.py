"""raft.tla's actions as pure functions, one per operator, guard first and then the update.

Every rule reads and writes only the parts of the state its raft.tla operator touches:

* server rules take ``(cfg, i, sv)`` (``sv`` is server i's :class:`ServerVars`) and return the new record,
  or ``None`` when the guard is false;
* send rules return the message to add to the bag;
* message handlers take ``(cfg, i, j, sv, m)`` (i = recipient, j = sender) and return a :class:`Handled`:
  the recipient's new record and what happens to the bag (``m`` kept, discarded, or replaced by a reply).

:class:`~refmodel.model.raft.system.Raft` composes them into raft.tla's ``Next``; a faster engine (``model.raft.fast``) memoises the very
same functions over interned components, so there is one copy of the protocol.  Mutants
(``model.raft.mutants``) swap single rules in a :class:`Rules` bundle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, NamedTuple

from refmodel.model.core import Label, Sid, fmt_value
from refmodel.model.raft.config import RaftConfig
from refmodel.model.raft.state import (
    CANDIDATE,
    FOLLOWER,
    LEADER,
    NIL,
    AppendEntriesRequest,
    AppendEntriesResponse,
    Election,
    Entry,
    Log,
    Message,
    RequestVoteRequest,
    RequestVoteResponse,
    ServerVars,
    last_term,
    map_put_first,
    with_message,
    without_message,
)


def is_quorum(cfg: RaftConfig, members: frozenset) -> bool:
    """raft.tla Quorum: a strict majority of Server."""
    return len(members) * 2 > cfg.servers


def put(t: tuple, k: int, v: object) -> tuple:
    """``[t EXCEPT ![k] = v]`` for a tuple."""
    return t[:k] + (v,) + t[k + 1:]


# ------------------------------------------------------------------------------------ server transitions


def restart(cfg: RaftConfig, i: int, sv: ServerVars) -> ServerVars:
    """raft.tla Restart(i): back to Follower; keeps only currentTerm, votedFor and log."""
    return sv._replace(state=FOLLOWER, votesResponded=frozenset(), votesGranted=frozenset(), voterLog=(),
                       nextIndex=(1,) * cfg.servers, matchIndex=(0,) * cfg.servers, commitIndex=0)


def timeout(cfg: RaftConfig, i: int, sv: ServerVars) -> ServerVars | None:
    """raft.tla Timeout(i): a Follower or Candidate starts an election in the next term (no self-vote)."""
    if sv.state not in (FOLLOWER, CANDIDATE):
        return None
    return sv._replace(state=CANDIDATE, currentTerm=sv.currentTerm + 1, votedFor=NIL,
                       votesResponded=frozenset(), votesGranted=frozenset(), voterLog=())


def request_vote(cfg: RaftConfig, i: int, j: int, sv: ServerVars) -> Message | None:
    """raft.tla RequestVote(i, j): Candidate i asks j (j may be i itself) unless j already responded."""
    if sv.state != CANDIDATE or j in sv.votesResponded:
        return None
    return RequestVoteRequest(mterm=sv.currentTerm, mlastLogTerm=last_term(sv.log),
                              mlastLogIndex=len(sv.log), msource=Sid(i), mdest=Sid(j))


def append_entries(cfg: RaftConfig, i: int, j: int, sv: ServerVars) -> Message | None:
    """raft.tla AppendEntries(i, j): Leader i sends j at most one entry, from nextIndex[i][j]."""
    if i == j or sv.state != LEADER:
        return None
    prev_index = sv.nextIndex[j] - 1
    assert prev_index <= len(sv.log), "raft.tla would index log[i] out of its domain"
    prev_term = sv.log[prev_index - 1].term if prev_index > 0 else 0
    last_entry = min(len(sv.log), sv.nextIndex[j])
    entries = sv.log[sv.nextIndex[j] - 1:last_entry]  # SubSeq(log[i], nextIndex[i][j], lastEntry)
    return AppendEntriesRequest(mterm=sv.currentTerm, mprevLogIndex=prev_index, mprevLogTerm=prev_term,
                                mentries=entries, mlog=sv.log, mcommitIndex=min(sv.commitIndex, last_entry),
                                msource=Sid(i), mdest=Sid(j))


def become_leader(cfg: RaftConfig, i: int, sv: ServerVars,
                  quorum: Callable[[RaftConfig, frozenset], bool] = is_quorum) -> tuple[ServerVars, Election] | None:
    """raft.tla BecomeLeader(i): a Candidate holding a quorum of votes leads; records the election."""
    if sv.state != CANDIDATE or not quorum(cfg, sv.votesGranted):
        return None
    new = sv._replace(state=LEADER, nextIndex=(len(sv.log) + 1,) * cfg.servers, matchIndex=(0,) * cfg.servers)
    record = Election(eterm=sv.currentTerm, eleader=Sid(i), elog=sv.log, evotes=sv.votesGranted,
                      evoterLog=sv.voterLog)
    return new, record


def client_request(cfg: RaftConfig, i: int, v: int, sv: ServerVars) -> ServerVars | None:
    """raft.tla ClientRequest(i, v): a Leader appends [term |-> currentTerm, value |-> v]."""
    if sv.state != LEADER:
        return None
    return sv._replace(log=sv.log + (Entry(sv.currentTerm, v),))


def entry_of_current_term(sv: ServerVars, index: int) -> bool:
    """raft.tla AdvanceCommitIndex's condition log[i][index].term = currentTerm[i]."""
    return sv.log[index - 1].term == sv.currentTerm


def advance_commit_index(cfg: RaftConfig, i: int, sv: ServerVars,
                         may_commit: Callable[[ServerVars, int], bool] = entry_of_current_term) -> ServerVars | None:
    """raft.tla AdvanceCommitIndex(i): a Leader commits the largest index a quorum holds, if of its term."""
    if sv.state != LEADER:
        return None
    agree_indexes = [index for index in range(1, len(sv.log) + 1)
                     if is_quorum(cfg, frozenset({i} | {k for k in range(cfg.servers)
                                                        if sv.matchIndex[k] >= index}))]
    new_commit = sv.commitIndex
    if agree_indexes and may_commit(sv, max(agree_indexes)):
        new_commit = max(agree_indexes)
    return sv._replace(commitIndex=new_commit)


# -------------------------------------------------------------------------------------- message handlers


class Handled(NamedTuple):
    """The effect of receiving a message: the recipient's new variables and the bag operation."""

    sv: ServerVars
    consume: bool  # remove one copy of the received message
    reply: Message | None  # message to add
    case: str = ""  # which disjunct of the handler fired, for labels


def update_term(cfg: RaftConfig, i: int, j: int, sv: ServerVars, m: Message) -> Handled | None:
    """raft.tla UpdateTerm: any message with a newer term makes i adopt it as a Follower; m stays."""
    if m.mterm <= sv.currentTerm:
        return None
    return Handled(sv._replace(currentTerm=m.mterm, state=FOLLOWER, votedFor=NIL), consume=False, reply=None)


def candidate_log_ok(sv: ServerVars, m: RequestVoteRequest) -> bool:
    """raft.tla HandleRequestVoteRequest's LET logOk: the candidate's log is at least as up to date."""
    my_last = last_term(sv.log)
    return m.mlastLogTerm > my_last or (m.mlastLogTerm == my_last and m.mlastLogIndex >= len(sv.log))


def grant_vote(j: int, sv: ServerVars, m: RequestVoteRequest) -> bool:
    """raft.tla HandleRequestVoteRequest's LET grant: same term, log ok, and votedFor is Nil or j."""
    return m.mterm == sv.currentTerm and candidate_log_ok(sv, m) and sv.votedFor in (NIL, j)


def handle_request_vote_request(cfg: RaftConfig, i: int, j: int, sv: ServerVars, m: RequestVoteRequest,
                                grant_rule: Callable[[int, ServerVars, RequestVoteRequest], bool] = grant_vote,
                                ) -> Handled | None:
    """raft.tla HandleRequestVoteRequest: grant iff same term, j's log up to date, not voted for another."""
    if m.mterm > sv.currentTerm:
        return None
    grant = grant_rule(j, sv, m)
    reply = RequestVoteResponse(mterm=sv.currentTerm, mvoteGranted=grant, mlog=sv.log, msource=Sid(i),
                                mdest=Sid(j))
    return Handled(sv._replace(votedFor=Sid(j)) if grant else sv, consume=True, reply=reply,
                   case="grant" if grant else "deny")


def handle_request_vote_response(cfg: RaftConfig, i: int, j: int, sv: ServerVars,
                                 m: RequestVoteResponse) -> Handled | None:
    """raft.tla HandleRequestVoteResponse: same term: record j's answer (and its log on a grant)."""
    if m.mterm != sv.currentTerm:
        return None
    new = sv._replace(votesResponded=sv.votesResponded | {Sid(j)})
    if m.mvoteGranted:
        new = new._replace(votesGranted=sv.votesGranted | {Sid(j)}, voterLog=map_put_first(sv.voterLog, j, m.mlog))
    return Handled(new, consume=True, reply=None)


def drop_stale_response(cfg: RaftConfig, i: int, j: int, sv: ServerVars, m: Message) -> Handled | None:
    """raft.tla DropStaleResponse: a response from an older term is discarded."""
    if m.mterm >= sv.currentTerm:
        return None
    return Handled(sv, consume=True, reply=None)


def prev_log_ok(log: Log, m: AppendEntriesRequest) -> bool:
    """raft.tla HandleAppendEntriesRequest's LET logOk: the log has the entry m.mprevLogIndex/m.mprevLogTerm."""
    return m.mprevLogIndex == 0 or (0 < m.mprevLogIndex <= len(log)
                                    and m.mprevLogTerm == log[m.mprevLogIndex - 1].term)


def handle_append_entries_request(cfg: RaftConfig, i: int, j: int, sv: ServerVars, m: AppendEntriesRequest,
                                  log_ok_rule: Callable[[Log, AppendEntriesRequest], bool] = prev_log_ok,
                                  ) -> Handled | None:
    """raft.tla HandleAppendEntriesRequest: reject, step down from Candidate, or accept (done/conflict/append)."""
    if m.mterm > sv.currentTerm:
        return None
    log = sv.log
    log_ok = log_ok_rule(log, m)
    if m.mterm < sv.currentTerm or (sv.state == FOLLOWER and not log_ok):  # reject request
        reply = AppendEntriesResponse(mterm=sv.currentTerm, msuccess=False, mmatchIndex=0, msource=Sid(i),
                                      mdest=Sid(j))
        return Handled(sv, consume=True, reply=reply, case="reject")
    if sv.state == CANDIDATE:  # same term: return to follower state, m is kept
        return Handled(sv._replace(state=FOLLOWER), consume=False, reply=None, case="step down")
    if sv.state != FOLLOWER:  # a Leader receiving a same-term request: no disjunct is enabled
        return None
    index = m.mprevLogIndex + 1
    if not m.mentries or (len(log) >= index and log[index - 1].term == m.mentries[0].term):
        # already done with request (may lower commitIndex on an old duplicate, as raft.tla notes)
        reply = AppendEntriesResponse(mterm=sv.currentTerm, msuccess=True,
                                      mmatchIndex=m.mprevLogIndex + len(m.mentries), msource=Sid(i), mdest=Sid(j))
        return Handled(sv._replace(commitIndex=m.mcommitIndex), consume=True, reply=reply, case="done")
    if len(log) >= index:  # conflict: remove 1 entry (the last one), m is kept
        return Handled(sv._replace(log=log[:-1]), consume=False, reply=None, case="conflict")
    if len(log) == m.mprevLogIndex:  # no conflict: append entry, m is kept
        return Handled(sv._replace(log=log + (m.mentries[0],)), consume=False, reply=None, case="append")
    return None


def handle_append_entries_response(cfg: RaftConfig, i: int, j: int, sv: ServerVars,
                                   m: AppendEntriesResponse) -> Handled | None:
    """raft.tla HandleAppendEntriesResponse: same term: on success set nextIndex/matchIndex[j], else back off."""
    if m.mterm != sv.currentTerm:
        return None
    if m.msuccess:
        new = sv._replace(nextIndex=put(sv.nextIndex, j, m.mmatchIndex + 1),
                          matchIndex=put(sv.matchIndex, j, m.mmatchIndex))
    else:
        new = sv._replace(nextIndex=put(sv.nextIndex, j, max(sv.nextIndex[j] - 1, 1)))
    return Handled(new, consume=True, reply=None)


Handler = Callable[[RaftConfig, int, int, ServerVars, Message], "Handled | None"]


@dataclass(frozen=True)
class Rules:
    """The rule functions a Raft model uses; a mutant replaces one of them."""

    restart: Callable = restart
    timeout: Callable = timeout
    request_vote: Callable = request_vote
    become_leader: Callable = become_leader
    client_request: Callable = client_request
    advance_commit_index: Callable = advance_commit_index
    append_entries: Callable = append_entries
    update_term: Callable = update_term
    handle_request_vote_request: Callable = handle_request_vote_request
    handle_request_vote_response: Callable = handle_request_vote_response
    drop_stale_response: Callable = drop_stale_response
    handle_append_entries_request: Callable = handle_append_entries_request
    handle_append_entries_response: Callable = handle_append_entries_response

    def handlers(self, m: Message) -> tuple[tuple[str, Handler], ...]:
        """raft.tla Receive(m): the disjuncts that may handle a message of m's type, in spec order."""
        if isinstance(m, RequestVoteRequest):
            return (("UpdateTerm", self.update_term),
                    ("HandleRequestVoteRequest", self.handle_request_vote_request))
        if isinstance(m, RequestVoteResponse):
            return (("UpdateTerm", self.update_term), ("DropStaleResponse", self.drop_stale_response),
                    ("HandleRequestVoteResponse", self.handle_request_vote_response))
        if isinstance(m, AppendEntriesRequest):
            return (("UpdateTerm", self.update_term),
                    ("HandleAppendEntriesRequest", self.handle_append_entries_request))
        return (("UpdateTerm", self.update_term), ("DropStaleResponse", self.drop_stale_response),
                ("HandleAppendEntriesResponse", self.handle_append_entries_response))


DEFAULT_RULES = Rules()

#: Action names, in the order of raft.tla's Next (message handlers are the disjuncts of Receive).
ACTION_NAMES = ("Restart", "Timeout", "RequestVote", "BecomeLeader", "ClientRequest", "AdvanceCommitIndex",
                "AppendEntries", "UpdateTerm", "HandleRequestVoteRequest", "HandleRequestVoteResponse",
                "DropStaleResponse", "HandleAppendEntriesRequest", "HandleAppendEntriesResponse",
                "DuplicateMessage", "DropMessage")


def apply_bag_op(bag, m: Message, h: Handled):
    """The bag after handling m: raft.tla Reply (add the reply, then remove m), Discard, or unchanged."""
    if h.reply is not None:
        bag = with_message(h.reply, bag)
    if h.consume:
        bag = without_message(m, bag)
    return bag


def receive_label(name: str, m: Message, case: str) -> Label:
    """The label of a Receive(m) step: the handler that fired, i, j, (the case) and the message."""
    params: tuple = (("i", m.mdest), ("j", m.msource))
    if case:
        params += (("case", case),)
    return Label(name, params + (("m", MessageView(m)),))


class MessageView(NamedTuple):
    """A message as a label parameter: prints as a compact TLA+-style record."""

    msg: Message

    def describe(self) -> str:
        m = self.msg
        fields = ", ".join(f"{f}={fmt_value(getattr(m, f))}" for f in m.__slots__ if f not in ("msource", "mdest"))
        return f"{type(m).__name__}({m.msource}->{m.mdest}, {fields})"

    def to_json(self) -> dict[str, object]:
        from refmodel.model.raft.render import message

        return message(self.msg)

    def itf(self) -> Message:
        return self.msg


# ------------------------------------------------------------------------------------------------- Next


def replace_rules(**changes: Callable) -> Rules:
    """The default rules with some replaced (used by mutants)."""
    return replace(DEFAULT_RULES, **changes)
