"""Each of the eight etcdraft invariants holds on the bootstrap state and on every state reachable in a small
configuration, and fails on a state built to break it (so each check can fail)."""

from __future__ import annotations

import pytest
from conftest import reachable

from refmodel import invariants
from refmodel.invariants import etcdraft as inv
from refmodel.model.etcdraft import build
from refmodel.model.etcdraft.config import EtcdRaftConfig
from refmodel.model.etcdraft.state import LEADER, VALUE_ENTRY, ClientValue, Config, Entry

CFG = EtcdRaftConfig(init_servers=2, servers=2, reconfiguration_limit=0, max_term=3, request_limit=1, max_log=4,
                     max_in_flight=1)


def base():
    return build(CFG).init_states()[0]


def with_servers(s, **per):
    servers = list(s.servers)
    for key, changes in per.items():
        k = int(key[1:]) - 1
        servers[k] = servers[k]._replace(**changes)
    return s._replace(servers=tuple(servers))


def v(term):
    return Entry(term, VALUE_ENTRY, ClientValue(0))


def broken_states():
    s = base()
    boot = s.servers[0].log
    return {
        "LogInv": with_servers(s, s1=dict(log=boot + (v(2),), commitIndex=3),
                               s2=dict(log=boot + (v(3),), commitIndex=3)),
        "MoreThanOneLeaderInv": with_servers(s, s1=dict(state=LEADER), s2=dict(state=LEADER)),
        "ElectionSafetyInv": with_servers(s, s1=dict(state=LEADER, currentTerm=2), s2=dict(log=boot + (v(2),))),
        "LogMatchingInv": with_servers(s, s1=dict(log=(v(1),) + boot[1:]), s2=dict(log=boot)),
        # 2's config has 1 as its only voter, and 1 lacks what 2 committed
        "QuorumLogInv": with_servers(s, s2=dict(log=boot + (v(2),), commitIndex=3,
                                                config=Config((frozenset({1}), frozenset()), frozenset()))),
        "MoreUpToDateCorrectInv": with_servers(s, s1=dict(log=boot + (v(2),), commitIndex=3),
                                               s2=dict(log=boot + (v(3),))),
        "LeaderCompletenessInv": with_servers(s, s1=dict(log=boot + (v(2),), commitIndex=3),
                                              s2=dict(state=LEADER, currentTerm=3, log=boot + (v(3),))),
        "CommittedIsDurableInv": with_servers(s, s1=dict(state=LEADER, log=boot + (v(1),), commitIndex=3)),
    }


def test_every_spec_invariant_is_registered_with_a_docstring():
    props = {p.short: p for p in invariants.defaults("etcdraft")}
    assert set(props) == set(broken_states())
    for name, p in props.items():
        assert p.doc.startswith(f"{name}:") and p.reads == frozenset({"servers"})


@pytest.mark.parametrize("name", sorted(broken_states()))
def test_invariant_fails_where_it_should(name):
    fn = getattr(inv, name)
    assert fn(CFG, base())
    assert not fn(CFG, broken_states()[name])
    # the others are not all broken by the same state: each check is specific
    assert any(getattr(inv, other)(CFG, broken_states()[name]) for other in broken_states() if other != name)


def test_all_hold_on_every_reachable_state():
    engine = build(CFG).engine()
    states, _ = reachable(engine)
    assert len(states) > 10_000
    props = invariants.defaults("etcdraft")
    for e in states:
        s = engine.decode(e)
        for p in props:
            assert p.fn(CFG, s), (p.name, s)
