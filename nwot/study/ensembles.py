"""Label-free ensembles of zero-cost proxies: rank aggregation, and a subset chosen without accuracies.

Inputs are *oriented* score columns (higher = predicted better; see
:func:`nwot.study.proxy_correlations.oriented`), one row per cell; NaN is a failed value. Pure functions.

Per column ``j`` the cells' **normalised rank** is ``q_ij = rank_ij / n_j`` (average ranks of the
non-NaN values, ``-inf`` lowest; ``n_j`` those values), so the best cell has ``q = 1``. Then

* **mean rank** (Borda count): ``s_i = mean_j q_ij`` over the columns where cell ``i`` has a value;
* **log-rank product** (AZ-NAS, Lee & Ham, CVPR 2024, arXiv:2403.19232, §3.5, Eq. 10):
  ``s_i = sum_j log q_ij`` -- a cell must rank well on *every* proxy; a NaN counts as the lowest rank
  ``q = 1 / n_j`` (AZ-NAS has no failures; a failure must not help a cell);
* **vote** (pairwise majority, as the voting ensemble of Abdelfattah et al., "Zero-Cost Proxies for
  Lightweight NAS", ICLR 2021, §5; here Copeland's rule over all pairs): ``s_i = #{k : cell i beats cell k
  on more than half of the columns where both have values}``.

**Label-free subset** (:func:`select_label_free`): proxies are kept only if (1) their seed stability,
Spearman rho between the values at two batch/init seeds, is at least ``min_stability`` where it was
measured, and (2) then greedily by *consensus*: the mean Spearman rho with all other candidate proxies
(how much the proxy agrees with the rest, on the cells alone), skipping a proxy whose rho with one already
chosen exceeds ``max_redundancy`` (a near-copy such as params / flops adds no information). Only proxy
values are read: no accuracy enters the choice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from nwot.errors import NwotError, check_choice

#: Aggregation rules of :func:`aggregate`.
AGGREGATIONS = ("mean_rank", "log_rank_product", "vote")


def normalised_ranks(values) -> np.ndarray:
    """``rank / n`` of the non-NaN values (average ranks, ``-inf`` lowest, best = 1); NaN stays NaN."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, np.nan)
    ok = ~np.isnan(v)
    if ok.sum() == 0:
        return out
    out[ok] = stats.rankdata(v[ok]) / ok.sum()
    return out


def rank_matrix(scores: pd.DataFrame) -> np.ndarray:
    """(cells, columns) matrix of :func:`normalised_ranks` per column of ``scores`` (oriented)."""
    if scores.shape[1] == 0:
        raise NwotError("need at least one score column to aggregate")
    return np.column_stack([normalised_ranks(scores[c].to_numpy()) for c in scores.columns])


def mean_rank(q: np.ndarray) -> np.ndarray:
    """Borda: mean normalised rank over the columns with a value (NaN where a cell has none)."""
    have = ~np.isnan(q)
    total = np.where(have, q, 0.0).sum(axis=1)
    cnt = have.sum(axis=1)
    return np.where(cnt > 0, total / np.maximum(cnt, 1), np.nan)


def log_rank_product(q: np.ndarray) -> np.ndarray:
    """AZ-NAS: ``sum_j log q_ij``; a NaN counts as the column's lowest rank ``1 / n_j``."""
    n = (~np.isnan(q)).sum(axis=0)
    floor = 1.0 / np.maximum(n, 1)
    return np.log(np.where(np.isnan(q), floor[None, :], q)).sum(axis=1)


def vote(q: np.ndarray, chunk: int = 0) -> np.ndarray:
    """Copeland pairwise majority: per cell, the number of other cells it beats on more than half of the
    columns where both have a value (ties and NaN pairs cast no vote). ``chunk`` rows at a time (0: sized
    to keep each temporary near 4 M entries)."""
    m = q.shape[0]
    chunk = chunk or max(1, 4_000_000 // max(1, m * q.shape[1]))
    out = np.zeros(m)
    for s in range(0, m, chunk):
        a = q[s:s + chunk, None, :]  # (c, 1, p)
        b = q[None, :, :]  # (1, m, p)
        both = ~(np.isnan(a) | np.isnan(b))
        wins = ((a > b) & both).sum(axis=2)
        losses = ((a < b) & both).sum(axis=2)
        voters = both.sum(axis=2)
        out[s:s + chunk] = ((wins > voters / 2) & (wins > losses)).sum(axis=1)
    return out


def aggregate(scores: pd.DataFrame, rule: str = "mean_rank") -> pd.Series:
    """One ensemble score per cell (index of ``scores``) from its oriented columns by ``rule``
    (one of :data:`AGGREGATIONS`)."""
    check_choice("aggregation rule", rule, AGGREGATIONS)
    q = rank_matrix(scores)
    fn = {"mean_rank": mean_rank, "log_rank_product": log_rank_product, "vote": vote}[rule]
    return pd.Series(fn(q), index=scores.index, name=rule)


#: The public name (``nwot.rank_ensemble``).
rank_ensemble = aggregate


@dataclass(frozen=True)
class SubsetChoice:
    chosen: List[str]  # the columns, in order of choice
    consensus: Dict[str, float]  # column -> mean Spearman rho with the other candidates
    stability: Dict[str, float]  # column -> seed-0 / seed-1 Spearman rho (where measured)
    dropped: Dict[str, str]  # column -> why it was not chosen
    rule: str  # the rule, in words


def select_label_free(matrix: pd.DataFrame, *, size: int, stability: Optional[Mapping[str, float]] = None,
                      min_stability: float = 0.9, max_redundancy: float = 0.95) -> SubsetChoice:
    """Choose ``size`` columns from a proxy-proxy Spearman ``matrix`` (oriented values) without any accuracy:
    seed stability filter, then greedy by consensus (mean rho with the other candidates), skipping near-copies
    (see the module docstring)."""
    if size < 1:
        raise NwotError(f"subset size must be >= 1, got {size}")
    stability = dict(stability or {})
    dropped: Dict[str, str] = {}
    cands = []
    for c in matrix.columns:
        st = stability.get(c)
        if st is not None and not st >= min_stability:
            dropped[c] = f"seed stability rho {st:.3f} < {min_stability}"
        else:
            cands.append(c)
    sub = matrix.loc[cands, cands]
    cons = {c: float(np.nanmean(np.delete(sub[c].to_numpy(), cands.index(c)))) if len(cands) > 1 else 1.0
            for c in cands}
    chosen: List[str] = []
    for c in sorted(cands, key=lambda k: -cons[k]):
        if len(chosen) == size:
            dropped.setdefault(c, "subset full")
            continue
        near = [d for d in chosen if sub.loc[c, d] > max_redundancy]
        if near:
            dropped[c] = f"rho {sub.loc[c, near[0]]:.3f} > {max_redundancy} with {near[0]} (redundant)"
            continue
        chosen.append(c)
    rule = (f"seed stability rho >= {min_stability} where measured; then greedy by consensus (mean proxy-proxy "
            f"Spearman rho), skipping rho > {max_redundancy} with a chosen one; size {size}")
    return SubsetChoice(chosen, cons, {c: float(v) for c, v in stability.items()}, dropped, rule)


def seed_stability(seed_a: pd.DataFrame, seed_b: pd.DataFrame, columns: Sequence[str]) -> Dict[str, float]:
    """Spearman rho of each column between two seeds' oriented values on the cells both hold (NaN dropped)."""
    from nwot.study.proxy_metrics import spearman

    out = {}
    for c in columns:
        if c not in seed_a or c not in seed_b:
            continue
        both = seed_a.index.intersection(seed_b.index)
        x, y = seed_a.loc[both, c].astype(float), seed_b.loc[both, c].astype(float)
        ok = x.notna() & y.notna()
        if ok.sum() >= 3:
            out[c] = spearman(x[ok].to_numpy(), y[ok].to_numpy())
    return out
