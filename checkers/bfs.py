"""A generic, deterministic, level-by-level breadth-first model checker.

It drives any :class:`model.core.Engine` and counts exactly as TLC does:

* a successor that violates the state constraint counts as *generated* but is neither stored, checked nor
  expanded;
* every distinct state (one per symmetry orbit with ``symmetry=True``) is checked against the state
  invariants, and every explored step against the transition properties;
* ``depth`` is the longest shortest path from an initial state, in steps; TLC reports ``depth + 1``.

States are stored once, in discovery order, with a parent index and the action id that reached them, so
the counterexample to the first violation found is a shortest one, rebuilt (labels, readable states) only
then.  Predicates are memoised on the part of the state they declare they read (``reads=``).  On an engine
that packs server components into slots (``server_slots``): state invariants declared over servers
(``OverServers``) are judged per component and pair of components, each once per run; transition properties
declared per server (``per_server=``) are checked on the pairs (before, after) of the server components a
step changes, each pair once per run, and, when the engine reports the changes its memoised successors make
(``watch_server_steps``), when a change is made rather than per successor (recording runs, graphs and
liveness, keep the memo on pairs of projected states).  An engine that can leave out the successors outside
the constraint (``omitting_successors``) does so in the lean loop, counting them by action id.
"""

from __future__ import annotations

import gc
import time
from array import array
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from refmodel.invariants import Property
from refmodel.model.core import Engine, Label, Sid, slot_reader

#: How many states to expand between looks at the clock (time limit, progress).
CLOCK_EVERY = 512
#: Size (in entries) the transition-property memo may reach before it starts a new generation (entries of
#: the previous one move back when used, the rest is dropped at the next turn): bounds its memory (about 100
#: bytes an entry, two generations at most) on long runs at a small cost in re-evaluations.
STEP_MEMO_CAP = 1 << 18
#: Action ids below this are counted in a list indexed by aid (above it, by action name directly).
FIRED_BY_AID = 1 << 20
#: Size (in entries) the state-invariant memo may reach before it starts afresh (about 80 bytes an entry).
STATE_MEMO_CAP = 1 << 19


@dataclass(frozen=True)
class Limits:
    """Where a run stops early, with verdict ``incomplete``."""

    max_states: int | None = None  # distinct states
    max_depth: int | None = None  # levels beyond the initial states
    time_limit: float | None = None  # seconds


@dataclass
class Step:
    """One step of a trace: the action taken (``None`` for the initial state) and the state reached."""

    action: Label | None
    state: dict[str, Any]  # rendered (JSON-able)
    raw: Any = field(repr=False, default=None)  # the readable state object


@dataclass
class Violation:
    """The first violated property and a shortest trace to it."""

    invariant: str
    kind: str  # "state" or "transition"
    doc: str
    trace: list[Step]
    why: str = ""  # the predicate's explanation, when it returned a Fail
    servers: list[str] = field(default_factory=list)  # the servers involved

    @property
    def length(self) -> int:
        """Number of transitions in the trace."""
        return len(self.trace) - 1


@dataclass
class Transitions:
    """The explored graph in compressed rows: the edges of state ``v`` are ``aid[off[v]:off[v + 1]]`` and
    ``dst[...]`` (``-1``: the successor lies outside the bounds)."""

    states: list[Hashable]  # encoded states, by index
    initial: list[int]
    off: array
    aid: array
    dst: array
    parent: array  # BFS parent (-1 for initial states)
    via: array  # the action id that first reached each state

    def edges(self, v: int) -> range:
        return range(self.off[v], self.off[v + 1])


@dataclass
class Progress:
    """A snapshot handed to a progress callback."""

    distinct: int
    generated: int
    queue: int
    depth: int
    elapsed: float


@dataclass
class CheckResult:
    """Everything a run found, as plain data; reports render it."""

    verdict: str  # "pass", "violation" or "incomplete"
    protocol: str
    config: dict[str, Any]
    mutant: str | None
    symmetry: bool
    invariants: list[str]
    distinct_states: int
    generated_states: int
    depth: int
    elapsed_s: float
    levels: list[int]  # distinct states per BFS level
    action_fired: dict[str, int]  # successors generated per action (constraint-violating ones included)
    action_new: dict[str, int]  # distinct states first reached per action
    violation: Violation | None = None
    incomplete_reason: str | None = None
    vacuous: dict[str, str] = field(default_factory=dict)  # property -> its antecedent, which never held
    engine_stats: dict[str, int] = field(default_factory=dict)
    graph: Any = field(default=None, repr=False)  # networkx.DiGraph (MultiDiGraph if "labelled") when requested
    #: with ``graph="labelled"``: the encoded state of each graph node, by node id (``engine.decode`` reads it)
    graph_states: list[Hashable] | None = field(default=None, repr=False)
    #: states with no successor within the bounds, by kind: no enabled action at all (deadlock), every
    #: successor outside the bounds (cut_by_bounds), only fault actions enabled (faults_only)
    terminal: dict[str, int] = field(default_factory=dict)
    transitions: Any = field(default=None, repr=False)  # liveness.Transitions when requested
    liveness: list[Any] = field(default_factory=list)  # liveness.LivenessResult per liveness property

    @property
    def tlc_depth(self) -> int:
        return self.depth + 1

    @property
    def states_per_s(self) -> float:
        return self.distinct_states / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def generated_per_s(self) -> float:
        return self.generated_states / self.elapsed_s if self.elapsed_s > 0 else 0.0


class _Found(Exception):
    def __init__(self, prop: Property, path_end: int, edge: tuple[int, Hashable] | None = None) -> None:
        self.prop, self.path_end, self.edge = prop, path_end, edge


def _union_reads(props: Sequence[Property]) -> frozenset[str] | None:
    """What a group of predicates reads together (None: the whole state)."""
    reads: frozenset[str] = frozenset()
    for p in props:
        if p.reads is None:
            return None
        reads |= p.reads
    return reads


_NOTHING = object()


class _Checker:
    """What state and step checkers share: the properties, the projection on the union of the fields they
    read (None: they read everything), the fields to hide when decoding, and the antecedents still pending.

    On a memo miss a state is decoded with every field outside that union hidden, so a predicate that reads
    more than the group declared fails loudly rather than being answered from a stale memo key."""

    def __init__(self, engine: Engine, props: Sequence[Property]) -> None:
        self.engine, self.props = engine, list(props)
        self.cfg = engine.system.config
        reads = _union_reads(self.props)
        self.project = engine.projector(reads) if reads is not None and self.props else None
        fields = engine.system.state_fields
        self.hide = frozenset(fields) - reads if reads is not None and fields else frozenset()
        self.pending = [p for p in self.props if p.antecedent is not None]  # antecedent not yet seen to hold


class _StateChecker(_Checker):
    """Evaluates state invariants, memoised on the projection of the state.

    Invariants declared over servers (:class:`~refmodel.invariants.OverServers`), on an engine that packs
    server components into slots (``server_slots``), are evaluated on a miss term by term: per server
    component (with the other fields they read) and per pair of components, each once per run; only the other
    invariants are evaluated on the decoded state (memoised on their own reads), and the whole functions only
    when a term fails, to report the violation as they state it."""

    def __init__(self, engine: Engine, props: Sequence[Property]) -> None:
        super().__init__(engine, props)
        self.memo: set[Hashable] = set()
        slots = getattr(engine, "server_slots", None)
        terms = [p for p in self.props if p.over_servers is not None]
        self.terms: list[Property] = terms if slots is not None and self.project is not None else []
        if self.terms:
            self.slots = slots
            self.read_servers = slot_reader(slots[0], slots[2])
            self.server_objs = engine.server_objs  # type: ignore[attr-defined]
            fields = engine.system.state_fields or ()
            reads = _union_reads(terms)
            rest = (frozenset(fields) if reads is None else reads) - {getattr(engine, "server_field", "servers")}
            self.rest_project = engine.projector(rest) if rest else None
            self.rest_hide = frozenset(fields) - rest
            self.units_ok: set[Hashable] = set()  # (component, rest) on which every term of one server holds
            self.pairs_ok: set[int] = set()  # components a << width | b (a's server first) on which those of two do
            self.others = [p for p in self.props if p.over_servers is None]
            oreads = _union_reads(self.others)
            self.others_project = engine.projector(oreads) if oreads is not None and self.others else None
            self.others_hide = frozenset(fields) - oreads if oreads is not None and fields else frozenset()
            self.others_memo: set[Hashable] = set()

    def first_violated(self, e: Hashable) -> Property | None:
        if not self.props:
            return None
        if self.project is not None:
            key = self.project(e)
            if key in self.memo:
                return None
            if self.terms and self._terms_hold(e):  # (when a term fails, the whole functions say how)
                bad = self._others_violated(e) if self.others else None
                if bad is None:
                    self._remember(key)
                return bad
        state = self.engine.decode(e, self.hide)
        cfg = self.cfg
        for p in self.props:
            if not p.fn(cfg, state):
                return p
        for q in self.pending:  # (the pending list is rebuilt only when an antecedent holds)
            if q.antecedent(cfg, state):
                self.pending = [p for p in self.pending if not p.antecedent(cfg, state)]
                break
        if self.terms:  # a term failed, yet no whole function does
            raise RuntimeError("the over_servers terms of " + ", ".join(p.name for p in self.terms) +
                               " disagree with their functions on a state")
        if self.project is not None:
            self._remember(key)
        return None

    def _remember(self, key: Hashable, memo: set[Hashable] | None = None) -> None:
        memo = self.memo if memo is None else memo
        if len(memo) >= STATE_MEMO_CAP:  # bound the memory: forget, keep checking correctly
            memo.clear()
        memo.add(key)

    def _terms_hold(self, e: int) -> bool:
        """Every over-servers term holds on state ``e`` (each server component with the rest, each pair)."""
        w = self.slots[1]
        comps = self.read_servers(e)
        rest = self.rest_project(e) if self.rest_project is not None else None
        units, pairs = self.units_ok, self.pairs_ok
        if rest is None:  # the terms of one server read nothing else: keyed by the component alone
            for c in comps:
                if c not in units and not self._unit_holds(c, rest, e):
                    return False
        else:
            for c in comps:
                if (c, rest) not in units and not self._unit_holds(c, rest, e):
                    return False
        n = len(comps)
        for i in range(n):
            a = comps[i]
            for j in range(i + 1, n):
                if (a << w | comps[j]) not in pairs and not self._pair_holds(a, comps[j]):
                    return False
        return True

    def _unit_holds(self, c: int, rest: Hashable, e: int) -> bool:
        cfg, sv = self.cfg, self.server_objs[c]
        st = self.engine.decode(e, self.rest_hide)  # the servers hidden: terms of one server see the rest only
        for p in self.terms:
            one = p.over_servers.one  # type: ignore[union-attr]
            if one is not None and not one(cfg, sv, st):
                return False
        self._settle_antecedents(lambda t: t.one_holds is not None and t.one_holds(cfg, sv, st))
        self.units_ok.add(c if rest is None else (c, rest))
        return True

    def _pair_holds(self, a: int, b: int) -> bool:
        cfg, x, y = self.cfg, self.server_objs[a], self.server_objs[b]
        for p in self.terms:
            two = p.over_servers.two  # type: ignore[union-attr]
            if two is not None and not two(cfg, x, y):
                return False
        self._settle_antecedents(lambda t: t.two_holds is not None and t.two_holds(cfg, x, y))
        self.pairs_ok.add(a << self.slots[1] | b)
        return True

    def _settle_antecedents(self, holds: Callable[[Any], bool]) -> None:
        """A term of a state met holds: so does its property's antecedent, on that state."""
        if self.pending:
            self.pending = [p for p in self.pending if p.over_servers is None or not holds(p.over_servers)]

    def _others_violated(self, e: Hashable) -> Property | None:
        """The first invariant not declared over servers that fails on ``e`` (memoised on what they read)."""
        key = self.others_project(e) if self.others_project is not None else None
        if key is not None and key in self.others_memo:
            return None
        state, cfg = self.engine.decode(e, self.others_hide), self.cfg
        for p in self.others:
            if not p.fn(cfg, state):
                return p
        if any(p.over_servers is None for p in self.pending):
            self.pending = [p for p in self.pending if p.over_servers is not None or not p.antecedent(cfg, state)]
        if key is not None:
            self._remember(key, self.others_memo)
        return None


class _StepChecker(_Checker):
    """Evaluates transition properties on every step, memoised on the pair of projected states: for each
    projected pre-state, the set of projected post-states already known to satisfy every property."""

    def __init__(self, engine: Engine, props: Sequence[Property]) -> None:
        super().__init__(engine, props)
        self.memo: dict[Hashable, set[Hashable]] = {}
        #: the previous generation of the memo (when the memo outgrew its cap): entries move back on use
        self.old: dict[Hashable, set[Hashable]] = {}
        self.decoded: dict[Hashable, Any] = {}  # projection -> readable state (hidden fields outside it)
        self.active = bool(self.props)
        self.size, self.cap = 0, STEP_MEMO_CAP
        self._last_s: Hashable = _NOTHING  # the pre-state of the last step checked, and its readable form
        self._last_a: Any = None
        #: per-server mode: every property is a conjunction over servers (Property.per_server) and the engine
        #: packs server components into slots (``server_slots``: shifts, width, mask): a step is then checked
        #: on the pairs (component before, after) of its servers, each pair once per run, instead of on the
        #: pair of whole servers parts (nearly all distinct)
        self.pairs: tuple[tuple[int, ...], int, int] | None = None
        self.pair_ok: set[int] = set()  # pairs a << width | b on which every property holds
        self.doubtful: set[int] = set()  # pairs reported by a watching engine, not known to hold (see watch)
        self._settled_at: tuple[int, int] = (-1, -1)  # (pairs known, antecedents pending) at the last settle
        self._tables: tuple[int, list[int], list[int]] | None = None  # see pair_tables
        self.parts_ok: set[int] = set()  # servers parts whose servers left alone keep every property (left_alone)
        self.judged: set[int] = set()  # components judged left alone by judge_state
        slots = getattr(engine, "server_slots", None)
        if (self.props and slots is not None and self.project is not None
                and all(p.per_server is not None and (p.antecedent is None) == (p.per_server[1] is None)
                        for p in self.props)):
            self.pairs = slots
            self.server_objs = engine.server_objs  # type: ignore[attr-defined]

    def pair_holds(self, a: int, b: int, antecedents: bool = True) -> bool:
        """Every property holds for a server going from component ``a`` to ``b`` (remembered when so; the
        pending antecedents are evaluated on the pair, as on a step, unless told not to)."""
        objs, cfg = self.server_objs, self.cfg
        x, y = objs[a], objs[b]
        for p in self.props:
            if not p.per_server[0](cfg, x, y):  # type: ignore[index]
                return False
        if antecedents:
            for q in self.pending:
                if q.per_server[1](cfg, x, y):  # type: ignore[index,misc]
                    self.pending = [p for p in self.pending if not p.per_server[1](cfg, x, y)]  # type: ignore[index,misc]
                    break
        self.pair_ok.add(a << self.pairs[1] | b)  # type: ignore[index]
        return True

    def servers_hold(self, s: int) -> tuple[int, ...] | None:
        """Whether every property holds for each server of ``s`` left as it is (None: not so); when so, the
        shifts of the servers on which a pending antecedent holds when left as they are (usually none): the
        caller tells :meth:`kept` when a step leaves one of them alone (only then has the antecedent held)."""
        shifts, w, mask = self.pairs  # type: ignore[misc]
        ok = self.pair_ok
        hot: tuple[int, ...] = ()
        cfg, objs = self.cfg, self.server_objs
        for sh in shifts:
            c = (s >> sh) & mask
            if (c << w | c) not in ok and not self.pair_holds(c, c, antecedents=False):
                return None
            if self.pending:
                x = objs[c]
                for q in self.pending:
                    if q.per_server[1](cfg, x, x):  # type: ignore[index,misc]
                        hot += (sh,)
                        break
        return hot

    def watch(self) -> bool:
        """Have the engine report the server changes its memoised successors make, as they are made
        (``engine.watch_server_steps``), so that steps need no per-successor check while every reported pair
        is known to keep the properties and to leave the pending antecedents false (see :meth:`reported`);
        False if the engine cannot (then every step is checked on its pairs)."""
        watch = getattr(self.engine, "watch_server_steps", None)
        return self.pairs is not None and watch is not None and bool(watch(self.reported))

    def reported(self, a: int, b: int) -> None:
        """The engine made a successor entry taking a server from component ``a`` to ``b``: a pair on which a
        property fails or a pending antecedent holds is *doubtful* (steps are then checked one by one until
        the pairs are settled by steps that happen: a reported entry may never yield a step), else known to
        hold.  Antecedents are evaluated here only to decide that, never marked: only steps mark them.  The
        pair (b, b), a server left at ``b`` by a later step, is decided alike (with the initial states'
        components, see :meth:`initial`, that covers every component a state can hold: no per-state check of
        the servers a step leaves alone while nothing is doubtful)."""
        self._decide(a, b)
        self._decide(b, b)  # the new component, left as it is by a later step

    def judge_state(self, s: int) -> None:
        """A watching engine reports changes only: the components of a state it did not make (an initial state;
        in a partitioned search, one another worker's engine made) judged left alone, each component once."""
        shifts, _, mask = self.pairs  # type: ignore[misc]
        judged = self.judged
        for sh in shifts:
            c = (s >> sh) & mask
            if c not in judged:
                judged.add(c)
                self.judge_kept(c)

    def judge_kept(self, c: int) -> None:
        """Component ``c`` left as it is by a step: known to hold, or doubtful (see :meth:`reported`)."""
        self._decide(c, c)

    def _decide(self, a: int, b: int) -> None:
        """The pair (a, b) known to hold, or doubtful (see :meth:`reported`), unless known already."""
        key = a << self.pairs[1] | b  # type: ignore[index]
        if key not in self.pair_ok:
            if self._doubtful_pair(a, b):
                self.doubtful.add(key)
            else:
                self.pair_ok.add(key)

    def _doubtful_pair(self, a: int, b: int) -> bool:
        objs, cfg = self.server_objs, self.cfg
        x, y = objs[a], objs[b]
        for p in self.props:
            if not p.per_server[0](cfg, x, y):  # type: ignore[index]
                return True
        for q in self.pending:
            if q.per_server[1](cfg, x, y):  # type: ignore[index,misc]
                return True
        return False

    def settle(self) -> None:
        """Drop from the doubtful pairs those now known to hold (checked on a step, or their antecedents
        settled by other steps); nothing to do unless a pair was checked or an antecedent held since the last
        time (a pair that fails where no step ever takes it stays doubtful, and is not judged again and
        again)."""
        if (len(self.pair_ok), len(self.pending)) == self._settled_at:
            return
        w, mask = self.pairs[1], self.pairs[2]  # type: ignore[index]
        ok, left = self.pair_ok, set()
        for key in self.doubtful:
            if key in ok:
                continue
            if self._doubtful_pair(key >> w, key & mask):
                left.add(key)
            else:
                ok.add(key)
        self.doubtful = left
        self._settled_at = (len(ok), len(self.pending))

    def pair_tables(self) -> tuple[int, list[int], list[int]]:
        """The bits of the servers' slots, and per bit position (``bit_length()`` of a difference) the shift of
        the server slot holding it and the mask of the bits below that slot (built once)."""
        if self._tables is None:
            shifts, w, mask = self.pairs  # type: ignore[misc]
            bits = 0
            for sh in shifts:
                bits |= mask << sh
            top = [0] * (max(shifts) + w + 1)
            below = [0] * len(top)
            for sh in shifts:
                for bit in range(sh + 1, sh + w + 1):
                    top[bit], below[bit] = sh, (1 << sh) - 1
            self._tables = (bits, top, below)
        return self._tables

    def left_alone(self, s: int) -> tuple[int, ...] | None:
        """:meth:`servers_hold` for state ``s``, remembered by servers part when it is ``()`` (evaluating it
        then has no effect of its own: only steps mark antecedents); what :meth:`pair_step` starts from."""
        sp = s & self.pair_tables()[0]
        if sp in self.parts_ok:
            return ()
        whole = self.servers_hold(s)
        if whole == ():
            self.parts_ok.add(sp)
        return whole

    def pair_step(self, s: int, t: int, whole: tuple[int, ...] | None,
                  ) -> tuple[Property | None, tuple[int, ...] | None]:
        """Check the step ``s -> t`` on the pairs of server components it changes (``whole``: what
        :meth:`left_alone` said of ``s``, as the previous steps from ``s`` left it): the first property it
        violates (None: none), and what ``whole`` becomes (a pending antecedent that held on a server the step
        leaves alone is settled)."""
        if whole is None:  # a server left alone breaks a property: check whole steps
            return self.first_violated(s, t, None), None
        bits, top, below = self.pair_tables()
        _, w, mask = self.pairs  # type: ignore[misc]
        x = (s ^ t) & bits
        if whole:  # a pending antecedent holds on a server if the step leaves it alone
            for sh in whole:
                if not (x >> sh) & mask:
                    self.kept((s >> sh) & mask)
            if not self.pending:
                whole = ()
        ok = self.pair_ok
        while x:  # the changed servers, highest first (most steps change one)
            bl = x.bit_length()
            sh = top[bl]
            a, b = (s >> sh) & mask, (t >> sh) & mask
            if (a << w | b) not in ok and not self.pair_holds(a, b):
                if (bad := self.first_violated(s, t, None)) is not None:
                    return bad, whole
            x &= below[bl]
        return None, whole

    def kept(self, c: int) -> None:
        """A step left a server at component ``c``: the pending antecedents are evaluated on (c, c)."""
        x, cfg = self.server_objs[c], self.cfg
        self.pending = [p for p in self.pending if not p.per_server[1](cfg, x, x)]  # type: ignore[index,misc]

    def known_ok(self, s: Hashable) -> set[Hashable] | None:
        """The memo entry for steps from ``s`` (None: no projection, check every step)."""
        if self.project is None:
            return None
        ps = self.project(s)
        ok = self.memo.get(ps)
        if ok is None:
            ok = self.old.pop(ps, None)
            if ok is None:
                ok = set()
            self.memo[ps] = ok
            self.size += 8 + len(ok)  # a set costs about as much as eight entries
        return ok

    def first_violated(self, s: Hashable, t: Hashable, ok: set[Hashable] | None,
                       pt: Hashable = None) -> Property | None:
        """Check the step s -> t (the caller has already looked ``t``'s projection up in ``ok``; it may pass
        that projection as ``pt``)."""
        if s is self._last_s:  # the steps from one state come in a row: decode it once
            a = self._last_a
        else:
            a = self._last_a = self._decode(s)
            self._last_s = s
        if pt is None and self.project is not None:
            pt = self.project(t)
        b = self._decode(t, pt)
        cfg = self.cfg
        for p in self.props:
            if not p.fn(cfg, a, b):
                return p
        for q in self.pending:  # (the pending list is rebuilt only when an antecedent holds)
            if q.antecedent(cfg, a, b):
                self.pending = [p for p in self.pending if not p.antecedent(cfg, a, b)]
                break
        if ok is not None:
            ok.add(pt)
            self.size += 1
            if self.size > self.cap:  # bound the memory: a new generation; what the old one knows and is
                self.old = self.memo  # used again moves back, the rest is forgotten at the next turn
                self.memo = {self.project(s): ok}  # the caller still holds ``ok``: keep it attached
                self.decoded.clear()
                self.size = 8 + len(ok)
        return None

    def _decode(self, e: Hashable, key: Hashable = None) -> Any:
        if self.project is None:
            return self.engine.decode(e, self.hide)
        if key is None:
            key = self.project(e)
        st = self.decoded.get(key)
        if st is None:
            st = self.decoded[key] = self.engine.decode(e, self.hide)
        return st


def check(engine: Engine, properties: Sequence[Property] = (), *, symmetry: bool = False,
          limits: Limits = Limits(), graph: bool | str = False,
          progress: Callable[[Progress], None] | None = None, progress_every: float = 1.0,
          deadlock: bool = False, transitions: bool = False) -> CheckResult:
    """Explore every state reachable from ``engine.initial()`` breadth-first; see the module docstring.

    ``graph``: also build the state graph (``"labelled"``: a MultiDiGraph with one edge per action instance).
    ``deadlock``: a reachable state with no enabled action at all is a violation (verdict ``deadlock``, with a
    shortest path to it), as TLC checks by default; states whose every successor lies outside the bounds,
    and states where only fault actions are enabled, are then counted (``terminal``) but are not deadlocks.
    ``transitions``: keep every transition (for liveness checking: :mod:`refmodel.checkers.liveness`)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the exploration creates no reference cycles; collections would only cost time
    try:
        return _check(engine, properties, symmetry, limits, graph, progress, progress_every, deadlock, transitions)
    finally:
        if gc_was_enabled:
            gc.enable()


def _check(engine: Engine, properties: Sequence[Property], symmetry: bool, limits: Limits, graph: bool | str,
           progress: Callable[[Progress], None] | None, progress_every: float, deadlock: bool = False,
           transitions: bool = False) -> CheckResult:
    t0 = time.perf_counter()
    system = engine.system
    state_props = [p for p in properties if p.kind == "state"]
    step_props = [p for p in properties if p.kind == "transition"]
    inv = _StateChecker(engine, state_props)
    stepc = _StepChecker(engine, step_props)
    step_project = stepc.project
    names = list(engine.action_names)
    k_names = len(names)
    fired = [0] * k_names
    new_by = [0] * k_names

    canonical = engine.canonical if symmetry else None
    states: list[Hashable] = []  # raw encoded states, in discovery order
    parent = array("i")  # index of the state it was first reached from (-1 for initial states)
    via = array("i")  # action id that first reached it (-1 for initial states); "q" if an id needs it
    keep_index = graph or transitions
    seen: dict[Hashable, int] | set[Hashable] = {} if keep_index else set()
    edges: list[tuple[int, int, int]] = []  # (from, aid, to), graph mode only
    t_off, t_aid, t_dst = array("q", [0]), array("q"), array("q")  # transitions mode: compressed rows
    fault_ids = {k for k, name in enumerate(names) if name in getattr(system, "fault_actions", ())}
    # states with no enabled action; with deadlock checking, also those cut by the bounds or left to faults
    terminal = {"deadlock": 0, "cut_by_bounds": 0, "faults_only": 0} if deadlock else {"deadlock": 0}
    levels: list[int] = []
    generated = 0
    verdict, reason, found = "pass", None, None
    max_states = limits.max_states
    deadline = None if limits.time_limit is None else t0 + limits.time_limit
    next_report = t0 + progress_every

    fired_aid: list[int] = []  # successors generated per action id
    # an engine that can leave out the successors outside the constraint, counting them by action id instead
    # (``missing()``: those counts so far)
    # (not when terminal states are told apart, which needs them one by one)
    omitting = getattr(engine, "omitting_successors", None)
    successors, missing = omitting() if omitting is not None and not keep_index and not deadlock else \
        (engine.successors, None)
    expanding = -1  # the state whose successors the loop is going through (-1: between states)
    unfired: list[int] = []
    # the hot loop's look-ups, as locals
    states_append, parent_append, via_append = states.append, parent.append, via.append
    seen_add = None if keep_index else seen.add  # type: ignore[union-attr]
    step_on, known_ok = stepc.active, stepc.known_ok
    inv_on, inv_project, inv_memo = bool(inv.props), inv.project, inv.memo
    pairs_on = step_on and stepc.pairs is not None
    watched = False
    if pairs_on:
        watched = not keep_index and stepc.watch()  # the engine reports server changes as it makes them

    def add(e: Hashable, key: Hashable, p: int, aid: int) -> int:
        idx = len(states)
        states.append(e)
        parent.append(p)
        via.append(aid)
        if keep_index:
            seen[key] = idx  # type: ignore[index]
        else:
            seen.add(key)  # type: ignore[union-attr]
        return idx

    try:
        for e in engine.initial():
            generated += 1
            key = canonical(e) if canonical else e
            if key in seen:
                continue
            idx = add(e, key, -1, -1)
            if watched:
                stepc.judge_state(e)  # type: ignore[arg-type]
            if (bad := inv.first_violated(e)) is not None:
                raise _Found(bad, idx)
        levels.append(len(states))
        lo, hi = 0, len(states)
        depth = 0
        countdown = CLOCK_EVERY
        while lo < hi:
            at_depth_limit = limits.max_depth is not None and depth >= limits.max_depth
            for p in range(lo, hi):
                s = states[p]
                succ = successors(s)
                expanding = p
                generated += len(succ)
                if not succ and (missing is None or not engine.successors(s)):
                    terminal["deadlock"] += 1
                    if deadlock:
                        raise _Found(DEADLOCK, p)
                elif deadlock:
                    count_terminal(terminal, succ, fault_ids, k_names)
                steps_here = step_on
                pair_steps = False  # steps checked on the pairs of server components they change
                if watched and not stepc.doubtful:
                    steps_here = False  # every pair the successors can have, changed or kept, is known to hold
                elif not keep_index and pairs_on:  # per-server step properties: see _StepChecker.pairs
                    whole = stepc.left_alone(s)
                    pair_steps = True
                ok_steps = known_ok(s) if steps_here and succ and not pair_steps else None
                if not keep_index:  # the same loop as below, less the recording of edges (most runs)
                    for aid, t in succ:
                        try:
                            fired_aid[aid] += 1
                        except IndexError:
                            if aid < FIRED_BY_AID:
                                fired_aid.extend([0] * (aid + 1024 - len(fired_aid)))
                                fired_aid[aid] += 1
                            else:
                                fired[aid % k_names] += 1
                        if t is None:
                            continue
                        if steps_here:
                            if pair_steps:
                                bad, whole = stepc.pair_step(s, t, whole)
                                if bad is not None:
                                    raise _Found(bad, p, (aid, t))
                            elif ok_steps is None:
                                if (bad := stepc.first_violated(s, t, None)) is not None:
                                    raise _Found(bad, p, (aid, t))
                            elif (pt := step_project(t)) not in ok_steps:
                                if (bad := stepc.first_violated(s, t, ok_steps, pt)) is not None:
                                    raise _Found(bad, p, (aid, t))
                        if t == s or t in seen:  # (seen holds the raw states stored too: no canonical form needed)
                            continue
                        if canonical is None:
                            key = t
                        else:
                            key = canonical(t)
                            if key in seen:
                                continue
                        if at_depth_limit:
                            verdict, reason = "incomplete", f"depth limit {limits.max_depth} reached"
                            continue
                        idx = len(states)
                        states_append(t)
                        parent_append(p)
                        try:
                            via_append(aid)
                        except OverflowError:  # an action id beyond 32 bits: widen
                            via = array("q", via)
                            via_append = via.append
                            via_append(aid)
                        seen_add(key)
                        if canonical is not None and key != t:
                            seen_add(t)
                        new_by[aid % k_names] += 1
                        if inv_on and (inv_project is None or inv_project(t) not in inv_memo):
                            if (bad := inv.first_violated(t)) is not None:
                                raise _Found(bad, idx)
                        if max_states is not None and len(states) >= max_states:
                            raise _Stop(f"state limit {max_states} reached")
                    succ = ()  # the loop below has nothing left to do
                    if watched and stepc.doubtful:
                        stepc.settle()
                for aid, t in succ:
                    try:  # counted per aid (no modulo per successor), folded into actions at the end
                        fired_aid[aid] += 1
                    except IndexError:
                        if aid < FIRED_BY_AID:
                            fired_aid.extend([0] * (aid + 1024 - len(fired_aid)))
                            fired_aid[aid] += 1
                        else:  # a model with very many action instances: count by action directly
                            fired[aid % k_names] += 1
                    if t is None:
                        if transitions:
                            t_aid.append(aid)
                            t_dst.append(-1)
                        continue
                    if step_on and (ok_steps is None or step_project(t) not in ok_steps):
                        if (bad := stepc.first_violated(s, t, ok_steps)) is not None:
                            raise _Found(bad, p, (aid, t))
                    key = t if canonical is None else canonical(t)
                    if key in seen:
                        if keep_index:  # one test on the hot path for both recordings
                            if graph:
                                edges.append((p, aid, seen[key]))  # type: ignore[index]
                            if transitions:
                                t_aid.append(aid)
                                t_dst.append(seen[key])  # type: ignore[index]
                        continue
                    if at_depth_limit:
                        verdict, reason = "incomplete", f"depth limit {limits.max_depth} reached"
                        continue
                    idx = len(states)  # add(t, key, p, aid), inlined
                    states_append(t)
                    parent_append(p)
                    try:
                        via_append(aid)
                    except OverflowError:  # an action id beyond 32 bits: widen
                        via = array("q", via)
                        via_append = via.append
                        via_append(aid)
                    new_by[aid % k_names] += 1
                    if keep_index:
                        seen[key] = idx  # type: ignore[index]
                        if graph:
                            edges.append((p, aid, idx))
                        if transitions:
                            t_aid.append(aid)
                            t_dst.append(idx)
                    else:
                        seen_add(key)
                    # the invariants' memo is looked up here; inv.first_violated looks again on a miss
                    if inv_on and (inv_project is None or inv_project(t) not in inv_memo):
                        if (bad := inv.first_violated(t)) is not None:
                            raise _Found(bad, idx)
                    if max_states is not None and len(states) >= max_states:
                        raise _Stop(f"state limit {max_states} reached")
                if transitions:
                    t_off.append(len(t_aid))
                expanding = -1
                countdown -= 1
                if countdown == 0:
                    countdown = CLOCK_EVERY
                    now = time.perf_counter()
                    if deadline is not None and now >= deadline:
                        raise _Stop(f"time limit {limits.time_limit:g}s reached")
                    if progress is not None and now >= next_report:
                        next_report = now + progress_every
                        gen = generated if missing is None else generated + sum(missing().values())
                        progress(Progress(len(states), gen, len(states) - p - 1, depth + 1, now - t0))
            if at_depth_limit or len(states) == hi:
                break
            levels.append(len(states) - hi)
            lo, hi = hi, len(states)
            depth += 1
    except _Found as f:
        verdict = "violation"
        found = _trace(engine, states, parent, via, f)
        if missing is not None and expanding >= 0:
            unfired = _missing_after(engine, states, parent, via, expanding, f.edge or f.path_end)
    except _Stop as stop:
        verdict, reason = "incomplete", str(stop)
        if missing is not None and expanding >= 0:
            unfired = _missing_after(engine, states, parent, via, expanding, len(states) - 1)
    for aid, cnt in enumerate(fired_aid):
        if cnt:
            fired[aid % k_names] += cnt
    if missing is not None:  # the successors the engine left out, counted as generated and fired
        left_out = missing()
        generated += sum(left_out.values())
        for aid, cnt in left_out.items():
            fired[aid % k_names] += cnt
        for aid in unfired:  # (those after the successor where the run stopped: generated, not yet fired)
            fired[aid % k_names] -= 1
    if len(states) > sum(levels):  # the level being filled when the run stopped
        levels.append(len(states) - sum(levels))
    depth = len(levels) - 1
    elapsed = time.perf_counter() - t0
    g = None
    if graph:
        from refmodel.checkers.graph import build_graph

        g = build_graph(engine, states, parent, via, edges, labelled=graph == "labelled")
    if found is not None and found.invariant == DEADLOCK.name:
        verdict = "deadlock"
    trans = None
    if transitions and verdict == "pass":
        trans = Transitions(states=states, initial=list(range(levels[0] if levels else 0)), off=t_off, aid=t_aid,
                            dst=t_dst, parent=parent, via=via)
    return CheckResult(
        verdict=verdict, protocol=system.protocol, config=_config_dict(system.config),
        mutant=getattr(system, "mutant", None), symmetry=symmetry, invariants=[p.name for p in properties],
        distinct_states=len(states), generated_states=generated, depth=depth, elapsed_s=elapsed,
        levels=levels, action_fired=dict(zip(names, fired)), action_new=dict(zip(names, new_by)),
        violation=found, incomplete_reason=reason, engine_stats=engine.stats(), graph=g,
        graph_states=states if graph == "labelled" else None, terminal=terminal, transitions=trans,
        vacuous={} if found else {p.name: p.antecedent_doc for p in inv.pending + stepc.pending})


class _Stop(Exception):
    pass


def _missing_after(engine: Engine, states: list[Hashable], parent: Sequence[int], via: Sequence[int], p: int,
                   stop: tuple[int, Hashable] | int) -> list[int]:
    """The action ids of the successors outside the constraint that state ``p`` lists after the one where the
    run stopped (``stop``: that step, or the index of the state it reached): an omitting engine counted them
    as fired with the rest of ``p``'s successors, the loop would not have reached them."""
    if isinstance(stop, int):
        if stop < 0 or parent[stop] != p:
            return []
        stop = (via[stop], states[stop])
    full = engine.successors(states[p])
    for k, step in enumerate(full):
        if step[1] is not None and step == stop:
            return [aid for aid, t in full[k + 1:] if t is None]
    return []


def count_terminal(terminal: dict[str, int], succ: Sequence[tuple[int, Hashable | None]], fault_ids: set[int],
                   k: int) -> None:
    """Under deadlock detection, tell apart a state that has successors yet is no deadlock's cause: none of
    them within the bounds (``cut_by_bounds``), or only fault actions enabled (``faults_only``).  Loops, not
    generators: this runs for every state."""
    for _, t in succ:
        if t is not None:
            break
    else:
        terminal["cut_by_bounds"] += 1
    if fault_ids:
        for aid, _ in succ:
            if aid % k not in fault_ids:
                break
        else:
            terminal["faults_only"] += 1


def _no_action_enabled(cfg: Any, s: Any) -> Any:
    """No action is enabled: the system is stuck (a deadlock)."""
    from refmodel.invariants import Fail

    return Fail("no action of the model is enabled in this state")


#: the pseudo-property a deadlock violates (``deadlock=True``)
DEADLOCK = Property(name="deadlock", protocol=None, fn=_no_action_enabled, kind="state", reads=None, default=False,
                    doc="Some action is always enabled (no reachable state is a deadlock).")


def _config_dict(cfg: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    if cfg is None:
        return {}
    return asdict(cfg) if is_dataclass(cfg) else dict(vars(cfg))


def path_to(parent: Sequence[int], idx: int) -> list[int]:
    """Indices of the states on the stored path from an initial state to ``idx``."""
    path = []
    while idx >= 0:
        path.append(idx)
        idx = parent[idx]
    return path[::-1]


def _trace(engine: Engine, states: list[Hashable], parent: Sequence[int], via: Sequence[int],
           f: _Found) -> Violation:
    system = engine.system
    steps = []
    for idx in path_to(parent, f.path_end):
        raw = engine.decode(states[idx])
        steps.append(Step(None if via[idx] < 0 else engine.label(via[idx]), system.render(raw), raw))
    if f.edge is not None:
        aid, t = f.edge
        raw = engine.decode(t)
        steps.append(Step(engine.label(aid), system.render(raw), raw))
    cfg = system.config
    verdict = (f.prop.fn(cfg, steps[-1].raw) if f.prop.kind == "state"
               else f.prop.fn(cfg, steps[-2].raw, steps[-1].raw))
    why, servers = getattr(verdict, "why", ""), list(getattr(verdict, "servers", []))
    if not servers and steps[-1].action is not None:  # fall back on the identities the last action names
        servers = sorted({str(v) for _, v in steps[-1].action.params if isinstance(v, Sid)})
    return Violation(invariant=f.prop.name, kind=f.prop.kind, doc=f.prop.doc, trace=steps, why=why,
                     servers=servers)
