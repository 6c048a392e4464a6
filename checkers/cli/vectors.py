"""``refmodel vectors <protocol> [bounds] --cover actions|branches|edges --out PATH [--format itf|geth|etcd]
[--max N] [--seed S] [--mutants] [--json]``: conformance vectors generated from the model.

Explores the bounded state graph (breadth first, as ``refmodel check``), computes a small set of traces from
the initial states that covers every action, every branch of the rules or every transition
(``checkers/vectors.py``), checks that the suite kills every shipped mutant (adding, for a mutant none of the
covering traces kills, the shortest trace that tells it apart), and writes it:

* ``--format itf`` (default, every protocol): a directory with one ITF trace per vector
  (``vector_0000.itf.json`` ...), each state with its expected value, the action taken and its parameters,
  and in its ``#meta`` the action instances enabled there; plus ``suite.json``, the index and figures.
  ``refmodel replay DIR`` re-checks them all.
* ``--format etcd`` (``etcdraft``): a directory with one etcd-io/raft ndjson trace per vector
  (``vector_0000.ndjson`` ...) and ``suite.json``; each one is validated before it is written, and
  ``refmodel trace validate FILE --model etcdraft`` accepts it (``model/etcdraft/trace_out.py``).
* ``--format geth`` (``poa``): one JSON file of scenarios in go-ethereum's ``TestClique`` schema, drawn from
  the chains of blocks any account may seal (``model/poa/vectors.py``); ``refmodel poa replay FILE``
  re-checks them.

Exit codes: 0 every reachable item is covered (and, with ``--mutants``, every mutant is killed), 1 with
``--mutants``: some mutant survives (or a generated etcd trace fails validation: a bug), 2 usage or input error,
3 some reachable item lies beyond ``--max``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from typing import Any

from refmodel.checkers.cli.common import (
    EXIT_INCOMPLETE,
    EXIT_PASS,
    EXIT_VIOLATION,
    InputError,
    _nonneg_int,
    build_config,
    number_arg,
    protocol_parser,
)

FORMATS = ("itf", "geth", "etcd")


def _parser(proto: Any) -> argparse.ArgumentParser:
    p = protocol_parser(proto, f"refmodel vectors {proto.name}", run_options=False)
    p.description = (f"Generate conformance vectors for {proto.description}: a small set of traces from the "
                     "initial states that covers every action, branch or transition of the bounded state graph, "
                     "with the expected outcome of every step.")
    g = p.add_argument_group("vectors")
    g.add_argument("--cover", choices=("actions", "branches", "edges"), default="branches",
                   help="what the traces must cover together: every action, every branch of the rules (default), "
                        "or every transition of the bounded state graph")
    g.add_argument("--out", metavar="PATH", required=True,
                   help="where to write: a directory of ITF traces (--format itf) or of etcd traces (--format etcd), a "
                        "JSON file (--format geth)")
    g.add_argument("--format", choices=FORMATS, default="itf",
                   help="itf (default, every protocol): one ITF trace per vector; geth (poa): go-ethereum's "
                        "TestClique schema; etcd (etcdraft): one etcd-io/raft ndjson trace per vector")
    g.add_argument("--max", type=number_arg(int, 1), metavar="N", dest="max_steps",
                   help="no vector longer than N steps (items out of reach are reported; exit 3)")
    g.add_argument("--seed", type=_nonneg_int, default=0, metavar="S",
                   help="break ties between equally near items by a permutation drawn from S (default 0: the "
                        "exploration's order); the same seed gives the same vectors")
    g.add_argument("--mutants", action="store_true",
                   help="print the table mutant -> first failing vector, and exit 1 if a mutant survives")
    g.add_argument("--no-kill", dest="kill", action="store_false",
                   help="do not add vectors for mutants that the covering vectors do not kill")
    g.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    g.add_argument("--progress", choices=("auto", "off", "jsonl"), default="auto",
                   help="progress on stderr: a live line on a terminal (auto), none (off), JSON lines (jsonl)")

    if proto.name == "poa":
        p.epilog = ("--format geth explores chains of blocks (model/poa/vectors.py) and reads only --signers, "
                    "--candidates, --intruders (outsiders, at least one), --max-height, --epoch and --threshold; "
                    "--format itf covers the network model (every bound applies).")

    def one_line(message: str) -> None:  # argparse's usage errors, as one line like every other input error
        raise InputError(f"vectors {proto.name}: {message} (see refmodel vectors {proto.name} -h)")

    p.error = one_line  # type: ignore[method-assign]
    return p


def _reporter(mode: str) -> Any:
    if mode == "off" or (mode == "auto" and not sys.stderr.isatty()):
        return None
    t0 = time.perf_counter()
    last = [0.0]

    def report(phase: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] < (2.0 if mode == "jsonl" else 0.5) and done < total:
            return
        last[0] = now
        if mode == "jsonl":
            print(json.dumps({"phase": phase, "done": done, "total": total, "elapsed_s": round(now - t0, 2)}),
                  file=sys.stderr, flush=True)
        else:
            sys.stderr.write(f"\r  {phase}: {done:,}/{total:,}  {now - t0:.0f}s \x1b[K")
            sys.stderr.flush()
    return report


def _explore_progress(report: Any) -> Any:
    if report is None:
        return None
    return lambda p: report("exploring (states)", p.distinct, p.distinct + p.queue)


def _recorded_command(argv: Sequence[str]) -> str:
    """The command as the output records it: without where it was written and how it was shown (--out,
    --json, --mutants, --progress), so that the same vectors are the same bytes wherever they are written."""
    keep, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        name = a.split("=", 1)[0]
        if name in ("--out", "--progress") and "=" not in a:
            skip = True
            continue
        if name in ("--out", "--progress", "--json", "--mutants"):
            continue
        keep.append(a)
    return "refmodel vectors " + " ".join(shlex.quote(a) for a in keep)


def cli_main(argv: Sequence[str]) -> int:
    from refmodel.model import UnknownProtocol, protocol

    argv = list(argv)
    if not argv or argv[0].startswith("-"):
        if argv and argv[0] in ("-h", "--help"):
            print(__doc__.split("\n\n")[0].replace("``", "") + "\n\nrefmodel vectors <protocol> -h for the "
                  "options of a protocol (raft, poa, etcdraft)")
            return EXIT_PASS
        raise InputError("vectors needs a protocol: refmodel vectors raft|poa|etcdraft [bounds] --out PATH")
    try:
        proto = protocol(argv[0])
    except UnknownProtocol as exc:
        raise InputError(str(exc)) from None
    args = _parser(proto).parse_args(argv[1:])
    bounds = {k: v for k, v in vars(args).items() if k in proto.config_class.__dataclass_fields__}
    cfg = build_config(proto, bounds)
    command = _recorded_command(argv)
    report = _reporter(args.progress)
    import refmodel

    t0 = time.perf_counter()
    bounds = {k: getattr(cfg, k) for k in proto.config_class.__dataclass_fields__}
    suite = refmodel.vectors(proto.name, cover=args.cover, format=args.format, seed=args.seed,
                             max_steps=args.max_steps, kill=args.kill, progress=report, **bounds)
    if report is not None and args.progress == "auto":
        sys.stderr.write("\r\x1b[K")
    from refmodel.checkers.report.vectors import mutants_text, summary_json, summary_text

    try:
        if args.format == "geth":
            from refmodel.model.poa.vectors import scenario_document

            doc = scenario_document(suite, command, summary_json(suite))
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(doc, indent=1) + "\n")
            names = [f"#{sc['id']} {sc['name']}" for sc in doc["scenarios"]]
        elif args.format == "etcd":
            from refmodel.checkers.report.vectors import write_text_suite
            from refmodel.model.etcdraft.trace_out import vector_file

            files = [vector_file(suite.source, v, k, len(suite.vectors)) for k, v in enumerate(suite.vectors)]
            names = write_text_suite(suite, args.out, files, command, "vector_*.ndjson",
                                     "etcd-io/raft ndjson traces, one per file, for refmodel trace validate")
        else:
            from refmodel.checkers.report.vectors import write_itf_suite

            names = write_itf_suite(suite, suite.explored, args.out, command)
    except OSError as exc:
        raise InputError(f"{args.out}: cannot write: {exc.strerror}") from None
    elapsed = time.perf_counter() - t0
    survivors = [r.mutant for r in suite.mutants if r.vector is None]
    if args.json:
        out = summary_json(suite)
        out["out"] = args.out
        out["format"] = args.format
        print(json.dumps(out, indent=1))
    else:
        print(summary_text(suite))
        if args.mutants:
            print()
            print(mutants_text(suite, names))
        what = {"geth": "scenarios", "etcd": "etcd traces"}.get(args.format, "ITF traces")
        print(f"wrote {len(suite.vectors)} {what} to {args.out}")
    if report is not None or args.progress == "jsonl":
        t = suite.timings
        print(f"refmodel vectors: explored in {t['explore_s']:.1f}s, covered in {t['cover_s']:.1f}s, mutants in "
              f"{t['mutants_s']:.1f}s, {elapsed:.1f}s in all", file=sys.stderr)
    if suite.format_check and suite.format_check["rejected"]:
        print(f"refmodel vectors: {len(suite.format_check['rejected'])} generated trace(s) rejected by the "
              "validator (a bug: please report)", file=sys.stderr)
        return EXIT_VIOLATION
    if suite.beyond_max:
        return EXIT_INCOMPLETE
    if args.mutants and survivors:
        return EXIT_VIOLATION
    return EXIT_PASS
