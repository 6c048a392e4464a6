"""Named predicates over states (invariants) and over transitions (properties), registered by name.

A property is a plain Python function with a one-sentence docstring:

* a state invariant ``f(cfg, s) -> bool`` holds in every reachable state;
* a transition property ``f(cfg, s, t) -> bool`` holds on every explored step ``s -> t``.

Register one with :func:`invariant` or :func:`transition_property` in a module ``invariants/<name>.py``;
it is then known as ``<name>.<function>`` (e.g. ``raft.election_safety``) and can be named on the command
line (``--invariant raft.election_safety``, or just ``election_safety`` for the protocol being checked) or in
a spec file.  An undecorated function in such a module can be named too: two parameters make it a state
invariant, three a transition property.

``reads=`` names the state fields a predicate looks at; the checker then evaluates it once per distinct
combination of those fields (a large saving: many states share their servers' variables), and any read of
an undeclared field fails loudly.  Leave it out to have the predicate see the whole state.

``antecedent=`` is a predicate of the same shape saying when the property has something to check (e.g.
"some server is Leader" for election safety): the report flags a property whose antecedent never held in
the explored states, because its "pass" then proves little.

A predicate may return a :class:`Fail` instead of ``False`` to say which servers are involved and why; the
report prints it under the counterexample.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from refmodel.model.core import UnknownReference, entry_point, is_reference, load_reference

Kind = Literal["state", "transition"]


@dataclass(frozen=True)
class OverServers:
    """The terms of a state invariant that is a conjunction over its servers, one by one and two by two
    (servers, or whatever field of per-node values the engine packs into slots: ``engine.server_field``, e.g.
    the Clique nodes' ``chains``; ``s.servers`` below stands for it)::

        fn(cfg, s) == all(one(cfg, s.servers[i], s) for i) and all(two(cfg, s.servers[i], s.servers[j]) for i < j)

    and, if it has an antecedent, ``antecedent(cfg, s) == any(one_holds(cfg, s.servers[i], s) for i) or
    any(two_holds(cfg, s.servers[i], s.servers[j]) for i < j)`` (a missing term is true for ``one``/``two``,
    false for the antecedent's).  ``one`` and ``one_holds`` may read the fields other than ``servers`` that the
    property declares it reads, never ``s.servers``; ``two`` and ``two_holds`` read the two servers only.

    On an engine that packs server components into slots, the checker then evaluates the terms once per
    server component (with those other fields) and once per pair of components, instead of the whole
    function once per distinct servers part (nearly all distinct on larger runs); the whole function is still
    what reports a violation.  Write the function with the terms, so that the two cannot disagree (a
    disagreement found on a run is an error)."""

    one: Callable[..., bool] | None = None
    two: Callable[..., bool] | None = None
    one_holds: Callable[..., bool] | None = None
    two_holds: Callable[..., bool] | None = None


@dataclass(frozen=True)
class Property:
    """A registered invariant or transition property."""

    name: str  # qualified: "<module>.<function>"
    protocol: str | None  # the protocol it applies to (None: unknown, a plain function)
    fn: Callable[..., bool]
    kind: Kind
    reads: frozenset[str] | None  # fields read, or None for "the whole state"
    default: bool  # checked when no invariant is named
    doc: str
    antecedent: Callable[..., bool] | None = None  # when the property is not vacuous
    antecedent_doc: str = ""
    #: a transition property that is a conjunction over servers of one function of a server's variables
    #: before and after (and whose antecedent, if any, is a disjunction of one such function): the pair
    #: ``(f(cfg, a, b), g(cfg, a, b) or None)``, with ``fn(cfg, s, t) == all(f(cfg, s.servers[i],
    #: t.servers[i]) for i)`` and ``antecedent(cfg, s, t) == any(g(...) for i)``; an engine that packs
    #: servers into slots then checks steps on pairs of server components (see checkers/bfs.py)
    per_server: tuple[Callable[..., bool], Callable[..., bool] | None] | None = None
    #: a state invariant that is a conjunction of terms over its servers (see :class:`OverServers`)
    over_servers: OverServers | None = None

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def __call__(self, *args: Any) -> bool:
        return self.fn(*args)


REGISTRY: dict[str, Property] = {}


class Fail:
    """A falsy result that explains a violation: the servers (or nodes) involved and a sentence."""

    __slots__ = ("servers", "why")

    def __init__(self, why: str, servers: Iterable[Any] = ()) -> None:
        self.why = why
        self.servers = sorted({str(x) for x in servers})

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"Fail({self.why!r}, servers={self.servers})"


class UnknownProperty(LookupError):
    """No invariant or property by that name."""


def _module_name(fn: Callable[..., Any]) -> str:
    """The short name properties of ``fn``'s module get: ``raft`` for ``refmodel.invariants.raft``, the file's
    stem for a user's ``props.py``."""
    mod = sys.modules.get(fn.__module__)
    return getattr(mod, "__refmodel_name__", None) or fn.__module__.rsplit(".", 1)[-1]


def _register(fn: Callable[..., bool], kind: Kind, protocol: str | None, reads: Iterable[str] | None,
              default: bool, antecedent: Callable[..., bool] | None,
              per_server: tuple[Callable[..., bool], Callable[..., bool] | None] | None = None,
              over_servers: OverServers | None = None) -> Callable[..., bool]:
    module = _module_name(fn)
    doc = inspect.getdoc(fn) or ""
    if not doc:
        raise ValueError(f"{fn.__module__}.{fn.__name__}: a property needs a docstring stating it")
    prop = Property(name=f"{module}.{fn.__name__}", protocol=protocol or module, fn=fn, kind=kind,
                    reads=None if reads is None else frozenset(reads), default=default, doc=doc,
                    antecedent=antecedent, per_server=per_server, over_servers=over_servers,
                    antecedent_doc=(inspect.getdoc(antecedent) or antecedent.__name__) if antecedent else "")
    REGISTRY[prop.name] = prop
    return fn


def invariant(protocol: str | None = None, *, reads: Iterable[str] | None = None, default: bool = True,
              antecedent: Callable[..., bool] | None = None, over_servers: OverServers | None = None,
              ) -> Callable[[Callable[..., bool]], Callable[..., bool]]:
    """Register ``f(cfg, s) -> bool`` as a state invariant.  ``default=False`` keeps it out of the set checked
    when none is named (used for properties that are known to fail, kept to document a quirk).
    ``over_servers``: its terms server by server and pair by pair (see :class:`OverServers`); a function may
    also carry them as its attribute ``over_servers`` (as ``invariants.poa.per_chain`` makes them)."""
    if over_servers is not None and antecedent is not None and not (over_servers.one_holds or over_servers.two_holds):
        raise ValueError("over_servers: a property with an antecedent needs one_holds or two_holds")
    return lambda fn: _register(fn, "state", protocol, reads, default, antecedent,
                                over_servers=over_servers or getattr(fn, "over_servers", None))


def transition_property(protocol: str | None = None, *, reads: Iterable[str] | None = None,
                        default: bool = True, antecedent: Callable[..., bool] | None = None,
                        per_server: tuple[Callable[..., bool], Callable[..., bool] | None] | None = None,
                        ) -> Callable[[Callable[..., bool]], Callable[..., bool]]:
    """Register ``f(cfg, s, t) -> bool`` as a property of every step ``s -> t``.  ``per_server``: see
    :attr:`Property.per_server` (the per-server function and the antecedent's, which the whole-state ones
    should be written with, so that they cannot disagree)."""
    return lambda fn: _register(fn, "transition", protocol, reads, default, antecedent, per_server)


def load(module: str) -> None:
    """Import ``invariants.<module>`` so that its properties register."""
    try:
        importlib.import_module(f"refmodel.invariants.{module}")
    except ModuleNotFoundError as exc:
        if exc.name == f"refmodel.invariants.{module}":
            raise UnknownProperty(f"no module invariants/{module}.py") from None
        raise


def available(protocol: str) -> list[Property]:
    """Every registered property of a protocol (after importing its module and any other modules)."""
    load_all()
    return sorted((p for p in REGISTRY.values() if p.protocol == protocol), key=lambda p: p.name)


def load_all() -> None:
    """Import every module in the invariants package (users may add their own)."""
    from refmodel import invariants

    for info in pkgutil.iter_modules(invariants.__path__):
        if not info.name.startswith("_"):
            load(info.name)


def defaults(protocol: str) -> list[Property]:
    """The properties checked when none is named: every default one of the protocol's own module."""
    load(protocol)  # only the protocol's own module: importing every other one (and its model) costs start-up
    return sorted((p for p in REGISTRY.values() if p.protocol == protocol and p.default
                   and p.name.startswith(f"{protocol}.")), key=lambda p: p.name)


#: entry-point group through which an installed package contributes properties by name
ENTRY_POINTS = "refmodel.invariants"


def _property_of(fn: Any, name: str) -> Property:
    """``fn`` as a property called ``name``: its registration if it was decorated, else by its arity (two
    parameters: a state invariant; three: a transition property)."""
    for p in list(REGISTRY.values()):
        if p.fn is fn:
            return p
    if not callable(fn):
        raise UnknownProperty(f"'{name}' is not a function")
    try:
        arity = len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        raise UnknownProperty(f"'{name}' is not a Python function") from None
    if arity not in (2, 3):
        raise UnknownProperty(f"'{name}' must take (cfg, state) or (cfg, state, next_state), not {arity} "
                              f"parameter{'s' * (arity != 1)}")
    return Property(name=name, protocol=None, fn=fn, kind="state" if arity == 2 else "transition",
                    reads=None, default=False, doc=inspect.getdoc(fn) or "(no docstring)")


def resolve(protocol: str, names: Iterable[str], base: str | None = None) -> list[Property]:
    """Look properties up by name: qualified (``raft.log_matching``) or short within ``protocol``; in the
    user's own code as ``PATH.py:NAME`` (relative to ``base``, default the current directory) or
    ``MODULE:NAME``; or offered by an installed package under the entry-point group ``refmodel.invariants``."""
    out: list[Property] = []
    for name in names:
        name = name.strip()
        if is_reference(name):
            try:
                fn, module = load_reference(name, base)
            except UnknownReference as exc:
                raise UnknownProperty(f"invariant {exc}") from None
            prop = _property_of(fn, f"{module}.{name.rpartition(':')[2]}")
        else:
            prop = _by_name(protocol, name)
        if prop.protocol not in (None, protocol):
            raise UnknownProperty(f"invariant '{prop.name}' is for {prop.protocol}, not {protocol}")
        if prop not in out:
            out.append(prop)
    return out


def _by_name(protocol: str, name: str) -> Property:
    qualified = name if "." in name else f"{protocol}.{name}"
    module, func = qualified.rsplit(".", 1)
    if qualified in REGISTRY:
        return REGISTRY[qualified]
    try:
        load(module)
    except UnknownProperty:
        plugin = entry_point(ENTRY_POINTS, name) or entry_point(ENTRY_POINTS, qualified)
        if plugin is None:
            raise UnknownProperty(f"unknown invariant '{name}': no module invariants/{module}.py, no entry point "
                                  f"'{name}' in {ENTRY_POINTS}, and not a PATH.py:NAME or MODULE:NAME "
                                  "reference") from None
        return dataclasses.replace(_property_of(plugin, name), name=name)
    prop = REGISTRY.get(qualified)
    if prop is None:
        mod = importlib.import_module(f"refmodel.invariants.{module}")
        fn = getattr(mod, func, None)
        if not callable(fn):
            known = ", ".join(p.name for p in available(protocol)) or "none"
            raise UnknownProperty(f"unknown invariant '{name}' (known for {protocol}: {known})")
        prop = _property_of(fn, qualified)
    return prop


# ------------------------------------------------------------------------------------------- liveness


@dataclass(frozen=True)
class LivenessProperty:
    """A registered liveness property over readable states: ``eventually`` P (``<>P``),
    ``always_eventually`` P (``[]<>P``), or P ``leads_to`` Q (``P ~> Q``)."""

    name: str
    protocol: str | None
    form: str  # "eventually", "always_eventually", "leads_to"
    p: Callable[..., bool]
    q: Callable[..., bool] | None
    doc: str
    reads: frozenset[str] | None = None  # the state fields P and Q read (None: the whole state)

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]


LIVENESS: dict[str, LivenessProperty] = {}
LIVENESS_FORMS = ("eventually", "always_eventually", "leads_to")


def liveness(protocol: str | None = None, *, form: str = "eventually", to: Callable[..., bool] | None = None,
             reads: Iterable[str] | None = None) -> Callable[[Callable[..., bool]], Callable[..., bool]]:
    """Register ``P(cfg, s) -> bool`` as a liveness property: ``form="eventually"`` (every fair behaviour
    reaches a P state), ``"always_eventually"`` (infinitely often), or ``"leads_to"`` with ``to=Q`` (every P
    state is followed by a Q state).  The docstring states the property in one sentence.  ``reads=``, as for
    invariants, names the state fields P and Q read: each is then evaluated once per value of those fields."""
    if form not in LIVENESS_FORMS:
        raise ValueError(f"liveness form must be one of {', '.join(LIVENESS_FORMS)}, not {form!r}")
    if (form == "leads_to") != (to is not None):
        raise ValueError("a leads_to property names its target with to=Q (and only leads_to does)")

    def register(fn: Callable[..., bool]) -> Callable[..., bool]:
        doc = inspect.getdoc(fn) or ""
        if not doc:
            raise ValueError(f"{fn.__module__}.{fn.__name__}: a property needs a docstring stating it")
        module = _module_name(fn)
        prop = LivenessProperty(name=f"{module}.{fn.__name__}", protocol=protocol or module, form=form, p=fn, q=to,
                                doc=doc, reads=None if reads is None else frozenset(reads))
        LIVENESS[prop.name] = prop
        fn.__refmodel_liveness__ = prop  # type: ignore[attr-defined]
        return fn

    return register


def resolve_liveness(protocol: str, names: Iterable[str], base: str | None = None) -> list[LivenessProperty]:
    """Liveness properties by name (qualified, short within ``protocol``, or ``PATH.py:NAME`` /
    ``MODULE:NAME`` naming a function decorated with :func:`liveness`)."""
    out: list[LivenessProperty] = []
    for name in names:
        name = name.strip()
        if is_reference(name):
            try:
                fn, _ = load_reference(name, base)
            except UnknownReference as exc:
                raise UnknownProperty(f"liveness {exc}") from None
            prop = getattr(fn, "__refmodel_liveness__", None)
            if prop is None:
                raise UnknownProperty(f"liveness '{name}' is not decorated with @liveness(...)")
        else:
            qualified = name if "." in name else f"{protocol}.{name}"
            if qualified not in LIVENESS:
                try:
                    load(qualified.rsplit(".", 1)[0])
                except UnknownProperty:
                    pass
            prop = LIVENESS.get(qualified)
            if prop is None:
                known = ", ".join(sorted(p.name for p in LIVENESS.values() if p.protocol == protocol)) or "none"
                raise UnknownProperty(f"unknown liveness property '{name}' (known for {protocol}: {known})")
        if prop.protocol not in (None, protocol):
            raise UnknownProperty(f"liveness property '{prop.name}' is for {prop.protocol}, not {protocol}")
        if prop not in out:
            out.append(prop)
    return out
