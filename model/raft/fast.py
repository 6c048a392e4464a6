"""A fast engine for the Raft model: interned components, memoised rules, states as single ints.

This layer adds no protocol of its own.  It calls the very rule functions of :mod:`model.raft.actions`
(through the model's :class:`~model.raft.actions.Rules`, so mutants apply here too) and remembers their
results per component:

* every component of a state (each server's :class:`ServerVars`, the message bag, ``elections``,
  ``allLogs``) is interned to a small int, and a state is those ints packed into one Python int, 32 bits per
  slot: servers in slots 0..N-1, then the bag, ``elections`` and ``allLogs``;
* the enabled server-local actions of server i depend only on i's component, so they are computed once per
  (i, component) as a list of ready-made *deltas*: a successor is the parent int plus a delta or two;
* receiving a message depends only on the message and its recipient's component; bag updates only on the
  bag and the operation; ``allLogs'`` only on the servers' logs and ``allLogs``;
* symmetry canonicalises over interned ids: the servers part is canonicalised once per distinct servers
  part (remembering which permutations reach the minimum), then the bag and ``elections`` are permuted by
  those permutations only, each through a memo.

``tests/test_raft_engines.py`` checks that this engine and the readable model produce the same successors,
in the same order, state for state.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from refmodel.model.core import (
    HashInterner,
    Interner,
    Label,
    LabelTable,
    PackedEngine,
    Permutation,
    ScatterInterner,
    Sid,
    all_permutations,
    hidden,
    slot_reader,
)
from refmodel.model.raft.actions import ACTION_NAMES, MessageView, receive_label
from refmodel.model.raft.state import (
    Bag,
    Message,
    RaftState,
    ServerVars,
    ValueName,
    bag_items,
)

if TYPE_CHECKING:
    from refmodel.model.raft.system import Raft

W = 32  # bits per slot
#: up to this many servers, symmetry canonicalises the servers part alone (its result memoised) over all
#: n! permutations (at most 120); beyond it, over the orderings of servers with equal signatures of the
#: whole state (see _large_canonical), so that n! orderings of interchangeable servers are never enumerated
SMALL_CLUSTER = 5
PERM_MEMOS = 2048  # large clusters: at most this many per-permutation memos are kept
CANON_MEMO = 1 << 20  # large clusters: at most this many remembered canonical forms
MASK = (1 << W) - 1

# tags of the memoised server-local successor entries
_MOVE, _SEND, _ELECT, _VIOLATES = 0, 1, 2, 3  # (the successor closure tests them as literals)
_MISSING = object()
TALLY_CAP = 1 << 22  # action ids below this count their left-out successors in a list (see omitting_successors)
_KEEP = 0  # bag operation code: leave the bag as it is


def bag_op_code(consume: int, reply: int) -> int:
    """One int for "add message ``reply``, then remove one copy of ``consume``" (-1: none)."""
    return (consume + 1) << 32 | (reply + 1)


class FastRaftEngine(PackedEngine):
    """The Raft transition relation over packed-int states (see the module docstring)."""

    #: bits per slot, and their mask (a portable engine's slots hold 64-bit content hashes)
    W, mask = W, MASK

    def __init__(self, system: Raft, portable: bool = False) -> None:
        self.system = system
        self.portable = portable
        if portable:
            self.W, self.mask = 64, (1 << 64) - 1
        self.cfg = cfg = system.config
        self.rules = system.rules
        self.n = n = cfg.servers
        self._labels = LabelTable(ACTION_NAMES, "Raft")
        self.action_names = self._labels.names
        # slot ids: content hashes (portable), else serial numbers scattered over the slot's 32 bits, so that
        # the packed states hash well (see ScatterInterner)
        slot_interner = HashInterner if portable else ScatterInterner
        self.srv, self.bag, self.el, self.al = slot_interner(), slot_interner(), slot_interner(), slot_interner()
        self.msg = Interner()  # messages are not slots: their ids stay private (memo keys only)
        self.srv_ok: dict[int, bool] = {}
        self.sh_bag, self.sh_el, self.sh_al = self.W * n, self.W * (n + 1), self.W * (n + 2)
        self.srv_mask = (1 << (self.W * n)) - 1
        self._srv_shifts = tuple(self.W * i for i in range(n))
        #: where the server components lie (shifts, slot width, mask) and their objects by id: a step checker
        #: checks per-server transition properties on pairs of components with them (checkers/bfs.py)
        self.server_slots = (self._srv_shifts, self.W, self.mask)
        self.server_objs = self.srv.objs
        self.slot_masks = {
            "servers": self.srv_mask,
            "messages": self.mask << self.sh_bag,
            "elections": self.mask << self.sh_el,
            "allLogs": self.mask << self.sh_al,
        }
        self._local: list[dict[int, list[tuple]]] = [{} for _ in range(n)]
        self._recv_by_mid: list[dict[int, list[tuple]]] = []  # per message id: component -> handled
        self._bag_info: dict[int, list[tuple]] = {}
        self._bag_ops: dict[int, dict[int, int | None]] = {}  # bag id -> op code -> delta
        self._bag_key: dict[int, tuple[tuple[int, int], ...]] = {}  # bag id -> its (message id, count) pairs
        self._dup_drop: dict[int, tuple[int, int, int]] = {}  # message id -> (dest, Duplicate aid, Drop aid)
        self._recv_aid: dict[tuple[int, str, str], int] = {}  # (message id, handler, case) -> aid
        self._key_bag: dict[tuple[tuple[int, int], ...], int] = {}  # and back
        self._el_add: dict[tuple[int, int], int] = {}
        #: allLogs id -> the server components whose log it holds (allLogs' = allLogs \cup {log[i]} is then
        #: allLogs itself when it holds every server's log, the usual case)
        self._al_known: dict[int, set[int]] = {}
        self._records = Interner()  # election records
        # symmetry
        # per permutation met (a tuple: perm[k] is server k's new position), its memo of permuted server
        # components and of permuted bag/elections/allLogs parts; permutations are made only as needed
        self._srv_perm: dict[Permutation, dict[int, int]] = {}
        self._rest_perm: dict[Permutation, dict[int, int]] = {}
        self._sig: dict[int, tuple] = {}  # server component -> its permutation-invariant signature
        self._fixed: dict[int, bool] = {}  # server component -> whether every renaming leaves it as it is
        #: small clusters: every permutation with its two memos, made on first use
        self._small_perms: list[tuple[Permutation, dict[int, int], dict[int, int]]] = []
        self._perm_shifts: list[tuple[dict[int, int], tuple[int, ...]]] = []  # see _build_srv_canon
        self._rest_sig: dict[int, tuple[tuple, ...]] = {}  # bag/elections/allLogs part -> per-server signatures
        self._canon_memo: dict[int, int] = {}  # large clusters: state -> its canonical form
        self._pair_msgs: dict[int, dict[tuple[int, int], tuple]] = {}  # bag -> (source, dest) -> its messages
        self._rel: dict[int, tuple] = {}  # server component -> what it holds about each server k
        self._srv_canon: dict[int, tuple] = {}  # servers part -> see _build_srv_canon
        self._on_server_step: Callable[[int, int], None] | None = None  # see watch_server_steps
        # the hot paths, as closures over the tables above
        self._read_servers = slot_reader(self._srv_shifts, self.mask)
        self.successors = self._make_successors()  # type: ignore[method-assign]
        self.canonical = self._make_canonical()  # type: ignore[method-assign]

    # ------------------------------------------------------------------------------------------ interning

    def _srv_id(self, sv: ServerVars) -> int:
        k = self.srv(sv)
        if k not in self.srv_ok:
            self.srv_ok[k] = sv.currentTerm <= self.cfg.max_term and len(sv.log) <= self.cfg.max_log
            if k > self.mask:
                raise OverflowError("more than 2**32 distinct server components")
        return k

    def _bag_id(self, bag: Bag) -> int:
        k = self.bag(bag)
        if k > self.mask:
            raise OverflowError("more than 2**32 distinct message bags")
        return k

    def encode(self, s: RaftState) -> int:
        """The packed int of a readable state."""
        e = 0
        for i, sv in enumerate(s.servers):
            e |= self._srv_id(sv) << (self.W * i)
        return (e | self._bag_id(s.messages) << self.sh_bag | self.el(s.elections) << self.sh_el
                | self.al(s.allLogs) << self.sh_al)

    def decode(self, e: Hashable, hide: frozenset[str] = frozenset()) -> RaftState:
        assert isinstance(e, int)
        objs = self.srv.objs
        servers = tuple([objs[(e >> sh) & self.mask] for sh in self._srv_shifts])
        if not hide:
            return RaftState(servers, self.bag.objs[(e >> self.sh_bag) & self.mask],
                             self.el.objs[(e >> self.sh_el) & self.mask], self.al.objs[(e >> self.sh_al) & self.mask])
        return RaftState(
            hidden("servers") if "servers" in hide else servers,
            hidden("messages") if "messages" in hide else self.bag.objs[(e >> self.sh_bag) & self.mask],
            hidden("elections") if "elections" in hide else self.el.objs[(e >> self.sh_el) & self.mask],
            hidden("allLogs") if "allLogs" in hide else self.al.objs[(e >> self.sh_al) & self.mask])

    # ------------------------------------------------------------------------------------------- engine

    def route_projector(self, workers: int) -> Callable[[int], int]:
        """What decides a state's owner in a partitioned search (checkers/parallel.py): the part of the state
        few actions change, so that most successors stay with the worker that expands them (fewer move, and
        each worker's memos meet fewer components), yet with many more values than workers, so that owners
        stay balanced.  Server 0's component with elections and allLogs for two workers; server 1's too
        beyond (on n3_t2_l1_c1_m1 the first has 739 values, the heaviest 1.3% of the states; the second
        16,055).  Measured with two workers on n3_t2_l1_c1_m1: 8.5 s against 9.7 s for servers and
        elections (what the invariants read), states moved 0.53 M against 1.17 M."""
        kept = 1 if workers <= 2 or self.n == 1 else 2
        mask = self.slot_masks["elections"] | self.slot_masks["allLogs"]
        for i in range(kept):
            mask |= self.mask << self._srv_shifts[i]
        return mask.__and__

    def stats(self) -> dict[str, int]:
        return {"interned_servers": len(self.srv), "interned_messages": len(self.msg),
                "interned_bags": len(self.bag), "interned_elections": len(self.el),
                "interned_all_logs": len(self.al)}

    def export_components(self) -> Any:
        self._need_portable()
        return (self.srv.take_new(), self.bag.take_new(), self.el.take_new(), self.al.take_new())  # type: ignore[attr-defined]

    def import_components(self, payload: Any) -> None:
        srv, bag, el, al = payload
        for k, sv in srv:
            self.srv.add(k, sv)  # type: ignore[attr-defined]
            self._srv_id(sv)
        for interner, items in ((self.bag, bag), (self.el, el), (self.al, al)):
            for k, v in items:
                interner.add(k, v)  # type: ignore[attr-defined]

    def watch_server_steps(self, fn: Callable[[int, int], None]) -> bool:
        """Call ``fn(c, nc)`` for every change of a server's component from ``c`` to ``nc`` (``nc != c``) that
        a memoised successor entry makes, when the entry is made: before :meth:`successors` returns the first
        successor using it.  Every successor differs from its state, among the servers, by one such change at
        most (each Raft action changes one server).  False (and nothing watched) if entries were made before."""
        if any(self._local) or any(self._recv_by_mid):
            return False
        self._on_server_step = fn
        return True

    def successors(self, e: Hashable) -> list[tuple[int, Hashable | None]]:
        return self._make_successors()(e)  # instances use the closure installed by __init__

    def omitting_successors(self) -> tuple[Callable[[int], list[tuple[int, int]]], Callable[[], dict[int, int]]]:
        """A successor function that leaves out the successors outside the state constraint (``None`` in
        :meth:`successors`; over half of them on the usual bounds), otherwise the same successors in the same
        order, and a function giving how many it left out so far, by action id."""
        tally: list[int] = []  # successors left out, by action id below TALLY_CAP
        beyond: dict[int, int] = {}  # and at or beyond it

        def missing() -> dict[int, int]:
            counts = {aid: n for aid, n in enumerate(tally) if n}
            counts.update(beyond)
            return counts

        return self._make_successors(tally, beyond), missing

    def _make_successors(self, tally: list[int] | None = None, beyond: dict[int, int] | None = None,
                         ) -> Callable[[int], list[tuple[int, int | None]]]:
        """The successor function as a closure over the memo tables (locals are the fastest lookups); with
        ``tally`` (and ``beyond``), one that counts the successors outside the constraint there, by action id,
        instead of listing them."""
        omit = tally is not None
        if tally is None or beyond is None:
            tally, beyond = [], {}

        def left_out(aid: int) -> None:  # an action id beyond the tally: make room, or count it aside
            if aid < TALLY_CAP:
                tally.extend([0] * (aid + 1 - len(tally)))  # type: ignore[union-attr]
                tally[aid] += 1  # type: ignore[index]
            else:
                beyond[aid] = beyond.get(aid, 0) + 1  # type: ignore[union-attr]

        local, recv_by_mid, bag_ops, bag_info = self._local, self._recv_by_mid, self._bag_ops, self._bag_info
        al_known, al_fold, sh_al = self._al_known, self._al_fold, self.sh_al
        shifts, sh_bag, sh_el = self._srv_shifts, self.sh_bag, self.sh_el
        build_local, build_recv, build_bag_op = self._build_local, self._build_recv, self._build_bag_op
        build_bag_info, el_add, build_el_add = (self._build_bag_info,
                                                               self._el_add, self._build_el_add)
        mask = self.mask
        read_servers = self._read_servers

        def successors(e: int) -> list[tuple[int, int | None]]:
            out: list[tuple[int, int | None]] = []
            append = out.append
            comps = read_servers(e)
            al = (e >> sh_al) & mask
            known = al_known.get(al)
            base = e if known is not None and known.issuperset(comps) else e + al_fold(al, comps)
            b = (e >> sh_bag) & mask
            ops = bag_ops.get(b)
            if ops is None:
                ops = bag_ops[b] = {}
            i = 0
            for c in comps:
                loc = local[i].get(c)
                if loc is None:
                    loc = build_local(i, c)
                i += 1
                for tag, aid, x, y in loc:  # entries are (tag, aid, x, y): one unpacking, no indexing
                    if tag == 0:  # _MOVE: x is the delta
                        append((aid, base + x))
                    elif tag == 1:  # _SEND: x is the bag operation
                        bd = ops.get(x, _MISSING)
                        if bd is _MISSING:
                            bd = build_bag_op(b, x)
                        if bd is not None:
                            append((aid, base + bd))
                        elif omit:
                            try:
                                tally[aid] += 1
                            except IndexError:
                                left_out(aid)
                        else:
                            append((aid, None))
                    elif tag == 2:  # _ELECT: x is the delta, y the election record
                        key = (e >> sh_el) & mask, y
                        ed = el_add.get(key)
                        if ed is None:
                            ed = build_el_add(*key)
                        append((aid, base + x + ed))
                    elif omit:  # _VIOLATES
                        try:
                            tally[aid] += 1
                        except IndexError:
                            left_out(aid)
                    else:
                        append((aid, None))
            info = bag_info.get(b)
            if info is None:
                info = build_bag_info(b)
            for mid, dest, aid_dup, dup_d, aid_drop, drop_d in info:
                handled = recv_by_mid[mid].get(comps[dest])
                if handled is None:
                    handled = build_recv(comps[dest], mid)
                for aid, d, op in handled:
                    if d is None:
                        bd = None
                    elif op == _KEEP:
                        append((aid, base + d))
                        continue
                    else:
                        bd = ops.get(op, _MISSING)
                        if bd is _MISSING:
                            bd = build_bag_op(b, op)
                    if bd is not None:
                        append((aid, base + d + bd))
                    elif omit:
                        try:
                            tally[aid] += 1
                        except IndexError:
                            left_out(aid)
                    else:
                        append((aid, None))
                if dup_d is not None:
                    append((aid_dup, base + dup_d))
                elif omit:
                    try:
                        tally[aid_dup] += 1
                    except IndexError:
                        left_out(aid_dup)
                else:
                    append((aid_dup, None))
                append((aid_drop, base + drop_d))
            return out

        return successors

    # ------------------------------------------------------------------------------------ memo builders

    def _al_fold(self, al: int, comps: list[int]) -> int:
        """The allLogs delta of a state with allLogs ``al`` and server components ``comps``: the id of
        allLogs with every server's log added, less ``al``, shifted into place (learning on the way which
        components each allLogs met holds)."""
        nal = al
        for c in comps:
            known = self._al_known.get(nal)
            if known is None:
                known = self._al_known[nal] = set()
            if c in known:
                continue
            log, logs = self.srv.objs[c].log, self.al.objs[nal]
            if log not in logs:
                nal = self.al(logs | {log})  # a superset: what earlier components' logs were in, still are
                known = self._al_known.get(nal)
                if known is None:
                    known = self._al_known[nal] = set()
            known.add(c)
        return (nal - al) << self.sh_al

    def _move(self, i: int, c: int, aid: int, sv: ServerVars) -> tuple:
        nc = self._srv_id(sv)
        if not self.srv_ok[nc]:
            return (_VIOLATES, aid, 0, 0)
        if nc != c and self._on_server_step is not None:
            self._on_server_step(c, nc)
        return (_MOVE, aid, (nc - c) << (self.W * i), 0)

    def _build_local(self, i: int, c: int) -> list[tuple]:
        """Server i's own actions from component c, in the readable model's order."""
        cfg, r, sv0, aid = self.cfg, self.rules, self.srv.objs[c], self._labels.aid
        si = Sid(i)
        loc: list[tuple] = [self._move(i, c, aid(Label("Restart", (("i", si),))), r.restart(cfg, i, sv0))]
        if (sv := r.timeout(cfg, i, sv0)) is not None:
            loc.append(self._move(i, c, aid(Label("Timeout", (("i", si),))), sv))
        for j in range(self.n):
            if (m := r.request_vote(cfg, i, j, sv0)) is not None:
                loc.append((_SEND, aid(Label("RequestVote", (("i", si), ("j", Sid(j))))),
                            bag_op_code(-1, self._msg_id(m)), 0))
        if (res := r.become_leader(cfg, i, sv0)) is not None:
            sv, record = res
            mv = self._move(i, c, aid(Label("BecomeLeader", (("i", si),))), sv)
            loc.append(mv if mv[0] == _VIOLATES else (_ELECT, mv[1], mv[2], self._records(record)))
        for v in range(1, cfg.values + 1):
            if (sv := r.client_request(cfg, i, v, sv0)) is not None:
                loc.append(self._move(i, c, aid(Label("ClientRequest", (("i", si), ("v", ValueName(v))))), sv))
        if (sv := r.advance_commit_index(cfg, i, sv0)) is not None:
            loc.append(self._move(i, c, aid(Label("AdvanceCommitIndex", (("i", si),))), sv))
        for j in range(self.n):
            if (m := r.append_entries(cfg, i, j, sv0)) is not None:
                loc.append((_SEND, aid(Label("AppendEntries", (("i", si), ("j", Sid(j))))),
                            bag_op_code(-1, self._msg_id(m)), 0))
        self._local[i][c] = loc
        return loc

    def _build_recv(self, c: int, mid: int) -> list[tuple]:
        """Receive(m) at m's recipient with component c: (aid, server delta or None, bag operation)."""
        m = self.msg.objs[mid]
        i, j = m.mdest, m.msource
        sv0 = self.srv.objs[c]
        out = []
        for name, handler in self.rules.handlers(m):
            if (h := handler(self.cfg, i, j, sv0, m)) is None:
                continue
            aid = self._recv_aid.get((mid, name, h.case))
            if aid is None:  # once per (message, handler, case), not per recipient component
                aid = self._recv_aid[(mid, name, h.case)] = self._labels.aid(receive_label(name, m, h.case))
            nc = self._srv_id(h.sv)
            d = (nc - c) << (self.W * i) if self.srv_ok[nc] else None
            if d is not None and nc != c and self._on_server_step is not None:
                self._on_server_step(c, nc)
            reply = -1 if h.reply is None else self._msg_id(h.reply)
            out.append((aid, d, bag_op_code(mid if h.consume else -1, reply)))
        self._recv_by_mid[mid][c] = out
        return out

    def _msg_id(self, m: Message) -> int:
        k = self.msg(m)
        if k == len(self._recv_by_mid):
            self._recv_by_mid.append({})
        return k

    def _build_bag_op(self, b: int, op: int) -> int | None:
        """Delta of the bag slot after bag operation ``op`` (see :func:`bag_op_code`), or None if the new
        bag violates the constraint."""
        consume, reply = (op >> 32) - 1, (op & MASK) - 1
        # WithMessage then WithoutMessage (raft.tla, Bags (+) and (-)), done on the bag's message ids:
        # hashing small ints, not messages; the bag itself is built only when first met
        counts = dict(self._bag_key_of(b))
        if reply >= 0:
            counts[reply] = counts.get(reply, 0) + 1
        if consume >= 0 and consume in counts:
            if counts[consume] <= 1:
                del counts[consume]
            else:
                counts[consume] -= 1
        if len(counts) > self.cfg.max_msgs or any(c > self.cfg.max_msg_count for c in counts.values()):
            d = None  # outside the constraint: never stored, so never interned
        else:
            key = tuple(sorted(counts.items()))
            nb = self._key_bag.get(key)
            if nb is None:
                nb = self._bag_id(frozenset([(self.msg.objs[mid], c) for mid, c in key]))
                self._bag_key[nb] = key
                self._key_bag[key] = nb
            d = (nb - b) << self.sh_bag
        ops = self._bag_ops.get(b)
        if ops is None:
            ops = self._bag_ops[b] = {}
        ops[op] = d
        return d

    def _bag_key_of(self, b: int) -> tuple[tuple[int, int], ...]:
        """Bag b as its sorted (message id, count) pairs."""
        key = self._bag_key.get(b)
        if key is None:
            key = self._bag_key[b] = tuple(sorted((self._msg_id(m), c) for m, c in self.bag.objs[b]))
            self._key_bag[key] = b
        return key

    def _build_bag_info(self, b: int) -> list[tuple]:
        """Per message of bag b, in the readable order: (mid, dest, Duplicate aid/delta, Drop aid/delta)."""
        info = []
        for m, _ in bag_items(self.bag.objs[b]):
            mid = self._msg_id(m)
            labels = self._dup_drop.get(mid)
            if labels is None:  # per message, not per bag: its labels (hashing messages is not cheap)
                view = (("m", MessageView(m)),)
                labels = self._dup_drop[mid] = (int(m.mdest), self._labels.aid(Label("DuplicateMessage", view)),
                                                self._labels.aid(Label("DropMessage", view)))
            dest, aid_dup, aid_drop = labels
            dup = self._build_bag_op(b, bag_op_code(-1, mid))
            drop = self._build_bag_op(b, bag_op_code(mid, -1))
            info.append((mid, dest, aid_dup, dup, aid_drop, drop))
        self._bag_info[b] = info
        return info

    def _build_el_add(self, el: int, rid: int) -> int:
        nel = self.el(self.el.objs[el] | {self._records.objs[rid]})
        d = self._el_add[(el, rid)] = (nel - el) << self.sh_el
        return d

    # ----------------------------------------------------------------------------------------- symmetry

    def canonical(self, e: Hashable) -> Hashable:
        return self._make_canonical()(e)  # instances use the closure installed by __init__

    def _make_canonical(self) -> Callable[[int], int]:
        if self.n > SMALL_CLUSTER:
            return self._large_canonical
        srv_canon, srv_mask, sh_bag = self._srv_canon, self.srv_mask, self.sh_bag
        build, permute_rest = self._build_srv_canon, self._permute_rest

        def canonical(e: int) -> int:
            sc = srv_canon.get(e & srv_mask)
            if sc is None:
                sc = build(e & srv_mask)
            canon_sb, memo, p, memos = sc
            rest = e >> sh_bag  # bag, elections and allLogs, unshifted
            if memo is not None:  # one permutation reaches the smallest servers part (the usual case)
                pr = memo.get(rest)
                if pr is None:
                    pr = permute_rest(memo, rest, p)
                return canon_sb | pr
            best = None
            for p, memo in memos:
                pr = memo.get(rest)
                if pr is None:
                    pr = permute_rest(memo, rest, p)
                key = canon_sb | pr
                if best is None or key < best:
                    best = key
            return best

        return canonical

    def _permute_rest(self, memo: dict[int, int], rest: int, p: int) -> int:
        """The bag and elections of ``rest`` permuted by perm p (allLogs has no identities), shifted into
        place; memoised per permutation."""
        perm = p
        b, el = rest & self.mask, (rest >> self.W) & self.mask
        pb = self._bag_id(frozenset((m.permute(perm), c) for m, c in self.bag.objs[b]))
        pe = self.el(frozenset(x.permute(perm) for x in self.el.objs[el]))
        pr = memo[rest] = (pb << self.sh_bag | pe << self.sh_el | (rest >> (2 * self.W)) << self.sh_al)
        return pr

    def _renamed(self, memo: dict[int, int], c: int, p: Permutation) -> int:
        """Component ``c`` with its identities renamed by ``p`` (memoised per permutation); a component that
        names no server and has equal nextIndex and matchIndex entries is its own image under every
        renaming, which spares the large clusters most of their renamings."""
        fixed = self._fixed.get(c)
        if fixed is None:
            sv = self.srv.objs[c]
            fixed = self._fixed[c] = (sv.votedFor is None and not sv.votesResponded and not sv.votesGranted
                                      and not sv.voterLog and len(set(sv.nextIndex)) == 1
                                      and len(set(sv.matchIndex)) == 1)
        if fixed:
            return c
        pc = memo.get(c)
        if pc is None:
            pc = memo[c] = self._srv_id(self.srv.objs[c].permute(p))
        return pc

    def _rest_signatures(self, rest: int) -> tuple[tuple, ...]:
        """Per server, what a permutation cannot change about its part in the bag and in ``elections``: the
        messages it sends and receives (without identities) and the elections it won or voted in."""
        sigs = self._rest_sig.get(rest)
        if sigs is None:
            per: list[list] = [[] for _ in range(self.n)]
            for m, c in self.bag.objs[rest & self.mask]:
                anon = (type(m).__name__, getattr(m, "mterm", 0), c, getattr(m, "mlog", None),
                        getattr(m, "mentries", None), getattr(m, "mvoteGranted", None),
                        getattr(m, "msuccess", None), getattr(m, "mmatchIndex", None),
                        getattr(m, "mprevLogIndex", None), getattr(m, "mcommitIndex", None))
                per[m.msource].append(("from", anon, m.msource == m.mdest))
                per[m.mdest].append(("to", anon))
            for x in self.el.objs[(rest >> self.W) & self.mask]:
                per[x.eleader].append(("won", x.eterm, x.elog, len(x.evotes)))
                for v in x.evotes:
                    per[v].append(("voted", x.eterm, x.elog))
            sigs = self._rest_sig[rest] = tuple(tuple(sorted(p, key=repr)) for p in per)
        return sigs

    def _refined(self, comps: list[int], rest: int, sigs: list, members: list[int]) -> dict[int, tuple]:
        """For the servers ``members``, their signature refined once by relations (a round of colour
        refinement): what every other server, known by its own signature, holds about this one (its
        nextIndex and matchIndex entry, whether it counted this one's vote, voted for it, recorded its log)
        and the messages between the two.  Invariant under renaming; it tells apart servers that only the
        others' variables distinguish."""
        n = self.n
        rels = []
        for c in comps:
            r = self._rel.get(c)
            if r is None:
                sv = self.srv.objs[c]
                voters = {int(v) for v, _ in sv.voterLog}
                r = self._rel[c] = tuple((sv.nextIndex[k], sv.matchIndex[k], k in sv.votesResponded,
                                          k in sv.votesGranted, sv.votedFor == k, k in voters) for k in range(n))
            rels.append(r)
        pairs = self._pair_msgs.get(rest & self.mask)
        if pairs is None:
            acc: dict[tuple[int, int], list] = {}
            for m, cnt in self.bag.objs[rest & self.mask]:
                acc.setdefault((int(m.msource), int(m.mdest)), []).append((type(m).__name__, m.mterm, cnt))
            pairs = self._pair_msgs[rest & self.mask] = {k: tuple(sorted(v)) for k, v in acc.items()}
        out = {}
        for k in members:
            rel = sorted((sigs[j], rels[j][k], pairs.get((j, k), ()), pairs.get((k, j), ()))
                         for j in range(n) if j != k)
            out[k] = (rels[k][k], tuple(rel))
        return out

    def _large_canonical(self, e: int) -> int:
        """The smallest image of ``e`` over the permutations that sort the servers by a signature of the
        whole state (their own variables, their messages, their elections), trying every ordering only
        within a group of equal signatures whose members cannot all be swapped without changing the state;
        a group whose members can (every swap of neighbours maps the state to itself) gives the same image
        in every ordering, so one is enough.  Both choices are the same for every member of an orbit, so
        the result is canonical."""
        known = self._canon_memo.get(e)
        if known is not None:
            return known
        n, sh_bag = self.n, self.sh_bag
        comps = [(e >> (self.W * i)) & self.mask for i in range(n)]
        rest = e >> sh_bag
        rsig = self._rest_signatures(rest)
        sigs = [(self._signature(comps[k]), rsig[k]) for k in range(n)]
        groups = self._groups(range(n), sigs.__getitem__)
        stuck = [k for g in groups if len(g) > 1 and not self._free(comps, rest, g) for k in g]
        if stuck:  # ties that a swap does not resolve: refine those servers' signatures by their relations
            refined = self._refined(comps, rest, sigs, stuck)
            groups = self._groups(range(n), lambda k: (sigs[k], refined.get(k, ())))
        choices = []
        for g in groups:
            if len(g) > 1 and not (self._free(comps, rest, g)):
                choices.append(list(itertools.permutations(g)))
            else:
                choices.append([tuple(g)])
        best = None
        for choice in itertools.product(*choices):
            perm = [0] * n
            pos = 0
            for members in choice:
                for k in members:
                    perm[k] = pos
                    pos += 1
            img = self._image(e, comps, rest, Permutation(perm))
            if best is None or img < best:
                best = img
        if len(self._canon_memo) > CANON_MEMO:
            self._canon_memo.clear()
        self._canon_memo[e] = best
        return best

    def _fixes(self, comps: list[int], rest: int, p: Permutation) -> bool:
        """Whether renaming by ``p`` maps the state (its components ``comps`` and ``rest``) to itself; stops
        at the first server that differs."""
        memo = self._srv_perm.get(p)
        if memo is None:
            memo = self._srv_perm[p] = {}
            self._rest_perm[p] = {}
        renamed = self._renamed
        for k, c in enumerate(comps):
            if renamed(memo, c, p) != comps[p[k]]:
                return False
        rmemo = self._rest_perm[p]
        pr = rmemo.get(rest)
        if pr is None:
            pr = self._permute_rest(rmemo, rest, p)
        return pr == rest << self.sh_bag

    @staticmethod
    def _groups(servers: Any, key: Callable[[int], Any]) -> list[list[int]]:
        """The servers sorted by ``key``, in groups of equal keys (each group in index order)."""
        groups: list[list[int]] = []
        last = None
        for k in sorted(servers, key=key):
            kk = key(k)
            if groups and kk == last:
                groups[-1].append(k)
            else:
                groups.append([k])
            last = kk
        return groups

    def _free(self, comps: list[int], rest: int, group: list[int]) -> bool:
        """Whether every swap of neighbours in ``group`` maps the state to itself (then every ordering of the
        group gives the same image)."""
        return all(self._fixes(comps, rest, self._swap(a, b)) for a, b in zip(group, group[1:]))

    def _swap(self, a: int, b: int) -> Permutation:
        perm = list(range(self.n))
        perm[a], perm[b] = b, a
        return Permutation(perm)

    def _image(self, e: int, comps: list[int], rest: int, p: Permutation) -> int:
        """``e`` with every server identity renamed by ``p``."""
        memo = self._srv_perm.get(p)
        if memo is None:
            if len(self._srv_perm) > PERM_MEMOS:  # large clusters meet many permutations: keep memory bounded
                self._srv_perm.clear()
                self._rest_perm.clear()
            memo = self._srv_perm[p] = {}
            self._rest_perm[p] = {}
        bits = 0
        renamed = self._renamed
        for k, c in enumerate(comps):
            bits |= renamed(memo, c, p) << (self.W * p[k])
        rmemo = self._rest_perm[p]
        pr = rmemo.get(rest)
        if pr is None:
            pr = self._permute_rest(rmemo, rest, p)
        return bits | pr

    def _signature(self, c: int) -> tuple:
        """What a permutation cannot change about a server component: its own variables without the
        identities they name (the values of nextIndex and matchIndex as sorted lists, the sizes of its vote
        sets).  Equal for a component and every renaming of it."""
        sig = self._sig.get(c)
        if sig is None:
            sv = self.srv.objs[c]
            sig = self._sig[c] = (sv.currentTerm, sv.state, sv.votedFor is None, sv.log, sv.commitIndex,
                                  len(sv.votesResponded), len(sv.votesGranted), len(sv.voterLog),
                                  tuple(sorted(sv.nextIndex)), tuple(sorted(sv.matchIndex)))
        return sig

    def _build_srv_canon(self, sb: int) -> tuple:
        """The smallest image of a servers part over all permutations (a small cluster: at most
        ``SMALL_CLUSTER``! of them, made on first use), and the permutations reaching it (with their memo of
        permuted bag/elections/allLogs parts)."""
        if not self._small_perms:
            self._small_perms = [(p, {}, {}) for p in all_permutations(self.n)]
            for p, srv_memo, rest_memo in self._small_perms:
                self._srv_perm[p], self._rest_perm[p] = srv_memo, rest_memo
            #: per permutation: its memo of renamed components, and the shift of each server's new slot
            self._perm_shifts = [(memo, tuple(self.W * k for k in p)) for p, memo, _ in self._small_perms]
        comps = self._read_servers(sb)
        images = []
        srv_id, objs = self._srv_id, self.srv.objs
        for memo, shifts in self._perm_shifts:
            bits = 0
            for c, sh in zip(comps, shifts):
                pc = memo.get(c)
                if pc is None:
                    pc = memo[c] = srv_id(objs[c].permute(self._small_perms[len(images)][0]))
                bits |= pc << sh
            images.append(bits)
        best = min(images)
        if images.count(best) == 1:  # one permutation reaches it (the usual case)
            p, _, rest_memo = self._small_perms[images.index(best)]
            res = self._srv_canon[sb] = (best, rest_memo, p, ((p, rest_memo),))
        else:
            memos = tuple((p, rest_memo) for (p, _, rest_memo), x in zip(self._small_perms, images) if x == best)
            res = self._srv_canon[sb] = (best, None, None, memos)
        return res
