"""Liveness on a large graph against the safety-only check of the same configuration, in one run.

raft n2_t3_l2_c1_m2 (2,276,263 states): `refmodel check raft ...` alone, then with `--liveness
client_request_committed` under weak fairness of sending and committing and strong fairness of receiving;
whole-command wall time and peak memory of each (wait4), alternated, median of --runs.
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

BOUNDS = ["raft", "--servers", "2", "--max-term", "3", "--max-log", "2", "--max-msg-count", "1", "--max-msgs", "2",
          "--progress", "off"]
LIVE = ["--liveness", "client_request_committed", "--fairness", "wf:AppendEntries",
        "--fairness", "sf:HandleAppendEntriesRequest", "--fairness", "sf:HandleAppendEntriesResponse",
        "--fairness", "wf:AdvanceCommitIndex", "--fairness", "sf:UpdateTerm"]


def refmodel_cmd() -> list[str]:
    exe = shutil.which("refmodel")
    return [exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]


def run(argv: list[str]) -> tuple[float, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(refmodel_cmd() + ["check", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # a violated liveness property is a result too
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
