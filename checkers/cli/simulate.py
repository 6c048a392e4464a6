"""``refmodel simulate <protocol>``: random walks through a model within its bounds (TLC's simulation mode)."""

from __future__ import annotations

from collections.abc import Sequence

from refmodel.checkers.report.simulate import text, to_json
from refmodel.checkers.simulate import simulate


def cli_main(argv: Sequence[str]) -> int:
    """``refmodel simulate <protocol> [bounds] --runs R --steps S --seed X [--mutant M] [--json]``."""
    import json
    import sys
    from dataclasses import fields

    from refmodel.checkers.cli import EXIT_USAGE, InputError, _nonneg_int, build_config, protocol_parser
    from refmodel.model import PROTOCOL_MODULES, UnknownMutant, UnknownProtocol, protocol

    if not argv or argv[0] not in PROTOCOL_MODULES:
        print("usage: refmodel simulate <protocol> [bounds] --runs R --steps S --seed X [--mutant M] [--json]\n"
              f"protocols: {', '.join(PROTOCOL_MODULES)}", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else EXIT_USAGE
    import refmodel.invariants as inv

    try:
        proto = protocol(argv[0])
        p = protocol_parser(proto, f"refmodel simulate {argv[0]}", run_options=False)
        p.description = f"Random walks through {proto.description} (TLC's simulation mode)."
        p.add_argument("--runs", type=_nonneg_int, default=100, help="number of random walks (default 100)")
        p.add_argument("--steps", type=_nonneg_int, default=100, help="steps per walk at most (default 100)")
        p.add_argument("--seed", type=int, default=0, help="random seed; the same seed repeats every run")
        p.add_argument("--swarm", action="store_true", help="swarm testing: each run weights the actions at "
                       "random (some left out), which reaches deep scenarios far more often")
        p.add_argument("--invariant", action="append", metavar="NAME", help="property to check (repeatable)")
        p.add_argument("--mutant", metavar="NAME", help="run a named buggy variant")
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument("--full", action="store_true", help="whole states in the counterexample")
        p.add_argument("--itf", metavar="FILE", help="write the violating run (else the first run) as ITF")
        args = p.parse_args(argv[1:])
        config = build_config(proto, {f.name: getattr(args, f.name) for f in fields(proto.config_class)})
        system = proto.build(config, args.mutant)
        props = inv.resolve(proto.name, args.invariant) if args.invariant else inv.defaults(proto.name)
        if args.itf and not args.itf.endswith(".json"):
            raise InputError(f"--itf file must end in .json: {args.itf}")
    except (UnknownProtocol, UnknownMutant, inv.UnknownProperty) as exc:
        print(f"refmodel: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as exc:
        print(f"refmodel: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = simulate(system.engine(), props, runs=args.runs, steps=args.steps, seed=args.seed, swarm=args.swarm)
    if args.itf:
        from pathlib import Path

        from refmodel.checkers.report.itf import trace_document

        trace = result.violation.trace if result.violation else result.last_trace
        desc = (f"simulation seed {args.seed}: counterexample to {result.violation.invariant}" if result.violation
                else f"simulation seed {args.seed}: first run")
        extra = {"invariant": result.violation.invariant} if result.violation else {}
        Path(args.itf).write_text(json.dumps(trace_document(system, trace, description=desc, extra_meta=extra),
                                             indent=1) + "\n")
    print(json.dumps(to_json(result), indent=1) if args.json else text(result, args.full))
    return 1 if result.violation else 0
