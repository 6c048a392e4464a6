"""The explored state graph as a ``networkx.DiGraph``, its exports, and analyses of it.

Nodes are the distinct states in discovery order (``0`` is the first initial state); each has ``depth``
(BFS level), ``initial`` and ``state`` (the readable state as JSON).  An edge ``u -> v`` carries ``action``
(the first action label found for it) and ``actions`` (all of them, ``; ``-separated), since several action
instances may lead from one state to the same successor.  With symmetry, nodes are orbit representatives.

``labelled=True`` (``check(..., graph="labelled")``) builds a ``networkx.MultiDiGraph`` instead, for in-process
analyses that need every action instance, such as the covering traces of ``refmodel vectors``: one edge per
labelled transition ``u -> v`` (key and attribute ``aid``: the action id, ``engine.label(aid)`` gives the
:class:`~model.core.Label`), nodes with ``depth`` and ``initial`` only (``CheckResult.graph_states`` holds
each node's encoded state, ``engine.decode`` reads it): no text is built, which keeps it fast.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from typing import Any

from refmodel.model.core import Engine

GRAPH_FORMATS = (".graphml", ".dot", ".json")


def build_graph(engine: Engine, states: Sequence[Hashable], parent: Sequence[int], via: Sequence[int],
                edges: Sequence[tuple[int, int, int]], labelled: bool = False) -> Any:
    import networkx as nx

    g = nx.MultiDiGraph() if labelled else nx.DiGraph()
    depth: list[int] = []
    if labelled:
        for idx in range(len(states)):
            depth.append(0 if parent[idx] < 0 else depth[parent[idx]] + 1)
            g.add_node(idx, depth=depth[idx], initial=parent[idx] < 0)
        g.add_edges_from((u, v, aid, {"aid": aid}) for u, aid, v in edges)
        return g
    for idx in range(len(states)):
        depth.append(0 if parent[idx] < 0 else depth[parent[idx]] + 1)
        raw = engine.decode(states[idx])
        g.add_node(idx, depth=depth[idx], initial=parent[idx] < 0,
                   state=json.dumps(engine.system.render(raw), sort_keys=True))
    for u, aid, v in edges:
        text = str(engine.label(aid))
        if g.has_edge(u, v):
            g.edges[u, v]["actions"] += "; " + text
        else:
            g.add_edge(u, v, action=text, actions=text)
    return g


def graph_stats(g: Any) -> dict[str, Any]:
    """Nodes, edges, strongly connected components, terminal states and the depth histogram of a state
    graph, computed with networkx."""
    import networkx as nx

    sccs = list(nx.strongly_connected_components(g))
    sizes = sorted((len(c) for c in sccs), reverse=True)
    terminal = [n for n in g.nodes if g.out_degree(n) == 0]
    hist: dict[int, int] = {}
    for _, d in g.nodes(data="depth"):
        if d is not None:
            hist[int(d)] = hist.get(int(d), 0) + 1
    condensed = nx.condensation(g, sccs) if g.number_of_nodes() else nx.DiGraph()
    return {
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "self_loops": nx.number_of_selfloops(g),
        "sccs": len(sccs),
        "largest_scc": sizes[0] if sizes else 0,
        "nontrivial_sccs": sum(1 for c in sccs if len(c) > 1),
        "terminal_states": len(terminal),
        "terminal_examples": sorted(terminal)[:10],
        "bottom_sccs": sum(1 for n in condensed if condensed.out_degree(n) == 0),
        "depth_histogram": [hist.get(k, 0) for k in range(max(hist) + 1)] if hist else [],
    }
