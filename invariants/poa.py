"""Safety properties of the Clique model, stated over :class:`model.poa.state.PoaState`.

Each predicate looks at every honest node's chain: its blocks and the snapshots the node derived from them
(``chain.snapshots[k]`` is the node's snapshot after block k, ``[0]`` the genesis one), i.e. what the node
*believes* the signer set was at each height.  The judgement itself uses the correct rules of
``model.poa.rules`` (signer limit, turn, threshold), whatever rules (mutant) the model runs, so a node that
applies a wrong rule is caught by what it ends up believing or accepting.

Most properties are a judgement of one chain at a time (:func:`per_chain`): chains are shared by many
states, so each chain is judged once (per run, by the checker, through the property's terms per node), and a
failure names the nodes that hold the bad chain and the block.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from refmodel.invariants import Fail, OverServers, invariant, liveness
from refmodel.model.poa.config import PoaConfig
from refmodel.model.poa.rules import DIFF_IN_TURN, DIFF_NO_TURN, is_checkpoint, passes_threshold, signer_limit
from refmodel.model.poa.state import Chain, PoaState, make_identities

_MEMO_CAP = 1 << 20


def per_chain(check: Callable[[PoaConfig, Chain], str | None]) -> Callable[[PoaConfig, PoaState], bool | Fail]:
    """Turn ``check(cfg, chain) -> None | what is wrong`` into a state predicate over every honest node's
    chain, with the same name and docstring.  Each chain is judged once per configuration (a bounded memo)."""
    # (configuration, chain) -> (the snapshots judged, the judgement).  Chains compare by their blocks, so the
    # snapshots are compared too: a mutant's node derives other snapshots from the same blocks.
    # One memo per configuration, found by identity first: hashing the configuration per chain cost more
    # than the judgement it saved.
    memos: dict[PoaConfig, dict[Chain, tuple[tuple, str | None]]] = {}
    last: list = [None, None]  # the configuration of the previous call and its memo

    @functools.wraps(check)
    def holds(cfg: PoaConfig, s: PoaState) -> bool | Fail:  # (its terms: see the end of per_chain)
        if cfg is last[0]:
            memo = last[1]
        else:
            memo = memos.get(cfg)
            if memo is None:
                if len(memos) >= 8:  # keep the total bounded in a process that checks many configurations
                    memos.clear()
                memo = memos[cfg] = {}
            last[0], last[1] = cfg, memo
        for c in set(s.chains):
            hit = memo.get(c)
            if hit is not None and (hit[0] is c.snapshots or hit[0] == c.snapshots):
                why = hit[1]
            else:
                if len(memo) >= _MEMO_CAP:
                    memo.clear()
                why = check(cfg, c)
                memo[c] = (c.snapshots, why)
            if why is not None:
                return Fail(why, holders(cfg, s, c))
        return True

    # the same judgement as a term per node (OverServers over the chains): a checker on an engine that packs
    # chains into slots judges each chain id once per run without decoding states
    holds.over_servers = OverServers(one=lambda cfg, chain, s: check(cfg, chain) is None)  # type: ignore[attr-defined]
    return holds


def holders(cfg: PoaConfig, s: PoaState, chain: Chain) -> list:
    """The honest nodes whose chain is ``chain``."""
    ids = make_identities(cfg.signers, cfg.candidates, cfg.intruders)
    return [ids[i] for i, c in enumerate(s.chains) if c == chain]


def _signers(chain: Chain, k: int) -> tuple:
    """The signers of the snapshot block k (0-based index) was applied to."""
    return chain.snapshots[k].signers


def _list(signers: tuple) -> str:
    return "[" + ", ".join(map(str, signers)) + "]"


@invariant(reads={"chains"})
@per_chain
def only_authorised_proposers(cfg: PoaConfig, c: Chain) -> str | None:
    """Every block on every honest node's chain was sealed by a signer of its parent's snapshot."""
    for k, b in enumerate(c.blocks):
        if b.sealer not in _signers(c, k):
            return f"block {b.describe()} was sealed by {b.sealer}, not a signer of its parent {_list(_signers(c, k))}"
    return None


@invariant(reads={"chains"})
@per_chain
def signer_recency(cfg: PoaConfig, c: Chain) -> str | None:
    """On every honest chain, no signer seals a block if it sealed any of the previous L - 1 blocks, where
    L = floor(N/2) + 1 and N is the number of signers of the block's parent snapshot."""
    sealers = [b.sealer for b in c.blocks]
    for k, sealer in enumerate(sealers):
        window = signer_limit(len(_signers(c, k))) - 1
        earlier = [j for j in range(max(0, k - window), k) if sealers[j] == sealer]
        if earlier:
            return (f"{sealer} sealed block #{k + 1} and block #{earlier[-1] + 1}, within {window} blocks "
                    f"(SIGNER_LIMIT {window + 1} with {len(_signers(c, k))} signers)")
    return None


@invariant(reads={"chains"})
@per_chain
def difficulty_matches_turn(cfg: PoaConfig, c: Chain) -> str | None:
    """On every honest chain, block n has difficulty 2 if its sealer is at position n mod N of the
    address-sorted signers of its parent snapshot, and 1 otherwise."""
    for k, b in enumerate(c.blocks):
        signers = _signers(c, k)
        in_turn = bool(signers) and signers[b.number % len(signers)] == b.sealer
        want = DIFF_IN_TURN if in_turn else DIFF_NO_TURN
        if b.difficulty != want:
            return f"block {b.describe()} has difficulty {b.difficulty}, its sealer's turn gives {want}"
    return None


@invariant(reads={"chains"})
@per_chain
def checkpoint_lists_signers(cfg: PoaConfig, c: Chain) -> str | None:
    """On every honest chain, each checkpoint block (number a multiple of the epoch) carries no vote and lists
    exactly its parent snapshot's signers in address order, and no other block carries a signer list."""
    for k, b in enumerate(c.blocks):
        if is_checkpoint(cfg.epoch, b.number):
            if b.vote is not None:
                return f"checkpoint block {b.describe()} carries a vote"
            if b.checkpoint != _signers(c, k):
                return f"checkpoint block {b.describe()} does not list the signers {_list(_signers(c, k))}"
        elif b.checkpoint is not None:
            return f"block {b.describe()} is not a checkpoint but lists signers"
    return None


@invariant(reads={"chains"})
@per_chain
def signer_changes_by_quorum(cfg: PoaConfig, c: Chain) -> str | None:
    """On every honest chain, a block changes the signer set only by adding or dropping the one account it
    votes on, in the direction it votes, and only when more than the threshold (of the parent's N signers)
    of distinct parent signers voted so in blocks of the same epoch since that account's last change."""
    last_change: dict = {}  # account -> number of the block that last changed its status
    for k, b in enumerate(c.blocks):
        before, after = set(c.snapshots[k].signers), set(c.snapshots[k + 1].signers)
        if before == after:
            continue
        changed = before ^ after
        what = f"block {b.describe()} changed the signers {_list(c.snapshots[k].signers)} -> " \
               f"{_list(c.snapshots[k + 1].signers)}"
        if b.vote is None or changed != {b.vote.target} or (b.vote.target in after) != b.vote.authorize:
            return f"{what}, which is not what it voted for"
        start = max(b.number - b.number % cfg.epoch, last_change.get(b.vote.target, 0))
        voters = sorted({v.sealer for v in c.blocks[start:k + 1] if v.vote == b.vote and v.sealer in before})
        if not passes_threshold(cfg.threshold, len(voters), len(before)):
            return (f"{what} with the votes of {_list(tuple(voters))} only: {len(voters)} of {len(before)} "
                    f"signers is not more than the {cfg.threshold} threshold")
        last_change[b.vote.target] = b.number
    return None


@invariant(reads={"chains"})
@per_chain
def chain_well_formed(cfg: PoaConfig, c: Chain) -> str | None:
    """Every honest node's chain numbers its blocks 1, 2, 3 ... in order, each block has difficulty 1 or 2
    and names configured identities as sealer and vote target, and the node holds a snapshot for genesis
    and for each block, numbered like it."""
    ids = cfg.signers + cfg.candidates + cfg.intruders
    if len(c.snapshots) != len(c.blocks) + 1 or any(sn.number != k for k, sn in enumerate(c.snapshots)):
        return f"the snapshots of chain {c.describe()} do not match its blocks"
    for k, b in enumerate(c.blocks, 1):
        if b.number != k:
            return f"block {b.describe()} is at height {k}"
        if b.difficulty not in (DIFF_NO_TURN, DIFF_IN_TURN):
            return f"block {b.describe()} has difficulty {b.difficulty}"
        if not 0 <= b.sealer < ids or (b.vote is not None and not 0 <= b.vote.target < ids):
            return f"block {b.describe()} names an identity that is not configured"
    return None


@invariant(reads={"chains"}, default=False)
def no_fork_at_depth_k(cfg: PoaConfig, s: PoaState) -> bool | Fail:
    """Any two honest nodes' chains hold the same blocks at every height that has at least k blocks on top
    of it in both chains (k = fork_depth).  Clique does NOT guarantee this: it has no finality."""
    ids = make_identities(cfg.signers, cfg.candidates, cfg.intruders)
    chains = s.chains
    for a in range(len(chains)):
        for b in range(a + 1, len(chains)):
            x, y = chains[a].blocks, chains[b].blocks
            if x is y:
                continue
            settled = min(len(x), len(y)) - cfg.fork_depth
            if settled > 0 and x[:settled] != y[:settled]:
                h = next(k for k in range(settled) if x[k] != y[k])
                return Fail(f"{ids[a]} and {ids[b]} hold different blocks at height {h + 1} "
                            f"({x[h].describe()} and {y[h].describe()}) with at least {cfg.fork_depth} "
                            f"block(s) on top in both chains", [ids[a], ids[b]])
    return True


# ------------------------------------------------------------------------------ halts and liveness


@functools.lru_cache(maxsize=16)
def _model(cfg: PoaConfig):  # noqa: ANN202 - the readable model, to ask what is enabled
    from refmodel.model.poa import build

    return build(cfg)


PROGRESS_ACTIONS = ("Seal", "Announce", "Receive")


def _halted(cfg: PoaConfig, s: PoaState) -> bool:
    online_signers = sum(1 for k in range(cfg.signers) if s.online[k])
    if online_signers * 2 <= cfg.signers:
        return False
    return not any(lab.action in PROGRESS_ACTIONS for lab, _ in _model(cfg).next_states(s))


@invariant("poa", default=False)
def no_halt(cfg: PoaConfig, s: PoaState) -> bool | Fail:
    """The chain never halts: whenever more than half of the genesis signers are online, some online node can
    still seal, announce or adopt a chain (so the network can make progress without anyone coming back)."""
    if not _halted(cfg, s):
        return True
    heads = sorted({c.head_text for k, c in enumerate(s.chains) if s.online[k]})
    online = [n for k, n in enumerate(make_identities(cfg.signers, cfg.candidates, 0)) if s.online[k]]
    return Fail(f"halt: {sum(s.online[:cfg.signers])} of {cfg.signers} signers online, none can seal, announce or "
                f"adopt; heads held: {', '.join(heads)}", online)


def _some_chain_at_max(cfg: PoaConfig, s: PoaState) -> bool:
    return any(len(c.blocks) >= cfg.max_height for c in s.chains)


@liveness("poa", reads={"chains"})
def chain_grows(cfg: PoaConfig, s: PoaState) -> bool:
    """Eventually some honest node's chain reaches the height bound: within the bound, the chain keeps
    growing (checked with fairness of sealing, announcing and receiving)."""
    return _some_chain_at_max(cfg, s)
