"""``refmodel trace validate FILE --model NAME``: validate an implementation's recorded trace against a model.

Exit codes as every command: 0 the trace is explained (valid), 1 a line no behaviour explains (invalid), 2 bad
usage or a malformed trace (one line naming the file, the line and the field).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

EXIT_PASS, EXIT_VIOLATION, EXIT_USAGE = 0, 1, 2

def trace_models() -> dict[str, str]:
    """Models whose traces can be validated: every protocol package with a ``trace`` module, which provides
    ``parse_trace(path, max_events)`` (raising ``TraceInputError``), ``mapping(events)`` (a TraceMapping),
    ``invariant_checker(mapping)`` and ``itf_behaviour(events, result, source)``; optionally
    ``trace_notes(events, path)``, warnings about what the spec does not compare."""
    import importlib.util

    from refmodel.model import PROTOCOL_MODULES

    out = {}
    for name, module in PROTOCOL_MODULES.items():
        try:
            if importlib.util.find_spec(f"{module}.trace") is not None:
                out[name] = f"{module}.trace"
        except ModuleNotFoundError:
            continue
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="refmodel trace",
                                description="Validate a recorded implementation trace against a model's spec, "
                                            "as TLC does with a trace spec (e.g. Traceetcdraft.tla).")
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate", help="check that some behaviour of the model explains every line of FILE",
                       description="Check that some behaviour of the model explains every line of FILE "
                                   "(breadth-first over what the trace does not record).")
    v.add_argument("file", help="the recorded trace (for --model etcdraft: NDJSON, one etcd raft TracingEvent "
                                "per line)")
    v.add_argument("--model", required=True, choices=sorted(trace_models()), help="the spec to validate against")
    v.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    v.add_argument("--itf", metavar="OUT", help="write the explained prefix (every spec step) as an ITF trace")
    v.add_argument("--progress", choices=("auto", "jsonl", "off"), default="auto",
                   help="progress on stderr: a live line on a terminal (auto), a JSON line every 2 s (jsonl), "
                        "or none (off)")
    v.add_argument("--max-events", type=_pos_int, metavar="N",
                   help="validate only the first N events (the rest of the file is not read)")
    v.add_argument("--mutant", metavar="NAME",
                   help="validate against that mutant's rules instead of the model's (e.g. to see which line of "
                        "a conformance vector tells it apart)")
    v.add_argument("--no-invariants", action="store_true",
                   help="do not evaluate the spec's invariants on the states reached (as the trace spec's "
                        "configuration does by default)")
    return p


def _pos_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {v}")
    return v


def _progress(mode: str) -> tuple[Any, float]:
    if mode == "off" or (mode == "auto" and not sys.stderr.isatty()):
        return None, 0.5
    if mode == "jsonl":
        return (lambda p: print(json.dumps({"progress": p}), file=sys.stderr, flush=True)), 2.0

    def live(p: dict[str, Any]) -> None:
        print(f"\r{p['events']}/{p['total']} events, frontier {p['frontier']}, {p['events_per_s']:.0f} events/s",
              end="", file=sys.stderr, flush=True)

    return live, 0.5


def cli_main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    from refmodel.checkers.trace_validate import validate

    mod = importlib.import_module(trace_models()[args.model])
    try:
        events = mod.parse_trace(args.file, max_events=args.max_events)
    except mod.TraceInputError as exc:
        print(f"refmodel: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    rules = None
    if args.mutant is not None:
        try:
            rules = mod.mutant_rules(args.mutant)
        except (AttributeError, KeyError) as exc:
            known = ", ".join(mod.mutant_names()) if hasattr(mod, "mutant_names") else "none"
            print(f"refmodel: error: unknown {args.model} mutant {str(exc).strip(chr(39))!r} (known: {known})",
                  file=sys.stderr)
            return EXIT_USAGE
    mapping = mod.mapping(events) if rules is None else mod.mapping(events, rules)
    progress, every = _progress(args.progress)
    check = None if args.no_invariants else mod.invariant_checker(mapping)
    res = validate(mapping, events, progress=progress, progress_every=every, check=check)
    res.warnings = mod.trace_notes(events, str(args.file)) if hasattr(mod, "trace_notes") else []
    if progress is not None and args.progress == "auto":
        print(file=sys.stderr)
    if args.itf:
        try:
            from refmodel.checkers.report.itf import write_streamed

            system, steps, description, meta = mod.itf_behaviour(events, res, source=str(args.file))
            write_streamed(args.itf, system, steps, description=description, extra_meta=meta)
        except OSError as exc:
            print(f"refmodel: error: {args.itf}: cannot write: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    for note in res.warnings:  # what the spec does not compare, on stderr as check's warnings
        print(f"warning: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(res.to_json(), indent=1))
    else:
        _print_text(args.file, res)
    return EXIT_PASS if res.verdict == "valid" else EXIT_VIOLATION


def _print_text(path: str, res: Any) -> None:
    print(f"{path}: {res.verdict.upper()}" + (" (every line explained by a behaviour of the spec)"
                                               if res.verdict == "valid" else ""))
    print(f"  events:        {res.events}")
    print(f"  explained:     {res.explained}")
    print(f"  spec steps:    {res.spec_steps}")
    print(f"  frontier peak: {res.frontier_peak}")
    print(f"  states:        {res.states} distinct"
          + (f", {res.generated} generated (as TLC counts them)" if res.generated is not None else ""))
    print(f"  elapsed:       {res.elapsed_s:.2f} s ({res.events_per_s:,.0f} events/s"
          + (f"; invariants {res.check_s:.2f} s of it)" if res.check_s else ")"))
    if res.verdict == "invalid" and res.invariant is not None:
        print(f"line {res.line}: the spec state this {res.event_name} event leads to violates {res.invariant}")
        print(f"  observed: {json.dumps(res.event, separators=(',', ':'))}")
    elif res.verdict == "invalid":
        m = res.mismatch
        print(f"line {res.line}: no behaviour of the spec explains this {res.event_name} event:")
        print(f"  observed: {json.dumps(res.event, separators=(',', ':'))}")
        print(f"  model allowed: {', '.join(m.allowed) if m.allowed else 'no action'}")
        if m.field is not None:
            print(f"  {m.field}: observed {json.dumps(m.observed)}, model {json.dumps(m.model)}")
        if m.note:
            print(f"  {m.note}")
