"""``refmodel graph-stats``: state-graph statistics, from a fresh exploration or from a graph file."""

from __future__ import annotations

import json
from pathlib import Path

from refmodel.checkers.graph import graph_stats
from refmodel.checkers.report.graph_files import stats_text


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
