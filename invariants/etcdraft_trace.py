"""The eight etcdraft.tla invariants Traceetcdraft.cfg checks on every state of a trace, for the model that
``refmodel trace validate --itf`` traces step through (protocol ``etcdraft_trace``; same state type as
``etcdraft``), so that ``refmodel replay`` evaluates them along the trace: the properties of
:mod:`refmodel.invariants.etcdraft`, registered again under this protocol (same functions, reads,
antecedents and docs; names ``etcdraft_trace.<Name>``).
"""

from __future__ import annotations

from dataclasses import replace

from refmodel.invariants import REGISTRY
from refmodel.invariants import etcdraft as E

for _p in [p for p in REGISTRY.values() if p.fn.__module__ == E.__name__ and p.kind == "state" and p.default]:
    REGISTRY[f"etcdraft_trace.{_p.short}"] = replace(_p, name=f"etcdraft_trace.{_p.short}",
                                                     protocol="etcdraft_trace")
