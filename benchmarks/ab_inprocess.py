"""A/B of the checker's own CPU time: this tree against an older commit, in-process, alternately.

`tlc_ratio.py --ab` compares whole commands (start-up included) against another installed `refmodel`; this
script compares the check alone, which shows changes of a few per cent that start-up and wall-clock noise
hide.  The older commit is taken with `git archive` into a temporary directory and laid out as the installed
package is (`api` as `refmodel`, `model`, `invariants`, `checkers`, `specs` inside it), then put first on
PYTHONPATH of its child processes.  Each child runs one `refmodel.check(...)` and prints its CPU time
(`time.process_time`); A (this tree) and B (the commit) alternate, the order swapped every round, and the
medians are compared.  The distinct and generated counts of A and B must be equal.

    python benchmarks/ab_inprocess.py --base HEAD~1                      # all three configurations, 6 rounds
    python benchmarks/ab_inprocess.py --base 9e7ad3a --config big --runs 4
    python benchmarks/ab_inprocess.py --base HEAD~1 --config bigall --workers 2 --runs 4   # wall seconds

Configurations: ``n2`` (raft n2_t2_l2_c1_m2), ``n3s`` (raft n3_t2_l0_c1_m1 with symmetry), ``big`` (raft
n3_t2_l1_c1_m1 stopped at 500,000 states), ``bigall`` (the same to the end), ``poa`` (Clique s3 c1 h4),
``poa5`` (Clique s3 c1 h5), ``poa5lo`` (the same with loss and offline), ``etcd`` (etcdraft
e2_t3_r1_l3_f2, 3,851,020 states).  With ``--workers N`` (N > 1) the child's wall seconds are compared, since the
work is done in its worker processes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    "n2": ("raft", dict(servers=2, max_term=2, max_log=2, max_msg_count=1, max_msgs=2), False, None),
    "n3s": ("raft", dict(servers=3, max_term=2, max_log=0, max_msg_count=1, max_msgs=1), True, None),
    "big": ("raft", dict(servers=3, max_term=2, max_log=1, max_msg_count=1, max_msgs=1), False, 500_000),
    "poa": ("poa", dict(signers=3, candidates=1, max_height=4, epoch=3), False, None),
    "bigall": ("raft", dict(servers=3, max_term=2, max_log=1, max_msg_count=1, max_msgs=1), False, None),
    "poa5": ("poa", dict(signers=3, candidates=1, max_height=5), False, None),
    "etcd": ("etcdraft", dict(init_servers=2, servers=2, max_term=3, request_limit=1, max_log=3, max_in_flight=2),
             False, None),
    "poa5lo": ("poa", dict(signers=3, candidates=1, max_height=5, loss=True, offline=True), False, None),
}
CHILD = """
import json, sys, time
import refmodel
protocol, bounds, symmetry, max_states, workers = json.loads(sys.argv[1])
t = time.process_time()
w = time.perf_counter()
extra = {} if workers == 1 else {"workers": workers}
r = refmodel.check(protocol, symmetry=symmetry, max_states=max_states, **bounds, **extra)
took = time.process_time() - t if workers == 1 else time.perf_counter() - w
print(json.dumps([took, r.distinct_states, r.generated_states, refmodel.__file__]))
"""


def lay_out(commit: str, into: Path) -> Path:
    """The tree of ``commit`` as an importable ``refmodel`` package under ``into``."""
    blob = subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, check=True,
                          capture_output=True).stdout
    src = into / "src"
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(src, filter="data")
    pkg = into / "pkg" / "refmodel"
    shutil.copytree(src / "api", pkg)
    for sub in ("model", "invariants", "checkers", "specs"):
        shutil.copytree(src / sub, pkg / sub)
    return into / "pkg"


def run(config: str, pythonpath: str | None, workers: int = 1) -> tuple[float, int, int, str]:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps([*CONFIGS[config], workers])], env=env, check=True,
                         capture_output=True, text=True).stdout
    cpu, distinct, generated, where = json.loads(out)
    return cpu, distinct, generated, where


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="the commit to compare with (B)")
    ap.add_argument("--config", action="append", choices=sorted(CONFIGS), help="repeatable (default: n2, n3s, big)")
    ap.add_argument("--runs", type=int, default=6, help="runs of each side per configuration (default 6)")
    ap.add_argument("--workers", type=int, default=1,
                    help="a partitioned search over this many worker processes: wall seconds are compared")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = str(lay_out(args.base, Path(tmp)))
        for config in args.config or ["n2", "n3s", "big"]:
            a, b = [], []
            for i in range(args.runs):
                for side in ("A", "B") if i % 2 == 0 else ("B", "A"):
                    cpu, distinct, generated, where = run(config, base if side == "B" else None, args.workers)
                    if side == "B" and not where.startswith(base):
                        raise SystemExit(f"B imported refmodel from {where}, not from the base tree")
                    (a if side == "A" else b).append((cpu, distinct, generated))
            if {x[1:] for x in a} != {x[1:] for x in b}:
                raise SystemExit(f"{config}: A and B count differently: {a[0][1:]} vs {b[0][1:]}")
            ma, mb = statistics.median(x[0] for x in a), statistics.median(x[0] for x in b)
            print(f"{config:4}  A {ma:.3f} s (min {min(x[0] for x in a):.3f})  B {mb:.3f} s "
                  f"(min {min(x[0] for x in b):.3f})  A/B {ma / mb:.3f}  ({a[0][1]:,} states, {args.runs} runs each)")


if __name__ == "__main__":
    main()
