"""consensus-refmodel: a checkable reference model of Raft and Proof-of-Authority.

Installed, everything lives under this import root: ``refmodel.model`` (the protocols), ``refmodel.invariants``
(named properties) and ``refmodel.checkers`` (the engines, renderers and command line).  This module is the
Python API for people who drive checks from their own code and tests; each function returns the engine's
plain result dataclass (the same object the command line renders)::

    import refmodel

    result = refmodel.check("raft", servers=2, max_term=2, max_log=0)
    assert result.verdict == "pass" and result.distinct_states > 0
    bug = refmodel.check("raft", servers=2, max_log=0, mutant="vote_twice")
    print(bug.violation.invariant, bug.violation.length)      # raft.election_safety 16

Bad input (an unknown protocol, bound, invariant or mutant) raises :class:`InputError` with one line naming
it.  Invariants and mutants may be named as the command line names them: ``"election_safety"``,
``"raft.log_matching"``, ``"./props.py:at_most_one_leader"``, ``"mypackage.props:no_split_brain"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from refmodel.checkers.bfs import CheckResult
    from refmodel.checkers.simulate import SimResult
    from refmodel.checkers.smt import ProofResult
    from refmodel.checkers.vectors import Suite

__all__ = ["InputError", "build", "check", "properties", "prove", "simulate", "validate_trace", "vectors"]


class InputError(ValueError):
    """Bad input (a protocol, bound, invariant, mutant or file that does not exist or does not fit): the
    message is one line naming it.  The command line prints it and exits with code 2."""


def _protocol(name: str) -> Any:
    from refmodel.model import UnknownProtocol, protocol

    try:
        return protocol(name)
    except UnknownProtocol as exc:
        raise InputError(str(exc)) from None


def _config(proto: Any, bounds: dict[str, Any]) -> Any:
    from refmodel.model.core import ConfigError

    known = {f.name for f in fields(proto.config_class)}
    unknown = sorted(set(bounds) - known)
    if unknown:
        raise InputError(f"unknown bound '{unknown[0]}' for {proto.name} (known: {', '.join(sorted(known))})")
    try:
        return proto.config_class(**bounds)
    except ConfigError as exc:
        name, _, rest = str(exc).partition(" ")
        raise InputError(f"--{name.replace('_', '-')} {rest}") from None


def build(protocol: str, *, mutant: str | None = None, **bounds: Any) -> Any:
    """The readable model (a :class:`~refmodel.model.core.TransitionSystem`) of ``protocol`` with ``bounds``
    (the configuration's fields, e.g. ``servers=3``), running ``mutant``'s rules if one is named."""
    from refmodel.model import UnknownMutant

    proto = _protocol(protocol)
    config = _config(proto, bounds)
    try:
        return proto.build(config, mutant)
    except UnknownMutant as exc:
        raise InputError(str(exc.args[0])) from None


@dataclass(frozen=True)
class _Recipe:
    """How a worker on another machine (a Ray actor) builds the model and properties of a run: plain data,
    rebuilt there by name (a user's ``PATH.py:NAME`` references are resolved from ``base`` again)."""

    protocol: str
    config: Any
    mutant: str | None
    invariants: tuple[str, ...] | None
    base: str | None

    def __call__(self) -> tuple[Any, list[Any]]:
        system = _protocol(self.protocol).build(self.config, self.mutant)
        return system.portable_engine(), properties(self.protocol, self.invariants, self.base)


def _run_partitioned(system: Any, props: list[Any], invariants: Sequence[str] | None, base: str | None, *,
                     symmetry: bool, limits: Any, deadlock: bool, progress: Any, progress_every: float,
                     workers: int, backend: str | None, ray_address: str | None, checkpoint: str | None,
                     checkpoint_every: float, resume: str | None, memory_limit: float | None) -> CheckResult:
    from importlib.metadata import PackageNotFoundError, version

    from refmodel.checkers import parallel
    from refmodel.checkers.bfs import _config_dict

    if workers < 1:
        raise InputError(f"--workers must be at least 1, not {workers}")
    backend = backend or ("processes" if workers > 1 else "inline")
    if backend not in parallel.BACKENDS:
        raise InputError(f"--backend must be one of {', '.join(parallel.BACKENDS)}, not '{backend}'")
    if ray_address and backend != "ray":
        raise InputError("--ray-address needs --backend ray")
    if memory_limit is not None and memory_limit <= 0:
        raise InputError(f"--memory-limit must be a positive number of GB, not {memory_limit}")
    if checkpoint and resume and checkpoint != resume:
        raise InputError("--resume continues the checkpoint in its own directory: give --checkpoint the same "
                         "directory or leave it out")
    try:
        ver = version("consensus-refmodel")
    except PackageNotFoundError:
        ver = "unknown"
    identity = {"protocol": system.protocol, "config": _config_dict(system.config), "mutant": system.mutant,
                "properties": sorted(p.name for p in props), "symmetry": symmetry, "deadlock": deadlock,
                "version": ver}
    opts = parallel.ParallelOptions(workers=workers, backend=backend, ray_address=ray_address,
                                    checkpoint=checkpoint or resume, checkpoint_every=checkpoint_every,
                                    resume=resume,
                                    memory_limit=None if memory_limit is None else int(memory_limit * 2**30),
                                    identity=identity)
    if backend == "ray":
        factory: Any = _Recipe(system.protocol, system.config, system.mutant,
                               None if invariants is None else tuple(invariants), base)
    else:
        def factory() -> tuple[Any, list[Any]]:
            return system.portable_engine(), props
    try:
        return parallel.check_partitioned(factory, props, opts, symmetry=symmetry, limits=limits, deadlock=deadlock,
                                          progress=progress, progress_every=progress_every)
    except (parallel.CheckpointError, parallel.BackendUnavailable) as exc:
        raise InputError(str(exc)) from None


def properties(protocol: str, invariants: Sequence[str] | None = None, base: str | None = None) -> list[Any]:
    """The properties named (default: the protocol's default set), resolved as :func:`check` resolves them;
    ``PATH.py:NAME`` references relative to ``base`` (default: the current directory)."""
    import refmodel.invariants as inv

    if isinstance(invariants, str):
        invariants = [invariants]
    try:
        return inv.resolve(protocol, invariants, base) if invariants else inv.defaults(protocol)
    except inv.UnknownProperty as exc:
        raise InputError(str(exc.args[0])) from None


def check(protocol: str, *, invariants: Sequence[str] | None = None, mutant: str | None = None,
          symmetry: bool = False, max_states: int | None = None, max_depth: int | None = None,
          time_limit: float | None = None, graph: bool = False,
          progress: Callable[[Any], None] | None = None, progress_every: float = 1.0,
          deadlock: bool | None = None, liveness: Sequence[str] = (), fairness: Sequence[str] = (),
          workers: int = 1, backend: str | None = None, ray_address: str | None = None,
          checkpoint: str | None = None, checkpoint_every: float = 0.0, resume: str | None = None,
          memory_limit: float | None = None, **bounds: Any) -> CheckResult:
    """Model-check ``protocol`` breadth-first within ``bounds`` (e.g. ``servers=3, max_term=2``).

    Returns the :class:`~refmodel.checkers.bfs.CheckResult`: ``verdict`` (``pass``, ``violation``,
    ``incomplete``, ``deadlock``), ``distinct_states``, ``generated_states``, ``depth``, ``tlc_depth``,
    ``violation`` (the shortest counterexample), ``liveness`` (one result per liveness property, with a lasso
    when violated) and, with ``graph=True``, the state graph as a networkx ``DiGraph``.

    ``deadlock``: whether a state with no enabled action is an error (default: the protocol's: on for poa, as
    TLC; off for raft, where Restart is always enabled, and for etcdraft, as MCetcdraft.cfg says).
    ``liveness``: names of liveness properties (``<>P``, ``[]<>P``, ``P ~> Q``), checked under the ``fairness``
    assumptions (``wf:Action``, ``sf:Action``, ``wf:Action[*]`` per instance).  ``workers``, ``backend``,
    ``ray_address``, ``checkpoint``, ``checkpoint_every``, ``resume``, ``memory_limit``: see :func:`run_check`."""
    system = build(protocol, mutant=mutant, **bounds)
    return run_check(system, invariants=invariants, symmetry=symmetry, max_states=max_states, max_depth=max_depth,
                     time_limit=time_limit, graph=graph, progress=progress, progress_every=progress_every,
                     deadlock=deadlock, liveness=liveness, fairness=fairness, workers=workers, backend=backend,
                     ray_address=ray_address, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                     resume=resume, memory_limit=memory_limit)


def run_check(system: Any, *, invariants: Sequence[str] | None = None, symmetry: bool = False,
              max_states: int | None = None, max_depth: int | None = None, time_limit: float | None = None,
              graph: bool = False, progress: Callable[[Any], None] | None = None, progress_every: float = 1.0,
              deadlock: bool | None = None, liveness: Sequence[str] = (), fairness: Sequence[str] = (),
              base: str | None = None, workers: int = 1, backend: str | None = None,
              ray_address: str | None = None, checkpoint: str | None = None, checkpoint_every: float = 0.0,
              resume: str | None = None, memory_limit: float | None = None) -> CheckResult:
    """:func:`check` on a model already built (``refmodel.build``); ``base`` is where relative
    ``PATH.py:NAME`` references resolve.

    ``workers``/``backend`` (``processes``, ``ray``, ``inline``)/``ray_address``: a partitioned search
    (:mod:`refmodel.checkers.parallel`) with the same figures; ``checkpoint`` (a directory, written at level
    boundaries, at most every ``checkpoint_every`` seconds), ``resume`` (continue from one) and
    ``memory_limit`` (GB: stop with verdict ``incomplete`` and a checkpoint before going over) use it too,
    with one worker if no more are asked for."""
    import refmodel.invariants as inv
    from refmodel.checkers.bfs import Limits
    from refmodel.checkers.bfs import check as bfs

    props = properties(system.protocol, invariants, base)
    if symmetry and not system.has_symmetry():
        raise InputError(f"{system.protocol} with this configuration has no symmetry to reduce by")
    try:
        live = inv.resolve_liveness(system.protocol, liveness, base) if liveness else []
    except inv.UnknownProperty as exc:
        raise InputError(str(exc.args[0])) from None
    if fairness and not live:
        raise InputError("--fairness is an assumption of liveness properties: name one with --liveness")
    if live or fairness:  # the liveness checker is imported only when it is used
        from refmodel.checkers.liveness import Fairness, check_liveness
    try:
        fair = [Fairness.parse(f, system.action_names()) for f in fairness]
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if live and symmetry:
        raise InputError("liveness is checked without --symmetry: a cycle between orbit representatives need "
                         "not be a cycle of the model")
    if deadlock is None:
        deadlock = _protocol(system.protocol).check_deadlock
    limits = Limits(max_states=max_states, max_depth=max_depth, time_limit=time_limit)
    if checkpoint_every and not (checkpoint or resume or memory_limit is not None):
        raise InputError("--checkpoint-every says how often to write a checkpoint: name its directory with "
                         "--checkpoint DIR")
    if workers > 1 or backend is not None or ray_address or checkpoint or resume or memory_limit is not None:
        if live or graph:
            raise InputError(f"{'--liveness' if live else '--graph'} needs the whole graph in one process: "
                             "it does not combine with --workers, --checkpoint, --resume or --memory-limit")
        return _run_partitioned(system, props, invariants, base, symmetry=symmetry, limits=limits,
                                deadlock=deadlock, progress=progress, progress_every=progress_every,
                                workers=workers, backend=backend, ray_address=ray_address, checkpoint=checkpoint,
                                checkpoint_every=checkpoint_every, resume=resume, memory_limit=memory_limit)
    engine = system.engine()
    result = bfs(engine, props, symmetry=symmetry, limits=limits, graph=graph, progress=progress,
                 progress_every=progress_every, deadlock=deadlock, transitions=bool(live))
    if live and result.verdict == "pass":  # on the very engine that encoded the states
        result.liveness = [check_liveness(engine, result.transitions, p, fair) for p in live]
        if any(not r.holds for r in result.liveness):
            result.verdict = "violation"
    elif live and result.verdict == "incomplete":
        result.incomplete_reason = (result.incomplete_reason or "") + "; liveness needs the whole graph: not checked"
    return result



def simulate(protocol: str, *, runs: int = 100, steps: int = 100, seed: int = 0, swarm: bool = False,
             invariants: Sequence[str] | None = None, mutant: str | None = None, **bounds: Any) -> SimResult:
    """Random walks through ``protocol`` within ``bounds`` (TLC's simulation mode), reproducible by ``seed``;
    returns the :class:`~refmodel.checkers.simulate.SimResult`."""
    from refmodel.checkers.simulate import simulate as walk

    system = build(protocol, mutant=mutant, **bounds)
    result = walk(system.engine(), properties(system.protocol, invariants), runs=runs, steps=steps, seed=seed,
                  swarm=swarm)
    return result


def symbolic_model(protocol: str, *, servers: int = 3, mutant: str | None = None, max_log: int = 2,
                   values: int | None = None, max_term: int = 3, candidates: int = 1, epoch: int = 3,
                   threshold: str = "majority", proposer_rule: str = "clique", max_height: int = 6) -> Any:
    """The abstract model of ``protocol`` (``raft`` or ``poa``) that Z3 reasons about (see ``refmodel prove``)."""
    from refmodel.model.core import ConfigError

    try:
        if protocol == "raft":
            from refmodel.model.raft.abstract import AbstractRaftConfig
            from refmodel.model.raft.symbolic import RaftSymbolic

            cfg = AbstractRaftConfig(servers=servers, max_log=max_log, values=values or 1, max_term=max_term)
            return RaftSymbolic(cfg, mutant, values=values)
        if protocol == "poa":
            from refmodel.model.poa.abstract import AbstractCliqueConfig
            from refmodel.model.poa.symbolic import CliqueSymbolic

            cfg = AbstractCliqueConfig(signers=servers, candidates=candidates, epoch=epoch, threshold=threshold,
                                       proposer_rule=proposer_rule, max_height=max_height)
            return CliqueSymbolic(cfg, mutant)
    except ConfigError as exc:
        name, _, rest = str(exc).partition(" ")
        raise InputError(f"--{name.replace('_', '-')} {rest}") from None
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    raise InputError(f"prove knows raft and poa, not '{protocol}'")


def prove(protocol: str, *, invariants: Sequence[str] | None = None, bmc: int | None = None,
          timeout: float | None = None, symmetry: bool = True, **options: Any) -> ProofResult:
    """Prove with Z3 that the named invariants (default: the shipped inductive set) are inductive for the
    abstract model of ``protocol`` (``options``: ``servers``, ``max_log``, ``mutant`` ...), or, with
    ``bmc=K``, search for a violation within K steps; returns the :class:`~refmodel.checkers.smt.ProofResult`
    (``verdict``: ``proved``, ``counterexample`` or ``unknown``)."""
    from refmodel.checkers import smt

    if bmc is not None and options.get("values") is None:
        options["values"] = 1  # bounded model checking enumerates values: v1 unless told otherwise
    model = symbolic_model(protocol, **options)
    try:
        names = smt.resolve(model, invariants)
    except smt.UsageError as exc:
        raise InputError(str(exc)) from None
    if bmc is not None:
        return smt.bmc(model, invariants or model.safety, bmc, timeout=timeout, constrained=True)
    return smt.prove(model, names, timeout=timeout, symmetry=symmetry)


def validate_trace(path: str, model: str = "etcdraft", *, max_events: int | None = None,
                   invariants: bool = True, mutant: str | None = None) -> Any:
    """Validate an implementation's recorded trace (for ``etcdraft``: etcd-io/raft's ndjson trace format)
    against the model, as ``refmodel trace validate`` does; returns the
    :class:`~refmodel.checkers.trace_validate.TraceResult` (``verdict`` ``valid`` or ``invalid``, ``line``,
    ``event`` and the mismatch on an invalid trace; ``warnings``, what the spec does not compare).  ``mutant``:
    against that mutant's rules.  Malformed input raises :class:`InputError`."""
    import importlib

    from refmodel.checkers.trace_validate import validate
    from refmodel.model import PROTOCOL_MODULES

    module = PROTOCOL_MODULES.get(model)
    try:
        mod = importlib.import_module(f"{module}.trace") if module else None
    except ModuleNotFoundError:
        mod = None
    if mod is None or not hasattr(mod, "parse_trace"):
        raise InputError(f"no trace validation for model '{model}'")
    try:
        events = mod.parse_trace(path, max_events=max_events)
    except mod.TraceInputError as exc:
        raise InputError(str(exc)) from None
    if mutant is not None:
        try:
            mapping = mod.mapping(events, mod.mutant_rules(mutant))
        except (AttributeError, KeyError):
            raise InputError(f"unknown {model} mutant '{mutant}'") from None
    else:
        mapping = mod.mapping(events)
    res = validate(mapping, events, check=mod.invariant_checker(mapping) if invariants else None)
    res.warnings = mod.trace_notes(events, str(path)) if hasattr(mod, "trace_notes") else []
    return res


#: what ``vectors(format=...)`` knows: ITF traces for every protocol, go-ethereum's table for Clique, etcd's
#: trace schema for etcdraft
VECTOR_FORMATS = ("itf", "geth", "etcd")


def vectors(protocol: str, *, cover: str = "branches", format: str = "itf", seed: int = 0,
            max_steps: int | None = None, kill: bool = True, progress: Callable[[str, int, int], None] | None = None,
            **bounds: Any) -> Suite:
    """Conformance vectors of ``protocol`` within ``bounds`` (``refmodel vectors``): few traces from the initial
    states that cover every action, branch of the rules or transition (``cover``), each shipped mutant replayed
    against them (and, with ``kill``, the shortest vector that tells apart one no covering vector kills).

    Returns the :class:`~refmodel.checkers.vectors.Suite` (``vectors``, the figures, ``mutants``); write it with
    ``refmodel.checkers.report.vectors.write_itf_suite`` (``format="itf"``), for ``format="geth"``
    ``refmodel.model.poa.vectors.scenario_document``, for ``format="etcd"``
    ``refmodel.model.etcdraft.trace_out.vector_lines`` (``suite.source`` is the view the vectors walk; every
    vector has been validated as ``refmodel trace validate`` does: ``suite.format_check``)."""
    from refmodel.checkers.bfs import check as bfs
    from refmodel.checkers.vectors import StepOracle, VectorError, build_suite

    proto = _protocol(protocol)
    config = _config(proto, bounds)
    if format not in VECTOR_FORMATS:
        raise InputError(f"unknown vector format '{format}' (known: {', '.join(VECTOR_FORMATS)})")
    if format == "etcd" and proto.name != "etcdraft":
        raise InputError(f"--format etcd is etcd-io/raft's trace schema: for etcdraft, not {proto.name}")
    if format == "geth":
        if proto.name != "poa":
            raise InputError(f"--format geth is go-ethereum's Clique table: for poa, not {proto.name}")
        from refmodel.model.poa.vectors import CliqueChain, geth_oracles

        try:
            system: Any = CliqueChain(config)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        oracles: list[Any] = geth_oracles(system)
    else:
        system = proto.build(config, None)
        oracles = [StepOracle(name, system, proto.build(config, name)) for name in proto.mutants]
    engine = system.engine()
    explore = None if progress is None else (lambda p: progress("exploring (states)", p.distinct,
                                                                p.distinct + p.queue))
    explored = bfs(engine, [], graph="labelled", progress=explore, progress_every=0.5)
    view = None
    if format == "etcd":  # the graph as etcd's trace can show it, and the mutants judged by trace validation
        from refmodel.checkers.trace_validate import validate
        from refmodel.model.etcdraft.trace_out import EtcdView, etcd_oracles

        if explored.graph is not None and explored.verdict == "pass":
            view = EtcdView(engine, explored)
            engine, explored = view.engine, view.result
            oracles = etcd_oracles(view, validate)
    try:
        suite = build_suite(engine, explored, cover=cover, seed=seed, max_steps=max_steps, oracles=oracles,
                            kill=kill, final_outcome_only=format == "geth", progress=progress)
    except VectorError as exc:
        raise InputError(str(exc)) from None
    if format == "geth":  # what the chain exploration reads of the configuration
        suite.config = {k: suite.config[k] for k in system.BOUNDS}
    if view is not None:
        suite.source = view
        suite.format_check = _check_etcd_vectors(suite, view)
    return suite


def _check_etcd_vectors(suite: Suite, view: Any) -> dict[str, Any]:
    """Each etcd vector validated against the model as ``refmodel trace validate`` does it."""
    import time

    from refmodel.checkers.trace_validate import validate
    from refmodel.model.etcdraft.trace import invariant_checker, mapping, parse_lines
    from refmodel.model.etcdraft.trace_out import vector_lines

    t0 = time.perf_counter()
    rejected = []
    lines_total = 0
    for k, v in enumerate(suite.vectors):
        lines, _ = vector_lines(view, v.nodes, v.aids)
        lines_total += len(lines)
        events = parse_lines(lines, f"vector {k}")
        m = mapping(events)
        res = validate(m, events, check=invariant_checker(m))
        if res.verdict != "valid":
            why = res.invariant or (res.mismatch.describe() if res.mismatch else "")
            rejected.append({"vector": k, "line": res.line, "why": why})
    return {"check": "refmodel trace validate --model etcdraft", "traces": len(suite.vectors),
            "lines": lines_total, "accepted": len(suite.vectors) - len(rejected), "rejected": rejected,
            "validate_s": time.perf_counter() - t0}
