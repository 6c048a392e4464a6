"""Conformance vectors: a small set of traces through the explored state graph that together cover every
action, every branch of the rules, or every labelled transition, and the mutants they tell apart.

The engine knows no protocol.  It reads the labelled state graph of a breadth-first exploration
(``check(engine, graph="labelled")``: a ``networkx.MultiDiGraph``, one edge per action instance, each edge's
``aid``, node ``depth`` and ``initial``), the items each step covers (``actions``: the action's name;
``branches``: ``system.branches(label)``, a model hook; ``edges``: the transition itself) and, for mutation
adequacy, one :class:`MutantOracle` per mutant (a generic one for ITF traces, :class:`StepOracle`; a
protocol may bring its own for its own format).

Construction, ``edges`` without ``max_steps``: the fewest steps of any covering set of traces, by a
minimum-cost circulation and an Eulerian circuit (:func:`_fewest_steps_edge_cover`).  Otherwise greedy and
deterministic: a trace starts at an initial state; from where it stands it goes by a
shortest path to the nearest state with a step that covers an item not yet covered, takes that step (a
self-loop first, else a step to a state that has more uncovered steps, else the one covering most items),
and goes on from there; when nothing uncovered is reachable (or ``max_steps`` would be exceeded) the trace
ends and the next one starts from an initial state.  Every item reachable within the bounds is covered.
Ties are broken by the order of the graph, or by a permutation of each state's steps drawn from ``seed``.
The *naive* construction, one shortest trace per item, is computed for comparison (its figures only).

Mutation adequacy: each vector is replayed against each mutant's model (:meth:`MutantOracle.first_failure`);
with ``kill=True`` a mutant that no covering vector kills gets the shortest vector that tells it apart
(:meth:`MutantOracle.distinguish`), marked as added for it.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from refmodel.checkers.itf import enabled_summary
from refmodel.model.core import Engine, Label

COVERS = ("actions", "branches", "edges")


class VectorError(ValueError):
    """The request cannot be met (the message is one line)."""


@dataclass
class Vector:
    """One trace: its states (graph node ids, the first an initial state) and the action id of each step."""

    nodes: list[int]
    aids: list[int]  # len(nodes) - 1
    covers: list[list[str]]  # per state (the first: []), the items first covered by the step into it
    purpose: str = "cover"  # "cover", or "mutant NAME" for a vector added to tell a mutant apart

    @property
    def steps(self) -> int:
        return len(self.aids)


@dataclass
class Figures:
    """The size of a covering construction."""

    traces: int
    steps: int


@dataclass
class MutantRow:
    """How a mutant fares against the suite: the first vector it fails (None: it passes every one)."""

    mutant: str
    vector: int | None
    step: int | None  # the state index within that vector where replay fails
    reason: str
    added: bool  # the vector was added to tell this mutant apart (no covering vector killed it)


@dataclass
class Suite:
    """What ``refmodel vectors`` computed, as plain data."""

    protocol: str
    config: dict[str, Any]
    cover: str
    seed: int
    max_steps: int | None
    states: int
    transitions: int  # labelled transitions within the bounds (edges of the multigraph)
    digraph_edges: int  # distinct (state, successor) pairs
    generated: int  # TLC's count: initial states + every successor, those outside the bounds included
    items: int  # items to cover (the universe)
    reachable: int  # items some step within the bounds covers
    covered: int
    unreachable: list[str]  # items no step within the bounds covers
    beyond_max: list[str]  # reachable items no trace within max_steps reaches
    vectors: list[Vector]
    greedy: Figures  # the covering vectors only (without those added for mutants)
    naive: Figures
    mutants: list[MutantRow] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    explored: Any = field(default=None, repr=False)  # the Explored graph the vectors walk (for renderers)
    method: str = "greedy"  # how the covering vectors were built
    #: reachable items no step of the graph the format can express covers (``system.not_expressible``)
    not_expressible: list[str] = field(default_factory=list)
    view: str = ""  # how the format sees the model's graph, when it is not the model's own (``system.view_note``)
    model_graph: dict[str, int] | None = None  # then the model's own graph: states, transitions
    #: the format's own check of the written vectors, if it has one (e.g. etcd traces: each one validated)
    format_check: dict[str, Any] | None = None
    source: Any = field(default=None, repr=False)  # what the format's writer reads besides the graph, if anything

    @property
    def ratio(self) -> float:
        """Total steps of the naive construction over the greedy one's (how many times fewer steps)."""
        return self.naive.steps / self.greedy.steps if self.greedy.steps else 0.0


class MutantOracle:
    """Replays vectors against one mutant's model, in the terms of one vector format."""

    name: str = ""

    def first_failure(self, explored: Explored, vector: Vector) -> tuple[int, str] | None:
        """The state index where the mutant's model rejects the vector, and why; None if it accepts it."""
        raise NotImplementedError

    def distinguish(self, explored: Explored) -> list[Label] | None:
        """The labels of a shortest vector from an initial state that the mutant rejects (None: none within
        the bounds)."""
        raise NotImplementedError


class Explored:
    """The labelled state graph with what the construction needs: adjacency, depths, a shortest-path tree."""

    def __init__(self, engine: Engine, graph: Any, states: Sequence[Any]) -> None:
        self.engine, self.graph, self.encoded = engine, graph, states
        n = graph.number_of_nodes()
        self.n = n
        self.depth = [0] * n
        self.initial: list[int] = []
        for u, d in graph.nodes(data=True):
            self.depth[u] = d["depth"]
            if d["initial"]:
                self.initial.append(u)
        self.src: list[int] = []
        self.dst: list[int] = []
        self.aid: list[int] = []
        self.out: list[list[int]] = [[] for _ in range(n)]
        for u, v, a in graph.edges(keys=True):
            e = len(self.src)
            self.src.append(u)
            self.dst.append(v)
            self.aid.append(a)
            self.out[u].append(e)
        self.tree = [-1] * n  # an edge into each non-initial node from the previous BFS level
        roots = set(self.initial)
        for e in range(len(self.src)):
            v = self.dst[e]
            if self.tree[v] < 0 and self.depth[v] == self.depth[self.src[e]] + 1 and v not in roots:
                self.tree[v] = e
        self._labels: dict[int, Label] = {}
        self._raw: dict[int, Any] = {}
        self._views: dict[int, tuple[list[str], dict[Label, int | None]]] = {}
        self._texts: dict[int, dict[int, str]] = {}

    def label(self, aid: int) -> Label:
        lab = self._labels.get(aid)
        if lab is None:
            lab = self._labels[aid] = self.engine.label(aid)
        return lab

    def raw(self, u: int) -> Any:
        st = self._raw.get(u)
        if st is None:
            st = self._raw[u] = self.engine.decode(self.encoded[u])
        return st

    def view(self, u: int) -> tuple[list[str], dict[Label, int | None]]:
        """What the model does in node ``u``: the enabled summary (every enabled instance, those leaving the
        bounds included) and label -> successor node (None: outside the bounds)."""
        got = self._views.get(u)
        if got is None:
            aids = [a for a, _ in self.engine.successors(self.encoded[u])]
            succ: dict[Label, int | None] = {self.label(a): None for a in aids}
            for e in self.out[u]:
                succ[self.label(self.aid[e])] = self.dst[e]
            got = self._views[u] = (self.summary(aids), succ)
        return got

    def summary(self, aids: Iterable[int], engine: Engine | None = None) -> list[str]:
        """:func:`~checkers.itf.enabled_summary` of these action ids (of ``engine``, default the model's),
        each label's text computed once."""
        engine = engine or self.engine
        memo = self._texts.setdefault(id(engine), {})
        out = []
        for a in aids:
            t = memo.get(a)
            if t is None:
                t = memo[a] = enabled_summary([engine.label(a)])[0]
            out.append(t)
        out.sort()
        return out

    def path_to(self, v: int) -> list[int]:
        """Edge ids of a shortest path from an initial state to ``v``."""
        edges = []
        while self.tree[v] >= 0:
            e = self.tree[v]
            edges.append(e)
            v = self.src[e]
        return edges[::-1]

    def bfs_order(self) -> Iterable[int]:
        """Node ids by increasing depth (the exploration's discovery order)."""
        return range(self.n)

    def path_labels(self, v: int) -> list[Label]:
        return [self.label(self.aid[e]) for e in self.path_to(v)]

    def follow(self, labels: Sequence[Label]) -> tuple[list[int], list[int]] | None:
        """The graph path (nodes, action ids) that takes ``labels`` from an initial state, if there is one."""
        for root in self.initial:
            nodes, aids, u = [root], [], root
            for lab in labels:
                e = next((e for e in self.out[u] if self.label(self.aid[e]) == lab), None)
                if e is None:
                    break
                u = self.dst[e]
                nodes.append(u)
                aids.append(self.aid[e])
            else:
                return nodes, aids
        return None


def items_of(explored: Explored, cover: str, system: Any) -> tuple[list[str], list[tuple[int, ...]]]:
    """The universe of items (names) and, per edge, the items its step covers (indices into the universe)."""
    if cover == "edges":
        return [], [(e,) for e in range(len(explored.src))]
    names: list[str] = []
    index: dict[str, int] = {}

    def idx(name: str) -> int:
        k = index.get(name)
        if k is None:
            k = index[name] = len(names)
            names.append(name)
        return k

    if cover == "actions":
        for name in explored.engine.action_names:
            idx(name)
        # a step may stand for several of the model's actions (a format that merges steps: the model's hook)
        acts = getattr(system, "actions_of", None)
        per_aid = {a: tuple(idx(x) for x in (acts(explored.label(a)) if acts else (explored.label(a).action,)))
                   for a in sorted(set(explored.aid))}
    else:
        for name in system.branch_universe() or explored.engine.action_names:
            idx(name)
        per_aid = {}
        for a in sorted(set(explored.aid)):
            per_aid[a] = tuple(idx(b) for b in system.branches(explored.label(a)))
    return names, [per_aid[a] for a in explored.aid]


def build_suite(engine: Engine, check_result: Any, *, cover: str = "branches", seed: int = 0,
                max_steps: int | None = None, oracles: Sequence[MutantOracle] = (), kill: bool = True,
                final_outcome_only: bool = False,
                progress: Callable[[str, int, int], None] | None = None) -> Suite:
    """Covering vectors over ``check_result.graph`` (from ``check(engine, graph="labelled")``); see the
    module docstring.

    ``final_outcome_only``: the format shows only a vector's final outcome (go-ethereum's table: the final
    signers, or the error of the last block), so a step into a state the model calls a rejection
    (``system.is_rejection(state)``, a rejected block) hides what the steps before it did: such a step is
    taken only by a trace of its own, and only its own items count as covered by that trace."""
    if cover not in COVERS:
        raise VectorError(f"--cover must be one of {', '.join(COVERS)}, not {cover!r}")
    if check_result.graph is None or check_result.graph_states is None:
        raise VectorError("the exploration kept no labelled state graph (check(..., graph='labelled'))")
    if check_result.verdict != "pass":
        why = (f"violates {check_result.violation.invariant}" if check_result.violation
               else check_result.incomplete_reason)
        raise VectorError(f"the exploration did not complete cleanly ({check_result.verdict}: {why}); vectors "
                          "are generated from a complete, passing exploration")
    t0 = time.perf_counter()
    system = engine.system
    ex = Explored(engine, check_result.graph, check_result.graph_states)
    names, edge_items = items_of(ex, cover, system)
    n_items = len(ex.src) if cover == "edges" else len(names)
    reach = [False] * n_items
    naive_len: dict[int, int] = {}
    for e, its in enumerate(edge_items):
        d = ex.depth[ex.src[e]] + 1
        for i in its:
            reach[i] = True
            if d < naive_len.get(i, 1 << 60):
                naive_len[i] = d

    def name(i: int) -> str:
        if cover != "edges":
            return names[i]
        return f"{ex.src[i]} -[{ex.label(ex.aid[i])}]-> {ex.dst[i]}"

    if cover == "edges" and max_steps is None and not final_outcome_only:
        method = "min-cost flow: the fewest steps of any covering set"
        vectors, beyond = _fewest_steps_edge_cover(ex, seed), []
    else:
        method = "greedy"
        vectors, beyond = _greedy(ex, edge_items, n_items, reach, seed, max_steps,
                                  name if cover != "edges" else None, progress, final_outcome_only)
    covered_mask = [False] * n_items
    terminal = _rejections(ex, final_outcome_only)
    for v in vectors:  # recount from the vectors themselves, not from the construction's bookkeeping
        ends_rejected = final_outcome_only and terminal[v.nodes[-1]]
        for k, a in enumerate(v.aids):
            if ends_rejected and k < len(v.aids) - 1:
                continue  # hidden by the final outcome
            e = _edge(ex, v.nodes[k], a, v.nodes[k + 1])
            for i in edge_items[e]:
                covered_mask[i] = True
    greedy = Figures(len(vectors), sum(v.steps for v in vectors))
    t_cover = time.perf_counter() - t0
    rows: list[MutantRow] = []
    t1 = time.perf_counter()
    for oracle in oracles:
        row = _first_kill(ex, vectors, oracle)
        if row is None and kill:
            labels = oracle.distinguish(ex)
            path = ex.follow(labels) if labels is not None else None
            if path is not None:
                nodes, aids = path
                vec = Vector(nodes, aids, [[] for _ in nodes], purpose=f"mutant {oracle.name}")
                vec.covers[-1] = [f"tells apart mutant {oracle.name}"]
                vectors.append(vec)
                row = _first_kill(ex, vectors[-1:], oracle, offset=len(vectors) - 1, added=True)
                if row is None:  # the oracle's own search and its replay disagree: say so, do not hide it
                    row = MutantRow(oracle.name, None, None, "the distinguishing vector found does not fail "
                                    "replay (oracle inconsistency)", False)
        if row is None:
            why = ((getattr(oracle, "why_none", None) or "passes every vector: none within these bounds tells it "
                    "apart") if kill else "passes every covering vector (none added: --no-kill)")
            row = MutantRow(oracle.name, None, None, why, False)
        rows.append(row)
        if progress is not None:
            progress("mutants", len(rows), len(oracles))
    unreachable = [name(i) for i in range(n_items) if not reach[i]]
    hidden = getattr(system, "not_expressible", None)
    not_expressible = hidden(cover) if hidden is not None else []
    unreachable = [x for x in unreachable if x not in set(not_expressible)]
    return Suite(
        protocol=system.protocol, config=check_result.config, cover=cover, seed=seed, max_steps=max_steps,
        states=ex.n, transitions=len(ex.src), digraph_edges=_digraph_edges(ex),
        generated=check_result.generated_states, items=n_items, reachable=sum(reach), covered=sum(covered_mask),
        unreachable=unreachable, beyond_max=[name(i) for i in beyond], vectors=vectors, greedy=greedy,
        naive=Figures(len(naive_len), sum(naive_len.values())), mutants=rows, method=method,
        timings={"explore_s": check_result.elapsed_s, "cover_s": t_cover, "mutants_s": time.perf_counter() - t1},
        explored=ex, not_expressible=not_expressible, view=getattr(system, "view_note", ""),
        model_graph=getattr(system, "model_graph", None))


def _rejections(ex: Explored, final_outcome_only: bool) -> list[bool]:
    """Per node: a state that hides the steps before it (only when the format shows final outcomes only)."""
    if not final_outcome_only:
        return [False] * ex.n
    is_rejection = getattr(ex.engine.system, "is_rejection", None)
    if is_rejection is None:
        return [False] * ex.n
    return [bool(is_rejection(ex.raw(u))) for u in range(ex.n)]


def _digraph_edges(ex: Explored) -> int:
    return len({(u, v) for u, v in zip(ex.src, ex.dst)})


def _edge(ex: Explored, u: int, aid: int, v: int) -> int:
    for e in ex.out[u]:
        if ex.aid[e] == aid and ex.dst[e] == v:
            return e
    raise AssertionError(f"no edge {u} -{aid}-> {v}")


def _greedy(ex: Explored, edge_items: list[tuple[int, ...]], n_items: int, reach: list[bool], seed: int,
            max_steps: int | None, name: Callable[[int], str] | None,
            progress: Callable[[str, int, int], None] | None,
            final_outcome_only: bool = False) -> tuple[list[Vector], list[int]]:
    n, src, dst = ex.n, ex.src, ex.dst
    terminal = _rejections(ex, final_outcome_only)
    out = [list(es) for es in ex.out]
    if seed:
        rng = random.Random(seed)
        for es in out:
            rng.shuffle(es)
    item_edges: list[list[int]] = [[] for _ in range(n_items)]
    for e, its in enumerate(edge_items):
        for i in its:
            item_edges[i].append(e)
    covered = [False] * n_items
    live = [len(its) for its in edge_items]  # uncovered items on each edge
    # strongly connected components: a step out of one can never be undone, so a trace first covers what
    # is left in the component it stands in, then leaves it
    import networkx as nx

    comp = [0] * n
    for k, c in enumerate(nx.strongly_connected_components(ex.graph)):
        for u in c:
            comp[u] = k
    inner = [comp[src[e]] == comp[dst[e]] for e in range(len(src))]
    pending = [0] * n  # edges with uncovered items, per source node
    pending_in = [0] * n  # of which inside the component of the source
    for e in range(len(src)):
        if live[e]:
            pending[src[e]] += 1
            pending_in[src[e]] += inner[e]
    left = sum(reach)
    stamp = [0] * n
    via = [-1] * n
    dist = [0] * n
    gen = 0
    vectors: list[Vector] = []
    last_report = time.perf_counter()

    def take(e: int, covers: list[list[str]]) -> None:
        nonlocal left
        new = []
        for i in edge_items[e]:
            if not covered[i]:
                covered[i] = True
                left -= 1
                new.append(name(i) if name is not None else "")  # edges: a new transition, unnamed
                for f in item_edges[i]:
                    live[f] -= 1
                    if live[f] == 0:
                        pending[src[f]] -= 1
                        pending_in[src[f]] -= inner[f]
                        comp_pending[comp[src[f]]] -= inner[f]
        covers.append(new)

    def open_end(u: int) -> bool:
        """Whether ``u`` has an uncovered step that does not end the trace in a rejection."""
        return any(live[e] and not terminal[dst[e]] for e in out[u])

    def nearest(starts: Sequence[int], budget: int | None, within: int = -1, keep_open: bool = False) -> int:
        """BFS from ``starts`` to the nearest node with a pending edge (within ``budget - 1`` steps; with
        ``within``, inside that component, to a pending edge inside it): the node, or -1; ``via`` and
        ``dist`` hold the path."""
        nonlocal gen
        gen += 1
        queue = deque()
        for s in starts:
            if stamp[s] != gen:
                stamp[s], via[s], dist[s] = gen, -1, 0
                queue.append(s)
        while queue:
            u = queue.popleft()
            if (pending_in[u] if within >= 0 else pending[u]) and (not keep_open or open_end(u)):
                return u
            if budget is not None and dist[u] + 1 >= budget:
                continue
            for e in out[u]:
                v = dst[e]
                if within >= 0 and comp[v] != within:
                    continue
                if stamp[v] != gen:
                    stamp[v], via[v], dist[v] = gen, e, dist[u] + 1
                    queue.append(v)
        return -1

    comp_pending = [0] * (max(comp) + 1 if comp else 0)  # pending inner edges per component
    for e in range(len(src)):
        if live[e] and inner[e]:
            comp_pending[comp[src[e]]] += 1

    def pending_in_comp(c: int) -> bool:
        return comp_pending[c] > 0

    def choose(u: int, keep_open: bool = False) -> int:
        best, best_key = -1, None
        for e in out[u]:
            if not live[e] or (keep_open and terminal[dst[e]]):
                continue
            key = (dst[e] == u, inner[e], pending[dst[e]] > 0, live[e])
            if best_key is None or key > best_key:
                best, best_key = e, key
        return best

    while left > 0:
        nodes: list[int] = []
        aids: list[int] = []
        covers: list[list[str]] = [[]]
        starts = ex.initial
        while left > 0:
            budget = None if max_steps is None else max_steps - len(aids)
            if budget is not None and budget <= 0:
                break
            keep_open = final_outcome_only and bool(aids)
            u = -1
            if nodes and pending_in_comp(comp[nodes[-1]]):
                u = nearest([nodes[-1]], budget, comp[nodes[-1]], keep_open)
            if u < 0:
                u = nearest(starts if not nodes else [nodes[-1]], budget, -1, keep_open)
            if u < 0:
                break
            e = choose(u, keep_open)
            hide = final_outcome_only and terminal[dst[e]]
            if hide and aids:
                break  # a rejected block gets a trace of its own: it would hide what this one showed
            path = []
            w = u
            while via[w] >= 0:
                path.append(via[w])
                w = src[via[w]]
            path.reverse()
            if not nodes:
                nodes.append(w)
            for f in path:
                aids.append(ex.aid[f])
                nodes.append(dst[f])
                if hide:
                    covers.append([])
                else:
                    take(f, covers)
            aids.append(ex.aid[e])
            nodes.append(dst[e])
            take(e, covers)
            if progress is not None and time.perf_counter() - last_report > 0.5:
                last_report = time.perf_counter()
                progress("cover", sum(reach) - left, sum(reach))
        if not aids:
            break  # nothing more within reach (only with max_steps)
        vectors.append(Vector(nodes, aids, covers))
    beyond = [i for i in range(n_items) if reach[i] and not covered[i]]
    return vectors, beyond


def _fewest_steps_edge_cover(ex: Explored, seed: int) -> list[Vector]:
    """Traces from the initial states that take every transition, in the fewest steps in all (then the fewest
    traces): a minimum-cost circulation in which every transition carries at least one unit (cost: one step),
    each state may end a trace (an edge to a terminal T, free) and T feeds the initial states (one per trace),
    solved by networkx's network simplex; an Eulerian circuit of the flow, cut at T, gives the traces.  (The
    circuit exists: every transition carries flow, so everything is reachable from T and, flow being
    conserved, reaches T.)"""
    import networkx as nx

    big = len(ex.src) * 4 + 16  # one step costs more than any number of traces
    mult: dict[tuple[int, int], list[int]] = {}
    for e, (u, v) in enumerate(zip(ex.src, ex.dst)):
        mult.setdefault((u, v), []).append(e)
    demand = [0] * ex.n
    g = nx.DiGraph()
    for (u, v), es in mult.items():
        if u != v:  # each transition once, forced: a lower bound of 1 moved into the demands
            demand[u] += len(es)
            demand[v] -= len(es)
    term = -1
    for u in range(ex.n):
        g.add_node(u, demand=demand[u])
    g.add_node(term, demand=0)
    for (u, v) in mult:
        if u != v:
            g.add_edge(u, v, weight=big)
    for u in range(ex.n):
        g.add_edge(u, term, weight=0)
    for r in ex.initial:
        g.add_edge(term, r, weight=1)
    _, flow = nx.network_simplex(g)
    h = nx.MultiDiGraph()
    order = list(range(len(ex.src)))
    if seed:
        random.Random(seed).shuffle(order)
    for e in order:  # every transition once, then the extra passes the flow asks for
        h.add_edge(ex.src[e], ex.dst[e], edge=e)
    for (u, v), es in mult.items():
        if u != v:
            for _ in range(flow[u][v]):
                h.add_edge(u, v, edge=es[0])
    for u in range(ex.n):
        for _ in range(flow[u][term]):
            h.add_edge(u, term, edge=-1)
    for r in ex.initial:
        for _ in range(flow[term][r]):
            h.add_edge(term, r, edge=-1)
    seen = [False] * len(ex.src)
    vectors: list[Vector] = []
    nodes: list[int] = []
    aids: list[int] = []
    covers: list[list[str]] = []
    for u, v, k in nx.eulerian_circuit(h, source=term, keys=True):
        e = h.edges[u, v, k]["edge"]
        if u == term:
            nodes, aids, covers = [v], [], [[]]
        elif v == term:
            vectors.append(Vector(nodes, aids, covers))
        else:
            nodes.append(v)
            aids.append(ex.aid[e])
            covers.append([] if seen[e] else [""])
            seen[e] = True
    return vectors


def _first_kill(ex: Explored, vectors: Sequence[Vector], oracle: MutantOracle, offset: int = 0,
                added: bool = False) -> MutantRow | None:
    for k, v in enumerate(vectors):
        fail = oracle.first_failure(ex, v)
        if fail is not None:
            return MutantRow(oracle.name, offset + k, fail[0], fail[1], added)
    return None


class StepOracle(MutantOracle):
    """A mutant's verdict on ITF vectors, as ``refmodel replay --mutant`` gives it: the first state must be
    an initial state of the mutant's model, each step a transition of it to the same state, and each state
    must enable the same action instances (per-state ``#meta.enabled``).

    It drives both models' engines (the mutant's is handed the correct model's readable states through its
    ``encode``), which is what keeps a scan of every reachable state affordable."""

    def __init__(self, name: str, model: Any, mutant_model: Any) -> None:
        self.name, self.model, self.mutant = name, model, mutant_model
        self._m = mutant_model.engine()
        self._init = [self._m.decode(e) for e in self._m.initial()]
        self._views: dict[int, tuple[list[str], dict[Label, Any]]] = {}
        self._encoded: dict[int, Any] = {}

    def _mutant_view(self, ex: Explored, u: int) -> tuple[list[str], dict[Label, Any]]:
        """What the mutant does in the state of node ``u``: its enabled summary and label -> successor in the
        mutant's encoding (None outside the bounds)."""
        got = self._views.get(u)
        if got is None:
            m = self._m
            succ = m.successors(self._enc(ex, u))
            got = self._views[u] = (ex.summary((a for a, _ in succ), m), {m.label(a): t for a, t in succ})
        return got

    def _enc(self, ex: Explored, u: int) -> Any:
        """Node ``u``'s state in the mutant engine's encoding."""
        e = self._encoded.get(u)
        if e is None:
            e = self._encoded[u] = _encode(self._m, ex.raw(u))
        return e

    def _differs(self, ex: Explored, u: int, only: Label | None = None) -> tuple[str, Label | None] | None:
        """Why the mutant's behaviour in node ``u`` differs from the model's (and the step that shows it, if
        any), or None; ``only``: look at that step alone, besides the enabled actions."""
        want, ok = ex.view(u)
        got, mu = self._mutant_view(ex, u)
        if got != want:
            return _enabled_diff(want, got), None
        for lab, v in ok.items():
            if v is None or (only is not None and lab != only):
                continue
            t = mu.get(lab)
            if t is None or t != self._enc(ex, v):  # encodings are canonical: equal iff the states are
                return f"{lab} does not lead to the same state", lab
        return None

    def first_failure(self, ex: Explored, vector: Vector) -> tuple[int, str] | None:
        if ex.raw(vector.nodes[0]) not in self._init:
            return 0, "state 0 is not an initial state of the mutant"
        for k, u in enumerate(vector.nodes):
            lab = ex.label(vector.aids[k]) if k < len(vector.aids) else None
            diff = self._differs(ex, u, lab) if lab is not None else self._differs(ex, u, _NO_STEP)
            if diff is not None:
                return (k, diff[0]) if diff[1] is None else (k + 1, diff[0])
        return None

    def distinguish(self, ex: Explored) -> list[Label] | None:
        for u in ex.bfs_order():
            diff = self._differs(ex, u)
            if diff is not None:
                return ex.path_labels(u) + ([diff[1]] if diff[1] is not None else [])
        return None


_NO_STEP = Label("-")  # a label no state enables: compare the enabled actions only


def _encode(engine: Engine, state: Any) -> Any:
    enc = getattr(engine, "encode", None)
    return state if enc is None else enc(state)


def _enabled_diff(want: list[str], got: list[str]) -> str:
    from collections import Counter

    extra = sorted((Counter(got) - Counter(want)).elements())
    missing = sorted((Counter(want) - Counter(got)).elements())
    parts = []
    if extra:
        parts.append("enables " + ", ".join(extra[:3]) + (" ..." if len(extra) > 3 else ""))
    if missing:
        parts.append("does not enable " + ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else ""))
    return "; ".join(parts)
