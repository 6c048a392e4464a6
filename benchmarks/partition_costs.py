"""Where a partitioned search's extra work comes from, in one process and on one core (no parallelism, no pipes).

`benchmarks/parallel.py` measures whole commands, on a machine whose two vCPUs and drifting speed blur the
figures.  This script takes the machine out: it runs four searches of one configuration in one process,
one after the other, alternately for ``--runs`` rounds, and compares their CPU seconds (``time.process_time``):

a. the plain breadth-first search (``checkers.bfs``) on the model's fast engine: what ``refmodel check`` runs;
b. the same search on the model's *portable* engine (component ids are 64-bit content hashes, the same in every
   process, so the state ints are wider): the cost of states that can travel;
c. the partitioned search (``checkers.parallel``) with one worker, inline: the cost of its machinery (rank
   keys, the end-of-level pass, owners chosen, frontier rebuilt);
d. the partitioned search with two workers, both inline in this process, one after the other: the work two
   workers do together (each builds its own memos; half the states found are sent to the other).

From them: *portable* = b / a, *machinery* = c / b, *split* = d / c, and the best two workers can do on two
whole cores, ``bound = 2 a / d`` (the work of d spread evenly, nothing else in the way: no barrier waits, no
pipes, no start-up of processes).  On a machine whose two cores give a *ceiling* C (N copies of one command
at once: see parallel.py), expect at most ``C a / d``.  The figures (distinct, generated) of the four must be
equal.

    python benchmarks/partition_costs.py                       # Clique s3 c1 h5 and raft n3_t2_l0_c1_m1, 3 rounds
    python benchmarks/partition_costs.py --config poa5 --runs 5
    py-spy record -r 250 -f raw -o c.txt -- python benchmarks/partition_costs.py --config raft_l0 --only c

``--only KIND`` (a, b, c or d) runs that search once and prints its CPU seconds and figures: what a profiler
records, to compare two of them line by line (how the doubtful pairs of the step checker were found).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # (only if run from a checkout without install)

CONFIGS = {
    "poa5": ("poa", {"signers": 3, "candidates": 1, "max_height": 5}),
    "raft_l0": ("raft", {"servers": 3, "max_term": 2, "max_log": 0}),
    "raft_l1": ("raft", {"servers": 3, "max_term": 2, "max_log": 1}),
}
KINDS = ("a_plain_fast", "b_plain_portable", "c_partitioned_1", "d_partitioned_2")


def run(kind: str, protocol: str, bounds: dict) -> tuple[float, tuple[int, int]]:
    import refmodel
    from refmodel.checkers import parallel
    from refmodel.checkers.bfs import check
    from refmodel.model import protocol as refmodel_protocol

    system = refmodel.build(protocol, **bounds)
    props = refmodel.properties(protocol)
    deadlock = refmodel_protocol(protocol).check_deadlock  # (the protocol's default, as refmodel check)
    gc.collect()
    t = time.process_time()
    if kind.startswith(("a_", "b_")):
        engine = system.engine() if kind.startswith("a_") else system.portable_engine()
        r = check(engine, props, deadlock=deadlock)
    else:
        workers = 1 if kind.endswith("_1") else 2
        opts = parallel.ParallelOptions(workers=workers, backend="inline")
        r = parallel.check_partitioned(lambda: (system.portable_engine(), props), props, opts, deadlock=deadlock)
    spent = time.process_time() - t
    return spent, (r.distinct_states, r.generated_states)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", action="append", choices=sorted(CONFIGS), help="run these (repeatable)")
    ap.add_argument("--runs", type=int, default=3, help="rounds (each runs the four searches, order rotated)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("--only", choices=[k[0] for k in KINDS], help="run this search once (for a profiler)")
    args = ap.parse_args()
    if args.only:
        kind = next(k for k in KINDS if k[0] == args.only)
        for name in args.config or ["raft_l0"]:
            spent, (distinct, generated) = run(kind, *CONFIGS[name])
            print(f"{name} {kind}: {spent:.2f} s CPU, {distinct:,} distinct, {generated:,} generated")
        return 0
    rows = []
    for name in args.config or ["poa5", "raft_l0"]:
        protocol, bounds = CONFIGS[name]
        times: dict[str, list[float]] = {k: [] for k in KINDS}
        figures = set()
        for r in range(args.runs):
            order = KINDS[r % 4:] + KINDS[:r % 4]  # rotated, so that no search always comes first
            for kind in order:
                spent, fig = run(kind, protocol, bounds)
                times[kind].append(spent)
                figures.add(fig)
                print(f"  {name} round {r + 1}: {kind} {spent:.2f} s", file=sys.stderr, flush=True)
        if len(figures) != 1:
            print(f"{name}: the four searches disagree: {sorted(figures)}", file=sys.stderr)
            return 1
        a, b, c, d = (statistics.median(times[k]) for k in KINDS)
        row = {"config": name, "states": figures.pop()[0], "cpu_s": dict(zip(KINDS, (a, b, c, d))),
               "runs": {k: times[k] for k in KINDS}, "portable": b / a, "machinery": c / b, "split": d / c,
               "bound_two_cores": 2 * a / d}
        rows.append(row)
        print(f"{name}: {row['states']:,} states; CPU s (medians of {args.runs}): plain {a:.2f}, portable {b:.2f}, "
              f"partitioned 1 {c:.2f}, partitioned 2 {d:.2f}; portable x{b / a:.2f}, machinery x{c / b:.2f}, "
              f"split x{d / c:.2f}; two workers do x{d / a:.2f} the plain search's work: at best "
              f"{2 * a / d:.2f}x on two whole cores")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
