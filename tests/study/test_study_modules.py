"""nwot.study after the split of reproduction.py: the one -inf / NaN rule, the search jobs and their run file,
the replay of recorded traces, the report tables, the stored-score readers and the score-file import."""
from __future__ import annotations

import itertools
import json
import math
import random

import numpy as np
import pandas as pd
import pytest

from nwot.errors import NwotError
from nwot.scores.job import export_key, import_scores
from nwot.scores.scorer import ScoreConfig, store_key
from nwot.scores.store import ScoreRow, ScoreStore, StoreKey
from nwot.study import cells, nb101, replay, search_jobs, search_tables, tables
from nwot.study.correlation import group_means, rank_correlation, singular_treatments
from nwot.study.provenance import REPO, command_line
from nwot.study.scores import StoredScores, export_sensitivity, load_store_scores, sensitivity_keys

INF = math.inf


# --- the one rule: -inf ranks last, NaN is refused ----------------------------------------------
def slow_tau_b(x, y) -> float:
    """Kendall tau-b by counting pairs (an independent O(n^2) implementation, comparisons only)."""
    nc = nd = tx = ty = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        sx = (x[i] > x[j]) - (x[i] < x[j])
        sy = (y[i] > y[j]) - (y[i] < y[j])
        if sx == 0:
            tx += 1
        if sy == 0:
            ty += 1
        if sx * sy > 0:
            nc += 1
        elif sx * sy < 0:
            nd += 1
    n0 = len(x) * (len(x) - 1) // 2
    return (nc - nd) / math.sqrt((n0 - tx) * (n0 - ty))


def test_minus_inf_ranks_last_with_ties_hand_computed():
    # ranks of x: [1.5, 1.5, 3, 4]; 6 pairs: 5 concordant, 0 discordant, 1 tied in x -> tau_b = 5 / sqrt(5 * 6)
    c = rank_correlation([-INF, -INF, 1.0, 2.0], [1.0, 2.0, 3.0, 4.0])
    assert c.n == 4
    assert c.kendall_tau == pytest.approx(5 / math.sqrt(30))
    # Pearson of the ranks: dx = [-1, -1, .5, 1.5], dy = [-1.5, -.5, .5, 1.5] -> 4.5 / sqrt(4.5 * 5) = sqrt(0.9)
    assert c.spearman_rho == pytest.approx(math.sqrt(0.9))
    # the other treatment, measured explicitly: the singular cells dropped leave 2 concordant cells
    t = singular_treatments([-INF, -INF, 1.0, 2.0], [1.0, 2.0, 3.0, 4.0])
    assert t["last"]["kendall_tau"] == pytest.approx(5 / math.sqrt(30)) and t["excluded"]["n"] == 2
    assert t["excluded"]["kendall_tau"] == pytest.approx(1.0)
    # +inf ranks first: reversing the order of everything gives tau = -1
    assert rank_correlation([INF, 2.0, 1.0, -INF], [1.0, 2.0, 3.0, 4.0]).kendall_tau == pytest.approx(-1.0)


def test_rank_correlation_equals_pair_counting_with_singular_scores():
    rng = random.Random(3)
    for _ in range(5):
        x = [rng.choice([-INF, rng.randint(0, 6)]) for _ in range(30)]
        y = [rng.randint(0, 10) for _ in range(30)]
        assert rank_correlation(x, y).kendall_tau == pytest.approx(slow_tau_b(x, y), abs=1e-12)


def test_nan_is_refused_naming_where():
    with pytest.raises(NwotError, match=r"NaN .*at 2 of 4 positions, first 1"):
        rank_correlation([1.0, math.nan, 2.0, math.nan], [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(NwotError, match="NaN"):
        nb101.correlations([1.0, 2.0], [math.nan, 1.0])


def test_nb101_correlations_follow_the_rule_and_unique_cells_average():
    c = nb101.correlations(np.array([-INF, 1.0, 2.0]), np.array([5.0, 6.0, 7.0]))
    assert c == {"spearman": pytest.approx(1.0), "kendall": pytest.approx(1.0), "n": 3}  # -inf kept (not dropped)
    labels, means = group_means([1.0, 3.0, -INF, 10.0], ["b", "b", "a", "c"])
    assert labels == ["a", "b", "c"] and list(means) == [-INF, 2.0, 10.0]
    corr, uniq, n = nb101.correlation_tables({"s": np.array([1.0, 2.0, 3.0])}, np.array([1.0, 5.0, 9.0]),
                                             ["h", "h", "g"])
    assert n == 2 and uniq["s"]["n"] == 2 and corr["s"]["kendall"] == pytest.approx(1.0)


# --- NB201 search jobs ---------------------------------------------------------------------------
#: Config keys of the committed runs (benchmarks/results/search_nb201_traces.jsonl.xz): a run file made by the
#: committed code is accepted by the moved code.
COMMITTED_KEYS = {("nb201/cifar10", "rea"): "55f36146d0de0e12", ("nb201/cifar10", "area"): "3afa78bdfb2ca412",
                  ("nb201/cifar10", "area-m100"): "4dfc390e7f4ce4b4",
                  ("nb201/cifar10", "naswot-n10"): "bd8a7f40975b6780",
                  ("nb201/cifar10/quarter", "bo"): "ce3833090a5bf6a0",
                  ("nb201/cifar10/noise", "rea"): "670b2007f9dc01fc",
                  ("nats/cifar100", "area"): "c65a938f6a3c571a", ("nats/ImageNet16-120", "lse"): "b7891416646cd1b4"}


def test_planned_jobs_have_the_committed_config_keys():
    meta = json.loads((REPO / "benchmarks" / "results" / "search_nb201.json").read_text())["meta"]
    settings = search_jobs.select_settings(list(search_jobs.SETTING_NAMES), meta["signal_noise"]["sd"])
    scores = {"cifar10": meta["scores"]["cifar10"]}
    jobs, skipped = search_jobs.plan_jobs(settings, ["rea", "bo", "lse", "area", "naswot"], 2, 0,
                                          {"naswot": [10], "area": [20, 100]}, scores, {"cifar10": object()})
    assert skipped == []
    keys = {(j.setting.key, j.label): j.config_key for j in jobs}
    for k, v in COMMITTED_KEYS.items():
        assert keys[k] == v, k
    assert ("nb201/cifar10/noise", "naswot-n10") not in keys  # NASWOT search only on the unvaried settings
    assert [j.seed for j in jobs if j.id[:2] == ("nats/cifar100", "area")] == [0, 1]
    nats = [j for j in jobs if j.setting.key == "nats/cifar100" and j.strategy == "area"]
    assert {j.score_dataset for j in nats} == {"cifar10"}  # no CIFAR-100 scores: CIFAR-10's (labelled †)


def test_plan_jobs_skips_score_rows_without_scores_and_refuses_unknown_names():
    settings = search_jobs.select_settings(["nb201/cifar10"])
    jobs, skipped = search_jobs.plan_jobs(settings, ["random", "area"], 1, 0, {"area": [20]}, {}, {})
    assert [j.label for j in jobs] == ["random"]
    assert skipped == ["AREA on nb201/cifar10: no stored NASWOT scores for cifar10 (--scores not given)"]
    with pytest.raises(NwotError, match="unknown strategy 'tpe'; allowed: random, rea"):
        search_jobs.plan_jobs(settings, ["tpe"], 1, 0, {}, {}, {})
    with pytest.raises(NwotError, match="unknown setting 'nb201/cifar100'"):
        search_jobs.select_settings(["nb201/cifar100"])
    with pytest.raises(NwotError, match="dataset 'svhn'"):
        search_jobs.parse_scores(["svhn=x.csv"])
    assert search_jobs.parse_scores(["a.csv", "cifar100=b.csv"]) == {"cifar10": "a.csv", "cifar100": "b.csv"}


def test_labels_and_table_order():
    labels = ["naswot-n100", "area-m100", "rea", "area", "naswot-n10", "random", "bo"]
    assert sorted(labels, key=search_jobs.strategy_rank) == ["random", "rea", "bo", "area", "area-m100",
                                                             "naswot-n10", "naswot-n100"]
    assert [search_jobs.label(s) for s in ("area", "area-m1000", "naswot-n10", "bo")] == \
        ["AREA (M=20)", "AREA (M=1000)", "NASWOT (N=10)", "BO (TPE)"]
    assert search_jobs.run_label("area", 20) == "area" and search_jobs.run_label("area", 100) == "area-m100"


def test_run_file_cuts_a_torn_line_and_refuses_other_configurations(tmp_path):
    st = search_jobs.select_settings(["nb201/cifar10"])["nb201/cifar10"]
    job = search_jobs.Job(st, "rea", "rea", None, 0, 0, "k1", None)
    rec = {"setting": "nb201/cifar10", "strategy": "rea", "run": 0, "seed": 0, "config_key": "k1"}
    f = tmp_path / "runs.jsonl"
    f.write_text(json.dumps(rec) + "\n" + '{"setting": "nb2')
    rf = search_jobs.RunFile(f)
    done = rf.read()
    assert list(done) == [("nb201/cifar10", "rea", 0)] and f.read_text() == json.dumps(rec) + "\n"
    assert rf.todo([job], done) == []
    assert rf.todo([search_jobs.Job(st, "rea", "rea", None, 1, 1, "k1", None)], done)[0].run == 1
    with pytest.raises(NwotError, match="made with other settings"):
        rf.todo([search_jobs.Job(st, "rea", "rea", None, 0, 0, "k2", None)], done)


# --- replay of recorded traces ----------------------------------------------------------------------
def test_best_so_far_and_curves_hand_computed():
    # an AREA-like run: a pre-scoring step (kind "score") then three 12-epoch evaluations
    rec = {"setting": "s", "strategy": "area", "trace": {"index": [7, 1, 2, 3], "signal": [9.0, 5.0, 4.0, 6.0],
                                                         "cost": [1.0, 2.0, 3.0, 4.0],
                                                         "kind": ["score", "eval", "eval", "eval"]}}
    times, best = replay.best_so_far(rec)
    assert list(times) == [3.0, 6.0, 10.0] and list(best) == [1, 1, 3]  # the scored cell 7 never counts
    other = {"setting": "s", "strategy": "area", "trace": {"index": [2], "signal": [1.0], "cost": [5.0]}}
    test = {"d": np.array([0.0, 10.0, 20.0, 30.0])}
    rows = replay.curves([rec, other], {"s": 10.0}, {"s": ("d",)}, test, search_jobs.strategy_rank, points=3)
    # grid 0, 5, 10: at 0 no run has evaluated; at 5 run 1 holds cell 1 (10), run 2 cell 2 (20); at 10: 30 and 20
    assert [r["runs"] for r in rows] == [0, 2, 2] and rows[0]["mean"] is None
    assert (rows[1]["mean"], rows[1]["std"]) == (15.0, 5.0) and rows[2]["mean"] == 25.0


def test_summary_rows_and_markdown_beside_the_published_numbers():
    settings = search_jobs.select_settings(["nb201/cifar10", "nb201/cifar10/quarter"])
    recs = [{"setting": sk, "strategy": "rea", "run": r, "best_index": r, "n_evals": 100 + r, "used_time": 11_000.0,
             "final": {f"test_accuracy/{d}": 90.0 + 2 * r for d in search_jobs.DATASETS}}
            for sk in settings for r in range(2)]
    valid = {d: np.array([80.0, 84.0]) for d in search_jobs.DATASETS}
    rows = search_tables.summary_rows(recs, settings, valid)
    full = [r for r in rows if r["setting"] == "nb201/cifar10"]
    quarter = [r for r in rows if r["setting"] == "nb201/cifar10/quarter"]
    assert (full[0]["test_mean"], full[0]["test_std"], full[0]["evals_mean"]) == (91.0, 1.0, 100.5)
    assert full[0]["valid_mean"] == 82.0 and full[0]["published_mean"] == 93.92  # NB201 Table 5 REA, CIFAR-10
    assert full[0]["published_valid_mean"] == 91.19 and quarter[0]["published_mean"] is None
    meta = {"date": "d", "command": "c", "git": {"commit": "x", "dirty": False}, "versions": {"numpy": "1"},
            "machine": {"cpu_model": "cpu", "cpu_count": 2, "platform": "p", "python": "3"}, "wall_seconds": 1.0}
    md = search_tables.search_markdown(pd.DataFrame(rows), meta, ["AREA on x: none"])
    assert "| REA | 2 | 100.5 | 91.00 ± 1.00 | 91.00 ± 1.00 | 91.00 ± 1.00 | REA | 93.92 ± 0.30 |" in md
    assert "a quarter of the NB201 budget" in md and "* AREA on x: none" in md


def test_search_table_markdown_beside_the_paper():
    res = {"command": "c", "cells": 10, "complete": False, "accuracy": "a", "runs": 2, "live": [],
           "table": [{"n": 10, "naswot_mean": 92.0, "naswot_std": 1.0, "oracle_mean": 93.0, "oracle_std": 0.5,
                      "random_mean": 85.0, "random_std": 2.0}]}
    md = tables.search_table_markdown(res)
    assert "| 10 | 92.00 ± 1.00 | 92.44 ± 1.13 | 93.00 ± 0.50 | 85.00 ± 2.00 |" in md
    assert "only the stored cells" in md


def test_search_curve_is_simulate_search_with_one_generator():
    s, a = [1.0, 5.0, 3.0], [90.0, 80.0, 95.0]
    curve = replay.search_curve(s, a, {3, 1}, runs=4, seed=2)
    rng = random.Random(2)
    assert list(curve) == [1, 3]
    assert curve[1] == replay.simulate_search(s, a, 1, 4, rng) and curve[3] == replay.simulate_search(s, a, 3, 4, rng)


# --- stored scores --------------------------------------------------------------------------------
def test_store_reads_use_the_one_store_key(tmp_path):
    path = tmp_path / "s.sqlite"
    with ScoreStore(path) as st:
        st.put(store_key("nb201", ScoreConfig(batch_seed=1)), [ScoreRow("|a|", 2.5, 0.1, 3, "cpu")])
        st.put(store_key("nb201", ScoreConfig(compat="reference")), [ScoreRow("|b|", -INF, 0.2, 4, "cpu")])
    assert load_store_scores(path, batch_seed=1)["score"].to_dict() == {3: 2.5}
    assert load_store_scores(path, compat="reference")["score"].to_dict() == {4: -INF}
    assert len(load_store_scores(path)) == 0
    assert StoredScores("store", "cifar10", path, tmp_path).get(batch_seed=1).to_dict() == {3: 2.5}
    with pytest.raises(NwotError, match="unknown score source 'sql'"):
        StoredScores("sql", "cifar10", path, tmp_path)


def test_exports_source_reads_the_exports_and_the_sensitivity_file(tmp_path):
    pd.DataFrame({"index": [5, 1], "arch": ["|x|", "|y|"], "score": [1.0, -INF], "seconds": [0.1, 0.2]}).to_csv(
        tmp_path / "nb201_cifar10_naswot_clean_seed0.csv.xz", index=False)
    keep = cells.random_cells(500, seed=0)[:2]
    sens = pd.DataFrame([{"index": i, "batch_seed": b, "init_seed": s, "batch_size": z, "score": float(i + b)}
                         for b, s, z in sensitivity_keys() for i in keep + [15_000]])
    sens.to_csv(tmp_path / "nb201_cifar10_naswot_sensitivity.csv.xz", index=False)
    src = StoredScores("exports", "cifar10", None, tmp_path)
    assert src.get().to_dict() == {1: -INF, 5: 1.0}
    assert src.get(batch_seed=2).to_dict() == {i: float(i + 2) for i in keep + [15_000]}
    assert len(src.get("reference")) == 0
    out = tmp_path / "sens.csv"
    n = export_sensitivity(src, out)  # only the 500 random cells are written
    # the seeds-0 batch-128 set comes from the clean export (cells 1 and 5), the others from the sensitivity file
    in_export = len({1, 5} & set(cells.random_cells(500, seed=0)))
    assert n == (len(list(sensitivity_keys())) - 1) * 2 + in_export
    assert set(pd.read_csv(out)["index"]) <= set(keep) | {1, 5}


def test_export_then_import_only_under_the_same_key(tmp_path):
    key = StoreKey("nb201", "cifar10", 0, 128, 0)
    with ScoreStore(tmp_path / "a.sqlite") as st:
        st.put(key, [ScoreRow("|a|", 1.0, 0.5, 2, "cpu")])
        assert export_key(st, key, tmp_path / "e.csv", {"devices": ["cpu"]}) == 1
    with ScoreStore(tmp_path / "b.sqlite") as st:
        assert import_scores(st, StoreKey("nb201", "cifar10", 0, 64, 0), tmp_path / "e.csv") == 0
        assert import_scores(st, key, tmp_path / "missing.csv") == 0
        assert import_scores(st, key, tmp_path / "e.csv") == 1
        assert st.to_frame(key)[["arch", "arch_index", "value", "device"]].values.tolist() == [["|a|", 2, 1.0, "cpu"]]


def test_cell_sets_and_shards():
    assert cells.cell_indices("random3,random3") == cells.random_cells(3, seed=0)
    assert cells.shard([0, 1, 2, 3, 4], "1/2") == [1, 3] and cells.shard([1, 2], None) == [1, 2]
    with pytest.raises(NwotError, match="unknown cell set 'top10'"):
        cells.cell_indices("top10")
    with pytest.raises(NwotError, match="I/N"):
        cells.shard([1], "2/2")


def test_provenance_repo_is_the_checkout_root():
    assert (REPO / "nwot" / "study" / "provenance.py").is_file()
    assert command_line(REPO / "benchmarks" / "search_nb201.py", ["--runs", "2"]) == \
        "python benchmarks/search_nb201.py --runs 2"
