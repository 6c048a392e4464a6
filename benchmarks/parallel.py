"""`refmodel check --workers 2` against one worker, whole command, and where the time of a partitioned search goes.

For each configuration, the one-worker command (the plain breadth-first search) and the `--workers N` command
(processes backend by default) run alternately, `--runs` times each, in one run of this script; the medians
of the wall times give the speed-up, and the figures of both (distinct, generated, depth, per-action, levels)
must be identical.  From the partitioned run's own figures (`engine` in its JSON):

* *expand*: seconds the workers spent expanding (successors, step checks, choosing owners), per state expanded;
* *move*: seconds spent pickling and unpickling batches, per state sent to another worker (the pipe or
  Ray's object store comes on top; for the processes backend, the coordinator is worker 0 and relays
  batches between the others);
* *routed*: states sent to another worker, per state expanded (after each worker's own deduplication);
* *absorb*: seconds the owners spent taking in batches (unpickling included) and checking new states;
* *coordinator*: seconds the coordinator computes alone (the ranks that keep the figures exact);
* *waits*, from the coordinator's clock: over the levels' phases, the slowest worker's seconds less the
  mean worker's (*imbalance*: the others wait at the barrier), the phases' seconds less the slowest
  worker's (*pipes*: requests, replies and batches on their way), and the whole command less the phases
  (*outside*: interpreter and model start-up, workers started, levels advanced).

*ceiling*: what this machine allows at all: N copies of the one-worker command run at once (as many as
workers), and N times the one-worker time over the time until the last copy ends.  Copies share nothing but
the machine (its caches, memory bandwidth, and whatever else the host runs), so no partitioned search can
beat that ratio on the same machine; the speed-up is also given as a share of it.  (`--no-ceiling` skips it.)

A simple model then gives the speed-up at 16 and 64 workers.  Expanding (E) and absorbing (A) are spread
evenly over the workers; of the states sent, the share (W - 1) / W goes to another worker and costs m
each; the coordinator's ranks (C, measured at W) grow as log2 W; what the W-worker run spent beyond all of
that (start-up, pipes, waiting at barriers: S) is taken as serial:

    T(W) = S + C * log2(W) / log2(2) + (E + A + m * sent * (W - 1) / W) / W,   speed-up(W) = T_one / T(W)

    python benchmarks/parallel.py                      # raft n3_t2_l1_c1_m1, poa s3 c1 h5 (also with loss and
                                                       # offline), 3 runs each
    python benchmarks/parallel.py --quick              # raft n3_t2_l0_c1_m1 (705,532 states), 3 runs
    python benchmarks/parallel.py --backend ray --workers 2

`benchmarks/partition_costs.py` measures the same search without the machine in it: the CPU seconds of the
plain search and of one and two inline workers, in one process.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

CONFIGS = {
    "raft_n3_t2_l1_c1_m1": ["raft", "--servers", "3", "--max-term", "2", "--max-log", "1"],
    "poa_s3_c1_h5": ["poa", "--signers", "3", "--candidates", "1", "--max-height", "5"],
    "poa_s3_c1_h5_loss_offline": ["poa", "--signers", "3", "--candidates", "1", "--max-height", "5", "--loss",
                                  "--offline"],
    "raft_n3_t2_l0_c1_m1": ["raft", "--servers", "3", "--max-term", "2", "--max-log", "0"],
}
TIMING = ("elapsed_s", "states_per_s", "generated_per_s", "engine")


def refmodel_cmd() -> list[str]:
    exe = shutil.which("refmodel")
    return [exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]


def check_cmd(args: list[str]) -> list[str]:
    return refmodel_cmd() + ["check", *args, "--json", "--progress", "off"]


def run_once(args: list[str]) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS (KiB, the largest process) and the JSON result of one whole command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(check_cmd(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"refmodel failed: {proc.stderr.read().decode()[-800:]}")  # type: ignore[union-attr]
    return wall, usage.ru_maxrss, json.loads(out)


def run_copies(args: list[str], copies: int) -> float:
    """Wall seconds until the last of ``copies`` concurrent one-worker commands ends."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen(check_cmd(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(copies)]
    for proc in procs:
        if proc.wait() not in (0, 1):
            raise SystemExit(f"refmodel failed: {proc.stderr.read().decode()[-800:]}")  # type: ignore[union-attr]
    return time.perf_counter() - t0


def figures(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in TIMING}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="only raft n3_t2_l0_c1_m1")
    ap.add_argument("--config", action="append", choices=sorted(CONFIGS), help="run these (repeatable)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", default="processes", choices=("processes", "ray"))
    ap.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    ap.add_argument("--no-ceiling", action="store_true",
                    help="do not measure the machine's ceiling (N one-worker commands at once)")
    args = ap.parse_args()
    names = args.config or (["raft_n3_t2_l0_c1_m1"] if args.quick else
                            ["raft_n3_t2_l1_c1_m1", "poa_s3_c1_h5", "poa_s3_c1_h5_loss_offline"])
    rows = []
    for name in names:
        base = CONFIGS[name]
        many_args = base + ["--workers", str(args.workers), "--backend", args.backend]
        one_t, many_t, one_m, many_m, copies_t = [], [], [], [], []
        ref = stats = None
        for _ in range(args.runs):
            w, m, r1 = run_once(base)
            one_t.append(w)
            one_m.append(m)
            w, m, r2 = run_once(many_args)
            many_t.append(w)
            many_m.append(m)
            if figures(r1) != figures(r2):
                raise SystemExit(f"{name}: the figures of {args.workers} workers differ from one worker's")
            ref, stats = r1, r2["engine"]
            if not args.no_ceiling:
                copies_t.append(run_copies(base, args.workers))
        assert ref is not None and stats is not None
        t1, tw = statistics.median(one_t), statistics.median(many_t)
        n = stats["expanded"]
        e = stats["expand_us"] / 1e6 / max(1, n)
        m = stats["move_us"] / 1e6 / max(1, stats["routed"])
        r = (stats["routed"] + stats["sent_local"]) / max(1, n)
        c = stats["coordinator_us"] / 1e6
        phases, slowest, mean = (stats.get(key, 0) / 1e6 for key in ("phases_us", "slowest_us", "mean_us"))
        t_copies = statistics.median(copies_t) if copies_t else None
        ceiling = args.workers * t1 / t_copies if t_copies else None
        sent = stats["routed"] + stats["sent_local"]
        big_e, big_a, big_m = stats["expand_us"] / 1e6, stats["absorb_us"] / 1e6, stats["move_us"] / 1e6
        w0 = args.workers
        par = (big_e + big_a + big_m) / w0
        serial = max(0.0, tw - par - c)
        model = {}
        for big in (16, 64):
            t_big = (serial + c * math.log2(big) / math.log2(max(2, w0))
                     + (big_e + big_a + m * sent * (big - 1) / big) / big)
            model[big] = t1 / t_big
        row = {"config": name, "distinct": ref["distinct_states"], "generated": ref["generated_states"],
               "depth": ref["depth"], "one_s": t1, "many_s": tw, "speedup": t1 / tw, "workers": args.workers,
               "backend": args.backend, "one_peak_mb": max(one_m) / 1024, "many_peak_mb": max(many_m) / 1024,
               "expand_us_per_state": e * 1e6, "move_us_per_routed": m * 1e6, "routed_per_state": r,
               "remote_share": stats["routed"] / max(1, stats["routed"] + stats["sent_local"]),
               "expand_s": big_e, "absorb_s": big_a, "move_s": big_m, "serial_s": serial,
               "coordinator_s": c, "imbalance_s": slowest - mean, "pipes_s": phases - slowest,
               "outside_s": tw - phases, "owned_min": stats["owned_min"], "owned_max": stats["owned_max"],
               "model_speedup_16": model[16], "model_speedup_64": model[64],
               "ceiling": ceiling, "share_of_ceiling": t1 / tw / ceiling if ceiling else None,
               "one_runs": one_t, "many_runs": many_t, "copies_runs": copies_t}
        rows.append(row)
        print(f"{name}: {row['distinct']:,} states, one worker {t1:.2f} s, {args.workers} workers ({args.backend}) "
              f"{tw:.2f} s: {row['speedup']:.2f}x (medians of {args.runs})"
              + (f"; ceiling {ceiling:.2f}x ({args.workers} one-worker commands at once: "
                 f"{t_copies:.2f} s), {row['share_of_ceiling']:.0%} of it" if ceiling else "")
              + f"; expand {row['expand_us_per_state']:.1f} "
              f"us/state, move {row['move_us_per_routed']:.2f} us/routed state, {r:.2f} sent per state expanded "
              f"({row['remote_share']:.0%} to another worker), expand {big_e:.1f} s + absorb {big_a:.1f} s + move "
              f"{big_m:.1f} s over the workers, coordinator {c:.2f} s alone, other serial {serial:.1f} s "
              f"(imbalance {row['imbalance_s']:.1f} s, pipes {row['pipes_s']:.1f} s, outside the phases "
              f"{row['outside_s']:.1f} s); owned "
              f"{row['owned_min']:,}..{row['owned_max']:,}; model: {model[16]:.1f}x at 16, {model[64]:.1f}x at 64",
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
