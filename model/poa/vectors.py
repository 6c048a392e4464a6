"""Clique conformance vectors in go-ethereum's ``TestClique`` schema: the chain exploration they are drawn
from, the branches of the rules each block takes, the scenario JSON, and the mutant oracle.

Like go-ethereum's table, a scenario is one chain of blocks applied to a genesis snapshot by the rules of
``rules.py`` (:func:`~model.poa.rules.apply_block`, without the turn check: the harness fakes difficulty),
and its blocks need not be ones an honest node would seal.  :class:`CliqueChain` is that as a transition
system: a state is the snapshot after the chain so far (or the error a block was rejected with, a terminal
state), and a step appends one block of the next height, sealed by any account (genesis signer, candidate or
outsider: an account never voted on), with no vote or a vote to add or drop any signer or candidate, and
with the right signer list, a wrong one or none at a checkpoint height, none or a misplaced one elsewhere.
Each step's label names the block and the branches of the rules it takes (:data:`BRANCHES`), so that
``refmodel vectors poa --format geth --cover branches`` covers every one the bounds reach.

Accounts are letters, in address order: the signers ``A, B, ...``, then the candidates, then the outsiders
(at least one; ``--intruders`` sets more).  The scenario file has the keys of
``../shared/reference/clique/geth_snapshot_vectors.json``; with ``--threshold two_thirds`` each scenario also
names its ``threshold`` (an extension that ``refmodel poa replay`` reads; go-ethereum has only majority).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from refmodel.model.core import Label, TransitionSystem
from refmodel.model.poa.config import PoaConfig
from refmodel.model.poa.rules import (
    DEFAULT_RULES,
    DIFF_IN_TURN,
    ERR_CHECKPOINT_BENEFICIARY,
    ERR_EXTRA_SIGNERS,
    ERR_MISMATCHING_CHECKPOINT,
    ERR_RECENTLY_SIGNED,
    ERR_UNAUTHORIZED,
    Block,
    Rules,
    Snapshot,
    Vote,
    apply_block,
    genesis_snapshot,
    is_checkpoint,
)

NONCE_AUTH, NONCE_DROP = "0xffffffffffffffff", "0x0000000000000000"

#: Every branch of the rules a block can take, in the order of EIP-225's per-block steps; the errors first.
BRANCHES: tuple[str, ...] = (
    f"{ERR_UNAUTHORIZED}: sealed by a candidate or dropped signer",
    f"{ERR_UNAUTHORIZED}: sealed by an outsider",
    f"{ERR_RECENTLY_SIGNED}",
    f"{ERR_MISMATCHING_CHECKPOINT}: wrong signer list",
    f"{ERR_MISMATCHING_CHECKPOINT}: no signer list",
    f"{ERR_CHECKPOINT_BENEFICIARY}",
    f"{ERR_EXTRA_SIGNERS}",
    "checkpoint: signer list accepted",
    "epoch: pending votes reset at the checkpoint",
    "recency: a signer seals again once its block left the window",
    "no vote",
    "vote ignored: adds a signer",
    "vote ignored: drops a non-signer",
    "vote cast: add, pending",
    "vote cast: drop, pending",
    "vote cast again: counted once",
    "vote withdrawn: an invalid vote uncasts the sealer's earlier one",
    "vote passes: signer added",
    "vote passes: signer dropped",
    "vote passes: the sealer drops itself",
    "drop: one more recent leaves the smaller window",
    "drop: the dropped signer's votes are discarded",
    "execute on touch: a tally past the threshold executes when voted on",
    "execute on touch: a tally past the threshold is lost when its vote is withdrawn",
)


class Rejected(NamedTuple):
    """The terminal state after a block the rules reject: go-ethereum's error."""

    error: str

    def describe(self) -> str:
        return self.error


def accounts(cfg: PoaConfig) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The letters of the genesis signers, the candidates and the outsiders (at least one)."""
    n_out = max(1, cfg.intruders)
    total = cfg.signers + cfg.candidates + n_out
    if total > 26:
        raise ValueError(f"{total} accounts do not fit in the letters A-Z of go-ethereum's table")
    letters = [chr(ord("A") + k) for k in range(total)]
    return (tuple(letters[:cfg.signers]), tuple(letters[cfg.signers:cfg.signers + cfg.candidates]),
            tuple(letters[cfg.signers + cfg.candidates:]))


class CliqueChain(TransitionSystem):
    """Chains of blocks applied to a genesis snapshot by Clique's rules (see the module docstring)."""

    protocol = "poa"
    #: the bounds of the configuration the exploration reads (the others configure the network model)
    BOUNDS = ("signers", "candidates", "intruders", "max_height", "epoch", "threshold")

    def __init__(self, config: PoaConfig, rules: Rules = DEFAULT_RULES, mutant: str | None = None) -> None:
        self.config, self.rules, self.mutant = config, rules, mutant
        self.signers, self.candidates, self.outsiders = accounts(config)
        self.accounts = self.signers + self.candidates + self.outsiders
        self.targets = self.signers + self.candidates

    def init_states(self) -> list[Snapshot]:
        return [genesis_snapshot(self.signers)]

    def action_names(self) -> tuple[str, ...]:
        return ("Block",)

    def blocks(self, snap: Snapshot) -> Iterator[Block]:
        """Every block of the next height the exploration tries on ``snap``."""
        n = snap.number + 1
        cp = is_checkpoint(self.config.epoch, n)
        votes: list[Vote | None] = [None] + [Vote(t, a) for t in self.targets for a in (True, False)]
        if cp:
            wrong = tuple(sorted(set(snap.signers) ^ {self.accounts[0]}))
            lists: list[tuple | None] = [snap.signers, wrong, None]
        else:
            lists = [None, snap.signers]
        for sealer in self.accounts:
            for vote in votes:
                for lst in lists:
                    yield Block(n, sealer, vote, DIFF_IN_TURN, lst)

    def step(self, snap: Snapshot, block: Block, rules: Rules | None = None) -> Snapshot | Rejected:
        cfg = self.config
        nxt, err = apply_block(rules or self.rules, cfg.epoch, cfg.threshold, snap, block, verify_difficulty=False)
        return Rejected(err) if err is not None else nxt

    def label(self, snap: Snapshot, block: Block, after: Snapshot | Rejected) -> Label:
        vote = block.vote
        return Label("Block", (("signer", block.sealer), ("voted", None if vote is None else vote.target),
                               ("auth", bool(vote and vote.authorize)), ("checkpoint", block.checkpoint),
                               ("branches", self.classify(snap, block, after))))

    def next_states(self, s: Any) -> Iterator[tuple[Label, Any]]:
        if isinstance(s, Rejected) or s.number >= self.config.max_height:
            return
        for block in self.blocks(s):
            after = self.step(s, block)
            yield self.label(s, block, after), after

    def branches(self, label: Label) -> tuple[str, ...]:
        return label.param("branches")

    def is_rejection(self, s: Any) -> bool:
        """A rejected block: go-ethereum's table then shows the error alone, nothing of the blocks before."""
        return isinstance(s, Rejected)

    def branch_universe(self) -> tuple[str, ...]:
        return BRANCHES

    def render(self, s: Any) -> dict[str, Any]:
        if isinstance(s, Rejected):
            return {"rejected": s.error}
        return {"number": s.number, "signers": list(s.signers), "recents": [list(r) for r in s.recents],
                "votes": [list(b) for b in s.votes]}

    # ------------------------------------------------------------------------------------------ branches

    def classify(self, snap: Snapshot, block: Block, after: Snapshot | Rejected) -> tuple[str, ...]:
        """The branches of the rules that applying ``block`` to ``snap`` takes (names of :data:`BRANCHES`)."""
        cfg, r = self.config, DEFAULT_RULES
        if isinstance(after, Rejected):
            err = after.error
            if err == ERR_UNAUTHORIZED:
                who = "an outsider" if block.sealer in self.outsiders else "a candidate or dropped signer"
                return (f"{err}: sealed by {who}",)
            if err == ERR_MISMATCHING_CHECKPOINT:
                return (f"{err}: {'no' if block.checkpoint is None else 'wrong'} signer list",)
            return (err,)
        out: list[str] = []
        n, sealer, vote = block.number, block.sealer, block.vote
        cp = is_checkpoint(cfg.epoch, n)
        if cp:
            out.append("checkpoint: signer list accepted")
            if snap.votes:
                out.append("epoch: pending votes reset at the checkpoint")
        base = r.reset_votes_at_checkpoint(cfg.epoch, snap, n)
        if any(s == sealer for _, s in base.recents):  # the sealer's entry left the window at this height
            out.append("recency: a signer seals again once its block left the window")
        if vote is None:
            out.append("no vote")
            return tuple(out)
        target = vote.target
        earlier = [b for b in base.votes if b.signer == sealer and b.target == target]
        valid = r.is_valid_vote(base, vote)
        before_votes, _ = r.tally(base, target)
        out_of_bounds = before_votes and r.passes_threshold(cfg.threshold, before_votes, len(base.signers))
        changed = (target in after.signers) != (target in base.signers)
        if not valid:
            if earlier:
                out.append("vote withdrawn: an invalid vote uncasts the sealer's earlier one")
            else:
                out.append("vote ignored: adds a signer" if vote.authorize else "vote ignored: drops a non-signer")
        elif earlier:
            out.append("vote cast again: counted once")
        if changed:
            if vote.authorize:
                out.append("vote passes: signer added")
            else:
                out.append("vote passes: signer dropped")
                if target == sealer:
                    out.append("vote passes: the sealer drops itself")
                normal = r.evict_recent(base, n).recents  # the window before the drop, plus this block
                if len(after.recents) < len(normal) + 1:  # the smaller window let one more go
                    out.append("drop: one more recent leaves the smaller window")
                if any(b.signer == target for b in base.votes):
                    out.append("drop: the dropped signer's votes are discarded")
            if out_of_bounds:
                out.append("execute on touch: a tally past the threshold executes when voted on")
        else:
            if valid and not earlier:
                out.append("vote cast: add, pending" if vote.authorize else "vote cast: drop, pending")
            if out_of_bounds:
                out.append("execute on touch: a tally past the threshold is lost when its vote is withdrawn")
        return tuple(out)

    # ------------------------------------------------------------------------------------------ scenarios

    def scenario(self, k: int, labels: Sequence[Label], final: Snapshot | Rejected, purpose: str,
                 covers: Sequence[str]) -> dict[str, Any]:
        """Scenario ``k`` in the schema of go-ethereum's table: the blocks of ``labels`` and the outcome."""
        cfg = self.config
        blocks = []
        for number, lab in enumerate(labels, 1):
            voted, auth = lab.param("voted"), lab.param("auth")
            cp = lab.param("checkpoint")
            blocks.append({"number": number, "signer": lab.param("signer"), "voted": voted, "auth": auth,
                           "nonce": NONCE_AUTH if auth else NONCE_DROP,
                           "checkpoint": None if cp is None else list(cp), "new_batch": False,
                           "comment": "; ".join(lab.param("branches"))})
        failed = isinstance(final, Rejected)
        if purpose == "cover":
            name = f"vector_{k}_" + _slug(covers[0] if covers else "no_new_branch")
            description = "Covers: " + ("; ".join(covers) if covers else "nothing new")
        else:
            name = f"vector_{k}_tells_apart_{purpose.split(' ', 1)[1]}"
            description = f"The shortest scenario whose outcome the {purpose} gets wrong"
        sc: dict[str, Any] = {
            "id": k, "name": name, "description": description,
            "epoch_in_source": cfg.epoch, "epoch": cfg.epoch,
            "initial_signers": list(self.signers), "blocks": blocks,
            "expected": {"final_signers": None if failed else list(final.signers),
                         "failure": final.error if failed else None},
        }
        if cfg.threshold != "majority":
            sc["threshold"] = cfg.threshold
        return sc


def _slug(text: str, limit: int = 48) -> str:
    """A short identifier from a branch name: lower case words joined by '_', cut at a word boundary."""
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    out = ""
    for w in words:
        if out and len(out) + 1 + len(w) > limit:
            break
        out = f"{out}_{w}" if out else w[:limit]
    return out


def scenario_document(suite: Any, command: str, coverage: dict[str, Any]) -> dict[str, Any]:
    """The scenario file of a suite built on a :class:`CliqueChain` (``refmodel vectors poa --format geth``)."""
    ex = suite.explored
    chain = ex.engine.system
    scenarios = []
    for k, v in enumerate(suite.vectors):
        labels = [ex.label(a) for a in v.aids]
        scenarios.append(chain.scenario(k, labels, ex.raw(v.nodes[-1]), v.purpose,
                                        [x for c in v.covers for x in c]))
    return scenario_file(chain, scenarios, command, coverage)


def scenario_file(chain: CliqueChain, scenarios: list[dict[str, Any]], command: str,
                  coverage: dict[str, Any]) -> dict[str, Any]:
    """The whole file: go-ethereum's table layout (``scenarios``), with provenance and coverage beside it."""
    failures: dict[str, int] = {}
    for sc in scenarios:
        f = sc["expected"]["failure"]
        if f is not None:
            failures[f] = failures.get(f, 0) + 1
    return {
        "title": "Clique (EIP-225) signer-voting conformance vectors generated by consensus-refmodel",
        "source": {"generator": "consensus-refmodel", "command": command,
                   "rules": "model/poa/rules.py apply_block, difficulty not verified (go-ethereum's fakeDiff)",
                   "accounts": {"signers": list(chain.signers), "candidates": list(chain.candidates),
                                "outsiders": list(chain.outsiders)},
                   "threshold": chain.config.threshold},
        "schema": SCHEMA,
        "scenarios": scenarios,
        "summary": {"scenarios": len(scenarios),
                    "success_cases": sum(sc["expected"]["failure"] is None for sc in scenarios),
                    "failure_cases": sum(sc["expected"]["failure"] is not None for sc in scenarios),
                    "failures": dict(sorted(failures.items())),
                    "blocks_total": sum(len(sc["blocks"]) for sc in scenarios)},
        "coverage": coverage,
    }


SCHEMA = {
    "id": "0-based index of the scenario in this file",
    "name": "short identifier: the vector's index and the first branch of the rules it covers",
    "description": "the branches of the rules this scenario covers first, or the mutant it was added for",
    "epoch_in_source": "the epoch length the scenario runs with (equal to epoch here)",
    "epoch": "epoch length: blocks whose number is a multiple of it are checkpoints",
    "threshold": "(only when not majority) votes needed: two_thirds = more than 2N/3 of the signers",
    "initial_signers": "genesis signers (letters are accounts; their address order is irrelevant here)",
    "blocks[].number": "block height, 1, 2, 3 ...",
    "blocks[].signer": "account that seals the block",
    "blocks[].voted": "account voted on (header.Coinbase); null: no vote (coinbase 0x0)",
    "blocks[].auth": "true: vote to add (nonce 0xff..ff); false: vote to drop, or no vote (nonce 0x00..00)",
    "blocks[].nonce": "the header nonce auth stands for",
    "blocks[].checkpoint": "signer list in the header's extra-data; null: none",
    "blocks[].new_batch": "always false: one batch per scenario",
    "blocks[].comment": "the branches of the rules this block takes (model/poa/vectors.py BRANCHES)",
    "expected.final_signers": "signers of the snapshot after the last block; null when a failure is expected",
    "expected.failure": "error the last block is rejected with (null = none); only the last block fails",
}


class GethOracle:
    """A mutant's verdict on geth scenarios, as ``refmodel poa replay --mutant`` gives it (the very
    functions it runs), and the shortest scenario whose outcome it gets wrong."""

    def __init__(self, name: str, chain: CliqueChain, mutant_rules: Rules) -> None:
        self.name, self.chain, self.rules = name, chain, mutant_rules

    def first_failure(self, explored: Any, vector: Any) -> tuple[int, str] | None:
        from refmodel.model.poa.replay import parse_scenario, replay

        labels = [explored.label(a) for a in vector.aids]
        final = explored.raw(vector.nodes[-1])
        sc = parse_scenario(0, self.chain.scenario(0, labels, final, "cover", []))
        out = replay(sc, self.rules)
        if out.matches:
            return None
        got = (f"{out.failure} at block {out.failing_block}" if out.failure
               else f"signers [{', '.join(out.final_signers or [])}]")
        want = (sc.expected_failure if sc.expected_failure
                else f"signers [{', '.join(sc.expected_signers or ())}]")
        return out.failing_block or len(labels), f"gives {got}, not {want}"

    def distinguish(self, explored: Any) -> list[Label] | None:
        """Breadth-first over pairs (the model's snapshot, the mutant's) along the same blocks, to the first
        block after which their outcomes (error, or signer set) differ."""
        from collections import deque

        chain = self.chain
        start = chain.init_states()[0]
        queue = deque([(start, start, ())])
        seen = {(start, start)}
        while queue:
            ok, mu, path = queue.popleft()
            if ok.number >= chain.config.max_height:
                continue
            for block in chain.blocks(ok):
                a = chain.step(ok, block)
                b = chain.step(mu, block, self.rules)
                lab = chain.label(ok, block, a)
                if isinstance(a, Rejected) or isinstance(b, Rejected):
                    if a != b:
                        return [*path, lab]
                    continue
                if a.signers != b.signers:
                    return [*path, lab]
                if (a, b) not in seen:
                    seen.add((a, b))
                    queue.append((a, b, (*path, lab)))
        return None


def geth_oracles(chain: CliqueChain) -> list[GethOracle]:
    """One oracle per shipped Clique mutant."""
    from refmodel.model.poa.mutants import MUTANTS

    return [GethOracle(name, chain, m.rules) for name, m in MUTANTS.items()]
