"""Check specifications: TOML files that name a protocol, its bounds, the invariants and the expected verdict.

::

    name = "n2_t2_l1_c1_m1"             # optional, defaults to the file name
    description = "..."                 # optional
    protocol = "raft"
    symmetry = false                    # optional
    invariants = ["election_safety"]    # optional, default: the protocol's default set
    mutant = "vote_twice"               # optional (or "./bugs.py:NAME", relative to this file)
    deadlock = true                     # optional: a state with no enabled action is an error (default:
                                        #   the protocol's: on, but off for etcdraft)
    liveness = ["leader_elected"]       # optional: liveness properties, checked on the explored graph
    fairness = ["wf:Timeout"]           # optional: their fairness assumptions (wf:A, sf:A, wf:A[*])

    [bounds]                            # the protocol's configuration fields (see `refmodel list`)
    servers = 2

    [limits]                            # optional: max_states, max_depth, time_limit (seconds)

    [expect]
    verdict = "pass"                    # pass | violation | deadlock | incomplete
    distinct_states = 1760              # optional exact figures, compared when present
    generated_states = 13797
    tlc_depth = 28
    invariant = "raft.election_safety"  # with verdict = "violation": which property fails (or "deadlock")
    length = 16                         #   and the shortest counterexample's number of steps

Every error names the file, the line (where it can be found) and the field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from refmodel.model.core import ConfigError, is_reference

VERDICTS = ("pass", "violation", "deadlock", "incomplete")
_TOP = {"name", "description", "protocol", "symmetry", "invariants", "mutant", "bounds", "limits", "expect",
        "deadlock", "liveness", "fairness"}
_LIMITS = {"max_states": int, "max_depth": int, "time_limit": (int, float)}
_EXPECT = {"verdict": str, "distinct_states": int, "generated_states": int, "tlc_depth": int, "depth": int,
           "invariant": str, "length": int}


class SpecError(ValueError):
    """A spec file is malformed; the message names the file, line and field."""


@dataclass
class Spec:
    path: Path
    name: str
    description: str
    protocol: str
    config: Any
    symmetry: bool
    invariants: list[str] | None
    mutant: str | None
    limits: dict[str, Any]
    expect: dict[str, Any] = field(default_factory=dict)
    deadlock: bool | None = None  # None: the protocol's default
    liveness: list[str] = field(default_factory=list)
    fairness: list[str] = field(default_factory=list)


def _line_of(text: str, key: str, section: str | None = None) -> int | None:
    """The line where ``key = ...`` is set (inside ``[section]`` if given), 1-based."""
    current = None
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if m := re.match(r"\[\s*([A-Za-z0-9_.-]+)\s*\]", s):
            current = m.group(1)
            continue
        if re.match(rf"{re.escape(key)}\s*=", s) and (section is None or current == section):
            return n
    return None


def _beside(spec: Path, name: str) -> str:
    """A ``PATH.py:NAME`` reference made absolute from the spec file's folder (other names unchanged)."""
    if not is_reference(name):
        return name
    where, _, attr = name.rpartition(":")
    if not (where.endswith(".py") or "/" in where) or Path(where).is_absolute():
        return name
    return f"{(spec.parent / where).resolve()}:{attr}"


def load_spec(path: str | Path) -> Spec:
    """Read and validate one spec file (raises :class:`SpecError`)."""
    from refmodel.model import UnknownProtocol, protocol

    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise SpecError(f"{path}:{line}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None

    def fail(msg: str, key: str, section: str | None = None) -> SpecError:
        line = _line_of(text, key, section)
        where = f"{path}:{line}" if line else str(path)
        dotted = f"{section}.{key}" if section else key
        return SpecError(f"{where}: field '{dotted}': {msg}")

    for key in data:
        if key not in _TOP:
            raise fail(f"unknown field (expected one of {', '.join(sorted(_TOP))})", key)
    if "protocol" not in data:
        raise SpecError(f"{path}: field 'protocol' is missing")
    if not isinstance(data["protocol"], str):
        raise fail("must be a string", "protocol")
    try:
        proto = protocol(data["protocol"])
    except UnknownProtocol as exc:
        raise fail(str(exc), "protocol") from None

    bounds = data.get("bounds", {})
    if not isinstance(bounds, dict):
        raise fail("must be a table", "bounds")
    known = {f.name: f for f in fields(proto.config_class)}
    for key, value in bounds.items():
        if key not in known:
            raise fail(f"unknown bound for {proto.name} (expected one of {', '.join(known)})", key, "bounds")
        if isinstance(known[key].default, bool) != isinstance(value, bool):
            raise fail(f"must be {'true or false' if isinstance(known[key].default, bool) else 'a value'} "
                       f"like {known[key].default!r}, not {value!r}", key, "bounds")
    try:
        config = proto.config_class(**bounds)
    except ConfigError as exc:
        bad = str(exc).split(" ", 1)[0]
        raise fail(str(exc), bad, "bounds") from None

    symmetry = data.get("symmetry", False)
    if not isinstance(symmetry, bool):
        raise fail("must be true or false", "symmetry")
    invariants = data.get("invariants")
    if invariants is not None and (not isinstance(invariants, list)
                                   or not all(isinstance(x, str) for x in invariants)):
        raise fail("must be a list of invariant names", "invariants")
    if invariants is not None:
        # PATH.py:NAME references are relative to the spec file, whatever the current directory
        invariants = [_beside(path, x) for x in invariants]
        import refmodel.invariants as inv

        try:
            inv.resolve(proto.name, invariants)
        except inv.UnknownProperty as exc:
            raise fail(str(exc.args[0]), "invariants") from None
    mutant = data.get("mutant")
    if mutant is not None:
        if not isinstance(mutant, str) or not (mutant in proto.mutants or is_reference(mutant)):
            raise fail(f"unknown {proto.name} mutant {mutant!r} (known: {', '.join(sorted(proto.mutants))}; or "
                       "PATH.py:NAME, MODULE:NAME)", "mutant")
        mutant = _beside(path, mutant)
        try:
            proto.build(config, mutant)
        except LookupError as exc:
            raise fail(str(exc.args[0]), "mutant") from None

    deadlock = data.get("deadlock")
    if deadlock is not None and not isinstance(deadlock, bool):
        raise fail("must be true or false", "deadlock")
    lists = {}
    for key in ("liveness", "fairness"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise fail("must be a list of strings", key)
        lists[key] = [_beside(path, x) for x in value]
    if lists["liveness"]:
        import refmodel.invariants as inv

        try:
            inv.resolve_liveness(proto.name, lists["liveness"])
        except inv.UnknownProperty as exc:
            raise fail(str(exc.args[0]), "liveness") from None
    if lists["fairness"]:
        from refmodel.checkers.liveness import Fairness

        if not lists["liveness"]:
            raise fail("fairness is an assumption of liveness properties: name one in 'liveness'", "fairness")
        try:
            for f in lists["fairness"]:
                Fairness.parse(f, proto.build(config, None).action_names())
        except ValueError as exc:
            raise fail(str(exc), "fairness") from None

    limits = data.get("limits", {})
    if not isinstance(limits, dict):
        raise fail("must be a table", "limits")
    for key, value in limits.items():
        if key not in _LIMITS:
            raise fail(f"unknown limit (expected one of {', '.join(_LIMITS)})", key, "limits")
        if isinstance(value, bool) or not isinstance(value, _LIMITS[key]) or value < 0:
            raise fail("must be a non-negative number", key, "limits")

    expect = data.get("expect")
    if not isinstance(expect, dict):
        raise SpecError(f"{path}: table [expect] with at least 'verdict' is missing")
    for key, value in expect.items():
        if key not in _EXPECT:
            raise fail(f"unknown expectation (expected one of {', '.join(_EXPECT)})", key, "expect")
        if isinstance(value, bool) or not isinstance(value, _EXPECT[key]):
            raise fail(f"must be {'a string' if _EXPECT[key] is str else 'an integer'}", key, "expect")
    if expect.get("verdict") not in VERDICTS:
        raise fail(f"must be one of {', '.join(VERDICTS)}", "verdict", "expect")
    if ("invariant" in expect or "length" in expect) and expect["verdict"] not in ("violation", "deadlock"):
        raise fail("only meaningful with verdict = \"violation\"", "invariant" if "invariant" in expect
                   else "length", "expect")

    name = data.get("name", path.stem)
    if not isinstance(name, str):
        raise fail("must be a string", "name")
    return Spec(path=path, name=name, description=str(data.get("description", "")), protocol=proto.name,
                config=config, symmetry=symmetry, invariants=invariants, mutant=mutant, limits=limits,
                expect=expect, deadlock=deadlock, liveness=lists["liveness"], fairness=lists["fairness"])


def discover(paths: list[str]) -> list[Path]:
    """Spec files named on the command line (directories expand to their ``*.toml``), or ``./specs``."""
    if not paths:
        default = Path("specs")
        if not default.is_dir():
            raise SpecError("no spec given and no ./specs directory here; run from the project root or "
                            "name spec files")
        paths = [str(default)]
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                raise SpecError(f"{path}: no *.toml spec files in this directory")
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise SpecError(f"{path}: no such spec file or directory")
    return out


def compare(spec: Spec, result: Any) -> list[str]:
    """How ``result`` departs from the spec's expectations (empty: as expected)."""
    exp, diffs = spec.expect, []
    if result.verdict != exp["verdict"]:
        diffs.append(f"verdict {result.verdict}, expected {exp['verdict']}")
    for key, got in (("distinct_states", result.distinct_states), ("generated_states", result.generated_states),
                     ("tlc_depth", result.tlc_depth), ("depth", result.depth)):
        if key in exp and exp[key] != got:
            diffs.append(f"{key} {got}, expected {exp[key]}")
    v = result.violation
    failed = [r for r in getattr(result, "liveness", []) or [] if not r.holds]
    if v is not None:
        name, length = v.invariant, v.length
    elif failed:  # a liveness counterexample: its length is the prefix's steps plus the cycle's
        name, length = failed[0].property, len(failed[0].prefix) - 1 + len(failed[0].cycle)
    else:
        return diffs
    if "invariant" in exp:
        want = exp["invariant"]
        if "." not in want and want != "deadlock":
            want = f"{spec.protocol}.{want}"
        if name != want:
            diffs.append(f"violated {name}, expected {want}")
    if "length" in exp and length != exp["length"]:
        diffs.append(f"counterexample of {length} steps, expected {exp['length']}")
    return diffs
