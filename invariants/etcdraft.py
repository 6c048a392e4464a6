"""etcdraft.tla's correctness invariants (the eight MCetcdraft.cfg checks), as named predicates."""

from __future__ import annotations
