"""The eight etcdraft.tla invariants Traceetcdraft.cfg checks on every state of a trace, for the model that
``refmodel trace validate --itf`` traces step through (protocol ``etcdraft_trace``; same state type as
``etcdraft``), so that ``refmodel replay`` evaluates them along the trace.  Each delegates to
:mod:`refmodel.invariants.etcdraft`.
"""

from __future__ import annotations

from refmodel.invariants import etcdraft as E
from refmodel.invariants import invariant

# ruff: noqa: N802 - the spec's names


@invariant("etcdraft_trace", reads={"servers"})
def LogInv(cfg, s):  # noqa: ANN001, ANN201
    """LogInv: of any two servers' committed prefixes, one is a prefix of the other."""
    return E.LogInv(cfg, s)


@invariant("etcdraft_trace", reads={"servers"}, antecedent=E.some_leader)
def MoreThanOneLeaderInv(cfg, s):  # noqa: ANN001, ANN201
    """MoreThanOneLeaderInv: no two servers are Leader in the same term at once."""
    return E.MoreThanOneLeaderInv(cfg, s)


@invariant("etcdraft_trace", reads={"servers"}, antecedent=E.some_leader)
def ElectionSafetyInv(cfg, s):  # noqa: ANN001, ANN201
    """ElectionSafetyInv: a Leader holds the greatest index of any entry of its current term on any server."""
    return E.ElectionSafetyInv(cfg, s)


@invariant("etcdraft_trace", reads={"servers"})
def LogMatchingInv(cfg, s):  # noqa: ANN001, ANN201
    """LogMatchingInv: two logs with entries of equal term at an index agree on the whole prefix up to it."""
    return E.LogMatchingInv(cfg, s)


@invariant("etcdraft_trace", reads={"servers"})
def QuorumLogInv(cfg, s):  # noqa: ANN001, ANN201
    """QuorumLogInv: every quorum of a server's incoming voters has a member whose log extends its committed
    prefix."""
    return E.QuorumLogInv(cfg, s)


@invariant("etcdraft_trace", reads={"servers"})
def MoreUpToDateCorrectInv(cfg, s):  # noqa: ANN001, ANN201
    """MoreUpToDateCorrectInv: a log at least as up to date as another contains that server's committed
    prefix."""
    return E.MoreUpToDateCorrectInv(cfg, s)


@invariant("etcdraft_trace", reads={"servers"}, antecedent=E.some_leader)
def LeaderCompletenessInv(cfg, s):  # noqa: ANN001, ANN201
    """LeaderCompletenessInv: a committed entry is at its index in the log of every Leader of a later term."""
    return E.LeaderCompletenessInv(cfg, s)


@invariant("etcdraft_trace", reads={"servers"}, antecedent=E.some_leader)
def CommittedIsDurableInv(cfg, s):  # noqa: ANN001, ANN201
    """CommittedIsDurableInv: a Leader's commitIndex never exceeds the log length it has persisted."""
    return E.CommittedIsDurableInv(cfg, s)
