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

from refmodel.model.core import Engine

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


def stats_text(st: dict[str, Any]) -> str:
    lines = [
        f"state graph: {st['nodes']:,} nodes, {st['edges']:,} edges ({st['self_loops']:,} self-loops)",
        f"strongly connected components: {st['sccs']:,} (largest {st['largest_scc']:,}, "
        f"{st['nontrivial_sccs']:,} with more than one state, {st['bottom_sccs']:,} bottom)",
        f"terminal states (no successor within the bounds): {st['terminal_states']:,}"
        + (f" e.g. nodes {st['terminal_examples']}" if st["terminal_states"] else ""),
        "states per BFS level: " + " ".join(str(x) for x in st["depth_histogram"]),
    ]
    return "\n".join(lines)


def cli_main(argv: list[str]) -> int:
    """``refmodel graph-stats <protocol> [check options]`` or ``refmodel graph-stats FILE`` (.graphml/.json)."""
    import sys

    from refmodel.model import PROTOCOL_MODULES

    if argv and argv[0] in PROTOCOL_MODULES:
        from refmodel.checkers.cli import main

        return main(["check", argv[0], *argv[1:], "--stats"])
    import argparse

    p = argparse.ArgumentParser(prog="refmodel graph-stats",
                                description="Analyse a state graph: `refmodel graph-stats raft [check options]` "
                                            "explores and analyses; `refmodel graph-stats FILE` reads a graph "
                                            "written by --graph (.graphml or .json).")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    import networkx as nx

    path = Path(args.file)
    try:
        if path.suffix.lower() == ".graphml":
            g = nx.read_graphml(path)
        elif path.suffix.lower() == ".json":
            g = nx.node_link_graph(json.loads(path.read_text()), edges="edges")
        else:
            print(f"refmodel: error: {path}: graph-stats reads .graphml or .json graphs, or give a protocol",
                  file=sys.stderr)
            return 2
    except (OSError, ValueError, KeyError) as exc:
        print(f"refmodel: error: {path}: cannot read graph: {exc}", file=sys.stderr)
        return 2
    st = graph_stats(g)
    print(json.dumps(st, indent=1) if args.json else stats_text(st))
    return 0
