"""``refmodel prove raft|poa|quorum``: Z3 proofs of inductive invariants, bounded model checking (``--bmc K``)
and the quorum lemmas.

Verdicts ``proved`` (exit 0), ``counterexample`` (1), ``unknown`` (3: the solver ran out of time); usage
errors exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys

import refmodel

from refmodel.checkers.cli import EXIT_USAGE, _nonneg_int, number_arg
from refmodel.checkers.report.smt import dumps, text
from refmodel.checkers.smt import SymbolicModel, UsageError, bmc, prove, quorum_lemmas, resolve

EXIT_PROVED, EXIT_COUNTEREXAMPLE, EXIT_UNKNOWN = 0, 1, 3
VERDICT_EXIT = {"proved": EXIT_PROVED, "counterexample": EXIT_COUNTEREXAMPLE, "unknown": EXIT_UNKNOWN}



def symbolic_model(protocol: str, args: argparse.Namespace) -> SymbolicModel:
    """The symbolic model named on the command line (built by :func:`refmodel.symbolic_model`)."""
    try:
        return refmodel.symbolic_model(protocol, servers=args.servers, mutant=args.mutant, max_log=args.max_log,
                                       values=args.values, max_term=args.max_term, candidates=args.candidates,
                                       epoch=args.epoch, threshold=args.threshold,
                                       proposer_rule=args.proposer_rule, max_height=args.max_height)
    except refmodel.InputError as exc:
        raise UsageError(str(exc)) from None


_positive = number_arg(int, 1)
_seconds = number_arg(float, 0, strict=True)


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (``refmodel prove: error: ...``), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="refmodel prove",
        description="Prove invariants of the abstract Raft or Clique model with Z3: inductive for a fixed "
                    "cluster size and unbounded terms/heights (default), or bounded model checking (--bmc K).",
        epilog="exit codes: 0 proved, 1 counterexample, 2 usage error, 3 unknown (solver timeout)")
    p.add_argument("protocol", choices=("raft", "poa", "quorum"),
                   help="raft: message-free Raft; poa: Clique voting; quorum: the quorum lemmas for every "
                        "cluster size up to --servers")
    p.add_argument("--servers", type=_positive, default=3, metavar="N",
                   help="raft: servers; poa: initial signers (default 3)")
    p.add_argument("--invariant", action="append", metavar="NAME",
                   help="prove this invariant (repeatable; default: the shipped inductive set); "
                        "`--list` shows the names")
    p.add_argument("--bmc", type=_nonneg_int, metavar="K",
                   help="bounded model checking to depth K instead of induction")
    p.add_argument("--mutant", metavar="NAME", help="a buggy variant of the abstract model (see --list)")
    p.add_argument("--timeout", type=_seconds, metavar="S", help="give the solver at most S seconds in all "
                   "(verdict unknown beyond)")
    p.add_argument("--no-symmetry", dest="symmetry", action="store_false",
                   help="check every action instance, not one per symmetry class")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--full", action="store_true", help="show whole states in counterexamples")
    p.add_argument("--list", action="store_true", help="list the invariants and mutants, then exit")
    g = p.add_argument_group("raft")
    g.add_argument("--max-log", type=_nonneg_int, default=2, metavar="L", help="log length bound (default 2)")
    g.add_argument("--values", type=_positive, metavar="K",
                   help="client values v1..vK (default: any value, symbolically)")
    g.add_argument("--max-term", type=_positive, default=3, metavar="T",
                   help="with --bmc: keep every term <= T, as BFS does (default 3; induction ignores it)")
    g = p.add_argument_group("poa")
    g.add_argument("--candidates", type=_nonneg_int, default=1, metavar="C",
                   help="identities that are not signers at genesis (default 1)")
    g.add_argument("--epoch", type=_positive, default=3, metavar="E", help="epoch length (default 3)")
    g.add_argument("--threshold", choices=("majority", "two_thirds"), default="majority")
    g.add_argument("--proposer-rule", choices=("clique", "round_robin"), default="clique")
    g.add_argument("--max-height", type=_positive, default=6, metavar="H",
                   help="with --bmc: keep every height <= H, as BFS does (default 6; induction ignores it)")
    return p


def cli_main(argv: list[str]) -> int:
    """``refmodel prove ...``; see :func:`parser`."""
    try:
        args = parser().parse_args(argv)
        if args.protocol == "quorum":
            return _cli_lemmas(args)
        if args.bmc is not None and args.values is None:
            args.values = 1  # bounded model checking enumerates values: v1 unless told otherwise
        model = symbolic_model(args.protocol, args)
        if args.list:
            for n, e in model.encodings.items():
                enc = f" (encodes {e.encodes})" if e.encodes else ""
                print(f"{n} [{e.role}, {e.kind}]{enc}: {_summary(e.doc)}")
            from refmodel.model.poa.abstract import MUTANTS as PM
            from refmodel.model.raft.abstract import MUTANTS as RM

            for name, m in (RM if args.protocol == "raft" else PM).items():
                print(f"mutant {name}: {m.description}")
            return EXIT_PROVED
        names = resolve(model, args.invariant)
        if args.bmc is not None:
            r = bmc(model, args.invariant or model.safety, args.bmc, timeout=args.timeout, constrained=True)
        else:
            r = prove(model, names, timeout=args.timeout, symmetry=args.symmetry)
    except UsageError as exc:
        print(f"refmodel prove: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:
        return int(exc.code or 0)
    print(dumps(r) if args.json else text(r, full=args.full))
    return VERDICT_EXIT[r.verdict]


def _summary(doc: str) -> str:
    """A docstring's first paragraph on one line, as ``refmodel list`` shows invariants (docstrings wrap
    mid-sentence)."""
    return " ".join(doc.split("\n\n")[0].split())


def _cli_lemmas(args: argparse.Namespace) -> int:
    rows = [lemma for n in range(1, args.servers + 1) for lemma in quorum_lemmas(n, args.timeout)]
    ok = all(lemma.proved for lemma in rows)
    if args.json:
        print(json.dumps({"verdict": "proved" if ok else "counterexample",
                          "lemmas": [{"name": x.name, "n": x.n, "statement": x.statement, "proved": x.proved,
                                      "seconds": round(x.seconds, 4)} for x in rows]}, indent=1))
    else:
        names = list(dict.fromkeys(x.name for x in rows))
        print("quorum lemmas (Z3), N = 1.." + str(args.servers) + ":")
        for name in names:
            mine = [x for x in rows if x.name == name]
            bad = [x.n for x in mine if not x.proved]
            print(f"  {name}: {mine[-1].statement}: " + ("proved for every N" if not bad else f"FAILS for N = {bad}"))
        print(f"verdict: {'PROVED' if ok else 'COUNTEREXAMPLE'} ({sum(x.seconds for x in rows):.2f}s)")
    return EXIT_PROVED if ok else EXIT_COUNTEREXAMPLE
