"""A fast engine for the etcdraft model: interned components, memoised rules, states as single ints.

This layer adds no protocol of its own: it calls the very rule functions of :mod:`model.etcdraft.actions`
(through the model's :class:`~model.etcdraft.actions.Rules`, so mutants apply here too) and remembers what
they return, keyed by exactly the parts of the state each one reads:

* each server's :class:`ServerVars`, each bag and each message are interned to small ints; a state is one
  Python int, 32 bits per slot: servers 1..N in slots 0..N-1, then ``messages``, ``pendingMessages`` and
  ``reconfigCount``;
* a server's own actions are computed once per (server, component) as ready-made deltas; the few that read
  more are resolved per state through memos keyed by what they read: a send's MCSend guard and the bound on
  messages in flight by (both bags, message), MCTimeout by (component, the set of Candidate servers), the
  membership actions by (component, reconfigCount), Ready's and Restart's bag parts by (server, bags);
* a receive step depends on the message and its recipient's component (the rule), and on both bags (the bag
  operation); Duplicate/Drop on both bags.

``tests/test_etcdraft_engines.py`` checks that this engine and the readable model list the same successors
(label and state) in the same order, state for state.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from refmodel.model.core import HashInterner, Interner, Label, LabelTable, PackedEngine, ScatterInterner, hidden
from refmodel.model.etcdraft.actions import (
    ACTION_NAMES,
    MessageView,
    ready_bags,
    receive_label,
    restart_pending,
)
if TYPE_CHECKING:
    from refmodel.model.etcdraft.system import EtcdRaft
from refmodel.model.etcdraft.state import (
    CANDIDATE,
    Bag,
    EtcdState,
    Message,
    ServerVars,
    bag_cardinality,
    bag_items,
    permute_bag,
    permute_server,
    with_message,
    without_message,
)

W = 32  # bits per slot
MASK = (1 << W) - 1

# tags of memoised server-local entries
_MOVE, _SEND, _TIMEOUT, _READY, _RESTART, _RECONF = range(6)
_SKIP = object()  # a send MCSend does not allow: no successor
_MISSING = object()


class FastEtcdRaftEngine(PackedEngine):
    """The etcdraft transition relation over packed-int states (see the module docstring)."""

    #: bits per slot, and their mask (a portable engine's slots hold 64-bit content hashes)
    W, mask = W, MASK

    def __init__(self, system: EtcdRaft, portable: bool = False) -> None:
        self.system = system
        self.portable = portable
        if portable:
            self.W, self.mask = 64, (1 << 64) - 1
        self.cfg = cfg = system.config
        self.rules = system.rules
        self.n = n = cfg.servers
        self._labels = LabelTable(ACTION_NAMES, "EtcdRaft")
        self.action_names = self._labels.names
        slot_interner = HashInterner if portable else ScatterInterner  # (see ScatterInterner: states hash well)
        self.srv, self.bag = slot_interner(), slot_interner()
        self.msg = Interner()  # messages are not slots: their ids stay private (memo keys only)
        self.srv_ok: dict[int, bool] = {}  # component satisfies Len(log) <= max_log
        self.srv_cand: dict[int, bool] = {}  # component is a Candidate
        self.bag_card: dict[int, int] = {}
        self.sh_mb, self.sh_pb, self.sh_rc = self.W * n, self.W * (n + 1), self.W * (n + 2)
        self._shifts = tuple(self.W * k for k in range(n))
        self.slot_masks = {"servers": (1 << (self.W * n)) - 1, "messages": self.mask << self.sh_mb,
                           "pendingMessages": self.mask << self.sh_pb, "reconfigCount": self.mask << self.sh_rc}
        self._local: list[dict[int, list[tuple]]] = [{} for _ in range(n)]
        self._timeout: list[dict[tuple[int, int], tuple]] = [{} for _ in range(n)]
        self._reconf: list[dict[tuple[int, int], list[tuple]]] = [{} for _ in range(n)]
        self._recv: list[dict[int, list[tuple]]] = []  # per message id: component -> entries
        self._pair: dict[int, dict[Hashable, object]] = {}  # (mb, pb) -> bag op -> delta / None / _SKIP
        self._bag_info: dict[int, list[tuple]] = {}
        self._system = system
        self._perms: list = []  # Permutations(Server), built on the first canonical() (only with symmetry)
        self._srv_perm: list[dict[int, int]] = []
        self._bag_perm: list[dict[int, int]] = []
        self.successors = self._make_successors()  # type: ignore[method-assign]

    # ------------------------------------------------------------------------------------------ interning

    def _srv_id(self, sv: ServerVars) -> int:
        k = self.srv(sv)
        if k not in self.srv_ok:
            self.srv_ok[k] = len(sv.log) <= self.cfg.max_log
            self.srv_cand[k] = sv.state == CANDIDATE
            if k > self.mask:
                raise OverflowError("more than 2**32 distinct server components")
        return k

    def _bag_id(self, bag: Bag) -> int:
        k = self.bag(bag)
        if k not in self.bag_card:
            self.bag_card[k] = bag_cardinality(bag)
            if k > self.mask:
                raise OverflowError("more than 2**32 distinct bags")
        return k

    def _msg_id(self, m: Message) -> int:
        k = self.msg(m)
        if k == len(self._recv):
            self._recv.append({})
        return k

    def encode(self, s: EtcdState) -> int:
        """The packed int of a readable state."""
        e = 0
        for k, sv in enumerate(s.servers):
            e |= self._srv_id(sv) << (self.W * k)
        return (e | self._bag_id(s.messages) << self.sh_mb | self._bag_id(s.pendingMessages) << self.sh_pb
                | s.reconfigCount << self.sh_rc)

    def decode(self, e: Hashable, hide: frozenset[str] = frozenset()) -> EtcdState:
        assert isinstance(e, int)
        objs = self.srv.objs
        s = EtcdState(tuple([objs[(e >> sh) & self.mask] for sh in self._shifts]), self.bag.objs[(e >> self.sh_mb) & self.mask],
                      self.bag.objs[(e >> self.sh_pb) & self.mask], (e >> self.sh_rc) & self.mask)
        if hide:
            s = s._replace(**{f: hidden(f) for f in hide})
        return s

    # --------------------------------------------------------------------------------------------- engine

    def canonical(self, e: Hashable) -> Hashable:
        """With symmetry: the smallest encoding over e's orbit, built from per-permutation memos of permuted
        server components and bags (the permuted records are the readable layer's, ``permute_server`` and
        ``permute_bag``)."""
        if not self._perms:
            self._perms = self._system.symmetry_group()
            self._srv_perm = [{} for _ in self._perms]
            self._bag_perm = [{} for _ in self._perms]
        if len(self._perms) <= 1:
            return e
        assert isinstance(e, int)
        comps = [(e >> sh) & self.mask for sh in self._shifts]
        mb, pb, rest = (e >> self.sh_mb) & self.mask, (e >> self.sh_pb) & self.mask, e >> self.sh_rc << self.sh_rc
        best = None
        for p, srv_memo, bag_memo in zip(self._perms, self._srv_perm, self._bag_perm):
            x = rest
            for k, c in enumerate(comps):
                pc = srv_memo.get(c)
                if pc is None:
                    pc = srv_memo[c] = self._srv_id(permute_server(self.srv.objs[c], p))
                x |= pc << (self.W * p[k])
            for b, sh in ((mb, self.sh_mb), (pb, self.sh_pb)):
                qb = bag_memo.get(b)
                if qb is None:
                    qb = bag_memo[b] = self._bag_id(permute_bag(self.bag.objs[b], p))
                x |= qb << sh
            if best is None or x < best:
                best = x
        return best

    def stats(self) -> dict[str, int]:
        return {"interned_servers": len(self.srv), "interned_messages": len(self.msg),
                "interned_bags": len(self.bag)}

    def export_components(self) -> Any:
        self._need_portable()
        return (self.srv.take_new(), self.bag.take_new())  # type: ignore[attr-defined]

    def import_components(self, payload: Any) -> None:
        srv, bags = payload
        for k, sv in srv:
            self.srv.add(k, sv)  # type: ignore[attr-defined]
            self._srv_id(sv)
        for k, bag in bags:
            self.bag.add(k, bag)  # type: ignore[attr-defined]
            self._bag_id(bag)

    def successors(self, e: Hashable) -> list[tuple[int, Hashable | None]]:
        return self._make_successors()(e)  # instances use the closure installed by __init__

    def _make_successors(self) -> Callable[[int], list[tuple[int, int | None]]]:
        local, timeout_memo, reconf_memo, recv, pair, bag_info = (self._local, self._timeout, self._reconf,
                                                                  self._recv, self._pair, self._bag_info)
        build_local, build_timeout, build_reconf = self._build_local, self._build_timeout, self._build_reconf
        build_recv, build_pair_op, build_bag_info = self._build_recv, self._build_pair_op, self._build_bag_info
        shifts, sh_mb, sh_pb, sh_rc = self._shifts, self.sh_mb, self.sh_pb, self.sh_rc
        srv_cand, mask, w = self.srv_cand, self.mask, self.W
        skip, missing = _SKIP, _MISSING
        n = self.n

        def successors(e: int) -> list[tuple[int, int | None]]:
            out: list[tuple[int, int | None]] = []
            append = out.append
            mb, pb = (e >> sh_mb) & mask, (e >> sh_pb) & mask
            pk = mb << w | pb
            ops = pair.get(pk)
            if ops is None:
                ops = pair[pk] = {}
            comps = [(e >> sh) & mask for sh in shifts]
            cand = 0
            for k in range(n):
                if srv_cand[comps[k]]:
                    cand |= 1 << k
            for i in range(n):
                c = comps[i]
                loc = local[i].get(c)
                if loc is None:
                    loc = build_local(i, c)
                for ent in loc:
                    tag = ent[0]
                    if tag == 0:  # _MOVE
                        d = ent[2]
                        append((ent[1], None if d is None else e + d))
                    elif tag == 1:  # _SEND
                        bd = ops.get(ent[2], missing)
                        if bd is missing:
                            bd = build_pair_op(mb, pb, ent[2])
                        if bd is not skip:
                            append((ent[1], None if bd is None else e + bd))
                    elif tag == 2:  # _TIMEOUT
                        t = timeout_memo[i].get((c, cand))
                        if t is None:
                            t = build_timeout(i, c, cand)
                        if t:
                            append((t[0], None if t[1] is None else e + t[1]))
                    elif tag == 3:  # _READY
                        bd = ops.get(ent[3], missing)
                        if bd is missing:
                            bd = build_pair_op(mb, pb, ent[3])
                        append((ent[1], None if bd is None else e + ent[2] + bd))
                    elif tag == 4:  # _RESTART
                        bd = ops.get(ent[3], missing)
                        if bd is missing:
                            bd = build_pair_op(mb, pb, ent[3])
                        append((ent[1], None if bd is None else e + ent[2] + bd))
                    else:  # _RECONF
                        rc = (e >> sh_rc) & mask
                        lst = reconf_memo[i].get((c, rc))
                        if lst is None:
                            lst = build_reconf(i, c, rc)
                        for aid, d in lst:
                            append((aid, None if d is None else e + d))
            info = bag_info.get(mb)
            if info is None:
                info = build_bag_info(mb)
            for mid, dest, dup in info:
                c = comps[dest]
                handled = recv[mid].get(c)
                if handled is None:
                    handled = build_recv(c, mid)
                for aid, d, op in handled:
                    if d is None:
                        append((aid, None))
                    elif op is None:
                        append((aid, e + d))
                    else:
                        bd = ops.get(op, missing)
                        if bd is missing:
                            bd = build_pair_op(mb, pb, op)
                        append((aid, None if bd is None else e + d + bd))
                if dup is not None:
                    aid_dup, op_dup, aid_drop, op_drop = dup
                    for aid, op in ((aid_dup, op_dup), (aid_drop, op_drop)):
                        bd = ops.get(op, missing)
                        if bd is missing:
                            bd = build_pair_op(mb, pb, op)
                        append((aid, None if bd is None else e + bd))
            return out

        return successors

    # ------------------------------------------------------------------------------------ memo builders

    def _move(self, i: int, c: int, sv: ServerVars) -> int | None:
        """The delta taking server slot i from component c to sv, or None if sv breaks the constraint."""
        nc = self._srv_id(sv)
        return (nc - c) << (self.W * i) if self.srv_ok[nc] else None

    def _build_local(self, i: int, c: int) -> list[tuple]:
        """Server i+1's own actions from component c, in the readable model's order."""
        cfg, r, sv0, aid = self.cfg, self.rules, self.srv.objs[c], self._labels.aid
        n, me = self.n, i + 1
        si = ("i", me)
        loc: list[tuple] = []

        def send(lab: Label, m: Message | None) -> None:
            if m is not None:
                loc.append((_SEND, aid(lab), ("send", self._msg_id(m))))

        for j in range(1, n + 1):
            send(Label("RequestVote", (si, ("j", j))), r.request_vote(cfg, me, j, sv0))
        if (sv := r.become_leader(cfg, me, sv0)) is not None:
            loc.append((_MOVE, aid(Label("BecomeLeader", (si,))), self._move(i, c, sv)))
        if (sv := r.client_request(cfg, me, 0, sv0)) is not None:
            loc.append((_MOVE, aid(Label("ClientRequest", (si, ("v", 0)))), self._move(i, c, sv)))
        if (sv := r.advance_commit_index(cfg, me, sv0)) is not None:
            loc.append((_MOVE, aid(Label("AdvanceCommitIndex", (si,))), self._move(i, c, sv)))
        for j in range(1, n + 1):
            lo, hi = sv0.matchIndex[j - 1] + 1, len(sv0.log) + 1
            for b in range(lo, hi + 1):
                for e in range(lo, hi + 1):
                    send(Label("AppendEntries", (si, ("j", j), ("range", (b, e)))),
                         r.append_entries(cfg, me, j, sv0, b, e))
        send(Label("AppendEntriesToSelf", (si,)), r.append_entries_to_self(cfg, me, sv0))
        for j in range(1, n + 1):
            send(Label("Heartbeat", (si, ("j", j))), r.heartbeat(cfg, me, j, sv0))
        for j in range(1, n + 1):
            for index in range(1, sv0.commitIndex + 1):
                send(Label("SendSnapshot", (si, ("j", j), ("index", index))), r.send_snapshot(cfg, me, j, sv0, index))
        loc.append((_TIMEOUT,))
        loc.append((_READY, aid(Label("Ready", (si,))), self._move(i, c, r.ready(cfg, me, sv0)), ("ready", me)))
        if (sv := r.step_down_to_follower(cfg, me, sv0)) is not None:
            loc.append((_MOVE, aid(Label("StepDownToFollower", (si,))), self._move(i, c, sv)))
        loc.append((_RESTART, aid(Label("Restart", (si,))), self._move(i, c, r.restart(cfg, me, sv0)),
                    ("restart", me)))
        loc.append((_RECONF,))
        if (res := r.apply_simple_conf_change(cfg, me, sv0)) is not None:
            sv, bump = res
            d = self._move(i, c, sv)
            loc.append((_MOVE, aid(Label("ApplySimpleConfChange", (si,))),
                        None if d is None else d + (int(bump) << self.sh_rc)))
        for ent in loc:
            assert ent[0] not in (_READY, _RESTART) or ent[2] is not None, "Ready/Restart never lengthen a log"
        self._local[i][c] = loc
        return loc

    def _build_timeout(self, i: int, c: int, cand: int) -> tuple:
        """MCTimeout(i) from component c when the Candidates are the servers in bit set ``cand``."""
        candidates = frozenset(k + 1 for k in range(self.n) if cand >> k & 1)
        sv = self.rules.timeout(self.cfg, i + 1, self.srv.objs[c], candidates)
        res: tuple = () if sv is None else (self._labels.aid(Label("Timeout", (("i", i + 1),))),
                                            self._move(i, c, sv))
        self._timeout[i][(c, cand)] = res
        return res

    def _build_reconf(self, i: int, c: int, rc: int) -> list[tuple]:
        """MCAddNewServer/MCAddLearner/MCDeleteServer(i, j) from component c with reconfigCount rc."""
        cfg, r, sv0, me = self.cfg, self.rules, self.srv.objs[c], i + 1
        out = []
        for name, rule in (("AddNewServer", r.add_new_server), ("AddLearner", r.add_learner),
                           ("DeleteServer", r.delete_server)):
            for j in range(1, self.n + 1):
                if (sv := rule(cfg, me, j, sv0, rc)) is not None:
                    out.append((self._labels.aid(Label(name, (("i", me), ("j", j)))), self._move(i, c, sv)))
        self._reconf[i][(c, rc)] = out
        return out

    def _build_recv(self, c: int, mid: int) -> list[tuple]:
        """Receive(m) at m's recipient with component c: (aid, server delta or None, bag op or None)."""
        m = self.msg.objs[mid]
        i, j = m.mdest, m.msource
        sv0 = self.srv.objs[c]
        out = []
        for name, handler in self.rules.handlers(m):
            if (h := handler(self.cfg, i, j, sv0, m)) is None:
                continue
            aid = self._labels.aid(receive_label(name, m))
            d = self._move(i - 1, c, h.sv)
            op = None
            if h.consume or h.reply is not None:
                op = ("recv", mid if h.consume else -1, -1 if h.reply is None else self._msg_id(h.reply))
            out.append((aid, d, op))
        self._recv[mid][c] = out
        return out

    def _build_pair_op(self, mb: int, pb: int, op: tuple) -> object:
        """The delta of the two bag slots after ``op`` from bags (mb, pb): None if the result breaks the bound
        on messages in flight, _SKIP if MCSend forbids the send."""
        msgs, pend = self.bag.objs[mb], self.bag.objs[pb]
        kind = op[0]
        if kind == "send":
            m = self.msg.objs[op[1]]
            if not self.rules.send_ok(m, msgs, pend):
                res: object = _SKIP
                self._pair[mb << self.W | pb][op] = res
                return res
            pend = with_message(m, pend)
        elif kind == "recv":
            if op[2] >= 0:
                pend = with_message(self.msg.objs[op[2]], pend)
            if op[1] >= 0:
                msgs = without_message(self.msg.objs[op[1]], msgs)
        elif kind == "dup":
            msgs = with_message(self.msg.objs[op[1]], msgs)
        elif kind == "drop":
            msgs = without_message(self.msg.objs[op[1]], msgs)
        elif kind == "ready":
            msgs, pend = ready_bags(op[1], msgs, pend)
        else:  # restart
            pend = restart_pending(op[1], pend)
        if bag_cardinality(msgs) + bag_cardinality(pend) > self.cfg.max_in_flight:
            res = None
        else:
            res = ((self._bag_id(msgs) - mb) << self.sh_mb) + ((self._bag_id(pend) - pb) << self.sh_pb)
        self._pair[mb << self.W | pb][op] = res
        return res

    def _build_bag_info(self, mb: int) -> list[tuple]:
        """Per message of bag mb, in the readable order: (mid, recipient slot, Duplicate/Drop aids and ops if
        the message has one copy)."""
        info = []
        for m, count in bag_items(self.bag.objs[mb]):
            mid = self._msg_id(m)
            dup = None
            if count == 1:
                view = (("m", MessageView(m)),)
                dup = (self._labels.aid(Label("DuplicateMessage", view)), ("dup", mid),
                       self._labels.aid(Label("DropMessage", view)), ("drop", mid))
            info.append((mid, m.mdest - 1, dup))
        self._bag_info[mb] = info
        return info
