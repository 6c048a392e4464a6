"""go-ethereum's Clique voting scenarios, replayed through the model's own rules.

The scenario format is the one of ``../shared/reference/clique/geth_snapshot_vectors.json`` (its ``schema``
key): genesis signers, then blocks ``{number, signer, voted, auth, checkpoint}`` and the expected final
signer set or error.  One extension: a scenario may name its ``threshold`` (``majority``, the default and
go-ethereum's, or ``two_thirds``), as the scenarios ``refmodel vectors poa --format geth --threshold
two_thirds`` writes do.  Accounts are letters; their order is irrelevant to every expectation (go-ethereum maps
them to random addresses), so letters sort alphabetically here.

Each block goes through :func:`model.poa.rules.apply_block`, the function the model's nodes validate with,
without the turn check (the harness fakes difficulty, ``fakeDiff``).  ``voted: null`` is no vote (the
harness's coinbase 0x0, which can never be a valid target).  Import batches (``new_batch``) change nothing
here: a snapshot is a function of the chain, which is what go-ethereum's fix of issue 17593 restored.

Everything here is pure: :func:`parse_scenarios` takes decoded JSON, :func:`replay` returns plain data.
Input errors raise :class:`ScenarioError`, whose message names the scenario and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from refmodel.model.poa.rules import (
    DEFAULT_RULES,
    DIFF_IN_TURN,
    ERRORS,
    THRESHOLDS,
    Block,
    Rules,
    Vote,
    apply_chain,
    genesis_snapshot,
)

_ACCOUNT = re.compile(r"[A-Z]\Z")
_BLOCK_FIELDS = ("number", "signer", "voted", "auth", "checkpoint")


class ScenarioError(ValueError):
    """A scenario is malformed; ``str()`` names the scenario and the field."""

    def __init__(self, scenario: str, field: str, problem: str) -> None:
        super().__init__(f"{scenario}: field '{field}': {problem}")
        self.scenario, self.field, self.problem = scenario, field, problem


@dataclass(frozen=True)
class Scenario:
    """One scenario, validated."""

    id: Any
    name: str
    epoch: int
    initial_signers: tuple[str, ...]
    blocks: tuple[Block, ...]
    expected_signers: tuple[str, ...] | None
    expected_failure: str | None
    threshold: str = "majority"  # an extension of go-ethereum's schema (which has only majority)


@dataclass(frozen=True)
class Outcome:
    """What replaying a scenario gave, and whether it is what go-ethereum expects."""

    id: Any
    name: str
    final_signers: list[str] | None  # None when a block failed
    failure: str | None
    failing_block: int | None
    matches: bool
    expected_signers: list[str] | None
    expected_failure: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "final_signers": self.final_signers, "failure": self.failure,
                "failing_block": self.failing_block, "matches": self.matches}


def _account(where: str, field: str, v: Any) -> str:
    if not isinstance(v, str) or not _ACCOUNT.match(v):
        raise ScenarioError(where, field, f"unknown signer {v!r} (accounts are single letters A-Z)")
    return v


def _accounts(where: str, field: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise ScenarioError(where, field, f"must be a list of accounts, not {v!r}")
    out = tuple(_account(where, f"{field}[{k}]", x) for k, x in enumerate(v))
    if len(set(out)) != len(out):
        raise ScenarioError(where, field, f"lists an account twice: {v!r}")
    return out


def _need(where: str, obj: dict, key: str, prefix: str = "") -> Any:
    if key not in obj:
        raise ScenarioError(where, prefix + key, "missing")
    return obj[key]


def parse_scenario(index: int, raw: Any) -> Scenario:
    """Validate one scenario (``index``: its position in the file, used when it has no usable id)."""
    where = f"scenario #{index}"
    if not isinstance(raw, dict):
        raise ScenarioError(where, "scenarios", f"entry {index} must be an object, not {type(raw).__name__}")
    sid = _need(where, raw, "id")
    name = raw.get("name", "")
    where = f"scenario {sid}" + (f" ({name})" if name else "")
    epoch = _need(where, raw, "epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        raise ScenarioError(where, "epoch", f"must be a positive integer, not {epoch!r}")
    initial = _accounts(where, "initial_signers", _need(where, raw, "initial_signers"))
    raw_blocks = _need(where, raw, "blocks")
    if not isinstance(raw_blocks, list):
        raise ScenarioError(where, "blocks", "must be a list of blocks")
    blocks = []
    for k, rb in enumerate(raw_blocks):
        at = f"blocks[{k}]."
        if not isinstance(rb, dict):
            raise ScenarioError(where, f"blocks[{k}]", "must be an object")
        for key in _BLOCK_FIELDS:
            _need(where, rb, key, at)
        number = rb["number"]
        if isinstance(number, bool) or not isinstance(number, int):
            raise ScenarioError(where, at + "number", f"must be an integer, not {number!r}")
        previous = blocks[-1].number if blocks else 0
        if number <= previous:
            raise ScenarioError(where, at + "number", f"{number} does not increase (the previous block is "
                                                     f"{'genesis, 0' if not blocks else previous})")
        if number != previous + 1:
            raise ScenarioError(where, at + "number", f"{number} skips a height (expected {previous + 1})")
        signer = _account(where, at + "signer", rb["signer"])
        voted = rb["voted"]
        if voted is not None:
            voted = _account(where, at + "voted", voted)
        auth = rb["auth"]
        if not isinstance(auth, bool):
            raise ScenarioError(where, at + "auth", f"must be true or false, not {auth!r}")
        cp = rb["checkpoint"]
        if cp is not None:
            cp = tuple(sorted(_accounts(where, at + "checkpoint", cp)))
        batch = rb.get("new_batch", False)
        if not isinstance(batch, bool):
            raise ScenarioError(where, at + "new_batch", f"must be true or false, not {batch!r}")
        blocks.append(Block(number, signer, None if voted is None else Vote(voted, auth), DIFF_IN_TURN, cp))
    expected = _need(where, raw, "expected")
    if not isinstance(expected, dict):
        raise ScenarioError(where, "expected", "must be an object")
    final = _need(where, expected, "final_signers", "expected.")
    failure = _need(where, expected, "failure", "expected.")
    if final is not None:
        final = tuple(sorted(_accounts(where, "expected.final_signers", final)))
    if failure is not None and failure not in ERRORS:
        raise ScenarioError(where, "expected.failure", f"unknown error {failure!r} (known: {', '.join(ERRORS)})")
    if (final is None) == (failure is None):
        raise ScenarioError(where, "expected", "give exactly one of final_signers and failure")
    threshold = raw.get("threshold", "majority")
    if threshold not in THRESHOLDS:
        raise ScenarioError(where, "threshold", f"must be one of {', '.join(THRESHOLDS)}, not {threshold!r}")
    return Scenario(id=sid, name=str(name), epoch=epoch, initial_signers=initial, blocks=tuple(blocks),
                    expected_signers=final, expected_failure=failure, threshold=threshold)


def parse_scenarios(data: Any) -> list[Scenario]:
    """Validate a decoded vector file: an object whose ``scenarios`` is a list of scenarios."""
    if not isinstance(data, dict) or "scenarios" not in data:
        raise ScenarioError("file", "scenarios", "missing (expected an object with a list 'scenarios')")
    raw = data["scenarios"]
    if not isinstance(raw, list):
        raise ScenarioError("file", "scenarios", "must be a list")
    return [parse_scenario(k, r) for k, r in enumerate(raw)]


def replay(sc: Scenario, rules: Rules = DEFAULT_RULES, threshold: str | None = None) -> Outcome:
    """Apply the scenario's blocks from its genesis with the model's rule functions (and the scenario's
    threshold, unless ``threshold`` overrides it)."""
    threshold = threshold or sc.threshold
    snaps, bad, err = apply_chain(rules, sc.epoch, threshold, genesis_snapshot(sc.initial_signers), sc.blocks,
                                  verify_difficulty=False)
    final = None if err is not None else list(snaps[-1].signers)
    if sc.expected_failure is not None:
        matches = err == sc.expected_failure
    else:
        matches = err is None and tuple(final or ()) == sc.expected_signers
    return Outcome(id=sc.id, name=sc.name, final_signers=final, failure=err, failing_block=bad, matches=matches,
                   expected_signers=None if sc.expected_signers is None else list(sc.expected_signers),
                   expected_failure=sc.expected_failure)


def replay_all(data: Any, mutant: str | None = None) -> list[Outcome]:
    """Validate and replay every scenario of a decoded vector file, with a mutant's rules if named."""
    rules = DEFAULT_RULES
    if mutant is not None:
        from refmodel.model.poa.mutants import MUTANTS

        rules = MUTANTS[mutant].rules
    return [replay(sc, rules) for sc in parse_scenarios(data)]
