"""Single etcdraft rules against the spec's text: the bootstrap state, TLC's way of counting enabled disjuncts,
MC's overrides, and the stable functions a trace validator calls."""

from __future__ import annotations

from refmodel.model.etcdraft import build
from refmodel.model.etcdraft.actions import (
    append_entries,
    append_entries_already_done,
    apply_simple_conf_change,
    become_leader,
    conflict_append_entries_request,
    mc_send_ok,
    mc_timeout,
    no_conflict_append_entries_request,
    restart,
    restart_pending,

)
from refmodel.model.etcdraft.config import EtcdRaftConfig
from refmodel.model.etcdraft.system import step
from refmodel.model.etcdraft.state import (
    CANDIDATE,
    CONFIG_ENTRY,
    EMPTY_BAG,
    FOLLOWER,
    LEADER,
    VALUE_ENTRY,
    ClientValue,
    Entry,
    ae_request,
    ae_response,
    rv_request,
    with_message,
)

CFG = EtcdRaftConfig(init_servers=2, servers=3, reconfiguration_limit=1, max_term=2, request_limit=1, max_log=4,
                     max_in_flight=2)


def init():
    model = build(CFG)
    return model, model.init_states()[0]


def test_bootstrap_state():
    """MC's Init: initial servers at term 1 with one ConfigEntry per initial server, committed; others empty."""
    _, s = init()
    a, b, c = s.servers
    assert (a.currentTerm, c.currentTerm, a.commitIndex, c.commitIndex) == (1, 0, 2, 0)
    assert [e.value.newconf for e in a.log] == [frozenset({1}), frozenset({1, 2})] and a.log == b.log
    assert all(e.term == 1 and e.type == CONFIG_ENTRY for e in a.log) and c.log == ()
    assert a.config.jointConfig == (frozenset({1, 2}), frozenset()) and c.config.jointConfig == (frozenset(), frozenset())
    assert a.durableState.log == 2 and a.durableState.config == a.config and s.reconfigCount == 0
    assert s.messages == s.pendingMessages == EMPTY_BAG


def test_apply_conf_change_is_enabled_without_changing_anything():
    """ApplySimpleConfChange is enabled whenever a committed ConfigEntry exists: TLC generates the (identical)
    successor, so it counts."""
    model, s = init()
    new, bump = apply_simple_conf_change(CFG, 1, s.servers[0])
    assert new == s.servers[0] and not bump
    assert apply_simple_conf_change(CFG, 3, s.servers[2]) is None
    assert step(model, s, "ApplySimpleConfChange", i=1) == [s]


def leader_and_follower():
    _, s = init()
    lead = s.servers[0]._replace(currentTerm=2, state=LEADER, votedFor=1, matchIndex=(2, 0, 0),
                                 log=s.servers[0].log + (Entry(2, VALUE_ENTRY, ClientValue(0)),))
    foll = s.servers[1]._replace(currentTerm=2, votedFor=1)
    return s, lead, foll


def test_already_done_and_no_conflict_are_both_enabled_on_a_duplicate():
    """An append whose entries the follower already holds enables AppendEntriesAlreadyDone and
    NoConflictAppendEntriesRequest (which appends nothing): TLC generates both."""
    s, lead, foll = leader_and_follower()
    m = append_entries(CFG, 1, 2, lead, 3, 4)
    assert m.mentries == (lead.log[2],) and (m.mprevLogIndex, m.mprevLogTerm, m.mcommitIndex) == (2, 1, 2)
    grown = no_conflict_append_entries_request(CFG, 2, 1, foll, m)
    assert grown.sv.log == lead.log and not grown.consume
    assert append_entries_already_done(CFG, 2, 1, foll, m) is None  # entry not there yet
    again = no_conflict_append_entries_request(CFG, 2, 1, grown.sv, m)
    done = append_entries_already_done(CFG, 2, 1, grown.sv, m)
    assert again.sv == grown.sv  # a step that changes nothing, still a generated successor
    assert done.consume and done.reply == ae_response("app", 2, True, 3, 2, 1)
    assert conflict_append_entries_request(CFG, 2, 1, grown.sv, m) is None


def test_conflict_removes_only_the_last_entry():
    s, lead, foll = leader_and_follower()
    other = foll._replace(log=foll.log + (Entry(1, VALUE_ENTRY, ClientValue(0)), Entry(1, VALUE_ENTRY, ClientValue(0))))
    m = append_entries(CFG, 1, 2, lead, 3, 4)
    h = conflict_append_entries_request(CFG, 2, 1, other, m)
    assert h.sv.log == other.log[:-1] and not h.consume


def test_mc_send_allows_one_append_per_pair_and_term():
    s, lead, _ = leader_and_follower()
    m = append_entries(CFG, 1, 2, lead, 3, 4)
    assert mc_send_ok(m, EMPTY_BAG, EMPTY_BAG)
    hb = ae_request("heartbeat", 2, 0, 0, (), 0, 1, 2)
    assert not mc_send_ok(m, with_message(hb, EMPTY_BAG), EMPTY_BAG)
    assert not mc_send_ok(m, EMPTY_BAG, with_message(ae_response("app", 2, False, 0, 2, 1), EMPTY_BAG))
    assert mc_send_ok(m, with_message(ae_request("app", 1, 0, 0, (), 0, 1, 2), EMPTY_BAG), EMPTY_BAG)  # other term
    assert mc_send_ok(rv_request(2, 1, 2, 1, 2), with_message(hb, EMPTY_BAG), EMPTY_BAG)  # not an append


def test_mc_timeout_needs_no_candidate_in_config_and_term_below_limit():
    _, s = init()
    a = s.servers[0]
    assert mc_timeout(CFG, 1, a, frozenset()).state == CANDIDATE
    assert mc_timeout(CFG, 1, a, frozenset({2})) is None
    assert mc_timeout(CFG, 1, a, frozenset({3})) is not None  # 3 is not in 1's config
    assert mc_timeout(CFG, 1, a._replace(currentTerm=2), frozenset()) is None
    assert mc_timeout(CFG, 3, s.servers[2], frozenset()) is None  # not a voter of its own (empty) config


def test_become_leader_needs_votes_from_its_config_only():
    _, s = init()
    cand = s.servers[0]._replace(state=CANDIDATE, currentTerm=2, votedFor=1)
    assert become_leader(CFG, 1, cand._replace(votesGranted=frozenset({1}))) is None
    assert become_leader(CFG, 1, cand._replace(votesGranted=frozenset({1, 3}))) is None  # 3 is no voter
    lead = become_leader(CFG, 1, cand._replace(votesGranted=frozenset({1, 2})))
    assert lead.state == LEADER and lead.matchIndex == (2, 0, 0)


def test_restart_restores_durable_state_and_drops_own_pending():
    s, lead, _ = leader_and_follower()
    r = restart(CFG, 1, lead)
    assert (r.state, r.currentTerm, r.votedFor, len(r.log), r.matchIndex) == (FOLLOWER, 1, 0, 2, (0, 0, 0))
    mine, theirs = rv_request(2, 1, 2, 1, 2), rv_request(2, 1, 2, 2, 1)
    assert restart_pending(1, with_message(theirs, with_message(mine, EMPTY_BAG))) == with_message(theirs, EMPTY_BAG)


def test_duplicate_and_drop_only_single_copies():
    model, s = init()
    m = rv_request(2, 1, 2, 1, 2)
    one = s._replace(messages=with_message(m, EMPTY_BAG))
    two = s._replace(messages=with_message(m, one.messages))
    assert step(model, one, "DuplicateMessage", m=m) == [two]
    assert step(model, one, "DropMessage", m=m) == [s]
    assert step(model, two, "DuplicateMessage", m=m) == step(model, two, "DropMessage", m=m) == []


def test_append_entries_ranges_are_enumerated_per_pair():
    """\\E b, e \\in matchIndex[i][j]+1..Len(log[i])+1 with b <= e: one successor per range."""
    model, s = init()
    _, lead, foll = leader_and_follower()
    s = s._replace(servers=(lead, foll, s.servers[2]))
    ranges = [lab.param("range") for lab, _ in model.next_states(s)
              if lab.action == "AppendEntries" and lab.param("j") == 2]
    assert ranges == [(b, e) for b in range(1, 5) for e in range(1, 5) if b <= e]
