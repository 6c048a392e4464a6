"""Progress line on a terminal: how often it updates, and what it costs.

Runs `refmodel check raft` on the n3 symmetric configuration (118,001 states) alternately with
`--progress auto` and stderr on a pseudo-terminal (so the live line is drawn) and with `--progress off`,
several times each.  Prints the median check time of both, the slowdown, and the largest gap between two
progress updates.  The target: updates at least once a second, no more than 5% slower.

    python benchmarks/progress_overhead.py --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import shutil
import statistics
import subprocess
import sys
import threading
import time

FLAGS = ["check", "raft", "--servers", "3", "--max-term", "2", "--max-log", "0", "--max-msg-count", "1",
         "--max-msgs", "1", "--symmetry", "--json"]


def refmodel() -> list[str]:
    exe = shutil.which("refmodel")
    return [exe] if exe else [sys.executable, "-m", "refmodel.checkers.cli"]


def run(progress: bool) -> tuple[float, list[float]]:
    """Check time reported by the run, and the times at which progress updates reached the terminal."""
    stamps: list[float] = []
    if progress:
        master, slave = pty.openpty()
        proc = subprocess.Popen(refmodel() + FLAGS + ["--progress", "auto"], stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)

        def read() -> None:
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                now = time.perf_counter()
                stamps.extend(now for _ in range(chunk.count(b"states ")))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        out = proc.communicate()[0]
        reader.join(timeout=2)
        os.close(master)
    else:
        out = subprocess.run(refmodel() + FLAGS + ["--progress", "off"], stdout=subprocess.PIPE, check=False).stdout
    return json.loads(out)["elapsed_s"], stamps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    on, off, gaps, counts = [], [], [], []
    for _ in range(args.runs):
        t_off, _ = run(False)
        t_on, stamps = run(True)
        off.append(t_off)
        on.append(t_on)
        counts.append(len(stamps))
        if len(stamps) >= 2:
            gaps.append(max(b - a for a, b in zip(stamps, stamps[1:])))
    m_on, m_off = statistics.median(on), statistics.median(off)
    print(f"progress off: median {m_off:.3f}s   progress on (terminal): median {m_on:.3f}s   "
          f"slowdown {100 * (m_on / m_off - 1):+.1f}%")
    print(f"updates per run: {counts}; largest gap between updates: {max(gaps) if gaps else float('nan'):.2f}s")


if __name__ == "__main__":
    main()
