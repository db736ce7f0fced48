"""Issue 17, part 3: Pareto fronts (pymoo) against brute force, hypervolumes, NSGA-II, the Pareto mode of run().

Data: the embedded NB201 table; subsets are seeded random cells (300 / 200 indices), checked against an
independent O(n^2) dominance test and an independent sweep-line hypervolume.
"""
from __future__ import annotations

import random

import numpy as np
import pytest

import nwot
from nwot.adapters.hardware import DEVICES
from nwot.errors import NwotError
from nwot.search.loop import Budget
from nwot.search.pareto import hypervolume, hypervolume_ratio, non_dominated, true_front
from nwot.search.run import benchmark_setup, proxy_setup, run

SCORES = "benchmarks/results/nb201_cifar10_naswot_clean_seed0.csv.xz"


def brute_front(acc, cost):
    """O(n^2): i is on the front iff no j has acc_j >= acc_i, cost_j <= cost_i with one strict."""
    out = []
    for i in range(len(acc)):
        dominated = any(acc[j] >= acc[i] and cost[j] <= cost[i] and (acc[j] > acc[i] or cost[j] < cost[i])
                        for j in range(len(acc)))
        if not dominated:
            out.append(i)
    return set(out)


def sweep_hv(acc, cost, ref):
    """Independent 2-D hypervolume: sort by cost, add the rectangle each point adds above the best so far."""
    pts = sorted((c, a) for a, c in zip(acc, cost) if a > ref[0] and c < ref[1])
    # strips between consecutive costs; height = the best accuracy reached at or below that cost
    hv, best = 0.0, ref[0]
    for k, (c, a) in enumerate(pts):
        best = max(best, a)
        nxt = pts[k + 1][0] if k + 1 < len(pts) else ref[1]
        hv += (best - ref[0]) * (nxt - c)
    return hv


@pytest.fixture(scope="module")
def bench():
    return nwot.get_benchmark("nb201")


@pytest.fixture(scope="module")
def subset():
    return sorted(random.Random(17).sample(range(15_625), 300))


def test_hand_computed_front_and_hypervolume():
    acc, cost = [90.0, 80.0, 85.0, 90.0], [2.0, 1.0, 2.5, 2.0]
    assert list(non_dominated(acc, cost)) == [1, 0, 3]  # (85, 2.5) is dominated by (90, 2); equal points both kept
    assert hypervolume([90, 80], [2, 1], (70, 3)) == pytest.approx(20 * 1 + 10 * 1)
    assert hypervolume([60], [1], (70, 3)) == 0.0


@pytest.mark.parametrize("device", DEVICES)
def test_true_front_equals_brute_force_on_a_real_subset(bench, subset, device):
    metric = f"{device}_latency"
    tf = true_front(bench, metric, "cifar10", indices=subset)
    acc = bench.to_frame()["cifar10/ori-test@200"].to_numpy()[subset]
    cost = bench.metric_values(metric, "cifar10")[subset]
    ok = [k for k in range(len(subset)) if np.isfinite(cost[k])]  # edgetpu: unmeasured cells have no place
    expected = {subset[ok[k]] for k in brute_front(acc[ok], cost[ok])}
    assert set(tf.indices.tolist()) == expected
    assert np.all(np.diff(tf.cost[tf.indices]) >= 0) and np.all(np.diff(tf.accuracy[tf.indices]) >= 0)
    assert tf.hypervolume == pytest.approx(sweep_hv(acc[ok], cost[ok], tf.reference), rel=1e-12)
    assert hypervolume_ratio(tf.indices, tf) == pytest.approx(1.0)
    assert 0 < hypervolume_ratio(tf.indices[::2], tf) < 1


def test_full_true_front(bench):
    tf = true_front(bench, "edgegpu_latency", "cifar10")
    best_i, best_acc = tf.best_under(np.inf)
    assert best_i in (6111, 13714) and round(best_acc, 2) == 94.37  # the NB201 optimum is on the front
    # 6111 and 13714 tie at the optimum; the one with the lower latency is on the front, the other dominated
    on_front = {6111, 13714} & set(tf.indices.tolist())
    assert len(on_front) == 1 and tf.accuracy[tf.indices].max() == best_acc
    (j,) = on_front
    assert tf.cost[j] == min(tf.cost[6111], tf.cost[13714])
    i, a = tf.best_under(3.0)
    assert tf.cost[i] <= 3.0 and a == np.nanmax(np.where(tf.cost <= 3.0, tf.accuracy, np.nan))


def test_pareto_mode_of_run(bench):
    setup = benchmark_setup("nb201", "cifar10")
    look = setup.cost_lookup("raspi4_latency")
    res = setup.run("random", Budget(seconds=3000), runs=1, seed=0, pareto=look).runs[0]
    evaluated = {}
    for r in res.trace:
        evaluated.setdefault(r.arch, (r.signal, look(setup.space.decode(r.arch))))
    archs = list(evaluated)
    expected = {archs[k] for k in brute_front([evaluated[a][0] for a in archs], [evaluated[a][1] for a in archs])}
    assert {f["arch"] for f in res.front} == expected
    for f in res.front:
        assert f["test_accuracy"] == bench.query(f["arch"], "cifar10", 200).test_accuracy
        assert f["raspi4_latency"] == bench.query(f["arch"], "cifar10", 200).hardware["raspi4"].latency_ms
    assert res.config["pareto_metric"] == "raspi4_latency" and res.config["pareto_unit"] == "ms"


def test_training_free_pareto_front():
    ps = proxy_setup("nb201", "cifar10", scores=SCORES)
    res = ps.run("naswot", Budget(evaluations=200), runs=1, seed=0, options={"n": 200},
                 pareto=ps.cost_lookup("edgegpu_latency")).runs[0]
    scores = [f["signal"] for f in res.front]
    lats = [f["edgegpu_latency"] for f in res.front]
    assert scores == sorted(scores) and lats == sorted(lats) and len(res.front) >= 2


def test_nsga2_is_seeded_and_leaves_global_rngs_alone():
    setup = benchmark_setup("nb201", "cifar10")
    look = setup.cost_lookup("edgegpu_latency")
    state_py, state_np = random.getstate(), np.random.get_state()
    a = setup.run("nsga2", Budget(seconds=3000), runs=1, seed=5, pareto=look).runs[0]
    assert random.getstate() == state_py and all(
        np.array_equal(x, y) for x, y in zip(np.random.get_state()[1:2], state_np[1:2]))
    b = setup.run("nsga2", Budget(seconds=3000), runs=1, seed=5, pareto=look).runs[0]
    assert [r.arch for r in a.trace] == [r.arch for r in b.trace] and a.front == b.front
    assert a.config["generations"] >= 1 and len(a.front) >= 2
    with pytest.raises(NwotError, match="multi-objective.*--pareto"):
        run("nsga2", setup.space, setup.evaluator, Budget(seconds=3000))


def test_nsga2_under_a_constraint():
    setup = benchmark_setup("nb201", "cifar10", constraints=["params<=0.5"])
    res = setup.run("nsga2", Budget(seconds=3000), runs=1, seed=0, pareto=setup.cost_lookup("edgegpu_latency")).runs[0]
    assert all(setup.feasible(setup.space.decode(r.arch)) for r in res.trace)
    assert all(f["index"] is not None and setup.benchmark.params(f["index"]) <= 0.5 for f in res.front)
