"""Z3 and the abstract Clique: go-ethereum's voting vectors pass through its rules, the shipped invariant is
inductive (each conjunct needed), and the symbolic relation, the encodings and the explicit model agree."""

from __future__ import annotations

import json
import random

import pytest

from refmodel.checkers.bfs import check
from refmodel.checkers.smt import holds, prove, successors
from refmodel.model.poa.symbolic import CliqueSymbolic
from conftest import REFERENCE, need, reachable
from refmodel.invariants import Property
from refmodel.invariants.poa_smt import AUXILIARY, ENCODINGS, INDUCTIVE, SAFETY
from refmodel.model.poa.abstract import (
    ADD,
    DEFAULT_RULES,
    DROP,
    MUTANTS,
    AbstractCliqueConfig,
    CliqueState,
    Node,
    Rejected,
    Vote,
    apply_block,
    build,
    initial_state,
)

CFG = AbstractCliqueConfig(signers=3, candidates=1, epoch=3, max_height=6)


def props(names=None) -> list[Property]:
    return [Property(name=n, protocol="poa-abstract", fn=ENCODINGS[n].py, kind=ENCODINGS[n].kind, reads=None,
                     default=True, doc=ENCODINGS[n].doc) for n in (names or list(ENCODINGS))]


# ------------------------------------------------------------------------------------ geth's vectors


def replay(scenario: dict, rules=DEFAULT_RULES) -> tuple[list[str] | None, str | None]:
    """Apply a scenario's blocks with the abstract rules: (final signers, None) or (None, error)."""
    letters = set(scenario["initial_signers"]) | {b["signer"] for b in scenario["blocks"]}
    letters |= {b["voted"] for b in scenario["blocks"] if b["voted"]}
    n = len(scenario["initial_signers"])
    assert scenario["initial_signers"] == [chr(65 + k) for k in range(n)]
    cfg = AbstractCliqueConfig(signers=n, candidates=max(ord(c) - 64 for c in letters) - n, epoch=scenario["epoch"])
    s = initial_state(cfg)
    for b in scenario["blocks"]:
        vote = None if b["voted"] is None else Vote(Node(ord(b["voted"]) - 65), ADD if b["auth"] else DROP)
        try:
            s = apply_block(cfg, rules, s, Node(ord(b["signer"]) - 65), vote)
        except Rejected as exc:
            return None, exc.args[0]
    return sorted(str(x) for x in s.signers), None


def matches(scenario: dict, rules=DEFAULT_RULES) -> bool:
    final, failure = replay(scenario, rules)
    exp = scenario["expected"]
    return failure == exp["failure"] and (failure is not None or final == sorted(exp["final_signers"]))


@pytest.fixture(scope="module")
def scenarios() -> list[dict]:
    return json.loads(need(REFERENCE / "clique" / "geth_snapshot_vectors.json").read_text())["scenarios"]


def test_geth_voting_vectors_pass_through_the_abstract_rules(scenarios):
    """The abstraction's rules are go-ethereum's: all 24 TestClique scenarios give the expected signers or
    error (a `voted: null` block is a no-op vote: the zero address is never a signer)."""
    assert len(scenarios) == 24
    assert [sc["id"] for sc in scenarios if not matches(sc)] == []


@pytest.mark.parametrize("mutant,failing", [
    ("no_recency_check", [21, 22, 23]), ("accept_unauthorised_signer", [20]),
    ("no_vote_reset_at_epoch", [19]), ("recents_reset_at_checkpoint", [22, 23]),
    ("keep_votes_of_dropped_signer", [13, 14]),
    ("threshold_half", [1, 2, 4, 5, 7, 9, 10, 11, 13, 14, 15, 16, 17, 19])])
def test_each_mutant_fails_the_vectors_it_should(scenarios, mutant, failing):
    assert [sc["id"] for sc in scenarios if not matches(sc, MUTANTS[mutant].rules)] == failing


# ------------------------------------------------------------------------------------------- proofs


@pytest.mark.parametrize("kw", [{}, {"threshold": "two_thirds"}, {"proposer_rule": "round_robin"},
                                {"signers": 4, "candidates": 2, "epoch": 5}])
def test_shipped_set_is_inductive(kw):
    r = prove(CliqueSymbolic(AbstractCliqueConfig(**kw)))
    assert r.verdict == "proved" and r.invariants == INDUCTIVE


def test_only_authorisation_is_inductive_alone_but_not_recency_or_quorum():
    model = CliqueSymbolic(CFG)
    assert prove(model, ["only_authorised_proposers"]).verdict == "proved"
    for name in ("signer_recency", "signer_changes_by_quorum"):
        r = prove(model, [name])
        assert r.verdict == "counterexample" and r.counterexample.violated == [name]
        _check_cti(r, [])


def _check_cti(r, assumed: list[str]) -> None:
    """The CTI is a real step of the explicit model from a state satisfying the assumed state invariants,
    and it breaks what the solver says (checked by the plain predicates)."""
    c = r.counterexample
    pre, post = c.trace[0].raw, c.trace[1].raw
    assert all(ENCODINGS[n].py(CFG, pre) for n in assumed if ENCODINGS[n].kind == "state")
    assert (c.trace[1].action, post) in set(build(CFG).next_states(pre))
    for n in c.violated:
        e = ENCODINGS[n]
        assert not (e.py(CFG, pre, post) if e.kind == "transition" else e.py(CFG, post))


@pytest.mark.parametrize("dropped", AUXILIARY)
def test_each_auxiliary_is_needed(dropped):
    rest = [n for n in INDUCTIVE if n != dropped]
    r = prove(CliqueSymbolic(CFG), rest)
    assert r.verdict == "counterexample"
    _check_cti(r, rest)


def test_auxiliary_invariants_and_properties_hold_on_every_reachable_state():
    for cfg in (CFG, AbstractCliqueConfig(signers=3, candidates=1, epoch=2, max_height=6, threshold="two_thirds")):
        r = check(build(cfg).engine(), props())
        assert r.verdict == "pass" and r.distinct_states > 100


# ------------------------------------------------------------------------------------ agreement


def random_state(rng: random.Random, cfg: AbstractCliqueConfig) -> CliqueState:
    m, w = cfg.identities, cfg.window
    pick = lambda: rng.choice([None] + [Node(x) for x in range(m)])  # noqa: E731
    votes = tuple(tuple(rng.choice([0, 0, 0, ADD, DROP]) for _ in range(m)) for _ in range(m))
    return CliqueState(
        height=rng.randint(0, 7), signers=frozenset(Node(x) for x in range(m) if rng.random() < 0.6),
        recents=tuple(pick() for _ in range(w)), votes=votes,
        tally=tuple(sum(1 for v in range(m) if votes[v][x]) + rng.choice([0, 0, 1]) for x in range(m)),
        sealers=tuple(pick() for _ in range(w)),
        cast=tuple(tuple(rng.choice([0, ADD, DROP]) for _ in range(m)) for _ in range(m)),
        head_vote=rng.choice([None, Vote(Node(rng.randrange(m)), rng.choice([ADD, DROP]))]))


def test_encodings_agree_with_their_predicates():
    """State encodings on reachable (correct and mutant) and random states; transition encodings on every
    explicit step from them; both truth values occur for each."""
    rng = random.Random(5)
    model = CliqueSymbolic(CFG)
    states = []
    for mutant in [None, *MUTANTS]:
        reach, _ = reachable(build(CFG, mutant).engine(), max_depth=4)
        states += rng.sample(reach, min(10, len(reach)))
    states += [random_state(rng, CFG) for _ in range(30)]
    seen = {n: set() for n in ENCODINGS}
    for s in states:
        S = model.concrete(s)
        for n, e in ENCODINGS.items():
            if e.kind == "state":
                want = bool(e.py(CFG, s))
                assert holds(e.z3(S)) == want, (n, s)
                seen[n].add(want)
        steps = sorted({t for mutant in [None, *MUTANTS] for _, t in build(CFG, mutant).next_states(s)}, key=repr)
        for t in rng.sample(steps, min(6, len(steps))):
            T = model.concrete(t)
            for n, e in ENCODINGS.items():
                if e.kind == "transition":
                    want = bool(e.py(CFG, s, t))
                    assert holds(e.z3(S, T)) == want, (n, s, t)
                    seen[n].add(want)
    assert all(v == {True, False} for v in seen.values()), seen


@pytest.mark.parametrize("mutant", [None, *MUTANTS])
def test_symbolic_and_explicit_relations_agree(mutant):
    rng = random.Random(3)
    cfg = AbstractCliqueConfig(signers=3, candidates=1, epoch=2, max_height=4)
    explicit, model = build(cfg, mutant), CliqueSymbolic(cfg, mutant)
    states, _ = reachable(explicit.engine(), max_depth=3)
    sample = rng.sample(states, 4) + ([random_state(rng, cfg) for _ in range(4)] if mutant is None else [])
    for s in sample:
        assert successors(model, s) == set(explicit.next_states(s)), s


def test_round_robin_and_two_thirds_relations_agree():
    rng = random.Random(4)
    for kw in ({"proposer_rule": "round_robin"}, {"threshold": "two_thirds"}):
        cfg = AbstractCliqueConfig(signers=3, candidates=1, epoch=2, max_height=4, **kw)
        explicit, model = build(cfg), CliqueSymbolic(cfg)
        states, _ = reachable(explicit.engine(), max_depth=4)
        for s in rng.sample(states, min(5, len(states))) + [random_state(rng, cfg) for _ in range(3)]:
            assert successors(model, s) == set(explicit.next_states(s)), s


def test_encodes_names_the_registered_predicates():
    assert SAFETY == ["only_authorised_proposers", "signer_recency", "signer_changes_by_quorum"]
    assert all(ENCODINGS[n].encodes == f"poa.{n}" for n in SAFETY)
