"""Exhaustive BFS of Clique clusters: distinct states, depth, time and peak memory per million states.

Each configuration runs as a separate `refmodel check poa ... --json` process; its peak resident memory is
read with wait4().  The acceptance configuration of the PoA issue (3 signers, 1 candidate, heights <= 6,
majority, clique rule, loss and offline faults) takes tens of minutes and ~20 M states; `--quick` runs only
the shipped specs' configurations.

    python benchmarks/poa_bfs.py            # quick configurations, then the height-6 one
    python benchmarks/poa_bfs.py --quick    # quick configurations only
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

QUICK = [
    ("s3_c1_h4", ["--signers", "3", "--candidates", "1", "--max-height", "4"]),
    ("s3_c1_x1_h2_loss_offline", ["--signers", "3", "--candidates", "1", "--intruders", "1", "--max-height", "2",
                                  "--loss", "--offline"]),
    ("s4_h3", ["--signers", "4", "--candidates", "0", "--max-height", "3"]),
]
ACCEPTANCE = ("s3_c1_h6_loss_offline", ["--signers", "3", "--candidates", "1", "--max-height", "6", "--epoch", "3",
                                        "--threshold", "majority", "--proposer-rule", "clique", "--loss",
                                        "--offline"])


def refmodel_cmd() -> list[str]:
    exe = shutil.which("refmodel")
    return [exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]


def run(name: str, flags: list[str]) -> dict:
    cmd = refmodel_cmd() + ["check", "poa", *flags, "--json", "--progress", "off"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{name}: refmodel exited with {os.waitstatus_to_exitcode(status)}")
    d = json.loads(out)
    peak_mb = usage.ru_maxrss / 1024
    row = {"config": name, "verdict": d["verdict"], "distinct_states": d["distinct_states"],
           "generated_states": d["generated_states"], "depth": d["depth"], "wall_s": round(wall, 1),
           "states_per_s": d["states_per_s"], "peak_mb": round(peak_mb),
           "mb_per_million_states": round(peak_mb / max(d["distinct_states"], 1) * 1e6)}
    print(f"{name:28} {row['verdict']:8} {row['distinct_states']:>12,} states  depth {row['depth']:3}  "
          f"{wall:8.1f} s  peak {peak_mb:7.0f} MB  ({row['mb_per_million_states']} MB per million states)",
          flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the small configurations")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON at the end")
    args = ap.parse_args()
    rows = [run(n, f) for n, f in QUICK]
    if not args.quick:
        rows.append(run(*ACCEPTANCE))
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
