"""Exhaustive BFS attempts for the Raft counterexamples too deep for CI.

* The *consequence* of ``commit_old_term_by_count`` that the Raft paper's Figure 8 describes (a later leader
  lacks a committed entry: leader_completeness / state_machine_safety) needs 3 servers and five terms; the
  directed trace in tests/test_raft_mutants.py takes 51 steps on n3_t5_l1_c1_m1.  (The bug itself is caught
  in 26 steps on two servers by raft.commit_current_term_only, in CI.)
* ``no_log_matching_check`` needs 3 servers, four terms and logs of 2; its directed trace takes 36 steps on
  n3_t4_l2_c1_m1, and `simulate --swarm` finds it in CI.

BFS must cover every state closer than the shortest counterexample, which on these configurations is beyond
this machine's time and memory in Python; this script runs each with a time and state budget (with
symmetry) and prints how far it got, so the figures in the README can be re-measured.

    python benchmarks/mutants_big.py --time-limit 600 --max-states 20000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

CASES = [
    ("commit_old_term_by_count", ["--servers", "3", "--max-term", "5", "--max-log", "1", "--max-msg-count", "1",
                                  "--max-msgs", "1", "--invariant", "leader_completeness",
                                  "--invariant", "state_machine_safety"]),
    ("no_log_matching_check", ["--servers", "3", "--max-term", "4", "--max-log", "2", "--max-msg-count", "1",
                               "--max-msgs", "1"]),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds per mutant (default 600)")
    ap.add_argument("--max-states", type=int, default=20_000_000, help="distinct states per mutant")
    args = ap.parse_args()
    exe = shutil.which("refmodel")
    cmd = [exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]
    for mutant, flags in CASES:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd + ["check", "raft", *flags, "--symmetry", "--mutant", mutant,
                                       "--time-limit", str(args.time_limit), "--max-states", str(args.max_states),
                                       "--json"], stdout=subprocess.PIPE)
        out = proc.stdout.read()  # type: ignore[union-attr]
        _, _, usage = os.wait4(proc.pid, 0)
        d = json.loads(out)
        v = d.get("violation")
        print(f"{mutant:<26} {d['verdict']:<10} {d['distinct_states']:>12,} states  depth {d['depth']:>3}  "
              f"{time.perf_counter() - t0:8.1f}s  peak {usage.ru_maxrss / 1024:8.0f} MB"
              + (f"  {v['invariant']} in {v['length']} steps" if v else f"  ({d.get('incomplete_reason', '')})"),
              flush=True)


if __name__ == "__main__":
    main()
