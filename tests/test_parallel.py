"""The partitioned search (``--workers``, ``--backend``), checkpoints (``--checkpoint``, ``--resume``) and the
memory budget (``--memory-limit``) give exactly the figures of one worker: counts, per-action figures, levels,
the counterexample step for step."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import refmodel
from refmodel.checkers import parallel, report
from refmodel.model.core import HashCollision, HashInterner, stable_bytes, stable_hash

N2 = dict(servers=2, max_term=2, max_log=1)  # TLC: 1,760 distinct, 13,797 generated, depth 28
N2_L2 = dict(servers=2, max_term=2, max_log=2, max_msgs=2)  # TLC: 41,952 / 423,515 / 43
N3_SYM = dict(servers=3, max_term=2, max_log=0)  # with symmetry, TLC: 118,001 / 1,451,643 / 39
TIMING = ("elapsed_s", "states_per_s", "generated_per_s", "engine")


def figures(result) -> dict:
    out = report.to_json(result)
    for key in TIMING:
        out.pop(key, None)
    return out


def both(protocol: str, bounds: dict, *, mutant: str | None = None, symmetry: bool = False, **par) -> tuple:
    system = refmodel.build(protocol, mutant=mutant, **bounds)
    one = refmodel.run_check(system, symmetry=symmetry)
    many = refmodel.run_check(system, symmetry=symmetry, **par)
    return figures(one), figures(many)


# ---------------------------------------------------------------------------------------- portable ids


def test_stable_hash_is_the_same_in_another_process_with_another_hash_seed():
    value = (frozenset({"b", "a", ("x", 1)}), {"k": frozenset({3, 1})}, None, True, "s")
    code = ("from refmodel.model.core import stable_hash; "
            "print(stable_hash((frozenset({'a', 'b', ('x', 1)}), {'k': frozenset({1, 3})}, None, True, 's')))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2", "3")}
    assert outs == {str(stable_hash(value))}
    assert stable_bytes(1) != stable_bytes(True) != stable_bytes("1")


def test_hash_interner_refuses_a_collision():
    ids = HashInterner()
    k = ids(("a", 1))
    ids.add(k, ("a", 1))  # the same value again: fine
    with pytest.raises(HashCollision):
        ids.add(k, ("b", 2))  # another value under the same id
    other = HashInterner()
    other.objs[k] = ("c", 3)  # forge a collision: a different value already holds the hash
    with pytest.raises(HashCollision, match="same content hash"):
        other(("a", 1))


def test_components_learnt_from_another_process_are_not_handed_out_again():
    maker, taker = HashInterner(), HashInterner()
    k = maker(("a", 1))
    assert maker.take_new() == [(k, ("a", 1))]
    taker.add(k, ("a", 1))
    assert taker(("a", 1)) == k and taker.objs[k] == ("a", 1)
    assert taker.take_new() == []  # its maker hands it out; the taker does not send it back
    mine = taker(("b", 2))
    assert taker.take_new() == [(mine, ("b", 2))]
    with pytest.raises(HashCollision, match="arrived with id"):
        HashInterner().add(k + 1, ("a", 1))  # an id that is not the value's hash here


@pytest.mark.parametrize("protocol, bounds, symmetry", [("raft", N2, False), ("raft", N3_SYM, True),
                                                        ("etcdraft", {}, False),
                                                        ("poa", dict(signers=3, intruders=2, max_height=2), True)])
def test_portable_engines_count_as_the_fast_ones(protocol, bounds, symmetry):
    from refmodel.checkers.bfs import check

    system = refmodel.build(protocol, **bounds)
    a, b = check(system.engine(), symmetry=symmetry), check(system.portable_engine(), symmetry=symmetry)
    assert (a.distinct_states, a.generated_states, a.depth, a.action_new) == \
           (b.distinct_states, b.generated_states, b.depth, b.action_new)


# ---------------------------------------------------------------------------------- same figures as one


@pytest.mark.parametrize("backend, workers", [("inline", 2), ("inline", 3), ("processes", 2)])
def test_partitioned_search_gives_tlc_figures_of_one_worker(backend, workers):
    one, many = both("raft", N2, workers=workers, backend=backend)
    assert (many["distinct_states"], many["generated_states"], many["tlc_depth"]) == (1760, 13797, 28)
    assert many == one


def test_raft_owners_follow_server_0_so_that_most_successors_stay_where_they_are_made():
    """The Raft engine's route_projector: a successor that changes only other servers or the messages keeps
    its owner; one that changes server 0 may move.  Two workers then move fewer states than with owners
    chosen by what the invariants read (servers and elections), and count the same."""
    system = refmodel.build("raft", **N2_L2)
    eng = system.portable_engine()
    two, four = eng.route_projector(2), eng.route_projector(4)
    kept = moved = 0
    seen, frontier = set(eng.initial()), list(eng.initial())
    for _ in range(6):  # a few levels of successors
        nxt = []
        for s in frontier:
            for _aid, t in eng.successors(s):
                if t is None:
                    continue
                same0 = eng._read_servers(t)[0] == eng._read_servers(s)[0]
                if same0 and (t >> eng.sh_el) == (s >> eng.sh_el):
                    assert two(t) == two(s)
                    kept += 1
                elif two(t) != two(s):
                    moved += 1
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        frontier = nxt
    assert kept > moved > 0
    s = eng.initial()[0]
    assert four(s) == two(s) | (s & (eng.mask << eng._srv_shifts[1]))  # beyond two workers server 1 counts too

    par = dict(workers=2, backend="inline")
    one, many = both("raft", N2_L2, **par)
    assert many == one
    moved_here = refmodel.run_check(system, **par).engine_stats["routed"]
    original = type(eng).route_projector
    try:
        del type(eng).route_projector  # owners chosen by what the properties read, as for other engines
        assert refmodel.run_check(system, **par).engine_stats["routed"] > 1.2 * moved_here  # 21,417 vs 16,556
    finally:
        type(eng).route_projector = original


def test_steps_are_checked_one_by_one_in_no_more_cases_than_in_one_worker(monkeypatch):
    """Raft's step properties are watched (the engine reports the server changes it makes): while no pair of
    server components is doubtful, steps need no check one by one.  With no log (max_log=0) the one-worker
    search never checks a step on its pairs; a partitioned search must not either.  (It once judged every
    component its engine knew, those made only for successors outside the constraint too, such as a Leader
    with one entry: their pairs stayed doubtful and every step was checked on its pairs, 3.8 M checks on
    n3_t2_l0_c1_m1, a third of the search's time.)"""
    from refmodel.checkers.bfs import _StepChecker

    calls = []
    original = _StepChecker.pair_step

    def counted(self, *args):
        calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(_StepChecker, "pair_step", counted)
    bounds = dict(servers=2, max_term=3, max_log=0)
    one, many = both("raft", bounds, workers=2, backend="inline")
    assert many == one and one["distinct_states"] > 1000  # (vacuity warnings included: "coverage")
    assert calls == []
    # (the other side: with a log, a Leader's appends make pairs doubtful until steps settle them)
    both("raft", dict(servers=2, max_term=2, max_log=1), workers=2, backend="inline")
    assert calls


def test_partitioned_search_with_symmetry():
    one, many = both("raft", N3_SYM, symmetry=True, workers=2, backend="processes")
    assert (many["distinct_states"], many["generated_states"], many["tlc_depth"]) == (118001, 1451643, 39)
    assert many == one


@pytest.mark.parametrize("protocol, bounds, symmetry", [
    ("etcdraft", {}, False), ("poa", dict(signers=3, max_height=2), False),
    ("poa", dict(signers=3, candidates=1, max_height=3, loss=True, offline=True), False),
    ("poa", dict(signers=2, intruders=2, max_height=2), True)])
def test_partitioned_search_on_the_other_models(protocol, bounds, symmetry):
    one, many = both(protocol, bounds, symmetry=symmetry, workers=2, backend="processes")
    assert many == one


@pytest.mark.parametrize("mutant, bounds", [
    ("minority_quorum", dict(servers=2, max_term=2, max_log=0)),  # a state invariant breaks
    ("commit_old_term_by_count", dict(servers=2, max_term=3, max_log=1))])  # a transition property breaks
def test_partitioned_search_finds_the_same_counterexample_and_stops_with_the_same_figures(mutant, bounds):
    one, many = both("raft", bounds, mutant=mutant, symmetry=True, workers=2, backend="processes")
    assert one["verdict"] == "violation"
    assert many == one  # the trace step for step, and the figures at the moment one worker stops


def test_rank_keys_renumbered_at_every_level_give_the_same_figures_counterexamples_and_resumes(tmp_path,
                                                                                              monkeypatch):
    """Rank keys are paths that the coordinator renumbers densely once they grow past RENUMBER_BITS (twice on
    raft n3_t2_l1_c1_m1).  Renumbered at every level instead, the figures, a counterexample and a resumed
    checkpoint are still one worker's."""
    monkeypatch.setattr(parallel, "RENUMBER_BITS", 1)
    one, many = both("raft", N2_L2, workers=2, backend="processes")
    assert many == one
    one, many = both("raft", dict(servers=2, max_term=3, max_log=1), mutant="commit_old_term_by_count",
                     symmetry=True, workers=3, backend="inline")
    assert one["verdict"] == "violation"
    assert many == one
    system = refmodel.build("raft", **N2_L2)
    ck = str(tmp_path / "ck")
    cut = refmodel.run_check(system, max_depth=20, workers=2, backend="processes", checkpoint=ck)
    assert cut.verdict == "incomplete"
    resumed = refmodel.run_check(system, workers=2, backend="processes", resume=ck)
    assert figures(resumed) == figures(refmodel.run_check(system))


def test_a_seeded_bug_is_caught_at_the_same_depth_by_every_backend():
    system = refmodel.build("raft", mutant="vote_twice", servers=2, max_term=2, max_log=0)
    runs = [refmodel.run_check(system, symmetry=True, workers=w, backend=b)
            for w, b in ((1, None), (2, "inline"), (3, "processes"))]
    assert {r.verdict for r in runs} == {"violation"}
    traces = [[str(s.action) for s in r.violation.trace] for r in runs]
    assert traces[0] == traces[1] == traces[2]
    assert [r.violation.invariant for r in runs] == ["raft.election_safety"] * 3


# ------------------------------------------------------------------------------------------------- ray


def _need_ray():
    try:
        import ray  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI runs the Ray backend: install the extra (pip install '.[test,ray]')")
        pytest.skip("ray is not installed (pip install '.[ray]')")


def test_ray_backend_on_a_local_two_worker_instance():
    _need_ray()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        for bounds, symmetry in ((N2, False), (N2_L2, False), (dict(servers=2, max_term=2, max_log=1), True)):
            one, many = both("raft", bounds, symmetry=symmetry, workers=2, backend="ray")
            assert many == one
        one, many = both("etcdraft", {}, workers=2, backend="ray")
        assert many == one
        one, many = both("raft", dict(servers=2, max_term=2, max_log=0), mutant="minority_quorum", symmetry=True,
                         workers=2, backend="ray")
        assert one["verdict"] == "violation" and many == one
    finally:
        ray.shutdown()


# ----------------------------------------------------------------------------------------- checkpoints


def refmodel_cmd() -> list[str]:
    return [sys.executable, "-m", "refmodel.checkers.cli"]


N2_L2_FLAGS = ["--servers", "2", "--max-term", "2", "--max-log", "2", "--max-msgs", "2"]


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(refmodel_cmd() + args, capture_output=True, text=True, **kw)


def _uninterrupted() -> dict:
    out = _run(["check", "raft", *N2_L2_FLAGS, "--json"], check=True)
    return _strip(json.loads(out.stdout))


def _strip(d: dict) -> dict:
    for key in TIMING:
        d.pop(key, None)
    return d


@pytest.mark.parametrize("backend", ["processes", "ray"])
def test_a_run_killed_with_sigkill_at_a_random_moment_resumes_to_the_same_figures(tmp_path, backend):
    if backend == "ray":
        _need_ray()
    ck = tmp_path / "ck"
    cmd = refmodel_cmd() + ["check", "raft", *N2_L2_FLAGS, "--workers", "2", "--backend", backend,
                            "--checkpoint", str(ck), "--json", "--progress", "off"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (ck / "manifest.json").exists():  # the run is under way once it has a first checkpoint
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before its first checkpoint"
        time.sleep(0.02)
    time.sleep(random.Random().uniform(0.0, 0.4))  # a random moment within the run: in a level, or while writing
    killed = proc.poll() is None
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the coordinator and its workers, without warning
    except ProcessLookupError:  # the run ended by itself in the meantime: its last checkpoint is final
        killed = False
    proc.wait()
    manifest = json.loads((ck / "manifest.json").read_text())
    resumed = _run(["check", "raft", *N2_L2_FLAGS, "--workers", "2", "--backend", backend, "--resume", str(ck),
                    "--json", "--progress", "off"])
    assert resumed.returncode == 0, resumed.stderr
    assert _strip(json.loads(resumed.stdout)) == _uninterrupted()
    assert killed or manifest["stats"]["frontier"] == 0
    print(f"killed mid-run: {killed}, after {len(manifest['stats']['levels'])} checkpointed levels")


def test_resuming_another_run_is_refused_in_one_line(tmp_path):
    ck = tmp_path / "ck"
    first = _run(["check", "raft", "--servers", "2", "--max-term", "2", "--max-log", "1", "--checkpoint", str(ck),
                  "--progress", "off"])
    assert first.returncode == 0, first.stderr
    other = _run(["check", "raft", "--servers", "2", "--max-term", "3", "--max-log", "1", "--resume", str(ck)])
    assert other.returncode == 2
    assert other.stderr.count("\n") == 1 and "belongs to another run: config" in other.stderr
    props = _run(["check", "raft", "--servers", "2", "--max-term", "2", "--max-log", "1", "--resume", str(ck),
                  "--invariant", "raft.election_safety"])
    assert props.returncode == 2 and "properties" in props.stderr
    missing = _run(["check", "raft", "--resume", str(tmp_path / "nothing")])
    assert missing.returncode == 2 and "no checkpoint here" in missing.stderr


def test_a_fresh_run_does_not_write_over_a_checkpoint_and_bad_directories_are_one_line_errors(tmp_path):
    ck = tmp_path / "ck"
    flags = ["check", "raft", "--servers", "2", "--max-term", "1", "--max-log", "0", "--progress", "off"]
    assert _run(flags + ["--checkpoint", str(ck)]).returncode == 0
    before = {f.name: f.read_bytes() for f in ck.iterdir()}
    for again in (["--checkpoint", str(ck)], ["--checkpoint", str(ck), "--workers", "2"]):
        out = _run(flags + again)  # (another run, or the same one again: either would replace its chunks)
        assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
        assert f"{ck} already holds a checkpoint of raft" in out.stderr and f"--resume {ck}" in out.stderr
    assert {f.name: f.read_bytes() for f in ck.iterdir()} == before
    assert _run(flags + ["--resume", str(ck)]).returncode == 0  # what the message offers works
    a_file = tmp_path / "file"
    a_file.write_text("")
    for args, says in ((["--checkpoint", str(a_file)], "not a directory"),
                       (["--checkpoint", str(a_file / "sub")], "cannot write a checkpoint there"),
                       (["--checkpoint-every", "5"], "name its directory with --checkpoint DIR")):
        out = _run(flags + args)
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and says in out.stderr, (args, out.stderr)


def test_a_damaged_checkpoint_is_refused_in_one_line_naming_the_file(tmp_path):
    ck = tmp_path / "ck"
    flags = ["check", "raft", "--servers", "2", "--max-term", "2", "--max-log", "1", "--workers", "2",
             "--progress", "off"]
    cut = _run(flags + ["--checkpoint", str(ck), "--max-depth", "10"])
    assert cut.returncode == 3, cut.stderr  # incomplete: a checkpoint of 10 levels
    good = {f.name: f.read_bytes() for f in ck.iterdir()}
    chunk = json.loads(good["manifest.json"])["chunks"][1][3]

    def resume_after(damage) -> str:
        for name, data in good.items():
            (ck / name).write_bytes(data)
        damage()
        out = _run(flags + ["--resume", str(ck)])
        assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
        return out.stderr

    assert f"{ck}/{chunk}: missing" in resume_after(lambda: (ck / chunk).unlink())
    assert f"{ck}/{chunk}: damaged or unreadable chunk" in resume_after(
        lambda: (ck / chunk).write_bytes(good[chunk][:100]))  # (read by worker 1, in its own process)
    assert f"{ck}/{chunk}: chunk does not follow" in resume_after(
        lambda: (ck / chunk).write_bytes(good[json.loads(good["manifest.json"])["chunks"][1][2]]))
    assert "damaged manifest (no 'stats')" in resume_after(lambda: (ck / "manifest.json").write_text(
        json.dumps({k: v for k, v in json.loads(good["manifest.json"]).items() if k != "stats"})))
    for name, data in good.items():  # and the intact checkpoint still finishes the run
        (ck / name).write_bytes(data)
    done = _run(flags + ["--resume", str(ck), "--json"])
    assert done.returncode == 0 and json.loads(done.stdout)["distinct_states"] == 1760


def test_a_chunk_the_coordinator_cannot_see_stops_the_run_at_the_first_checkpoint(tmp_path, monkeypatch):
    """A Ray actor on another machine writes its chunk to that machine's disk: the coordinator checks that it
    sees every chunk before it writes a manifest naming them."""
    elsewhere = tmp_path / "other-machine"
    elsewhere.mkdir()
    real = parallel.Partition.write_chunk
    monkeypatch.setattr(parallel.Partition, "write_chunk",
                        lambda self, directory: real(self, str(elsewhere) if self.index == 1 else directory))
    with pytest.raises(refmodel.InputError, match=r"w1-c0.pkl: worker 1 wrote its chunk where this machine "
                                                   r"does not see it.*every node shares"):
        refmodel.check("raft", workers=2, backend="inline", checkpoint=str(tmp_path / "ck"), **N2)
    assert not (tmp_path / "ck" / "manifest.json").exists()


def test_memory_limit_stops_cleanly_and_resume_finishes_on_a_larger_limit(tmp_path):
    ck = tmp_path / "ck"
    flags = ["check", "raft", "--servers", "3", "--max-term", "2", "--max-log", "0", "--symmetry", "--json",
             "--progress", "off"]
    stopped = _run(flags + ["--memory-limit", "0.06", "--checkpoint", str(ck)])
    assert stopped.returncode == 3, stopped.stderr  # incomplete
    partial = json.loads(stopped.stdout)
    assert partial["verdict"] == "incomplete" and "memory limit" in partial["incomplete_reason"]
    assert 0 < partial["distinct_states"] < 118001 and (ck / "manifest.json").exists()
    finished = _run(flags + ["--memory-limit", "2", "--resume", str(ck)])
    assert finished.returncode == 0, finished.stderr
    full = _strip(json.loads(finished.stdout))
    assert (full["distinct_states"], full["generated_states"], full["tlc_depth"]) == (118001, 1451643, 39)
    one = _run(flags)
    assert full == _strip(json.loads(one.stdout))


def test_an_error_in_worker_0_stops_every_worker_cleanly(monkeypatch):
    """Worker 0 runs in the coordinator's process (processes backend): when it fails, the coordinator takes the
    other workers' replies (large ones block their pipe) before it stops them, so that they end on their own
    (exit code 0), not killed after close's grace period."""
    real_expand = parallel.Partition.expand

    def failing(self):
        if self.index == 0 and len(self.frontier) > 20000:  # a level whose batches fill a pipe
            raise RuntimeError("worker 0 breaks")
        return real_expand(self)

    monkeypatch.setattr(parallel.Partition, "expand", failing)  # (the workers forked later inherit it)
    codes = []
    real_close = parallel._Processes.close

    def close(self):
        real_close(self)
        codes.extend(p.exitcode for p in self.procs)

    monkeypatch.setattr(parallel._Processes, "close", close)
    with pytest.raises(RuntimeError, match="worker 0 breaks"):
        refmodel.check("raft", workers=2, **N3_SYM)
    assert codes == [0]


def test_bad_parallel_options_are_one_line_errors():
    for args, says in ((["--workers", "0"], "--workers"), (["--backend", "mpi"], "--backend"),
                       (["--ray-address", "x:1"], "--ray-address needs --backend ray"),
                       (["--workers", "2", "--liveness", "raft.leader_elected"], "needs the whole graph"),
                       (["--memory-limit", "0"], "--memory-limit")):
        out = _run(["check", "raft", *args])
        assert out.returncode == 2, (args, out.stderr)
        assert says in out.stderr.strip().splitlines()[-1], out.stderr  # the last line says what is wrong


def test_more_workers_than_cpus_is_noted():
    from refmodel.checkers.cli.common import usable_cpus

    cpus = usable_cpus()
    flags = ["check", "raft", "--servers", "2", "--max-term", "1", "--max-log", "0", "--backend", "inline",
             "--progress", "off"]
    many = _run(flags + ["--workers", str(cpus + 1)])
    assert many.returncode == 0 and f"note: {cpus + 1} workers on {cpus} CPUs" in many.stderr
    assert "CPUs" not in _run(flags + ["--workers", str(cpus)]).stderr


def test_ray_backend_without_ray_says_how_to_install(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_ray(name, *a, **k):
        if name == "ray":
            raise ImportError("no ray")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(refmodel.InputError, match=r"pip install 'consensus-refmodel\[ray\]'"):
        refmodel.check("raft", servers=2, max_term=2, max_log=1, workers=2, backend="ray")


def test_layout_of_a_checkpoint_is_append_only(tmp_path):
    ck = tmp_path / "ck"
    system = refmodel.build("raft", **N2)
    refmodel.run_check(system, checkpoint=str(ck))
    manifest = json.loads((ck / "manifest.json").read_text())
    assert manifest["identity"]["config"]["servers"] == 2 and manifest["stats"]["frontier"] == 0
    chunks = manifest["chunks"][0]
    assert len(chunks) == len(manifest["stats"]["levels"]) and all((ck / c).exists() for c in chunks)
    assert not list(Path(ck).glob("*.tmp"))
    assert parallel.read_manifest(str(ck), manifest["identity"]) == manifest


def test_ray_address_joins_a_running_cluster(tmp_path):
    _need_ray()
    ray_exe = Path(sys.executable).with_name("ray")
    port = str(6400 + os.getpid() % 500)
    env = {**os.environ, "RAY_AUTH_MODE": "token"}  # Ray's default for clusters started with `ray start`
    start = subprocess.run([str(ray_exe), "start", "--head", "--num-cpus", "2", "--port", port,
                            "--include-dashboard", "false", "--disable-usage-stats"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert start.returncode == 0, start.stderr[-2000:]
    try:
        joined = _run(["check", "raft", "--servers", "2", "--max-term", "2", "--max-log", "1", "--workers", "2",
                       "--backend", "ray", "--ray-address", f"127.0.0.1:{port}", "--json"], env=env, cwd=tmp_path)
        assert joined.returncode == 0, joined.stderr[-2000:]
        one = _run(["check", "raft", "--servers", "2", "--max-term", "2", "--max-log", "1", "--json"])
        assert _strip(json.loads(joined.stdout)) == _strip(json.loads(one.stdout))
    finally:
        subprocess.run([str(ray_exe), "stop", "--force"], capture_output=True, env=env)
