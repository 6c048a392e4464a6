"""Z3 proof times per cluster size: the shipped inductive invariant of the abstract Raft (and of Clique).

For N = 3, 4, 5, 6 ... servers (log bound L, unbounded terms) it runs what ``refmodel prove raft --servers N
--max-log L`` runs: the shipped set proved inductive, one solver query per action family (symmetry
reduction) or, with ``--no-symmetry``, one per action instance.  With ``--bmc K`` it times bounded model
checking to depth K instead (``refmodel prove raft --servers N --bmc K``: one client value, terms <= 3).
It stops after the first size that takes longer than ``--max-seconds`` (default 600 s, the issue's 10
minutes) or at ``--max-servers``.  Each size runs in a child process with a hard wall-clock limit of
``--max-seconds`` (Z3's own timeout does not always interrupt a query), so an over-long size is reported as
"> limit" (verdict unknown) instead of hanging the run.  Columns: ``prove s`` is the time ``prove``/``bmc``
reports (building the formulas and solving), ``solver s`` the sum of the solver queries alone, ``wall s``
the child process's whole life (imports and model construction included).  Results print as a table and,
with ``--json FILE``, as JSON.

    python3 benchmarks/smt_times.py                       # Raft, L=2, N = 3.. until a proof exceeds 600 s
    python3 benchmarks/smt_times.py --protocol poa        # Clique, signers N, one candidate
    python3 benchmarks/smt_times.py --max-log 3 --max-seconds 120 --max-servers 6
    python3 benchmarks/smt_times.py --bmc 8 --max-seconds 300

Reference figures (this 2-core machine, z3 4.x, shared with other jobs) are in ``benchmarks/smt_times.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def command(protocol: str, n: int, max_log: int, symmetry: bool, depth: int | None) -> str:
    """The ``refmodel`` command that does the same work."""
    cmd = f"refmodel prove {protocol} --servers {n}"
    if protocol == "raft" and max_log != 2:
        cmd += f" --max-log {max_log}"
    if depth is not None:
        cmd += f" --bmc {depth}"
    elif not symmetry:
        cmd += " --no-symmetry"
    return cmd


def _prove(protocol: str, n: int, max_log: int, symmetry: bool, depth: int | None, queue: mp.Queue) -> None:
    from refmodel.checkers.smt import bmc, prove

    if protocol == "raft":
        from refmodel.model.raft.symbolic import RaftSymbolic
        from refmodel.model.raft.abstract import AbstractRaftConfig

        values = 1 if depth is not None else None  # as `refmodel prove --bmc` (one value, terms <= 3)
        model = RaftSymbolic(AbstractRaftConfig(servers=n, max_log=max_log), values=values)
    else:
        from refmodel.model.poa.symbolic import CliqueSymbolic
        from refmodel.model.poa.abstract import AbstractCliqueConfig

        model = CliqueSymbolic(AbstractCliqueConfig(signers=n, candidates=1))
    if depth is None:
        r = prove(model, symmetry=symmetry)
    else:
        r = bmc(model, model.safety, depth, constrained=True)
    slowest = max(r.obligations, key=lambda o: o.seconds)
    queue.put({"verdict": r.verdict, "seconds": r.elapsed_s, "solver_s": sum(o.seconds for o in r.obligations),
               "queries": len(r.obligations), "slowest": f"{slowest.name} {slowest.seconds:.1f}s"})


def measure(protocol: str, n: int, max_log: int, symmetry: bool, depth: int | None, limit: float) -> dict:
    queue: mp.Queue = mp.Queue()
    t0 = time.perf_counter()
    p = mp.Process(target=_prove, args=(protocol, n, max_log, symmetry, depth, queue))
    p.start()
    p.join(limit)
    row = {"n": n, "command": command(protocol, n, max_log, symmetry, depth)}
    if p.is_alive():
        p.terminate()
        p.join()
        return {**row, "verdict": "timeout", "seconds": None, "solver_s": None, "wall_s": time.perf_counter() - t0,
                "queries": None, "slowest": "(stopped at the limit)"}
    wall = time.perf_counter() - t0
    if queue.empty():
        return {**row, "verdict": "error", "seconds": None, "solver_s": None, "wall_s": wall, "queries": None,
                "slowest": f"exit code {p.exitcode}"}
    return {**row, **queue.get(), "wall_s": wall}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--protocol", choices=("raft", "poa"), default="raft")
    ap.add_argument("--max-log", type=int, default=2, help="raft: log bound L (default 2)")
    ap.add_argument("--bmc", type=int, metavar="K", help="time bounded model checking to depth K instead")
    ap.add_argument("--min-servers", type=int, default=3)
    ap.add_argument("--max-servers", type=int, default=12, help="stop after this size in any case")
    ap.add_argument("--max-seconds", type=float, default=600.0,
                    help="stop after the first size that takes longer (default 600 = 10 minutes)")
    ap.add_argument("--no-symmetry", dest="symmetry", action="store_false",
                    help="one query per action instance instead of per symmetry class")
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = ap.parse_args(argv)
    import z3

    rows = []
    what = f"{args.protocol}" + (f", L={args.max_log}" if args.protocol == "raft" else ", 1 candidate")
    if args.bmc is None:
        how = "inductive proof of the shipped invariant, " + (
            "symmetry-reduced" if args.symmetry else "every action instance")
    else:
        how = f"bounded model checking of the safety properties to depth {args.bmc}"
    print(f"{how} ({what}); limit {args.max_seconds:g}s per size; python {platform.python_version()}, "
          f"z3 {z3.get_version_string()}, {os.cpu_count()} cpus", flush=True)
    print(f"{'N':>3}  {'verdict':<8} {'prove s':>9} {'solver s':>9} {'wall s':>8}  {'queries':>7}  slowest query",
          flush=True)
    for n in range(args.min_servers, args.max_servers + 1):
        row = measure(args.protocol, n, args.max_log, args.symmetry, args.bmc, args.max_seconds)
        rows.append(row)
        if row["seconds"] is None:
            secs = solver = f"> {args.max_seconds:g}" if row["verdict"] == "timeout" else "-"
        else:
            secs, solver = f"{row['seconds']:.1f}", f"{row['solver_s']:.1f}"
        print(f"{n:>3}  {row['verdict']:<8} {secs:>9} {solver:>9} {row['wall_s']:>8.1f}  {row['queries'] or '':>7}  "
              f"{row['slowest']}", flush=True)
        if row["verdict"] not in ("proved", "counterexample") or row["wall_s"] > args.max_seconds:
            break
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"protocol": args.protocol, "max_log": args.max_log, "symmetry": args.symmetry, "bmc": args.bmc,
                       "limit_s": args.max_seconds, "python": platform.python_version(),
                       "z3": z3.get_version_string(), "cpus": os.cpu_count(), "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
