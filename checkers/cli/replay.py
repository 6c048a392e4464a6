"""``refmodel replay FILE.itf.json``: check that every step of an ITF trace is a transition of the model."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from refmodel.checkers.itf import ITFError, load
from refmodel.checkers.replay import replay


def cli_main(argv: Sequence[str]) -> int:
    """``refmodel replay FILE.itf.json [--json]``."""
    import argparse

    p = argparse.ArgumentParser(prog="refmodel replay",
                                description="Check that every step of an ITF trace is a transition of the model "
                                            "its #meta names, and report the first property it violates.")
    p.add_argument("file", help="an ITF trace (*.itf.json) written by refmodel")
    p.add_argument("--invariant", action="append", metavar="NAME",
                   help="properties to evaluate along the trace (default: the one in #meta, else the defaults)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    import sys

    try:
        doc = load(args.file)
        props = None
        if args.invariant:
            import refmodel.invariants as inv

            props = inv.resolve(doc["#meta"]["protocol"], args.invariant)
        res = replay(doc, path=args.file, invariants=props)
    except ITFError as exc:
        print(f"refmodel: error: {exc}", file=sys.stderr)
        return 2
    except LookupError as exc:
        print(f"refmodel: error: {args.file}: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(dataclasses.asdict(res), indent=1))
    else:
        print(f"{args.file}: {res.steps} steps, every one a transition of {res.protocol}"
              + (f" (mutant {res.mutant})" if res.mutant else ""))
        if res.outside_constraint:
            print(f"note: states {res.outside_constraint} lie outside the configured bounds")
        print(f"violates {res.violation} at state {res.violated_at}" if res.violation
              else "no checked property is violated along the trace")
    return 1 if res.violation else 0
