"""Scoring with the whole machine changes no score: 1 worker, 2 worker processes and 2 intra-op threads
give bit-identical floats on the same machine (issue #14, item 2), through ``ScoreEvaluator.map``, the
NASWOT search loop and ``score_space``."""
from __future__ import annotations

import random

import pytest
import torch

from nwot.data.datasets import scoring_batch
from nwot.evaluators.proxy import ProxyEvaluator as ScoreEvaluator
from nwot.scores.scorer import ScoreConfig
from nwot.search.base import get_strategy
from nwot.search.loop import Budget, run_search
from nwot.spaces.base import get_space

PLANS = {"serial": {"threads": 1, "workers": 1}, "2 workers": {"workers": 2}, "2 threads": {"threads": 2}}


@pytest.fixture(scope="module")
def space():
    return get_space("nb201")


@pytest.fixture(scope="module")
def images():
    return scoring_batch("cifar10", batch_size=16, seed=1)


@pytest.fixture(scope="module")
def archs(space):
    rng = random.Random(7)
    return [space.sample(rng) for _ in range(5)]


def scores_with(space, images, archs, **plan):
    ev = ScoreEvaluator(space, ScoreConfig(batch_size=16, batch_seed=1, init_seed=3, device="cpu"), images=images,
                        **plan)
    evals = list(ev.map(archs))
    assert all(e.cost > 0 and e.info["score"] == e.signal for e in evals)
    return [e.signal for e in evals], ev


def test_map_gives_the_same_scores_with_workers_or_threads(space, images, archs):
    threads_before = torch.get_num_threads()
    results = {name: scores_with(space, images, archs, **plan)[0] for name, plan in PLANS.items()}
    assert results["2 workers"] == results["serial"]  # bit-identical floats, in the archs' order
    assert results["2 threads"] == results["serial"]
    assert torch.get_num_threads() == threads_before  # map restores the thread count
    _, ev = scores_with(space, images, archs[:1], threads=1)
    assert [ev(a).signal for a in archs] == results["serial"]  # map == one call per arch


def test_naswot_search_is_the_same_with_two_workers():
    from nwot.api import naswot_search

    reports = {w: naswot_search(n=6, runs=2, seed=4, batch_size=16, device="cpu", workers=w) for w in (1, 2)}
    for one, two in zip(reports[1].runs, reports[2].runs):
        assert [r.signal for r in one.trace] == [r.signal for r in two.trace]
        assert [r.arch for r in one.trace] == [r.arch for r in two.trace]
        assert (one.best_arch, one.best_signal, one.final) == (two.best_arch, two.best_signal, two.final)
        assert (one.config["search_evaluator"]["workers"], two.config["search_evaluator"]["workers"]) == (1, 2)
        assert two.wall_seconds > 0


def test_a_budget_smaller_than_the_ask_scores_only_what_it_allows(space, images):
    ev = ScoreEvaluator(space, ScoreConfig(batch_size=16, batch_seed=1, init_seed=3, device="cpu"), images=images,
                        workers=2)
    mapped = []
    real_map = ev.map

    def spy(batch):
        mapped.append(len(batch))
        return real_map(batch)

    ev.map = spy
    strategy = get_strategy("naswot", space, random.Random(0), n=10)
    res = run_search(strategy, ev, Budget(evaluations=4))
    assert mapped == [4] and res.n_evals == 4 and len(res.trace) == 4
    rng = random.Random(0)
    assert [r.arch for r in res.trace] == [space.encode(space.sample(rng)) for _ in range(4)]  # the same draws


def test_score_space_with_workers_stores_the_serial_scores(tmp_path):
    from nwot.scores.job import score_space
    from nwot.scores.scorer import space_archs, store_key
    from nwot.scores.store import ScoreStore

    cfg = ScoreConfig(batch_size=16, batch_seed=0, init_seed=0, device="cpu")
    archs = space_archs("nb201", limit=5)
    frames = {}
    for name, plan in (("serial", {"threads": 1, "workers": 1}), ("workers", {"workers": 2})):
        with ScoreStore(tmp_path / f"{name}.sqlite") as store:
            res = score_space("nb201", archs, cfg, store, chunk_size=2, progress=False, **plan)
            assert (res.total, res.skipped, res.scored) == (5, 0, 5)
            frames[name] = store.to_frame(store_key("nb201", cfg)).sort_values("arch").reset_index(drop=True)
    assert frames["serial"]["value"].tolist() == frames["workers"]["value"].tolist()
    assert frames["serial"]["arch"].tolist() == frames["workers"]["arch"].tolist()


def test_full_batch_scores_do_not_depend_on_threads_or_workers(space):
    """At the paper's batch of 128 the convolutions split work across threads differently; still the same bits."""
    x = scoring_batch("cifar10", batch_size=128, seed=0)
    rng = random.Random(11)
    cells = [space.sample(rng) for _ in range(2)]
    ev = {name: ScoreEvaluator(space, ScoreConfig(device="cpu"), images=x, **plan) for name, plan in PLANS.items()}
    got = {name: [e.signal for e in e_.map(cells)] for name, e_ in ev.items()}
    assert got["2 threads"] == got["serial"] and got["2 workers"] == got["serial"]
