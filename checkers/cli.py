"""``refmodel``: the command line.

Exit codes: 0 pass (or every spec as expected), 1 violation (or a spec not as expected), 2 usage or input
error, 3 incomplete (a limit stopped the run).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import MISSING, fields
from typing import Any

EXIT_PASS, EXIT_VIOLATION, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
PROGRESS_EVERY = {"auto": 0.5, "jsonl": 2.0}  # seconds between progress reports, per --progress mode
VERDICT_EXIT = {"pass": EXIT_PASS, "violation": EXIT_VIOLATION, "incomplete": EXIT_INCOMPLETE}


class InputError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


# ------------------------------------------------------------------------------------------ run a check


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Options shared by every model check (protocol mode)."""
    p.add_argument("--symmetry", action="store_true", help="reduce by server permutations (one state per orbit, "
                   "as TLC's SYMMETRY Permutations(Server))")
    p.add_argument("--invariant", action="append", metavar="NAME", default=None,
                   help="check this invariant or property (repeatable; default: the protocol's default set)")
    p.add_argument("--mutant", metavar="NAME", help="run a named buggy variant (see `refmodel list mutants`)")
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


def build_config(proto: Any, values: dict[str, Any]) -> Any:
    from refmodel.model.core import ConfigError

    try:
        return proto.config_class(**values)
    except ConfigError as exc:
        name, _, rest = str(exc).partition(" ")
        raise InputError(f"{_flag(name)} {rest}") from None


def run_check(proto: Any, config: Any, *, invariants: list[str] | None, mutant: str | None, symmetry: bool,
              limits: Any, graph: bool = False, progress: str = "off") -> tuple[Any, Any]:
    """Build the model and properties, run the BFS checker; return the model and the result."""
    import refmodel.invariants as inv
    from refmodel.checkers.bfs import check
    from refmodel.model import UnknownMutant

    try:
        system = proto.build(config, mutant)
        props = inv.resolve(proto.name, invariants) if invariants else inv.defaults(proto.name)
    except (UnknownMutant, inv.UnknownProperty) as exc:
        raise InputError(str(exc.args[0]) if exc.args else str(exc)) from None
    engine = system.engine()
    if symmetry and not system.symmetry_group():
        raise InputError(f"{proto.name} with this configuration has no symmetry to reduce by")
    return system, check(engine, props, symmetry=symmetry, limits=limits, graph=graph,
                         progress=_progress(progress), progress_every=PROGRESS_EVERY.get(progress, 1.0))


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


def cmd_check_protocol(name: str, argv: Sequence[str]) -> int:
    from refmodel.checkers.bfs import Limits
    from refmodel.model import UnknownProtocol, protocol

    try:
        proto = protocol(name)
    except UnknownProtocol as exc:
        raise InputError(str(exc)) from None
    args = protocol_parser(proto, f"refmodel check {name}").parse_args(argv)
    config = build_config(proto, {f.name: getattr(args, f.name) for f in fields(proto.config_class)})
    limits = Limits(max_states=args.max_states, max_depth=args.max_depth, time_limit=args.time_limit)
    if args.graph:
        from refmodel.checkers.graph import GRAPH_FORMATS

        if not args.graph.lower().endswith(GRAPH_FORMATS):
            raise InputError(f"--graph file must end in {', '.join(GRAPH_FORMATS)}: {args.graph}")
    for flag, path, ends in (("--itf", args.itf, (".json",)), ("--html", args.html, (".html", ".htm"))):
        if path and not path.lower().endswith(ends):
            raise InputError(f"{flag} file must end in {' or '.join(ends)}: {path}")
    system, result = run_check(proto, config, invariants=args.invariant, mutant=args.mutant,
                               symmetry=args.symmetry, limits=limits, graph=bool(args.graph or args.stats),
                               progress=args.progress)
    if args.progress == "auto" and sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
    write_outputs(system, result, graph=args.graph, itf=args.itf, html=args.html)
    from refmodel.checkers import report

    stats = None
    if args.stats:
        from refmodel.checkers.graph import graph_stats

        stats = graph_stats(result.graph)
    if args.json:
        out = report.to_json(result)
        if stats is not None:
            out["graph_stats"] = stats
        print(json.dumps(out, indent=1))
    else:
        print(report.text(result, full=args.full))
        if stats is not None:
            from refmodel.checkers.graph import stats_text

            print(stats_text(stats))
    return VERDICT_EXIT[result.verdict]


def write_outputs(system: Any, result: Any, *, graph: str | None = None, itf: str | None = None,
                  html: str | None = None) -> None:
    """Write the files a check was asked for (graph, ITF counterexample, HTML report)."""
    if graph:
        from refmodel.checkers.graph import write_graph

        write_graph(result.graph, graph)
    if itf:
        if result.violation is None:
            print(f"refmodel: note: no counterexample, so no ITF trace written to {itf}", file=sys.stderr)
        else:
            from refmodel.checkers.itf import write_violation

            write_violation(result, system, itf)
    if html:
        from refmodel.checkers.html import write_html

        write_html(result, system, html)


# ------------------------------------------------------------------------------------------ spec files


def cmd_check_specs(argv: Sequence[str]) -> int:
    from refmodel.checkers.bfs import Limits
    from refmodel.checkers.spec import SpecError, compare, discover, load_spec
    from refmodel.model import protocol

    p = argparse.ArgumentParser(
        prog="refmodel check",
        description="Run check specifications (default: every specs/*.toml) and compare each verdict with "
                    "its expectation; or model-check one protocol: `refmodel check raft --help`.")
    p.add_argument("specs", nargs="*", metavar="SPEC", help="spec files or directories (default: ./specs)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per spec")
    p.add_argument("--full", action="store_true", help="show whole states in counterexamples")
    p.add_argument("--quiet", action="store_true", help="print only the table")
    args = p.parse_args(argv)
    try:
        specs = [load_spec(path) for path in discover(args.specs)]
    except SpecError as exc:
        raise InputError(str(exc)) from None
    rows, out, all_ok = [], [], True
    for n, spec in enumerate(specs, 1):
        if not args.quiet and not args.json:
            print(f"[{n}/{len(specs)}] {spec.name} ...", file=sys.stderr, flush=True)
        limits = Limits(**spec.limits)
        _, result = run_check(protocol(spec.protocol), spec.config, invariants=spec.invariants,
                              mutant=spec.mutant, symmetry=spec.symmetry, limits=limits)
        diffs = compare(spec, result)
        all_ok &= not diffs
        if args.json:
            from refmodel.checkers import report

            out.append({"spec": spec.name, "file": str(spec.path), "expected": spec.expect, "ok": not diffs,
                        "differences": diffs, "result": report.to_json(result)})
        else:
            cex = f"{result.violation.invariant} in {result.violation.length}" if result.violation else ""
            rows.append((spec.name, result.verdict, f"{result.distinct_states:,}", f"{result.generated_states:,}",
                         str(result.tlc_depth), cex, f"{result.elapsed_s:.2f}s",
                         "ok" if not diffs else "MISMATCH: " + "; ".join(diffs)))
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        head = ("spec", "verdict", "distinct", "generated", "tlc depth", "counterexample", "time", "result")
        widths = [max(len(r[k]) for r in rows + [head]) for k in range(len(head))]
        for r in [head] + rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        print(f"{sum(1 for r in rows if r[-1] == 'ok')}/{len(rows)} specs as expected")
    return EXIT_PASS if all_ok else EXIT_VIOLATION


# ------------------------------------------------------------------------------------------------- list


def cmd_list(argv: Sequence[str]) -> int:
    import refmodel.invariants as inv
    from refmodel.model import available_protocols, protocol

    p = argparse.ArgumentParser(prog="refmodel list", description="List models, invariants and mutants.")
    p.add_argument("what", nargs="?", choices=("models", "invariants", "mutants", "all"), default="all")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    data: dict[str, Any] = {}
    for name in available_protocols():
        proto = protocol(name)
        data[name] = {
            "description": proto.description,
            "bounds": {f.name: {"flag": _flag(f.name), "default": f.default, "help": f.metadata.get("help", "")}
                       for f in fields(proto.config_class)},
            "invariants": [{"name": q.name, "kind": q.kind, "default": q.default,
                            "reads": sorted(q.reads) if q.reads is not None else None,
                            "doc": " ".join(q.doc.split("\n\n")[0].split())} for q in inv.available(name)],
            "mutants": dict(proto.mutants),
        }
    if args.json:
        print(json.dumps(data, indent=1))
        return EXIT_PASS
    for name, d in data.items():
        if args.what in ("models", "all"):
            print(f"model {name}: {d['description']}")
            for b, info in d["bounds"].items():
                print(f"  {info['flag']:<18} {info['help']} (default {info['default']})")
        if args.what in ("invariants", "all"):
            print(f"invariants of {name}:" if args.what != "all" else "  invariants:")
            for q in d["invariants"]:
                tag = "" if q["default"] else " [not default]"
                kind = "" if q["kind"] == "state" else " (transition)"
                print(f"    {q['name']}{kind}{tag}: {q['doc']}")
        if args.what in ("mutants", "all"):
            print(f"mutants of {name}:" if args.what != "all" else "  mutants:")
            for m, desc in d["mutants"].items():
                print(f"    {m}: {desc}")
    return EXIT_PASS


# ------------------------------------------------------------------------------------------------- main

USAGE = """refmodel <command> [options]

commands:
  check [SPEC ...]            run spec files (default: every specs/*.toml), compare with expectations
  check <protocol> [options]  model-check a protocol with explicit bounds (see `refmodel check raft -h`)
  simulate <protocol> [options]
                              random walks within the bounds, reproducible by --seed
  prove raft|poa|quorum [options]
                              Z3: inductive proofs, bounded model checking (--bmc K), quorum lemmas
  replay FILE.itf.json        check that every step of an ITF trace is a transition of the model
  graph-stats <protocol> [options] | FILE
                              state-graph statistics (nodes, edges, SCCs, deadlocks, states per level)
  poa replay FILE             replay go-ethereum's Clique voting scenarios through the model's rules
  list [models|invariants|mutants]
                              what can be checked
  (each command has -h)

exit codes: 0 pass, 1 violation (or a spec not as expected), 2 usage or input error, 3 incomplete
"""

#: sub-commands beyond `check`: a function, or "module:function" imported on use (other modules add theirs)
COMMANDS: dict[str, Any] = {
    "list": cmd_list,
    "poa": "refmodel.checkers.poa_cli:main",  # refmodel poa replay FILE
    "prove": "refmodel.checkers.smt:cli_main",  # refmodel prove raft|poa
    "simulate": "refmodel.checkers.simulate:cli_main",  # refmodel simulate raft|poa
    "replay": "refmodel.checkers.itf:cli_main",  # refmodel replay FILE.itf.json
    "graph-stats": "refmodel.checkers.graph:cli_main",  # refmodel graph-stats raft ...
    "trace": "refmodel.checkers.trace_cli:cli_main",  # refmodel trace validate FILE --model etcdraft
}


def _command(name: str) -> Any:
    target = COMMANDS[name]
    if callable(target):
        return target
    module, func = target.split(":")
    import importlib

    try:
        return getattr(importlib.import_module(module), func)
    except (ModuleNotFoundError, AttributeError):
        raise InputError(f"command '{name}' is not available in this version") from None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from refmodel.model import PROTOCOL_MODULES

    try:
        if not argv or argv[0] in ("-h", "--help"):
            print(USAGE)
            return EXIT_PASS if argv else EXIT_USAGE
        if argv[0] == "--version":
            from importlib.metadata import PackageNotFoundError, version

            try:
                print(f"refmodel {version('consensus-refmodel')}")
            except PackageNotFoundError:
                print("refmodel (not installed)")
            return EXIT_PASS
        cmd, rest = argv[0], argv[1:]
        if cmd == "check":
            if rest and rest[0] in PROTOCOL_MODULES:
                return cmd_check_protocol(rest[0], rest[1:])
            return cmd_check_specs(rest)
        if cmd in COMMANDS:
            return _command(cmd)(rest)
        print(f"refmodel: error: unknown command '{cmd}'\n\n{USAGE}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as exc:
        print(f"refmodel: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # argparse: --help exits 0, usage errors exit 2
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("refmodel: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
