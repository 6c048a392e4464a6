"""Conformance vectors rendered: the suite as ITF traces (one file per vector, and ``suite.json``, the index),
and the figures of a suite as text or JSON.

Each vector is an ITF trace (:func:`checkers.report.itf.trace_document`): every state carries the action
that produced it (``mbt::actionTaken``, ``mbt::nondetPicks``) and the whole expected state after it; each
state's ``#meta`` adds ``enabled`` (the action instances the model enables there, as
:func:`checkers.itf.enabled_summary` writes them) and ``covers`` (the items first covered by the step into
it; with ``--cover edges``, ``new: true`` on a step that takes a transition no earlier vector took).  Nothing here depends on time or on the machine, so the same suite is written byte for byte alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from refmodel.checkers.report.itf import trace_document
from refmodel.checkers.vectors import Explored, Suite

INDEX = "suite.json"


class _Step:
    __slots__ = ("action", "raw")

    def __init__(self, action: Any, raw: Any) -> None:
        self.action, self.raw = action, raw


def vector_name(k: int, total: int) -> str:
    return f"vector_{k:0{max(4, len(str(total - 1)))}d}.itf.json"


def itf_documents(suite: Suite, explored: Explored, command: str) -> list[tuple[str, dict[str, Any]]]:
    """``(file name, ITF document)`` per vector, in suite order."""
    system = explored.engine.system
    out = []
    total = len(suite.vectors)
    for k, v in enumerate(suite.vectors):
        steps = [_Step(None if i == 0 else explored.label(v.aids[i - 1]), explored.raw(u))
                 for i, u in enumerate(v.nodes)]
        new = [x for c in v.covers for x in c]
        what = (f"covers {len(new)} new transition(s)" if suite.cover == "edges" else "covers " + ", ".join(new)) \
            if new else "covers nothing new"
        doc = trace_document(system, steps,
                             description=f"conformance vector {k} of {total} ({v.purpose}, --cover {suite.cover}): "
                                         f"{what}",
                             extra_meta={"vector": k, "vectors": total, "cover": suite.cover, "purpose": v.purpose,
                                         "command": command})
        for i, (item, u) in enumerate(zip(doc["states"], v.nodes)):
            item["#meta"]["enabled"] = explored.view(u)[0]
            if v.covers[i] and suite.cover == "edges":
                item["#meta"]["new"] = True  # the step into this state is a transition no earlier vector took
            elif v.covers[i]:
                item["#meta"]["covers"] = v.covers[i]
        out.append((vector_name(k, total), doc))
    return out


def index_document(suite: Suite, files: list[str], command: str,
                   kind: str = "ITF traces, one per file") -> dict[str, Any]:
    """The suite's index: what was covered, the figures, the files, and the mutant table."""
    return {
        "format": f"consensus-refmodel conformance vectors ({kind})",
        "command": command,
        **summary_json(suite),
        "files": [{"file": f, "steps": v.steps, "purpose": v.purpose,
                   "covers": [x for c in v.covers for x in c] if suite.cover != "edges"
                   else sum(len(c) for c in v.covers)}
                  for f, v in zip(files, suite.vectors)],
    }


def dump_trace(doc: dict[str, Any]) -> str:
    """An ITF document as JSON text with one state per line: compact, yet readable and diffable."""
    head = {k: v for k, v in doc.items() if k != "states"}
    lines = [json.dumps(st, separators=(",", ":")) for st in doc["states"]]
    return (json.dumps(head, indent=1)[:-2] + ',\n "states": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n")


def write_itf_suite(suite: Suite, explored: Explored, out_dir: str | Path, command: str) -> list[str]:
    """Write the suite into ``out_dir`` (created if missing; a previous suite there is replaced) and return
    the file names."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in sorted(out.glob("vector_*.itf.json")):
        old.unlink()
    docs = itf_documents(suite, explored, command)
    for name, doc in docs:
        (out / name).write_text(dump_trace(doc))
    files = [name for name, _ in docs]
    (out / INDEX).write_text(json.dumps(index_document(suite, files, command), indent=1) + "\n")
    return files


def write_text_suite(suite: Suite, out_dir: str | Path, files: list[tuple[str, str]], command: str, pattern: str,
                     kind: str) -> list[str]:
    """Write vectors a protocol's format rendered as text (``files``: name and text per vector, in suite order)
    and the index into ``out_dir`` (created if missing; earlier files matching ``pattern`` are removed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in sorted(out.glob(pattern)):
        old.unlink()
    for name, text in files:
        (out / name).write_text(text)
    names = [name for name, _ in files]
    (out / INDEX).write_text(json.dumps(index_document(suite, names, command, kind), indent=1) + "\n")
    return names


def summary_json(suite: Suite) -> dict[str, Any]:
    """The figures of a suite (no timings: the same command gives the same output)."""
    return {
        "protocol": suite.protocol, "config": suite.config, "cover": suite.cover, "seed": suite.seed,
        "max_steps": suite.max_steps,
        "graph": {"states": suite.states, "transitions": suite.transitions, "digraph_edges": suite.digraph_edges,
                  "generated": suite.generated},
        "items": suite.items, "reachable": suite.reachable, "covered": suite.covered,
        "unreachable": suite.unreachable, "beyond_max": suite.beyond_max,
        **({"view": suite.view, "model_graph": suite.model_graph, "not_expressible": suite.not_expressible}
           if suite.view else {}),
        **({"format_check": {k: v for k, v in suite.format_check.items() if not k.endswith("_s")}}
           if suite.format_check else {}),
        "vectors": len(suite.vectors),
        "covering": {"traces": suite.greedy.traces, "steps": suite.greedy.steps, "method": suite.method},
        "naive": {"traces": suite.naive.traces, "steps": suite.naive.steps},
        "ratio": round(suite.ratio, 3),
        "added_for_mutants": {"traces": len(suite.vectors) - suite.greedy.traces,
                              "steps": sum(v.steps for v in suite.vectors) - suite.greedy.steps},
        "mutants": [{"mutant": r.mutant, "killed": r.vector is not None, "first_failing_vector": r.vector,
                     "at_state": r.step, "reason": r.reason, "added": r.added} for r in suite.mutants],
    }


def summary_text(suite: Suite) -> str:
    what = {"actions": "actions", "branches": "branches of the rules", "edges": "transitions"}[suite.cover]
    lines = [f"{suite.protocol} {_config_text(suite.config)}: --cover {suite.cover}",
             f"state graph: {suite.states:,} states, {suite.transitions:,} transitions within the bounds "
             f"({suite.digraph_edges:,} distinct state pairs; {suite.generated:,} generated, TLC's count)",
             f"{what} to cover: {suite.items:,}; reachable within the bounds: {suite.reachable:,}; "
             f"covered: {suite.covered:,}"]
    if suite.unreachable:
        lines.append(f"unreachable within the bounds ({len(suite.unreachable)}): "
                     + _some(suite.unreachable))
    if suite.view:
        mg = suite.model_graph
        lines.append(suite.view + (f" (the model's graph: {mg['states']:,} states, {mg['transitions']:,} transitions)"
                                   if mg else ""))
        if suite.not_expressible:
            lines.append(f"not expressible in this format ({len(suite.not_expressible)}): "
                         + _some(suite.not_expressible))
    if suite.beyond_max:
        lines.append(f"NOT covered: beyond --max {suite.max_steps} steps ({len(suite.beyond_max)}): "
                     + _some(suite.beyond_max))
    g, nv = suite.greedy, suite.naive
    lines.append(f"covering vectors: {g.traces:,} traces, {g.steps:,} steps ({suite.method})")
    lines.append(f"naive (one shortest trace per item): {nv.traces:,} traces, {nv.steps:,} steps "
                 f"({suite.ratio:.2f} times the steps)")
    added = len(suite.vectors) - g.traces
    if added:
        steps = sum(v.steps for v in suite.vectors) - g.steps
        lines.append(f"added to tell mutants apart: {added} trace(s), {steps} steps")
    if suite.mutants:
        killed = sum(r.vector is not None for r in suite.mutants)
        by_cover = sum(r.vector is not None and not r.added for r in suite.mutants)
        lines.append(f"mutants killed: {killed}/{len(suite.mutants)} ({by_cover} by the covering vectors)")
    fc = suite.format_check
    if fc:
        lines.append(f"checked with {fc['check']}: {fc['accepted']}/{fc['traces']} accepted ({fc['lines']:,} lines)"
                     + "".join(f"; vector {r['vector']} REJECTED at line {r['line']}: {r['why']}"
                               for r in fc["rejected"]))
    return "\n".join(lines)


def mutants_text(suite: Suite, names: list[str] | None = None) -> str:
    """The table mutant -> first failing vector (``names``: how vectors are called, e.g. file names)."""
    rows = [("mutant", "first failing vector", "state", "why")]
    for r in suite.mutants:
        if r.vector is None:
            rows.append((r.mutant, "none (survives)", "-", r.reason))
        else:
            ref = names[r.vector] if names else f"#{r.vector}"
            rows.append((r.mutant, ref + (" (added for it)" if r.added else ""), str(r.step), r.reason))
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3] for row in rows)


def _config_text(cfg: dict[str, Any]) -> str:
    return "[" + ", ".join(f"{k}={v}" for k, v in cfg.items()) + "]"


def _some(items: list[str], k: int = 8) -> str:
    return ", ".join(items[:k]) + (f" ... ({len(items) - k} more)" if len(items) > k else "")
