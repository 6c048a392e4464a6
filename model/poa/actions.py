"""The Clique model's actions, one pure function each, composed into the transition system :class:`Poa`.

Nodes: the genesis signers and the candidates are honest nodes, each with a canonical chain; intruders have
no chain, they only forge blocks.  Every honest node validates with the same rules (``model.poa.rules``), so
one :class:`~model.poa.rules.Rules` bundle (a mutant's, if any) serves them all.

Actions (guard first, then the update):

* ``Seal(i, vote)``: online node i extends its chain with a block it seals, in or out of turn, carrying
  ``vote`` (see :meth:`Poa.vote_options`; none on a checkpoint, which lists the signers instead).  It seals
  only a block its own validation accepts, as go-ethereum's sealer refuses exactly what verifySeal rejects
  (unauthorised, signed recently).  With ``proposer_rule = round_robin`` only the in-turn signer seals; if it
  is offline the round passes without a block, which in this timeless model is no step at all.
* ``Announce(i)``: online node i announces the chain it holds (its new block, or a head it imported).
* ``Receive(i, m)``: online node i validates an announced chain block by block (the valid prefix is
  imported, as InsertChain imports up to the first bad block) and adopts it by fork choice.  Receiving does
  not consume the announcement: every peer gets its own copy, at any time, any number of times, or never.
  Receptions that leave the node's chain as it is are not listed (they change nothing).
* ``GoOffline(i)``, ``GoOnline(i)`` (fault ``offline``, at most ``max_offline`` nodes at once): an offline
  node neither seals, announces nor receives; announcements wait for it.
* ``Drop(m)`` (fault ``loss``): the announcement of a chain that no node holds any more is lost.  (A node
  serves the chain it holds to peers that ask, so what can vanish is only a superseded fork or prefix.)
* ``IntruderSeal(x, on)``: intruder x, never a signer, forges the next block on top of the chain honest node
  ``on`` holds (the difficulty calcDifficulty gives it, no vote, a correct checkpoint list: everything right
  but the seal) and announces it; honest nodes must reject it, and only the authorisation check does.  An
  intruder has at most one forgery in flight.

After every step, announcements that no honest node can ever adopt are forgotten (:meth:`Poa.live`).

Loss and offline add states but no behaviour of the chains: a node may already never receive an
announcement, and never act.  ``tests/test_poa_model.py`` checks that the reachable chains are the same with
and without them.

The bound is a state constraint (TLC's CONSTRAINT): no chain, held or announced, longer than ``max_height``.

Symmetry.  Clique orders signers by address: the in-turn signer of block n is the one at position
``n % N`` of the sorted list, which sets difficulties and so fork choice.  Renaming two signers changes who
is in turn at every height, so signers are not interchangeable; nor are candidates, whose rank decides their
position once voted in.  Intruders are: they are never signers (honest nodes only vote for honest
non-signers) and play identical roles, so ``--symmetry`` reduces by permutations of the intruders (and has
nothing to reduce with fewer than two).  ``tests/test_poa_symmetry.py`` checks both statements.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from refmodel.model.core import Label, Permutation, TransitionSystem
from refmodel.model.poa import render
from refmodel.model.poa.config import PoaConfig
from refmodel.model.poa.rules import (
    DEFAULT_RULES,
    Block,
    Rules,
    Snapshot,
    Vote,
    apply_block,
    fork_choice,
    genesis_snapshot,
    is_checkpoint,
)
from refmodel.model.poa.fast import FastPoaEngine
from refmodel.model.poa.labels import (  # noqa: F401 - ACTION_NAMES: re-exported
    ACTION_NAMES,
    announce_label,
    drop_label,
    forging,
    intruder_label,
    receive_label,
)
from refmodel.model.poa.state import FIELDS, Chain, Node, PoaState, make_identities, network_items, permute_block



def _sealed_on(chain: Chain) -> tuple:
    """The signers of the snapshot the chain's head block was sealed on (EIP-3436's rule 3 reads them)."""
    return chain.snapshots[-2].signers if len(chain.snapshots) >= 2 else ()


def vote_name(v: Vote | None) -> str:
    """A vote as a label parameter: ``+c1`` (add), ``-s2`` (drop) or ``none``."""
    return "none" if v is None else v.describe()


class Poa(TransitionSystem):
    """Clique (EIP-225) on a network of honest signers and candidates, with optional intruders and faults."""

    protocol = "poa"
    state_fields = FIELDS
    fault_actions = ("GoOffline", "GoOnline", "Drop", "IntruderSeal")

    def __init__(self, config: PoaConfig, rules: Rules = DEFAULT_RULES, mutant: str | None = None) -> None:
        self.config = config
        self.rules = rules
        self.mutant = mutant
        self.ids: tuple[Node, ...] = make_identities(config.signers, config.candidates, config.intruders)
        self.honest = self.ids[:config.honest]
        self.intruders = self.ids[config.honest:]
        self.genesis = Chain((), (genesis_snapshot(self.ids[:config.signers]),))
        # memos of pure functions of (rules, config, arguments): they only save recomputation
        self._extend: dict[tuple[Chain, Block], tuple[Chain | None, str | None]] = {}
        self._import: dict[Chain, tuple[Chain, int | None, str | None]] = {}
        self._seal: dict[tuple[int, Chain], list[tuple[Label, Chain]]] = {}
        self._receive: dict[tuple[Chain, Chain], bool] = {}
        self._forged: dict[tuple[Node, Chain], Chain] = {}

    # ------------------------------------------------------------------------------------ chain building

    def extend(self, chain: Chain, block: Block) -> tuple[Chain | None, str | None]:
        """``chain`` with ``block`` appended if the rules accept it (``apply_block``), else the error."""
        key = (chain, block)
        res = self._extend.get(key)
        if res is None:
            cfg = self.config
            snap, err = apply_block(self.rules, cfg.epoch, cfg.threshold, chain.head, block)
            res = (None, err) if snap is None else (Chain(chain.blocks + (block,), chain.snapshots + (snap,)), None)
            self._extend[key] = res
        return res

    def import_chain(self, announced: Chain) -> tuple[Chain, int | None, str | None]:
        """The longest valid prefix of an announced chain, validated from genesis by this model's rules, with
        the number and error of the first rejected block (``None`` if every block is valid)."""
        res = self._import.get(announced)
        if res is None:
            chain, bad, err = self.genesis, None, None
            for block in announced.blocks:
                nxt, err = self.extend(chain, block)
                if nxt is None:
                    bad = block.number
                    break
                chain = nxt
            res = self._import[announced] = (chain, bad, err)
        return res

    def vote_options(self, snap: Snapshot) -> list[Vote | None]:
        """The votes an honest sealer may put in a non-checkpoint block (clique.go Prepare casts one of the
        node's valid proposals, none if it has none; clique.propose/discard change proposals at any time):

        * ``any``: no vote, or any valid one: add an honest non-signer, drop a signer;
        * ``add_candidates``: every signer proposes adding every candidate: one of those still valid, or no
          vote when none is;
        * ``none``: no vote."""
        mode = self.config.votes
        if mode == "none":
            return [None]
        adds = [Vote(k, True) for k in self.honest if k not in snap.signers]
        if mode == "add_candidates":
            return [v for v in adds if v.target >= self.config.signers] or [None]
        return [None] + adds + [Vote(k, False) for k in snap.signers]

    # ------------------------------------------------------------------------------------------ actions

    def seal(self, i: int, chain: Chain) -> list[tuple[Label, Chain]]:
        """Seal(i, vote), EIP-225 "block authorization" / clique.go Prepare+Seal: every block node i may seal
        on ``chain``, one per vote; empty if i may not seal (unauthorised, recent, not in turn)."""
        key = (i, chain)
        out = self._seal.get(key)
        if out is not None:
            return out
        cfg, r, me = self.config, self.rules, self.honest[i]
        snap, number = chain.head, len(chain.blocks) + 1
        out = []
        if cfg.proposer_rule == "clique" or r.in_turn(snap, number, me):  # round_robin: in-turn signer only
            checkpoint = is_checkpoint(cfg.epoch, number)
            cp = snap.signers if checkpoint else None
            difficulty = r.calc_difficulty(snap, number, me)
            for vote in [None] if checkpoint else self.vote_options(snap):
                new, _ = self.extend(chain, Block(number, me, vote, difficulty, cp))
                if new is not None:  # guard: the node's own validation accepts the block
                    out.append((Label("Seal", (("i", me), ("vote", vote_name(vote)))), new))
        self._seal[key] = out
        return out

    def receive(self, local: Chain, announced: Chain) -> tuple[Chain, bool, str | None]:
        """Receive: validate the announced chain (its valid prefix is imported, as InsertChain imports up to
        the first bad block) and decide by fork choice whether it becomes the head: higher total
        difficulty, then by the configured rule (``fork_choice``; go-ethereum's: the lower number, then a
        coin, so on a full tie adopting is possible).  Returns the
        imported chain, whether it may be adopted, and the rejected block's error, if any.  Keeping the
        current chain changes nothing, so it is not a step of its own."""
        imported, bad, err = self.import_chain(announced)
        key = (local, imported)
        adopt = self._receive.get(key)
        if adopt is None:
            adopt = not local.extends(imported) and True in fork_choice(
                local.blocks, imported.blocks, self.config.fork_choice, _sealed_on(local), _sealed_on(imported))
            self._receive[key] = adopt
        return imported, adopt, None if err is None else f"{err} at #{bad}"

    def live(self, network: frozenset[Chain], chains: tuple[Chain, ...]) -> frozenset[Chain]:
        """The announcements some honest node may still adopt.  Fork choice only ever moves a node to a chain
        of higher total difficulty, or of equal difficulty and no more blocks, so an announcement whose
        valid prefix is lighter than every node's chain (total difficulty, then more blocks) can never be
        adopted again: it is forgotten, which changes no node's possible futures."""
        floor = min(c.weight for c in chains)
        dead = [m for m in network if self.import_chain(m)[0].weight < floor]
        return network.difference(dead) if dead else network

    def intruder_block(self, x: Node, chain: Chain) -> Chain:
        """IntruderSeal(x): x forges the next block on ``chain``: well-formed (the difficulty the rules give x,
        checkpoint list when due) but sealed by an unauthorised identity.  Its snapshots stop at the honest prefix."""
        key = (x, chain)
        forged = self._forged.get(key)
        if forged is None:
            number = len(chain.blocks) + 1
            cp = chain.head.signers if is_checkpoint(self.config.epoch, number) else None
            difficulty = self.rules.calc_difficulty(chain.head, number, x)
            forged = Chain(chain.blocks + (Block(number, x, None, difficulty, cp),), chain.snapshots)
            self._forged[key] = forged
        return forged

    # --------------------------------------------------------------------------------------------- Next

    def init_states(self) -> list[PoaState]:
        n = len(self.honest)
        return [PoaState(chains=(self.genesis,) * n, online=(True,) * n, network=frozenset())]

    def constraint(self, s: PoaState) -> bool:
        h = -self.config.max_height
        return all(c.weight[1] >= h for c in s.chains) and all(m.weight[1] >= h for m in s.network)

    def action_names(self) -> tuple[str, ...]:
        return ACTION_NAMES

    def next_states(self, s: PoaState) -> Iterator[tuple[Label, PoaState]]:
        """Every enabled action: per honest node Seal, Announce, GoOffline, GoOnline; then per announced
        chain (in a fixed order) Receive by each node, and Drop; then IntruderSeal."""
        cfg = self.config
        chains, online, network = s.chains, s.online, s.network
        offline_count = online.count(False)
        for i, me in enumerate(self.honest):
            if online[i]:
                # Seal(i, vote): the block joins i's chain
                for lab, new in self.seal(i, chains[i]):
                    cs = _put(chains, i, new)
                    yield lab, PoaState(cs, online, self.live(network, cs))
                # Announce(i): i announces the chain it holds
                if chains[i].blocks and chains[i] not in network:
                    yield announce_label(me, chains[i]), s._replace(network=network | {chains[i]})
                if cfg.offline and offline_count < cfg.max_offline:
                    yield Label("GoOffline", (("i", me),)), s._replace(online=_put(online, i, False))
            elif cfg.offline:
                yield Label("GoOnline", (("i", me),)), s._replace(online=_put(online, i, True))
        for m in network_items(network):
            for i, me in enumerate(self.honest):
                if online[i]:
                    imported, adopt, rejected = self.receive(chains[i], m)
                    if adopt:
                        cs = _put(chains, i, imported)
                        yield receive_label(me, m, rejected), s._replace(chains=cs, network=self.live(network, cs))
            if cfg.loss and m not in chains:  # Drop(m): an announcement nobody serves any more is lost
                yield drop_label(m), s._replace(network=network - {m})
        for x in self.intruders:
            if forging(x, network):
                continue  # one forgery in flight per intruder
            done: set[Chain] = set()
            for i, chain in enumerate(chains):
                if chain in done:
                    continue
                done.add(chain)
                forged = self.intruder_block(x, chain)
                yield (intruder_label(x, self.honest[i], forged),
                       s._replace(network=self.live(network | {forged}, chains)))

    def engine(self):  # noqa: ANN201 - see model.poa.fast
        """The fast engine (interned components, memoised rules); ``ExplicitEngine(model)`` is the yardstick
        it is tested against."""
        return FastPoaEngine(self)

    def portable_engine(self):  # noqa: ANN201 - see model.poa.fast
        return FastPoaEngine(self, portable=True)

    # ------------------------------------------------------------------------------------------ symmetry

    def symmetry_group(self) -> list[Permutation]:
        """Permutations of the intruders (every honest identity fixed); none with fewer than two."""
        if len(self.intruders) < 2:
            return []
        h = len(self.honest)
        return [Permutation(tuple(range(h)) + tuple(h + k for k in p))
                for p in itertools.permutations(range(len(self.intruders)))]

    def permute(self, s: PoaState, p: Permutation) -> PoaState:
        ren = tuple(self.ids[p[k]] for k in range(len(self.ids)))
        return s._replace(chains=tuple(self._rename(c, ren) for c in s.chains),
                          network=frozenset(self._rename(m, ren) for m in s.network))

    def _rename(self, chain: Chain, ren: tuple[Node, ...]) -> Chain:
        """``chain`` with identities renamed, rebuilt so that its snapshots are this model's."""
        if all(ren[b.sealer] == b.sealer and (b.vote is None or ren[b.vote.target] == b.vote.target)
               for b in chain.blocks):
            return chain
        blocks = tuple(permute_block(b, ren) for b in chain.blocks)
        prefix, bad, _ = self.import_chain(Chain(blocks, ()))
        return prefix if bad is None else Chain(blocks, prefix.snapshots)

    # --------------------------------------------------------------------------------------------- views

    def render(self, s: PoaState) -> dict[str, Any]:
        return render.render_state(self, s)

    def itf_vars(self, s: PoaState) -> dict[str, Any]:
        return render.itf_vars(self, s)

    def msc_lanes(self, s: PoaState) -> list[str]:
        return render.msc_lanes(self)

    def msc_events(self, before: PoaState, label: Label, after: PoaState) -> list[dict[str, Any]]:
        return render.msc_events(self, before, label, after)


def _put(t: tuple, k: int, v: Any) -> tuple:
    """``[t EXCEPT ![k] = v]`` for a tuple."""
    return t[:k] + (v,) + t[k + 1:]
