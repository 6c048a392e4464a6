"""How the abstract Raft relates to raft.tla (``model.raft``), checked: random abstract runs are replayed in
raft.tla, each abstract step as the message exchange it stands for, delivered at once, and after every step
raft.tla's state projects onto the abstract one (currentTerm, state, votedFor, log, commitIndex) with an
empty message bag.

The one documented divergence is AdvanceCommitIndex: raft.tla counts a server's acknowledgement
(matchIndex) even after that server has moved to a later term, the abstraction counts only servers still in
the leader's term; so raft.tla may commit further at that point.  The test checks that every divergence is
exactly that (raft.tla's rule with the moved-on servers left out gives the abstract result) and ends that run.
"""

from __future__ import annotations

import random

from refmodel.checkers.trace import Scenario
from refmodel.model.raft.abstract import AbstractRaftConfig, AbstractRaftState, Server, build
from refmodel.model.raft import build as build_raft
from refmodel.model.raft.config import RaftConfig
from refmodel.model.raft.state import CANDIDATE


def project(rs) -> AbstractRaftState:
    return AbstractRaftState(tuple(Server(sv.currentTerm, sv.state, sv.votedFor, sv.log, sv.commitIndex)
                                   for sv in rs.servers))


def realise(sc: Scenario, label, pre: AbstractRaftState) -> None:
    """Drive raft.tla through the exchange an abstract step stands for."""
    p = dict(label.params)
    name, i = label.action, p.get("i")
    if name in ("Restart", "Timeout", "AdvanceCommitIndex"):
        sc.do(name, i=i)
    elif name == "ClientRequest":
        sc.do(name, i=i, v=str(p["v"]))
    elif name == "UpdateTerm":  # i hears j's newer term (a RequestVote or AppendEntries), then drops it
        j = p["j"]
        sc.do("RequestVote" if pre.servers[j].state == CANDIDATE else "AppendEntries", i=j, j=i)
        sc.do("UpdateTerm", i=i, j=j)
        sc.do("DropMessage")
    elif name == "BecomeLeader":
        for j in sorted(p["votes"]):
            sc.do("RequestVote", i=i, j=j)
            if sc.state.servers[j].currentTerm < sc.state.servers[i].currentTerm:
                sc.do("UpdateTerm", i=j, j=i)
            sc.do("HandleRequestVoteRequest", i=j, j=i, case="grant")
            sc.do("HandleRequestVoteResponse", i=i, j=j)
        sc.do("BecomeLeader", i=i)
    elif name == "AppendEntries":  # probe down from nextIndex, then conflict/append until done
        j = p["j"]
        while True:
            sc.do("AppendEntries", i=i, j=j)
            if sc.state.servers[j].currentTerm < sc.state.servers[i].currentTerm:
                sc.do("UpdateTerm", i=j, j=i)
            while True:
                (lab,) = [lab for lab in sc.enabled() if lab.action == "HandleAppendEntriesRequest"]
                case = lab.param("case")
                sc.do("HandleAppendEntriesRequest", i=j, j=i, case=case)
                if case in ("reject", "done"):
                    break
            sc.do("HandleAppendEntriesResponse", i=i, j=j)
            if case == "done":
                return
    else:
        raise AssertionError(f"no realisation for {name}")


def commit_without_moved_on(rs, i: int) -> int:
    """raft.tla's AdvanceCommitIndex(i) counting only acknowledgements of servers still in i's term."""
    me, n = rs.servers[i], len(rs.servers)
    agree = [k for k in range(1, len(me.log) + 1)
             if 2 * len({i} | {j for j in range(n) if me.matchIndex[j] >= k
                               and rs.servers[j].currentTerm == me.currentTerm}) > n]
    if agree and me.log[max(agree) - 1].term == me.currentTerm:
        return max(agree)
    return me.commitIndex


def test_abstract_runs_are_raft_tla_runs():
    rng = random.Random(3)
    acfg = AbstractRaftConfig(servers=3, values=2, max_log=2, max_term=9)
    abstract = build(acfg)
    raft = build_raft(RaftConfig(servers=3, values=2, max_term=20, max_log=5, max_msg_count=5, max_msgs=5))
    checked, stale, actions = 0, 0, set()
    for _ in range(60):
        s = abstract.init_states()[0]
        sc = Scenario(raft)
        for _ in range(40):
            lab, t = rng.choice([(lab, t) for lab, t in abstract.next_states(s) if abstract.constraint(t)])
            before = sc.state
            realise(sc, lab, s)
            assert not sc.state.messages
            if project(sc.state) != t:
                # the documented divergence, and only it
                i = int(lab.param("i"))
                assert lab.action == "AdvanceCommitIndex", (lab, s, project(sc.state), t)
                assert commit_without_moved_on(before, i) == t.servers[i].commitIndex
                assert project(sc.state)._replace(servers=tuple(
                    sv._replace(commitIndex=t.servers[k].commitIndex) for k, sv in enumerate(project(sc.state).servers)
                )) == t
                stale += 1
                break
            checked += 1
            actions.add(lab.action)
            s = t
    assert checked > 2000 and stale < 20
    assert actions == set(abstract.action_names())
