"""Issue 13's figures for `refmodel vectors`, measured with the project's own commands.

Each run is a separate process (`refmodel vectors ... --json`), timed wall-clock, its peak resident memory
read with wait4(); every suite is then replayed by the command people use (`refmodel replay DIR` for ITF,
`refmodel poa replay FILE` for geth scenarios, and the latter once per Clique mutant), and the figures are
printed as Markdown rows (benchmarks/vectors.md keeps a run of them).

    python benchmarks/vectors.py           # the acceptance runs (a few minutes)
    python benchmarks/vectors.py --big     # also Clique with 4 signers and 6 blocks in one epoch (long)
    python benchmarks/vectors.py --etcd    # only the etcd-format rows (every written trace validated again)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MUTANTS = ("no_recency_check", "accept_unauthorised_signer", "threshold_half", "no_vote_reset_at_epoch",
           "recents_reset_at_checkpoint", "keep_votes_of_dropped_signer")

ITF_RUNS = [
    ("raft n2_t2_l1_c1_m1 edges", ["raft", "--servers", "2", "--max-term", "2", "--max-log", "1", "--cover", "edges"]),
    ("raft n2_t2_l2_c1_m2 branches", ["raft", "--servers", "2", "--max-term", "2", "--max-log", "2", "--max-msgs",
                                      "2", "--cover", "branches"]),
    ("raft n2_t3_l1_c1_m1 branches", ["raft", "--servers", "2", "--max-term", "3", "--max-log", "1", "--cover",
                                      "branches"]),
]
GETH = ["--candidates", "1", "--max-height", "4", "--epoch", "3", "--cover", "branches", "--format", "geth"]
GETH_RUNS = [
    ("poa s3 c1 h4 e3 majority", ["poa", "--signers", "3", *GETH]),
    ("poa s4 c1 h4 e3 majority", ["poa", "--signers", "4", *GETH]),
    ("poa s3 c1 h4 e3 two_thirds", ["poa", "--signers", "3", "--threshold", "two_thirds", *GETH]),
    ("poa s3 c1 h6 e5 majority", ["poa", "--signers", "3", "--candidates", "1", "--max-height", "6", "--epoch", "5",
                                  "--format", "geth"]),
]
ETCD_RUNS = [
    ("etcdraft e2_t2_r0_l3_f1 branches", ["etcdraft", "--cover", "branches"]),
    ("etcdraft e2_t2_r1_l3_f1 branches", ["etcdraft", "--request-limit", "1", "--cover", "branches"]),
    ("etcdraft e2_rc1_t2_r0_l4_f1 branches", ["etcdraft", "--reconfiguration-limit", "1", "--max-log", "4",
                                             "--cover", "branches"]),
    ("etcdraft e2to3_rc1_t2_r1_l3_f1 branches", ["etcdraft", "--servers", "3", "--reconfiguration-limit", "1",
                                                "--request-limit", "1", "--cover", "branches"]),
    ("etcdraft e2_t2_r0_l3_f1 edges", ["etcdraft", "--cover", "edges"]),
    ("etcdraft e2_t2_r1_l3_f1 edges", ["etcdraft", "--request-limit", "1", "--cover", "edges"]),
]
BIG = [("poa s4 c0 h6 e7 majority", ["poa", "--signers", "4", "--candidates", "0", "--max-height", "6", "--epoch",
                                     "7", "--format", "geth"])]


def refmodel_cmd() -> list[str]:
    exe = shutil.which("refmodel")
    return [exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]


def timed(argv: list[str]) -> tuple[int, str, float, float]:
    """Exit code, stdout, wall seconds and peak MB of one refmodel process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(refmodel_cmd() + argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), out, time.perf_counter() - t0, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="also the long Clique run that reaches execute on touch")
    ap.add_argument("--etcd", action="store_true", help="only the etcd-format rows")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="refmodel-vectors-"))
    etcd_rows(tmp)
    if args.etcd:
        shutil.rmtree(tmp)
        return
    print("| run | states | transitions | items | reachable | covered | traces | steps | naive traces | naive steps "
          "| ratio | mutants killed (by covering) | generate (wall) | peak MB | replay (wall) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, argv in ITF_RUNS + GETH_RUNS + (BIG if args.big else []):
        geth = "geth" in argv
        out = tmp / (name.replace(" ", "_") + (".json" if geth else ""))
        code, text, wall, peak = timed(["vectors", *argv, "--out", str(out), "--json", "--progress", "off"])
        if code not in (0, 1):
            raise SystemExit(f"{name}: refmodel vectors exited with {code}")
        d = json.loads(text)
        killed = sum(m["killed"] for m in d["mutants"])
        by_cover = sum(m["killed"] and not m["added"] for m in d["mutants"])
        if geth:
            rcode, rtext, rwall, _ = timed(["poa", "replay", str(out), "--json"])
            ok = rcode == 0 and all(r["matches"] for r in json.loads(rtext))
            fails = []
            for m in MUTANTS:
                mcode, mtext, _, _ = timed(["poa", "replay", str(out), "--mutant", m, "--json"])
                fails.append(f"{m}: {[r['id'] for r in json.loads(mtext) if not r['matches']][:1]}")
            detail = f"replay ok={ok}; first mismatch per mutant: " + "; ".join(fails)
        else:
            rcode, rtext, rwall, _ = timed(["replay", str(out)])
            ok = rcode == 0
            detail = f"replay: {rtext.strip().splitlines()[-1]}"
        g = d["graph"]
        print(f"| {name} | {g['states']:,} | {g['transitions']:,} | {d['items']:,} | {d['reachable']:,} | "
              f"{d['covered']:,} | {d['covering']['traces']:,} | {d['covering']['steps']:,} | "
              f"{d['naive']['traces']:,} | {d['naive']['steps']:,} | {d['ratio']:.2f} | {killed}/{len(d['mutants'])} "
              f"({by_cover}) | {wall:.1f} s | {peak:.0f} | {rwall:.1f} s |", flush=True)
        print(f"<!-- {name}: {detail}; unreachable: {d['unreachable']} -->", flush=True)
        if not ok:
            raise SystemExit(f"{name}: the suite does not replay")
    shutil.rmtree(tmp)


def etcd_rows(tmp: Path) -> None:
    """``--format etcd``: the etcd view's graph (the model's in brackets), the covering traces and their lines,
    generation (one process, every trace validated inside it) and validation of every written file with
    ``refmodel.validate_trace`` (what ``refmodel trace validate`` runs; in this process, so without one
    interpreter start per file)."""
    import refmodel

    print("| run | states (model) | transitions (model) | items | reachable | covered | not expressible | traces "
          "| steps | naive traces | naive steps | ratio | lines | mutants killed (by covering) | generate (wall) "
          "| peak MB | validate (wall) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, argv in ETCD_RUNS:
        out = tmp / name.replace(" ", "_")
        edges = "edges" in argv
        code, text, wall, peak = timed(["vectors", *argv, "--format", "etcd", "--out", str(out), "--json",
                                        "--progress", "off", *(["--no-kill"] if edges else [])])
        if code not in (0, 1):
            raise SystemExit(f"{name}: refmodel vectors exited with {code}")
        d = json.loads(text)
        files = sorted(out.glob("vector_*.ndjson"))
        t0 = time.perf_counter()
        bad = [f.name for f in files if refmodel.validate_trace(str(f)).verdict != "valid"]
        vwall = time.perf_counter() - t0
        if bad or d["format_check"]["rejected"]:
            raise SystemExit(f"{name}: rejected: {bad or d['format_check']['rejected']}")
        g, mg = d["graph"], d["model_graph"]
        killed = sum(m["killed"] for m in d["mutants"])
        by_cover = sum(m["killed"] and not m["added"] for m in d["mutants"])
        mutants = f"{killed}/{len(d['mutants'])} ({by_cover})" + (", --no-kill" if edges else "")
        print(f"| {name} | {g['states']:,} ({mg['states']:,}) | {g['transitions']:,} ({mg['transitions']:,}) | "
              f"{d['items']:,} | {d['reachable']:,} | {d['covered']:,} | {', '.join(d['not_expressible']) or '-'} | "
              f"{d['covering']['traces']:,} | {d['covering']['steps']:,} | {d['naive']['traces']:,} | "
              f"{d['naive']['steps']:,} | {d['ratio']:.2f} | {d['format_check']['lines']:,} | {mutants} | "
              f"{wall:.1f} s | {peak:.0f} | {vwall:.1f} s |", flush=True)
        survivors = [m["mutant"] for m in d["mutants"] if not m["killed"]]
        print(f"<!-- {name}: {len(files)} files all valid; survivors: {survivors}; unreachable: {d['unreachable']} "
              "-->", flush=True)
    print()


if __name__ == "__main__":
    main()
