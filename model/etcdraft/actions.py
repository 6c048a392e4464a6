"""etcdraft.tla's actions (with MCetcdraft's overrides) as pure functions, one per operator, guard then effect.

Stable API (``model/etcdraft/trace.py`` calls these directly; servers are ints 1..N, ``cfg`` an
:class:`~model.etcdraft.config.EtcdRaftConfig`, ``sv`` server i's :class:`~model.etcdraft.state.ServerVars`):

* server rules return server i's new record, or None when the guard is false: ``f(cfg, i, sv)`` for
  :func:`timeout`, :func:`become_leader`, :func:`advance_commit_index`, :func:`step_down_to_follower`, and
  (always enabled) :func:`restart`, :func:`ready`; :func:`mc_timeout` ``(cfg, i, sv, candidates)`` (the set of
  Candidate servers); :func:`client_request` / :func:`mc_client_request` ``(cfg, i, v, sv)``;
  :func:`add_new_server`, :func:`add_learner`, :func:`delete_server` ``(cfg, i, j, sv)`` and their ``mc_*``
  forms ``(cfg, i, j, sv, reconfig_count)``; :func:`apply_simple_conf_change` ``(cfg, i, sv)`` returns
  ``(ServerVars, bump)`` where ``bump`` says reconfigCount' = reconfigCount + 1.  The bag parts of Restart and
  Ready are :func:`restart_pending` and :func:`ready_bags`;
* send rules ``f(cfg, i, j, sv, ...) -> Message | None``: :func:`request_vote`, :func:`append_entries`
  (``b, e``: the right-open range), :func:`heartbeat`, :func:`send_snapshot` (``index``),
  :func:`append_entries_to_self` (``f(cfg, i, sv)``); :func:`mc_send_ok` is MCSend's extra guard over both bags;
* message handlers ``f(cfg, i, j, sv, m) -> Handled | None`` (i = m.mdest, j = m.msource), one per disjunct of
  ReceiveDirect: :func:`update_term`, :func:`handle_request_vote_request`,
  :func:`handle_request_vote_response`, :func:`drop_stale_response`, the five disjuncts of
  HandleAppendEntriesRequest (:func:`reject_append_entries_request`, :func:`return_to_follower_state`,
  :func:`append_entries_already_done`, :func:`conflict_append_entries_request`,
  :func:`no_conflict_append_entries_request`) and :func:`handle_append_entries_response`.  A
  :class:`Handled` is the recipient's new variables and the bag operation (consume m from ``messages``; add
  ``reply`` to ``pendingMessages``).

:class:`~refmodel.model.etcdraft.system.EtcdRaft` composes them into MCetcdraft's ``NextDynamic`` (labels such as ``RequestVote(i=1, j=2)``,
``AppendEntries(i=1, j=2, range=<<3, 4>>)``, receive steps named by the disjunct that fired with ``i``, ``j``
and ``m``); :func:`step` lists the successors of one action instance, given its name and parameters.
Mutants (``model.etcdraft.mutants``) swap single rules in a :class:`Rules` bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from refmodel.model.core import Label, fmt_value
from refmodel.model.etcdraft.config import EtcdRaftConfig
from refmodel.model.etcdraft.state import (
    AE_REQ,
    AE_RESP,
    CANDIDATE,
    CONFIG_ENTRY,
    EMPTY_VALUE,
    FOLLOWER,
    LEADER,
    NIL,
    RV_REQ,
    RV_RESP,
    VALUE_ENTRY,
    AppendEntriesRequest,
    AppendEntriesResponse,
    Bag,
    ClientValue,
    Config,
    ConfValue,
    Entry,
    Log,
    Message,
    RequestVoteRequest,
    RequestVoteResponse,
    ServerVars,
    ae_request,
    ae_response,
    bag_minus_all_from,
    bag_sum,
    last_term,
    pending_from,
    persisted,
    rv_request,
    rv_response,
)

EMPTY: frozenset[int] = frozenset()

# --------------------------------------------------------------------------------------------- helpers


def in_quorum(members: frozenset[int], c: frozenset[int]) -> bool:
    """``members \\in Quorum(c)``: a subset of c holding a strict majority of it."""
    return members <= c and len(members) * 2 > len(c)


def get_config(sv: ServerVars) -> frozenset[int]:
    """etcdraft GetConfig(i): the incoming voters."""
    return sv.config.jointConfig[0]


def is_joint_config(sv: ServerVars) -> bool:
    """etcdraft IsJointConfig(i): the outgoing set is not empty."""
    return bool(sv.config.jointConfig[1])


def put(t: tuple, k: int, v: object) -> tuple:
    """``[t EXCEPT ![k] = v]`` for a tuple (0-based k)."""
    return t[:k] + (v,) + t[k + 1:]


# ------------------------------------------------------------------------------------ server transitions


def restart(cfg: EtcdRaftConfig, i: int, sv: ServerVars) -> ServerVars:
    """etcdraft Restart(i), server part: Follower; term, vote, commit, config and log length from durableState
    (the bag part, dropping i's pending messages, is :func:`restart_pending`)."""
    d = sv.durableState
    assert d.log <= len(sv.log), "SubSeq(log[i], 1, durableState[i].log) out of range: TLC would stop"
    return sv._replace(state=FOLLOWER, votesResponded=EMPTY, votesGranted=EMPTY, matchIndex=(0,) * cfg.servers,
                       pendingConfChangeIndex=0, currentTerm=d.currentTerm, commitIndex=d.commitIndex,
                       votedFor=d.votedFor, log=sv.log[:d.log], config=d.config)


def restart_pending(i: int, pending: Bag) -> Bag:
    """etcdraft Restart(i)'s ``pendingMessages' = ClearPendingMessages(i)``."""
    return bag_minus_all_from(pending, i)


def timeout(cfg: EtcdRaftConfig, i: int, sv: ServerVars) -> ServerVars | None:
    """etcdraft Timeout(i): a Follower or Candidate voter of its own config starts an election, voting for itself."""
    if sv.state == LEADER or i not in get_config(sv):
        return None
    return sv._replace(state=CANDIDATE, currentTerm=sv.currentTerm + 1, votedFor=i, votesResponded=EMPTY,
                       votesGranted=EMPTY)


def mc_timeout(cfg: EtcdRaftConfig, i: int, sv: ServerVars, candidates: frozenset[int]) -> ServerVars | None:
    """MCetcdraft MCTimeout(i): Timeout(i) only below MaxTermLimit and while no server of i's config is Candidate
    (``candidates``: the servers whose state is Candidate)."""
    if sv.currentTerm >= cfg.max_term or get_config(sv) & candidates:
        return None
    return timeout(cfg, i, sv)


def request_vote(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars) -> Message | None:
    """etcdraft RequestVote(i, j): Candidate i asks voter or learner j that has not responded; to itself it
    sends a granted response."""
    if sv.state != CANDIDATE or j in sv.votesResponded or not (j in get_config(sv) or j in sv.config.learners):
        return None
    if i != j:
        return rv_request(sv.currentTerm, last_term(sv.log), len(sv.log), i, j)
    return rv_response(sv.currentTerm, True, i, i)


def append_entries_in_range_to_peer(cfg: EtcdRaftConfig, subtype: str, i: int, j: int, sv: ServerVars, b: int,
                                    e: int) -> Message | None:
    """etcdraft AppendEntriesInRangeToPeer(subtype, i, j, <<b, e>>): Leader i sends j the entries [b, e)."""
    if i == j or b > e or sv.state != LEADER or not (j in get_config(sv) or j in sv.config.learners):
        return None
    log = sv.log
    prev_index = b - 1
    prev_term = log[prev_index - 1].term if 0 < prev_index <= len(log) else 0
    last_entry = min(len(log), e - 1)
    entries = log[b - 1:last_entry]  # SubSeq(log[i], b, lastEntry)
    if subtype == "heartbeat":
        commit = min(sv.commitIndex, sv.matchIndex[j - 1])
    else:
        commit = min(sv.commitIndex, last_entry)
    return ae_request(subtype, sv.currentTerm, prev_index, prev_term, entries, commit, i, j)


def append_entries(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars, b: int, e: int) -> Message | None:
    """etcdraft AppendEntries(i, j, <<b, e>>)."""
    return append_entries_in_range_to_peer(cfg, "app", i, j, sv, b, e)


def heartbeat(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars) -> Message | None:
    """etcdraft Heartbeat(i, j): no entries, commit capped by matchIndex[i][j]."""
    return append_entries_in_range_to_peer(cfg, "heartbeat", i, j, sv, 1, 1)


def send_snapshot(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars, index: int) -> Message | None:
    """etcdraft SendSnapshot(i, j, index): the prefix 1..index from the start."""
    return append_entries_in_range_to_peer(cfg, "snapshot", i, j, sv, 1, index + 1)


def append_entries_to_self(cfg: EtcdRaftConfig, i: int, sv: ServerVars) -> Message | None:
    """etcdraft AppendEntriesToSelf(i): a Leader acknowledges its whole log to itself."""
    if sv.state != LEADER:
        return None
    return ae_response("app", sv.currentTerm, True, len(sv.log), i, i)


def mc_send_ok(msg: Message, messages: Bag, pending: Bag) -> bool:
    """MCetcdraft MCSend's guard: an AppendEntries request i->j needs no request i->j and no response j->i
    of its term in either bag (other messages are always sent)."""
    if msg.mtype != AE_REQ:
        return True
    src, dst, term = msg.msource, msg.mdest, msg.mterm
    for bag in (messages, pending):
        for n, _ in bag:
            if n.mterm == term and (
                    (n.mtype == AE_REQ and n.msource == src and n.mdest == dst)
                    or (n.mtype == AE_RESP and n.msource == dst and n.mdest == src)):
                return False
    return True


def become_leader(cfg: EtcdRaftConfig, i: int, sv: ServerVars,
                  quorum: Callable[[frozenset[int], frozenset[int]], bool] = in_quorum) -> ServerVars | None:
    """etcdraft BecomeLeader(i): a Candidate whose granted votes are a quorum of its incoming voters leads."""
    if sv.state != CANDIDATE or not quorum(sv.votesGranted, get_config(sv)):
        return None
    return sv._replace(state=LEADER,
                       matchIndex=tuple(len(sv.log) if j == i else 0 for j in range(1, cfg.servers + 1)))


def replicate(sv: ServerVars, value: Any, typ: str) -> ServerVars | None:
    """etcdraft Replicate(i, v, t): a Leader appends [term |-> currentTerm, type |-> t, value |-> v]."""
    if sv.state != LEADER:
        return None
    return sv._replace(log=sv.log + (Entry(sv.currentTerm, typ, value),))


def client_request(cfg: EtcdRaftConfig, i: int, v: int, sv: ServerVars) -> ServerVars | None:
    """etcdraft ClientRequest(i, v): a Leader appends a ValueEntry [val |-> v]."""
    return replicate(sv, ClientValue(v), VALUE_ENTRY)


def mc_client_request(cfg: EtcdRaftConfig, i: int, v: int, sv: ServerVars) -> ServerVars | None:
    """MCetcdraft MCClientRequest(i, v): ClientRequest while the log holds fewer than RequestLimit ValueEntry
    entries (refused configuration changes' empty entries count too)."""
    if sum(1 for e in sv.log if e.type == VALUE_ENTRY) >= cfg.request_limit:
        return None
    return client_request(cfg, i, v, sv)


def advance_commit_index(cfg: EtcdRaftConfig, i: int, sv: ServerVars) -> ServerVars | None:
    """etcdraft AdvanceCommitIndex(i): a Leader commits the largest index a quorum of its incoming voters
    matches, if that entry is of its term; never lowers commitIndex."""
    if sv.state != LEADER:
        return None
    conf = get_config(sv)
    agree = [index for index in range(1, len(sv.log) + 1)
             if len([k for k in conf if sv.matchIndex[k - 1] >= index]) * 2 > len(conf)]
    new_commit = sv.commitIndex
    if agree:
        top = max(agree)
        if sv.log[top - 1].term == sv.currentTerm:
            new_commit = top
    return sv._replace(commitIndex=max(sv.commitIndex, new_commit))


def _conf_change(sv: ServerVars, value: ConfValue) -> ServerVars | None:
    """The IF of AddNewServer/AddLearner/DeleteServer: no change pending: append the ConfigEntry and remember
    its index; otherwise append an empty ValueEntry."""
    if sv.pendingConfChangeIndex == 0:
        new = replicate(sv, value, CONFIG_ENTRY)
        return None if new is None else new._replace(pendingConfChangeIndex=len(new.log))
    return replicate(sv, EMPTY_VALUE, VALUE_ENTRY)


ConfChange = Callable[[ServerVars, ConfValue], "ServerVars | None"]


def add_new_server(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars,
                   conf_change: ConfChange = _conf_change) -> ServerVars | None:
    """etcdraft AddNewServer(i, j): Leader i proposes adding voter j (a non-voter)."""
    if sv.state != LEADER or j in get_config(sv) or is_joint_config(sv):
        return None
    return conf_change(sv, ConfValue(get_config(sv) | {j}, sv.config.learners))


def add_learner(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars,
                conf_change: ConfChange = _conf_change) -> ServerVars | None:
    """etcdraft AddLearner(i, j): Leader i proposes adding learner j (neither voter nor learner)."""
    if sv.state != LEADER or j in get_config(sv) or j in sv.config.learners or is_joint_config(sv):
        return None
    return conf_change(sv, ConfValue(get_config(sv), sv.config.learners | {j}))


def delete_server(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars,
                  conf_change: ConfChange = _conf_change) -> ServerVars | None:
    """etcdraft DeleteServer(i, j): Leader i proposes removing voter or learner j (possibly itself)."""
    if sv.state != LEADER or not (j in get_config(sv) or j in sv.config.learners) or is_joint_config(sv):
        return None
    return conf_change(sv, ConfValue(get_config(sv) - {j}, sv.config.learners - {j}))


def mc_add_new_server(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars, reconfig_count: int,
                      conf_change: ConfChange = _conf_change) -> ServerVars | None:
    """MCetcdraft MCAddNewServer(i, j): AddNewServer while reconfigCount < ReconfigurationLimit."""
    return add_new_server(cfg, i, j, sv, conf_change) if reconfig_count < cfg.reconfiguration_limit else None


def mc_add_learner(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars, reconfig_count: int,
                   conf_change: ConfChange = _conf_change) -> ServerVars | None:
    """MCetcdraft MCAddLearner(i, j): AddLearner while reconfigCount < ReconfigurationLimit."""
    return add_learner(cfg, i, j, sv, conf_change) if reconfig_count < cfg.reconfiguration_limit else None


def mc_delete_server(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars, reconfig_count: int,
                     conf_change: ConfChange = _conf_change) -> ServerVars | None:
    """MCetcdraft MCDeleteServer(i, j): DeleteServer while reconfigCount < ReconfigurationLimit."""
    return delete_server(cfg, i, j, sv, conf_change) if reconfig_count < cfg.reconfiguration_limit else None


def apply_simple_conf_change(cfg: EtcdRaftConfig, i: int, sv: ServerVars) -> tuple[ServerVars, bool] | None:
    """etcdraft ApplySimpleConfChange(i): the last committed ConfigEntry becomes i's config (enabled whenever
    one exists, even if nothing changes); a Leader applying its own pending change clears it and counts a
    reconfiguration (``bump``)."""
    if is_joint_config(sv):
        return None
    k = 0  # SelectLastInSubSeq(log[i], 1, commitIndex[i], LAMBDA x: x.type = ConfigEntry)
    assert sv.commitIndex <= len(sv.log), "log[i][k] for k > Len(log[i]): TLC would stop"
    for idx in range(sv.commitIndex, 0, -1):
        if sv.log[idx - 1].type == CONFIG_ENTRY:
            k = idx
            break
    if k == 0:
        return None
    value = sv.log[k - 1].value
    new = sv._replace(config=Config((value.newconf, EMPTY), value.learners))
    if sv.state == LEADER and sv.pendingConfChangeIndex >= k:
        return new._replace(pendingConfChangeIndex=0), True
    return new, False


def ready(cfg: EtcdRaftConfig, i: int, sv: ServerVars) -> ServerVars:
    """etcdraft Ready(i), server part: PersistState(i) (the bag part is :func:`ready_bags`)."""
    return sv._replace(durableState=persisted(sv))


def ready_bags(i: int, messages: Bag, pending: Bag) -> tuple[Bag, Bag]:
    """etcdraft SendPendingMessages(i): i's pending messages move to ``messages``."""
    return bag_sum(messages, pending_from(pending, i)), bag_minus_all_from(pending, i)


def step_down_to_follower(cfg: EtcdRaftConfig, i: int, sv: ServerVars) -> ServerVars | None:
    """etcdraft StepDownToFollower(i): a Leader or Candidate becomes Follower in its term (vote kept)."""
    if sv.state == FOLLOWER:
        return None
    return sv._replace(state=FOLLOWER)


# -------------------------------------------------------------------------------------- message handlers


class Handled(NamedTuple):
    """The effect of a receive step: the recipient's new variables; whether one copy of m leaves
    ``messages``; the reply added to ``pendingMessages`` (or None)."""

    sv: ServerVars
    consume: bool
    reply: Message | None


def update_term(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars, m: Message) -> Handled | None:
    """etcdraft UpdateTerm: a newer term makes i a Follower of it (BecomeFollowerOfTerm, vote reset); m stays."""
    if m.mterm <= sv.currentTerm:
        return None
    return Handled(sv._replace(currentTerm=m.mterm, state=FOLLOWER, votedFor=NIL), False, None)


def vote_log_ok(sv: ServerVars, m: RequestVoteRequest) -> bool:
    """HandleRequestVoteRequest's LET logOk: the candidate's log is at least as up to date."""
    lt = last_term(sv.log)
    return m.mlastLogTerm > lt or (m.mlastLogTerm == lt and m.mlastLogIndex >= len(sv.log))


def grant_vote(j: int, sv: ServerVars, m: RequestVoteRequest) -> bool:
    """HandleRequestVoteRequest's LET grant: same term, log ok, votedFor Nil or j."""
    return m.mterm == sv.currentTerm and vote_log_ok(sv, m) and sv.votedFor in (NIL, j)


def handle_request_vote_request(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars, m: RequestVoteRequest,
                                grant_rule: Callable[[int, ServerVars, RequestVoteRequest], bool] = grant_vote,
                                ) -> Handled | None:
    """etcdraft HandleRequestVoteRequest: (m.mterm <= currentTerm) answer, granting per ``grant``."""
    if m.mterm > sv.currentTerm:
        return None
    grant = grant_rule(j, sv, m)
    return Handled(sv._replace(votedFor=j) if grant else sv, True, rv_response(sv.currentTerm, grant, i, j))


def handle_request_vote_response(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars,
                                 m: RequestVoteResponse) -> Handled | None:
    """etcdraft HandleRequestVoteResponse: same term: record j's answer (in any role)."""
    if m.mterm != sv.currentTerm:
        return None
    new = sv._replace(votesResponded=sv.votesResponded | {j},
                      votesGranted=sv.votesGranted | {j} if m.mvoteGranted else sv.votesGranted)
    return Handled(new, True, None)


def drop_stale_response(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars, m: Message) -> Handled | None:
    """etcdraft DropStaleResponse: a response of an older term is discarded."""
    if m.mterm >= sv.currentTerm:
        return None
    return Handled(sv, True, None)


def append_log_ok(sv: ServerVars, m: AppendEntriesRequest) -> bool:
    """HandleAppendEntriesRequest's LET logOk: i's log has the entry (mprevLogIndex, mprevLogTerm)."""
    p = m.mprevLogIndex
    return p == 0 or (0 < p <= len(sv.log) and m.mprevLogTerm == sv.log[p - 1].term)


def has_no_conflict(log: Log, index: int, ents: Log) -> bool:
    """etcdraft HasNoConflict(i, index, ents): ents placed at index agree in term with the log where both exist."""
    if index > len(log) + 1:
        return False
    return all(log[index + k - 2].term == ents[k - 1].term
               for k in range(1, len(ents) + 1) if index + k - 1 <= len(log))


def reject_append_entries_request(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars, m: AppendEntriesRequest,
                                  log_ok: Callable[[ServerVars, AppendEntriesRequest], bool] = append_log_ok,
                                  ) -> Handled | None:
    """etcdraft RejectAppendEntriesRequest: an older term, or a Follower whose log lacks the previous entry,
    answers failure."""
    if m.mterm > sv.currentTerm:
        return None
    if not (m.mterm < sv.currentTerm or (sv.state == FOLLOWER and not log_ok(sv, m))):
        return None
    return Handled(sv, True, ae_response("app", sv.currentTerm, False, 0, i, j))


def return_to_follower_state(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars,
                             m: AppendEntriesRequest) -> Handled | None:
    """etcdraft ReturnToFollowerState: a Candidate hearing a leader of its term becomes Follower; m stays."""
    if m.mterm != sv.currentTerm or sv.state != CANDIDATE:
        return None
    return Handled(sv._replace(state=FOLLOWER), False, None)


def _accept_ok(sv: ServerVars, m: AppendEntriesRequest, log_ok: Callable) -> bool:
    """AcceptAppendEntriesRequest's guard: same term, Follower, logOk."""
    return m.mterm == sv.currentTerm and sv.state == FOLLOWER and log_ok(sv, m)


def append_entries_already_done(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars, m: AppendEntriesRequest,
                                log_ok: Callable[[ServerVars, AppendEntriesRequest], bool] = append_log_ok,
                                ) -> Handled | None:
    """etcdraft AppendEntriesAlreadyDone (under AcceptAppendEntriesRequest): nothing (more) to append: commit
    and answer success, consuming m."""
    if not _accept_ok(sv, m, log_ok):
        return None
    index = m.mprevLogIndex + 1
    ents, commit = m.mentries, sv.commitIndex
    if not (index <= commit or not ents
            or (m.mprevLogIndex + len(ents) <= len(sv.log) and has_no_conflict(sv.log, index, ents))):
        return None
    if index <= commit:
        new_commit = max(commit, m.mcommitIndex) if m.msubtype == "heartbeat" else commit
    else:
        new_commit = max(commit, min(m.mcommitIndex, m.mprevLogIndex + len(ents)))
    match = m.mprevLogIndex + len(ents) if (m.msubtype == "heartbeat" or index > commit) else commit
    return Handled(sv._replace(commitIndex=new_commit), True,
                   ae_response(m.msubtype, sv.currentTerm, True, match, i, j))


def conflict_append_entries_request(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars, m: AppendEntriesRequest,
                                    log_ok: Callable[[ServerVars, AppendEntriesRequest], bool] = append_log_ok,
                                    ) -> Handled | None:
    """etcdraft ConflictAppendEntriesRequest: an entry conflicts: remove the last entry of the log; m stays."""
    if not _accept_ok(sv, m, log_ok):
        return None
    index = m.mprevLogIndex + 1
    if not m.mentries or index <= sv.commitIndex or has_no_conflict(sv.log, index, m.mentries):
        return None
    return Handled(sv._replace(log=sv.log[:-1]), False, None)


def no_conflict_append_entries_request(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars,
                                       m: AppendEntriesRequest,
                                       log_ok: Callable[[ServerVars, AppendEntriesRequest], bool] = append_log_ok,
                                       ) -> Handled | None:
    """etcdraft NoConflictAppendEntriesRequest: no conflict: append the entries beyond the log's end (possibly
    none); m stays."""
    if not _accept_ok(sv, m, log_ok):
        return None
    index = m.mprevLogIndex + 1
    if not m.mentries or index <= sv.commitIndex or not has_no_conflict(sv.log, index, m.mentries):
        return None
    return Handled(sv._replace(log=sv.log + m.mentries[len(sv.log) - index + 1:]), False, None)


def handle_append_entries_response(cfg: EtcdRaftConfig, i: int, j: int, sv: ServerVars,
                                   m: AppendEntriesResponse) -> Handled | None:
    """etcdraft HandleAppendEntriesResponse: same term: on success matchIndex[i][j] rises to mmatchIndex."""
    if m.mterm != sv.currentTerm:
        return None
    if m.msuccess:
        sv = sv._replace(matchIndex=put(sv.matchIndex, j - 1, max(sv.matchIndex[j - 1], m.mmatchIndex)))
    return Handled(sv, True, None)


Handler = Callable[[EtcdRaftConfig, int, int, ServerVars, Any], "Handled | None"]


@dataclass(frozen=True)
class Rules:
    """The rule functions the model uses (MC's forms where MCetcdraft overrides); a mutant replaces one."""

    restart: Callable = restart
    timeout: Callable = mc_timeout
    request_vote: Callable = request_vote
    become_leader: Callable = become_leader
    client_request: Callable = mc_client_request
    advance_commit_index: Callable = advance_commit_index
    append_entries: Callable = append_entries
    append_entries_to_self: Callable = append_entries_to_self
    heartbeat: Callable = heartbeat
    send_snapshot: Callable = send_snapshot
    send_ok: Callable = mc_send_ok
    ready: Callable = ready
    step_down_to_follower: Callable = step_down_to_follower
    add_new_server: Callable = mc_add_new_server
    add_learner: Callable = mc_add_learner
    delete_server: Callable = mc_delete_server
    apply_simple_conf_change: Callable = apply_simple_conf_change
    update_term: Callable = update_term
    handle_request_vote_request: Callable = handle_request_vote_request
    handle_request_vote_response: Callable = handle_request_vote_response
    drop_stale_response: Callable = drop_stale_response
    reject_append_entries_request: Callable = reject_append_entries_request
    return_to_follower_state: Callable = return_to_follower_state
    append_entries_already_done: Callable = append_entries_already_done
    conflict_append_entries_request: Callable = conflict_append_entries_request
    no_conflict_append_entries_request: Callable = no_conflict_append_entries_request
    handle_append_entries_response: Callable = handle_append_entries_response

    def handlers(self, m: Message) -> tuple[tuple[str, Handler], ...]:
        """etcdraft ReceiveDirect(m): its disjuncts for m's type, in the spec's order."""
        t = m.mtype
        if t == RV_REQ:
            return (("UpdateTerm", self.update_term),
                    ("HandleRequestVoteRequest", self.handle_request_vote_request))
        if t == RV_RESP:
            return (("UpdateTerm", self.update_term), ("DropStaleResponse", self.drop_stale_response),
                    ("HandleRequestVoteResponse", self.handle_request_vote_response))
        if t == AE_REQ:
            return (("UpdateTerm", self.update_term),
                    ("RejectAppendEntriesRequest", self.reject_append_entries_request),
                    ("ReturnToFollowerState", self.return_to_follower_state),
                    ("AppendEntriesAlreadyDone", self.append_entries_already_done),
                    ("ConflictAppendEntriesRequest", self.conflict_append_entries_request),
                    ("NoConflictAppendEntriesRequest", self.no_conflict_append_entries_request))
        return (("UpdateTerm", self.update_term), ("DropStaleResponse", self.drop_stale_response),
                ("HandleAppendEntriesResponse", self.handle_append_entries_response))


DEFAULT_RULES = Rules()


def replace_rules(**changes: Callable) -> Rules:
    """The default rules with some replaced (used by mutants)."""
    return replace(DEFAULT_RULES, **changes)


#: Action names: server actions in the order ``EtcdRaft.next_states`` (system.py) lists them, then the receive
#: disjuncts, then the network's.
SERVER_ACTIONS = ("RequestVote", "BecomeLeader", "ClientRequest", "AdvanceCommitIndex", "AppendEntries",
                  "AppendEntriesToSelf", "Heartbeat", "SendSnapshot", "Timeout", "Ready", "StepDownToFollower",
                  "Restart", "AddNewServer", "AddLearner", "DeleteServer", "ApplySimpleConfChange")
RECEIVE_ACTIONS = ("UpdateTerm", "HandleRequestVoteRequest", "HandleRequestVoteResponse", "DropStaleResponse",
                   "RejectAppendEntriesRequest", "ReturnToFollowerState", "AppendEntriesAlreadyDone",
                   "ConflictAppendEntriesRequest", "NoConflictAppendEntriesRequest", "HandleAppendEntriesResponse")
ACTION_NAMES = SERVER_ACTIONS + RECEIVE_ACTIONS + ("DuplicateMessage", "DropMessage")


class MessageView(NamedTuple):
    """A message as a label parameter: prints as a compact TLA+-style record."""

    msg: Message

    def describe(self) -> str:
        m = self.msg
        fields = ", ".join(f"{f}={_fmt(getattr(m, f))}" for f in m._fields if f not in ("mtype", "msource", "mdest"))
        return f"{m.mtype}({m.msource}->{m.mdest}, {fields})"

    def itf(self) -> Message:
        return self.msg


def _fmt(v: Any) -> str:
    if isinstance(v, tuple) and v and isinstance(v[0], Entry):
        return "<<" + ", ".join(f"{e.term}:{'C' if e.type == CONFIG_ENTRY else 'V'}" for e in v) + ">>"
    return fmt_value(v)


def receive_label(name: str, m: Message) -> Label:
    """The label of a receive step: the disjunct that fired, i (recipient), j (sender) and the message."""
    return Label(name, (("i", m.mdest), ("j", m.msource), ("m", MessageView(m))))


# ------------------------------------------------------------------------------------------------- Next
