"""The explored state graph written to files (GraphML, DOT, node-link JSON) and its statistics as text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from refmodel.checkers.graph import GRAPH_FORMATS


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
