"""Z3 and the abstract Raft: the shipped invariant is inductive, each conjunct is needed, election safety alone
has a counterexample to induction, and the symbolic relation, the encodings and the explicit model agree."""

from __future__ import annotations

import random

import pytest

from refmodel.checkers.bfs import check
from refmodel.checkers.smt import holds, prove, successors
from refmodel.model.raft.symbolic import RaftSymbolic
from conftest import reachable
from refmodel.invariants import Property
from refmodel.invariants.raft_smt import AUXILIARY, ENCODINGS, INDUCTIVE, SAFETY
from refmodel.model.raft.abstract import MUTANTS, AbstractRaftConfig, AbstractRaftState, Server, build
from refmodel.model.core import Sid
from refmodel.model.raft.state import CANDIDATE, FOLLOWER, LEADER, Entry

CFG3 = AbstractRaftConfig(servers=3, max_log=2, values=2, max_term=3)


def props(names=None) -> list[Property]:
    return [Property(name=n, protocol="raft-abstract", fn=ENCODINGS[n].py, kind="state", reads=None, default=True,
                     doc=ENCODINGS[n].doc) for n in (names or list(ENCODINGS))]


def py_holds(name: str, cfg, s) -> bool:
    return bool(ENCODINGS[name].py(cfg, s))


def test_shipped_set_is_inductive_for_3_servers():
    r = prove(RaftSymbolic(AbstractRaftConfig(servers=3, max_log=2)))
    assert r.verdict == "proved" and r.invariants == INDUCTIVE
    assert [o.result for o in r.obligations] == ["holds"] * len(r.obligations)
    assert len(r.obligations) == 8  # Init, then one representative of each of the 7 action families


@pytest.mark.parametrize("n,L", [(4, 2), (3, 3), (4, 3),
                                 # 5 servers, L = 2: CI proves it through the CLI (tests/test_smt_cli.py)
                                 pytest.param(5, 2, marks=pytest.mark.slow)])
def test_shipped_set_is_inductive_larger(n, L):
    """The issue's acceptance: the shipped set is inductive for 3, 4 and 5 servers, logs of 2 or more
    (a few seconds each; benchmarks/smt_times.py times larger clusters)."""
    assert prove(RaftSymbolic(AbstractRaftConfig(servers=n, max_log=L))).verdict == "proved"


def test_symmetry_reduction_changes_nothing():
    """Checking every action instance gives the same verdicts as one per symmetry class."""
    model = RaftSymbolic(AbstractRaftConfig(servers=3, max_log=2))
    full = prove(model, symmetry=False)
    assert full.verdict == "proved" and not full.symmetry
    assert len(full.obligations) == 1 + 3 * 5 + 6 * 2  # Init; 5 one-server families; 2 two-server ones
    cti = prove(model, ["election_safety"], symmetry=False)
    assert cti.verdict == "counterexample" and cti.counterexample.violated == ["election_safety"]


def _check_cti(model: RaftSymbolic, r, assumed: list[str]) -> None:
    """A CTI is real: its pre-state satisfies every assumed invariant (by the plain predicates), its step is a
    transition of the explicit model, and its post-state violates what the solver says it violates."""
    c = r.counterexample
    assert c.kind == "cti" and len(c.trace) == 2
    pre, post = c.trace[0].raw, c.trace[1].raw
    values = max([1] + [e.value for st in (pre, post) for sv in st.servers for e in sv.log])
    cfg = AbstractRaftConfig(servers=model.n, max_log=model.L, values=values)
    assert all(py_holds(n, cfg, pre) for n in assumed)
    assert (c.trace[1].action, post) in set(build(cfg).next_states(pre))
    assert c.violated and all(not py_holds(n, cfg, post) for n in c.violated if n != "type_ok")


def test_election_safety_alone_is_not_inductive():
    model = RaftSymbolic(AbstractRaftConfig(servers=3, max_log=2))
    r = prove(model, ["election_safety"])
    assert r.verdict == "counterexample"
    c = r.counterexample
    assert c.violated == ["election_safety"] and c.trace[1].action.action == "BecomeLeader"
    _check_cti(model, r, ["election_safety"])
    # the readable CTI: two servers Leader in one term after the step
    after = c.trace[1].state
    leaders = [s for s, role in after["state"].items() if role == "Leader"]
    assert len({after["currentTerm"][s] for s in leaders}) < len(leaders)


@pytest.mark.parametrize("dropped", INDUCTIVE)
def test_each_conjunct_is_needed_or_implied(dropped):
    """Without any auxiliary invariant the rest is not inductive (the CTI is checked against the explicit
    model); leader_completeness and state_machine_safety are implied by the strengthening."""
    model = RaftSymbolic(AbstractRaftConfig(servers=3, max_log=2))
    rest = [n for n in INDUCTIVE if n != dropped]
    r = prove(model, rest)
    if dropped in ("leader_completeness", "state_machine_safety"):
        assert r.verdict == "proved"
    else:
        assert r.verdict == "counterexample"
        _check_cti(model, r, rest)


def test_auxiliary_invariants_hold_on_every_reachable_state():
    """The strengthening is true of the model, not just consistent: BFS checks the plain twins."""
    for cfg in (AbstractRaftConfig(servers=3, max_term=3, max_log=2),
                AbstractRaftConfig(servers=2, max_term=4, max_log=2)):
        r = check(build(cfg).engine(), props(), symmetry=True)
        assert r.verdict == "pass" and r.distinct_states > 900


def random_state(rng: random.Random, n: int = 3, L: int = 2, values: int = 2) -> AbstractRaftState:
    servers = []
    for _ in range(n):
        log = tuple(Entry(rng.randint(1, 3), rng.randint(1, values)) for _ in range(rng.randint(0, L)))
        if rng.random() < 0.6:
            log = tuple(sorted(log))
        vf = rng.choice([None] + list(range(n)))
        servers.append(Server(currentTerm=rng.randint(1, 3), state=rng.choice([FOLLOWER, CANDIDATE, LEADER]),
                              votedFor=None if vf is None else Sid(vf), log=log, commitIndex=rng.randint(0, len(log))))
    return AbstractRaftState(tuple(servers))


def sample_states(seed: int, k: int) -> list[AbstractRaftState]:
    """Reachable states of the correct model and of each mutant, and random ones."""
    rng = random.Random(seed)
    out = []
    for mutant in [None, *MUTANTS]:
        states, _ = reachable(build(CFG3, mutant).engine(), max_depth=7)
        out += rng.sample(states, k)
    return out + [random_state(rng) for _ in range(4 * k)]


def test_encodings_agree_with_their_predicates():
    """Each Z3 encoding evaluates like the plain predicate it encodes (raft.* on the projected state, or the
    auxiliary's twin), on reachable, mutant-reachable and random states; both truth values occur."""
    model = RaftSymbolic(CFG3, values=2)
    seen = {n: set() for n in ENCODINGS}
    for s in sample_states(7, 12):
        S = model.concrete(s)
        assert holds(model.type_ok(S))
        for n, e in ENCODINGS.items():
            want = py_holds(n, CFG3, s)
            assert holds(e.z3(S)) == want, (n, s)
            seen[n].add(want)
    assert all(v == {True, False} for v in seen.values()), seen


@pytest.mark.parametrize("mutant", [None, *MUTANTS])
def test_symbolic_and_explicit_relations_agree(mutant):
    """Every action disjunct has exactly the explicit rule's successors (labels included), on sampled
    reachable states and, for the correct model, random ones (which exercise the guards off the beaten path)."""
    rng = random.Random(11)
    explicit = build(CFG3, mutant)
    model = RaftSymbolic(CFG3, mutant, values=2)
    states, _ = reachable(explicit.engine(), max_depth=7)
    sample = rng.sample(states, 4) + ([random_state(rng) for _ in range(6)] if mutant is None else [])
    for s in sample:
        assert successors(model, s) == set(explicit.next_states(s)), s


def test_safety_set_and_auxiliaries_are_listed_in_order():
    assert SAFETY == ["election_safety", "log_matching", "leader_completeness", "state_machine_safety"]
    assert set(AUXILIARY) == {"vote_not_ahead", "candidate_unvoted", "leader_votes", "entry_terms", "entry_elected",
                              "leader_has_own_entries", "term_order", "commit_witnessed"}
    assert all(ENCODINGS[n].encodes == f"raft.{n}" for n in SAFETY)
