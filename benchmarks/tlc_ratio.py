"""Whole-command speed of `refmodel check raft` against TLC on the same configurations.

TLC's figures are the medians measured on this project's 2-core machine (one worker, JVM start included)
for the same raft.tla configurations, as given in the project's issue 2; TLC itself is not run here.  Each
configuration is run as a separate `refmodel check raft ... --json` process (start-up included), several
times; the median wall time is compared with TLC's, and the peak resident memory of each run is read with
wait4().  Counts are checked against TLC's so that a fast wrong answer cannot pass.

    python benchmarks/tlc_ratio.py              # the two small configs x5 and the big one x3
    python benchmarks/tlc_ratio.py --quick      # the two small configs x3 only
    python benchmarks/tlc_ratio.py --ab ../old/.venv/bin/refmodel --runs 7   # A/B against another tree
    python benchmarks/tlc_ratio.py --compile ...  # with bytecode caches (as an installed package has them)
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

# name, refmodel flags, TLC distinct, TLC generated, TLC depth, TLC wall seconds (median, JVM included)
CONFIGS = [
    ("n2_t2_l2_c1_m2", ["--servers", "2", "--max-term", "2", "--max-log", "2", "--max-msg-count", "1",
                        "--max-msgs", "2"], 41_952, 423_515, 43, 8.8),
    ("n3_t2_l0_c1_m1_sym", ["--servers", "3", "--max-term", "2", "--max-log", "0", "--max-msg-count", "1",
                            "--max-msgs", "1", "--symmetry"], 118_001, 1_451_643, 39, 25.1),
    ("n3_t2_l1_c1_m1", ["--servers", "3", "--max-term", "2", "--max-log", "1", "--max-msg-count", "1",
                        "--max-msgs", "1"], 2_379_781, None, None, 473.0),
]


def refmodel_cmd() -> list[str]:
    exe = shutil.which("refmodel")
    return [exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]


def run_once(flags: list[str], cmd: list[str] | None = None) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS in KiB, and the JSON result of one whole command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen((cmd or refmodel_cmd()) + ["check", "raft", *flags, "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"refmodel exited {proc.returncode}: {proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
    res = json.loads(out)
    res["_cpu_s"] = usage.ru_utime + usage.ru_stime  # CPU time: less sensitive than wall time to a shared machine
    return wall, usage.ru_maxrss, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="only the two small configurations, 3 runs each")
    ap.add_argument("--runs", type=int, default=None, help="runs per small configuration (default 5)")
    ap.add_argument("--big-runs", type=int, default=3, help="runs of the 2.4-million-state configuration")
    ap.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    ap.add_argument("--ab", metavar="REFMODEL", help="A/B: also run this other `refmodel` executable (e.g. the "
                    "venv of a git worktree of an older commit), alternately with this one in the same run")
    ap.add_argument("--only", metavar="NAME", action="append", help="only this configuration (repeatable)")
    ap.add_argument("--compile", action="store_true", help="first compile the sources to bytecode (this tree "
                    "and, with --ab, the other one), as an installed package has them: with PYTHONDONTWRITEBYTECODE "
                    "set, every run would otherwise compile them anew")
    args = ap.parse_args()
    if args.compile:
        import compileall

        roots = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
        if args.ab:  # the tree of the other executable: <tree>/.venv/bin/refmodel
            roots.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(args.ab)))))
        for root in roots:
            for sub in ("api", "model", "checkers", "invariants"):
                if os.path.isdir(os.path.join(root, sub)):
                    compileall.compile_dir(os.path.join(root, sub), quiet=1)
    if args.ab:
        return ab(args)
    rows = []
    for name, flags, distinct, generated, depth, tlc_s in CONFIGS:
        big = distinct > 1_000_000
        if big and args.quick:
            continue
        runs = args.big_runs if big else (args.runs or (3 if args.quick else 5))
        walls, peaks = [], []
        for _ in range(runs):
            wall, peak_kib, res = run_once(flags)
            got = (res["distinct_states"], res["generated_states"], res["tlc_depth"])
            want = (distinct, generated or got[1], depth or got[2])
            if got != want or res["verdict"] != "pass":
                raise SystemExit(f"{name}: got {res['verdict']} {got}, TLC has {want}")
            walls.append(wall)
            peaks.append(peak_kib)
        med = statistics.median(walls)
        peak_mb = max(peaks) / 1024
        rows.append({"config": name, "distinct": distinct, "generated": res["generated_states"], "runs": runs,
                     "median_s": round(med, 3), "min_s": round(min(walls), 3), "tlc_s": tlc_s,
                     "ratio": round(med / tlc_s, 4), "check_s": res["elapsed_s"],
                     "peak_mb": round(peak_mb, 1), "mb_per_million_states": round(peak_mb / (distinct / 1e6), 1)})
        print(f"{name:<20} {distinct:>10,} states  median {med:7.2f}s (min {min(walls):.2f}s, {runs} runs)  "
              f"TLC {tlc_s:6.1f}s  ratio {med / tlc_s:.3f}  peak {peak_mb:7.1f} MB "
              f"({peak_mb / (distinct / 1e6):.0f} MB per million states)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


def ab(args: argparse.Namespace) -> None:
    """Run this tree (A) and the other executable (B) alternately, the order swapped every round; print each
    one's median wall time, peak memory, and the ratio of medians A/B and the median of the paired ratios."""
    rows = []
    for name, flags, distinct, generated, depth, tlc_s in CONFIGS:
        big = distinct > 1_000_000
        if (args.only and name not in args.only) or (big and args.quick and not args.only):
            continue
        runs = args.big_runs if big else (args.runs or (3 if args.quick else 5))
        walls: dict[str, list[float]] = {"A": [], "B": []}
        cpus: dict[str, list[float]] = {"A": [], "B": []}
        peaks: dict[str, list[int]] = {"A": [], "B": []}
        for r in range(runs):
            order = [("A", refmodel_cmd()), ("B", [args.ab])]
            for side, cmd in (order if r % 2 == 0 else order[::-1]):
                wall, peak_kib, res = run_once(flags, cmd)
                got = (res["distinct_states"], res["generated_states"], res["tlc_depth"])
                want = (distinct, generated or got[1], depth or got[2])
                if got != want or res["verdict"] != "pass":
                    raise SystemExit(f"{name} ({side}): got {res['verdict']} {got}, TLC has {want}")
                walls[side].append(wall)
                cpus[side].append(res["_cpu_s"])
                peaks[side].append(peak_kib)
        cpu = {k: statistics.median(v) for k, v in cpus.items()}
        med = {k: statistics.median(v) for k, v in walls.items()}
        paired = statistics.median(a / b for a, b in zip(walls["A"], walls["B"]))
        row = {"config": name, "distinct": distinct, "runs": runs, "tlc_s": tlc_s,
               "A_median_s": round(med["A"], 3), "B_median_s": round(med["B"], 3),
               "A_peak_mb": round(max(peaks["A"]) / 1024, 1), "B_peak_mb": round(max(peaks["B"]) / 1024, 1),
               "ratio_of_medians": round(med["A"] / med["B"], 3), "median_paired_ratio": round(paired, 3),
               "A_ratio_to_tlc": round(med["A"] / tlc_s, 4), "A_cpu_s": round(cpu["A"], 3),
               "B_cpu_s": round(cpu["B"], 3), "cpu_ratio": round(cpu["A"] / cpu["B"], 3)}
        rows.append(row)
        print(f"{name:<20} A {med['A']:7.3f}s ({row['A_peak_mb']:.0f} MB, "
              f"{row['A_peak_mb'] / (distinct / 1e6):.0f} MB/M states)  B {med['B']:7.3f}s "
              f"({row['B_peak_mb']:.0f} MB)  A/B {row['ratio_of_medians']:.3f} (paired {paired:.3f})  "
              f"A/TLC {row['A_ratio_to_tlc']:.4f}  CPU A {cpu['A']:.3f}s B {cpu['B']:.3f}s A/B "
              f"{row['cpu_ratio']:.3f}  [{runs} runs each]", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
