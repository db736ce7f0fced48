"""The LSE strategy on its own space (Real et al., ICML 2017, §3.1), screening, state, failures."""
from __future__ import annotations

import json
import math
import random

import pytest
import torch

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.evaluators.proxy import ProxyEvaluator
from nwot.scores.scorer import ScoreConfig
from nwot.search.base import get_strategy
from nwot.search.loop import Budget, run_search
from nwot.search.lse import LargeScaleEvolution
from nwot.spaces import get_space
from nwot.spaces.lse.codec import Individual, structure_key, trivial_genome

SPACE = get_space("lse")


def score_eval(value) -> Evaluation:
    """A toy scorer's answer: the score, or a failed score (None: undefined, as for a network without ReLU)."""
    return Evaluation.failed("no ReLU units", 0.01) if value is None else Evaluation(float(value), 0.01)


def depth_signal(ind) -> Evaluation:
    """Toy fitness: more convolutions (and channels) is better; costs 1 s."""
    g = ind.genome
    return Evaluation(len(g.convs()) + 0.001 * sum(e.conv.channels for e in g.convs()), 1.0)


def test_initial_population_is_trivial_and_children_name_their_parents():
    st = get_strategy("lse", SPACE, random.Random(0), population_size=6)
    for _ in range(6):
        (a,) = st.ask()
        assert a.genome == trivial_genome() and a.parent == "" and a.mutation == "initial"
        st.tell([a], [depth_signal(a)])
    assert len({a.uid for a, _ in st.population}) == 6
    for _ in range(100):
        before = list(st.population)
        (child,) = st.ask()
        killed, parent = st.last_killed, st.last_parent
        assert killed in before and parent in before and killed[1] <= parent[1]
        assert killed not in st.population and parent in st.population and len(st.population) == 5
        assert child.parent == parent[0].uid and child.uid not in {a.uid for a, _ in before}
        st.tell([child], [depth_signal(child)])
    assert max(len(a.genome.convs()) for a, _ in st.population) >= 3  # selection grows the networks
    stats = st.config()["stats"]
    assert stats["killed"] == 100 and sum(v for k, v in stats.items() if k.startswith("mutation:")) == 100


def test_failed_children_never_reproduce():
    st = LargeScaleEvolution(SPACE, random.Random(1), population_size=4)
    for _ in range(4):
        (a,) = st.ask()
        st.tell([a], [Evaluation(1.0, 1.0)])
    for k in range(60):
        (child,) = st.ask()
        assert st.last_parent[1] > -math.inf
        ev = Evaluation.failed("OutOfMemoryError: x", 1.0) if k % 2 else \
            Evaluation.failed("diverged: the training loss became non-finite", 1.0, diverged=True)
        st.tell([child], [ev])
        assert st.population[-1][1] == -math.inf
    assert st.config()["stats"]["failed"] == 60
    with pytest.raises(NwotError, match="population has 1"):
        for _ in range(10):
            st.ask()


def test_async_asks_then_tells_in_any_order():
    st = LargeScaleEvolution(SPACE, random.Random(2), population_size=5)
    for _ in range(5):
        (a,) = st.ask()
        st.tell([a], [depth_signal(a)])
    kids = [st.ask()[0] for _ in range(4)]  # each ask kills one: 4 in flight, 1 member left
    assert len(st.population) == 1 and len(st.pending) == 4
    with pytest.raises(NwotError, match="4 children in flight"):
        st.ask()
    for k in (kids[2], kids[0], kids[3], kids[1]):
        st.tell([k], [depth_signal(k)])
    assert len(st.population) == 5 and not st.pending


def test_snapshot_restore_continues_identically():
    def steps(st, n):
        out = []
        for _ in range(n):
            (a,) = st.ask()
            st.tell([a], [depth_signal(a)])
            out.append(SPACE.encode(a))
        return out

    a = LargeScaleEvolution(SPACE, random.Random(5), population_size=5)
    steps(a, 30)
    snap = json.loads(json.dumps(a.snapshot()))
    b = LargeScaleEvolution(SPACE, random.Random(999), population_size=5)
    b.restore(snap)
    assert steps(a, 25) == steps(b, 25)


def test_screen_drops_children_scored_below_the_parent():
    calls = []

    def scorer(ind):  # toy "NASWOT": fewer convolutions score higher; the trivial model has no score
        calls.append(structure_key(ind.genome))
        return score_eval(None if not ind.genome.edges else 10.0 - len(ind.genome.convs()))

    def toy(ind):
        return 10.0 - len(ind.genome.convs()) if ind.genome.edges else None

    st = LargeScaleEvolution(SPACE, random.Random(3), population_size=4, screen_threshold=0.5, scorer=scorer)
    n_checked = 0
    for _ in range(150):
        exhausted = st.stats["screen_exhausted"]
        (child,) = st.ask()
        parent = st.last_parent[0] if child.parent else None
        if parent is not None and st.stats["screen_exhausted"] == exhausted:
            sp, sc = toy(parent), toy(child)
            if sp is not None and sc is not None:
                assert sc >= sp - 0.5  # never more convolutions than the parent
                n_checked += 1
        st.tell([child], [depth_signal(child)])
    assert n_checked > 20 and st.stats["screened_out"] > 10
    assert len(calls) == len(set(calls)) == st.stats["scored"]  # memoised per structure
    charged = st.take_charges()
    assert len(charged) == len(calls) and {kind for _, _, kind in charged} == {"score"}


def test_screen_scoring_is_charged_to_the_budget():
    st = LargeScaleEvolution(SPACE, random.Random(3), population_size=4, screen_threshold=0.0,
                             scorer=lambda ind: score_eval(None if not ind.genome.edges else -len(ind.genome.edges)))
    res = run_search(st, depth_signal, Budget(evaluations=60))
    scores = [row for row in res.trace if row.kind == "score"]
    assert len(scores) == st.stats["scored"] > 0 and res.n_evals == 60
    assert res.used_time == pytest.approx(60 * 1.0 + sum(r.cost for r in scores))


def test_screen_options_are_checked():
    with pytest.raises(NwotError, match="screen_threshold"):
        LargeScaleEvolution(SPACE, random.Random(0), screen_threshold=-1)
    with pytest.raises(NwotError, match="population_size"):
        LargeScaleEvolution(SPACE, random.Random(0), population_size=1)
    with pytest.raises(NwotError, match="needs a scorer"):
        LargeScaleEvolution(SPACE, random.Random(0), screen_threshold=1.0)


def test_the_shared_scorer_on_lse_networks():
    """The driver's NASWOT scorer builds lse networks from its init seed (not the individual's uid)."""
    from nwot.proxies.naswot import naswot_score

    x = torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    sc = ProxyEvaluator(SPACE, ScoreConfig(batch_size=16, init_seed=7, device="cpu"), images=x)
    rng = random.Random(0)
    trivial = sc(SPACE.sample(rng))
    assert not trivial.ok and "no ReLU units" in trivial.failure and trivial.cost >= 0
    ind = SPACE.sample(rng)
    while not any(v.act == "bn_relu" for v in ind.genome.vertices):
        ind = SPACE.mutate(ind, rng)
    ev = sc(ind)
    assert ev.ok and math.isfinite(ev.signal) and ev.signal > 0
    # independently: the same network built with init seed 7 and scored directly
    assert ev.signal == naswot_score(SPACE.build(ind, init_seed=7), x)
    twin = Individual(ind.genome, "00000000000000aa", ind.uid, "identity")  # another uid, the same network
    assert sc(twin).signal == ev.signal
    other = sc.with_seeds(0, 8)  # another init seed: another init, scored as built with that seed
    assert other(ind).signal == naswot_score(SPACE.build(ind, init_seed=8), x)
    w7, w8 = (list(s.scorer.build(ind).state_dict().values()) for s in (sc, other))
    assert any(not torch.equal(a, b) for a, b in zip(w7, w8))


def test_lse_still_runs_on_the_nb201_table_with_the_space_mutation():
    from _search_toy import ToyBenchmark

    from nwot.evaluators.benchmark import TableEvaluator, TableSignalConfig

    nb201 = get_space("nb201")
    toy = ToyBenchmark("nb201")
    ev = TableEvaluator(toy, nb201, TableSignalConfig("cifar10", signal_seed="mean"))
    res = run_search(get_strategy("lse", nb201, random.Random(0)), ev, Budget(evaluations=200))
    assert res.n_evals == 200 and res.best_signal == max(r.signal for r in res.trace)


def _oom(*args, **kwargs):
    raise torch.OutOfMemoryError("CUDA out of memory (simulated)")


class OomSpace(type(SPACE)):
    """The lse space, but building a network with a convolution runs out of (device) memory."""

    def build(self, arch, num_classes=10, init_seed=None, **kwargs):
        if self._genome(arch).convs():
            _oom()
        return super().build(arch, num_classes, init_seed, **kwargs)


def test_a_scorer_out_of_memory_does_not_stop_the_search():
    space = OomSpace()
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    scorer = ProxyEvaluator(space, ScoreConfig(batch_size=8, device="cpu"), images=x)
    st = LargeScaleEvolution(space, random.Random(0), population_size=3, screen_threshold=0.0, scorer=scorer)
    res = run_search(st, depth_signal, Budget(evaluations=30))
    rows = [r for r in res.trace if r.kind == "score"]
    assert res.n_evals == 30 and len(rows) == st.stats["scored"] > 0
    assert st.stats["score_failed"] == sum(1 for r in rows if r.failure) > 0
    oom = [r for r in rows if space.decode(r.arch).genome.convs()]
    assert oom and all(r.failure.startswith("OutOfMemoryError: CUDA out of memory") for r in oom)  # not a crash
    assert st.stats["screened_out"] == 0  # a failed score never drops a child
