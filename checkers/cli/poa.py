"""``refmodel poa ...``: commands specific to the Proof-of-Authority (Clique) model.

``refmodel poa replay FILE [--json] [--mutant NAME]`` replays go-ethereum's Clique voting scenarios (the
schema of ``../shared/reference/clique/geth_snapshot_vectors.json``) through the model's own rule functions
and says, per scenario, the final signer set or the error and failing block, and whether that is what
go-ethereum expects.  Exit codes: 0 every scenario matches, 1 some do not, 2 usage or input error (one line
naming the file, the scenario and the field).

This is command-line glue: reading, printing and exit codes.  The replay itself is
``model.poa.replay`` (pure functions over the model's rules), imported when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

EXIT_MATCH, EXIT_MISMATCH, EXIT_USAGE = 0, 1, 2


def _fail(msg: str) -> int:
    print(f"refmodel: error: {msg}", file=sys.stderr)
    return EXIT_USAGE


def _signers(names: list[str] | None) -> str:
    return "[" + ", ".join(names or []) + "]"


def _result_text(o: Any) -> str:
    if o.failure is not None:
        return f"{o.failure} at block {o.failing_block}"
    return f"signers {_signers(o.final_signers)}"


def _expected_text(o: Any) -> str:
    return o.expected_failure if o.expected_failure is not None else f"signers {_signers(o.expected_signers)}"


def cmd_replay(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="refmodel poa replay",
        description="Replay Clique voting scenarios (go-ethereum's TestClique table as JSON) through the model's "
                    "rules; exit 0 if every scenario matches its expectation, 1 if not, 2 on bad input.")
    p.add_argument("file", metavar="FILE", help="scenario file (schema of geth_snapshot_vectors.json)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of {id, final_signers, failure, failing_block, matches}")
    p.add_argument("--mutant", metavar="NAME", help="replay with a mutant's rules (see `refmodel list mutants`)")
    args = p.parse_args(argv)

    from refmodel.model.poa.mutants import MUTANTS
    from refmodel.model.poa.replay import ScenarioError, replay_all

    if args.mutant is not None and args.mutant not in MUTANTS:
        return _fail(f"unknown poa mutant '{args.mutant}' (known: {', '.join(sorted(MUTANTS))})")
    try:
        with open(args.file, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        return _fail(f"{args.file}: cannot read: {exc.strerror}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return _fail(f"{args.file}: not valid JSON: {exc}")
    try:
        outcomes = replay_all(data, args.mutant)
    except ScenarioError as exc:
        return _fail(f"{args.file}: {exc}")

    if args.json:
        print(json.dumps([o.to_json() for o in outcomes], indent=1))
    else:
        rows = [(f"#{o.id}", o.name, _result_text(o),
                 "ok" if o.matches else f"MISMATCH: expected {_expected_text(o)}") for o in outcomes]
        widths = [max((len(r[k]) for r in rows), default=0) for k in range(3)]
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[3])
        ok = sum(o.matches for o in outcomes)
        tag = f" (mutant {args.mutant})" if args.mutant else ""
        print(f"{ok}/{len(outcomes)} scenarios match go-ethereum's expectations{tag}")
    return EXIT_MATCH if all(o.matches for o in outcomes) else EXIT_MISMATCH


USAGE = """refmodel poa <command> [options]

commands:
  replay FILE [--json] [--mutant NAME]   replay Clique voting scenarios through the model's rules
"""

COMMANDS = {"replay": cmd_replay}


def main(argv: list[str]) -> int:
    """Entry point for ``refmodel poa ...`` (dispatched from ``checkers.cli``)."""
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return EXIT_MATCH if argv else EXIT_USAGE
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        return _fail(f"unknown poa command '{argv[0]}' (known: {', '.join(COMMANDS)})")
    try:
        return cmd(argv[1:])
    except SystemExit as exc:  # argparse: --help exits 0, usage errors exit 2
        return int(exc.code or 0)
