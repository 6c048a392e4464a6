"""``refmodel replay FILE.itf.json ...``: check that every step of an ITF trace is a transition of the model."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from refmodel.checkers.itf import ITFError, load
from refmodel.checkers.replay import replay


def _files(args: Sequence[str]) -> list[str]:
    """The trace files named: a directory stands for the ``*.itf.json`` files in it, in name order."""
    out = []
    for a in args:
        p = Path(a)
        if p.is_dir():
            found = sorted(str(f) for f in p.glob("*.itf.json"))
            if not found:
                raise ITFError(f"{a}: a directory with no *.itf.json trace in it")
            out.extend(found)
        else:
            out.append(a)
    return out


def cli_main(argv: Sequence[str]) -> int:
    """``refmodel replay FILE.itf.json|DIR ... [--mutant NAME] [--json]``."""
    import argparse

    p = argparse.ArgumentParser(prog="refmodel replay",
                                description="Check that every step of an ITF trace is a transition of the model "
                                            "its #meta names (and that each state enables the actions its "
                                            "#meta.enabled lists, if it lists them), and report the first "
                                            "property it violates.  Exit 0: every trace replays and violates "
                                            "nothing; 1: some trace ends in a violation; 2: some step is not a "
                                            "transition of the model, or bad input.")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="ITF traces (*.itf.json) written by refmodel, or directories of them (a vector suite)")
    p.add_argument("--invariant", action="append", metavar="NAME",
                   help="properties to evaluate along the trace (default: the one in #meta, else the defaults)")
    p.add_argument("--mutant", metavar="NAME",
                   help="replay against this mutant's model instead of the one #meta names (a suite of "
                        "conformance vectors should fail: see `refmodel vectors --mutants`)")
    p.add_argument("--json", action="store_true", help="print one JSON object per trace (a list if several)")
    args = p.parse_args(argv)
    import sys

    try:
        files = _files(args.files)
    except ITFError as exc:
        print(f"refmodel: error: {exc}", file=sys.stderr)
        return 2
    results, failed, violated = [], 0, 0
    for f in files:
        try:
            doc = load(f)
            props = None
            if args.invariant:
                import refmodel.invariants as inv

                props = inv.resolve(doc["#meta"]["protocol"], args.invariant)
            res = replay(doc, path=f, invariants=props, mutant=args.mutant)
        except ITFError as exc:
            print(f"refmodel: error: {exc}", file=sys.stderr)
            failed += 1
            results.append({"file": f, "error": str(exc)})
            continue
        except LookupError as exc:
            print(f"refmodel: error: {f}: {exc.args[0] if exc.args else exc}", file=sys.stderr)
            failed += 1
            results.append({"file": f, "error": str(exc.args[0] if exc.args else exc)})
            continue
        violated += bool(res.violation)
        results.append({"file": f, **dataclasses.asdict(res)})
        if not args.json:
            print(f"{f}: {res.steps} steps, every one a transition of {res.protocol}"
                  + (f" (mutant {res.mutant})" if res.mutant else ""))
            if res.outside_constraint:
                print(f"note: states {res.outside_constraint} lie outside the configured bounds")
            print(f"violates {res.violation} at state {res.violated_at}" if res.violation
                  else "no checked property is violated along the trace")
    if args.json:
        if len(files) == 1:
            out = results[0] if "error" not in results[0] else None
            if out is not None:
                out = {k: v for k, v in out.items() if k != "file"}
                print(json.dumps(out, indent=1))
        else:
            print(json.dumps(results, indent=1))
    elif len(files) > 1:
        print(f"{len(files) - failed}/{len(files)} traces replay as transitions of the model"
              + (f" (mutant {args.mutant})" if args.mutant else "")
              + (f"; {violated} end in a violation" if violated else ""))
    if failed:
        return 2
    return 1 if violated else 0
