"""The explored state graph as a ``networkx.DiGraph``, its exports, and analyses of it.

Nodes are the distinct states in discovery order (``0`` is the first initial state); each has ``depth``
(BFS level), ``initial`` and ``state`` (the readable state as JSON).  An edge ``u -> v`` carries ``action``
(the first action label found for it) and ``actions`` (all of them, ``; ``-separated), since several action
instances may lead from one state to the same successor.  With symmetry, nodes are orbit representatives.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

from model.core import Engine

GRAPH_FORMATS = (".graphml", ".dot", ".json")


def build_graph(engine: Engine, states: Sequence[Hashable], parent: Sequence[int], via: Sequence[int],
                edges: Sequence[tuple[int, int, int]]) -> Any:
    import networkx as nx

    g = nx.DiGraph()
    depth: list[int] = []
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


def write_graph(g: Any, path: str | Path) -> None:
    """Write ``g`` as GraphML, DOT or node-link JSON, chosen by the file's extension."""
    import networkx as nx

    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".graphml":
        nx.write_graphml(g, path)
    elif ext == ".json":
        path.write_text(json.dumps(nx.node_link_data(g, edges="edges"), indent=1))
    elif ext == ".dot":
        with path.open("w") as out:
            out.write("digraph states {\n  node [shape=box, fontname=monospace];\n")
            for n, d in g.nodes(data=True):
                style = ", style=bold" if d.get("initial") else ""
                out.write(f'  {n} [label={_dot_quote(str(n) + " (depth " + str(d.get("depth")) + ")")}{style}];\n')
            for u, v, d in g.edges(data=True):
                out.write(f"  {u} -> {v} [label={_dot_quote(d.get('actions', ''))}];\n")
            out.write("}\n")
    else:
        raise ValueError(f"graph file must end in {', '.join(GRAPH_FORMATS)}: {path}")


def _dot_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
