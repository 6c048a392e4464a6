"""Abstract, message-free Raft: the protocol with each message exchange collapsed into one atomic step.

This is the model the Z3 proofs (``model/raft/symbolic.py``) are about; this module is its explicit,
readable version, which the BFS checker explores and the tests compare with the symbolic one.

State (per server i, raft.tla's names): ``currentTerm``, ``state`` (Follower/Candidate/Leader),
``votedFor``, ``log`` (entries ``[term, value]``, at most ``max_log`` of them) and ``commitIndex``.  There are
no messages and no history variables; ``votesResponded``/``votesGranted``/``voterLog`` and
``nextIndex``/``matchIndex`` are gone because each exchange that would use them is one step.

Actions, each the net effect of a raft.tla exchange delivered at once (no loss, duplication or delay):

* ``Restart(i)``, ``Timeout(i)``, ``ClientRequest(i, v)``: raft.tla's operators of the same name.
* ``UpdateTerm(i, j)``: i adopts the newer term of a Candidate or Leader j (raft.tla UpdateTerm on any
  message from j, e.g. a RequestVote that i then denies).
* ``BecomeLeader(i, votes=Q)``: Candidate i sends RequestVote to every j in the quorum Q, each j updates its
  term if older (UpdateTerm) and grants (HandleRequestVoteRequest: same term, i's log at least as up to date,
  votedFor in {Nil, i}), i counts the grants (HandleRequestVoteResponse) and becomes Leader (BecomeLeader).
* ``AppendEntries(i, j)``: Leader i brings follower j one entry closer: j updates its term if older, a
  same-term Candidate steps down, then i probes from the end of its log down to the largest index p at which
  j's log has an entry of the same term (raft.tla's rejections and nextIndex back-off), j drops its entries
  after p and appends i's entry p+1 (raft.tla's "conflict" removes them one by one, then "append"), and sets
  commitIndex to min(commitIndex[i], p+1) ("done").  If j already matches i's whole log (p = Len(log[i])) it
  is a heartbeat: j's log is kept and commitIndex[j] = min(commitIndex[i], Len(log[i])).
* ``AdvanceCommitIndex(i)``: raft.tla's operator with matchIndex read off the current logs: an index k is
  agreed when a quorum of servers consists of i and servers *in i's current term* whose log has i's first k
  entries (those are the servers that acknowledged them in this term).  As in raft.tla, commitIndex is
  *assigned* the largest agreed index if its entry is of the current term, else left unchanged.

How this relates to raft.tla (``model.raft``).  Project a raft.tla state onto the variables above.  Every
abstract step is the projection of a run of raft.tla steps from any raft.tla state with an empty message
bag and the bookkeeping a fast run leaves (``tests/test_smt_abstraction.py`` replays random abstract runs
step by step in ``model.raft`` and compares the projections).  So every abstract behaviour is a raft.tla
behaviour: a counterexample here is a counterexample there.  The converse does not hold: raft.tla also
delays, drops, duplicates and reorders messages, lets votes and acknowledgements be counted long after they
were sent (the abstraction counts them at the moment of the step), and lets a follower's commitIndex fall on
an old duplicate.  A proof about this model is a proof about the message-free protocol, as in the published
Raft proofs, not about raft.tla's message bag.

Bounds: ``max_log`` is a guard (ClientRequest needs room), so the model is closed under it and the symbolic
proofs can assume it; ``max_term`` is TLC-style state constraint used only by BFS (and by bounded model
checking when the two are cross-checked): the proofs have unbounded terms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any, NamedTuple

from refmodel.model.core import Label, Permutation, Sid, TransitionSystem, all_permutations, bound, validate_config
from refmodel.model.raft.state import CANDIDATE, FOLLOWER, LEADER, NIL, Entry

ROLES = (FOLLOWER, CANDIDATE, LEADER)


@dataclass(frozen=True)
class AbstractRaftConfig:
    """Bounds of the abstract Raft model."""

    servers: int = bound(3, "number of servers", minimum=1, maximum=12)
    values: int = bound(1, "number of client values (v1..vK)", minimum=1)
    max_log: int = bound(2, "every log has at most L entries (a guard of ClientRequest)", minimum=0)
    max_term: int = bound(3, "BFS only: constraint every currentTerm <= T (proofs have unbounded terms)",
                          minimum=1)

    def __post_init__(self) -> None:
        validate_config(self)

    @property
    def quorum_size(self) -> int:
        return self.servers // 2 + 1


class Server(NamedTuple):
    """One server's variables."""

    currentTerm: int
    state: str
    votedFor: Sid | None
    log: tuple[Entry, ...]
    commitIndex: int


class AbstractRaftState(NamedTuple):
    servers: tuple[Server, ...]


FIELDS = ("servers",)


def initial_state(n: int) -> AbstractRaftState:
    """Every server a Follower in term 1 with an empty log (raft.tla Init, projected)."""
    return AbstractRaftState((Server(1, FOLLOWER, NIL, (), 0),) * n)


class ValueName(int):
    """A client value k, shown as ``v{k}``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"v{int(self)}"

    __str__ = __repr__


def last_term(log: tuple[Entry, ...]) -> int:
    return log[-1].term if log else 0


def put(t: tuple, k: int, v: Any) -> tuple:
    return t[:k] + (v,) + t[k + 1:]


# ------------------------------------------------------------------------------------------------ rules
# Each rule is a pure function; a mutant replaces one of them (see MUTANTS at the end).


def is_quorum(cfg: AbstractRaftConfig, members: frozenset) -> bool:
    """raft.tla Quorum: a strict majority."""
    return 2 * len(members) > cfg.servers


def update_term(cfg: AbstractRaftConfig, sv: Server, term: int) -> Server:
    """raft.tla UpdateTerm: a server seeing a newer term adopts it as a Follower and forgets its vote."""
    if term <= sv.currentTerm:
        return sv
    return sv._replace(currentTerm=term, state=FOLLOWER, votedFor=NIL)


def log_ok_for_vote(cand_log: tuple[Entry, ...], voter_log: tuple[Entry, ...]) -> bool:
    """raft.tla HandleRequestVoteRequest's logOk: the candidate's log is at least as up to date."""
    lt, mine = last_term(cand_log), last_term(voter_log)
    return lt > mine or (lt == mine and len(cand_log) >= len(voter_log))


def grants_vote(cfg: AbstractRaftConfig, i: int, cand: Server, voter: Server) -> bool:
    """raft.tla HandleRequestVoteRequest (after UpdateTerm): same term, log ok, not voted for another."""
    return (voter.currentTerm == cand.currentTerm and log_ok_for_vote(cand.log, voter.log)
            and voter.votedFor in (NIL, i))


def match_point(cfg: AbstractRaftConfig, leader_log: tuple[Entry, ...], log: tuple[Entry, ...]) -> int:
    """The prevLogIndex at which a leader's probing stops: the largest p <= Len(leader log) at which the
    follower's log has an entry of the same term (p = 0 always matches; raft.tla HandleAppendEntriesRequest's
    logOk)."""
    for p in range(min(len(leader_log), len(log)), 0, -1):
        if log[p - 1].term == leader_log[p - 1].term:
            return p
    return 0


def new_commit_index(cfg: AbstractRaftConfig, i: int, s: AbstractRaftState) -> int:
    """raft.tla AdvanceCommitIndex: the largest index agreed by a quorum, if its entry is of the current term;
    else commitIndex is unchanged.  Agreeing: i itself and the servers in i's term holding i's first k
    entries."""
    me = s.servers[i]
    agree = [k for k in range(1, len(me.log) + 1)
             if is_quorum(cfg, frozenset({i} | {j for j, sv in enumerate(s.servers)
                                                if sv.currentTerm == me.currentTerm and sv.log[:k] == me.log[:k]}))]
    if agree and me.log[max(agree) - 1].term == me.currentTerm:
        return max(agree)
    return me.commitIndex


@dataclass(frozen=True)
class Rules:
    """The rule functions the model uses; a mutant replaces one."""

    is_quorum: Callable = is_quorum
    update_term: Callable = update_term
    grants_vote: Callable = grants_vote
    match_point: Callable = match_point
    new_commit_index: Callable = new_commit_index


DEFAULT_RULES = Rules()

ACTION_NAMES = ("Restart", "Timeout", "UpdateTerm", "BecomeLeader", "ClientRequest", "AdvanceCommitIndex",
                "AppendEntries")


# ------------------------------------------------------------------------------------------------ actions


def restart(cfg: AbstractRaftConfig, r: Rules, s: AbstractRaftState, i: int) -> AbstractRaftState:
    """raft.tla Restart(i): back to Follower, commitIndex 0; term, vote and log survive."""
    sv = s.servers[i]
    return AbstractRaftState(put(s.servers, i, sv._replace(state=FOLLOWER, commitIndex=0)))


def timeout(cfg: AbstractRaftConfig, r: Rules, s: AbstractRaftState, i: int) -> AbstractRaftState | None:
    """raft.tla Timeout(i): a Follower or Candidate starts an election in the next term (no self-vote yet)."""
    sv = s.servers[i]
    if sv.state == LEADER:
        return None
    return AbstractRaftState(put(s.servers, i, sv._replace(currentTerm=sv.currentTerm + 1, state=CANDIDATE,
                                                           votedFor=NIL)))


def update_term_step(cfg: AbstractRaftConfig, r: Rules, s: AbstractRaftState, i: int,
                     j: int) -> AbstractRaftState | None:
    """raft.tla UpdateTerm: i receives a message from Candidate or Leader j carrying a newer term."""
    a, b = s.servers[i], s.servers[j]
    if b.state == FOLLOWER or b.currentTerm <= a.currentTerm:
        return None
    return AbstractRaftState(put(s.servers, i, r.update_term(cfg, a, b.currentTerm)))


def become_leader(cfg: AbstractRaftConfig, r: Rules, s: AbstractRaftState, i: int,
                  votes: frozenset[int]) -> AbstractRaftState | None:
    """RequestVote, UpdateTerm, HandleRequestVoteRequest (grant), HandleRequestVoteResponse for each voter
    in ``votes``, then raft.tla BecomeLeader(i): Candidate i wins the votes of a quorum."""
    cand = s.servers[i]
    if cand.state != CANDIDATE or not r.is_quorum(cfg, votes):
        return None
    servers = list(s.servers)
    for j in sorted(votes):
        if servers[j].currentTerm > cand.currentTerm:
            return None  # j would deny (and i would step down): not an election
        voter = r.update_term(cfg, servers[j], cand.currentTerm)
        if not r.grants_vote(cfg, i, cand, voter):
            return None
        servers[j] = voter._replace(votedFor=Sid(i))
    servers[i] = servers[i]._replace(state=LEADER)
    return AbstractRaftState(tuple(servers))


def client_request(cfg: AbstractRaftConfig, r: Rules, s: AbstractRaftState, i: int,
                   v: int) -> AbstractRaftState | None:
    """raft.tla ClientRequest(i, v): a Leader appends [term |-> currentTerm, value |-> v] (if there is room)."""
    sv = s.servers[i]
    if sv.state != LEADER or len(sv.log) >= cfg.max_log:
        return None
    return AbstractRaftState(put(s.servers, i, sv._replace(log=sv.log + (Entry(sv.currentTerm, v),))))


def append_entries(cfg: AbstractRaftConfig, r: Rules, s: AbstractRaftState, i: int,
                   j: int) -> AbstractRaftState | None:
    """raft.tla AppendEntries(i, j) and HandleAppendEntriesRequest (with UpdateTerm and the leader's back-off)
    delivered at once: j gets the entry after the largest index where it matches i, and i's commitIndex."""
    ld, f = s.servers[i], s.servers[j]
    if i == j or ld.state != LEADER or f.currentTerm > ld.currentTerm:
        return None
    f = r.update_term(cfg, f, ld.currentTerm)
    if f.state == LEADER:
        return None  # a Leader receiving a same-term request: no disjunct of raft.tla is enabled
    f = f._replace(state=FOLLOWER)  # a same-term Candidate returns to Follower
    p = r.match_point(cfg, ld.log, f.log)
    if p < len(ld.log):
        f = f._replace(log=f.log[:p] + (ld.log[p],), commitIndex=min(ld.commitIndex, p + 1))
    else:
        f = f._replace(commitIndex=min(ld.commitIndex, len(ld.log)))
    return AbstractRaftState(put(s.servers, j, f))


def advance_commit_index(cfg: AbstractRaftConfig, r: Rules, s: AbstractRaftState,
                         i: int) -> AbstractRaftState | None:
    """raft.tla AdvanceCommitIndex(i), matchIndex read off the current logs (see new_commit_index)."""
    sv = s.servers[i]
    if sv.state != LEADER:
        return None
    return AbstractRaftState(put(s.servers, i, sv._replace(commitIndex=r.new_commit_index(cfg, i, s))))


def quorums(n: int) -> list[frozenset[int]]:
    """Every strict-majority subset of 0..n-1 (and, for mutants, every half-size one), smallest first."""
    out = []
    for size in range((n + 1) // 2, n + 1):
        out.extend(frozenset(c) for c in combinations(range(n), size))
    return out


class AbstractRaft(TransitionSystem):
    """The abstract Raft transition system (see the module docstring)."""

    protocol = "raft-abstract"
    state_fields = FIELDS

    def __init__(self, config: AbstractRaftConfig, rules: Rules = DEFAULT_RULES, mutant: str | None = None):
        self.config = config
        self.rules = rules
        self.mutant = mutant
        self._sets = quorums(config.servers)

    def init_states(self) -> list[AbstractRaftState]:
        return [initial_state(self.config.servers)]

    def constraint(self, s: AbstractRaftState) -> bool:
        return all(sv.currentTerm <= self.config.max_term for sv in s.servers)

    def action_names(self) -> tuple[str, ...]:
        return ACTION_NAMES

    def symmetry_group(self) -> list[Permutation]:
        return all_permutations(self.config.servers)

    def permute(self, s: AbstractRaftState, p: Permutation) -> AbstractRaftState:
        inv = p.inverse()
        return AbstractRaftState(tuple(
            s.servers[inv[k]]._replace(votedFor=None if s.servers[inv[k]].votedFor is None
                                       else p.sid(s.servers[inv[k]].votedFor))
            for k in range(len(s.servers))))

    def next_states(self, s: AbstractRaftState) -> Iterator[tuple[Label, AbstractRaftState]]:
        cfg, r, n = self.config, self.rules, self.config.servers
        for i in range(n):
            si = Sid(i)
            yield Label("Restart", (("i", si),)), restart(cfg, r, s, i)
            if (t := timeout(cfg, r, s, i)) is not None:
                yield Label("Timeout", (("i", si),)), t
            for j in range(n):
                if (t := update_term_step(cfg, r, s, i, j)) is not None:
                    yield Label("UpdateTerm", (("i", si), ("j", Sid(j)))), t
            for q in self._sets:
                if (t := become_leader(cfg, r, s, i, q)) is not None:
                    yield Label("BecomeLeader", (("i", si), ("votes", frozenset(Sid(k) for k in q)))), t
            for v in range(1, cfg.values + 1):
                if (t := client_request(cfg, r, s, i, v)) is not None:
                    yield Label("ClientRequest", (("i", si), ("v", ValueName(v)))), t
            if (t := advance_commit_index(cfg, r, s, i)) is not None:
                yield Label("AdvanceCommitIndex", (("i", si),)), t
            for j in range(n):
                if (t := append_entries(cfg, r, s, i, j)) is not None:
                    yield Label("AppendEntries", (("i", si), ("j", Sid(j)))), t

    def render(self, s: AbstractRaftState) -> dict[str, Any]:
        return render_state(s)


def render_state(s: AbstractRaftState) -> dict[str, Any]:
    """raft.tla's variable layout: ``{variable: {server: value}}``."""
    names = [f"s{k + 1}" for k in range(len(s.servers))]

    def per(fn: Callable[[Server], Any]) -> dict[str, Any]:
        return {names[k]: fn(sv) for k, sv in enumerate(s.servers)}

    return {
        "currentTerm": per(lambda sv: sv.currentTerm),
        "state": per(lambda sv: sv.state),
        "votedFor": per(lambda sv: None if sv.votedFor is None else str(sv.votedFor)),
        "log": per(lambda sv: [{"term": e.term, "value": f"v{e.value}"} for e in sv.log]),
        "commitIndex": per(lambda sv: sv.commitIndex),
    }


def to_raft_state(s: AbstractRaftState):  # noqa: ANN201 - a model.raft.state.RaftState
    """The raft.tla state with these variables, an empty message bag and empty history (so that the
    predicates of ``invariants/raft.py`` can be evaluated on abstract states)."""
    from refmodel.model.raft.state import RaftState, initial_server

    n = len(s.servers)
    base = initial_server(n)
    servers = tuple(base._replace(currentTerm=sv.currentTerm, state=sv.state, votedFor=sv.votedFor, log=sv.log,
                                  commitIndex=sv.commitIndex) for sv in s.servers)
    return RaftState(servers=servers, messages=frozenset(), elections=frozenset(), allLogs=frozenset())


# ------------------------------------------------------------------------------------------------ mutants
# The raft.tla mutants of model/raft/mutants.py that have a counterpart here, each the same one-line bug.


def _vote_twice_grants(cfg: AbstractRaftConfig, i: int, cand: Server, voter: Server) -> bool:
    return voter.currentTerm == cand.currentTerm and log_ok_for_vote(cand.log, voter.log)  # BUG: votedFor


def _no_log_check_grants(cfg: AbstractRaftConfig, i: int, cand: Server, voter: Server) -> bool:
    return voter.currentTerm == cand.currentTerm and voter.votedFor in (NIL, i)  # BUG: logOk not checked


def _minority_quorum(cfg: AbstractRaftConfig, members: frozenset) -> bool:
    return 2 * len(members) >= cfg.servers  # BUG: >= instead of >


def _no_step_down(cfg: AbstractRaftConfig, sv: Server, term: int) -> Server:
    if term <= sv.currentTerm:
        return sv
    return sv._replace(currentTerm=term, votedFor=NIL)  # BUG: state kept


def _by_count_commit(cfg: AbstractRaftConfig, i: int, s: AbstractRaftState) -> int:
    me = s.servers[i]
    agree = [k for k in range(1, len(me.log) + 1)
             if is_quorum(cfg, frozenset({i} | {j for j, sv in enumerate(s.servers)
                                                if sv.currentTerm == me.currentTerm and sv.log[:k] == me.log[:k]}))]
    return max(agree) if agree else me.commitIndex  # BUG: the entry's term is not required to be current


def _no_log_matching_point(cfg: AbstractRaftConfig, leader_log: tuple[Entry, ...], log: tuple[Entry, ...]) -> int:
    return min(len(leader_log), len(log))  # BUG: prevLogTerm not compared: the highest probe is accepted


@dataclass(frozen=True)
class AbstractMutant:
    name: str
    description: str
    rules: Rules


MUTANTS: dict[str, AbstractMutant] = {m.name: m for m in (
    AbstractMutant("vote_twice", "a server grants its vote without checking votedFor",
                   replace(DEFAULT_RULES, grants_vote=_vote_twice_grants)),
    AbstractMutant("no_log_up_to_date_check", "a server grants its vote whatever the candidate's log",
                   replace(DEFAULT_RULES, grants_vote=_no_log_check_grants)),
    AbstractMutant("minority_quorum", "half of the servers count as a quorum",
                   replace(DEFAULT_RULES, is_quorum=_minority_quorum)),
    AbstractMutant("no_step_down_on_higher_term", "a server adopting a newer term keeps its role",
                   replace(DEFAULT_RULES, update_term=_no_step_down)),
    AbstractMutant("commit_old_term_by_count", "a leader commits an entry of an earlier term once a quorum "
                   "stores it (Raft paper, Figure 8)", replace(DEFAULT_RULES, new_commit_index=_by_count_commit)),
    AbstractMutant("no_log_matching_check", "a follower appends without checking prevLogTerm",
                   replace(DEFAULT_RULES, match_point=_no_log_matching_point)),
)}


def build(config: AbstractRaftConfig, mutant: str | None = None) -> AbstractRaft:
    if mutant is None:
        return AbstractRaft(config)
    if mutant not in MUTANTS:
        raise KeyError(f"unknown abstract raft mutant '{mutant}' (known: {', '.join(sorted(MUTANTS))})")
    return AbstractRaft(config, MUTANTS[mutant].rules, mutant)
