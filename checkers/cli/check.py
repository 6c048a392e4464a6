"""``refmodel check``: spec files (default ./specs, or the shipped ones with --builtin) or one protocol with
explicit bounds; ``refmodel list``: what can be checked."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import refmodel
from refmodel.checkers.cli.common import (
    EXIT_PASS,
    EXIT_VIOLATION,
    PROGRESS_EVERY,
    VERDICT_EXIT,
    InputError,
    _flag,
    _progress,
    build_config,
    protocol_parser,
    usable_cpus,
)


def run_check(proto: Any, config: Any, *, invariants: list[str] | None, mutant: str | None, symmetry: bool,
              limits: Any, graph: bool = False, progress: str = "off", deadlock: bool | None = None,
              liveness: list[str] | None = None, fairness: list[str] | None = None,
              base: str | None = None, parallel: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """Build the model and properties, run the BFS checker (and liveness); return the model and the result."""
    from refmodel.model import UnknownMutant

    try:
        system = proto.build(config, mutant)
    except UnknownMutant as exc:
        raise InputError(str(exc.args[0])) from None
    return system, refmodel.run_check(system, invariants=invariants, symmetry=symmetry,
                                      max_states=limits.max_states, max_depth=limits.max_depth,
                                      time_limit=limits.time_limit, graph=graph, progress=_progress(progress),
                                      progress_every=PROGRESS_EVERY.get(progress, 1.0), deadlock=deadlock,
                                      liveness=liveness or (), fairness=fairness or (), base=base,
                                      **(parallel or {}))


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
    cpus = usable_cpus()
    if args.workers > cpus and not args.ray_address:  # (a Ray cluster's CPUs are not this machine's)
        print(f"refmodel: note: {args.workers} workers on {cpus} CPUs: workers beyond the CPUs share them, "
              "which makes the run slower, not faster", file=sys.stderr)
    system, result = run_check(proto, config, invariants=args.invariant, mutant=args.mutant,
                               symmetry=args.symmetry, limits=limits, graph=bool(args.graph or args.stats),
                               progress=args.progress, deadlock=args.deadlock, liveness=args.liveness,
                               fairness=args.fairness,
                               parallel={"workers": args.workers, "backend": args.backend,
                                         "ray_address": args.ray_address, "checkpoint": args.checkpoint,
                                         "checkpoint_every": args.checkpoint_every, "resume": args.resume,
                                         "memory_limit": args.memory_limit})
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
            from refmodel.checkers.report.graph_files import stats_text

            print(stats_text(stats))
    return VERDICT_EXIT[result.verdict]


def write_outputs(system: Any, result: Any, *, graph: str | None = None, itf: str | None = None,
                  html: str | None = None) -> None:
    """Write the files a check was asked for (graph, ITF counterexample, HTML report)."""
    if graph:
        from refmodel.checkers.report.graph_files import write_graph

        write_graph(result.graph, graph)
    if itf:
        lasso = next((r for r in result.liveness if not r.holds), None)
        if result.violation is None and lasso is None:
            print(f"refmodel: note: no counterexample, so no ITF trace written to {itf}", file=sys.stderr)
        elif result.violation is not None:
            from refmodel.checkers.report.itf import write_violation

            write_violation(result, system, itf)
        else:
            from refmodel.checkers.report.itf import write_lasso

            write_lasso(lasso, system, itf)
    if html:
        from refmodel.checkers.report.html import write_html

        write_html(result, system, html)


def cmd_check_specs(argv: Sequence[str]) -> int:
    from refmodel.checkers.bfs import Limits
    from refmodel.checkers.spec import SpecError, compare, discover, load_spec
    from refmodel.model import protocol

    p = argparse.ArgumentParser(
        prog="refmodel check",
        description="Run check specifications (default: every specs/*.toml) and compare each verdict with "
                    "its expectation; or model-check one protocol: `refmodel check raft --help`.")
    p.add_argument("specs", nargs="*", metavar="SPEC", help="spec files or directories (default: ./specs)")
    p.add_argument("--builtin", action="store_true", help="run the specs shipped with the package (from any "
                   "directory, after a plain pip install)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per spec")
    p.add_argument("--full", action="store_true", help="show whole states in counterexamples")
    p.add_argument("--quiet", action="store_true", help="print only the table")
    args = p.parse_args(argv)
    if args.builtin:
        if args.specs:
            raise InputError("--builtin runs the shipped specs: name no spec file with it")
        from importlib.resources import files

        args.specs = [str(files("refmodel.specs"))]
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
                              mutant=spec.mutant, symmetry=spec.symmetry, limits=limits, deadlock=spec.deadlock,
                              liveness=spec.liveness, fairness=spec.fairness)
        diffs = compare(spec, result)
        all_ok &= not diffs
        if args.json:
            from refmodel.checkers import report

            out.append({"spec": spec.name, "file": str(spec.path), "expected": spec.expect, "ok": not diffs,
                        "differences": diffs, "result": report.to_json(result)})
        else:
            lasso = next((r for r in result.liveness if not r.holds), None)
            cex = (f"{result.violation.invariant} in {result.violation.length}" if result.violation
                   else f"{lasso.property} in {len(lasso.prefix) - 1}+{len(lasso.cycle)} (lasso)" if lasso else "")
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
            "liveness": [{"name": q.name, "form": q.form, "doc": " ".join(q.doc.split("\n\n")[0].split())}
                         for q in sorted(inv.LIVENESS.values(), key=lambda q: q.name) if q.protocol == name],
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
        if args.what in ("invariants", "all") and d["liveness"]:
            print(f"liveness of {name}:" if args.what != "all" else "  liveness:")
            for q in d["liveness"]:
                print(f"    {q['name']} ({q['form']}): {q['doc']}")
        if args.what in ("mutants", "all"):
            print(f"mutants of {name}:" if args.what != "all" else "  mutants:")
            for m, desc in d["mutants"].items():
                print(f"    {m}: {desc}")
    return EXIT_PASS
