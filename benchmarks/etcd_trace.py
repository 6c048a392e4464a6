"""Trace validation speed on etcd's recorded trace: events per second on the first 1,000, 2,000 and all events.

    python benchmarks/etcd_trace.py [TRACE.ndjson] [--repeat 5]

For each prefix, the validation (parsing excluded) is run ``--repeat`` times and the median is reported, with
the explained events, spec steps and frontier peak; then again with the eight invariants evaluated on every
state (the command line's default, as Traceetcdraft.cfg's INVARIANTS).  TLC took 2,790 s
on the whole example trace (../shared/reference/etcdraft/README.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from refmodel.checkers.trace_validate import validate
from refmodel.model.etcdraft import trace as T

DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "etcd" / "example.ndjson"
TLC_SECONDS = 2790.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("trace", nargs="?", default=str(DEFAULT))
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    events = T.parse_trace(args.trace)
    parse_s = time.perf_counter() - t0
    rows = []
    for n in (1000, 2000, len(events)):
        prefix = T.parse_trace(args.trace, max_events=n)  # servers and bootstrap of the prefix alone
        times, cpu, res = [], [], None
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            res = validate(T.mapping(prefix), prefix)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        med = statistics.median(times)
        inv_times = []
        for _ in range(args.repeat):  # with the eight invariants, as the CLI runs by default
            m = T.mapping(prefix)
            t = time.perf_counter()
            validate(m, prefix, check=T.invariant_checker(m))
            inv_times.append(time.perf_counter() - t)
        med_inv = statistics.median(inv_times)
        rows.append({"events": n, "verdict": res.verdict, "explained": res.explained, "spec_steps": res.spec_steps,
                     "frontier_peak": res.frontier_peak, "median_s": round(med, 4), "min_s": round(min(times), 4),
                     "median_cpu_s": round(statistics.median(cpu), 4),
                     "events_per_s": round(n / med), "with_invariants_s": round(med_inv, 4),
                     "with_invariants_events_per_s": round(n / med_inv)})
    out = {"trace": args.trace, "parse_s": round(parse_s, 4), "python": sys.version.split()[0], "rows": rows,
           "tlc_s": TLC_SECONDS, "speedup_vs_tlc": round(TLC_SECONDS / (rows[-1]["median_s"] + parse_s))}
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(f"{args.trace}: parsed {len(events)} events in {parse_s:.3f} s")
        print(f"{'events':>7} {'verdict':>8} {'steps':>6} {'peak':>5} {'median s':>9} {'cpu s':>7} {'events/s':>9}"
              f" {'+inv s':>7} {'+inv ev/s':>9}")
        for r in rows:
            print(f"{r['events']:>7} {r['verdict']:>8} {r['spec_steps']:>6} {r['frontier_peak']:>5} "
                  f"{r['median_s']:>9.3f} {r['median_cpu_s']:>7.3f} {r['events_per_s']:>9,} "
                  f"{r['with_invariants_s']:>7.3f} {r['with_invariants_events_per_s']:>9,}")
        print(f"TLC: {TLC_SECONDS:,.0f} s for the whole trace; here {rows[-1]['median_s'] + parse_s:.2f} s with "
              f"parsing ({out['speedup_vs_tlc']:,}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
