"""The fast Clique engine (model/poa/fast.py) against the explicit engine it replaced, in the same run.

Each measurement is a whole process (interpreter start, imports, spec loading, the check with the spec's
invariants, the comparison with the spec's expected figures): this script started again as a child with
``--child ENGINE SPEC``, where ENGINE is ``fast`` (``Poa.engine()``, what ``refmodel check`` runs) or
``explicit`` (``ExplicitEngine(model)``, the engine every PoA check ran on before, same model and rules).
Old and new alternate, several times each; the medians of the wall times are compared and the peak
resident memory of each run is read with wait4().  A run whose figures differ from the spec's fails the
benchmark, so a fast wrong answer cannot pass.

    python benchmarks/poa_fast.py                  # s4_h3 and s3_c1_h4, 3 runs per engine
    python benchmarks/poa_fast.py --runs 5
    python benchmarks/poa_fast.py --big            # also the 16.8-million-state acceptance run, new engine,
                                                   # once, as a whole `refmodel check` command (long)
    python benchmarks/poa_fast.py --big-only       # that run alone
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

ROOT = Path(__file__).resolve().parents[1]
SPECS = ["specs/poa_s4_h3.toml", "specs/poa_s3_c1_h4.toml"]
BIG = ["poa", "--signers", "3", "--candidates", "1", "--max-height", "6", "--loss", "--offline"]
BIG_FIGURES = (16_777_645, 176_758_847, 65)  # distinct, generated, depth (issue 15; TLC's depth is one more)


def child(engine: str, spec_path: str) -> None:
    """Check one spec with one engine and print the figures as JSON (run in a fresh process)."""
    import refmodel
    from refmodel.checkers.spec import compare, load_spec
    from refmodel.model.core import ExplicitEngine
    from refmodel.model.poa import build

    spec = load_spec(spec_path)
    system = build(spec.config, spec.mutant)
    if engine == "explicit":
        system.engine = lambda: ExplicitEngine(system)  # type: ignore[method-assign]
    result = refmodel.run_check(system, invariants=spec.invariants, symmetry=spec.symmetry,
                                deadlock=spec.deadlock, liveness=spec.liveness, fairness=spec.fairness,
                                **spec.limits)
    print(json.dumps({"distinct": result.distinct_states, "generated": result.generated_states,
                      "tlc_depth": result.tlc_depth, "verdict": result.verdict, "check_s": result.elapsed_s,
                      "differences": compare(spec, result)}))


def run(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MiB, and stdout of one process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out = proc.stdout.read()  # type: ignore[union-attr]
    err = proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {err.decode()[-800:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.decode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", nargs=2, metavar=("ENGINE", "SPEC"), help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, default=3, help="runs per engine and spec (default 3)")
    ap.add_argument("--big", action="store_true", help="also the 16.8-million-state run (new engine, once)")
    ap.add_argument("--big-only", action="store_true", help="only the 16.8-million-state run")
    ap.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    rows = []
    for spec in [] if args.big_only else SPECS:
        figs: dict[str, dict[str, list[float]]] = {e: {"wall": [], "cpu": [], "rss": [], "check": []}
                                                   for e in ("explicit", "fast")}
        counts = None
        for _ in range(args.runs):
            for engine in ("explicit", "fast"):  # alternate, so that load on the machine hits both alike
                wall, cpu, rss, out = run([sys.executable, __file__, "--child", engine, spec])
                res = json.loads(out)
                if res["differences"]:
                    raise SystemExit(f"{spec} on the {engine} engine: {res['differences']}")
                got = (res["distinct"], res["generated"], res["tlc_depth"])
                if counts is not None and got != counts:
                    raise SystemExit(f"{spec}: the engines disagree: {got} vs {counts}")
                counts = got
                figs[engine]["wall"].append(wall)
                figs[engine]["cpu"].append(cpu)
                figs[engine]["rss"].append(rss)
                figs[engine]["check"].append(res["check_s"])
        row = {"spec": spec, "distinct": counts[0], "generated": counts[1], "tlc_depth": counts[2], "runs": args.runs}
        for engine, f in figs.items():
            row[engine] = {"median_wall_s": round(statistics.median(f["wall"]), 2),
                           "median_cpu_s": round(statistics.median(f["cpu"]), 2),
                           "median_check_s": round(statistics.median(f["check"]), 2),
                           "states_per_s": round(counts[0] / statistics.median(f["wall"])),
                           "checker_states_per_s": round(counts[0] / statistics.median(f["check"])),
                           "peak_rss_mb": round(max(f["rss"])),
                           "mb_per_million_states": round(max(f["rss"]) / counts[0] * 1e6)}
        row["speedup_wall"] = round(row["explicit"]["median_wall_s"] / row["fast"]["median_wall_s"], 2)
        row["speedup_cpu"] = round(row["explicit"]["median_cpu_s"] / row["fast"]["median_cpu_s"], 2)
        row["speedup_check"] = round(row["explicit"]["median_check_s"] / row["fast"]["median_check_s"], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.big or args.big_only:
        exe = shutil.which("refmodel")
        cmd = ([exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]) + ["check", *BIG, "--json"]
        wall, cpu, rss, out = run(cmd)
        res = json.loads(out)
        got = (res["distinct_states"], res["generated_states"], res["depth"])
        if got != BIG_FIGURES:
            raise SystemExit(f"acceptance run: {got}, expected {BIG_FIGURES}")
        row = {"command": "refmodel check " + " ".join(BIG), "distinct": got[0], "generated": got[1],
               "depth": got[2], "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_rss_mb": round(rss),
               "mb_per_million_states": round(rss / got[0] * 1e6)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
