"""The house: data flows one way (spec -> config -> model -> engine -> result -> renderer -> command line).

Read from the source itself (every ``import``, at module level or inside a function, but not those under
``if TYPE_CHECKING:``, which never run), so the rules hold for lazy imports too:

* a model never imports a checker, the invariants or the command line;
* an engine or a renderer (everything in ``checkers/`` but ``checkers/cli/``) imports no protocol package
  (``refmodel.model.raft``, ``.poa``, ``.etcdraft``, ...) and not the command line;
* nothing imports the command line but the command line itself;
* no two files import each other, directly or through others (no import circles).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: repository folder -> the import name it installs as (pyproject.toml's package-dir)
FOLDERS = {"api": "refmodel", "model": "refmodel.model", "invariants": "refmodel.invariants",
           "checkers": "refmodel.checkers"}


def _modules() -> dict[str, Path]:
    out = {}
    for folder, name in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            out[".".join((name, *rel))] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an imported name lives in (the longest known prefix), or None if not ours."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        candidate = ".".join(parts[:k])
        if candidate in MODULES:
            return candidate
    return None


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.dump(block.test)
                   for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # `if TYPE_CHECKING:` imports are for annotations, never run
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` imports the module (its parent package is implied for every import, so
            # it is no edge); `from mod import name` imports mod
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for n in names:
            target = _resolve(n)
            if target and target != module:
                out.add(target)
    return out


GRAPH = nx.DiGraph()
for _m, _p in MODULES.items():
    GRAPH.add_node(_m)
    for _t in _imports(_m, _p):
        GRAPH.add_edge(_m, _t)

PROTOCOLS = sorted({m.split(".")[2] for m in MODULES if m.count(".") >= 2 and m.startswith("refmodel.model.")
                    and MODULES[m].parent.name != "model"})


def _is_protocol(m: str) -> bool:
    return any(m == f"refmodel.model.{p}" or m.startswith(f"refmodel.model.{p}.") for p in PROTOCOLS)


def _is_cli(m: str) -> bool:
    return m == "refmodel.checkers.cli" or m.startswith("refmodel.checkers.cli.")


def test_the_scan_sees_the_project():
    assert {"raft", "poa"} <= set(PROTOCOLS)
    assert "refmodel.checkers.bfs" in MODULES and "refmodel.checkers.cli" in MODULES
    assert GRAPH.has_edge("refmodel.model.raft.fast", "refmodel.model.raft.actions")


def test_models_import_no_checker_and_no_command_line():
    bad = [(m, t) for m, t in GRAPH.edges if m.startswith("refmodel.model") and t.startswith("refmodel.checkers")]
    assert not bad, bad


def test_engines_and_renderers_know_no_protocol():
    bad = [(m, t) for m, t in GRAPH.edges
           if m.startswith("refmodel.checkers") and not _is_cli(m) and _is_protocol(t)]
    assert not bad, bad


def test_nothing_imports_the_command_line():
    bad = [(m, t) for m, t in GRAPH.edges if _is_cli(t) and not _is_cli(m)]
    assert not bad, bad


def test_no_import_circles():
    cycles = [c for c in nx.simple_cycles(GRAPH) if len(c) > 1]
    assert not cycles, cycles[:5]


@pytest.mark.parametrize("rule", [test_engines_and_renderers_know_no_protocol, test_nothing_imports_the_command_line,
                                  test_no_import_circles])
def test_each_rule_fails_on_a_seeded_violation(rule, monkeypatch):
    """The rules bite: an edge that breaks one makes its test fail."""
    seeded = {
        test_engines_and_renderers_know_no_protocol: ("refmodel.checkers.bfs", "refmodel.model.raft.state"),
        test_nothing_imports_the_command_line: ("refmodel.checkers.bfs", "refmodel.checkers.cli"),
        test_no_import_circles: ("refmodel.model.raft.actions", "refmodel.model.raft.fast"),
    }[rule]
    g = GRAPH.copy()
    g.add_edge(*seeded)
    monkeypatch.setitem(globals(), "GRAPH", g)
    with pytest.raises(AssertionError):
        rule()
