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
from dataclasses import fields
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
          **bounds: Any) -> CheckResult:
    """Model-check ``protocol`` breadth-first within ``bounds`` (e.g. ``servers=3, max_term=2``).

    Returns the :class:`~refmodel.checkers.bfs.CheckResult`: ``verdict`` (``pass``, ``violation``,
    ``incomplete``, ``deadlock``), ``distinct_states``, ``generated_states``, ``depth``, ``tlc_depth``,
    ``violation`` (the shortest counterexample), ``liveness`` (one result per liveness property, with a lasso
    when violated) and, with ``graph=True``, the state graph as a networkx ``DiGraph``.

    ``deadlock``: whether a state with no enabled action is an error (default: the protocol's: on for poa, as
    TLC; off for raft, where Restart is always enabled, and for etcdraft, as MCetcdraft.cfg says).
    ``liveness``: names of liveness properties (``<>P``, ``[]<>P``, ``P ~> Q``), checked under the ``fairness``
    assumptions (``wf:Action``, ``sf:Action``, ``wf:Action[*]`` per instance)."""
    system = build(protocol, mutant=mutant, **bounds)
    return run_check(system, invariants=invariants, symmetry=symmetry, max_states=max_states, max_depth=max_depth,
                     time_limit=time_limit, graph=graph, progress=progress, progress_every=progress_every,
                     deadlock=deadlock, liveness=liveness, fairness=fairness)


def run_check(system: Any, *, invariants: Sequence[str] | None = None, symmetry: bool = False,
              max_states: int | None = None, max_depth: int | None = None, time_limit: float | None = None,
              graph: bool = False, progress: Callable[[Any], None] | None = None, progress_every: float = 1.0,
              deadlock: bool | None = None, liveness: Sequence[str] = (), fairness: Sequence[str] = (),
              base: str | None = None) -> CheckResult:
    """:func:`check` on a model already built (``refmodel.build``); ``base`` is where relative
    ``PATH.py:NAME`` references resolve."""
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
                   invariants: bool = True) -> Any:
    """Validate an implementation's recorded trace (for ``etcdraft``: etcd-io/raft's ndjson trace format)
    against the model, as ``refmodel trace validate`` does; returns the
    :class:`~refmodel.checkers.trace_validate.TraceResult` (``verdict`` ``valid`` or ``invalid``, ``line``,
    ``event`` and the mismatch on an invalid trace).  Malformed input raises :class:`InputError`."""
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
    mapping = mod.mapping(events)
    return validate(mapping, events, check=mod.invariant_checker(mapping) if invariants else None)


#: what ``vectors(format=...)`` knows: ITF traces for every protocol, go-ethereum's table for Clique
VECTOR_FORMATS = ("itf", "geth", "etcd")


def vectors(protocol: str, *, cover: str = "branches", format: str = "itf", seed: int = 0,
            max_steps: int | None = None, kill: bool = True, progress: Callable[[str, int, int], None] | None = None,
            **bounds: Any) -> Suite:
    """Conformance vectors of ``protocol`` within ``bounds`` (``refmodel vectors``): few traces from the initial
    states that cover every action, branch of the rules or transition (``cover``), each shipped mutant replayed
    against them (and, with ``kill``, the shortest vector that tells apart one no covering vector kills).

    Returns the :class:`~refmodel.checkers.vectors.Suite` (``vectors``, the figures, ``mutants``); write it with
    ``refmodel.checkers.report.vectors.write_itf_suite`` (``format="itf"``) or, for ``format="geth"``,
    ``refmodel.model.poa.vectors.scenario_document``."""
    from refmodel.checkers.bfs import check as bfs
    from refmodel.checkers.vectors import StepOracle, VectorError, build_suite

    proto = _protocol(protocol)
    config = _config(proto, bounds)
    if format not in VECTOR_FORMATS:
        raise InputError(f"unknown vector format '{format}' (known: {', '.join(VECTOR_FORMATS)})")
    if format == "etcd":
        raise InputError("--format etcd (vectors in etcd's trace schema, for `refmodel trace validate`) is not "
                         "generated yet; use --format itf")
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
    try:
        suite = build_suite(engine, explored, cover=cover, seed=seed, max_steps=max_steps, oracles=oracles,
                            kill=kill, final_outcome_only=format == "geth", progress=progress)
    except VectorError as exc:
        raise InputError(str(exc)) from None
    if format == "geth":  # what the chain exploration reads of the configuration
        suite.config = {k: suite.config[k] for k in system.BOUNDS}
    return suite
