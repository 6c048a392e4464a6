"""Symmetry without n!: the fast engine canonicalises over orderings of servers with equal signatures only.

Both canonical forms (the servers part alone for small clusters, the whole state for large ones) must count
exactly TLC's orbits; the large-cluster form is checked here on the small configurations TLC counted, by
lowering the threshold.  And nothing of size n! is built without --symmetry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import refmodel
from refmodel.model.raft import fast

REF = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "raft-tla" / "tlc_counts.json"
SMALL_SYM = ["n2_t2_l1_c1_m1", "n3_t2_l0_c1_m1"]


def _tlc(name: str) -> dict:
    if not REF.exists():
        pytest.skip("../shared reference data not present")
    data = json.loads(REF.read_text())
    configs = data["configs"] if isinstance(data, dict) and "configs" in data else data
    for c in configs:
        if c.get("name", "").startswith(name) and c.get("symmetry"):
            return c
    pytest.skip(f"no symmetric TLC figure for {name}")


def _bounds(name: str) -> dict:
    n, t, lg, c, m = (int(x[1:]) for x in name.split("_"))
    return dict(servers=n, max_term=t, max_log=lg, max_msg_count=c, max_msgs=m)


@pytest.mark.parametrize("threshold", [fast.SMALL_CLUSTER, 0], ids=["servers-part", "whole-state"])
@pytest.mark.parametrize("name", SMALL_SYM)
def test_both_canonical_forms_count_tlc_orbits(name, threshold, monkeypatch):
    ref = _tlc(name)
    monkeypatch.setattr(fast, "SMALL_CLUSTER", threshold)
    r = refmodel.check("raft", symmetry=True, **_bounds(name))
    assert (r.distinct_states, r.generated_states, r.tlc_depth) == (ref["distinct"], ref["generated"],
                                                                     ref["tlc_depth"])


def test_a_seeded_non_canonical_form_is_caught(monkeypatch):
    """The comparison bites: breaking ties by server index (not canonical) counts more states than TLC."""
    ref = _tlc("n3_t2_l0_c1_m1")
    monkeypatch.setattr(fast, "SMALL_CLUSTER", 0)
    monkeypatch.setattr(fast.FastRaftEngine, "_fixes", lambda self, comps, rest, p: True)
    r = refmodel.check("raft", symmetry=True, **_bounds("n3_t2_l0_c1_m1"))
    assert r.distinct_states > ref["distinct"]


def test_no_permutation_is_built_without_symmetry(monkeypatch):
    def refuse(n):
        raise AssertionError("all_permutations called")

    monkeypatch.setattr("refmodel.model.raft.system.all_permutations", refuse)
    r = refmodel.check("raft", servers=12, max_states=2000)
    assert r.verdict == "incomplete" and r.distinct_states >= 2000
    r = refmodel.check("raft", servers=12, max_states=500, symmetry=True)
    assert r.verdict == "incomplete" and r.distinct_states >= 500


def test_whole_state_form_agrees_with_all_permutations_on_four_servers(monkeypatch):
    """On 4 servers (24 permutations, ties and refinement both occur) the two canonical forms explore the
    same orbits level by level: the same states per level and the same number generated."""
    bounds = dict(servers=4, max_term=2, max_log=0, max_msg_count=1, max_msgs=1, max_states=30000,
                  invariants=["election_safety"], symmetry=True)
    every = refmodel.check("raft", **bounds)
    monkeypatch.setattr(fast, "SMALL_CLUSTER", 0)
    ties = refmodel.check("raft", **bounds)
    assert (ties.levels, ties.generated_states) == (every.levels, every.generated_states)
