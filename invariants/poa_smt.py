"""Z3 encodings of the Clique (PoA) safety properties, and the auxiliary invariants that make them inductive.

They are stated over the abstract Clique model (``model/poa/abstract.py``; symbolic relation in
``model/poa/symbolic.py``): one chain's snapshot plus history variables.  The three properties are
properties of each sealed block, i.e. of each step ``s -> t`` (``t`` has one more block than ``s``); each
encoding names the predicate of ``invariants/poa.py`` it encodes, stated here over the abstract state, and
carries a plain-Python twin (``py=``) that BFS checks on the explicit model and that the tests compare with
the encoding state by state.

A symbolic state ``S`` has: ``S.height``; per identity x ``S.signer[x]`` (Bool) and ``S.tally[x]``; per
voter v and target x ``S.vote[v][x]`` and ``S.cast[v][x]`` (0 none, 1 add, 2 drop); per position d < W
``S.recent[d]`` and ``S.sealer[d]`` (an identity, -1 for none); ``S.hv_target`` (-1: no vote) and
``S.hv_dir``; and ``S.m`` (identities), ``S.w`` (W), ``S.epoch``, ``S.threshold`` (``majority`` or
``two_thirds``).

This module registers nothing with the BFS registry and imports z3 only inside functions.
"""

from __future__ import annotations

from typing import Any

from refmodel.invariants.raft_smt import Encoding, _encoding, _z3

ADD, DROP, NONE = 1, 2, -1

#: name -> encoding, safety properties first
ENCODINGS: dict[str, Encoding] = {}
poa_encoding = lambda **kw: _encoding(ENCODINGS, **kw)  # noqa: E731


# ----------------------------------------------------------------------------------------------- helpers


def n_signers(S: Any) -> Any:
    z3 = _z3()
    return z3.Sum([z3.If(b, 1, 0) for b in S.signer])


def limit(S: Any) -> Any:
    """SIGNER_LIMIT of the snapshot: floor(N/2) + 1."""
    return n_signers(S) / 2 + 1


def passes(threshold: str, votes: Any, n: Any) -> Any:
    """More than half (majority) or more than two thirds (two_thirds) of n."""
    return 3 * votes > 2 * n if threshold == "two_thirds" else 2 * votes > n


def valid_dir(S: Any, x: int) -> Any:
    """The only valid vote on x: drop a signer, add a non-signer."""
    z3 = _z3()
    return z3.If(S.signer[x], DROP, ADD)


# -------------------------------------------------------------------------------------- plain twins


def _py_limit(s: Any) -> int:
    return len(s.signers) // 2 + 1


def _py_passes(cfg: Any, votes: int, n: int) -> bool:
    return 3 * votes > 2 * n if cfg.threshold == "two_thirds" else 2 * votes > n


def _py_authorised(cfg: Any, s: Any, t: Any) -> bool:
    return t.sealers[0] in s.signers


def _py_recency(cfg: Any, s: Any, t: Any) -> bool:
    return t.sealers[0] not in [x for d, x in enumerate(s.sealers) if d <= _py_limit(s) - 2 and x is not None]


def _py_changes(cfg: Any, s: Any, t: Any) -> bool:
    changed = s.signers ^ t.signers
    if not changed:
        return True
    if len(changed) != 1:
        return False
    (x,) = changed
    d = 1 if x not in s.signers else 2
    return _py_passes(cfg, sum(1 for v in s.signers if _py_latest(cfg, s, t, v, x) == d), len(s.signers))


def _py_latest(cfg: Any, s: Any, t: Any, v: int, x: int) -> int:
    """v's latest vote on x in a block of t's epoch (0: none)."""
    if v == t.sealers[0] and t.head_vote is not None and t.head_vote.target == x:
        return t.head_vote.direction
    return 0 if t.height % cfg.epoch == 0 else s.cast[v][x]


def _py_recents_match(cfg: Any, s: Any) -> bool:
    lim = _py_limit(s)
    for d, (r, x) in enumerate(zip(s.recents, s.sealers)):
        if r is not None and r != x:
            return False
        if d <= lim - 2 and r != x:
            return False
        if d >= lim and r is not None:
            return False
    return True


def _py_votes_consistent(cfg: Any, s: Any) -> bool:
    m = cfg.identities
    for v in range(m):
        for x in range(m):
            if s.votes[v][x]:
                want = 2 if x in s.signers else 1
                if v not in s.signers or s.votes[v][x] != want or s.cast[v][x] != want:
                    return False
    return all(s.tally[x] == sum(1 for v in range(m) if s.votes[v][x]) for x in range(m))


# ------------------------------------------------------------------------------------ safety encodings


@poa_encoding(kind="transition", role="safety", encodes="poa.only_authorised_proposers", py=_py_authorised)
def only_authorised_proposers(S: Any, T: Any) -> Any:
    """Every block is sealed by a signer of its parent's snapshot."""
    z3 = _z3()
    return z3.Or([z3.And(T.sealer[0] == x, S.signer[x]) for x in range(S.m)])


@poa_encoding(kind="transition", role="safety", encodes="poa.signer_recency", py=_py_recency)
def signer_recency(S: Any, T: Any) -> Any:
    """No signer seals two blocks among SIGNER_LIMIT consecutive ones (limit of the parent's snapshot)."""
    z3 = _z3()
    return z3.And([z3.Implies(z3.And(d <= limit(S) - 2, S.sealer[d] != NONE), T.sealer[0] != S.sealer[d])
                   for d in range(S.w)])


@poa_encoding(kind="transition", role="safety", encodes="poa.signer_changes_by_quorum", py=_py_changes)
def signer_changes_by_quorum(S: Any, T: Any) -> Any:
    """A block changes the signer set by at most one identity, and only with the backing of more than the
    threshold of the parent's signers, each of whose latest vote on it in this epoch (this block's vote
    for its sealer) asks for that change."""
    z3 = _z3()
    out = [z3.Sum([z3.If(S.signer[x] != T.signer[x], 1, 0) for x in range(S.m)]) <= 1]
    new_epoch = T.height % S.epoch == 0
    for x in range(S.m):
        d = valid_dir(S, x)
        backers = [z3.And(S.signer[v], z3.If(z3.And(T.sealer[0] == v, T.hv_target == x), T.hv_dir == d,
                                             z3.And(z3.Not(new_epoch), S.cast[v][x] == d))) for v in range(S.m)]
        out.append(z3.Implies(S.signer[x] != T.signer[x],
                              passes(S.threshold, z3.Sum([z3.If(b, 1, 0) for b in backers]), n_signers(S))))
    return z3.And(out)


# ----------------------------------------------------------------------------------- the strengthening


@poa_encoding(role="auxiliary", py=_py_recents_match)
def recents_match_chain(S: Any) -> Any:
    """The recents map holds the true sealers of the last limit-1 blocks, maybe block height-limit+1 too, and
    nothing older."""
    z3 = _z3()
    lim = limit(S)
    return z3.And([z3.And(z3.Or(S.recent[d] == NONE, S.recent[d] == S.sealer[d]),
                          z3.Implies(d <= lim - 2, S.recent[d] == S.sealer[d]),
                          z3.Implies(d >= lim, S.recent[d] == NONE)) for d in range(S.w)])


@poa_encoding(role="auxiliary", py=_py_votes_consistent)
def votes_consistent(S: Any) -> Any:
    """Pending votes are cast by signers, in the one valid direction, are their latest vote of the epoch,
    and each tally counts them."""
    z3 = _z3()
    out = []
    for x in range(S.m):
        for v in range(S.m):
            out.append(z3.Implies(S.vote[v][x] != 0, z3.And(S.signer[v], S.vote[v][x] == valid_dir(S, x),
                                                            S.cast[v][x] == S.vote[v][x])))
        out.append(S.tally[x] == z3.Sum([z3.If(S.vote[v][x] != 0, 1, 0) for v in range(S.m)]))
    return z3.And(out)


SAFETY = [n for n, e in ENCODINGS.items() if e.role == "safety"]
AUXILIARY = [n for n, e in ENCODINGS.items() if e.role == "auxiliary"]
INDUCTIVE = SAFETY + AUXILIARY
