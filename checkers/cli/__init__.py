"""``refmodel``: the command line.

Exit codes: 0 pass (or every spec as expected), 1 violation (or a spec not as expected), 2 usage or input
error, 3 incomplete (a limit stopped the run).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from refmodel.checkers.cli.common import (  # noqa: F401 - shared by every sub-command
    EXIT_INCOMPLETE,
    EXIT_PASS,
    EXIT_USAGE,
    EXIT_VIOLATION,
    InputError,
    _flag,
    _nonneg_float,
    _nonneg_int,
    build_config,
    number_arg,
    protocol_parser,
)

USAGE = """refmodel <command> [options]

commands:
  check [SPEC ...]            run spec files (default: every specs/*.toml), compare with expectations
  check <protocol> [options]  model-check a protocol with explicit bounds (see `refmodel check raft -h`)
  simulate <protocol> [options]
                              random walks within the bounds, reproducible by --seed
  prove raft|poa|quorum [options]
                              Z3: inductive proofs, bounded model checking (--bmc K), quorum lemmas
  replay FILE.itf.json|DIR ...
                              check that every step of an ITF trace is a transition of the model
  vectors <protocol> [options] --cover actions|branches|edges --out PATH [--format itf|geth|etcd]
                              conformance vectors: few traces covering every action, branch or transition,
                              with each step's expected outcome; --mutants: mutant -> first failing vector
  graph-stats <protocol> [options] | FILE
                              state-graph statistics (nodes, edges, SCCs, deadlocks, states per level)
  poa replay FILE             replay go-ethereum's Clique voting scenarios through the model's rules
  trace validate FILE.ndjson --model etcdraft
                              validate an implementation's recorded trace (etcd's format) against the model
  list [models|invariants|mutants]
                              what can be checked
  (each command has -h)

exit codes: 0 pass, 1 violation (or a spec not as expected), 2 usage or input error, 3 incomplete
"""

#: sub-commands beyond `check`: a function, or "module:function" imported on use (other modules add theirs)
COMMANDS: dict[str, Any] = {
    "list": "refmodel.checkers.cli.check:cmd_list",
    "poa": "refmodel.checkers.cli.poa:main",  # refmodel poa replay FILE
    "prove": "refmodel.checkers.cli.prove:cli_main",  # refmodel prove raft|poa
    "simulate": "refmodel.checkers.cli.simulate:cli_main",  # refmodel simulate raft|poa
    "replay": "refmodel.checkers.cli.replay:cli_main",  # refmodel replay FILE.itf.json
    "graph-stats": "refmodel.checkers.cli.graph_stats:cli_main",  # refmodel graph-stats raft ...
    "trace": "refmodel.checkers.cli.trace:cli_main",  # refmodel trace validate FILE --model etcdraft
    "vectors": "refmodel.checkers.cli.vectors:cli_main",  # refmodel vectors raft|poa ... --out PATH
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
            from refmodel.checkers.cli import check

            if rest and rest[0] in PROTOCOL_MODULES:
                return check.cmd_check_protocol(rest[0], rest[1:])
            return check.cmd_check_specs(rest)
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
