"""The etcdraft port reproduces TLC exactly on etcd-io/raft's tla/etcdraft.tla (MCetcdraft, bounded): distinct
and generated state counts and depth for every configuration in ../shared/reference/etcdraft/tlc_counts.json,
with the eight invariants of MCetcdraft.cfg holding."""

from __future__ import annotations

import json

import pytest
from conftest import REFERENCE, need

from refmodel import invariants
from refmodel.checkers.bfs import check
from refmodel.checkers.cli import main
from refmodel.model.core import ExplicitEngine
from refmodel.model.etcdraft import build
from refmodel.model.etcdraft.config import EtcdRaftConfig

SPEC_NAMES = {"LogInv", "MoreThanOneLeaderInv", "ElectionSafetyInv", "LogMatchingInv", "QuorumLogInv",
              "MoreUpToDateCorrectInv", "LeaderCompletenessInv", "CommittedIsDurableInv"}


@pytest.fixture(scope="module")
def etcd_counts() -> dict:
    return json.loads(need(REFERENCE / "etcdraft" / "tlc_counts.json").read_text())


def config_of(c: dict) -> EtcdRaftConfig:
    return EtcdRaftConfig(init_servers=c["init_servers"], servers=c["servers"],
                          reconfiguration_limit=c["reconfiguration_limit"], max_term=c["max_term"],
                          request_limit=c["request_limit"], max_log=c["max_log"], max_in_flight=c["max_in_flight"])


def test_default_invariants_are_the_specs_eight(etcd_counts):
    names = {p.short for p in invariants.defaults("etcdraft")}
    assert names == SPEC_NAMES == set(etcd_counts["invariants"])


def test_every_tlc_config_matches(etcd_counts):
    """distinct, generated and TLC depth equal TLC's for all five configurations, and every invariant holds."""
    assert len(etcd_counts["configs"]) == 5
    props = invariants.defaults("etcdraft")
    for c in etcd_counts["configs"]:
        cfg = config_of(c)
        assert cfg.short_name() == c["name"]
        r = check(build(cfg).engine(), props, symmetry=c["symmetry"])
        got = (r.verdict, r.distinct_states, r.generated_states, r.tlc_depth)
        assert got == (c["verdict"], c["distinct"], c["generated"], c["tlc_depth"]), c["name"]


@pytest.mark.parametrize("name", ["e2to3_rc1_t2_r0_l2_f1", "e2_t3_r0_l2_f1"])
def test_readable_layer_alone_matches_tlc(etcd_counts, name):
    """The readable transition system, driven without the fast engine, gives TLC's figures too."""
    c = next(c for c in etcd_counts["configs"] if c["name"] == name)
    r = check(ExplicitEngine(build(config_of(c))))
    assert (r.distinct_states, r.generated_states, r.tlc_depth) == (c["distinct"], c["generated"], c["tlc_depth"])


def test_cli_flags(capsys, etcd_counts):
    """`refmodel check etcdraft` takes the bounds as --init-servers ... --max-in-flight and reports TLC's figures."""
    c = next(c for c in etcd_counts["configs"] if c["name"] == "e2to3_rc1_t2_r0_l2_f1")
    code = main(["check", "etcdraft", "--init-servers", "2", "--servers", "3", "--reconfiguration-limit", "1",
                 "--max-term", "2", "--request-limit", "0", "--max-log", "2", "--max-in-flight", "1", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (d["verdict"], d["distinct_states"], d["generated_states"], d["tlc_depth"]) == (
        "pass", c["distinct"], c["generated"], c["tlc_depth"])
    assert {n.split(".")[1] for n in d["invariants"]} == SPEC_NAMES


def test_config_rejects_fewer_servers_than_initial():
    from refmodel.model.core import ConfigError

    with pytest.raises(ConfigError, match="servers"):
        EtcdRaftConfig(init_servers=3, servers=2)
