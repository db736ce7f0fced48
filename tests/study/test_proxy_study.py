"""Issue #16 part 2: the proxy correlation table, label-free ensembles, few-shot splits and ensemble search.

Every expected number below is worked out by hand in the comment beside it.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nwot.errors import NwotError
from nwot.study.ensemble_search import ensemble_search
from nwot.study.ensembles import (
    aggregate,
    log_rank_product,
    mean_rank,
    normalised_ranks,
    rank_matrix,
    select_label_free,
    vote,
)
from nwot.study.fewshot import nb201_onehot, split_cells
from nwot.study.proxy_correlations import ColumnInfo, correlation_row, correlation_table, oriented, proxy_matrix
from nwot.study.proxy_metrics import bootstrap_interval, kendall, ndcg_at_k, nonfinite_counts, spearman

CFG = "snip[mode=clean,bs=32,input=images,dtype=float32,bn=train,init=default,v=1.2]"


def test_kendall_spearman_by_hand():
    # x = 1 2 3 4, y = 1 3 2 4: of 6 pairs only (2, 3) is discordant -> tau = (5 - 1) / 6;
    # rank differences d = 0, 1, -1, 0 -> rho = 1 - 6 * 2 / (4 * 15) = 0.8
    x, y = np.array([1, 2, 3, 4.0]), np.array([1, 3, 2, 4.0])
    assert kendall(x, y) == pytest.approx(4 / 6)
    assert spearman(x, y) == pytest.approx(0.8)
    # -inf is an ordinary lowest value: [-inf, 2, 3, 4] ranks like [1, 2, 3, 4]
    assert kendall(np.array([-np.inf, 2, 3, 4]), y) == pytest.approx(4 / 6)


def test_ndcg_by_hand():
    # acc 0, 1, 2 -> gains 0, 0.5, 1; score order = positions 0, 1, 2 (the worst first)
    # DCG@2 = 0 / log2(2) + 0.5 / log2(3); IDCG@2 = 1 / log2(2) + 0.5 / log2(3)
    l3 = math.log2(3)
    assert ndcg_at_k([3, 2, 1], [0, 1, 2], 2) == pytest.approx((0.5 / l3) / (1 + 0.5 / l3))
    assert ndcg_at_k([1, 2, 3], [0, 1, 2], 3) == pytest.approx(1.0)  # the accuracy order itself
    with pytest.raises(NwotError, match="1..3"):
        ndcg_at_k([1, 2, 3], [0, 1, 2], 4)


def test_bootstrap_interval_is_the_percentiles_of_seeded_resamples():
    x = np.array([1.0, 5.0, 2.0, 8.0, 3.0])
    y = np.arange(5.0)
    lo, hi = bootstrap_interval(lambda a, b: float(a.mean()), x, y, draws=200, seed=3)
    rng = np.random.default_rng(3)  # the same procedure by hand
    means = [x[rng.integers(0, 5, 5)].mean() for _ in range(200)]
    assert (lo, hi) == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])))
    # a score equal to the accuracy has tau = 1 on every resample that is defined
    assert bootstrap_interval(kendall, y, y, draws=100, seed=0) == pytest.approx((1.0, 1.0))


def test_correlation_row_counts_drops_nan_orients_and_stamps_protocol():
    idx = pd.Index([10, 11, 12, 13, 14])
    acc = pd.Series([90.0, 80.0, 70.0, 60.0, 50.0], index=idx)
    # a lower-is-better proxy: raw values 1 < 2 < 3 track accuracy downwards; NaN dropped, -inf (oriented: +inf)
    raw = pd.Series([1.0, 2.0, np.nan, 3.0, np.inf], index=idx)
    info = ColumnInfo("snip", "snip", -1, CFG, 0, 1)
    o = oriented(pd.DataFrame({"snip": raw}), [info])["snip"]
    assert o.tolist()[:2] == [-1.0, -2.0] and np.isneginf(o.iloc[4])
    r = correlation_row(info, o, acc, cell_set="five", accuracy_name="cifar10/ori-test@200", draws=50)
    assert (r.n, r.n_scored, r.n_nan, r.n_neg_inf) == (4, 5, 1, 1)
    assert r.kendall_tau == pytest.approx(1.0) and r.spearman_rho == pytest.approx(1.0)
    assert r.topk["top10%"] == 1.0  # k = max(1, round(0.4)) = 1: the best cell is the score's best
    p = r.protocol
    assert (p.cells, p.batch, p.mode, p.dtype, p.split, p.epochs, p.batch_seed, p.init_seed) == \
           (4, "32", "clean", "float32", "ori-test", 200, 0, 1)
    assert r.flat()["protocol.config"] == CFG


def test_constant_proxy_has_undefined_not_zero_correlation():
    idx = pd.RangeIndex(5)
    acc = pd.Series(np.arange(5.0), index=idx)
    r = correlation_row(ColumnInfo("c", "snip", 1, CFG), pd.Series(np.ones(5), index=idx), acc, cell_set="x",
                        accuracy_name="cifar10/ori-test@200", draws=20)
    assert math.isnan(r.kendall_tau) and math.isnan(r.kendall_lo)


def test_table_and_matrix():
    idx = pd.RangeIndex(6)
    df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6.0], "b": [6, 5, 4, 3, 2, 1.0], "a__status": "ok", "b__status": "ok"},
                      index=idx)
    cols = [ColumnInfo("a", "snip", 1, CFG), ColumnInfo("b", "snip", 1, CFG)]
    rows = correlation_table(df, cols, pd.Series(np.arange(6.0), index=idx), cell_set="x",
                             accuracy_name="cifar10/ori-test@200", draws=20)
    assert [(r.column, r.kendall_tau) for r in rows] == [("a", pytest.approx(1.0)), ("b", pytest.approx(-1.0))]
    m = proxy_matrix(df, cols)
    assert m.loc["a", "b"] == pytest.approx(-1.0) and m.loc["a", "a"] == 1.0
    assert nonfinite_counts([1, np.nan, -np.inf, np.inf, np.nan]) == {"nan": 2, "neg_inf": 1, "pos_inf": 1}


def test_rank_aggregation_by_hand():
    s = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    q = rank_matrix(s)  # a: 1/3 2/3 1; b: 1 1/3 2/3
    assert q[:, 1] == pytest.approx([1, 1 / 3, 2 / 3])
    assert mean_rank(q) == pytest.approx([2 / 3, 1 / 2, 5 / 6])
    assert log_rank_product(q) == pytest.approx([math.log(1 / 3), math.log(2 / 9), math.log(2 / 3)])
    # vote: 0 vs 1 split 1:1, 0 vs 2 split 1:1, 2 beats 1 on both columns
    assert vote(q).tolist() == [0, 0, 1]
    # three columns in a Condorcet cycle: each cell beats exactly one other; mean ranks all tie at 2/3
    s3 = s.assign(c=[2.0, 3.0, 1.0])
    assert vote(rank_matrix(s3)).tolist() == [1, 1, 1]
    assert mean_rank(rank_matrix(s3)) == pytest.approx([2 / 3] * 3)
    assert aggregate(s, "mean_rank").index.equals(s.index)
    with pytest.raises(NwotError, match="mean_rank"):
        aggregate(s, "median")


def test_aggregation_with_a_failed_value():
    # b failed on cell 0: its ranks are over 2 values (cell 1: 1/2, cell 2: 1)
    s = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [np.nan, 1.0, 2.0]})
    q = rank_matrix(s)
    assert np.isnan(q[0, 1]) and q[1:, 1] == pytest.approx([0.5, 1.0])
    assert mean_rank(q) == pytest.approx([1 / 3, (2 / 3 + 0.5) / 2, 1.0])  # mean over the columns it has
    # log-rank product: the failure counts as b's lowest rank 1 / 2, never helps
    assert log_rank_product(q)[0] == pytest.approx(math.log(1 / 3) + math.log(1 / 2))
    assert normalised_ranks([np.nan, -np.inf, 5.0]).tolist()[1:] == [0.5, 1.0]


def test_label_free_subset_uses_stability_consensus_and_redundancy():
    cols = ["A", "B", "C", "D"]
    m = pd.DataFrame([[1, .99, .6, .5], [.99, 1, .5, .5], [.6, .5, 1, .2], [.5, .5, .2, 1]], index=cols,
                     columns=cols)
    # D fails stability; consensus over A, B, C: A (.99+.6)/2 = .795, B .745, C .55 -> A, then B is a
    # near-copy of A (.99 > .95), then C
    ch = select_label_free(m, size=2, stability={"D": 0.5, "A": 0.97})
    assert ch.chosen == ["A", "C"]
    assert ch.consensus["A"] == pytest.approx(0.795)
    assert "stability" in ch.dropped["D"] and "redundant" in ch.dropped["B"]


def test_fewshot_split_never_trains_on_evaluated_cells(monkeypatch):
    import nwot.study.fewshot as fs

    train, test = split_cells(20, 5, np.random.default_rng(0))
    assert len(train) == 5 and len(test) == 15 and not set(train) & set(test)
    assert sorted(set(train) | set(test)) == list(range(20))
    seen = []

    def fake_fit(x_train, y_train, x_test, cfg, seed):  # rows carry their cell id in column 0
        seen.append((set(x_train[:, 0]), set(x_test[:, 0])))
        return x_test[:, 1]

    monkeypatch.setattr(fs, "fit_predict", fake_fit)
    x = np.column_stack([np.arange(30.0), np.arange(30.0)])
    r = fs.fewshot_draws(x, np.arange(30.0), 10, draws=4, seed=7)
    assert len(seen) == 4 and all(not tr & te and len(tr) == 10 and len(te) == 20 for tr, te in seen)
    assert len({frozenset(tr) for tr, _ in seen}) == 4  # four different draws
    assert (r.k, r.evaluated, r.pool) == (10, 20, 30)
    assert r.kendall_mean == pytest.approx(1.0)  # the fake predicts the accuracy itself
    with pytest.raises(NwotError, match="2..29"):
        split_cells(30, 30, np.random.default_rng(0))


def test_fewshot_lightgbm_learns_a_monotone_target():
    pytest.importorskip("lightgbm")
    from nwot.study.fewshot import BoostConfig, fewshot_draws

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    r = fewshot_draws(x, 2 * x[:, 0], 100, draws=2, seed=0, cfg=BoostConfig(n_estimators=100))
    assert r.evaluated == 200 and r.kendall_mean > 0.8


def test_onehot_encoding():
    a = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"
    v = nb201_onehot([a])
    # ops: none 0, skip 1, conv1x1 2, conv3x3 3, pool 4; edge e at columns 5e..5e+4
    assert v.shape == (1, 30) and v.sum() == 6
    assert np.flatnonzero(v[0]).tolist() == [3, 5, 11, 19, 22, 25]


def test_ensemble_search_by_hand():
    # a score that ranks backwards: with N = 60 draws of 3 cells every cell is drawn (seeded), so the pick
    # is always the worst cell (50), the oracle the best (90); NASWOT (same column) picks the same
    idx = pd.Index([5, 6, 7])
    acc = pd.Series([90.0, 70.0, 50.0], index=idx)
    s = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=idx)
    r = ensemble_search(s, acc, 60, 10, single=s["x"], seed=0)
    assert (r.ensemble_mean, r.single_mean, r.oracle_mean, r.pool) == (50.0, 50.0, 90.0, 3)
    assert r.ensemble_std == 0.0
    with pytest.raises(NwotError, match="same index"):
        ensemble_search(s, acc, 5, 2, single=pd.Series([1.0, 2.0], index=[5, 6]))


def test_config_fields_ignore_a_source_note():
    from nwot.study.proxy_correlations import config_fields

    f = config_fields(CFG + " (NB201 table 'flops')")
    assert (f["bs"], f["mode"], f["v"]) == ("32", "clean", "1.2")
    assert config_fields("naswot") == {}


def test_sample_pool_is_the_stored_prefix_in_draw_order():
    from nwot.study.proxy_study import stored_prefix

    cols = [ColumnInfo("a", "snip", 1, CFG), ColumnInfo("b", "snip", 1, CFG)]
    df = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0], "a__status": ["ok", "ok", "no_path", "ok"],
                       "b": [1.0, 2.0, 3.0, 4.0], "b__status": ["ok", None, "ok", "ok"]}, index=[10, 11, 12, 13])
    # draw order 13, 12, 99 (never scored), 10: 13 and 12 are stored (12 as a failure), 99 ends the prefix
    assert stored_prefix(df, [13, 12, 99, 10], cols).index.tolist() == [13, 12]
    # 11 lacks b: it ends the prefix although 10 after it is complete
    assert stored_prefix(df, [10, 11, 13], cols).index.tolist() == [10]
    assert stored_prefix(df, [10, 13], cols).index.tolist() == [10, 13]


def test_run_study_keeps_fewshot_apart_and_stamps_every_row():
    pytest.importorskip("lightgbm")
    import nwot
    from nwot.proxies import get_proxy
    from nwot.study.proxy_report import run_study
    from nwot.study.proxy_study import StudyData, study_pools

    table = nwot.load_nb201_table()
    cells = list(range(120))
    acc = table.loc[cells, "cifar10/ori-test@200"].to_numpy()
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"flops": table.loc[cells, "flops"].to_numpy(), "snip": acc + rng.normal(0, 5, 120),
                       "jacov": acc + rng.normal(0, 10, 120)}, index=cells)
    for c in list(df.columns):
        df[f"{c}__status"] = "ok"
    configs = {c: get_proxy(c).config_id("clean") for c in ("flops", "snip", "jacov")}
    data = StudyData(df, configs)
    pools = study_pools(data, table, sample_cells=[], naslib_cells=cells, sample=(), naslib=("flops", "snip", "jacov"))
    assert list(pools) == ["naslib725", "suite"] and len(pools["naslib725"].frame) == 120
    res = run_study({"naslib725": pools["naslib725"]}, data, table, draws=20, fewshot_draws=2, runs=5,
                    rules=("mean_rank", "vote"))
    assert {r["column"] for r in res["correlations"]} == {"flops", "snip", "jacov"}
    assert all(r["protocol.cells"] == 120 and r["protocol.epochs"] == 200 for r in res["correlations"])
    snip = next(r for r in res["correlations"] if r["column"] == "snip")
    assert snip["kendall_lo"] <= snip["kendall_tau"] <= snip["kendall_hi"]
    # few-shot: only k leaving >= 50 held-out cells (10, 20, 50), four feature sets, never in the ensemble rows
    assert sorted({r["k"] for r in res["fewshot"]}) == [10, 20, 50]
    assert all(r["evaluated"] == 120 - r["k"] for r in res["fewshot"])
    assert {r["rule"] for r in res["ensembles"]} == {"mean_rank", "vote"}
    assert not any("k" in r for r in res["ensembles"])
    assert res["search"] == []  # N = 100 needs a pool of >= 100 draws of naswot: no naswot column here


def test_paper_recipes_are_subsets_with_their_own_rule():
    """A pool holding VKDNW_agg's six columns gets its row, scored by the paper's own aggregate (not by the three
    rank rules), equal to nwot.proxies.population.vkdnw_aggregate on the pool's raw values."""
    import nwot
    from nwot.proxies import get_proxy
    from nwot.proxies.population import vkdnw_aggregate
    from nwot.study.proxy_report import VKDNW_AGG, ensemble_rows, subsets
    from nwot.study.proxy_study import Pool

    table = nwot.load_nb201_table()
    cells = list(range(60))
    rng = np.random.default_rng(1)
    acc = table.loc[cells, "cifar10/ori-test@200"]
    df = pd.DataFrame({c: acc.to_numpy() + rng.normal(0, 3, 60) for c in VKDNW_AGG}, index=cells)
    df["vkdnw_dim"] = np.round(df["vkdnw_dim"] / 10)  # ties in the first key, broken by vkdnw
    for c in VKDNW_AGG:
        df[f"{c}__status"] = "ok"
    cols = [ColumnInfo(c, c, 1, get_proxy(c).config_id("clean")) for c in VKDNW_AGG]
    pool = Pool("p", "test", df, cols, table.loc[cells, "arch"])
    subs = subsets(pool, proxy_matrix(df, cols), {})
    recipe = subs["vkdnw_agg (paper's recipe)"]
    assert recipe["rules"] == ["vkdnw_agg"] and recipe["columns"] == list(VKDNW_AGG)
    rows = ensemble_rows(pool, {"r": recipe}, acc, ("mean_rank",), draws=0)
    assert [r["rule"] for r in rows] == ["vkdnw_agg"]
    want = vkdnw_aggregate(*[df[c].to_numpy() for c in VKDNW_AGG])
    assert rows[0]["kendall_tau"] == pytest.approx(kendall(want, acc.to_numpy()), abs=1e-12)


def test_no_cap_subset_keeps_every_stable_proxy_but_near_copies():
    """``label-free, no cap``: the sized rule without its size limit. Eight columns: b is a copy of a (rho 1 > 0.95),
    e fails the seed-stability filter; the other six are all kept (more than the cap of 5), and the rule says it
    was added after results were seen. A no-cap subset equal to a sized one is not listed twice."""
    import nwot
    from nwot.proxies import get_proxy
    from nwot.study.proxy_report import NO_CAP, subsets
    from nwot.study.proxy_study import Pool

    table = nwot.load_nb201_table()
    cells = list(range(80))
    rng = np.random.default_rng(2)
    acc = table.loc[cells, "cifar10/ori-test@200"].to_numpy()
    noise = {"a": 2, "c": 4, "d": 8, "e": 3, "f": 5, "g": 6, "h": 7}
    df = pd.DataFrame({c: acc + rng.normal(0, s, 80) for c, s in noise.items()}, index=cells)
    df["b"] = df["a"] * 2.0
    for c in list(df.columns):
        df[f"{c}__status"] = "ok"
    cfg = get_proxy("snip").config_id("clean")
    names = ["a", "b", "c", "d", "e", "f", "g", "h"]
    cols = [ColumnInfo(c, "snip", 1, cfg) for c in names]
    pool = Pool("p", "test", df, cols, table.loc[cells, "arch"])
    subs = subsets(pool, proxy_matrix(df, cols), {"e": 0.5, "a": 0.99})
    nc = subs[NO_CAP]
    assert len(nc["columns"]) == 6 and set(nc["columns"]) - {"a", "b"} == {"c", "d", "f", "g", "h"}
    assert nc["dropped"]["e"].startswith("seed stability rho 0.500")
    assert "no size cap" in nc["how"] and "after the sized subsets' results were seen" in nc["how"]
    assert nc["columns"][:5] == subs["label-free <=5"]["columns"]  # the same order of choice, one more kept
    small = Pool("q", "test", df, cols[:4], table.loc[cells, "arch"])
    assert NO_CAP not in subsets(small, proxy_matrix(df, cols[:4]), {"e": 0.5})  # = the <=3 subset: not twice


def test_suite_leaves_out_a_proxy_stored_on_few_naslib_cells():
    """A proxy stored on under a quarter of NASLib's cells (here 10 of 120: e.g. scored only on the sample after a
    version bump) is left out of the suite instead of shrinking it to those 10 cells."""
    import nwot
    from nwot.proxies import get_proxy
    from nwot.study.proxy_study import StudyData, study_pools

    table = nwot.load_nb201_table()
    cells = list(range(120))
    df = pd.DataFrame({"flops": table.loc[cells, "flops"].to_numpy(), "snip": np.arange(120.0),
                       "jacov": [float(i) if i < 10 else np.nan for i in cells]}, index=cells)
    for c in ("flops", "snip"):
        df[f"{c}__status"] = "ok"
    df["jacov__status"] = ["ok" if i < 10 else None for i in cells]
    data = StudyData(df, {c: get_proxy(c).config_id("clean") for c in ("flops", "snip", "jacov")})
    pools = study_pools(data, table, sample_cells=[], naslib_cells=cells, sample=(), naslib=("flops", "snip"))
    assert len(pools["suite"].frame) == 120
    assert [c.column for c in pools["suite"].columns] == ["flops", "snip"]
