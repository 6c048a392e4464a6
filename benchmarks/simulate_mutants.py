"""How quickly random simulation (`refmodel simulate --swarm`) finds each mutant: runs and seconds to the
first violation, for several seeds.  The CI tests use one fixed seed per mutant (tests/test_simulate.py);
this script shows that the seed is not a lucky exception.

    python benchmarks/simulate_mutants.py --seeds 5 --max-runs 300000
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys

CASES = {
    # protocol, mutant, bounds, steps per run
    "raft/vote_twice": ("raft", "vote_twice", ["--servers", "2", "--max-term", "3", "--max-log", "1"], 60),
    "raft/minority_quorum": ("raft", "minority_quorum", ["--servers", "2", "--max-term", "3", "--max-log", "1"], 60),
    "raft/no_step_down_on_higher_term": ("raft", "no_step_down_on_higher_term",
                                         ["--servers", "2", "--max-term", "3", "--max-log", "1"], 60),
    "raft/commit_old_term_by_count": ("raft", "commit_old_term_by_count",
                                      ["--servers", "2", "--max-term", "3", "--max-log", "1"], 60),
    "raft/no_log_up_to_date_check": ("raft", "no_log_up_to_date_check",
                                     ["--servers", "3", "--max-term", "3", "--max-log", "1"], 60),
    "raft/no_log_matching_check": ("raft", "no_log_matching_check",
                                   ["--servers", "3", "--max-term", "4", "--max-log", "2"], 80),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--max-runs", type=int, default=300_000)
    ap.add_argument("--only", help="substring of the case names to run")
    args = ap.parse_args()
    exe = shutil.which("refmodel")
    cmd = [exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]
    for name, (proto, mutant, bounds, steps) in CASES.items():
        if args.only and args.only not in name:
            continue
        runs, secs, lengths, missed = [], [], [], 0
        for seed in range(1, args.seeds + 1):
            out = subprocess.run(cmd + ["simulate", proto, *bounds, "--mutant", mutant, "--swarm", "--runs",
                                        str(args.max_runs), "--steps", str(steps), "--seed", str(seed), "--json"],
                                 capture_output=True, text=True).stdout
            d = json.loads(out)
            if d["verdict"] == "violation":
                runs.append(d["runs"])
                secs.append(d["elapsed_s"])
                lengths.append(d["violation"]["length"])
            else:
                missed += 1
        if runs:
            print(f"{name:<36} found with {len(runs)}/{args.seeds} seeds: runs {runs} (median "
                  f"{statistics.median(runs):,.0f}), median {statistics.median(secs):.1f}s, trace lengths {lengths}",
                  flush=True)
        else:
            print(f"{name:<36} not found in {args.max_runs:,} runs with any of {args.seeds} seeds", flush=True)


if __name__ == "__main__":
    main()
