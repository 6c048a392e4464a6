"""Any cluster size starts at once: `refmodel check raft --servers N --max-states 20000`, with and without
--symmetry, for N = 3, 5, 7, 9, 12: whole-command wall time and peak resident memory (wait4).

Before the symmetry rework every permutation of the servers was built up front (9 servers: 117 MB before
the first state; 11 servers: past 9 GB); now nothing of size n! is built without --symmetry, and with it the
canonical form orders only servers with equal signatures (see model/raft/fast.py).

    python benchmarks/cluster_sizes.py            # every size, both modes, 3 runs each (median)
    python benchmarks/cluster_sizes.py --runs 1
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

SIZES = (3, 5, 7, 9, 12)


def refmodel_cmd() -> list[str]:
    exe = shutil.which("refmodel")
    return [exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]


def run_once(flags: list[str], limit: float) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in KiB and exit code of one whole command (killed after ``limit`` seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(refmodel_cmd() + ["check", "raft", *flags, "--progress", "off"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - t0 > limit:
            proc.kill()
        time.sleep(0.02)
    return time.perf_counter() - t0, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-states", type=int, default=20000)
    ap.add_argument("--limit", type=float, default=300, help="kill a run after this many seconds")
    args = ap.parse_args()
    print(f"| servers | symmetry | wall s (median of {args.runs}) | peak MB | exit |")
    print("|---|---|---|---|---|")
    for n in SIZES:
        for sym in (False, True):
            flags = ["--servers", str(n), "--max-states", str(args.max_states)] + (["--symmetry"] if sym else [])
            runs = [run_once(flags, args.limit) for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            rss = max(r[1] for r in runs) / 1024
            print(f"| {n} | {'yes' if sym else 'no'} | {wall:.2f} | {rss:.0f} | {runs[0][2]} |", flush=True)


if __name__ == "__main__":
    main()
