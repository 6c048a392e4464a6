"""Named buggy variants of the etcdraft model, each replacing one rule (see model.raft.mutants)."""

from __future__ import annotations

from refmodel.model import Mutant

MUTANTS: dict[str, Mutant] = {}
