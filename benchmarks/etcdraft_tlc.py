"""Whole-command speed of `refmodel check etcdraft` against TLC on TLC's five etcdraft configurations.

TLC's figures (distinct, generated, depth and wall seconds, one worker, JVM start included) are read from
../shared/reference/etcdraft/tlc_counts.json; TLC itself is not run here.  Each configuration is run as a
separate `refmodel check etcdraft ... --json` process (start-up and the eight invariants included), several
times; the median wall time is compared with TLC's (ratio = ours / TLC's; speed-up = its inverse), and the
counts are checked against TLC's so that a fast wrong answer cannot pass.  Results go to stdout.

    python benchmarks/etcdraft_tlc.py            # every configuration, 3 runs each
    python benchmarks/etcdraft_tlc.py --runs 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "etcdraft" / "tlc_counts.json"
FLAGS = ("init_servers", "servers", "reconfiguration_limit", "max_term", "request_limit", "max_log", "max_in_flight")


def refmodel_cmd() -> list[str]:
    exe = shutil.which("refmodel")
    if exe is None and (Path(sys.executable).parent / "refmodel").exists():
        exe = str(Path(sys.executable).parent / "refmodel")
    return [exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]


def run_once(flags: list[str]) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS in KiB, and the JSON result of one whole command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(refmodel_cmd() + ["check", "etcdraft", *flags, "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"refmodel failed: {proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
    return wall, usage.ru_maxrss, json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per configuration (default 3)")
    ap.add_argument("--reference", default=str(REFERENCE), help="TLC's figures (tlc_counts.json)")
    args = ap.parse_args()
    configs = json.loads(Path(args.reference).read_text())["configs"]
    print(f"{'config':<24} {'distinct':>9} {'generated':>10} {'depth':>5}  {'ours (median)':>13}  {'TLC':>7}  "
          f"{'ratio':>6}  {'speed-up':>8}  {'states/s':>9}  {'peak MB':>7}")
    for c in configs:
        flags = [x for f in FLAGS for x in (f"--{f.replace('_', '-')}", str(c[f]))]
        if c.get("symmetry"):
            flags.append("--symmetry")
        walls, peaks = [], []
        for _ in range(args.runs):
            wall, peak, res = run_once(flags)
            got = (res["verdict"], res["distinct_states"], res["generated_states"], res["tlc_depth"])
            want = (c["verdict"], c["distinct"], c["generated"], c["tlc_depth"])
            if got != want:
                raise SystemExit(f"{c['name']}: got {got}, TLC has {want}")
            walls.append(wall)
            peaks.append(peak)
        med = statistics.median(walls)
        print(f"{c['name']:<24} {c['distinct']:>9,} {c['generated']:>10,} {c['tlc_depth']:>5}  {med:>12.2f}s  "
              f"{c['tlc_wall_s']:>6.1f}s  {med / c['tlc_wall_s']:>6.3f}  {c['tlc_wall_s'] / med:>7.1f}x  "
              f"{c['distinct'] / med:>9,.0f}  {max(peaks) / 1024:>7.1f}", flush=True)
    print(f"(refmodel: {' '.join(refmodel_cmd())}; {args.runs} run(s) per configuration, whole command timed)")


if __name__ == "__main__":
    main()
