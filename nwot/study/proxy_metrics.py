"""Ranking metrics of a zero-cost proxy against trained accuracy: nDCG@k, bootstrap intervals, non-finite counts.

Pure functions of arrays; randomness only through a passed seed. Kendall tau-b / Spearman rho and the
one rule for non-finite values (``-inf`` ranks last, NaN is refused) come from
:mod:`nwot.study.correlation`; the top-k overlap is :func:`nwot.study.correlation.topk_overlap`.

* **nDCG@k** (Järvelin & Kekäläinen, "Cumulated gain-based evaluation of IR techniques", ACM TOIS 2002),
  with the min-max scaled accuracy as the gain: ``g_i = (a_i - min a) / (max a - min a)``,
  ``DCG@k = sum_{r=1..k} g_(r) / log2(r + 1)`` over the cells in score order (ties: earlier position
  first), ``nDCG@k = DCG@k / IDCG@k`` with ``IDCG@k`` the DCG of the accuracy order. 1 = the score's top
  k are the k most accurate cells, in order.
* **Bootstrap 95 % interval** (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13,
  percentile method): resample the ``n`` cells with replacement ``draws`` times with
  ``numpy.random.default_rng(seed)``, recompute the statistic, report the 2.5 / 97.5 percentiles.
"""
from __future__ import annotations

from typing import Callable, Dict, Tuple

import numpy as np

from nwot.errors import NwotError
from nwot.study.correlation import _pair


def ndcg_at_k(score, accuracy, k: int) -> float:
    """nDCG@k of the cells ranked by ``score`` with min-max scaled ``accuracy`` as the gain (module docstring)."""
    x, y = _pair(score, accuracy)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(x):
        raise NwotError(f"nDCG cutoff k must be an int in 1..{len(x)} (the number of cells), got {k!r}")
    span = y.max() - y.min()
    if span == 0:
        raise NwotError("nDCG needs accuracies that are not all equal")
    gain = (y - y.min()) / span
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float(gain[np.argsort(-x, kind="stable")[:k]] @ disc)
    idcg = float(np.sort(gain)[::-1][:k] @ disc)
    return dcg / idcg


def bootstrap_interval(stat: Callable[[np.ndarray, np.ndarray], float], score, accuracy, *, draws: int = 1000,
                       seed: int = 0, level: float = 0.95) -> Tuple[float, float]:
    """Percentile bootstrap interval of ``stat(score[idx], accuracy[idx])`` over ``draws`` resamples of the
    cells (with replacement, ``numpy.random.default_rng(seed)``). A resample on which the statistic is
    undefined (NaN: e.g. all tied) is skipped; at least half of them must be defined."""
    x, y = _pair(score, accuracy)
    if draws < 10:
        raise NwotError(f"bootstrap draws must be >= 10, got {draws}")
    if not 0 < level < 1:
        raise NwotError(f"bootstrap level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    n = len(x)
    vals = []
    for _ in range(draws):
        idx = rng.integers(0, n, n)
        v = stat(x[idx], y[idx])
        if not np.isnan(v):
            vals.append(v)
    if len(vals) < draws / 2:
        raise NwotError(f"the statistic was undefined on {draws - len(vals)} of {draws} bootstrap resamples")
    a = (1 - level) / 2
    lo, hi = np.quantile(vals, [a, 1 - a])
    return float(lo), float(hi)


def kendall(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall tau-b with ``±inf`` as ordinary values (scipy on the average ranks)."""
    from scipy import stats

    return float(stats.kendalltau(stats.rankdata(x), stats.rankdata(y)).statistic)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rho: Pearson correlation of the average ranks (``±inf`` ordinary values)."""
    from scipy import stats

    rx, ry = stats.rankdata(x), stats.rankdata(y)
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def nonfinite_counts(values) -> Dict[str, int]:
    """``{"nan", "neg_inf", "pos_inf"}`` counts of ``values`` (the failed and the sentinel scores)."""
    v = np.asarray(values, dtype=float)
    return {"nan": int(np.isnan(v).sum()), "neg_inf": int(np.isneginf(v).sum()), "pos_inf": int(np.isposinf(v).sum())}
