"""etcd raft traces against etcdraft.tla (Traceetcdraft.tla's mapping): the recorded traces, realistic
corruptions of them (each rejected at the line that introduces it, or the reason the spec accepts it), and
malformed input (one line naming file, line and field; exit 2)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import refmodel
from refmodel.checkers.cli import main
from refmodel.checkers.trace_validate import validate
from refmodel.model.etcdraft import trace as T

REF = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "etcd"
EXAMPLE = REF / "example.ndjson"
OLD = REF / "example_3node_leader_removal.ndjson"

pytestmark = pytest.mark.skipif(not EXAMPLE.exists(), reason="shared reference traces not available")


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return [json.loads(line) for line in EXAMPLE.read_text().splitlines()]


def run(recs: list[dict]):
    events = T.parse_lines([json.dumps(r) for r in recs])
    return validate(T.mapping(events), events)


# ------------------------------------------------------------------------------------------ generators


def first(recs, pred, start=0):
    """The 0-based index of the first record at or after 0-based index ``start`` whose event satisfies pred."""
    return next(k for k, r in enumerate(recs) if k >= start and pred(r["event"]))


def last_send_of(recs, k):
    """The 0-based index of the last Send line before k logging the same message as receive line k."""
    msg = recs[k]["event"]["msg"]
    return max(j for j in range(k) if recs[j]["event"]["name"].startswith("Send") and recs[j]["event"]["msg"] == msg)


def edited(recs, k, fn):
    """A copy of the trace with record k changed by ``fn`` (the other records are shared, not copied)."""
    out = list(recs)
    out[k] = copy.deepcopy(recs[k])
    fn(out[k]["event"])
    return out


def moved(recs, k, to):
    """Line k+1 moved to position to+1 (before the line now there)."""
    out = list(recs)
    out.insert(to, out.pop(k))
    return out


# ------------------------------------------------------------------------------------------ real traces


def test_example_trace_is_valid_with_tlc_state_count(records):
    res = run(records)
    assert res.verdict == "valid" and res.events == res.explained == 4888
    assert res.frontier_peak == 1
    # TLC on Traceetcdraft: 4,998 distinct states, one per level: the initial state, one per line, and one per
    # extra step of a multi-step receive line.  Here: the same count.
    steps_per_line: dict[int, int] = {}
    for line, _, _ in res.behaviour[1:]:
        steps_per_line[line] = steps_per_line.get(line, 0) + 1
    extra = sum(n - 1 for n in steps_per_line.values())
    assert 1 + res.events + extra == 4998
    assert res.spec_steps == 4118
    assert (res.states, res.generated) == (4998, 5140)  # TLC's "distinct" and "generated"


def test_example_trace_via_cli_json(capsys):
    assert main(["trace", "validate", str(EXAMPLE), "--model", "etcdraft", "--json", "--progress", "off",
                 "--no-invariants"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "valid" and "invariants_s" not in out
    assert (out["events"], out["explained"], out["spec_steps"], out["frontier_peak"]) == (4888, 4888, 4118, 1)
    assert out["elapsed_s"] >= 0 and "line" not in out


def test_invariants_hold_along_the_example_and_the_checker_catches_a_bad_state(records, capsys):
    assert main(["trace", "validate", str(EXAMPLE), "--model", "etcdraft", "--max-events", "1500", "--json",
                 "--progress", "off"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "valid" and out["invariants_s"] > 0
    events = T.parse_lines([json.dumps(r) for r in records[:200]])
    m = T.mapping(events)
    check = T.invariant_checker(m)
    (init,) = m.initial_states(events)
    assert check(init) is None
    two_leaders = init._replace(servers=tuple(sv._replace(state="Leader") if k < 2 else sv
                                              for k, sv in enumerate(init.servers)))
    assert check(two_leaders).startswith("MoreThanOneLeaderInv")


def test_servers_and_bootstrap(records):
    events = T.parse_lines([json.dumps(r) for r in records])
    assert T.trace_servers(events) == [str(k) for k in range(1, 11)]
    m = T.mapping(events)
    (init,) = m.initial_states(events)
    five = frozenset(range(1, 6))
    for k, sv in enumerate(init.servers, 1):
        if k <= 5:  # bootstrapped: term 1, 5 ConfigEntry entries naming {1..5}, commit 5
            assert (sv.currentTerm, len(sv.log), sv.commitIndex, sv.config.jointConfig[0]) == (1, 5, 5, five)
            assert all(e.value.newconf == five for e in sv.log)
        else:  # added later: empty, term 0, no configuration
            assert (sv.currentTerm, len(sv.log), sv.commitIndex, sv.config.jointConfig[0]) == (0, 0, 0, frozenset())
    assert sum(e.data.bootstrap for e in events) == 60


def test_old_variant_stops_at_its_first_bootstrap_event(capsys):
    """The 386-line variant (unmerged PRs #204/#226) logs ``Bootstrap`` and ``Advance`` events, for which
    etcdraft.tla at cdfbeed3 has no action: the first one, line 7 (node 1's Bootstrap, after its bootstrap
    lines), is the first line no behaviour explains."""
    code = main(["trace", "validate", str(OLD), "--model", "etcdraft", "--json", "--progress", "off"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (out["verdict"], out["line"], out["event"]["name"], out["explained"]) == ("invalid", 7, "Bootstrap", 6)
    assert "no action for event Bootstrap" in out["note"]


def test_old_variant_with_its_extra_events_read_as_bootstrap_and_no_step():
    """Reading the variant's ``Bootstrap`` as one more bootstrap event and ``Advance`` (the applied index,
    which etcdraft.tla does not model) as a line without a step, every one of its 386 lines is explained
    (not Traceetcdraft.tla at cdfbeed3: an adaptation, opt-in through parse_lines)."""
    events = T.parse_lines(OLD.read_text().splitlines(), str(OLD), extra_bootstrap=("Bootstrap",),
                           no_step=("Advance",))
    res = validate(T.mapping(events), events)
    assert res.verdict == "valid" and res.explained == 386
    labels = {lab.action for _, lab, _ in res.behaviour[1:]}
    assert {"Timeout", "BecomeLeader", "DeleteServer", "ApplySimpleConfChange", "UpdateTerm"} <= labels


def test_itf_of_a_prefix_replays(tmp_path, capsys):
    itf = tmp_path / "t.itf.json"
    assert main(["trace", "validate", str(EXAMPLE), "--model", "etcdraft", "--max-events", "150", "--itf",
                 str(itf), "--progress", "off"]) == 0
    doc = json.loads(itf.read_text())
    assert doc["#meta"]["protocol"] == "etcdraft_trace" and doc["#meta"]["explained"] == 150
    assert doc["states"][1]["#meta"]["line"] > 0
    capsys.readouterr()
    assert main(["replay", str(itf)]) == 0
    assert "every one a transition of etcdraft_trace" in capsys.readouterr().out


def test_itf_of_a_tampered_step_is_refused_by_replay(tmp_path, capsys):
    itf = tmp_path / "t.itf.json"
    assert main(["trace", "validate", str(EXAMPLE), "--model", "etcdraft", "--max-events", "120", "--itf",
                 str(itf), "--progress", "off"]) == 0
    doc = json.loads(itf.read_text())
    doc["states"][-1]["reconfigCount"] = {"#bigint": "7"}
    itf.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["replay", str(itf)]) == 2
    assert "not what" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ corruptions


def assert_rejected(recs, line, *, name=None, text=None):
    """The trace, cut 100 lines after ``line`` (to keep CI short), is rejected exactly at ``line``."""
    res = run(recs[:line + 100])
    assert res.verdict == "invalid", "the corruption was accepted"
    assert res.line == line, res.mismatch.describe()
    if name:
        assert res.event_name == name
    if text:
        assert text in res.mismatch.describe(), res.mismatch.describe()
    return res


def test_vote_response_flipped(records):
    k = first(records, lambda e: e["name"] == "ReceiveRequestVoteResponse" and e["msg"]["from"] != e["msg"]["to"])
    assert k + 1 == 95
    bad = edited(records, k, lambda e: e["msg"].__setitem__("reject", not e["msg"]["reject"]))
    res = assert_rejected(bad, 95, name="ReceiveRequestVoteResponse", text="granted true")
    assert (res.mismatch.field, res.mismatch.observed, res.mismatch.model) == ("msg.reject", True, False)


def test_vote_response_flipped_on_both_sides_is_caught_at_the_receive(records):
    """Traceetcdraft skips a response sent to another server (the receive step that produced it is
    compared), so flipping the Send line too (line 88) is caught at the receive, line 95."""
    k = 94
    s = last_send_of(records, k)
    assert s + 1 == 88
    bad = edited(edited(records, k, lambda e: e["msg"].__setitem__("reject", True)), s,
                 lambda e: e["msg"].__setitem__("reject", True))
    assert_rejected(bad, 95, text="no message in flight")


def test_commit_raised_beyond_quorum(records):
    k = first(records, lambda e: e["name"] == "Commit", start=200)
    assert k + 1 == 206
    bad = edited(records, k, lambda e: e["state"].__setitem__("commit", e["state"]["commit"] + 1))
    res = assert_rejected(bad, 206, name="Commit")
    assert (res.mismatch.field, res.mismatch.observed, res.mismatch.model) == ("commit of node 2", 7, 6)
    assert res.mismatch.allowed == ("AdvanceCommitIndex(i=2)",)


def test_message_received_that_was_never_sent(records):
    k = first(records, lambda e: e["name"] == "ReceiveAppendEntriesResponse" and e["msg"]["from"] != e["msg"]["to"],
              start=300)
    fake = copy.deepcopy(records[k])
    fake["event"]["msg"]["index"] += 5  # an acknowledgement of entries nobody sent
    bad = list(records)
    bad.insert(k + 1, fake)
    assert_rejected(bad, k + 2, name="ReceiveAppendEntriesResponse", text="no message in flight")
    assert k + 2 == 319


def test_receive_moved_before_its_send(records):
    k = first(records, lambda e: e["name"] == "ReceiveAppendEntriesRequest", start=111)
    s = last_send_of(records, k)
    assert (s + 1, k + 1) == (106, 112)
    assert_rejected(moved(records, k, s), 106, text="no message in flight")


def test_receive_moved_before_a_retransmission_is_accepted(records):
    """etcd messages carry no identity: line 312 receives an append that leader 2 sent twice with the same
    fields (lines 190 and 292).  Moved before the second send, it matches the first copy, still in flight:
    the spec accepts the trace (as TLC would)."""
    k = 311
    sends = [j + 1 for j in range(k) if records[j]["event"]["name"] == "SendAppendEntriesRequest"
             and records[j]["event"]["msg"] == records[k]["event"]["msg"]]
    assert sends == [190, 292]
    assert run(moved(records, k, 291)).verdict == "valid"


def test_entries_count_changed_in_flight(records):
    k = first(records, lambda e: e["name"] == "ReceiveAppendEntriesRequest" and e["msg"]["type"] == "MsgApp"
              and e["msg"]["entries"] > 0, start=400)
    assert k + 1 == 404
    bad = edited(records, k, lambda e: e["msg"].__setitem__("entries", e["msg"]["entries"] + 1))
    res = assert_rejected(bad, 404, name="ReceiveAppendEntriesRequest", text="no message in flight")
    assert res.mismatch.field == "msg.entries" and res.mismatch.observed == res.mismatch.model + 1


@pytest.mark.parametrize("field", ["term", "log"])
def test_leader_term_or_log_length_altered(records, field):
    k = first(records, lambda e: e["name"] == "SendAppendEntriesRequest" and e["role"] == "StateLeader", start=500)
    assert k + 1 == 520

    def alter(e):
        if field == "term":
            e["state"]["term"] += 1
        else:
            e["log"] += 1

    res = assert_rejected(edited(records, k, alter), 520, name="SendAppendEntriesRequest")
    assert res.mismatch.field == f"{field} of node 2"


def test_replicate_line_fields_are_not_compared(records):
    """Traceetcdraft's ClientRequestIfLogged compares nothing: a Replicate line's log length may be altered
    (the next line of the leader compares the true length)."""
    k = first(records, lambda e: e["name"] == "Replicate", start=500)
    assert run(edited(records, k, lambda e: e.__setitem__("log", e["log"] + 1))).verdict == "valid"


def test_the_node_logging_a_message_is_not_compared_but_warned_about(records, tmp_path, capsys):
    """Traceetcdraft takes a send's sender and a receive's addressee from the message, never from ``nid``: a
    logger that records the wrong node passes, as under TLC, with a warning naming the line.  A node named
    nowhere else gets no bootstrap line: this port starts it as Init does (TLC stops on it), also warned."""
    assert main(["trace", "validate", str(EXAMPLE), "--model", "etcdraft", "--json", "--progress", "off",
                 "--no-invariants"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["warnings"] == [] and "warning" not in out.err  # the real trace: nothing to say
    k = first(records, lambda e: e["name"] == "ReceiveAppendEntriesRequest", start=200)
    other = next(n for n in ("1", "2", "3") if n != records[k]["event"]["nid"])
    j = first(records, lambda e: e["name"] == "SendAppendEntriesRequest", start=k + 1)
    sender = records[j]["event"]["nid"]
    wrong = edited(edited(records, k, lambda e: e.__setitem__("nid", other)), j,
                   lambda e: e.__setitem__("nid", "1" if sender != "1" else "2"))
    assert run(wrong).verdict == "valid"
    path = tmp_path / "wrong-nid.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in wrong))
    assert main(["trace", "validate", str(path), "--model", "etcdraft", "--progress", "off",
                 "--no-invariants"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"warning: {path}:{k + 1}: ReceiveAppendEntriesRequest logged by node {other} for a "
                             f"message whose addressee is node {records[k]['event']['msg']['to']}")
    assert err[1].startswith(f"warning: {path}:{j + 1}: SendAppendEntriesRequest logged by node ")
    assert "whose sender is node " + sender in err[1] and len(err) == 2
    path.write_text("".join(json.dumps(r) + "\n" for r in edited(records, k, lambda e: e.__setitem__("nid", "99"))))
    assert main(["trace", "validate", str(path), "--model", "etcdraft", "--json", "--progress", "off",
                 "--no-invariants"]) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert len(warnings) == 2 and f"node 99 (first named on line {k + 1}) has no bootstrap line" in warnings[1]
    assert refmodel.validate_trace(str(path), invariants=False).warnings == warnings  # the library says it too


def test_membership_change_altered_action(records):
    k = first(records, lambda e: e["name"] == "ChangeConf")
    assert k + 1 == 684  # leader 2 removes node 1; turned into adding node 1, a voter already: not enabled
    bad = edited(records, k, lambda e: e["prop"]["cc"]["changes"][0].__setitem__("action", "AddNewServer"))
    assert_rejected(bad, 684, name="ChangeConf", text="AddNewServer(i=2, j=1) is not enabled")


def test_membership_change_altered_target_is_caught_where_applied(records):
    """Changing which server line 684 removes (1 -> 3) is enabled (3 is a voter) and ChangeConf lines compare
    nothing: the entry's content is hidden until ApplySimpleConfChange makes it the configuration.  The first
    line comparing a configuration after node 2 applies it is line 1249 (observed {2,3,4,5}, model
    {1,2,4,5})."""
    k = first(records, lambda e: e["name"] == "ChangeConf")
    bad = edited(records, k, lambda e: e["prop"]["cc"]["changes"][0].__setitem__("nid", "3"))
    res = assert_rejected(bad, 1249)
    assert res.mismatch.field == "conf of node 2"
    assert res.mismatch.observed == [["2", "3", "4", "5"], []] and res.mismatch.model == [["1", "2", "4", "5"], []]


def test_configuration_altered_on_a_compared_line(records):
    k = first(records, lambda e: e["name"] == "SendAppendEntriesRequest" and e["role"] == "StateLeader", start=700)
    assert k + 1 == 705
    bad = edited(records, k, lambda e: e["conf"].__setitem__(0, e["conf"][0][:-1]))
    assert_rejected(bad, 705, text="conf of node 2")


def test_invalid_trace_cli_text_and_exit_code(records, tmp_path, capsys):
    k = first(records, lambda e: e["name"] == "Commit", start=200)
    bad = edited(records, k, lambda e: e["state"].__setitem__("commit", e["state"]["commit"] + 1))
    f = tmp_path / "bad.ndjson"
    f.write_text("".join(json.dumps(r) + "\n" for r in bad[:300]))
    assert main(["trace", "validate", str(f), "--model", "etcdraft", "--progress", "off"]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out and "line 206: no behaviour of the spec explains this Commit event" in out
    assert "model allowed: AdvanceCommitIndex(i=2)" in out and "commit of node 2: observed 7, model 6" in out
    assert main(["trace", "validate", str(f), "--model", "etcdraft", "--json", "--progress", "off"]) == 1
    js = json.loads(capsys.readouterr().out)
    assert (js["verdict"], js["line"], js["event"]["name"], js["explained"]) == ("invalid", 206, "Commit", 205)


# ------------------------------------------------------------------------------------------ malformed input


def _bad_input(tmp_path, capsys, lines: list[str]) -> str:
    f = tmp_path / "in.ndjson"
    f.write_text("".join(x + "\n" for x in lines))
    code = main(["trace", "validate", str(f), "--model", "etcdraft", "--progress", "off"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert str(f) in err
    return err


def _lines(records, n=20):
    return [json.dumps(r) for r in records[:n]]


def test_not_json(tmp_path, capsys, records):
    lines = _lines(records)
    lines[4] = lines[4][:-3]
    assert ":5: not JSON" in _bad_input(tmp_path, capsys, lines)


def test_missing_field(tmp_path, capsys, records):
    recs = copy.deepcopy(records[:20])
    del recs[6]["event"]["state"]["commit"]
    assert ":7: missing field 'state.commit'" in _bad_input(tmp_path, capsys, [json.dumps(r) for r in recs])
    recs = copy.deepcopy(records[:200])
    k = first(recs, lambda e: "msg" in e)
    del recs[k]["event"]["msg"]["to"]
    assert f":{k + 1}: missing field 'msg.to'" in _bad_input(tmp_path, capsys, [json.dumps(r) for r in recs])


def test_unknown_event_name(tmp_path, capsys, records):
    recs = copy.deepcopy(records[:20])
    recs[11]["event"]["name"] = "Frobnicate"
    assert ":12: field 'event.name': unknown event name 'Frobnicate'" in _bad_input(
        tmp_path, capsys, [json.dumps(r) for r in recs])


def test_node_never_configured(tmp_path, capsys, records):
    recs = copy.deepcopy(records[:200])
    k = first(recs, lambda e: "msg" in e)
    recs[k]["event"]["msg"]["to"] = "42"
    err = _bad_input(tmp_path, capsys, [json.dumps(r) for r in recs])
    assert f":{k + 1}: field 'event.msg.to': node '42' is never configured" in err


def test_wrong_type_and_unreadable(tmp_path, capsys, records):
    recs = copy.deepcopy(records[:20])
    recs[2]["event"]["log"] = "five"
    assert ":3: field 'log' must be an integer" in _bad_input(tmp_path, capsys, [json.dumps(r) for r in recs])
    assert main(["trace", "validate", str(tmp_path / "missing.ndjson"), "--model", "etcdraft"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_max_events(capsys):
    assert main(["trace", "validate", str(EXAMPLE), "--model", "etcdraft", "--max-events", "1000", "--json",
                 "--progress", "off"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["events"], out["explained"]) == (1000, 1000)


def test_progress_jsonl(capsys):
    assert main(["trace", "validate", str(EXAMPLE), "--model", "etcdraft", "--max-events", "300",
                 "--progress", "jsonl", "--no-invariants"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert lines and lines[-1]["progress"]["events"] == 300 and lines[-1]["progress"]["frontier"] == 1
    assert "events_per_s" in lines[-1]["progress"]


def test_usage_errors(capsys):
    assert main(["trace", "validate", str(EXAMPLE)]) == 2  # --model is required
    assert main(["trace", "validate", str(EXAMPLE), "--model", "nope"]) == 2
    assert main(["trace", "validate", str(EXAMPLE), "--model", "etcdraft", "--max-events", "0"]) == 2
    capsys.readouterr()


def test_memoised_invariant_checker_agrees_with_plain_evaluation(records):
    """The checker skips an invariant on a state that agrees with the last one on what it reads; on every
    state of the first 1,500 lines' behaviour, and on states with one server's variables damaged, its verdict
    is the plain evaluation's."""
    events = T.parse_lines([json.dumps(r) for r in records[:1500]])
    m = T.mapping(events)
    res = validate(m, events)
    fast, plain = T.invariant_checker(m), T.invariant_checker(m, memo=False)
    states = [st for _, _, st in res.behaviour]
    damaged = []
    for st in states[::97]:
        sv = st.servers[1]
        for bad in (sv._replace(durableState=sv.durableState._replace(log=0)), sv._replace(state="Leader"),
                    sv._replace(log=sv.log[:-1] + (sv.log[-1]._replace(term=7),)) if sv.log else sv):
            damaged.append(st._replace(servers=(st.servers[0], bad) + st.servers[2:]))
    seq = [x for pair in zip(states, [*damaged, *[None] * len(states)]) for x in pair if x is not None]
    verdicts = [(fast(st), plain(st)) for st in seq]
    assert all(a == b for a, b in verdicts)
    assert any(b is not None for _, b in verdicts)  # some damage is caught


def test_bag_operations_agree_with_the_ports():
    """trace.py's bag updates (set operations keeping stored hashes) give the port's with_message,
    without_message and ready_bags results."""
    import random

    from refmodel.model.etcdraft import actions as A
    from refmodel.model.etcdraft import state as S

    rng = random.Random(7)
    msgs = [S.rv_request(t, 1, 2, i, j) for t in (1, 2) for i in (1, 2, 3) for j in (1, 2, 3)]
    msgs += [S.ae_response("app", 2, ok, 5, i, j) for ok in (True, False) for i in (1, 2) for j in (2, 3)]
    a = b = S.EMPTY_BAG
    pa = pb = S.EMPTY_BAG
    for _ in range(3000):
        m = rng.choice(msgs)
        if rng.random() < 0.5:
            m = type(m)(*m)  # an equal message, not the same object
        op = rng.randrange(5)
        if op == 0:
            a, b = S.with_message(m, a), T.bag_add(b, m)
        elif op == 1:
            a, b = S.without_message(m, a), T.bag_remove(b, m)
        elif op == 2:
            pa, pb = S.with_message(m, pa), T.bag_add(pb, m)
        elif op == 3:
            i = rng.choice((1, 2, 3))
            a, pa = A.ready_bags(i, a, pa)
            b, pb = T._ready_bags(i, b, pb)
        else:
            assert T.bag_count(b, m) == dict(a).get(m, 0)
        assert a == b and pa == pb


def test_joint_change_is_not_explained(records):
    """A ChangeConf with two changes (joint consensus) is well-formed but etcdraft.tla has no action for it
    (AddNewServerIfLogged etc. need exactly one change): invalid at that line."""
    k = first(records, lambda e: e["name"] == "ChangeConf")
    bad = edited(records, k, lambda e: e["prop"]["cc"]["changes"].append({"nid": "3", "action": "RemoveServer"}))
    assert_rejected(bad, 684, name="ChangeConf", text="single-server changes only; this ChangeConf has 2")


def test_max_events_cuts_before_servers_are_known():
    """As Traceetcdraft's MAX_TRACE: the first 1,000 lines name nodes 1 to 5 only."""
    events = T.parse_trace(EXAMPLE, max_events=1000)
    assert len(events) == 1000 and T.trace_servers(events) == ["1", "2", "3", "4", "5"]
    res = validate(T.mapping(events), events)
    assert res.verdict == "valid" and res.states == 1 + 1000 + sum(
        1 for line, _, _ in res.behaviour[1:]) - len({line for line, _, _ in res.behaviour[1:]})


@pytest.mark.parametrize("line, name", [(112, "ReceiveRequestVoteResponse"), (520, "SendRequestVoteRequest")])
def test_event_name_and_message_type_must_agree(records, line, name):
    """A receive's event name fixes the message type it matches (LoglineIsReceivedMessage), and a send must
    send the logged type: an append renamed into a vote event is not explained."""
    assert records[line - 1]["event"]["msg"]["type"] == "MsgApp"
    bad = edited(records, line - 1, lambda e: e.__setitem__("name", name))
    assert_rejected(bad, line, name=name)


def test_append_request_of_a_vote_type_is_not_explained(records):
    k = 519
    assert records[k]["event"]["name"] == "SendAppendEntriesRequest"
    bad = edited(records, k, lambda e: e["msg"].__setitem__("type", "MsgVote"))
    res = assert_rejected(bad, 520)
    assert res.mismatch.field == "msg.type"


def test_random_corruptions_never_crash(records):
    """Random field edits, renames and moves on the first 500 lines: each run ends in valid, invalid (with a
    diagnosis) or a one-line input error, never an exception."""
    import random

    rng = random.Random(11)
    base = records[:500]
    outcomes = set()
    for _ in range(40):
        recs = list(base)
        k = rng.randrange(60, len(recs))
        e = copy.deepcopy(recs[k])
        ev = e["event"]
        kind = rng.randrange(5)
        if kind == 0:
            ev["state"]["term"] += rng.choice((-1, 1))
        elif kind == 1:
            ev[rng.choice(("nid", "role"))] = rng.choice(("1", "5", "9", "StateLeader", "StateCandidate"))
        elif kind == 2:
            ev["name"] = rng.choice(sorted(T.EVENT_NAMES | T.UNMAPPED_EVENT_NAMES))
        elif kind == 3 and "msg" in ev:
            ev["msg"]["type"] = rng.choice(sorted(T.MSG_TYPES))
        recs[k] = e
        if kind == 4:
            recs.insert(rng.randrange(60, len(recs)), recs.pop(k))
        try:
            events = T.parse_lines([json.dumps(r) for r in recs])
        except T.TraceInputError as exc:
            assert "\n" not in str(exc)
            outcomes.add("input")
            continue
        m = T.mapping(events)
        res = validate(m, events, check=T.invariant_checker(m))
        if res.verdict == "invalid":
            assert res.line is not None and res.mismatch.describe()
        outcomes.add(res.verdict)
    assert {"valid", "invalid"} <= outcomes
