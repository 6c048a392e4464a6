"""Liveness on a large graph against the safety-only check of the same configuration, in one run.

raft n3_t2_l0_c1_m1 without symmetry (705,532 states, 8.7 M transitions): `refmodel check raft ...` alone,
then with `--liveness leader_elected` under weak fairness of the election steps and strong fairness of the
vote receipts; whole-command wall time and peak memory of each (wait4), alternated, median of --runs.
The issue's target: liveness under 3 times the safety time and under 2 GB.

    python benchmarks/liveness.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

BOUNDS = ["raft", "--servers", "3", "--max-term", "2", "--max-log", "0", "--progress", "off"]
LIVE = ["--liveness", "leader_elected", "--fairness", "wf:Timeout", "--fairness", "wf:RequestVote",
        "--fairness", "sf:HandleRequestVoteRequest", "--fairness", "sf:HandleRequestVoteResponse",
        "--fairness", "wf:BecomeLeader"]


def refmodel_cmd() -> list[str]:
    exe = shutil.which("refmodel")
    return [exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]


def run(argv: list[str]) -> tuple[float, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(refmodel_cmd() + ["check", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"refmodel check {' '.join(argv)} exited {code}")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    safety, live = [], []
    for _ in range(args.runs):
        safety.append(run(BOUNDS))
        live.append(run(BOUNDS + LIVE))
    s, l_ = statistics.median(t for t, _ in safety), statistics.median(t for t, _ in live)
    print(f"safety only: {s:.1f} s, peak {max(m for _, m in safety):.0f} MB")
    print(f"with liveness: {l_:.1f} s, peak {max(m for _, m in live):.0f} MB")
    print(f"ratio: {l_ / s:.2f} (target < 3)")


if __name__ == "__main__":
    main()
