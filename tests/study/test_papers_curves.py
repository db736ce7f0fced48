"""Search-curve statistics of the papers' comparisons (nwot.study.search_curves, regevo, pnas_efficiency) on
hand-made traces with hand-computed values."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nwot.errors import NwotError
from nwot.study import search_curves as sc
from nwot.study.pnas_efficiency import efficiency, pooled_targets
from nwot.study.regevo import early_advantage, run_curves

NINF = -math.inf


def test_best_so_far_ignores_failures_and_keeps_the_first_holder():
    assert sc.best_so_far([float("nan"), 1, 3, 2, NINF, 5]).tolist() == [NINF, 1, 3, 3, 3, 5]
    assert sc.best_index_so_far([NINF, 2, 2, 1, 4]).tolist() == [-1, 1, 1, 1, 4]
    # a later tie does not replace the holder: its report stays the first one's
    rep = sc.reported_best_so_far([2, 2, 1, 3], [10, 20, 30, 40])
    assert rep.tolist() == [10, 10, 10, 40]
    assert np.isnan(sc.reported_best_so_far([NINF, 1], [5, 6])[0])
    with pytest.raises(NwotError, match="2 signals but 3 reports"):
        sc.reported_best_so_far([1, 2], [1, 2, 3])


def test_top_m_mean_and_models_to_target_on_a_hand_made_trace():
    trace = [80.0, 82.0, 81.0, 85.0]
    # top-2 means: n=1 undefined, n=2 (80+82)/2 = 81, n=3 (82+81)/2 = 81.5, n=4 (85+82)/2 = 83.5
    m2 = sc.top_m_mean_so_far(trace, 2)
    assert np.isnan(m2[0]) and m2[1:].tolist() == [81.0, 81.5, 83.5]
    assert sc.models_to_target(trace, 81.5) == 2  # 82 >= 81.5 at the 2nd model
    assert sc.models_to_target(trace, 82.0) == 2  # reaching the target exactly counts
    assert sc.models_to_target(trace, 85.0) == 4
    assert sc.models_to_target(trace, 85.1) is None  # never reached: censored
    assert sc.models_to_target(trace, 83.0, m=2) == 4
    assert sc.models_to_target([NINF, 90.0], 50.0) == 2  # a failure is never at target
    with pytest.raises(NwotError, match="M >= 1"):
        sc.top_m_mean_so_far(trace, 0)


def test_censored_quantiles_summary_and_speedup():
    vals = [3, None, 5, 1]  # sorted with None as +inf: 1, 3, 5, inf
    assert sc.censored_quantile(vals, 0.25) == 1.0
    assert sc.censored_quantile(vals, 0.5) == 3.0  # the 2nd of 4 (lower median)
    assert sc.censored_quantile(vals, 0.75) == 5.0
    assert math.isinf(sc.censored_quantile(vals, 1.0))
    s = sc.summarise_hits(vals, budget=10)
    assert (s["runs"], s["reached"], s["fraction_reached"], s["median"], s["mean_reached"]) == (4, 3, 0.75, 3.0, 3.0)
    assert sc.summarise_hits([None, None, 4])["median"] is None  # most runs never reached it
    # PNAS-style speedup: median of the slow strategy over the median of the fast one
    assert sc.median_ratio([10, 20, 30], [2, 4, 6]) == {"ratio": 5.0, "at_least": None}
    assert sc.median_ratio([None, None, 30], [2, 4, 6]) == {"ratio": None, "at_least": 7.5}
    assert sc.median_ratio([1, 2, 3], [None, None, 1])["ratio"] is None
    with pytest.raises(NwotError, match="quantile q"):
        sc.censored_quantile(vals, 1.5)


def test_targets_bands_and_steps():
    t = sc.top_fraction_targets(np.arange(1, 101), [0.1, 0.5])
    assert t[0.1] == pytest.approx(90.1) and t[0.5] == pytest.approx(50.5)  # numpy linear quantiles of 1..100
    with pytest.raises(NwotError, match=r"in \(0, 1\)"):
        sc.top_fraction_targets([1, 2], [1.0])
    b = sc.band([[1, 2, 3], [3, 4, np.nan]])
    assert b["mean"].tolist() == [2, 3, 3] and b["q50"].tolist() == [2, 3, 3] and b["std"].tolist() == [1, 1, 0]
    with pytest.raises(NwotError, match="equal lengths"):
        sc.band([[1, 2], [1]])
    assert sc.at_steps([5, 6, 7], [1, 3]) == {1: 5.0, 3: 7.0}


def test_run_curves_and_early_advantage():
    a = [[1, 2, 5], [1, 4, 4]]
    b = [[1, 3, 3], [0, 1, 6]]
    c = run_curves(a, reports=[[10, 20, 50], [10, 40, 40]], steps=(1, 2, 3, 4))
    assert c["at"]["signal"]["mean"] == {1: 1.0, 2: 3.0, 3: 4.5}  # step 4 is past the budget: left out
    assert c["at"]["report"]["q50"] == {1: 10.0, 2: 30.0, 3: 45.0}
    # best-so-far after 1 model: a (1, 1) vs b (1, 0): tie, win, tie, win -> 3/4;
    # after 2: a (2, 4) vs b (3, 1): 2<3, 2>1, 4>3, 4>1 -> 3/4;  after 3: a (5, 4) vs b (3, 6): 1, 0, 1, 0 -> 1/2
    assert early_advantage(a, b, [1, 2, 3]) == {1: 0.75, 2: 0.75, 3: 0.5}


def test_efficiency_table_and_pooled_targets():
    sig = {"pnas": [[1, 5, 9], [2, 9, 9]], "reinforce": [[1, 2, 3, 9, 9], [9, 1, 1, 1, 1], [1, 1, 1, 1, 1]]}
    eff = efficiency(sig, {"t": 9.0}, m_values=(1,), budgets={"pnas": 3, "reinforce": 5})
    pn, rl = eff["top-1"]["t"]["pnas"], eff["top-1"]["t"]["reinforce"]
    assert pn["values"] == [3, 2] and rl["values"] == [4, 1, None]
    assert pn["median"] == 2.0 and rl["median"] == 4.0  # reinforce sorted: 1, 4, inf -> the 2nd
    assert pn["speedup_vs_reinforce"] == {"ratio": 2.0, "at_least": None}
    assert pn["budget"] == 3 and rl["fraction_reached"] == pytest.approx(2 / 3)
    # distinct cells, first measurement each: a=1, b=3 (the second 'a' = 99 is a repeat), c=5 -> median 3
    t = pooled_targets([[1, 3], [99, 5]], [["a", "b"], ["a", "c"]], quantiles=(0.5,))
    assert t == {"q50 of 3 cells": 3.0}
