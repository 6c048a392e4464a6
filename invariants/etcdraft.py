"""etcdraft.tla's correctness invariants, the eight MCetcdraft.cfg checks, over
:class:`model.etcdraft.state.EtcdState`.

Each predicate carries the spec's own name (``LogInv`` ... ``CommittedIsDurableInv``), so
``refmodel check etcdraft --invariant LogInv`` names the same property TLC checks.  "Committed(i)" is the
spec's ``SubSeq(log[i], 1, commitIndex[i])``; servers are 1..N.
"""

from __future__ import annotations

from refmodel.invariants import Fail, invariant
from refmodel.model.etcdraft.config import EtcdRaftConfig
from refmodel.model.etcdraft.state import LEADER, EtcdState, Log, last_term

# ruff: noqa: N802 - the spec's names


def _committed(sv) -> Log:  # noqa: ANN001
    return sv.log[:sv.commitIndex]


def _is_prefix(a: Log, b: Log) -> bool:
    return len(a) <= len(b) and b[:len(a)] == a


def some_leader(cfg: EtcdRaftConfig, s: EtcdState) -> bool:
    """some server is Leader"""
    return any(sv.state == LEADER for sv in s.servers)


@invariant("etcdraft", reads={"servers"})
def LogInv(cfg: EtcdRaftConfig, s: EtcdState) -> bool:
    """LogInv: of any two servers' committed prefixes, one is a prefix of the other."""
    for a, x in enumerate(s.servers, 1):
        for b, y in enumerate(s.servers, 1):
            if a < b:
                cx, cy = _committed(x), _committed(y)
                if not (_is_prefix(cx, cy) or _is_prefix(cy, cx)):
                    return Fail(f"the committed prefixes of {a} and {b} diverge", [a, b])
    return True


@invariant("etcdraft", reads={"servers"}, antecedent=some_leader)
def MoreThanOneLeaderInv(cfg: EtcdRaftConfig, s: EtcdState) -> bool:
    """MoreThanOneLeaderInv: no two servers are Leader in the same term at once."""
    seen: dict[int, int] = {}
    for i, sv in enumerate(s.servers, 1):
        if sv.state == LEADER:
            other = seen.setdefault(sv.currentTerm, i)
            if other != i:
                return Fail(f"{other} and {i} are both Leader in term {sv.currentTerm}", [other, i])
    return True


def _max_index_of_term(log: Log, term: int) -> int:
    """MaxOrZero({n \\in DOMAIN log : log[n].term = term})."""
    for n in range(len(log), 0, -1):
        if log[n - 1].term == term:
            return n
    return 0


@invariant("etcdraft", reads={"servers"}, antecedent=some_leader)
def ElectionSafetyInv(cfg: EtcdRaftConfig, s: EtcdState) -> bool:
    """ElectionSafetyInv: a Leader holds the greatest index of any entry of its current term on any server."""
    for i, sv in enumerate(s.servers, 1):
        if sv.state == LEADER:
            mine = _max_index_of_term(sv.log, sv.currentTerm)
            for j, other in enumerate(s.servers, 1):
                if _max_index_of_term(other.log, sv.currentTerm) > mine:
                    return Fail(f"{j} has a later entry of Leader {i}'s term {sv.currentTerm}", [i, j])
    return True


@invariant("etcdraft", reads={"servers"})
def LogMatchingInv(cfg: EtcdRaftConfig, s: EtcdState) -> bool:
    """LogMatchingInv: two logs with entries of equal term at an index agree on the whole prefix up to it."""
    for a, x in enumerate(s.servers, 1):
        for b, y in enumerate(s.servers, 1):
            if a < b:
                for n in range(1, min(len(x.log), len(y.log)) + 1):
                    if x.log[n - 1].term == y.log[n - 1].term and x.log[:n] != y.log[:n]:
                        return Fail(f"{a} and {b} agree on the term at index {n} but not on the prefix", [a, b])
    return True


@invariant("etcdraft", reads={"servers"})
def QuorumLogInv(cfg: EtcdRaftConfig, s: EtcdState) -> bool:
    """QuorumLogInv: every quorum of a server's incoming voters has a member whose log extends its committed
    prefix."""
    for i, sv in enumerate(s.servers, 1):
        conf = sv.config.jointConfig[0]
        c = _committed(sv)
        lacking = [j for j in conf if not _is_prefix(c, s.servers[j - 1].log)]
        if len(lacking) * 2 > len(conf):  # the lacking servers alone form a quorum
            return Fail(f"a quorum of {i}'s voters lacks its committed entries", [i, *lacking])
    return True


@invariant("etcdraft", reads={"servers"})
def MoreUpToDateCorrectInv(cfg: EtcdRaftConfig, s: EtcdState) -> bool:
    """MoreUpToDateCorrectInv: a log at least as up to date as another contains that server's committed prefix."""
    for i, x in enumerate(s.servers, 1):
        for j, y in enumerate(s.servers, 1):
            lx, ly = last_term(x.log), last_term(y.log)
            if (lx > ly or (lx == ly and len(x.log) >= len(y.log))) and not _is_prefix(_committed(y), x.log):
                return Fail(f"{i}'s log is as up to date as {j}'s but lacks its committed entries", [i, j])
    return True


@invariant("etcdraft", reads={"servers"}, antecedent=some_leader)
def LeaderCompletenessInv(cfg: EtcdRaftConfig, s: EtcdState) -> bool:
    """LeaderCompletenessInv: a committed entry is at its index in the log of every Leader of a later term."""
    leaders = [(li, sv) for li, sv in enumerate(s.servers, 1) if sv.state == LEADER]
    for i, sv in enumerate(s.servers, 1):
        for idx in range(1, sv.commitIndex + 1):
            entry = sv.log[idx - 1]
            for li, lv in leaders:
                if lv.currentTerm > entry.term and (idx > len(lv.log) or lv.log[idx - 1] != entry):
                    return Fail(f"Leader {li} lacks entry {idx} committed by {i}", [li, i])
    return True


@invariant("etcdraft", reads={"servers"}, antecedent=some_leader)
def CommittedIsDurableInv(cfg: EtcdRaftConfig, s: EtcdState) -> bool:
    """CommittedIsDurableInv: a Leader's commitIndex never exceeds the log length it has persisted."""
    for i, sv in enumerate(s.servers, 1):
        if sv.state == LEADER and sv.commitIndex > sv.durableState.log:
            return Fail(f"Leader {i} committed {sv.commitIndex} but persisted only {sv.durableState.log}", [i])
    return True
