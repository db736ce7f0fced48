"""NASWOT-style best-of-N search with a label-free proxy ensemble, replayed from stored scores.

Mellor et al., ICML 2021, arXiv:2006.04647, §4 / Table 2: per run draw ``N`` cells uniformly with
replacement from the pool and keep the best-scoring one; report the mean (population std) test accuracy of
the picks over the runs. With an ensemble, the ranks are aggregated **within the N drawn cells** (what a
search that scored only those cells could compute; :func:`nwot.study.ensembles.aggregate`), ties broken by
draw order (first maximum). Each run also records NASWOT alone (one column), the oracle (best accuracy
among the N) and one random cell, on the same draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np
import pandas as pd

from nwot.errors import NwotError
from nwot.study.ensembles import aggregate


@dataclass(frozen=True)
class EnsembleSearchRow:
    n: int  # cells drawn per run
    runs: int
    pool: int  # cells the draws come from
    ensemble_mean: float  # test accuracy of the ensemble's pick
    ensemble_std: float
    single_mean: Optional[float]  # the single column (NASWOT) alone on the same draws
    single_std: Optional[float]
    oracle_mean: float  # best accuracy among the N (upper bound of any picker)
    oracle_std: float
    random_mean: float
    random_std: float


def _first_max(v: np.ndarray) -> int:
    """Position of the first maximum (``-inf`` is a value; NaN never wins)."""
    w = np.where(np.isnan(v), -np.inf, v)
    best = np.flatnonzero(w == w.max())
    return int(best[0])


def ensemble_search(scores: pd.DataFrame, accuracy: pd.Series, n: int, runs: int, *, rule: str = "mean_rank",
                    single: Optional[pd.Series] = None, seed: int = 0) -> EnsembleSearchRow:
    """Best-of-``n`` over ``runs`` runs of ``numpy.random.default_rng(seed)``: the ensemble of the oriented
    columns of ``scores`` (aggregated within each draw by ``rule``), the ``single`` oriented score alone
    (same index), the oracle and one random cell."""
    if n < 1 or runs < 1:
        raise NwotError(f"n and runs must be >= 1, got n={n}, runs={runs}")
    sv = None
    if single is not None:
        if not single.index.equals(scores.index):
            raise NwotError("the single score must have the ensemble's cells (same index, same order)")
        sv = single.to_numpy(dtype=float)
    acc = accuracy.loc[scores.index].to_numpy(dtype=float)
    if np.isnan(acc).any():
        raise NwotError(f"accuracy missing for {int(np.isnan(acc).sum())} pool cells")
    rng = np.random.default_rng(seed)
    m = len(scores)
    ens, one, orc, rnd = [], [], [], []
    for _ in range(runs):
        pos = rng.integers(0, m, n)
        drawn = scores.iloc[pos].reset_index(drop=True)
        ens.append(acc[pos[_first_max(aggregate(drawn, rule).to_numpy())]])
        if sv is not None:
            one.append(acc[pos[_first_max(sv[pos])]])
        orc.append(acc[pos].max())
        rnd.append(acc[rng.integers(0, m)])
    return EnsembleSearchRow(n, runs, m, float(np.mean(ens)), float(np.std(ens)),
                             float(np.mean(one)) if one else None, float(np.std(one)) if one else None,
                             float(np.mean(orc)), float(np.std(orc)), float(np.mean(rnd)), float(np.std(rnd)))


def search_rows(scores: pd.DataFrame, accuracy: pd.Series, sizes, runs: int, *, rule: str = "mean_rank",
                single: Optional[pd.Series] = None, seed: int = 0) -> Dict[int, EnsembleSearchRow]:
    """:func:`ensemble_search` per N (each N its own ``seed``, so adding an N changes no other row)."""
    return {n: ensemble_search(scores, accuracy, n, runs, rule=rule, single=single, seed=seed) for n in sorted(sizes)}
