"""Strategies on synthetic benchmarks with a known optimum (tests/_search_toy.py): RS, REA, AREA,
LSE, REINFORCE, BO (TPE), NASWOT search, on NB201 and on NATS-SSS."""
from __future__ import annotations

import collections
import random

import numpy as np
import pytest
import torch
from _search_toy import ToyBenchmark

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.evaluators.benchmark import TableEvaluator, TableSignalConfig
from nwot.search.base import get_strategy
from nwot.search.categorical import categorical_view
from nwot.search.loop import Budget, run_search
from nwot.search.reinforce import Reinforce
from nwot.spaces.base import get_space

NB201 = get_space("nb201")
SSS = get_space("nats_sss")


@pytest.fixture(scope="module")
def toy():
    return ToyBenchmark("nb201")


@pytest.fixture(scope="module")
def toy_gap():
    return ToyBenchmark("nb201", gap=5.0)


@pytest.fixture(scope="module")
def toy_sss():
    return ToyBenchmark("nats_sss")


def table(bench, space):
    return TableEvaluator(bench, space, TableSignalConfig("cifar10", signal_seed="mean"))


def distance(a, b):
    return sum(x != y for x, y in zip(a, b))


# --- random search --------------------------------------------------------------------
def test_random_search_draws_uniform_samples_and_keeps_the_max(toy):
    r = run_search(get_strategy("random", NB201, random.Random(5)), table(toy, NB201), Budget(evaluations=60))
    rng = random.Random(5)
    expected = [NB201.sample(rng) for _ in range(60)]  # the same draws, made independently
    assert [row.arch for row in r.trace] == [NB201.encode(a) for a in expected]
    values = [toy.valid(toy.index_of(a)) for a in expected]
    assert r.best_signal == max(values)
    assert r.best_arch == NB201.encode(expected[values.index(max(values))])


# --- REA ----------------------------------------------------------------------------------
def rea_reference(bench, seed, n, P=10, S=3):
    """Real et al. 2019 Algorithm 1 written out independently (same RNG call order as the spec)."""
    rng = random.Random(seed)
    pop, hist = collections.deque(), []
    while len(hist) < n:
        if len(pop) < P:
            arch = NB201.sample(rng)
        else:
            sample = [pop[rng.randrange(len(pop))] for _ in range(S)]
            parent = max(sample, key=lambda m: m[1])
            arch = NB201.mutate(parent[0], rng)
        v = bench.valid(bench.index_of(arch))
        pop.append((arch, v))
        hist.append(arch)
        if len(pop) > P:
            pop.popleft()
    return hist


def test_rea_follows_algorithm_1(toy):
    r = run_search(get_strategy("rea", NB201, random.Random(11)), table(toy, NB201), Budget(evaluations=150))
    assert [row.arch for row in r.trace] == [NB201.encode(a) for a in rea_reference(toy, 11, 150)]
    archs = [NB201.decode(row.arch) for row in r.trace]
    # every child differs from a member of the population it was bred from (its parent) in exactly one edge
    for k in range(10, 150):
        assert any(distance(archs[k], p) == 1 for p in archs[k - 10:k])


def test_rea_keeps_the_ten_youngest(toy):
    st = get_strategy("rea", NB201, random.Random(2))
    r = run_search(st, table(toy, NB201), Budget(evaluations=37))
    assert [NB201.encode(a) for a, _ in st.population] == [row.arch for row in r.trace[-10:]]
    assert st.config() == {"population_size": 10, "sample_size": 3}


def test_rea_finds_the_optimum_of_a_separable_landscape(toy):
    opt = NB201.encode(toy.optimum())
    for seed in range(5):
        r = run_search(get_strategy("rea", NB201, random.Random(seed)), table(toy, NB201), Budget(evaluations=1000))
        assert r.best_arch == opt, seed


# --- AREA ---------------------------------------------------------------------------------
def test_area_prescoring_is_charged_and_seeds_the_population_with_the_top10(toy):
    # a score anti-correlated with the signal, 0.25 s per score; ties broken by draw order
    def scorer(a):
        return Evaluation(-toy.valid(toy.index_of(a)) // 2, 0.25)

    st = get_strategy("area", NB201, random.Random(8), scorer=scorer)
    r = run_search(st, table(toy, NB201), Budget(seconds=3000))
    rows = r.trace
    assert [row.kind for row in rows[:20]] == ["score"] * 20 and all(row.kind == "eval" for row in rows[20:])
    assert [row.time for row in rows[:20]] == [0.25 * (k + 1) for k in range(20)]
    assert rows[20].time == 5.0 + toy.arch_cost(toy.index_of(rows[20].arch))
    rng = random.Random(8)
    cands = [NB201.sample(rng) for _ in range(20)]  # AREA's 20 draws, made independently
    assert [row.arch for row in rows[:20]] == [NB201.encode(a) for a in cands]
    scores = [scorer(a).signal for a in cands]
    top = sorted(range(20), key=lambda k: (-scores[k], k))[:10]
    assert [row.arch for row in rows[20:30]] == [NB201.encode(cands[k]) for k in top]
    assert [row.signal for row in rows[:20]] == scores  # the scores are traced, but never become the best
    assert r.best_signal == max(row.signal for row in rows if row.kind == "eval")
    archs = [NB201.decode(row.arch) for row in rows[20:]]
    for k in range(10, len(archs)):  # then REA: one-edge children of the population
        assert any(distance(archs[k], p) == 1 for p in archs[k - 10:k])
    assert r.n_evals == len(rows) - 20 and st.config()["n_candidates"] == 20


def test_area_needs_enough_candidates():
    with pytest.raises(NwotError, match="n_candidates"):
        get_strategy("area", NB201, random.Random(0), scorer=lambda a: Evaluation(0.0, 0.0), n_candidates=5)


# --- LSE ----------------------------------------------------------------------------------
def test_lse_kills_the_worse_of_two_and_mutates_the_better(toy):
    ev = table(toy, NB201)
    st = get_strategy("lse", NB201, random.Random(4))
    for _ in range(10):
        (a,) = st.ask()
        st.tell([a], [ev(a)])
    for _ in range(200):
        before = list(st.population)
        (child,) = st.ask()
        killed, parent = st.last_killed, st.last_parent
        assert killed in before and parent in before and killed is not parent
        assert killed[1] <= parent[1]
        after = list(st.population)
        assert len(after) == 9 and all(m is not killed for m in after) and any(m is parent for m in after)
        assert (collections.Counter(map(id, before)) - collections.Counter(map(id, after))
                == collections.Counter([id(killed)]))
        assert distance(child, parent[0]) == 1
        st.tell([child], [ev(child)])
        assert len(st.population) == 10
    # selection by killing the loser drives the population up
    assert np.mean([s for _, s in st.population]) > np.mean([toy.valid(i) for i in range(0, len(toy), 97)]) + 5


def test_lse_ties_kill_the_first_picked():
    st = get_strategy("lse", NB201, random.Random(0), population_size=2)
    a, b = NB201.sample(random.Random(1)), NB201.sample(random.Random(2))
    st.n_initial = 2
    st.population = [(a, 5.0), (b, 5.0)]
    rng = random.Random(0)
    i, _j = rng.sample(range(2), 2)  # the pair LSE will draw
    st.ask()
    assert st.last_killed[0] == (a, b)[i]


# --- REINFORCE ----------------------------------------------------------------------------
def test_reinforce_update_equals_torch_categorical_and_adam():
    st = Reinforce(NB201, random.Random(3))
    theta = torch.tensor(np.stack(st.logits), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=0.01)
    num = den = 0.0
    rng = np.random.default_rng(0)
    for _ in range(40):
        acts = rng.integers(0, 5, size=6).tolist()
        reward = float(rng.normal(80, 5))
        st.update(acts, reward)
        num, den = 0.9 * num + 0.1 * reward, 0.9 * den + 0.1
        logp = torch.distributions.Categorical(logits=theta).log_prob(torch.tensor(acts)).sum()
        loss = -logp * (reward - num / den)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert np.abs(np.stack(st.logits) - theta.detach().numpy()).max() < 1e-12
    assert st.baseline == pytest.approx(num / den, abs=1e-12)


def test_reinforce_samples_from_its_policy():
    st = Reinforce(NB201, random.Random(0))
    st.logits = [np.log(np.array([0.1, 0.2, 0.3, 0.3, 0.1]))] * 6
    counts = collections.Counter()
    for _ in range(4000):
        counts.update(st.view.to_indices(st.ask()[0]))
    freq = np.array([counts[k] for k in range(5)]) / (4000 * 6)
    assert np.abs(freq - [0.1, 0.2, 0.3, 0.3, 0.1]).max() < 0.02


def test_reinforce_policy_concentrates_on_the_best_op(toy_gap):
    opt = toy_gap.optimum()
    for seed in range(3):
        st = get_strategy("reinforce", NB201, random.Random(seed))
        run_search(st, table(toy_gap, NB201), Budget(evaluations=1000))
        assert st.argmax_arch() == opt
        p_best = [p[c.index(o)] for p, c, o in zip(st.probs(), st.view.choices, opt)]
        assert min(p_best) > 0.7  # from 0.2 at the start
        assert np.prod(p_best) > 0.3  # from 0.2**6 = 6.4e-5


def test_reinforce_refuses_non_finite_rewards():
    with pytest.raises(NwotError, match="finite reward"):
        Reinforce(NB201, random.Random(0)).update([0] * 6, float("-inf"))


# --- BO (TPE) ------------------------------------------------------------------------------
def test_tpe_beats_random_search_at_equal_budget(toy):
    ev = table(toy, NB201)
    tpe = [run_search(get_strategy("bo", NB201, random.Random(s)), ev, Budget(evaluations=120)).best_signal
           for s in range(6)]
    rs = [run_search(get_strategy("random", NB201, random.Random(s)), ev, Budget(evaluations=120)).best_signal
          for s in range(6)]
    assert np.mean(tpe) > np.mean(rs) + 2


def test_tpe_proposes_valid_archs_and_records_its_seed(toy):
    st = get_strategy("bo", NB201, random.Random(1))
    r = run_search(st, table(toy, NB201), Budget(evaluations=30))
    assert len({row.arch for row in r.trace}) > 20
    assert st.config()["sampler_seed"] == random.Random(1).getrandbits(32)
    assert len(st.study.trials) == 30


# --- NASWOT search ---------------------------------------------------------------------------
def test_naswot_search_picks_the_max_score_of_n_draws_with_replacement(toy):
    def scorer(a):
        i = toy.index_of(a)
        return Evaluation(float((i * 7919) % 1000), 0.5)

    r = run_search(get_strategy("naswot", NB201, random.Random(6), n=100), scorer, Budget(evaluations=100))
    rng = random.Random(6)
    draws = [NB201.sample(rng) for _ in range(100)]
    scores = [scorer(a).signal for a in draws]
    assert [row.arch for row in r.trace] == [NB201.encode(a) for a in draws]
    assert r.best_signal == max(scores) and r.best_arch == NB201.encode(draws[scores.index(max(scores))])
    assert r.used_time == 50.0
    # n also stops the search when the budget alone would not
    r2 = run_search(get_strategy("naswot", NB201, random.Random(6), n=10), scorer, Budget(seconds=1e9))
    assert r2.n_evals == 10


# --- NATS-SSS ---------------------------------------------------------------------------------
def test_categorical_views():
    assert categorical_view(NB201).choices == (tuple(NB201.ops),) * 6
    assert categorical_view(SSS).choices == ((8, 16, 24, 32, 40, 48, 56, 64),) * 5
    v = categorical_view(SSS)
    assert v.from_indices(v.to_indices((8, 64, 16, 40, 8))) == (8, 64, 16, 40, 8)


@pytest.mark.parametrize("name", ["random", "rea", "area", "reinforce", "bo", "lse"])
def test_strategies_run_on_nats_sss(name, toy_sss):
    kw = {"scorer": lambda a: Evaluation(float(sum(a)), 0.5)} if name == "area" else {}
    st = get_strategy(name, SSS, random.Random(0), **kw)
    r = run_search(st, table(toy_sss, SSS), Budget(seconds=10_000))
    evals = [row for row in r.trace if row.kind == "eval"]
    for row in evals:  # every proposal is an SSS config, evaluated on the toy table
        assert row.signal == toy_sss.valid(toy_sss.index_of(row.arch))
    assert r.best_signal == max(row.signal for row in evals)
    assert r.used_time <= 10_000 and r.n_evals == len(evals) > 100


def test_rea_finds_the_sss_optimum():
    toy = ToyBenchmark("nats_sss", gap=2.0)
    for s in range(4):
        r = run_search(get_strategy("rea", SSS, random.Random(s)), table(toy, SSS), Budget(evaluations=1000))
        assert r.best_arch == SSS.encode(toy.optimum()), s
