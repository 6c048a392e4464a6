"""The protocol every model satisfies, and the generic machinery beneath it.

A model comes in two layers:

* A readable :class:`TransitionSystem`: immutable states, one pure function per protocol rule, labels that
  name the action and its parameters.  This is the layer people read and cite.
* An :class:`Engine`: the same transition relation over a compact encoding of states, which the checkers
  drive.  :class:`ExplicitEngine` derives one from any ``TransitionSystem`` (states are used as they are); a
  model may ship a faster engine of its own (interned components, memoised transitions), tested to agree
  with the readable layer.

Checkers only ever see an ``Engine``; they never import a protocol.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import field, fields
from typing import Any, NamedTuple


class Sid(int):
    """A server (or node) identity: an index into per-server tuples, shown to people as ``s1``, ``s2`` ..."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"s{int(self) + 1}"

    __str__ = __repr__


class Label(NamedTuple):
    """An action instance: the action's name and its parameters, e.g. ``RequestVote(i=s1, j=s2)``."""

    action: str
    params: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        if not self.params:
            return self.action
        return f"{self.action}({', '.join(f'{k}={fmt_value(v)}' for k, v in self.params)})"

    def param(self, name: str, default: Any = None) -> Any:
        for k, v in self.params:
            if k == name:
                return v
        return default


def fmt_value(v: Any) -> str:
    """A compact, human-readable (TLA+-flavoured) rendering of a parameter or state value."""
    if hasattr(v, "describe"):
        return v.describe()
    if isinstance(v, (frozenset, set)):
        return "{" + ", ".join(sorted(fmt_value(x) for x in v)) + "}"
    if isinstance(v, tuple) and not hasattr(v, "_fields"):
        return "<<" + ", ".join(fmt_value(x) for x in v) + ">>"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    return str(v)


def bag_add(m: Hashable, bag: frozenset) -> frozenset:
    """A TLA+ bag (a frozenset of (element, count) pairs) with one more copy of ``m`` (Bags ``(+)``)."""
    d = dict(bag)
    d[m] = d.get(m, 0) + 1
    return frozenset(d.items())


def bag_remove(m: Hashable, bag: frozenset) -> frozenset:
    """A TLA+ bag with one copy fewer of ``m`` (Bags ``(-)``): ``m`` leaves the domain at zero; a bag
    without ``m`` is returned unchanged."""
    d = dict(bag)
    if m in d:
        if d[m] <= 1:
            del d[m]
        else:
            d[m] -= 1
    return frozenset(d.items())


class Record(dict):
    """A TLA+ record (field name -> value), as opposed to a function (a plain dict): ITF writes it as a JSON
    object rather than a ``#map``."""


class Permutation(tuple):
    """A permutation of identities: ``perm[k]`` is the new identity of ``k``."""

    __slots__ = ()

    def inverse(self) -> Permutation:
        inv = [0] * len(self)
        for k, v in enumerate(self):
            inv[v] = k
        return Permutation(inv)

    def sid(self, k: int) -> Sid:
        return Sid(self[k])


def all_permutations(n: int) -> list[Permutation]:
    """Every permutation of ``n`` identities, the identity first."""
    return [Permutation(p) for p in itertools.permutations(range(n))]


class TransitionSystem(ABC):
    """A readable model: states, labelled transitions, TLC's CONSTRAINT, and identity symmetry."""

    #: protocol name, e.g. ``"raft"``
    protocol: str = ""
    #: the model's configuration (a frozen dataclass)
    config: Any
    #: the mutant this model runs, if any
    mutant: str | None = None
    #: names of the state's fields (a NamedTuple's), which predicates may declare they read; None if the
    #: state is not a NamedTuple
    state_fields: tuple[str, ...] | None = None
    #: actions that model the environment's faults (crashes, message loss ...) rather than the protocol;
    #: random testers treat them as less likely
    fault_actions: tuple[str, ...] = ()

    @abstractmethod
    def init_states(self) -> Iterable[Hashable]:
        """The initial states."""

    @abstractmethod
    def next_states(self, state: Any) -> Iterable[tuple[Label, Any]]:
        """Every enabled action instance of ``state`` with its successor, in a deterministic order.

        Successors that violate the state constraint are included: TLC counts them as generated."""

    @abstractmethod
    def action_names(self) -> Sequence[str]:
        """The names of every action the model may take (for labels and per-action statistics)."""

    def constraint(self, state: Any) -> bool:
        """TLC's CONSTRAINT: a state that fails it is not counted, checked or expanded."""
        return True

    def symmetry_group(self) -> list[Permutation]:
        """The permutations of identities under which the model is symmetric (empty: no symmetry)."""
        return []

    def has_symmetry(self) -> bool:
        """Whether there is any symmetry to reduce by (without building the group, which may have n!
        members)."""
        return bool(self.symmetry_group())

    def permute(self, state: Any, perm: Permutation) -> Any:
        """The image of ``state`` under ``perm``: every identity ``k`` in it renamed ``perm[k]``."""
        raise NotImplementedError(f"{type(self).__name__} does not support symmetry")

    def render(self, state: Any) -> dict[str, Any]:
        """The state as a mapping from variable name to a JSON-able value, for reports."""
        return {"state": repr(state)}

    def itf_vars(self, state: Any) -> dict[str, Any]:
        """The state as variables for ITF traces: Python values (dicts are functions, frozensets sets,
        tuples sequences, NamedTuples and dataclasses records).  By default a NamedTuple's fields."""
        if hasattr(state, "_asdict"):
            return dict(state._asdict())
        return {"state": state}

    def msc_lanes(self, state: Any) -> list[str]:
        """The lanes of a message-sequence chart (usually the servers); empty: no chart."""
        return []

    def msc_events(self, before: Any, label: Label, after: Any) -> list[dict[str, Any]]:
        """What a step shows on a message-sequence chart: dicts with ``kind`` ``send`` (``from``, ``to``,
        ``key`` identifying the message, ``text``), ``receive`` or ``drop`` (``at``, ``key``), or ``mark``
        (``at``, ``text``, optional ``style``: ``role``, ``commit``, ``bad``)."""
        return []

    def engine(self) -> Engine:
        """The encoded transition system the checkers drive; by default the explicit one."""
        return ExplicitEngine(self)

    def portable_engine(self) -> Engine:
        """An engine whose encoded states and canonical keys mean the same in every process (see
        :class:`Engine`, *portable engines*), for searches split over processes or machines and for
        checkpoints; by default the explicit one over readable states."""
        return PortableExplicitEngine(self)

    def branches(self, label: Label) -> tuple[str, ...]:
        """The branches of the rules a step with this label takes, for branch coverage (``refmodel vectors
        --cover branches``): by default the action's name, refined by its ``case`` parameter when it has one
        (``HandleRequestVoteRequest/grant``).  A model may name finer branches."""
        case = label.param("case")
        return (f"{label.action}/{case}" if case else label.action,)

    def branch_universe(self) -> Sequence[str] | None:
        """Every branch the rules have, in a fixed order (what ``--cover branches`` aims at), or None: the
        action names, refined by the branches the explored steps show."""
        return None


#: Marks a successor that violates the state constraint (generated, but not counted or expanded).
VIOLATES = None


class Engine(ABC):
    """The transition relation over encoded states, as the checkers drive it.

    Encoded states are hashable.  An action id (``aid``) is an int; ``aid % len(action_names)`` is the index
    of its action's name, and :meth:`label` recovers the full label.  Labels and readable states are built
    only on request (counterexamples, graphs), never in the inner loop.

    *Portable engines* (``TransitionSystem.portable_engine()``, ``portable = True``) encode states so that
    an encoded state and its canonical key mean the same in every process: component ids are content
    hashes (:class:`HashInterner`) rather than serial numbers.  A state can then move between the workers
    of a partitioned search, or into a checkpoint, as it is; only the values of the components behind the
    ids travel separately (:meth:`export_components` / :meth:`import_components`), once each.  Action ids
    stay private to an engine.

    Optional, for speed (the checker uses what an engine offers, and counts the same without it):

    * ``server_slots`` (shifts, width, mask), ``server_objs`` (component id -> value) and ``server_field``
      (default ``servers``): where a packed int state holds its per-node components; properties declared
      per server (``per_server=``, ``OverServers``) are then judged per component or pair of components;
    * ``watch_server_steps(fn)``: the engine calls ``fn(c, nc)`` for every change of a server's component its
      memoised successors make, as it makes them, so that per-server step properties need no check per
      successor (``model/raft/fast.py``);
    * ``omitting_successors()``: a successor function that leaves out the successors outside the state
      constraint, and a function counting them by action id (``model/raft/fast.py``);
    * ``route_projector(workers)`` (portable engines): a function of a canonical key whose value decides the
      key's owner in a partitioned search, a part of the state few actions change, so that most successors
      stay with the worker that makes them (``model/raft/fast.py``; default: what the properties read).
    """

    #: whether encoded states and canonical keys are process-independent (see above)
    portable: bool = False

    system: TransitionSystem
    action_names: Sequence[str]

    @abstractmethod
    def initial(self) -> list[Hashable]:
        """Encoded initial states (those violating the constraint are dropped)."""

    @abstractmethod
    def successors(self, e: Hashable) -> list[tuple[int, Hashable | None]]:
        """``(aid, successor)`` for every enabled action instance; successor ``None`` if it violates the
        constraint.  The order is deterministic."""

    @abstractmethod
    def canonical(self, e: Hashable) -> Hashable:
        """A key that is equal exactly for the states of one orbit of the symmetry group."""

    @abstractmethod
    def decode(self, e: Hashable, hide: frozenset[str] = frozenset()) -> Any:
        """The readable state of ``e``; fields named in ``hide`` are replaced by :class:`Hidden`."""

    @abstractmethod
    def label(self, aid: int) -> Label:
        """The label of action id ``aid``."""

    def projector(self, reads: frozenset[str]) -> Callable[[Hashable], Hashable] | None:
        """A function giving a key that determines the state fields named in ``reads`` (used to memoise
        predicates), or ``None`` if the engine cannot project."""
        return None

    def stats(self) -> dict[str, int]:
        """Engine-internal figures (e.g. interned components), for reports."""
        return {}

    def export_components(self) -> Any:
        """Portable engines: the values of the components interned since the last call (picklable), which
        another engine of the same model needs to decode or expand states that name them."""
        return None

    def import_components(self, payload: Any) -> None:
        """Portable engines: make the components of an :meth:`export_components` payload known here."""

    def route_hash(self, key: Hashable) -> int:
        """A hash of a canonical key that is the same in every process (portable engines), for choosing the
        worker that owns a state."""
        if isinstance(key, int):
            return hash(key)  # ints hash alike in every process (only str and bytes hashes are salted)
        return stable_hash(key)

    def labels(self) -> list[Label]:
        """Every label given an action id so far, in order (a checkpoint keeps them so that action ids
        survive a restart)."""
        return []

    def restore_labels(self, labels: Sequence[Label]) -> None:
        """Give ``labels`` the action ids they had in the engine :meth:`labels` came from (a fresh engine)."""
        raise NotImplementedError(f"{type(self).__name__} cannot restore labels")


class UndeclaredRead(RuntimeError):
    """A memoised predicate read a state field outside its declared ``reads``."""


class Hidden:
    """Stands in for a state field a predicate declared it does not read; any use of it is an error.

    This keeps ``reads=`` declarations honest: a memoised predicate that touches an undeclared field fails
    loudly instead of returning a stale answer."""

    __slots__ = ("_field",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_field", name)

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise UndeclaredRead(
            f"predicate read state field '{object.__getattribute__(self, '_field')}' "
            "that its reads= declaration leaves out"
        )

    __getattr__ = _fail
    __iter__ = _fail
    __len__ = _fail
    __contains__ = _fail
    __getitem__ = _fail
    __bool__ = _fail
    __lt__ = _fail
    __gt__ = _fail
    __eq__ = _fail  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<hidden {object.__getattribute__(self, '_field')}>"


def hide_fields(state: Any, hide: frozenset[str]) -> Any:
    """``state`` (a NamedTuple) with the fields in ``hide`` replaced by :class:`Hidden`."""
    if not hide:
        return state
    return state._replace(**{f: hidden(f) for f in hide})


_HIDDEN: dict[str, Hidden] = {}


def hidden(name: str) -> Hidden:
    """The (shared) :class:`Hidden` stand-in for field ``name``."""
    h = _HIDDEN.get(name)
    if h is None:
        h = _HIDDEN[name] = Hidden(name)
    return h


class LabelTable:
    """Interns labels to action ids, keeping ``aid % len(names)`` equal to the index of the action's name."""

    def __init__(self, names: Sequence[str], owner: str = "model") -> None:
        self.names = tuple(names)
        if not self.names:
            raise ValueError(f"{owner} must list its action names")
        self._index = {n: k for k, n in enumerate(self.names)}
        self._labels: list[Label] = []
        self._ids: dict[Label, int] = {}
        self._owner = owner

    def aid(self, lab: Label) -> int:
        aid = self._ids.get(lab)
        if aid is None:
            k = self._index.get(lab.action)
            if k is None:
                raise ValueError(f"action '{lab.action}' is not among the action names of {self._owner}")
            aid = len(self._labels) * len(self.names) + k
            self._labels.append(lab)
            self._ids[lab] = aid
        return aid

    def label(self, aid: int) -> Label:
        return self._labels[aid // len(self.names)]

    def all_labels(self) -> list[Label]:
        return list(self._labels)

    def restore(self, labels: Sequence[Label]) -> None:
        """Intern ``labels`` in this order (into an empty table), so that they get the same ids again."""
        if self._labels and list(self._labels[: len(labels)]) != list(labels):
            raise ValueError("the label table already holds other labels")
        for lab in labels[len(self._labels):]:
            self.aid(lab)


class Interner:
    """Maps hashable objects to dense ints 0, 1, 2 ... and back (``objs[id]``)."""

    __slots__ = ("ids", "objs")

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.objs: list[Any] = []

    def __call__(self, obj: Any) -> int:
        k = self.ids.get(obj)
        if k is None:
            k = self.ids[obj] = len(self.objs)
            self.objs.append(obj)
        return k

    def __len__(self) -> int:
        return len(self.objs)


#: an odd multiplier: ``serial * SCATTER mod 2**bits`` is a bijection of [0, 2**bits) (Knuth's golden ratio)
SCATTER = 0x9E3779B97F4A7C15


class ScatterInterner:
    """Like :class:`Interner`, but the ids are the serial numbers scattered over ``[0, 2**bits)`` by a
    bijection (a multiplication by an odd constant), and ``objs`` is a dict.

    Why: Python hashes an int by its value modulo 2**61 - 1, and a set looks first at the low bits of the
    hash.  States packed from small serial ids in 32-bit slots have hashes whose low bits come from a few
    slots' small numbers only: on raft n3_t2_l1_c1_m1 a million states share 3,990 values of the low 22
    bits, and every look-up walks a long chain (2.7 times as long as for random ints, measured).  Scattered
    ids fill every slot's bits, which reach the low bits of the hash from every slot."""

    __slots__ = ("ids", "objs", "bits", "_mask")

    def __init__(self, bits: int = 32) -> None:
        self.ids: dict[Any, int] = {}
        self.objs: dict[int, Any] = {}
        self.bits, self._mask = bits, (1 << bits) - 1

    def __call__(self, obj: Any) -> int:
        k = self.ids.get(obj)
        if k is None:
            n = len(self.ids)
            if n >> self.bits:
                raise OverflowError(f"more than 2**{self.bits} distinct components")
            k = self.ids[obj] = (n * SCATTER) & self._mask
            self.objs[k] = obj
        return k

    def __len__(self) -> int:
        return len(self.ids)


class HashCollision(RuntimeError):
    """Two different component values have the same 64-bit content hash (astronomically unlikely; the
    message names both, so that it can be reported)."""


def _stable_parts(v: Any, out: list[bytes]) -> None:
    """Append a serialisation of ``v`` to ``out`` that is the same in every process: sets and dicts in
    sorted order of their members' serialisations (not in hash order, which varies with PYTHONHASHSEED)."""
    t = type(v)
    stable = getattr(t, "__stable__", None)
    if stable is not None:  # a value that says what stands for it (e.g. a chain: its blocks, not its caches)
        b = _STABLE_CACHE.get(v)
        if b is None:
            part = [b"X%s(" % t.__name__.encode()]
            _stable_parts(stable(v), part)
            part.append(b")")
            b = b"".join(part)
            if len(_STABLE_CACHE) < STABLE_CACHE_CAP:
                _STABLE_CACHE[v] = b
        out.append(b)
    elif v is None or t is bool:
        out.append(b"N" if v is None else (b"T" if v else b"F"))
    elif isinstance(v, int):
        out.append(b"i%s:%d;" % (t.__name__.encode(), v))
    elif isinstance(v, str):
        b = v.encode("utf-8", "surrogatepass")
        out.append(b"s%s:%d:" % (t.__name__.encode(), len(b)))
        out.append(b)
    elif isinstance(v, (frozenset, set)):
        out.append(b"S%s(" % t.__name__.encode())
        out.extend(sorted(stable_bytes(x) for x in v))
        out.append(b")")
    elif isinstance(v, dict):
        out.append(b"D%s(" % t.__name__.encode())
        out.extend(sorted(stable_bytes(k) + b"=" + stable_bytes(x) for k, x in v.items()))
        out.append(b")")
    elif isinstance(v, (tuple, list)):
        out.append(b"L%s(" % t.__name__.encode())
        for x in v:
            _stable_parts(x, out)
        out.append(b")")
    elif hasattr(v, "__dataclass_fields__"):
        out.append(b"R%s(" % t.__name__.encode())
        for name in v.__dataclass_fields__:
            out.append(name.encode() + b"=")
            _stable_parts(getattr(v, name), out)
        out.append(b")")
    elif isinstance(v, (float, bytes)):
        out.append(b"f" + repr(v).encode())
    else:
        raise TypeError(f"no stable serialisation for {t.__name__} values")


#: serialisations of values with ``__stable__`` (few, large, met often inside others), remembered
_STABLE_CACHE: dict[Any, bytes] = {}
STABLE_CACHE_CAP = 1 << 16


def stable_bytes(v: Any) -> bytes:
    """Bytes that stand for the value ``v`` and are the same in every process (see :func:`stable_hash`)."""
    out: list[bytes] = []
    _stable_parts(v, out)
    return b"".join(out)


def stable_hash(v: Any) -> int:
    """A 64-bit hash of the value ``v`` that is the same in every process and on every machine (unlike
    ``hash()``, which is salted per process for strings): BLAKE2b over :func:`stable_bytes`."""
    import hashlib

    return int.from_bytes(hashlib.blake2b(stable_bytes(v), digest_size=8).digest(), "little")


class HashInterner:
    """Like :class:`Interner`, but an object's id is its 64-bit :func:`stable_hash`, the same in every
    process; ``objs`` maps ids back to objects.  A second value with the id of another raises
    :class:`HashCollision`.  :meth:`take_new` hands out what was interned since its last call."""

    __slots__ = ("ids", "objs", "fresh")

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.objs: dict[int, Any] = {}
        self.fresh: list[int] = []

    def __call__(self, obj: Any) -> int:
        k = self.ids.get(obj)
        if k is None:
            k = stable_hash(obj)
            other = self.objs.get(k, _NOTHING)
            if other is not _NOTHING:
                raise HashCollision(f"components {other!r} and {obj!r} have the same content hash {k:#x}")
            self.ids[obj] = k
            self.objs[k] = obj
            self.fresh.append(k)
        return k

    def add(self, k: int, obj: Any) -> None:
        """Learn ``obj`` under the id ``k`` another process gave it (checked: the hash must agree).  It is not
        handed out by :meth:`take_new`: the process that made it hands it out (in a partitioned search every
        worker and the coordinator get every worker's new components from their maker, once)."""
        if k in self.objs:
            if self.objs[k] != obj:
                raise HashCollision(f"components {self.objs[k]!r} and {obj!r} have the same content hash {k:#x}")
            return
        here = self.ids.get(obj)
        if here is None:
            here = stable_hash(obj)
        if here != k:
            raise HashCollision(f"component {obj!r} arrived with id {k:#x}, but hashes to {here:#x} here")
        self.ids[obj] = k
        self.objs[k] = obj

    def take_new(self) -> list[tuple[int, Any]]:
        new = [(k, self.objs[k]) for k in self.fresh]
        self.fresh = []
        return new

    def __len__(self) -> int:
        return len(self.objs)


_NOTHING = object()


class LabelledEngine(Engine):
    """An engine whose action ids come from a :class:`LabelTable` (``self._labels``): labels asked for by id,
    listed in id order, and restored in that order (checkpoints)."""

    _labels: LabelTable

    def label(self, aid: int) -> Label:
        return self._labels.label(aid)

    def labels(self) -> list[Label]:
        return self._labels.all_labels()

    def restore_labels(self, labels: Sequence[Label]) -> None:
        self._labels.restore(labels)


class ExplicitEngine(LabelledEngine):
    """An engine over the readable states themselves: correct for any model, and the yardstick faster
    engines are tested against.  With symmetry, every member of an orbit is recorded when the orbit is first
    met, and the canonical key is the orbit's serial number."""

    def __init__(self, system: TransitionSystem) -> None:
        self.system = system
        self._labels = LabelTable(system.action_names(), type(system).__name__)
        self.action_names = self._labels.names
        self._perms = system.symmetry_group()
        self._canon: dict[Hashable, int] = {}
        self._orbits = 0

    def initial(self) -> list[Hashable]:
        return [s for s in self.system.init_states() if self.system.constraint(s)]

    def successors(self, e: Hashable) -> list[tuple[int, Hashable | None]]:
        sys, aid = self.system, self._labels.aid
        return [(aid(lab), t if sys.constraint(t) else VIOLATES) for lab, t in sys.next_states(e)]

    def canonical(self, e: Hashable) -> Hashable:
        key = self._canon.get(e)
        if key is None:
            key = self._orbits
            self._orbits += 1
            for p in self._perms or [None]:
                self._canon[e if p is None else self.system.permute(e, p)] = key
        return key

    def decode(self, e: Hashable, hide: frozenset[str] = frozenset()) -> Any:
        return hide_fields(e, hide)


class PortableExplicitEngine(ExplicitEngine):
    def __init__(self, system: TransitionSystem) -> None:
        super().__init__(system)
        self._route: dict[Hashable, int] = {}

    """The explicit engine as a portable one: readable states are values, the same in every process; with
    symmetry the canonical key is the member of the orbit with the smallest :func:`stable_bytes` (rather
    than a serial number private to a process)."""

    portable = True

    def route_hash(self, key: Hashable) -> int:
        h = self._route.get(key)
        if h is None:
            h = self._route[key] = stable_hash(key)
        return h

    def canonical(self, e: Hashable) -> Hashable:
        if not self._perms:
            return e
        key = self._canon.get(e)
        if key is None:
            images = [self.system.permute(e, p) for p in self._perms]
            key = min(images, key=stable_bytes)
            for img in images:
                self._canon[img] = key
        return key  # type: ignore[return-value]


def slot_reader(shifts: Sequence[int], mask: int) -> Callable[[int], list[int]]:
    """A function giving the slots of a packed int at ``shifts`` (each ``mask`` wide) as a list: written out for
    up to five slots (twice as fast as a comprehension, which runs as a function of its own), a comprehension
    beyond."""
    n = len(shifts)
    if n == 1:
        (a,) = shifts
        return lambda e: [(e >> a) & mask]
    if n == 2:
        a, b = shifts
        return lambda e: [(e >> a) & mask, (e >> b) & mask]
    if n == 3:
        a, b, c = shifts
        return lambda e: [(e >> a) & mask, (e >> b) & mask, (e >> c) & mask]
    if n == 4:
        a, b, c, d = shifts
        return lambda e: [(e >> a) & mask, (e >> b) & mask, (e >> c) & mask, (e >> d) & mask]
    if n == 5:
        a, b, c, d, f = shifts
        return lambda e: [(e >> a) & mask, (e >> b) & mask, (e >> c) & mask, (e >> d) & mask, (e >> f) & mask]
    shifts = tuple(shifts)
    return lambda e: [(e >> sh) & mask for sh in shifts]


class PackedEngine(LabelledEngine):
    """What the fast engines share: states packed into one int (components interned, each in a slot of
    ``slot_masks``), labels interned in a :class:`LabelTable`, and an ``encode`` of readable states.  A
    subclass gives ``successors``, ``canonical``, ``decode``, ``encode`` and, when portable, the component
    payloads."""

    _labels: LabelTable
    #: per state field, the mask of its bits in a packed state
    slot_masks: dict[str, int]
    #: packed states are ints, whose hash() is the same in every process
    route_hash = staticmethod(hash)  # type: ignore[assignment]

    @abstractmethod
    def encode(self, s: Any) -> int:
        """The packed int of a readable state."""

    def initial(self) -> list[Hashable]:
        return [self.encode(s) for s in self.system.init_states() if self.system.constraint(s)]

    def projector(self, reads: frozenset[str]) -> Callable[[Hashable], Hashable] | None:
        mask = 0
        for f in reads:
            mask |= self.slot_masks[f]
        return mask.__and__

    def _need_portable(self) -> None:
        if not self.portable:
            raise RuntimeError(f"export_components needs a portable engine ({type(self.system).__name__}"
                               ".portable_engine())")


# ------------------------------------------------------------------------------------------ configuration


def bound(default: Any, help: str, *, minimum: int | None = None, maximum: int | None = None,
          choices: Sequence[str] | None = None) -> Any:
    """A configuration field that the CLI turns into ``--name`` and spec files set under ``[bounds]``.

    ``minimum``/``maximum``/``choices`` are enforced by :func:`validate_config`; a bool default makes a
    switch (``--name``/``--no-name``)."""
    return field(default=default, metadata={"help": help, "minimum": minimum, "maximum": maximum,
                                            "choices": tuple(choices) if choices else None})


class ConfigError(ValueError):
    """A configuration value is out of range; the message names the field."""


def validate_config(cfg: Any) -> None:
    """Check every field of a config dataclass against its :func:`bound` metadata."""
    for f in fields(cfg):
        v = getattr(cfg, f.name)
        md = f.metadata
        if isinstance(f.default, bool):
            if not isinstance(v, bool):
                raise ConfigError(f"{f.name} must be true or false, not {v!r}")
            continue
        if md.get("choices"):
            if v not in md["choices"]:
                raise ConfigError(f"{f.name} must be one of {', '.join(md['choices'])}, not {v!r}")
            continue
        if isinstance(f.default, int) and (not isinstance(v, int) or isinstance(v, bool)):
            raise ConfigError(f"{f.name} must be an integer, not {v!r}")
        if md.get("minimum") is not None and v < md["minimum"]:
            raise ConfigError(f"{f.name} must be >= {md['minimum']}, not {v}")
        if md.get("maximum") is not None and v > md["maximum"]:
            raise ConfigError(f"{f.name} must be <= {md['maximum']}, not {v}")


# ------------------------------------------------------------------------------------- user references


class UnknownReference(LookupError):
    """A ``PATH.py:NAME`` or ``MODULE:NAME`` reference that names nothing (the message says what is missing)."""


def is_reference(name: str) -> bool:
    """Whether ``name`` points into user code (``PATH.py:NAME`` or ``MODULE:NAME``) rather than naming a
    registered property or mutant."""
    return ":" in name


def load_reference(ref: str, base: str | None = None) -> tuple[Any, str]:
    """The object ``ref`` names, and the name of the module it lives in.

    ``PATH.py:NAME`` loads the file (relative paths from ``base``, default the current directory);
    ``MODULE:NAME`` imports an importable module.  Loading a file twice reuses the first load."""
    import importlib
    import importlib.util
    import sys
    from pathlib import Path

    where, _, attr = ref.rpartition(":")
    if not where or not attr:
        raise UnknownReference(f"'{ref}': expected PATH.py:NAME or MODULE:NAME")
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where)
        if not path.is_absolute():
            path = Path(base or ".") / path
        path = path.resolve()
        if not path.is_file():
            raise UnknownReference(f"'{ref}': no file {path}")
        key = f"refmodel_user.{path.stem}_{abs(hash(str(path))):x}"
        module = sys.modules.get(key)
        if module is None:
            spec = importlib.util.spec_from_file_location(key, path)
            if spec is None or spec.loader is None:
                raise UnknownReference(f"'{ref}': cannot load {path} as Python")
            module = importlib.util.module_from_spec(spec)
            module.__refmodel_name__ = path.stem  # type: ignore[attr-defined]
            sys.modules[key] = module
            try:
                spec.loader.exec_module(module)
            except SyntaxError as exc:
                del sys.modules[key]
                raise UnknownReference(f"'{ref}': {path}, line {exc.lineno}: syntax error: {exc.msg}") from None
            except Exception as exc:  # the user's module failed while loading: say where, not a traceback
                del sys.modules[key]
                raise UnknownReference(f"'{ref}': loading {path} failed: {type(exc).__name__}: {exc}") from None
        short = path.stem
    else:
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            raise UnknownReference(f"'{ref}': no module named '{exc.name}'") from None
        short = where.rsplit(".", 1)[-1]
    obj = getattr(module, attr, None)
    if obj is None:
        raise UnknownReference(f"'{ref}': {where} has no '{attr}'")
    return obj, short


def entry_point(group: str, name: str) -> Any | None:
    """The object an installed package offers under ``name`` in the entry-point ``group``, or None."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=group):
        if ep.name == name:
            try:
                return ep.load()
            except Exception as exc:  # a broken plugin: name it instead of a traceback
                raise UnknownReference(f"entry point '{name}' of {group} ({ep.value}) failed to load: "
                                       f"{type(exc).__name__}: {exc}") from None
    return None
