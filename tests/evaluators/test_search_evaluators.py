"""Search evaluators: table lookup with simulated time (nwot/evaluators/table.py) and stored NASWOT
scores (nwot/evaluators/stored_score.py), against the real NB201 / NATS numbers."""
from __future__ import annotations

import lzma
import math
import random

import pandas as pd
import pytest
from _search_toy import SEEDS, ToyBenchmark

from nwot.adapters.base import TRAIN_IMAGES, cost_scale, get_benchmark
from nwot.errors import BenchmarkFileError, NwotError
from nwot.evaluators.benchmark import AccuracyReport, TableEvaluator, TableSignalConfig
from nwot.evaluators.proxy import StoredScoreEvaluator
from nwot.safe_pickle import safe_load
from nwot.scores.files import read_scores
from nwot.spaces.base import get_space

NB201 = get_space("nb201")
ROW0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


@pytest.fixture(scope="module")
def bench():
    return get_benchmark("nb201")


def ev_for(bench, dataset, **kw):
    return TableEvaluator(bench, NB201, TableSignalConfig(dataset, signal_seed="mean", **kw))


def test_cifar10_search_reads_cifar10_valid_12_epoch_signal_and_cost(bench):
    e = ev_for(bench, "cifar10")(NB201.decode(ROW0))
    # shared data MANIFEST §1.5 / §1.7, index 0: hp12 cifar10-valid x-valid, hp12 cost
    assert e.signal == 63.36399998046875 and e.cost == 86.65311598777771 and e.info["index"] == 0


def test_other_datasets_read_their_own_x_valid(bench):
    a = NB201.decode(ROW0)
    assert ev_for(bench, "cifar100", cost="scaled")(a).signal == 31.840000003051756  # MANIFEST §1.5 cifar100-val
    assert ev_for(bench, "ImageNet16-120", cost="scaled")(a).signal == 18.466666661580405  # imagenet-val


def test_embedded_table_has_no_cifar100_cost_unless_scaled(bench):
    with pytest.raises(NwotError, match="cost='scaled'"):
        ev_for(bench, "cifar100")(NB201.decode(ROW0))
    a = NB201.decode(ROW0)
    assert ev_for(bench, "cifar100", cost="scaled")(a).cost == 2 * 86.65311598777771
    assert ev_for(bench, "ImageNet16-120", cost="scaled")(a).cost == pytest.approx(86.65311598777771 * 6.068, rel=1e-14)
    assert ev_for(bench, "ImageNet16-120", cost="scaled").config()["cost_scale"] == pytest.approx(6.068)
    assert cost_scale("cifar10") == 1.0 and cost_scale("cifar100") == 2.0


def test_random_seed_signal_is_refused_by_a_table_of_means(bench):
    with pytest.raises(NwotError, match="signal_seed='mean'"):
        TableEvaluator(bench, NB201, TableSignalConfig("cifar10", signal_seed="random"), rng=random.Random(0))


def test_bad_options_name_what_is_allowed():
    with pytest.raises(NwotError, match="'random', 'mean'"):
        TableSignalConfig("cifar10", signal_seed="median")
    with pytest.raises(NwotError, match="'benchmark', 'scaled'"):
        TableSignalConfig("cifar10", signal_seed="mean", cost="guess")
    with pytest.raises(NwotError, match="cifar10-valid"):
        TableSignalConfig("cifar10-valid", signal_seed="mean")


def test_random_seed_signal_draws_one_seed_per_query_like_the_official_api():
    toy = ToyBenchmark("nb201")
    ev = TableEvaluator(toy, NB201, TableSignalConfig("cifar10", signal_seed="random"), rng=random.Random(9))
    ref = random.Random(9)
    offsets = {111: -1.0, 777: 1.0}
    for k in range(50):
        a = NB201.sample(random.Random(k))
        seed = ref.choice(sorted(SEEDS))  # official is_random=True: random.choice over the sorted seeds
        e = ev(a)
        assert e.info["seed"] == seed and e.signal == toy.valid(toy.index_of(a)) + offsets[seed]
    with pytest.raises(NwotError, match="needs an rng"):
        TableEvaluator(toy, NB201, TableSignalConfig("cifar10", signal_seed="random"))


def test_space_must_match_the_benchmark(bench):
    with pytest.raises(NwotError, match="nb201"):
        TableEvaluator(bench, get_space("nats_sss"), TableSignalConfig("cifar10", signal_seed="mean"))


def test_report_gives_200_epoch_test_accuracy_of_each_dataset(bench):
    rep = AccuracyReport(bench, NB201, ("cifar10", "cifar100", "ImageNet16-120"))
    # MANIFEST §1.2 optima: C10 94.373 (6111), C100 73.513 (9930), IN16 47.311 (857)
    r = rep(NB201.decode(bench.arch(6111)))
    assert r["index"] == 6111 and r["test_accuracy"] == r["test_accuracy/cifar10"]
    assert round(r["test_accuracy/cifar10"], 3) == 94.373
    assert round(rep(NB201.decode(bench.arch(9930)))["test_accuracy/cifar100"], 3) == 73.513
    assert round(rep(NB201.decode(bench.arch(857)))["test_accuracy/ImageNet16-120"], 3) == 47.311
    assert rep(NB201.decode(ROW0))["test_accuracy"] == pytest.approx(85.86333333333334)  # MANIFEST §1.2 row 0
    assert rep.config()["report_hp"] == "200"


# --- the cost question, on the three real NATS-TSS records (whole files in the committed cut) --------
def _records(root):
    root = root / "nats" / "NATS-tss-v1_0-3ffb9-simple"
    return {int(p.name[:6]): safe_load(p)["12"] for p in sorted(root.glob("0*.pickle.pbz2"))}


def test_nats_train_times_scale_with_training_set_size(cut_data):
    recs = _records(cut_data)
    assert sorted(recs) == [0, 11, 284]
    for idx, rec in recs.items():
        train = {}
        for (ds, _seed), r in rec["all_results"].items():
            train.setdefault(ds, set()).add(sum(r["train_times"].values()))
        assert all(len(v) == 1 for v in train.values())  # the same simulated time for every seed
        t = {ds: v.pop() for ds, v in train.items()}
        for ds in ("cifar10", "cifar100", "ImageNet16-120"):
            ratio = TRAIN_IMAGES[ds] / TRAIN_IMAGES["cifar10-valid"]  # 2, 2, 6.068
            assert t[ds] / t["cifar10-valid"] == pytest.approx(ratio, rel=1e-12), (idx, ds)
        assert t["cifar100"] / t["cifar10-valid"] == cost_scale("cifar100")
        assert t["ImageNet16-120"] / t["cifar10-valid"] == pytest.approx(cost_scale("ImageNet16-120"), rel=1e-12)


def test_embedded_cost_is_the_12_epoch_train_time_without_valid_time(cut_data, bench):
    for idx, rec in _records(cut_data).items():
        r = rec["all_results"][("cifar10-valid", 777)]
        train = sum(r["train_times"].values())
        valid_per = sum(v for k, v in r["eval_times"].items() if k.startswith("x-valid@")) / r["epochs"]
        stored = bench.query(idx, "cifar10-valid", "12").cost
        assert stored == pytest.approx(train, rel=1e-12)
        assert 2.0 < valid_per < 4.5 and stored < train + valid_per  # official cost = train + valid-per-time


# --- stored NASWOT scores ----------------------------------------------------------------------
def _write(tmp_path, text, name="scores.csv.xz"):
    p = tmp_path / name
    if name.endswith(".xz"):
        with lzma.open(p, "wt") as f:
            f.write(text)
    else:
        p.write_text(text)
    return p


def test_stored_scores_are_looked_up_with_their_seconds(tmp_path, bench):
    p = _write(tmp_path, "index,arch,score,seconds\n0,x,1500.25,0.75\n1,y,-inf,0.5\n6111,z,1700.5,1.25\n")
    ev = StoredScoreEvaluator.for_benchmark(p, bench, NB201)
    e = ev(NB201.decode(ROW0))
    assert (e.signal, e.cost, e.info["index"]) == (1500.25, 0.75, 0)
    assert ev(NB201.decode(bench.arch(1))).signal == -math.inf
    assert ev(NB201.decode(bench.arch(6111))).cost == 1.25 and len(ev) == 3
    with pytest.raises(NwotError, match=r"\(index 2\) has no stored score .* covers 3 indices"):
        ev(NB201.decode(bench.arch(2)))


@pytest.mark.parametrize("text, match", [
    ("index,score\n0,1.0\n", "lacks column"),
    ("index,score,seconds\n0,1.0,0.5\n", "lacks column.*arch"),
    ("index,arch,score,seconds\n0,a,1.0,0.5\n0,a,2.0,0.5\n", "more than once"),
    ("index,arch,score,seconds\n0,a,nan,0.5\n", "NaN"),
    ("index,arch,score,seconds\n0,a,1.0,-1\n", "seconds of index 0"),
    ("index,arch,score,seconds\n", "no rows"),
])
def test_bad_score_files_are_refused(tmp_path, text, match):
    with pytest.raises(BenchmarkFileError, match=match):
        read_scores(_write(tmp_path, text, "bad.csv"))


def test_missing_score_file(tmp_path):
    with pytest.raises(BenchmarkFileError, match="not found"):
        read_scores(tmp_path / "nope.csv")


def test_stored_scores_from_a_frame(bench):
    df = pd.DataFrame({"score": [3.5], "seconds": [0.25]}, index=pd.Index([0], name="index"))
    ev = StoredScoreEvaluator.for_benchmark(df, bench, NB201)
    assert ev(NB201.decode(ROW0)).signal == 3.5


# --- signal noise (a model of the one-seed draw on a table of seed means) ---------------------
def test_signal_noise_sd_estimated_from_the_raw_nats_records(cut_data):
    from nwot.adapters.nats import open_nats_tss
    from nwot.evaluators.benchmark import estimate_signal_noise

    # independent: the raw hp-12 cifar10-valid records, x-valid accuracy after the last (12th) epoch
    ss, n = 0.0, 0
    for _idx, rec in _records(cut_data).items():
        x = [r["eval_acc1es"][f"x-valid@{r['epochs'] - 1}"] for (ds, _s), r in rec["all_results"].items()
             if ds == "cifar10-valid"]
        assert len(x) == 2  # seeds 111 and 777 (MANIFEST §2)
        m = sum(x) / 2
        ss, n = ss + sum((v - m) ** 2 for v in x), n + 2
    est = estimate_signal_noise(open_nats_tss(cut_data / "nats" / "NATS-tss-v1_0-3ffb9-simple"), "cifar10")
    assert (est["archs"], est["results"], est["dataset"], est["hp"]) == (3, 6, "cifar10-valid", "12")
    assert est["sd"] == pytest.approx(math.sqrt(ss / n), rel=1e-12)
    assert round(est["sd"], 2) == 0.87  # index 0: 64.016 / 62.712, 11: 62.580 / 63.976, 284: 71.708 / 74.044


def test_signal_noise_adds_one_gaussian_draw_per_query(bench):
    cfg = TableSignalConfig("cifar10", signal_seed="mean", signal_noise=0.87)
    ev = TableEvaluator(bench, NB201, cfg, rng=random.Random(5))
    clean = ev_for(bench, "cifar10")
    ref = random.Random(5)
    a = NB201.decode(ROW0)
    for _ in range(3):  # the same arch twice gets a fresh draw each time (like a fresh seed draw)
        e, c = ev(a), clean(a)
        assert e.signal == c.signal + ref.gauss(0.0, 0.87) and e.cost == c.cost
        assert e.info["noise"] == pytest.approx(e.signal - c.signal, abs=1e-9)
    assert ev.config()["signal_noise"] == 0.87
    with pytest.raises(NwotError, match="needs an rng"):
        TableEvaluator(bench, NB201, cfg)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(NwotError, match="signal_noise must be a finite number >= 0"):
            TableSignalConfig("cifar10", signal_seed="mean", signal_noise=bad)


def test_run_strategy_records_the_signal_noise_and_is_seeded(bench):
    from nwot.search.run import run_strategy

    kw = dict(budget_seconds=3000, runs=2, seed=3, signal_noise=0.87)
    a, b = run_strategy("random", **kw), run_strategy("random", **kw)
    assert [r.best_arch for r in a] == [r.best_arch for r in b]
    assert a[0].config["search_evaluator"]["signal_noise"] == 0.87
    quiet = run_strategy("random", budget_seconds=3000, runs=1, seed=3)[0]
    # the same sampled cells (the strategy's RNG is separate), signals differ by the noise only
    assert [r.arch for r in quiet.trace][:5] == [r.arch for r in a[0].trace][:5]
    assert any(abs(x.signal - y.signal) > 1e-6 for x, y in zip(quiet.trace, a[0].trace))
