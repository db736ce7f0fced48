"""Rank aggregations over a population of cells: the scores that only exist relative to other cells.

AZ-NAS, TE-NAS and VKDNW_agg rank a *set* of candidates; a single cell has only the components
(stored per cell by their proxies). These functions take the components of N cells (aligned arrays)
and return one aggregate per cell. Ranks are ``scipy.stats.rankdata`` ranks (ties averaged), 1 =
worst after orienting every component so that higher is better; a NaN (a failed component) ranks
below everything (it never wins), ``-inf`` likewise.

* :func:`az_nas_aggregate` (Lee & Ham, CVPR 2024, Eq. 7): ``Σ_m log(rank_m / N)`` over expressivity,
  progressivity, trainability and complexity (FLOPs);
* :func:`te_nas_aggregate` (Chen et al., ICLR 2021, §3.3): ``rank(-κ) + rank(LR)``;
* :func:`vkdnw_single_rank` (Tybl & Neumann, CVPR 2025, §3.3): dense rank of (vkdnw_dim, vkdnw), lexicographic;
* :func:`vkdnw_aggregate` (§3.3, "VKDNW_agg" as the released analysis code): ``log rank(VKDNW) + Σ log rank``
  of jacov, AZ-NAS expressivity and trainability and FLOPs;
* :func:`swap_regularised` (Peng et al., ICLR 2024, §3.3): ``swap · exp(-(params_k - μ)² / σ)``.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy import stats

from nwot.errors import NwotError


def oriented_ranks(values, higher_is_better: bool = True) -> np.ndarray:
    """Ranks 1..N (ties averaged) with NaN and -inf (after orientation) at the bottom."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or len(v) == 0:
        raise NwotError(f"need a non-empty 1-d array of values, got shape {v.shape}")
    v = v if higher_is_better else -v
    v = np.where(np.isnan(v), -np.inf, v)
    return stats.rankdata(v)


def log_rank_sum(columns: Sequence, directions: Sequence[bool]) -> np.ndarray:
    """``Σ_m log(rank_m / N)`` over aligned columns (``directions[m]``: higher is better)."""
    if len(columns) != len(directions) or not columns:
        raise NwotError(f"need as many directions as columns, got {len(columns)} and {len(directions)}")
    n = len(columns[0])
    if any(len(c) != n for c in columns):
        raise NwotError(f"columns of different lengths: {[len(c) for c in columns]}")
    return sum(np.log(oriented_ranks(c, d) / n) for c, d in zip(columns, directions))


def az_nas_aggregate(expressivity, progressivity, trainability, complexity) -> np.ndarray:
    return log_rank_sum([expressivity, progressivity, trainability, complexity], [True] * 4)


def te_nas_aggregate(ntk_condition, linear_regions) -> np.ndarray:
    return oriented_ranks(ntk_condition, higher_is_better=False) + oriented_ranks(linear_regions)


def vkdnw_single_rank(dim, entropy) -> np.ndarray:
    """Dense rank of the pairs (dim, entropy), lexicographic, 1 = lowest (NaN entropy lowest within its dim)."""
    d, e = np.asarray(dim, dtype=float), np.asarray(entropy, dtype=float)
    e = np.where(np.isnan(e), -np.inf, e)
    order = np.lexsort((e, d))
    ranks = np.empty(len(d), dtype=float)
    r, prev = 0, None
    for i in order:
        key = (d[i], e[i])
        if key != prev:
            r += 1
            prev = key
        ranks[i] = r
    return ranks


def vkdnw_aggregate(dim, entropy, jacov, expressivity, trainability, flops) -> np.ndarray:
    n = len(dim)
    return (np.log(vkdnw_single_rank(dim, entropy) / n)
            + log_rank_sum([jacov, expressivity, trainability, flops], [True] * 4))


def swap_regularised(swap, params_thousands, mu: float, sigma: float) -> np.ndarray:
    """Regularised SWAP-Score; ``params_thousands`` = parameter count / 1e3, ``mu``/``sigma`` chosen per space."""
    s, p = np.asarray(swap, dtype=float), np.asarray(params_thousands, dtype=float)
    if sigma <= 0:
        raise NwotError(f"sigma must be > 0, got {sigma}")
    return s * np.exp(-((p - mu) ** 2) / sigma)


def aggregate_by_name(name: str, values: Mapping[str, Sequence]) -> np.ndarray:
    """One of the aggregates above from a mapping of proxy name -> column (the store's export columns)."""
    table = {
        "az_nas": lambda v: az_nas_aggregate(v["az_nas_expressivity"], v["az_nas_progressivity"],
                                             v["az_nas_trainability"], v["az_nas_complexity"]),
        "te_nas": lambda v: te_nas_aggregate(v["te_nas_ntk"], v["te_nas_lr"]),
        "vkdnw_single": lambda v: vkdnw_single_rank(v["vkdnw_dim"], v["vkdnw"]),
        "vkdnw_agg": lambda v: vkdnw_aggregate(v["vkdnw_dim"], v["vkdnw"], v["jacov"], v["az_nas_expressivity"],
                                               v["az_nas_trainability"], v["flops"]),
    }
    if name not in table:
        raise NwotError(f"unknown aggregate {name!r}; allowed: {', '.join(sorted(table))}")
    try:
        return table[name](values)
    except KeyError as e:
        raise NwotError(f"aggregate {name!r} needs the column {e.args[0]!r}") from e


AGGREGATES = ("az_nas", "te_nas", "vkdnw_single", "vkdnw_agg")
