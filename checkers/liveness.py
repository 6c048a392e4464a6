"""Liveness under fairness on the explored state graph: ``<>P``, ``[]<>P`` and ``P ~> Q``.

The graph is the one BFS explored (the states within the bounds, every transition between them, and for
each state the actions that are enabled but lead outside the bounds).  As in TLA+, a behaviour may stutter
(repeat its state) at any point, so every state carries an implicit stuttering loop; without fairness any
liveness property therefore fails at once.  A fairness assumption rules behaviours out:

* ``wf:A`` (weak fairness): a behaviour that, from some point on, has ``A`` enabled in every state must take
  ``A`` infinitely often;
* ``sf:A`` (strong fairness): a behaviour that has ``A`` enabled infinitely often must take it infinitely
  often.

``A`` is an action name (any of its instances counts); ``wf:A[*]`` assumes it for every instance separately
(e.g. for each server: ``WF(Timeout(i))`` for every i).

A property fails exactly when some fair behaviour violates it, and on a finite graph such a behaviour ends
in a strongly connected component (SCC) that it traverses forever: ``<>P`` fails when a fair SCC of ``~P``
states is reachable from an initial state through ``~P`` states; ``[]<>P`` when a fair SCC of ``~P`` states
is reachable at all; ``P ~> Q`` when a fair SCC of ``~Q`` states is reachable through ``~Q`` states from a
reachable state satisfying ``P /\\ ~Q``.  An SCC is fair when, traversing all of it, every weak-fairness
action is taken on one of its edges or disabled in one of its states, and every strong-fairness action is
taken on one of its edges or enabled in none of its states; an SCC that fails a strong-fairness condition
may still contain a fair one among its states where that action is disabled (Emerson and Lei's
algorithm).  The counterexample is a lasso: a shortest prefix from an initial state and a cycle through the
fair SCC that shows each fairness condition met.

Under the state constraint (TLC checks liveness on the constrained graph in the same way): an action
whose every successor lies outside the bounds is *enabled* but can never be *taken*, so a fairness
assumption on it makes every cycle through such a state unfair and can hide a violation; and a cycle may
exist only because the bounds cut off the way out of it.  Both are reported as warnings with the result.
Symmetry reduction is refused: a cycle between orbit representatives need not be a cycle of the model.
"""

from __future__ import annotations

import time
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from refmodel.checkers.bfs import Step, Transitions
from refmodel.model.core import Engine

FORMS = ("eventually", "always_eventually", "leads_to")


@dataclass(frozen=True)
class Fairness:
    """``wf:A``, ``sf:A``, or per instance ``wf:A[*]``."""

    kind: str  # "wf" or "sf"
    action: str
    per_instance: bool = False

    def __str__(self) -> str:
        return f"{self.kind}:{self.action}{'[*]' if self.per_instance else ''}"

    @staticmethod
    def parse(text: str, actions: Sequence[str]) -> Fairness:
        kind, sep, name = text.strip().partition(":")
        if not sep or kind.lower() not in ("wf", "sf") or not name:
            raise ValueError(f"fairness '{text}': expected wf:Action, sf:Action or wf:Action[*]")
        per = name.endswith("[*]")
        name = name[:-3] if per else name
        if name not in actions:
            raise ValueError(f"fairness '{text}': no action '{name}' (actions: {', '.join(actions)})")
        return Fairness(kind.lower(), name, per)


@dataclass
class LivenessResult:
    """The verdict on one liveness property: ``holds`` or ``violated`` with a lasso."""

    property: str
    form: str
    doc: str
    fairness: list[str]
    holds: bool
    prefix: list[Step] = field(default_factory=list)  # from an initial state to the cycle's first state
    cycle: list[Step] = field(default_factory=list)  # steps from that state back to it ([]: stuttering)
    warnings: list[str] = field(default_factory=list)
    sccs_examined: int = 0
    elapsed_s: float = 0.0

    @property
    def stutters(self) -> bool:
        """The violating behaviour ends by stuttering for ever in the last state of the prefix."""
        return not self.holds and not self.cycle


class _Constraint:
    """One fairness condition, on action ids: which ids it concerns."""

    __slots__ = ("kind", "ids", "text")

    def __init__(self, kind: str, ids: frozenset[int], text: str) -> None:
        self.kind, self.ids, self.text = kind, ids, text


def _constraints(engine: Engine, tr: Transitions, fairness: Sequence[Fairness]) -> list[_Constraint]:
    names = list(engine.action_names)
    k = len(names)
    every = sorted(set(tr.aid))
    out = []
    for f in fairness:
        a = names.index(f.action)
        ids = [x for x in every if x % k == a]
        if f.per_instance:
            out += [_Constraint(f.kind, frozenset([x]), f"{f.kind}:{engine.label(x)}") for x in ids]
        else:
            out.append(_Constraint(f.kind, frozenset(ids), str(f)))
    return out


def _sccs(tr: Transitions, nodes: set[int]) -> list[list[int]]:
    """The strongly connected components of the graph restricted to ``nodes`` (iterative Tarjan over flat
    arrays, so that a graph of millions of states takes no per-state objects)."""
    n = len(tr.states)
    inside = bytearray(n)
    for v in nodes:
        inside[v] = 1
    index = array("q", [-1]) * n
    low = array("q", [0]) * n
    on = bytearray(n)
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    off, dst = tr.off, tr.dst
    for root in sorted(nodes):
        if index[root] >= 0:
            continue
        work = [root, off[root]]  # pairs (state, next edge), flattened
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on[root] = 1
        while work:
            v, i = work[-2], work[-1]
            end = off[v + 1]
            descended = False
            while i < end:
                w = dst[i]
                i += 1
                if w < 0 or not inside[w]:
                    continue
                if index[w] < 0:
                    work[-1] = i
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on[w] = 1
                    work += (w, off[w])
                    descended = True
                    break
                if on[w] and index[w] < low[v]:
                    low[v] = index[w]
            if descended:
                continue
            del work[-2:]
            if work:
                u = work[-2]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on[w] = 0
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


def _fair_scc(tr: Transitions, comp: list[int], cons: list[_Constraint], budget: list[int]
              ) -> tuple[set[int], list[tuple[_Constraint, str]]] | None:
    """A fair SCC within ``comp`` (itself an SCC, stuttering loops included), with how each condition is
    met (``taken`` or ``disabled``/``never``), or None."""
    budget[0] += 1
    if len(comp) == 1:  # most components: one state, its own loops (and stuttering)
        v = comp[0]
        here = [tr.aid[e] for e in tr.edges(v)]
        loops = {tr.aid[e] for e in tr.edges(v) if tr.dst[e] == v}
        how1: list[tuple[_Constraint, str]] = []
        for c in cons:
            if c.ids & loops:
                how1.append((c, "taken"))
            elif not any(a in c.ids for a in here):
                how1.append((c, "disabled" if c.kind == "wf" else "never"))
            else:
                if c.kind == "wf" and all(tr.dst[e] < 0 for e in tr.edges(v) if tr.aid[e] in c.ids):
                    budget[1] += 1
                return None
        return {v}, how1
    members = set(comp)
    taken: set[int] = set()
    for v in comp:
        for e in tr.edges(v):
            if tr.dst[e] in members:
                taken.add(tr.aid[e])
    enabled = {v: {tr.aid[e] for e in tr.edges(v)} for v in comp}
    how: list[tuple[_Constraint, str]] = []
    for c in cons:
        if c.ids & taken:
            how.append((c, "taken"))
            continue
        where = [v for v in comp if c.ids & enabled[v]]
        if c.kind == "wf":
            if len(where) == len(comp):
                if any(all(tr.dst[e] < 0 for e in tr.edges(v) if tr.aid[e] in c.ids) for v in comp):
                    budget[1] += 1  # ruled unfair by an action that is enabled only beyond the bounds
                return None  # continuously enabled, never taken: no fair cycle in any part of this SCC
            how.append((c, "disabled"))
        else:
            if not where:
                how.append((c, "never"))
                continue
            rest = members.difference(where)
            for sub in _sccs(tr, rest):
                found = _fair_scc(tr, sub, cons, budget)
                if found is not None:
                    return found
            return None
    return members, how


def _bfs_path(tr: Transitions, sources: Sequence[int], allowed: Callable[[int], bool],
              goal: Callable[[int], bool]) -> list[tuple[int, int]] | None:
    """A shortest path (as (edge, node) pairs, the first edge -1) from a source to a goal node, through
    allowed nodes only."""
    prev: dict[int, tuple[int, int]] = {}
    queue = deque()
    for s in sources:
        if allowed(s) and s not in prev:
            prev[s] = (-1, -1)
            queue.append(s)
    while queue:
        v = queue.popleft()
        if goal(v):
            path = []
            while v != -1:
                e, u = prev[v]
                path.append((e, v))
                v = u
            return path[::-1]
        for e in tr.edges(v):
            w = tr.dst[e]
            if w >= 0 and w not in prev and allowed(w):
                prev[w] = (e, v)
                queue.append(w)
    return None


def _prefix(tr: Transitions, starts: set[int], allowed: Callable[[int], bool], goal: set[int], wander: bool
            ) -> list[tuple[int, int]] | None:
    """A shortest path from an initial state to ``goal`` whose part from some start state on stays in
    ``allowed`` (breadth-first over (state, phase): phase 0 before the start state, anywhere if
    ``wander``, phase 1 after it)."""
    prev: dict[tuple[int, int], tuple[int, tuple[int, int] | None]] = {}
    queue: deque[tuple[int, int]] = deque()

    def push(node: tuple[int, int], edge: int, back: tuple[int, int] | None) -> None:
        if node not in prev:
            prev[node] = (edge, back)
            queue.append(node)

    for s in tr.initial:
        push((s, 0), -1, None)
    while queue:
        v, phase = queue.popleft()
        if phase == 0 and v in starts and allowed(v):
            if (v, 1) not in prev:
                prev[(v, 1)] = prev[(v, 0)]  # the same step, now counted in the region
                queue.appendleft((v, 1))
        if phase == 1 and v in goal:
            out, node = [], (v, 1)
            while node is not None:
                edge, back = prev[node]
                out.append((edge, node[0]))
                node = back
            return out[::-1]
        if phase == 0 and not wander:
            continue
        for e in tr.edges(v):
            w = tr.dst[e]
            if w >= 0 and (phase == 0 or allowed(w)):
                push((w, phase), e, (v, phase))
    return None


def _reach(tr: Transitions, sources: Sequence[int], allowed: Callable[[int], bool]) -> set[int]:
    seen = {s for s in sources if allowed(s)}
    queue = deque(seen)
    while queue:
        v = queue.popleft()
        for e in tr.edges(v):
            w = tr.dst[e]
            if w >= 0 and w not in seen and allowed(w):
                seen.add(w)
                queue.append(w)
    return seen


def check_liveness(engine: Engine, tr: Transitions, prop: Any, fairness: Sequence[Fairness]) -> LivenessResult:
    """Check one liveness property (``prop.form``, ``prop.p``, ``prop.q`` over readable states) on ``tr``."""
    t0 = time.perf_counter()
    cfg = engine.system.config
    n = len(tr.states)
    decoded: list[Any] = [None] * n

    def raw(v: int) -> Any:
        if decoded[v] is None:
            decoded[v] = engine.decode(tr.states[v])
        return decoded[v]

    memo_p: dict[int, bool] = {}
    memo_q: dict[int, bool] = {}

    def P(v: int) -> bool:
        r = memo_p.get(v)
        if r is None:
            r = memo_p[v] = bool(prop.p(cfg, raw(v)))
        return r

    def Q(v: int) -> bool:
        r = memo_q.get(v)
        if r is None:
            r = memo_q[v] = bool(prop.q(cfg, raw(v)))
        return r

    if prop.form == "eventually":
        outside, starts = (lambda v: not P(v)), list(tr.initial)
    elif prop.form == "always_eventually":
        outside, starts = (lambda v: not P(v)), list(range(n))
    else:
        outside, starts = (lambda v: not Q(v)), [v for v in range(n) if P(v) and not Q(v)]
    region = _reach(tr, starts, outside)
    cons = _constraints(engine, tr, fairness)
    budget = [0, 0]
    fair = [f for comp in _sccs(tr, region) if (f := _fair_scc(tr, comp, cons, budget)) is not None]
    result = LivenessResult(property=prop.name, form=prop.form, doc=prop.doc, fairness=[str(f) for f in fairness],
                            holds=not fair, sccs_examined=budget[0])
    if fair:
        _lasso(engine, tr, result, fair, starts, outside, raw)
    else:
        if budget[1]:
            result.warnings.append(f"{budget[1]} cycle(s) of states violating the property were ruled unfair only "
                                   "because a fair action is enabled there with every successor outside the "
                                   "bounds: with larger bounds they might be fair violations")
        inside_ids = {tr.aid[e] for e in range(len(tr.aid)) if tr.dst[e] >= 0}
        for c in cons:
            if not c.ids & inside_ids:
                result.warnings.append(f"{c.text}: the action is enabled only where it leads outside the bounds, "
                                       "so it is never taken: this assumption rules out every behaviour that "
                                       "keeps it enabled, and may hide a violation")
    result.elapsed_s = time.perf_counter() - t0
    return result


def _lasso(engine: Engine, tr: Transitions, result: LivenessResult,
           fair: list[tuple[set[int], list[tuple[_Constraint, str]]]], starts: list[int],
           outside: Callable[[int], bool], raw: Callable[[int], Any]) -> None:
    """The lasso into the fair SCC nearest an initial state: a shortest prefix, then a cycle."""
    system = engine.system
    every = set().union(*(m for m, _ in fair))
    # prefix: a shortest path from an initial state to the cycle that, from a start state on, stays in the
    # region (for <>P the start states are the initial ones, so the whole prefix avoids P)
    path = _prefix(tr, set(starts), outside, every, wander=result.form != "eventually")
    assert path is not None
    entry = path[-1][1]
    members, how = next((m, h) for m, h in fair if entry in m)
    result.prefix = [Step(None if e < 0 else engine.label(tr.aid[e]), system.render(raw(v)), raw(v))
                     for e, v in path]
    # the cycle: from the entry, through one edge of each condition met by taking it and one state of each
    # condition met by being disabled there, and back to the entry
    waypoints: list[tuple[str, Any]] = []
    for c, mode in how:
        if mode == "taken":
            waypoints.append(("edge", c))
        elif mode == "disabled":
            waypoints.append(("node", c))
    cycle: list[tuple[int, int]] = []
    here = entry
    inside = members.__contains__
    for what, c in waypoints:
        if what == "edge":
            def at_edge(v: int, c: _Constraint = c) -> bool:
                return any(tr.aid[e] in c.ids and tr.dst[e] in members for e in tr.edges(v))
            leg = _bfs_path(tr, [here], inside, at_edge)
            assert leg is not None
            cycle += leg[1:]
            v = leg[-1][1]
            e = next(e for e in tr.edges(v) if tr.aid[e] in c.ids and tr.dst[e] in members)
            cycle.append((e, tr.dst[e]))
            here = tr.dst[e]
        else:
            def disabled(v: int, c: _Constraint = c) -> bool:
                return not any(tr.aid[e] in c.ids for e in tr.edges(v))
            leg = _bfs_path(tr, [here], inside, disabled)
            assert leg is not None
            cycle += leg[1:]
            here = leg[-1][1]
    if here != entry or (cycle and cycle[-1][1] != entry):
        back = _bfs_path(tr, [here], inside, lambda v: v == entry) if here != entry else [(-1, entry)]
        assert back is not None
        cycle += back[1:]
    if not cycle and len(members) > 1:  # no condition asks for more: the shortest way round
        for e in tr.edges(entry):
            w = tr.dst[e]
            if w in members and w != entry:
                back = _bfs_path(tr, [w], inside, lambda v: v == entry)
                assert back is not None
                cycle = [(e, w)] + back[1:]
                break
    result.cycle = [Step(engine.label(tr.aid[e]), system.render(raw(v)), raw(v)) for e, v in cycle]
    cut = sorted({v for v in members if any(tr.dst[e] < 0 for e in tr.edges(v))})
    if cut:
        result.warnings.append(f"{len(cut)} state(s) of the cycle have actions whose successors lie outside the "
                               "bounds: with larger bounds the behaviour might leave the cycle")
