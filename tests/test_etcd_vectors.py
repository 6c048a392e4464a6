"""``refmodel vectors etcdraft --format etcd``: covering vectors written as etcd-io/raft ndjson traces.

Both sides: every generated trace is accepted by ``refmodel trace validate --model etcdraft``, and a copy
with one field corrupted (a term, a vote, a commit index) or one send line dropped is rejected at the line
the corruption makes unexplainable.  Then the mutant table (each kill re-checked with ``trace validate
--mutant``), what the format cannot express, and determinism.  One small configuration (MCetcdraft's
defaults here: 2 servers, terms up to 2, 652 states in the etcd view), generated once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import refmodel
from refmodel.checkers.cli import main
from refmodel.model.etcdraft.trace_out import CONSUMING, KEEPING, vector_file

#: lines whose node state the validator compares (after the step for sends, BecomeLeader and Commit; before it
#: for receives): a corrupted field there has no explanation
COMPARED = {"SendRequestVoteRequest", "SendAppendEntriesRequest", "BecomeLeader", "Commit",
            "ReceiveAppendEntriesRequest", "ReceiveAppendEntriesResponse", "ReceiveRequestVoteRequest",
            "ReceiveRequestVoteResponse"}
SENDS = {"SendRequestVoteRequest", "SendAppendEntriesRequest"}


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def suite():
    return refmodel.vectors("etcdraft", cover="branches", format="etcd")


@pytest.fixture(scope="module")
def files(suite, tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("etcd")
    paths = []
    for k, v in enumerate(suite.vectors):
        name, text = vector_file(suite.source, v, k, len(suite.vectors))
        (out / name).write_text(text)
        paths.append(out / name)
    return paths


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
    return path


def _first_compared(records: list[dict]) -> int:
    """Index (0-based line) of the first line whose node state the validator compares."""
    return next(k for k, r in enumerate(records) if r.get("tag") == "trace" and r["event"]["name"] in COMPARED)


def test_every_vector_is_accepted_and_covers_every_reachable_branch(suite, files):
    assert suite.covered == suite.reachable > 10 and not suite.beyond_max
    assert suite.format_check["accepted"] == len(suite.vectors) == len(files)
    for path in files:
        res = refmodel.validate_trace(str(path))
        assert res.verdict == "valid" and res.explained == len(_records(path)) - 1, path.name
    # what the view merges and leaves out is reported, not counted as unreachable by the model
    assert suite.not_expressible == ["DropMessage"] and "DropMessage" not in suite.unreachable
    chains = [suite.explored.label(a) for v in suite.vectors for a in v.aids if suite.explored.label(a).param("after")]
    assert chains and all(lab.action in CONSUMING and set(lab.param("after").split(", ")) <= KEEPING for lab in chains)


@pytest.mark.parametrize("field", ["term", "vote", "commit"])
def test_a_corrupted_field_is_rejected_at_its_line(files, tmp_path, field):
    for path in files:
        records = _records(path)
        k = _first_compared(records)
        st = records[k]["event"]["state"]
        if field == "vote":  # another server, or no vote for one that voted
            st["vote"] = {"0": "1", "1": "2", "2": "0"}[st["vote"]]
        else:
            st[field] += 1
        res = refmodel.validate_trace(str(_write(tmp_path / path.name, records)))
        assert (res.verdict, res.line) == ("invalid", k + 1), (path.name, field)
        assert res.mismatch.field is not None and res.mismatch.field.startswith(field), res.mismatch


def test_a_dropped_send_is_rejected_where_its_message_is_received(files, tmp_path):
    dropped = 0
    for path in files:
        records = _records(path)
        for k, r in enumerate(records):
            if r.get("tag") != "trace" or r["event"]["name"] not in SENDS:
                continue
            msg = r["event"]["msg"]
            recv = next((n for n in range(k + 1, len(records)) if records[n]["event"]["name"].startswith("Receive")
                         and records[n]["event"]["msg"] == msg), None)
            if recv is None:
                continue
            res = refmodel.validate_trace(str(_write(tmp_path / path.name, records[:k] + records[k + 1:])))
            assert (res.verdict, res.line) == ("invalid", recv), (path.name, k)  # one line earlier: k is gone
            assert "no message in flight" in res.mismatch.note
            dropped += 1
            break
    assert dropped >= len(files) - 1  # an added mutant vector may end before any message is received


def test_mutant_table_and_each_kill_rechecked_with_trace_validate(suite, files, capsys):
    """send_before_persist (a Restart shows the unpersisted term) and vote_twice (the second vote shows) are
    killed.  Two survive at these bounds, and the search of every path says none tells them apart:
    conf_change_while_pending needs a membership change (reconfiguration_limit is 0 here; with 1 and
    --max-log 4 a vector added for it kills it: benchmarks/vectors.md); minority_quorum only *adds* behaviours
    (a leader with half the votes), so its model explains every trace the model does: an etcd trace shows what
    happened, never what was not enabled (the ITF format kills it through each state's ``enabled`` list)."""
    table = {r.mutant: r for r in suite.mutants}
    assert {m for m, r in table.items() if r.vector is None} == {"conf_change_while_pending", "minority_quorum"}
    assert all("search of every path within the bounds found none" in table[m].reason
               for m in ("conf_change_while_pending", "minority_quorum"))
    for name in ("send_before_persist", "vote_twice"):
        row = table[name]
        path = files[row.vector]
        res = refmodel.validate_trace(str(path), mutant=name)
        assert res.verdict == "invalid" and f"line {res.line} " in row.reason, (name, row.reason)
        assert run(capsys, "trace", "validate", path, "--model", "etcdraft", "--mutant", name)[0] == 1
        assert refmodel.validate_trace(str(path)).verdict == "valid"


def test_cli_writes_the_directory_deterministically(capsys, tmp_path):
    argv = ["vectors", "etcdraft", "--max-term", "2", "--cover", "actions", "--format", "etcd", "--no-kill"]
    assert run(capsys, *argv, "--out", tmp_path / "a")[0] == 0
    code, out, _ = run(capsys, *argv, "--out", tmp_path / "b", "--json")
    d = json.loads(out)
    assert code == 0 and d["format_check"]["accepted"] == d["vectors"] and d["not_expressible"] == ["DropMessage"]
    a = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert a == sorted(p.name for p in (tmp_path / "b").iterdir()) and "suite.json" in a
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in a)
    index = json.loads((tmp_path / "a" / "suite.json").read_text())
    assert [f["file"] for f in index["files"]] == [n for n in a if n.endswith(".ndjson")]
    for n in a[1:]:  # suite.json sorts first
        assert run(capsys, "trace", "validate", tmp_path / "a" / n, "--model", "etcdraft")[0] == 0


def test_etcd_format_is_for_etcdraft_only(capsys, tmp_path):
    code, _, err = run(capsys, "vectors", "raft", "--format", "etcd", "--out", tmp_path / "x")
    assert code == 2 and "for etcdraft, not raft" in err and err.count("\n") == 1
