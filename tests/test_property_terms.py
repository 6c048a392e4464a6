"""Properties the checker evaluates piecewise must mean what their functions mean.

* State invariants declared over servers (``OverServers``): the terms per server and per pair agree with the
  whole function (and the antecedent's terms with the antecedent) on every state met, holding and failing;
  a check with the terms gives exactly the result of a check without them (counts, actions, vacuity, the
  counterexample and its explanation); terms that disagree with their function are reported, not trusted.
* Transition properties per server on an engine that reports the server changes of its memoised successors
  (``watch_server_steps``): the lean loop then skips the per-successor check, and still finds exactly what
  the per-successor and whole-state checks find.
"""

from __future__ import annotations

import dataclasses
import random

import pytest
from conftest import same_result

from refmodel import invariants
from refmodel.checkers.bfs import check
from refmodel.invariants import OverServers, Property
from refmodel.model.raft import build
from refmodel.model.raft.config import RaftConfig
from refmodel.model.core import Sid
from refmodel.model.raft.state import CANDIDATE, FOLLOWER, LEADER, Election, Entry, initial_state

DEFAULTS = invariants.defaults("raft")
TERMED = [p for p in DEFAULTS if p.over_servers is not None]


def _plain(props):
    """The same properties without their piecewise declarations (the whole functions only)."""
    return [dataclasses.replace(p, over_servers=None, per_server=None) for p in props]


def _states(cfg: RaftConfig, mutant: str | None, cap: int, walks: int, seed: int = 7):
    """Readable states of a model: the first ``cap`` breadth-first, and those of random walks (deep ones)."""
    engine = build(cfg, mutant).engine()
    order = list(engine.initial())
    seen = set(order)
    i = 0
    while i < len(order) and len(order) < cap:
        for _, t in engine.successors(order[i]):
            if t is not None and t not in seen:
                seen.add(t)
                order.append(t)
        i += 1
    rng = random.Random(seed)
    for _ in range(walks):
        e = order[0]
        for _ in range(60):
            succ = [t for _, t in engine.successors(e) if t is not None]
            if not succ:
                break
            e = rng.choice(succ)
            seen.add(e)
    return [engine.decode(e) for e in seen]


def _by_terms(p: Property, cfg: RaftConfig, s) -> tuple[bool, bool]:
    t, sv = p.over_servers, s.servers
    pairs = [(sv[i], sv[j]) for i in range(len(sv)) for j in range(i + 1, len(sv))]
    holds = (all(t.one(cfg, x, s) for x in sv) if t.one else True) and \
        (all(t.two(cfg, a, b) for a, b in pairs) if t.two else True)
    ante = (any(t.one_holds(cfg, x, s) for x in sv) if t.one_holds else False) or \
        (any(t.two_holds(cfg, a, b) for a, b in pairs) if t.two_holds else False)
    return holds, ante


STATE_SOURCES = [
    (RaftConfig(servers=2, max_term=2, max_log=2, max_msg_count=1, max_msgs=2), None),
    (RaftConfig(servers=3, max_term=2, max_log=1, max_msg_count=1, max_msgs=1), None),
    (RaftConfig(servers=3, max_term=2, max_log=1, max_msg_count=1, max_msgs=1), "vote_twice"),
    (RaftConfig(servers=2, max_term=2, max_log=1, max_msg_count=1, max_msgs=1), "minority_quorum"),
    (RaftConfig(servers=2, max_term=3, max_log=2, max_msg_count=1, max_msgs=2), "no_log_matching_check"),
    (RaftConfig(servers=2, max_term=3, max_log=1, max_msg_count=1, max_msgs=1), "commit_old_term_by_count"),
    (RaftConfig(servers=3, max_term=3, max_log=1, max_msg_count=1, max_msgs=1), "no_log_up_to_date_check"),
    (RaftConfig(servers=3, max_term=3, max_log=1, max_msg_count=1, max_msgs=1), "no_step_down_on_higher_term"),
]


def _hand_built() -> list:
    """States no small run reaches: committed entries a later leader lacks (elected, or current), a
    commitIndex beyond the log, logs that do not match, two leaders of one term among three."""
    def state(per_server):
        s = initial_state(3)
        servers = list(s.servers)
        for k, changes in per_server.items():
            servers[k] = servers[k]._replace(**changes)
        return s._replace(servers=tuple(servers))

    e1, e2 = Entry(1, 1), Entry(2, 1)
    committed = dict(log=(e1, e2), commitIndex=2, currentTerm=2)
    good = Election(3, Sid(1), (e1, e2), frozenset({Sid(1), Sid(2)}), ())
    bad = Election(3, Sid(1), (e1,), frozenset({Sid(1), Sid(2)}), ())
    return [
        state({0: committed})._replace(elections=frozenset({good})),
        state({0: committed})._replace(elections=frozenset({bad})),
        state({0: committed})._replace(elections=frozenset({good, bad})),
        state({0: committed, 1: dict(state=LEADER, currentTerm=3, log=(e1,))}),
        state({2: committed, 1: dict(state=LEADER, currentTerm=3, log=(e1,))}),
        state({1: dict(state=LEADER, currentTerm=3, log=(e1,)), 2: committed}),
        state({0: dict(log=(e1,), commitIndex=2)}),
        state({0: dict(log=(e1, e2)), 2: dict(log=(Entry(1, 2), e2))}),
        state({1: dict(log=(e1,)), 2: dict(log=(Entry(1, 2),))}),
        state({0: dict(log=(e1,), commitIndex=1), 1: dict(log=(Entry(1, 2),), commitIndex=1)}),
        state({0: dict(state=LEADER, currentTerm=2), 2: dict(state=LEADER, currentTerm=2)}),
    ]


def test_raft_terms_agree_with_functions_holding_and_failing():
    seen_values: dict[str, set[tuple[bool, bool]]] = {p.name: set() for p in TERMED}
    sources = [(cfg, _states(cfg, mutant, cap=20000, walks=500)) for cfg, mutant in STATE_SOURCES]
    for cfg, states in [*sources, (RaftConfig(servers=3), _hand_built())]:
        for s in states:
            for p in TERMED:
                holds, ante = _by_terms(p, cfg, s)
                assert bool(p.fn(cfg, s)) == holds, (p.name, mutant, s)
                assert bool(p.antecedent(cfg, s)) == ante, (p.name, mutant, s)
                seen_values[p.name].add((holds, ante))
    assert {p.name for p in TERMED} == {"raft.election_safety", "raft.log_matching", "raft.state_machine_safety",
                                        "raft.leader_completeness"}
    for name, values in seen_values.items():  # both sides met: holding and failing, antecedent true and false
        assert {h for h, _ in values} == {True, False}, name
        assert {a for _, a in values} == {True, False}, name


@pytest.mark.parametrize("cfg,mutant,symmetry,verdict", [
    (RaftConfig(servers=2, max_term=2, max_log=1, max_msg_count=1, max_msgs=2), None, False, "pass"),
    (RaftConfig(servers=3, max_term=2, max_log=0, max_msg_count=1, max_msgs=1), None, True, "pass"),
    (RaftConfig(servers=2, max_term=2, max_log=0, max_msg_count=1, max_msgs=1), "minority_quorum", False,
     "violation"),
    (RaftConfig(servers=2, max_term=3, max_log=0, max_msg_count=1, max_msgs=1), "no_step_down_on_higher_term",
     False, "violation"),
    pytest.param(RaftConfig(servers=3, max_term=3, max_log=1, max_msg_count=1, max_msgs=1), "no_log_up_to_date_check",
                 True, "violation", marks=pytest.mark.slow),  # about two minutes on a slow 2-core machine
    (RaftConfig(servers=2, max_term=3, max_log=1, max_msg_count=1, max_msgs=1), "commit_old_term_by_count", True,
     "violation"),
])
def test_piecewise_checks_find_what_whole_checks_find(cfg, mutant, symmetry, verdict):
    engine = build(cfg, mutant).engine()
    piecewise = check(engine, DEFAULTS, symmetry=symmetry)
    assert engine._on_server_step is not None  # the lean loop had the engine report its server changes
    whole = check(build(cfg, mutant).engine(), _plain(DEFAULTS), symmetry=symmetry)
    assert piecewise.verdict == verdict
    same_result(piecewise, whole)


def test_seeded_step_bug_caught_with_the_same_counterexample():
    """A per-server transition property that the model breaks (a Follower times out into a Candidate): found
    through the engine's reports at the same first step, with the same trace, as the whole-state check."""
    def no_timeout(cfg, a, b):
        return not (a.state == FOLLOWER and b.state == CANDIDATE)

    def fn(cfg, s, t):
        return all(no_timeout(cfg, a, b) for a, b in zip(s.servers, t.servers))

    prop = Property(name="t.no_timeout", protocol="raft", fn=fn, kind="transition", reads=frozenset({"servers"}),
                    default=False, doc="No Follower becomes Candidate.", per_server=(no_timeout, None))
    cfg = RaftConfig(servers=2, max_term=2, max_log=0, max_msg_count=1, max_msgs=1)
    fast = check(build(cfg).engine(), [*DEFAULTS, prop])
    slow = check(build(cfg).engine(), _plain([*DEFAULTS, prop]))
    assert fast.verdict == "violation" and fast.violation.invariant == "t.no_timeout"
    assert [s.action.action for s in fast.violation.trace[1:]] == ["Timeout"]
    same_result(fast, slow)


def test_terms_that_disagree_with_their_function_are_reported():
    prop = Property(name="t.wrong_terms", protocol="raft", fn=lambda cfg, s: True, kind="state",
                    reads=frozenset({"servers"}), default=False, doc="Always holds, but its term says not.",
                    over_servers=OverServers(one=lambda cfg, sv, s: sv.currentTerm < 2))
    cfg = RaftConfig(servers=2, max_term=2, max_log=0, max_msg_count=1, max_msgs=1)
    with pytest.raises(RuntimeError, match="t.wrong_terms"):
        check(build(cfg).engine(), [prop])


def test_an_antecedent_needs_its_terms():
    with pytest.raises(ValueError, match="one_holds or two_holds"):
        invariants.invariant("raft", reads={"servers"}, antecedent=lambda cfg, s: True,
                             over_servers=OverServers(two=lambda cfg, a, b: True))


# ------------------------------------------------------------------------------------ Clique: terms per chain

POA_DEFAULTS = invariants.defaults("poa")


def _poa(mutant: str | None, **bounds):
    from refmodel.model.poa import build as build_poa
    from refmodel.model.poa.config import PoaConfig

    return build_poa(PoaConfig(**bounds), mutant)


POA_CASES = [
    (None, dict(signers=3, candidates=1, max_height=3, epoch=3), "pass"),
    ("no_recency_check", dict(signers=2, candidates=1, max_height=2, epoch=3), "violation"),
    ("no_vote_reset_at_epoch", dict(signers=3, candidates=1, max_height=3, epoch=2), "violation"),
    ("recents_reset_at_checkpoint", dict(signers=2, candidates=1, max_height=3, epoch=2), "violation"),
    ("keep_votes_of_dropped_signer", dict(signers=3, candidates=0, max_height=4, epoch=10, votes="any"),
     "violation"),
]


def test_clique_per_chain_terms_agree_with_functions():
    """Every per-chain invariant is its term on each honest node's chain, holding and (the three the mutants
    break) failing."""
    termed = [p for p in POA_DEFAULTS if p.over_servers is not None]
    assert len(termed) == 6
    verdicts: dict[str, set[bool]] = {p.name: set() for p in termed}
    for mutant, bounds, _ in [*POA_CASES, ("accept_unauthorised_signer", dict(signers=2, candidates=1,
                                                                               max_height=1, epoch=3), None),
                              ("threshold_half", dict(signers=2, candidates=1, max_height=1, epoch=3), None)]:
        system = _poa(mutant, **bounds)
        engine = system.engine()
        order, seen, i = list(engine.initial()), set(), 0
        seen.update(order)
        while i < len(order) and len(order) < 5000:
            for _, t in engine.successors(order[i]):
                if t is not None and t not in seen:
                    seen.add(t)
                    order.append(t)
            i += 1
        cfg = system.config
        for e in order:
            s = engine.decode(e)
            for p in termed:
                holds = all(p.over_servers.one(cfg, c, s) for c in s.chains)
                assert bool(p.fn(cfg, s)) == holds, (p.name, mutant)
                verdicts[p.name].add(holds)
    broken = {"poa.only_authorised_proposers", "poa.signer_recency", "poa.signer_changes_by_quorum"}
    assert all(v == ({True, False} if name in broken else {True}) for name, v in verdicts.items()), verdicts


@pytest.mark.parametrize("mutant,bounds,verdict", POA_CASES)
def test_clique_piecewise_checks_find_what_whole_checks_find(mutant, bounds, verdict):
    piecewise = check(_poa(mutant, **bounds).engine(), POA_DEFAULTS, deadlock=True)
    whole = check(_poa(mutant, **bounds).engine(), _plain(POA_DEFAULTS), deadlock=True)
    assert piecewise.verdict == verdict
    same_result(piecewise, whole)
