"""What every sub-command of the command line shares: exit codes, one-line input errors, number arguments,
the per-protocol option parser and progress reporting."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any

from refmodel import InputError  # noqa: F401 - raised by every command, printed as one line with exit 2

EXIT_PASS, EXIT_VIOLATION, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
PROGRESS_EVERY = {"auto": 0.5, "jsonl": 2.0}  # seconds between progress reports, per --progress mode
VERDICT_EXIT = {"pass": EXIT_PASS, "violation": EXIT_VIOLATION, "deadlock": EXIT_VIOLATION,
                "incomplete": EXIT_INCOMPLETE}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Options shared by every model check (protocol mode)."""
    p.add_argument("--symmetry", action="store_true", help="reduce by server permutations (one state per orbit, "
                   "as TLC's SYMMETRY Permutations(Server))")
    p.add_argument("--invariant", action="append", metavar="NAME", default=None,
                   help="check this invariant or property (repeatable; default: the protocol's default set)")
    p.add_argument("--mutant", metavar="NAME", help="run a named buggy variant (see `refmodel list mutants`), or "
                   "one of your own: PATH.py:NAME or MODULE:NAME")
    p.add_argument("--deadlock", action=argparse.BooleanOptionalAction, default=None,
                   help="a reachable state with no enabled action is an error (default: on for poa, as in TLC; "
                        "off for raft, where Restart is always enabled, and for etcdraft, as MCetcdraft.cfg says)")
    p.add_argument("--liveness", action="append", metavar="NAME", default=None,
                   help="check a liveness property (<>P, []<>P, P ~> Q) on the explored graph (repeatable)")
    p.add_argument("--fairness", action="append", metavar="wf:A|sf:A", default=None,
                   help="assume weak (wf) or strong (sf) fairness of action A, or of each instance (wf:A[*]) "
                        "(repeatable)")
    p.add_argument("--max-states", type=_nonneg_int, metavar="X", help="stop after X distinct states (incomplete)")
    p.add_argument("--max-depth", type=_nonneg_int, metavar="D", help="do not go beyond D steps (incomplete)")
    p.add_argument("--time-limit", type=_nonneg_float, metavar="S", help="stop after S seconds (incomplete)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--graph", metavar="FILE", help="write the explored state graph (.graphml, .dot or .json)")
    p.add_argument("--stats", action="store_true", help="analyse the state graph with networkx: nodes, edges, "
                   "strongly connected components, terminal states, depth histogram")
    p.add_argument("--itf", metavar="FILE", help="write the counterexample as an ITF trace (*.itf.json), "
                   "re-checkable with `refmodel replay FILE`")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report (with a message-sequence "
                   "chart of the counterexample)")
    p.add_argument("--full", action="store_true", help="show whole states in a counterexample, not only changes")
    p.add_argument("--progress", choices=("auto", "off", "jsonl"), default="auto",
                   help="progress on stderr: a live line on a terminal, twice a second (auto, the default; "
                        "nothing when stderr is not a terminal), none (off), or a JSON line every 2 s (jsonl)")
    g = p.add_argument_group("partitioned search, checkpoints, memory (the same figures as one worker)")
    g.add_argument("--workers", type=number_arg(int, 1), default=1, metavar="N",
                   help="split the search over N workers, level by level (default 1)")
    g.add_argument("--backend", choices=("processes", "ray", "inline"), default=None,
                   help="where the workers run: processes on this machine (default with --workers), Ray actors "
                        "(pip install 'consensus-refmodel[ray]'), or inline in this process")
    g.add_argument("--ray-address", metavar="ADDR", help="join this Ray cluster (default: start a local Ray)")
    g.add_argument("--checkpoint", metavar="DIR", help="write a checkpoint to DIR at level boundaries "
                   "(append-only; survives a kill; DIR must not hold another checkpoint)")
    g.add_argument("--checkpoint-every", type=_nonneg_float, default=0.0, metavar="S",
                   help="at most one checkpoint every S seconds (default 0: every level)")
    g.add_argument("--resume", metavar="DIR", help="continue the run checkpointed in DIR (same model, bounds "
                   "and properties; refused otherwise)")
    g.add_argument("--memory-limit", type=number_arg(float, 0, strict=True), metavar="GB",
                   help="stop with verdict incomplete and a checkpoint (to --checkpoint, else "
                        "./refmodel-checkpoint) before all processes together would use more than GB")


def number_arg(cast: type, low: float, *, strict: bool = False) -> Callable[[str], Any]:
    """An argparse type: ``cast(s)`` (int or float), at least ``low`` (more than ``low`` if ``strict``)."""
    kind = "an integer" if cast is int else "a number"

    def parse(s: str) -> Any:
        try:
            v = cast(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {kind}: {s!r}") from None
        if v < low or (strict and v == low):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {low}, not {v}")
        return v

    return parse


_nonneg_int = number_arg(int, 0)


_nonneg_float = number_arg(float, 0)


def protocol_parser(proto: Any, prog: str, run_options: bool = True) -> argparse.ArgumentParser:
    """A parser for ``refmodel check <protocol>``: one option per configuration bound, plus (unless
    ``run_options`` is false) the options of a model check."""
    p = argparse.ArgumentParser(prog=prog, description=f"Model-check {proto.description}.")
    g = p.add_argument_group("bounds")
    for f in fields(proto.config_class):
        md, default = f.metadata, f.default if f.default is not MISSING else None
        if isinstance(default, bool):
            g.add_argument(_flag(f.name), dest=f.name, action=argparse.BooleanOptionalAction, default=default,
                           help=f"{md.get('help', '')} (default: {'on' if default else 'off'})")
        elif md.get("choices"):
            g.add_argument(_flag(f.name), dest=f.name, choices=md["choices"], default=default,
                           help=f"{md.get('help', '')} (default: {default})")
        else:
            g.add_argument(_flag(f.name), dest=f.name, type=int, default=default, metavar="N",
                           help=f"{md.get('help', '')} (default: {default})")
    if run_options:
        add_run_options(p)
    return p


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the platform has one; else the machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def build_config(proto: Any, values: dict[str, Any]) -> Any:
    from refmodel.model.core import ConfigError

    try:
        return proto.config_class(**values)
    except ConfigError as exc:
        name, _, rest = str(exc).partition(" ")
        raise InputError(f"{_flag(name)} {rest}") from None


def _progress(mode: str) -> Any:
    if mode == "off" or (mode == "auto" and not sys.stderr.isatty()):
        return None
    if mode == "jsonl":
        def report(p: Any) -> None:
            print(json.dumps({"distinct": p.distinct, "generated": p.generated, "queue": p.queue,
                              "depth": p.depth, "elapsed_s": round(p.elapsed, 2),
                              "states_per_s": round(p.distinct / p.elapsed) if p.elapsed else 0}),
                  file=sys.stderr, flush=True)
        return report

    def line(p: Any) -> None:
        rate = p.distinct / p.elapsed if p.elapsed else 0
        sys.stderr.write(f"\r  {p.distinct:,} states  {rate:,.0f}/s  queue {p.queue:,}  depth {p.depth}  "
                         f"{p.elapsed:.0f}s \x1b[K")
        sys.stderr.flush()
    return line
