"""A partitioned, level-synchronous breadth-first search over several workers, with checkpoints.

The state space is split by owner: a state belongs to worker ``route_hash(route_key(canonical key)) %
workers``, where ``route_key`` is the engine's ``route_projector(workers)`` if it has one (a part of the state
few actions change, so that most successors stay with the worker that makes them), else the projection on
what the properties read.  Each level runs in two phases, with a barrier after each:

1. *expand*: every worker expands its share of the current level (its frontier), checks the transition
   properties on each step, and sorts the successors into one batch per owner;
2. *absorb*: every worker takes the batches addressed to it, keeps the states it has not seen, and checks
   the state invariants on them.

Engines are *portable* (:meth:`refmodel.model.core.TransitionSystem.portable_engine`): an encoded state
means the same in every process, so a batch is a list of encoded states (packed ints for the fast engines)
with two arrays (parent, action id) and the states' rank keys; the values of components first met in a level
travel once, in the barrier after the expand phase.

**The same figures as one worker.**  Distinct, generated, depth and the per-action ``fired`` counts do not
depend on the order of a level.  What does (which parent and action first reach a state, hence
``action_new``, the stored member of a symmetry orbit, and which violation is met first) is made equal to
the one-worker search by ranks: a state's rank key orders it as one worker would have met it (its
parent's rank key, then its place among the parent's successors, in SUCC_BITS bits: a path from an initial
state, so that keys of one level compare across workers with no exchange); an owner keeps, of all the ways
a new state is reached in a level, the one of least rank, and the violation reported is the one of least
rank.  Keys grow by SUCC_BITS a level; past RENUMBER_BITS the coordinator renumbers them densely.  A run
that finds a violation finishes that level, so its distinct and generated counts are those of the level's
end, not of the moment one worker would stop.

**Checkpoints** (``checkpoint=DIR``) are append-only: each worker writes the states it added since the last
checkpoint (with parents, actions, the labels behind its action ids) in a new chunk file, the coordinator
writes the components met since then, and a manifest naming every chunk is replaced atomically last.  A run
killed at any moment (SIGKILL included) resumes (``resume=DIR``) from the last manifest, with the figures an
uninterrupted run gives.  A manifest records what the run checks (``identity``); resuming another is refused,
and so is a missing or damaged chunk (one line naming the file).  A fresh run does not write over a directory
that holds a checkpoint.  The coordinator checks that it sees every chunk the workers wrote before a manifest
names them (a Ray actor on another machine writes to that machine's disk: a cluster needs a shared directory).

**Memory budget** (``memory_limit`` bytes, all processes together): before a level, the coordinator projects
the level's cost from the bytes per state so far; during it, each worker watches its own share.  Either way
the run stops with verdict ``incomplete`` and a checkpoint of the last complete level.

Backends: ``inline`` (workers in this process: for one worker with checkpoints, and for tests),
``processes`` (the standard library's multiprocessing, fork; worker 0 in this process) and ``ray`` (Ray actors;
optional extra).
This module knows no protocol: workers build their engine and properties with a ``factory``.
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import time
from array import array
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refmodel.checkers.bfs import (
    DEADLOCK,
    FIRED_BY_AID,
    CheckResult,
    Limits,
    Progress,
    Step,
    Violation,
    _config_dict,
    _StateChecker,
    _StepChecker,
    _union_reads,
    count_terminal,
)
from refmodel.model.core import Engine, Sid

#: bits a state's place among its parent's successors takes in a rank key
SUCC_BITS = 20
#: how many keys a worker remembers having sent before it forgets them all (memory: ~100 bytes each)
KNOWN_CAP = 1 << 22
#: how many states a worker handles between looks at its memory
MEMORY_EVERY = 4096
CHECKPOINT_FORMAT = 1
HIGHEST = pickle.HIGHEST_PROTOCOL
BACKENDS = ("processes", "ray", "inline")


class CheckpointError(ValueError):
    """A checkpoint cannot be used (missing, damaged, or of another run); the message says why."""


class BackendUnavailable(RuntimeError):
    """The backend asked for cannot run here (e.g. Ray is not installed); the message says what to do."""


@dataclass
class ParallelOptions:
    workers: int = 2
    backend: str = "processes"
    ray_address: str | None = None
    checkpoint: str | None = None
    checkpoint_every: float = 0.0  # seconds; 0: at every level
    resume: str | None = None
    memory_limit: int | None = None  # bytes, all processes together
    identity: dict[str, Any] = field(default_factory=dict)  # what the run checks (recorded, compared on resume)


def rss_bytes() -> int:
    """This process's resident memory (Linux /proc; 0 where unknown)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class _OverBudget(Exception):
    pass


# ------------------------------------------------------------------------------------------------ worker


class Partition:
    """One worker's share of the search: the states it owns, their parents and actions, its frontier."""

    def __init__(self, factory: Callable[[], tuple[Engine, Sequence[Any]]], index: int, count: int,
                 symmetry: bool, deadlock: bool, memory_share: int | None = None) -> None:
        engine, props = factory()
        if not engine.portable:
            raise ValueError("a partitioned search needs a portable engine")
        self.engine, self.index, self.count = engine, index, count
        self.canonical = engine.canonical if symmetry else None
        self.inv = _StateChecker(engine, [p for p in props if p.kind == "state"])
        self.stepc = _StepChecker(engine, [p for p in props if p.kind == "transition"])
        self.deadlock = deadlock
        # states are owned by the part of them the engine names (route_projector: a part few actions change,
        # so that most successors stay where they are made), else by the part the properties read, so that
        # all states with equal parts meet in one worker and the properties' memos work there as in one
        reads = _union_reads(list(props))
        locality = getattr(engine, "route_projector", None)
        self.route_key = locality(count) if locality is not None else \
            engine.projector(reads) if reads is not None and props else None
        self.k = len(engine.action_names)
        fault_names = set(getattr(engine.system, "fault_actions", ()))
        self.fault_ids = {k for k, name in enumerate(engine.action_names) if name in fault_names}
        self.states: list[Hashable] = []
        self.parent = array("q")  # global id of the parent (-1: initial)
        self.via = array("q")  # action id, in the parent owner's label table
        #: the canonical keys of the states this worker owns (this level's included, as expand and absorb put
        #: them in), and of those it has sent to their owners (a bounded cache: see expand), so that a
        #: successor is looked up once
        #: (a set, with this level's states in new_keys beside it: one dict of key -> index measured slower,
        #: 10.7 s against 9.7 s on raft n3_t2_l1_c1_m1 with two workers, its entries being larger)
        self.known: set[Hashable] = set()
        self.lo = self.hi = 0  # the frontier: states[lo:hi]
        self.frontier: list[int] = []  # the frontier's indices, in rank order
        self.rank: list[int] = []  # their rank keys (see the module docstring), or dense ranks after a renumbering
        self.new_keys: dict[Hashable, int] = {}  # this level's new states: canonical key -> index
        self.new_rank: list[int] = []  # their rank keys (index - hi)
        self.order: list[int] = []  # the new states' offsets in ascending rank-key order
        self.memory_share = memory_share
        self.ckpt_states = 0  # states already in a checkpoint chunk
        self.ckpt_labels = 0
        self.chunks = 0
        # figures for benchmarks/parallel.py: seconds expanding (successors, step checks, routing) and moving
        # (pickling and unpickling batches), states sent to other workers and to this one, states expanded
        self.t_expand = self.t_move = self.t_absorb = 0.0
        # as in the one-worker search (bfs.py): the engine reports the server changes its memoised successors
        # make, so that per-server step properties need no check per successor while nothing is doubtful
        # (the components of the states that this worker's engine did not make, initial states and states from
        # other workers' batches, are judged left alone in advance()/load(), as the one-worker search judges
        # the initial states'); and it leaves out the successors outside the constraint, counting them by
        # action id (not when terminal states are told apart)
        self.watched = self.stepc.watch()
        omitting = getattr(engine, "omitting_successors", None)
        self.successors, self.missing = omitting() if omitting is not None and not deadlock else \
            (engine.successors, None)
        self.missing_before: dict[int, int] = {}  # the left-out counts at the end of the previous expand
        self.foreign: list[int] = []  # this level's states that this worker's engine did not make (see _judge)
        self.level_hi = 0  # where the level being made starts in states (see expand)
        self.routed = self.sent_local = self.expanded = 0

    # --- helpers

    def owner(self, e: Hashable) -> int:
        key = self.canonical(e) if self.canonical else e
        return self.engine.route_hash(self.route_key(key) if self.route_key else key) % self.count

    def gid(self, idx: int) -> int:
        return idx * self.count + self.index

    def _check_memory(self) -> None:
        if self.memory_share is not None and rss_bytes() > self.memory_share:
            raise _OverBudget()

    # --- initial states

    def start(self) -> dict[str, Any]:
        """Take the initial states this worker owns (every worker computes the same list); their rank keys
        are their places in that list."""
        generated = 0
        new_keys: dict[Hashable, int] = {}
        new_rank: list[int] = []
        for r, e in enumerate(self.engine.initial()):
            generated += 1
            if self.owner(e) != self.index:
                continue
            key = self.canonical(e) if self.canonical else e
            if key in new_keys:
                continue
            new_keys[key] = len(self.states)
            self.foreign.append(len(self.states))
            self.known.add(key)
            self.known.add(e)
            self.states.append(e)
            self.parent.append(-1)
            self.via.append(-1)
            new_rank.append(r)
        out = self._finish_level(0, new_keys, new_rank)
        out.update(generated=generated, components=self.engine.export_components())
        return out

    def _finish_level(self, hi: int, new_keys: dict[Hashable, int], new_rank: list[int]) -> dict[str, Any]:
        """Check the state invariants on the level's new states (states[hi:]) in rank order.  (Checking each as
        it comes in, in expand and absorb, measured slower: 11.0 s against 10.6 s on raft n3_t2_l1_c1_m1.)"""
        self.new_keys, self.new_rank = new_keys, new_rank
        self.order = order = sorted(range(len(new_rank)), key=new_rank.__getitem__)
        fired_new = [0] * self.k
        viol = None
        states, via, k = self.states, self.via, self.k
        inv = self.inv
        project, memo = (inv.project, inv.memo) if inv.props else (None, None)
        for m in order:
            idx = hi + m
            if via[idx] >= 0:
                fired_new[via[idx] % k] += 1
            if viol is None and inv.props and (project is None or project(states[idx]) not in memo):
                if (bad := inv.first_violated(states[idx])) is not None:  # (it looks the memo up again)
                    viol = (new_rank[m], 1, "state", bad.name, self.gid(idx))
        return {"over": False, "new": len(new_rank), "action_new": fired_new, "violation": viol,
                "key_bits": new_rank[order[-1]].bit_length() if order else 0, "rss": rss_bytes(),
                "pending": [p.name for p in self.inv.pending + self.stepc.pending]}

    # --- phase 1

    def expand(self) -> dict[str, Any]:
        """Expand the frontier in rank order; successors sorted into one batch per owner (pickled bytes).

        A successor this worker owns and has seen, or has sent before (in this level: the first sending had
        the least rank, the one the owner keeps; in an earlier one: the owner has it since), is not sent."""
        eng, count, canonical, route, me = self.engine, self.count, self.canonical, self.engine.route_hash, self.index
        successors, k, missing, watched = self.successors, self.k, self.missing, self.watched
        stepc = self.stepc
        step_project = stepc.project
        fired = [0] * k
        generated = 0
        terminal = {"deadlock": 0, "cut_by_bounds": 0, "faults_only": 0} if self.deadlock else {"deadlock": 0}
        t_start = time.perf_counter()
        # per other worker: its batch in columns (states, parents, action ids, rank keys; canonical keys)
        out_t: list[list] = [[] for _ in range(count)]
        out_g = [array("q") for _ in range(count)]
        out_a = [array("q") for _ in range(count)]
        out_r: list[list] = [[] for _ in range(count)]
        out_k: list[list] = [[] for _ in range(count)]
        known, route_key = self.known, self.route_key
        known_add = known.add
        pairs = stepc.pairs if stepc.active else None
        memo_steps = pairs is None and stepc.active
        fired_aid: list[int] = []  # counted per action id (folded into fired at the end)
        viol = None  # (rank key, order, kind, property, payload)
        states, rank, fault_ids, deadlock = self.states, self.rank, self.fault_ids, self.deadlock
        # successors this worker owns go straight into the level's new states (what absorb would do with a
        # batch of its own: the first sending has the least rank among them; other workers' batches, taken in
        # by absorb, may still bring a lesser one)
        self.level_hi = len(states)
        new_keys: dict[Hashable, int] = {}
        new_rank: list[int] = []
        self.new_keys, self.new_rank = new_keys, new_rank
        parent_append, via_append, rank_append = self.parent.append, self.via.append, new_rank.append
        states_append = states.append
        budget = MEMORY_EVERY
        try:
            for n, p in enumerate(self.frontier):
                s = states[p]
                base = rank[n] << SUCC_BITS
                if viol is not None and base > viol[0]:
                    break  # nothing further can come first
                succ = successors(s)
                generated += len(succ)
                if len(succ) >> SUCC_BITS:
                    raise OverflowError(f"a state with {len(succ)} successors")
                if not succ and (missing is None or not eng.successors(s)):
                    terminal["deadlock"] += 1
                    if deadlock and (viol is None or base < viol[0]):
                        viol = (base, 0, "deadlock", DEADLOCK.name, self.gid(p))
                elif deadlock:
                    count_terminal(terminal, succ, fault_ids, k)
                g = p * count + me
                # the steps' checks: on the pairs of server components they change, on the memo of projected
                # states, or none (no step property, or a watching engine with nothing doubtful: see __init__)
                pair_steps = pairs is not None and (not watched or bool(stepc.doubtful))
                checking = pair_steps or memo_steps
                if pair_steps:
                    whole = stepc.left_alone(s)
                elif memo_steps:
                    ok_steps = stepc.known_ok(s)
                for j, (aid, t) in enumerate(succ):
                    try:
                        fired_aid[aid] += 1
                    except IndexError:
                        if aid < FIRED_BY_AID:
                            fired_aid.extend([0] * (aid + 256 - len(fired_aid)))
                            fired_aid[aid] += 1
                        else:
                            fired[aid % k] += 1
                    if t is None:
                        continue
                    if checking:
                        if pair_steps:
                            bad, whole = stepc.pair_step(s, t, whole)
                        elif ok_steps is None or step_project(t) not in ok_steps:
                            bad = stepc.first_violated(s, t, ok_steps)
                        else:
                            bad = None
                        if bad is not None:
                            if viol is None or base | j < viol[0]:
                                viol = (base | j, 0, "transition", bad.name, (g, aid, t))
                            continue
                    if t == s or t in known:  # (with symmetry known holds the raw states kept or sent too:
                        continue              # most need no canonical form)
                    if canonical is None:
                        key = t
                    else:
                        key = canonical(t)
                        if key in known:
                            continue
                        known_add(t)
                    known_add(key)
                    o = route(route_key(key) if route_key else key) % count
                    if o == me:
                        new_keys[key] = len(states)
                        states_append(t)
                        parent_append(g)
                        via_append(aid)
                        rank_append(base | j)
                    else:
                        out_t[o].append(t)
                        out_g[o].append(g)
                        out_a[o].append(aid)
                        out_r[o].append(base | j)
                        if canonical is not None:
                            out_k[o].append(key)
                if watched and stepc.doubtful:
                    stepc.settle()
                budget -= 1
                if budget == 0:
                    budget = MEMORY_EVERY
                    self._check_memory()
        except _OverBudget:
            return {"over": True, "rss": rss_bytes()}
        for aid, n in enumerate(fired_aid):
            fired[aid % k] += n
        if missing is not None:  # the successors the engine left out in this level: generated and fired
            now_missing, before = missing(), self.missing_before
            for aid, n in now_missing.items():
                if d := n - before.get(aid, 0):
                    generated += d
                    fired[aid % k] += d
            self.missing_before = now_missing
        if len(known) > KNOWN_CAP + 2 * len(states):  # a cache: forgetting only means sending some states again
            self._rebuild_known()
        t_pack = time.perf_counter()
        batches: list[bytes | None] = [
            None if o == me else pickle.dumps((out_t[o], out_g[o], out_a[o], out_r[o], out_k[o]), protocol=HIGHEST)
            for o in range(count)]
        now = time.perf_counter()
        self.t_move += now - t_pack
        self.t_expand += t_pack - t_start
        self.routed += sum(len(out_t[o]) for o in range(count) if o != me)
        self.sent_local += len(new_rank)
        self.expanded += len(self.frontier)
        return {"over": False, "generated": generated, "fired": fired, "terminal": terminal, "violation": viol,
                "batches": batches, "components": eng.export_components(), "rss": rss_bytes(),
                "took": time.perf_counter() - t_start}

    def _rebuild_known(self) -> None:
        """Forget what was sent: known holds the keys (and, with symmetry, the raw states) of the states owned."""
        canonical = self.canonical
        self.known = set(self.states)
        if canonical is not None:
            self.known.update(canonical(e) for e in self.states)

    # --- phase 2

    def absorb(self, batches: Sequence[bytes | None], components: Sequence[Any]) -> dict[str, Any]:
        """Keep the new states among the batches addressed here; check the state invariants on them."""
        t_start = time.perf_counter()
        eng = self.engine
        for payload in components:
            if payload is not None:
                eng.import_components(payload)
        known = self.known
        states, parent, via = self.states, self.parent, self.via
        new_keys, new_rank, hi = self.new_keys, self.new_rank, self.level_hi  # (expand put its own ones there)
        budget = MEMORY_EVERY
        try:
            for blob in batches:
                if blob is None:  # this worker's own successors: already in (see expand)
                    continue
                t0 = time.perf_counter()
                ts, gs, aids, rs, keys = pickle.loads(blob)
                self.t_move += time.perf_counter() - t0
                for n, t in enumerate(ts):
                    key = keys[n] if keys else t
                    idx = new_keys.get(key)
                    if idx is None:
                        if key in known:
                            continue
                        self.foreign.append(len(states))
                        new_keys[key] = len(states)
                        known.add(key)
                        states.append(t)
                        parent.append(gs[n])
                        via.append(aids[n])
                        new_rank.append(rs[n])
                        budget -= 1
                        if budget == 0:
                            budget = MEMORY_EVERY
                            self._check_memory()
                    elif rs[n] < new_rank[idx - hi]:  # reached earlier in one worker's order: that way wins
                        states[idx], parent[idx], via[idx], new_rank[idx - hi] = t, gs[n], aids[n], rs[n]
                        self.foreign.append(idx)  # (with symmetry, t may hold other components)
        except _OverBudget:
            self._truncate(hi)
            return {"over": True, "rss": rss_bytes()}
        out = self._finish_level(hi, new_keys, new_rank)
        out["took"] = took = time.perf_counter() - t_start
        self.t_absorb += took
        return out

    def recount(self, vkey: int, kind: str, initial: bool) -> dict[str, Any]:
        """The level's figures up to the violation of rank key ``vkey``, as one worker counts them when it
        stops there: the parents before the violating one in full, the violating one's successors up to
        the violating step, and the new states met before it (with it, for a state violation)."""
        k = self.k
        fired, generated, action_new, new = [0] * k, 0, [0] * k, 0
        terminal = {"deadlock": 0, "cut_by_bounds": 0, "faults_only": 0} if self.deadlock else {"deadlock": 0}
        hi = len(self.states) - len(self.new_rank)
        for m, r in enumerate(self.new_rank):
            if r < vkey or (r == vkey and kind == "state"):
                new += 1
                if self.via[hi + m] >= 0:
                    action_new[self.via[hi + m] % k] += 1
        if not initial:
            vrank, vj = vkey >> SUCC_BITS, vkey & ((1 << SUCC_BITS) - 1)
            for n, p in enumerate(self.frontier):
                if self.rank[n] > vrank:
                    break
                succ = self.engine.successors(self.states[p])
                generated += len(succ)
                last = self.rank[n] == vrank
                if not succ:
                    terminal["deadlock"] += 1
                elif self.deadlock:
                    count_terminal(terminal, succ, self.fault_ids, k)
                if self.missing is None:
                    for j, (aid, _) in enumerate(succ):
                        if last and j > vj:
                            break
                        fired[aid % k] += 1
                else:  # expand numbered only the successors that exist: vj counts those
                    j = -1
                    for aid, t in succ:
                        if last and j == vj:
                            break
                        fired[aid % k] += 1
                        if t is not None:
                            j += 1
        return {"generated": generated, "fired": fired, "terminal": terminal, "new": new, "action_new": action_new}

    def expand_ray(self) -> tuple:
        """:meth:`expand` for Ray: the report, then each batch as an object of its own, so that it travels
        from this actor to its owner through Ray's object store, not through the coordinator."""
        res = self.expand()
        batches = res.pop("batches", None) or [None] * self.count
        return (res, *batches)

    def absorb_ray(self, refs: Sequence[Any], components: Sequence[Any]) -> dict[str, Any]:
        import ray

        return self.absorb(ray.get(list(refs)), components)

    def _truncate(self, hi: int) -> None:
        del self.states[hi:]
        del self.parent[hi:]
        del self.via[hi:]
        self.new_keys, self.new_rank, self.foreign = {}, [], []

    def rollback(self) -> None:
        """Forget the level being made (the memory budget ran out); what this worker sent in it is forgotten
        too, since its owners forget it."""
        self._truncate(self.hi)
        self._rebuild_known()

    def advance(self, ranks: Sequence[int] | None = None) -> None:
        """The level is complete: its new states become the frontier, in rank order, with their rank keys (or
        ``ranks``, their dense ranks from the coordinator, when it renumbers: see _check_partitioned)."""
        hi = self.hi
        self.frontier = [hi + m for m in self.order]
        self.lo, self.hi = hi, len(self.states)
        new_rank = self.new_rank
        self.rank = list(ranks) if ranks is not None else [new_rank[m] for m in self.order]
        self.new_keys, self.new_rank = {}, []
        self._judge(self.foreign)
        self.foreign = []

    def keys(self) -> list[int]:
        """This level's rank keys, ascending (for the coordinator's renumbering)."""
        return [self.new_rank[m] for m in self.order]

    def _judge(self, indices: Sequence[int]) -> None:
        """Watched steps: the server components of the states at ``indices`` (states this worker's engine did
        not make) judged left alone by a step (``_StepChecker.judge_state``).  The states it made hold no other
        components than those its engine reported when it made them, or their parents held (as in the one-worker
        search).  (Judging every component the engine knows instead, as before, also judged those made only for
        successors outside the constraint, which no step takes: their pairs stayed doubtful, and every step was
        checked on its pairs for the whole run.)"""
        if self.watched:
            judge, states = self.stepc.judge_state, self.states
            for i in indices:
                judge(states[i])

    # --- counterexamples

    def entry(self, idx: int) -> tuple[Hashable, int, int]:
        return self.states[idx], self.parent[idx], self.via[idx]

    def label(self, aid: int) -> Any:
        return self.engine.label(aid)

    # --- checkpoints

    def write_chunk(self, directory: str) -> dict[str, Any]:
        """Write the states added since the last chunk (and the frontier's ranks) to a new chunk file."""
        a = self.ckpt_states
        labels = self.engine.labels()
        data = {"states": self.states[a:], "parent": self.parent[a:], "via": self.via[a:],
                "labels": labels[self.ckpt_labels:], "lo": self.lo, "hi": self.hi, "rank": self.rank,
                "frontier": self.frontier,
                "first": a}
        name = f"w{self.index}-c{self.chunks}.pkl"
        path = Path(directory) / name
        with open(path, "wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        return {"name": name, "states": len(self.states), "labels": len(labels)}

    def chunk_written(self, info: dict[str, Any]) -> None:
        self.ckpt_states, self.ckpt_labels = info["states"], info["labels"]
        self.chunks += 1

    def load(self, directory: str, chunks: Sequence[str], components: Sequence[Any]) -> str | int:
        """Rebuild this worker's share from its chunk files (a resumed run): the number of states it owns, or
        what is wrong with a chunk (a string, which the coordinator raises as a CheckpointError: an exception
        would cross the process or Ray boundary as another type, with a traceback)."""
        for payload in components:
            if payload is not None:
                self.engine.import_components(payload)
        labels: list[Any] = []
        last = None
        for name in chunks:
            where = f"{directory}/{name}"
            try:
                with open(Path(directory) / name, "rb") as f:
                    data = pickle.load(f)
                first, columns = data["first"], (data["states"], data["parent"], data["via"], data["labels"])
                last = data["lo"], data["hi"], data["rank"], data["frontier"]
            except FileNotFoundError:
                return f"{where}: missing (the manifest names it)"
            except (OSError, pickle.UnpicklingError, EOFError, ValueError, KeyError, TypeError, AttributeError,
                    IndexError) as exc:
                return f"{where}: damaged or unreadable chunk ({type(exc).__name__}: {exc})"
            if first != len(self.states):
                return f"{where}: chunk does not follow the previous one (it starts at state {first})"
            self.states.extend(columns[0])
            self.parent.extend(columns[1])
            self.via.extend(columns[2])
            labels.extend(columns[3])
        self.engine.restore_labels(labels)
        self._rebuild_known()
        if last is not None:
            self.lo, self.hi, self.rank, self.frontier = last
            self._judge(self.frontier)
        self.ckpt_states, self.ckpt_labels, self.chunks = len(self.states), len(labels), len(chunks)
        self.engine.export_components()  # what came from the checkpoint is known everywhere already
        return len(self.states)

    def stats(self) -> dict[str, int]:
        return dict(self.engine.stats(), owned_states=len(self.states), expand_us=int(self.t_expand * 1e6),
                    move_us=int(self.t_move * 1e6), absorb_us=int(self.t_absorb * 1e6), routed=self.routed, sent_local=self.sent_local,
                    expanded=self.expanded)

    def rss(self) -> int:
        return rss_bytes()

    def pid(self) -> int:
        return os.getpid()


# ----------------------------------------------------------------------------------------------- backends


class _Inline:
    """Workers as objects in this process."""

    name = "inline"

    def __init__(self, factory: Callable, count: int, symmetry: bool, deadlock: bool,
                 memory_share: int | None) -> None:
        self.parts = [Partition(factory, w, count, symmetry, deadlock, memory_share) for w in range(count)]
        self.in_process = count  # workers in this process (the first ones): all

    def call(self, method: str, args_per_worker: Sequence[tuple] | None = None) -> list[Any]:
        return [getattr(p, method)(*(args_per_worker[w] if args_per_worker else ())) for w, p in enumerate(self.parts)]

    def call_one(self, w: int, method: str, *args: Any) -> Any:
        return getattr(self.parts[w], method)(*args)

    def expand(self) -> tuple[list[dict[str, Any]], list[Any]]:
        return _expand_relayed(self)

    def absorb(self, batches: list[Any], components: list[Any]) -> list[dict[str, Any]]:
        return _absorb_relayed(self, batches, components)

    def close(self) -> None:
        self.parts = []


def _serve(conn: Any, factory: Callable, index: int, count: int, symmetry: bool, deadlock: bool,
           memory_share: int | None) -> None:
    """A worker process: build the partition, then answer (method, args) requests until told to stop."""
    import gc

    gc.disable()  # the search makes no reference cycles
    try:
        part = Partition(factory, index, count, symmetry, deadlock, memory_share)
        conn.send(("ok", None))
    except BaseException as exc:  # report instead of dying silently
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    while True:
        try:
            method, args = conn.recv()
        except EOFError:
            return
        if method == "stop":  # exit at once: freeing the share (millions of objects) takes the coordinator's
            conn.close()       # wait in close() (0.24 s on raft n3_t2_l1_c1_m1), and nothing is left to write
            os._exit(0)
        try:
            conn.send(("ok", getattr(part, method)(*args)))
        except BaseException as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class _Processes:
    """Workers as processes of the standard library's multiprocessing (fork: they inherit the model); worker 0
    is this process, so that N workers take N processes, and batches to and from worker 0 cross one pipe (the
    coordinator relays those between two other workers: two pipes)."""

    name = "processes"
    in_process = 1  # workers in this process (the first ones): worker 0

    def __init__(self, factory: Callable, count: int, symmetry: bool, deadlock: bool,
                 memory_share: int | None) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        self.conns, self.procs = [], []
        for w in range(1, count):
            here, there = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(there, factory, w, count, symmetry, deadlock, memory_share),
                               daemon=True)
            proc.start()
            there.close()
            self.conns.append(here)
            self.procs.append(proc)
        # worker 0 watches this whole process: its share plus what the coordinator holds already
        self.local = Partition(factory, 0, count, symmetry, deadlock,
                               None if memory_share is None else memory_share + rss_bytes())
        for w in range(1, count):
            self._result(w)

    def _result(self, w: int) -> Any:
        try:
            status, value = self.conns[w - 1].recv()
        except EOFError:
            code = self.procs[w - 1].exitcode
            raise RuntimeError(f"worker {w} died (exit code {code}; out of memory?)") from None
        if status == "error":
            raise RuntimeError(f"worker {w}: {value}")
        return value

    def call(self, method: str, args_per_worker: Sequence[tuple] | None = None) -> list[Any]:
        for w, conn in enumerate(self.conns, 1):
            conn.send((method, args_per_worker[w] if args_per_worker else ()))
        try:
            mine = getattr(self.local, method)(*(args_per_worker[0] if args_per_worker else ()))
        except BaseException:
            for w in range(1, len(self.conns) + 1):  # take the others' replies, so that they can stop
                try:
                    self._result(w)
                except RuntimeError:
                    pass
            raise
        return [mine] + [self._result(w) for w in range(1, len(self.conns) + 1)]

    def call_one(self, w: int, method: str, *args: Any) -> Any:
        if w == 0:
            return getattr(self.local, method)(*args)
        self.conns[w - 1].send((method, args))
        return self._result(w)

    def expand(self) -> tuple[list[dict[str, Any]], list[Any]]:
        return _expand_relayed(self)

    def absorb(self, batches: list[Any], components: list[Any]) -> list[dict[str, Any]]:
        return _absorb_relayed(self, batches, components)

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(("stop", ()))
            except (OSError, BrokenPipeError):
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)


class _Ray:
    """Workers as Ray actors (a local Ray instance, or the cluster at ``address``)."""

    name = "ray"
    in_process = 0

    def __init__(self, factory: Callable, count: int, symmetry: bool, deadlock: bool,
                 memory_share: int | None, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise BackendUnavailable("the ray backend needs Ray: pip install 'consensus-refmodel[ray]' "
                                     "(or pip install ray)") from None
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"address": address} if address else {
                "num_cpus": max(count, os.cpu_count() or 1), "include_dashboard": False}
            ray.init(logging_level="ERROR", log_to_driver=False, **kwargs)
            self.started = True
        actor = ray.remote(num_cpus=0)(Partition)
        self.actors = [actor.remote(factory, w, count, symmetry, deadlock, memory_share) for w in range(count)]

    def call(self, method: str, args_per_worker: Sequence[tuple] | None = None) -> list[Any]:
        refs = [getattr(a, method).remote(*(args_per_worker[w] if args_per_worker else ()))
                for w, a in enumerate(self.actors)]
        return self.ray.get(refs)

    def call_one(self, w: int, method: str, *args: Any) -> Any:
        return self.ray.get(getattr(self.actors[w], method).remote(*args))

    def expand(self) -> tuple[list[dict[str, Any]], list[Any]]:
        count = len(self.actors)
        refs = [a.expand_ray.options(num_returns=count + 1).remote() for a in self.actors]
        return self.ray.get([r[0] for r in refs]), [r[1:] for r in refs]

    def absorb(self, batches: list[Any], components: list[Any]) -> list[dict[str, Any]]:
        count = len(self.actors)
        return self.ray.get([a.absorb_ray.remote([batches[src][dst] for src in range(count)], components)
                             for dst, a in enumerate(self.actors)])

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []
        if self.started:
            self.ray.shutdown()


def _expand_relayed(backend: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    """Expand everywhere; the batches come back here, to be handed on to their owners."""
    res = backend.call("expand")
    return res, [r.pop("batches", None) for r in res]


def _absorb_relayed(backend: Any, batches: list[Any], components: list[Any]) -> list[dict[str, Any]]:
    count = len(batches)
    incoming = [([batches[src][dst] for src in range(count)], components) for dst in range(count)]
    batches.clear()
    return backend.call("absorb", incoming)


def _backend(opts: ParallelOptions, factory: Callable, symmetry: bool, deadlock: bool) -> Any:
    share = None if opts.memory_limit is None else max(1, (opts.memory_limit - rss_bytes()) // max(1, opts.workers))
    if opts.backend == "inline":  # the workers share this process: each watches the whole of it
        return _Inline(factory, opts.workers, symmetry, deadlock, opts.memory_limit)
    if opts.backend == "processes":
        return _Processes(factory, opts.workers, symmetry, deadlock, share)
    if opts.backend == "ray":
        return _Ray(factory, opts.workers, symmetry, deadlock, share, opts.ray_address)
    raise ValueError(f"unknown backend '{opts.backend}' (known: {', '.join(BACKENDS)})")


# ------------------------------------------------------------------------------------------- coordinator


#: rank keys grow by SUCC_BITS a level; past this many bits the coordinator renumbers them densely
RENUMBER_BITS = 512


def _advance(backend: Any, replies: Sequence[dict[str, Any]], workers: int) -> float:
    """Make the level's new states the frontier everywhere.  Rank keys are paths (a parent's key, then the
    place among its successors), comparable across workers without help; when they grow long, the
    coordinator replaces them by dense ranks (the seconds it spends on that alone are returned)."""
    if max(r["key_bits"] for r in replies) <= RENUMBER_BITS:
        backend.call("advance")
        return 0.0
    keys = backend.call("keys")
    t_c = time.perf_counter()
    ranks = _dense(keys)
    spent = time.perf_counter() - t_c
    backend.call("advance", [(ranks[w],) for w in range(workers)])
    return spent


def _dense(keys_per_worker: Sequence[Sequence[int]]) -> list[list[int]]:
    """Dense ranks (0, 1, 2 ...) of every worker's rank keys (each list ascending, keys distinct) in the merged
    order: one sort of the keys tagged with their worker (Timsort merges the sorted runs)."""
    bits = max(1, (len(keys_per_worker) - 1).bit_length())
    tagged = sorted(itertools.chain.from_iterable(((k << bits) | w for k in keys)
                                                  for w, keys in enumerate(keys_per_worker)))
    out: list[list[int]] = [[] for _ in keys_per_worker]
    appends = [o.append for o in out]
    mask = (1 << bits) - 1
    for r, x in enumerate(tagged):
        appends[x & mask](r)
    return out


def check_partitioned(factory: Callable[[], tuple[Engine, Sequence[Any]]], properties: Sequence[Any],
                      opts: ParallelOptions, *, symmetry: bool = False, limits: Limits = Limits(),
                      deadlock: bool = False, progress: Callable[[Progress], None] | None = None,
                      progress_every: float = 1.0) -> CheckResult:
    """Explore breadth-first over ``opts.workers`` workers (see the module docstring).

    ``factory()`` builds a portable engine and the properties to check, in each worker and once here (for
    counterexamples); ``properties`` are the same properties, for the result's record."""
    import gc

    gc_was_enabled = gc.isenabled()
    gc.disable()  # the search makes no reference cycles (inline workers run in this process)
    try:
        return _check_partitioned(factory, properties, opts, symmetry, limits, deadlock, progress, progress_every)
    finally:
        if gc_was_enabled:
            gc.enable()


def _check_partitioned(factory: Callable[[], tuple[Engine, Sequence[Any]]], properties: Sequence[Any],
                       opts: ParallelOptions, symmetry: bool, limits: Limits, deadlock: bool,
                       progress: Callable[[Progress], None] | None, progress_every: float) -> CheckResult:
    t0 = time.perf_counter()
    engine, _ = factory()
    system = engine.system
    names = list(engine.action_names)
    k = len(names)
    by_name = {p.name: p for p in properties}
    by_name[DEADLOCK.name] = DEADLOCK
    identity = dict(opts.identity, workers=opts.workers)
    fired, new_by = [0] * k, [0] * k
    terminal = {"deadlock": 0, "cut_by_bounds": 0, "faults_only": 0} if deadlock else {"deadlock": 0}
    levels: list[int] = []
    generated = 0
    pending: set[str] | None = None
    manifest: dict[str, Any] | None = None
    chunks: list[list[str]] = [[] for _ in range(opts.workers)]
    comp_files: list[str] = []
    components_log: list[Any] = []  # every components payload not yet in a checkpoint
    # every components payload, for this process's engine: imported only if a counterexample is to be rebuilt
    # (importing checks each component's hash, serial work while the workers wait)
    unimported: list[Any] = []
    if opts.resume:
        manifest = read_manifest(opts.resume, identity)
    ckpt_dir = opts.checkpoint or opts.resume
    if opts.memory_limit is not None and ckpt_dir is None:
        ckpt_dir = "refmodel-checkpoint"
    if ckpt_dir:
        _checkpoint_dir(ckpt_dir, fresh=manifest is None)
    backend = _backend(opts, factory, symmetry, deadlock)
    verdict, reason, viol = "pass", None, None
    last_ckpt = time.perf_counter()
    rss_seen = rss_base = 0
    next_report = t0 + progress_every
    t_coord = 0.0  # seconds the coordinator spends on its own (ranks), while the workers wait
    # the phases' seconds on this clock, and the sums over phases of the slowest worker's and the mean worker's
    # own seconds in them (for benchmarks/parallel.py: imbalance = slowest - mean, pipes = phases - slowest)
    t_phases = t_slowest = t_mean = 0.0
    try:
        if manifest is not None:
            loaded = _load_components(opts.resume, manifest["components"])  # type: ignore[arg-type]
            unimported.extend(loaded)
            chunks = manifest["chunks"]
            comp_files = list(manifest["components"])
            for reply in backend.call("load", [(opts.resume, chunks[w], loaded) for w in range(opts.workers)]):
                if isinstance(reply, str):
                    raise CheckpointError(reply)
            st = manifest["stats"]
            levels, generated, fired, new_by = st["levels"], st["generated"], st["fired"], st["new_by"]
            terminal, pending = st["terminal"], set(st["pending"]) if st["pending"] is not None else None
            frontier = st["frontier"]
        else:
            res = backend.call("start")
            pending = _pending(None, res)
            generated = res[0]["generated"]
            frontier = sum(r["new"] for r in res)
            levels.append(frontier)
            comps = [r["components"] for r in res]
            components_log.extend(comps)
            unimported.extend(comps)
            viol = _first([r["violation"] for r in res])
            if viol is not None:  # one worker stops at the first initial state that violates
                rc = backend.call("recount", [(viol[0], viol[2], True)] * opts.workers)
                levels[-1] = sum(r["new"] for r in rc)
                generated = viol[0] + 1
            _advance(backend, res, opts.workers)
        depth = len(levels) - 1
        rss_base = _total_rss(backend)
        while viol is None and frontier:
            if limits.max_depth is not None and depth >= limits.max_depth:
                verdict, reason = "incomplete", f"depth limit {limits.max_depth} reached"
                break
            now = time.perf_counter()
            if limits.time_limit is not None and now - t0 >= limits.time_limit:
                verdict, reason = "incomplete", f"time limit {limits.time_limit:g}s reached"
                break
            if limits.max_states is not None and sum(levels) >= limits.max_states:
                verdict, reason = "incomplete", f"state limit {limits.max_states} reached"
                break
            if opts.memory_limit is not None and len(levels) >= 2 and rss_seen:
                # the next level, priced at the bytes each state has cost so far above the start-up size
                per_state = max(0, rss_seen - rss_base) / max(1, sum(levels))
                growth = levels[-1] / max(1, levels[-2])
                if rss_seen + per_state * levels[-1] * max(1.0, growth) > opts.memory_limit:
                    verdict, reason = "incomplete", _memory_reason(opts.memory_limit, rss_seen)
                    break
            t_ph = time.perf_counter()
            exp, batches = backend.expand()
            t_phases += time.perf_counter() - t_ph
            if any(r["over"] for r in exp):
                backend.call("rollback")
                verdict, reason = "incomplete", _memory_reason(opts.memory_limit, max(r["rss"] for r in exp))
                break
            comps = [r["components"] for r in exp]
            unimported.extend(comps)
            t_ph = time.perf_counter()
            ab = backend.absorb(batches, comps)
            t_phases += time.perf_counter() - t_ph
            del batches
            for replies in (exp, ab):
                took = [r.get("took", 0.0) for r in replies]
                t_slowest += max(took)
                t_mean += sum(took) / len(took)
            if any(r["over"] for r in ab):
                backend.call("rollback")
                verdict, reason = "incomplete", _memory_reason(opts.memory_limit, max(r["rss"] for r in ab))
                break
            components_log.extend(comps)
            viol = _first([r["violation"] for r in exp] + [r["violation"] for r in ab])
            if viol is not None:  # the figures one worker has when it stops at this violation
                rc = backend.call("recount", [(viol[0], viol[2], False)] * opts.workers)
                for r, e in zip(rc, exp):
                    e.update(generated=r["generated"], fired=r["fired"], terminal=r["terminal"])
                for r, a in zip(rc, ab):
                    a.update(new=r["new"], action_new=r["action_new"])
            for r in exp:
                generated += r["generated"]
                for a in range(k):
                    fired[a] += r["fired"][a]
                for kind, n in r["terminal"].items():
                    terminal[kind] = terminal.get(kind, 0) + n
            new = sum(r["new"] for r in ab)
            for r in ab:
                for a in range(k):
                    new_by[a] += r["action_new"][a]
            pending = _pending(pending, ab)
            t_coord += _advance(backend, ab, opts.workers)
            rss_seen = _total_rss(backend, [r["rss"] for r in ab])
            if new:
                levels.append(new)
            frontier = new
            depth = len(levels) - 1
            if progress is not None and time.perf_counter() >= next_report:
                next_report = time.perf_counter() + progress_every
                progress(Progress(sum(levels), generated, new, depth, time.perf_counter() - t0))
            if ckpt_dir and opts.checkpoint and viol is None and (
                    time.perf_counter() - last_ckpt >= opts.checkpoint_every):
                _write_checkpoint(backend, ckpt_dir, identity, chunks, comp_files, components_log, levels,
                                  generated, fired, new_by, terminal, pending, frontier)
                components_log = []
                last_ckpt = time.perf_counter()
        if verdict == "incomplete" and ckpt_dir and reason and reason.startswith("memory"):
            _write_checkpoint(backend, ckpt_dir, identity, chunks, comp_files, components_log, levels, generated,
                              fired, new_by, terminal, pending, frontier)
            reason += f"; checkpoint in {ckpt_dir} (resume with --resume {ckpt_dir} and a larger limit)"
        found = None
        if viol is not None:
            for payload in unimported:
                engine.import_components(payload)
            found = _rebuild(backend, engine, by_name, viol, opts.workers)
        stats = backend.call("stats")
    finally:
        backend.close()
    if found is not None:
        verdict = "deadlock" if found.invariant == DEADLOCK.name else "violation"
    engine_stats: dict[str, int] = {}
    summed = ("expand_us", "move_us", "absorb_us", "routed", "sent_local", "expanded")
    for st in stats:
        for key, n in st.items():
            if key in summed:
                engine_stats[key] = engine_stats.get(key, 0) + n
            elif key != "owned_states":
                engine_stats[key] = max(engine_stats.get(key, 0), n)
    owned = [st.get("owned_states", 0) for st in stats]
    engine_stats.update(workers=opts.workers, owned_min=min(owned), owned_max=max(owned),
                        coordinator_us=int(t_coord * 1e6), phases_us=int(t_phases * 1e6),
                        slowest_us=int(t_slowest * 1e6), mean_us=int(t_mean * 1e6))
    vacuous = {}
    if found is None and pending:
        vacuous = {p.name: p.antecedent_doc for p in properties if p.name in pending and p.antecedent is not None}
    return CheckResult(
        verdict=verdict, protocol=system.protocol, config=_config_dict(system.config),
        mutant=getattr(system, "mutant", None), symmetry=symmetry, invariants=[p.name for p in properties],
        distinct_states=sum(levels), generated_states=generated, depth=len(levels) - 1,
        elapsed_s=time.perf_counter() - t0, levels=levels, action_fired=dict(zip(names, fired)),
        action_new=dict(zip(names, new_by)), violation=found, incomplete_reason=reason, engine_stats=engine_stats,
        terminal=terminal, vacuous=vacuous)


def _total_rss(backend: Any, worker_rss: Sequence[int] | None = None) -> int:
    """The resident memory of the run: the workers' and this process's (once for the workers in it, the first
    ``backend.in_process``)."""
    if worker_rss is None:
        worker_rss = backend.call("rss")
    return sum(worker_rss[backend.in_process:]) + rss_bytes()


def _memory_reason(limit: int | None, rss: int) -> str:
    return f"memory limit {(limit or 0) / 2**30:.2f} GB would be exceeded (at {rss / 2**30:.2f} GB)"


def _pending(pending: set[str] | None, replies: Sequence[dict[str, Any]]) -> set[str]:
    """Properties whose antecedent has held in no worker yet."""
    now = set(replies[0]["pending"])
    for r in replies[1:]:
        now &= set(r["pending"])
    return now if pending is None else pending & now


def _first(candidates: Sequence[Any]) -> Any:
    """The violation one worker would have met first: least rank key, a step before the state it reaches."""
    found = [c for c in candidates if c is not None]
    return min(found, key=lambda c: (c[0], c[1])) if found else None


def _rebuild(backend: Any, engine: Engine, by_name: dict[str, Any], viol: tuple, count: int) -> Violation:
    """The counterexample to ``viol``, followed back through the owners' parent pointers."""
    _, _, kind, name, payload = viol
    prop = by_name[name]
    edge = None
    if kind == "transition":
        g, aid, t = payload
        edge = (g % count, aid, t)
    else:
        g = payload
    chain = []  # (encoded state, label or None), from the end back to an initial state
    while g >= 0:
        w, idx = g % count, g // count
        e, pg, aid = backend.call_one(w, "entry", idx)
        lab = None if pg < 0 else backend.call_one(pg % count, "label", aid)
        chain.append((e, lab))
        g = pg
    chain.reverse()
    system = engine.system
    steps = []
    for e, lab in chain:
        raw = engine.decode(e)
        steps.append(Step(lab, system.render(raw), raw))
    if edge is not None:
        w, aid, t = edge
        raw = engine.decode(t)
        steps.append(Step(backend.call_one(w, "label", aid), system.render(raw), raw))
    cfg = system.config
    verdict = (prop.fn(cfg, steps[-1].raw) if prop.kind == "state" else prop.fn(cfg, steps[-2].raw, steps[-1].raw))
    why, servers = getattr(verdict, "why", ""), list(getattr(verdict, "servers", []))
    if not servers and steps[-1].action is not None:
        servers = sorted({str(v) for _, v in steps[-1].action.params if isinstance(v, Sid)})
    return Violation(invariant=prop.name, kind=prop.kind, doc=prop.doc, trace=steps, why=why, servers=servers)


# ---------------------------------------------------------------------------------------------- checkpoints


def _write_checkpoint(backend: Any, directory: str, identity: dict[str, Any], chunks: list[list[str]],
                      comp_files: list[str], components_log: list[Any], levels: list[int], generated: int,
                      fired: list[int], new_by: list[int], terminal: dict[str, int], pending: set[str] | None,
                      frontier: int) -> None:
    """Append one chunk per worker and one components file, then replace the manifest (atomically)."""
    d = Path(directory)
    name = f"components-{len(comp_files)}.pkl"
    with open(d / name, "wb") as f:
        pickle.dump(components_log, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    infos = backend.call("write_chunk", [(directory,)] * len(chunks))
    for w, info in enumerate(infos):
        if not (d / info["name"]).is_file():  # a Ray actor on another machine wrote it to its own disk
            raise CheckpointError(f"{directory}/{info['name']}: worker {w} wrote its chunk where this machine "
                                  "does not see it; on a cluster of several machines, --checkpoint needs a "
                                  "directory every node shares, at the same path")
    new_chunks = [c + [info["name"]] for c, info in zip(chunks, infos)]
    manifest = {"format": CHECKPOINT_FORMAT, "identity": identity, "chunks": new_chunks,
                "components": comp_files + [name],
                "stats": {"levels": levels, "generated": generated, "fired": fired, "new_by": new_by,
                          "terminal": terminal, "pending": None if pending is None else sorted(pending),
                          "frontier": frontier},
                "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tmp = d / "manifest.json.tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, d / "manifest.json")
    backend.call("chunk_written", [(info,) for info in infos])
    chunks[:] = new_chunks
    comp_files.append(name)


def _checkpoint_dir(directory: str, fresh: bool) -> None:
    """Make the checkpoint directory; a fresh run does not write over another run's checkpoint (it would
    replace its chunks before its manifest, and lose that run's work)."""
    path = Path(directory)
    if fresh and (path / "manifest.json").exists():
        try:
            old = json.loads((path / "manifest.json").read_text())
            what = f" of {old['identity']['protocol']} {old['identity']['config']}, written {old['written']}"
        except (OSError, ValueError, KeyError, TypeError):
            what = ""
        raise CheckpointError(f"{directory} already holds a checkpoint{what}: --resume {directory} continues "
                              "it; to start over, remove it or name another directory")
    if path.exists() and not path.is_dir():
        raise CheckpointError(f"{directory}: not a directory (a checkpoint is a directory of files)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CheckpointError(f"{directory}: cannot write a checkpoint there ({exc.strerror or exc})") from None


def read_manifest(directory: str, identity: dict[str, Any]) -> dict[str, Any]:
    """The manifest of the checkpoint in ``directory``, checked against the run about to resume."""
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        raise CheckpointError(f"{directory}: no checkpoint here (no manifest.json)")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: unreadable manifest ({exc})") from None
    if manifest.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {manifest.get('format')}, this version reads "
                              f"{CHECKPOINT_FORMAT}")
    lacking = [key for key in ("identity", "chunks", "components", "stats") if key not in manifest]
    if lacking:
        raise CheckpointError(f"{path}: damaged manifest (no '{lacking[0]}')")
    theirs = manifest.get("identity", {})
    for key in sorted(set(theirs) | set(identity)):
        if json.dumps(theirs.get(key), sort_keys=True) != json.dumps(identity.get(key), sort_keys=True):
            raise CheckpointError(f"{directory}: the checkpoint belongs to another run: {key} was "
                                  f"{theirs.get(key)!r}, now {identity.get(key)!r}")
    return manifest


def _load_components(directory: str, names: Sequence[str]) -> list[Any]:
    out: list[Any] = []
    for name in names:
        try:
            with open(Path(directory) / name, "rb") as f:
                out.extend(pickle.load(f))
        except (OSError, pickle.UnpicklingError, EOFError) as exc:
            raise CheckpointError(f"{directory}/{name}: {exc}") from None
    return out
