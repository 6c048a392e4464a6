"""A fast engine for the Clique model: interned components, memoised rules, states as single ints.

This layer adds no protocol of its own.  Every step is computed by the readable model
(:class:`~model.poa.actions.Poa`: ``seal``, ``receive``, ``live``, ``intruder_block``, ``permute``; the
labels of :mod:`model.poa.labels`), whose rules are the model's :class:`~model.poa.rules.Rules` (a mutant's,
if any); the engine only remembers the results per component:

* a state is three kinds of component, each interned to a small int: per honest node its :class:`Chain`
  (one table for every node, shared with the announced chains), the tuple of online flags, and the network
  (a frozenset of announced chains).  The ints are packed into one Python int: the nodes' chains in slots
  of ``CW`` bits, then the online flags (``n`` bits), then the network (unbounded: the last slot);
* the blocks node i may seal depend only on i's chain, and receiving an announcement only on the node's
  chain and the announced one: both are computed once per (node, chain) and (node, chain, announcement),
  as ready-made slot deltas;
* forgetting dead announcements (``Poa.live``) depends only on the network and the lightest chain held (its
  weight): memoised per network and weight; announcing, dropping and forging are memoised per network;
  the lightest chain each node's step leaves to the others is remembered per chains part of a state (a
  bounded memo);
* symmetry (permutations of the intruders) renames each component once per permutation through a memo and
  takes the smallest packed image.

``tests/test_poa_engines.py`` checks that this engine and the readable model produce the same successors,
in the same order, state for state.

For a parallel checker the engine also offers a portable form: :attr:`slot_kinds`, :meth:`split`,
:meth:`join`, :meth:`component` and :meth:`intern_component` (component values are readable, hashable and
picklable; ids are local to one engine).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from refmodel.model.core import HashInterner, Label, LabelTable, PackedEngine, ScatterInterner, hidden
from refmodel.model.poa.labels import (
    ACTION_NAMES,
    announce_label,
    drop_label,
    forging,
    intruder_label,
    receive_label,
)
from refmodel.model.poa.state import Chain, PoaState, network_items

if TYPE_CHECKING:
    from refmodel.model.poa.actions import Poa

CW = 24  # bits per chain slot
WK = 1 << 16  # a chain's weight (total difficulty, -blocks) as one int: td * WK - blocks (blocks < WK)
KIND_CHAIN, KIND_ONLINE, KIND_NETWORK = 0, 1, 2
_NO = False  # memoised "this node does not adopt that announcement"
CHAIN_PART_MEMO = 1 << 18  # at most this many chains parts of states are remembered (see _build_chain_part)


class FastPoaEngine(PackedEngine):
    """The Clique transition relation over packed-int states (see the module docstring)."""

    #: bits per chain slot (a portable engine's slots hold 64-bit content hashes)
    CW = CW

    def __init__(self, system: Poa, portable: bool = False) -> None:
        self.system = system
        self.portable = portable
        if portable:
            self.CW = 64
        self.cfg = cfg = system.config
        self.n = n = len(system.honest)
        self.max_height = cfg.max_height
        self._labels = LabelTable(ACTION_NAMES, "Poa")
        self.action_names = self._labels.names
        if portable:
            self.chains, self.onlines, self.nets = HashInterner(), HashInterner(), HashInterner()
        else:  # serial ids scattered over each slot's bits, so that the packed states hash well (ScatterInterner)
            self.chains, self.onlines, self.nets = ScatterInterner(self.CW), ScatterInterner(max(1, n)), ScatterInterner(32)
        self._tables = (self.chains, self.onlines, self.nets)
        self.ow = ow = 64 if portable else max(1, n)  # online ids < 2**n
        self.shifts = tuple(self.CW * i for i in range(n))
        self.sh_on = self.CW * n
        self.sh_net = self.CW * n + ow
        self.slot_kinds: tuple[int, ...] = (KIND_CHAIN,) * n + (KIND_ONLINE, KIND_NETWORK)
        self._slot_shifts = self.shifts + (self.sh_on, self.sh_net)
        self._slot_masks = ((1 << self.CW) - 1,) * n + ((1 << ow) - 1, -1)
        self.slot_masks = {"chains": (1 << (self.CW * n)) - 1, "online": ((1 << ow) - 1) << self.sh_on,
                           "network": -1 << self.sh_net}
        #: where the honest nodes' chains lie, and the chains by id: state invariants declared per node
        #: (``OverServers`` over the field ``chains``) are judged once per chain (checkers/bfs.py)
        self.server_field = "chains"
        self.server_slots = (self.shifts, self.CW, (1 << self.CW) - 1)
        self.server_objs = self.chains.objs
        # per chain id
        self._w: dict[int, int] = {}  # weight as an int (see WK)
        self._rep: dict[int, Chain] = {}  # weight -> a chain of that weight (Poa.live reads only weights)
        # node -> chain -> (its Seal entries, its Announce aid or -1 for genesis)
        self._seal: list[dict[int, tuple[list[tuple], int]]] = [{} for _ in range(n)]
        self._recv: list[dict[int, Any]] = [{} for _ in range(n)]  # node -> chain << CW | announced -> entry
        self._forge: dict[tuple[int, int, int], int] = {}  # (intruder, node, chain) -> IntruderSeal aid
        # per online id: per node (online?, GoOffline/GoOnline aid or None, online-slot delta); online nodes
        self._on_info: dict[int, Any] = {}
        # per chains part of a state (a bounded memo): the chain ids, per node the weight of the lightest chain
        # the others hold (a step of node i changes only i's chain), the lightest of all
        self._chain_parts: dict[int, tuple[tuple[int, ...], tuple[int, ...], int]] = {}
        # per network id, built on first use (None before): see _build_net
        self._net_info: dict[int, Any] = {}
        # symmetry: per permutation, memos of renamed chains and networks
        self._perms = [p for p in system.symmetry_group() if list(p) != sorted(p)]
        self._perm_memos: list[tuple[Any, dict[int, int], dict[int, int]]] = [(p, {}, {}) for p in self._perms]
        self.successors = self._make_successors()  # type: ignore[method-assign]

    # ------------------------------------------------------------------------------------------ interning

    def _cid(self, ch: Chain) -> int:
        k = self.chains(ch)
        if k not in self._w:
            if k >> self.CW:
                raise OverflowError(f"more than 2**{self.CW} distinct chains")
            w = ch.weight[0] * WK + ch.weight[1]
            self._w[k] = w
            self._rep.setdefault(w, ch)
        elif len(ch.snapshots) > len(self.chains.objs[k].snapshots):
            # chains compare by their blocks; a forged chain's snapshots stop before its head.  A node's chain
            # is always fully validated, so keep the fuller copy (nodes' chains decode as the model has them)
            self.chains.objs[k] = ch
        return k

    def _oid(self, online: tuple[bool, ...]) -> int:
        k = self.onlines(online)
        if k not in self._on_info:
            cfg, me = self.cfg, self.system.honest
            self._on_info[k] = None
            count = online.count(False)
            per = []
            for i in range(self.n):
                if online[i]:
                    if cfg.offline and count < cfg.max_offline:
                        d = (self._oid(online[:i] + (False,) + online[i + 1:]) - k) << self.sh_on
                        per.append((True, self._labels.aid(Label("GoOffline", (("i", me[i]),))), d))
                    else:
                        per.append((True, None, 0))
                elif cfg.offline:
                    d = (self._oid(online[:i] + (True,) + online[i + 1:]) - k) << self.sh_on
                    per.append((False, self._labels.aid(Label("GoOnline", (("i", me[i]),))), d))
                else:
                    per.append((False, None, 0))
            self._on_info[k] = (tuple(per), tuple(i for i in range(self.n) if online[i]))
        return k

    def _nid(self, net: frozenset[Chain]) -> int:
        k = self.nets(net)
        if k not in self._net_info:
            self._net_info[k] = None
        return k

    def _fits(self, net: frozenset[Chain]) -> bool:
        """The state constraint on announced chains."""
        h = self.max_height
        return all(len(m.blocks) <= h for m in net)

    def encode(self, s: PoaState) -> int:
        """The packed int of a readable state."""
        e = 0
        for i, ch in enumerate(s.chains):
            e |= self._cid(ch) << self.shifts[i]
        return e | self._oid(tuple(s.online)) << self.sh_on | self._nid(s.network) << self.sh_net

    def decode(self, e: Hashable, hide: frozenset[str] = frozenset()) -> PoaState:
        assert isinstance(e, int)
        objs, mask = self.chains.objs, (1 << self.CW) - 1
        chains = tuple([objs[(e >> sh) & mask] for sh in self.shifts])
        online = self.onlines.objs[(e >> self.sh_on) & ((1 << self.ow) - 1)]
        network = self.nets.objs[e >> self.sh_net]
        if not hide:
            return PoaState(chains, online, network)
        return PoaState(hidden("chains") if "chains" in hide else chains,
                        hidden("online") if "online" in hide else online,
                        hidden("network") if "network" in hide else network)

    # ---------------------------------------------------------------------------------- portable form

    def split(self, e: int) -> tuple[int, ...]:
        """The component ids of packed state ``e``, one per slot (their tables: :attr:`slot_kinds`)."""
        return tuple((e >> sh) & m for sh, m in zip(self._slot_shifts, self._slot_masks))

    def join(self, ids: Any) -> int:
        """The packed state of component ids (the inverse of :meth:`split`)."""
        e = 0
        for sh, k in zip(self._slot_shifts, ids):
            e |= k << sh
        return e

    def component(self, kind: int, cid: int) -> Any:
        """The readable value of component ``cid`` of table ``kind`` (a Chain, a tuple of online flags, a
        frozenset of Chains)."""
        return self._tables[kind].objs[cid]

    def intern_component(self, kind: int, value: Any) -> int:
        """The id of a component value in this engine, interned (with its bookkeeping) if new.  Chains are
        rebuilt, so that their hashes are this process's."""
        if kind == KIND_CHAIN:
            return self._cid(Chain(value.blocks, value.snapshots))
        if kind == KIND_ONLINE:
            return self._oid(tuple(bool(x) for x in value))
        return self._nid(frozenset(Chain(m.blocks, m.snapshots) for m in value))

    # ------------------------------------------------------------------------------------------- engine

    def export_components(self) -> Any:
        self._need_portable()
        # networks travel as the ids of their chains (every chain of a network is in the chains table)
        nets = [(k, tuple(self._cid(m) for m in net)) for k, net in self.nets.take_new()]  # type: ignore[attr-defined]
        return (self.chains.take_new(), self.onlines.take_new(), nets)  # type: ignore[attr-defined]

    def import_components(self, payload: Any) -> None:
        chains, onlines, nets = payload
        for k, ch in chains:  # chains are rebuilt: their cached hash() is this process's
            ch = Chain(ch.blocks, ch.snapshots)
            self.chains.add(k, ch)  # type: ignore[attr-defined]
            self._cid(ch)
        for k, online in onlines:
            self.onlines.add(k, online)  # type: ignore[attr-defined]
            self._oid(online)
        objs = self.chains.objs
        for k, ids in nets:
            net = frozenset(objs[c] for c in ids)
            self.nets.add(k, net)  # type: ignore[attr-defined]
            self._nid(net)

    def stats(self) -> dict[str, int]:
        return {"interned_chains": len(self.chains), "interned_online": len(self.onlines),
                "interned_networks": len(self.nets)}

    def canonical(self, e: Hashable) -> Hashable:
        """The smallest packed image of ``e`` over the symmetry group (the identity included)."""
        assert isinstance(e, int)
        best = e
        if not self._perm_memos:
            return best
        mask = (1 << self.CW) - 1
        comps = [(e >> sh) & mask for sh in self.shifts]
        net = e >> self.sh_net
        keep = e & self.slot_masks["online"]
        for p, cmemo, nmemo in self._perm_memos:
            img = keep
            for sh, c in zip(self.shifts, comps):
                pc = cmemo.get(c)
                if pc is None:
                    st = PoaState((self.chains.objs[c],), (), frozenset())
                    pc = cmemo[c] = self._cid(self.system.permute(st, p).chains[0])
                img |= pc << sh
            pn = nmemo.get(net)
            if pn is None:
                st = PoaState((), (), self.nets.objs[net])
                pn = nmemo[net] = self._nid(self.system.permute(st, p).network)
            img |= pn << self.sh_net
            if img < best:
                best = img
        return best

    def successors(self, e: Hashable) -> list[tuple[int, Hashable | None]]:
        return self._make_successors()(e)  # instances use the closure installed by __init__

    def _make_successors(self) -> Callable[[int], list[tuple[int, int | None]]]:
        """The successor function as a closure over the memo tables (the readable order: per node Seal,
        Announce, GoOffline/GoOnline; per announcement Receive by each node, Drop; IntruderSeal)."""
        n, sh_on, sh_net = self.n, self.sh_on, self.sh_net
        omask, cw = (1 << self.ow) - 1, self.CW
        seal, recv = self._seal, self._recv
        on_info, net_info = self._on_info, self._net_info
        build_seal, build_recv, build_net = self._build_seal, self._build_recv, self._build_net
        build_live, build_add, forge = self._build_live, self._build_add, self._forge_step
        loss = self.cfg.loss
        intruders = len(self.system.intruders)
        nodes = range(n)
        chains_mask, chain_parts = self.slot_masks["chains"], self._chain_parts
        build_chain_part = self._build_chain_part

        def successors(e: int) -> list[tuple[int, int | None]]:
            out: list[tuple[int, int | None]] = []
            append = out.append
            cp = e & chains_mask
            ci = chain_parts.get(cp)
            if ci is None:
                ci = build_chain_part(cp)
            comps, others, lo = ci
            per, up = on_info[(e >> sh_on) & omask]
            nid = e >> sh_net
            ni = net_info[nid]
            if ni is None:
                ni = build_net(nid)
            members, memberset, live, adds = ni[0], ni[1], ni[2], ni[3]
            for i in nodes:
                c = comps[i]
                on, aid_f, d_f = per[i]
                if on:
                    loc = seal[i].get(c)
                    if loc is None:
                        loc = build_seal(i, c)
                    ents, a = loc
                    if ents:
                        oi = others[i]
                        for aid, dc, wn in ents:
                            if dc is None:
                                append((aid, None))
                                continue
                            fl = wn if wn < oi else oi
                            d = live.get(fl)
                            if d is None:
                                d = build_live(nid, fl)
                            append((aid, e + dc + d))
                    if a >= 0 and c not in memberset:
                        d = adds.get(c)
                        if d is None:
                            d = build_add(nid, c)
                        append((a, e + d))
                if aid_f is not None:
                    append((aid_f, e + d_f))
            for m, drop_aid, drop_d in members:
                for i in up:
                    key = comps[i] << cw | m
                    r = recv[i].get(key)
                    if r is None:
                        r = build_recv(i, key)
                    if r is _NO:
                        continue
                    aid, dc, wn = r
                    if dc is None:
                        append((aid, None))
                        continue
                    oi = others[i]
                    fl = wn if wn < oi else oi
                    d = live.get(fl)
                    if d is None:
                        d = build_live(nid, fl)
                    append((aid, e + dc + d))
                if loss and m not in comps:
                    append((drop_aid, e + drop_d))
            if intruders:
                forge(e, comps, nid, ni, lo, append)
            return out

        return successors

    # ------------------------------------------------------------------------------------ memo builders

    def _build_chain_part(self, cp: int) -> tuple[tuple[int, ...], tuple[int, ...], int]:
        mask = (1 << self.CW) - 1
        comps = tuple((cp >> sh) & mask for sh in self.shifts)
        ws = [self._w[c] for c in comps]
        others = tuple(min(ws[:i] + ws[i + 1:], default=1 << 62) for i in range(self.n))
        res = (comps, others, min(ws))
        if len(self._chain_parts) >= CHAIN_PART_MEMO:
            self._chain_parts.clear()
        self._chain_parts[cp] = res
        return res

    def _build_seal(self, i: int, c: int) -> tuple[list[tuple], int]:
        """Seal(i, vote) from chain c: (aid, chain-slot delta or None outside the bound, new weight) per
        vote; and the aid of Announce(i) with chain c (-1: genesis is not announced)."""
        out = []
        h = self.max_height
        ch = self.chains.objs[c]
        for lab, new in self.system.seal(i, ch):
            aid = self._labels.aid(lab)
            if len(new.blocks) > h:
                out.append((aid, None, 0))
            else:
                nc = self._cid(new)
                out.append((aid, (nc - c) << self.shifts[i], self._w[nc]))
        a = self._labels.aid(announce_label(self.system.honest[i], ch)) if ch.blocks else -1
        res = self._seal[i][c] = (out, a)
        return res

    def _build_recv(self, i: int, key: int) -> Any:
        """Receive(i, m) with i's chain c (key ``c << CW | m``): _NO if i does not adopt m, else (aid,
        chain-slot delta or None outside the bound, new weight)."""
        c, m = key >> self.CW, key & ((1 << self.CW) - 1)
        ann = self.chains.objs[m]
        imported, adopt, rejected = self.system.receive(self.chains.objs[c], ann)
        if not adopt:
            r: Any = _NO
        else:
            aid = self._labels.aid(receive_label(self.system.honest[i], ann, rejected))
            if len(imported.blocks) > self.max_height:
                r = (aid, None, 0)
            else:
                nc = self._cid(imported)
                r = (aid, (nc - c) << self.shifts[i], self._w[nc])
        self._recv[i][key] = r
        return r

    def _build_net(self, nid: int) -> tuple:
        """What the engine keeps per network: its announcements in the readable order with their Drop aid
        and network-slot delta, the set of their chain ids, the memos of live (per weight) and Announce (per
        chain), whether each intruder has a forgery in flight, and the memo of IntruderSeal steps."""
        net = self.nets.objs[nid]
        members = []
        for m in network_items(net):
            mc = self._cid(m)
            if self.cfg.loss:
                members.append((mc, self._labels.aid(drop_label(m)), (self._nid(net - {m}) - nid) << self.sh_net))
            else:
                members.append((mc, -1, 0))
        inflight = tuple(forging(x, net) for x in self.system.intruders)
        info = (tuple(members), frozenset(m[0] for m in members), {}, {}, inflight, {})
        self._net_info[nid] = info
        return info

    def _build_live(self, nid: int, floor: int) -> int:
        """The network-slot delta of ``Poa.live`` on network nid when the lightest chain held weighs ``floor``."""
        new = self.system.live(self.nets.objs[nid], (self._rep[floor],))
        d = self._net_info[nid][2][floor] = (self._nid(new) - nid) << self.sh_net
        return d

    def _build_add(self, nid: int, c: int) -> int:
        """The network-slot delta of announcing chain c on network nid (Announce adds, forgets nothing)."""
        d = self._net_info[nid][3][c] = (self._nid(self.nets.objs[nid] | {self.chains.objs[c]}) - nid) << self.sh_net
        return d

    def _forge_step(self, e: int, comps: list[int], nid: int, ni: tuple, floor: int, append: Any) -> None:
        """IntruderSeal(x, on): per intruder without a forgery in flight, per distinct chain held."""
        inflight, memo = ni[4], ni[5]
        for k, x in enumerate(self.system.intruders):
            if inflight[k]:
                continue
            done: set[int] = set()
            for i, c in enumerate(comps):
                if c in done:
                    continue
                done.add(c)
                aid = self._forge.get((k, i, c))
                if aid is None:
                    forged = self.system.intruder_block(x, self.chains.objs[c])
                    aid = self._forge[(k, i, c)] = self._labels.aid(intruder_label(x, self.system.honest[i], forged))
                key = (k, c, floor)
                d = memo.get(key, _NO)
                if d is _NO:
                    forged = self.system.intruder_block(x, self.chains.objs[c])
                    net = self.nets.objs[nid]
                    new = self.system.live(net | {forged}, (self._rep[floor],))
                    d = memo[key] = (self._nid(new) - nid) << self.sh_net if self._fits(new) else None
                append((aid, None if d is None else e + d))
