"""The abstract Clique model (``model/poa/abstract.py``) as a symbolic transition relation for Z3.

The height is an unbounded Int; the snapshot (signer flags, pending votes, tallies, recents) and the history
variables are fixed-size vectors over the identities and the recents window.  One action family,
``Seal(s)``, one disjunct per sealer; the block's vote (target, or -1 for none, and direction) is a pair of
free variables read back for the label.  The five numbered rules of the explicit ``apply_block`` appear
below in the same order, each as the new value of the variables it changes.
"""

from __future__ import annotations

from typing import Any

import z3

from refmodel.model.symbolic import SymAction, SymbolicModel, SymState
from refmodel.invariants import poa_smt as E
from refmodel.invariants.poa_smt import ADD, DROP, NONE
from refmodel.model.poa.abstract import (
    MUTANTS,
    AbstractCliqueConfig,
    CliqueState,
    Node,
    Vote,
    build,
)


class CliqueSymState(SymState):
    """The Z3 terms of one abstract Clique state (layout in ``invariants/poa_smt.py``)."""

    def __init__(self, cfg: AbstractCliqueConfig, values: dict[tuple, Any]) -> None:
        super().__init__(values)
        m, w = cfg.identities, cfg.window
        self.m, self.w, self.epoch, self.threshold = m, w, cfg.epoch, cfg.threshold
        self.height = values[("height",)]
        self.signer = [values[("signer", x)] for x in range(m)]
        self.tally = [values[("tally", x)] for x in range(m)]
        self.vote = [[values[("vote", v, x)] for x in range(m)] for v in range(m)]
        self.cast = [[values[("cast", v, x)] for x in range(m)] for v in range(m)]
        self.recent = [values[("recent", d)] for d in range(w)]
        self.sealer = [values[("sealer", d)] for d in range(w)]
        self.hv_target = values[("hv_target",)]
        self.hv_dir = values[("hv_dir",)]


def clique_keys(cfg: AbstractCliqueConfig) -> list[tuple]:
    m, w = cfg.identities, cfg.window
    keys: list[tuple] = [("height",)]
    keys += [("signer", x) for x in range(m)] + [("tally", x) for x in range(m)]
    keys += [("vote", v, x) for v in range(m) for x in range(m)] + [("cast", v, x) for v in range(m) for x in range(m)]
    keys += [("recent", d) for d in range(w)] + [("sealer", d) for d in range(w)] + [("hv_target",), ("hv_dir",)]
    return keys


def _name(tag: str, key: tuple) -> str:
    var, *idx = key
    return f"{tag}.{var}" + "".join(f"[{str(Node(i)) if var in ('signer', 'tally', 'vote', 'cast') else i}]"
                                    for i in idx)


class CliqueSymbolic(SymbolicModel):
    """Symbolic abstract Clique for fixed identities; heights are unbounded."""

    protocol = "poa"
    encodings = E.ENCODINGS
    safety = E.SAFETY
    inductive = E.INDUCTIVE

    def __init__(self, config: AbstractCliqueConfig, mutant: str | None = None) -> None:
        if mutant is not None and mutant not in MUTANTS:
            raise KeyError(f"unknown poa mutant for the abstract model '{mutant}' "
                           f"(known: {', '.join(sorted(MUTANTS))})")
        self.config, self.mutant = config, mutant
        self.m, self.w = config.identities, config.window
        self.explicit = build(config, mutant)
        # the in-turn rule orders the identities; without it every rule is symmetric in them
        self.symmetric = config.proposer_rule == "clique"

    def describe(self) -> dict[str, Any]:
        c = self.config
        return {"signers": c.signers, "candidates": c.candidates, "epoch": c.epoch, "threshold": c.threshold,
                "proposer_rule": c.proposer_rule, "heights": "unbounded"}

    # ------------------------------------------------------------------------------------------ states

    def keys(self) -> list[tuple]:
        return clique_keys(self.config)

    def state(self, tag: str) -> CliqueSymState:
        return CliqueSymState(self.config, {k: (z3.Bool if k[0] == "signer" else z3.Int)(_name(tag, k))
                                            for k in self.keys()})

    def state_of(self, values: dict[tuple, Any]) -> CliqueSymState:
        return CliqueSymState(self.config, values)

    def type_ok(self, S: CliqueSymState) -> Any:
        m = self.m
        out = [S.height >= 0, S.hv_target >= NONE, S.hv_target < m, S.hv_dir >= 0, S.hv_dir <= DROP,
               (S.hv_target == NONE) == (S.hv_dir == 0)]
        out += [z3.And(S.vote[v][x] >= 0, S.vote[v][x] <= DROP, S.cast[v][x] >= 0, S.cast[v][x] <= DROP)
                for v in range(m) for x in range(m)]
        out += [z3.And(S.recent[d] >= NONE, S.recent[d] < m, S.sealer[d] >= NONE, S.sealer[d] < m)
                for d in range(self.w)]
        return z3.And(out)

    def initial(self) -> dict[tuple, Any]:
        out: dict[tuple, Any] = {}
        for k in self.keys():
            if k[0] == "signer":
                out[k] = z3.BoolVal(k[1] < self.config.signers)
            elif k[0] in ("recent", "sealer", "hv_target"):
                out[k] = z3.IntVal(NONE)
            else:
                out[k] = z3.IntVal(0)
        return out

    def bounds(self) -> dict[str, Any]:
        return {"heights": f"<= {self.config.max_height}"}

    def constraint(self, S: CliqueSymState) -> Any:
        return S.height <= self.config.max_height

    def small(self, S: CliqueSymState, k: int) -> Any:
        m = self.m
        quiet = [S.vote[v][x] == 0 for v in range(m) for x in range(m)] if k <= 3 else []
        quiet += [S.cast[v][x] == 0 for v in range(m) for x in range(m)] if k <= 2 else []
        return z3.And([S.height <= 2 * k, S.height >= self.w] + quiet
                      + [z3.And(S.tally[x] >= 0, S.tally[x] <= k - 2) for x in range(m)])

    def values_of(self, s: CliqueState) -> dict[tuple, Any]:
        m = self.m
        out: dict[tuple, Any] = {("height",): s.height,
                                 ("hv_target",): NONE if s.head_vote is None else int(s.head_vote.target),
                                 ("hv_dir",): 0 if s.head_vote is None else s.head_vote.direction}
        for x in range(m):
            out[("signer", x)] = Node(x) in s.signers
            out[("tally", x)] = s.tally[x]
            for v in range(m):
                out[("vote", v, x)], out[("cast", v, x)] = s.votes[v][x], s.cast[v][x]
        for d in range(self.w):
            out[("recent", d)] = NONE if s.recents[d] is None else int(s.recents[d])
            out[("sealer", d)] = NONE if s.sealers[d] is None else int(s.sealers[d])
        return out

    def decode(self, mdl: Any, S: CliqueSymState) -> CliqueState:
        val = lambda e: mdl.eval(e, model_completion=True).as_long()  # noqa: E731
        node = lambda k: None if k < 0 else Node(k)  # noqa: E731
        m = self.m
        t = val(S.hv_target)
        return CliqueState(
            height=val(S.height),
            signers=frozenset(Node(x) for x in range(m) if z3.is_true(mdl.eval(S.signer[x], model_completion=True))),
            recents=tuple(node(val(r)) for r in S.recent),
            votes=tuple(tuple(val(S.vote[v][x]) for x in range(m)) for v in range(m)),
            tally=tuple(val(S.tally[x]) for x in range(m)),
            sealers=tuple(node(val(r)) for r in S.sealer),
            cast=tuple(tuple(val(S.cast[v][x]) for x in range(m)) for v in range(m)),
            head_vote=None if t < 0 else Vote(Node(t), val(S.hv_dir)))

    # ----------------------------------------------------------------------------------------- actions

    def actions(self, S: CliqueSymState, tag: str) -> list[SymAction]:
        out = []
        for s in range(self.m):
            tgt, d = z3.Int(f"{tag}.vote_target[{Node(s)}]"), z3.Int(f"{tag}.vote_dir[{Node(s)}]")
            guard, upd = self.seal(S, s, tgt, d)

            def vote(mdl: Any, tgt: Any = tgt, d: Any = d) -> Vote | None:
                t = mdl.eval(tgt, model_completion=True).as_long()
                return None if t < 0 else Vote(Node(t), mdl.eval(d, model_completion=True).as_long())

            out.append(SymAction("Seal", (("s", Node(s)),), guard, upd, rep=s == 0, choices={"vote": vote},
                                 choice_vars=[tgt, d],
                                 domains=[tgt >= NONE, tgt < self.m, d >= ADD, d <= DROP]))
        return out

    def _passes(self, votes: Any, n: Any) -> Any:
        if self.mutant == "threshold_half":
            return 2 * votes >= n
        return E.passes(self.config.threshold, votes, n)

    def seal(self, S: CliqueSymState, s: int, tgt: Any, d: Any) -> tuple[Any, dict]:
        """Signer s seals block height+1 with the vote (tgt, d) (tgt = -1: no vote)."""
        m, w, cfg, mut = self.m, self.w, self.config, self.mutant
        N = E.n_signers(S)
        lim = N / 2 + 1
        n = S.height + 1
        checkpoint = n % cfg.epoch == 0
        guard = [z3.Implies(checkpoint, tgt == NONE)]
        if mut != "accept_unauthorised_signer":
            guard.append(S.signer[s])  # (1) authorisation
        if cfg.proposer_rule == "round_robin":
            pos = z3.Sum([z3.If(S.signer[y], 1, 0) for y in range(s)])
            guard.append(z3.And(S.signer[s], z3.Or([z3.And(N == k, n % k == pos) for k in range(1, m + 1)])))
        # (1) a checkpoint clears votes and tallies (and the epoch's history of votes)
        reset = checkpoint if mut != "no_vote_reset_at_epoch" else z3.BoolVal(False)
        vb = [[z3.If(reset, 0, S.vote[v][x]) for x in range(m)] for v in range(m)]
        tb = [z3.If(reset, 0, S.tally[x]) for x in range(m)]
        cb = [[z3.If(checkpoint, 0, S.cast[v][x]) for x in range(m)] for v in range(m)]
        # (2) evict block n - limit, check the sealer
        ev = [z3.If(lim - 1 == k, NONE, S.recent[k]) for k in range(w)]
        if mut != "no_recency_check":
            guard += [ev[k] != s for k in range(w)]
        # (3) withdraw the sealer's earlier vote on the target, (4) cast the new one if valid
        v1 = [row[:] for row in vb]
        c1 = [row[:] for row in cb]
        t1 = []
        for x in range(m):
            touched = tgt == x
            valid = z3.If(d == ADD, z3.Not(S.signer[x]), S.signer[x])
            v1[s][x] = z3.If(touched, z3.If(valid, d, 0), vb[s][x])
            c1[s][x] = z3.If(touched, d, cb[s][x])
            t1.append(tb[x] - z3.If(z3.And(touched, vb[s][x] != 0), 1, 0) + z3.If(z3.And(touched, valid), 1, 0))
        # (5) execute on touch
        execs = [z3.And(tgt == x, self._passes(t1[x], N)) for x in range(m)]
        dropped = [z3.And(execs[x], S.signer[x]) for x in range(m)]
        if mut == "keep_votes_of_dropped_signer":
            v2, t2 = v1, t1
        else:
            v2 = [[z3.If(dropped[v], 0, v1[v][y]) for y in range(m)] for v in range(m)]
            t2 = [t1[y] - z3.Sum([z3.If(z3.And(dropped[v], v1[v][y] != 0), 1, 0) for v in range(m)]) for y in range(m)]
        upd: dict[tuple, Any] = {("height",): n, ("hv_target",): tgt, ("hv_dir",): z3.If(tgt == NONE, 0, d)}
        for x in range(m):
            upd[("signer", x)] = z3.If(execs[x], z3.Not(S.signer[x]), S.signer[x])
            upd[("tally", x)] = z3.If(execs[x], 0, t2[x])
            for v in range(m):
                upd[("vote", v, x)] = z3.If(execs[x], 0, v2[v][x])
                upd[("cast", v, x)] = z3.If(execs[x], 0, c1[v][x])
        new_lim = (N - 1) / 2 + 1
        any_drop = z3.Or(dropped)
        for k in range(w):
            r = z3.IntVal(s) if k == 0 else ev[k - 1]
            r = z3.If(z3.And(any_drop, new_lim == k), NONE, r)
            if mut == "recents_reset_at_checkpoint":
                r = z3.If(checkpoint, NONE, r)
            upd[("recent", k)] = r
            upd[("sealer", k)] = z3.IntVal(s) if k == 0 else S.sealer[k - 1]
        return z3.And(guard), upd
