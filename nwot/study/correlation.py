"""Rank correlation of a score with trained accuracy, with ONE rule for scores that are not finite.

Mellor et al., "Neural Architecture Search without Training", ICML 2021, arXiv:2006.04647, §4 / Fig. 3
(Kendall tau of the NASWOT score with accuracy) and §5 (ablations: agreement of score rankings). Pure
functions of arrays; randomness only through a passed seed.

**The rule for non-finite values** (every study of :mod:`nwot.study` and every benchmark script uses it,
through :func:`rank_correlation`):

* ``-inf`` is a value: it ranks below every finite value, ties among themselves (``+inf`` above every
  finite value). A singular NASWOT kernel scores ``s = log|det K_H| = -inf``, and a search that maximises
  the score treats it exactly so: it never picks a singular cell while a finite one is on offer. Dropping
  the singular cells instead would hide the score's clearest decision (on NAS-Bench-201 all 201 singular
  cells are the untrainable 10 %-accuracy ones) and make ``n`` depend on the scorer. The other treatments
  are measured explicitly by :func:`singular_treatments`.
* ``NaN`` is not a score (a failed build or scoring, a missing accuracy): it is refused with
  :class:`~nwot.errors.NwotError`, so a caller drops such cells itself and says how many.

Kendall tau-b: ``tau = (n_c - n_d) / sqrt((n_0 - n_1) (n_0 - n_2))`` with ``n_0 = n (n - 1) / 2`` pairs,
``n_c`` / ``n_d`` concordant / discordant pairs and ``n_1`` / ``n_2`` pairs tied in x / y. Spearman rho:
Pearson correlation of the (average-tie) ranks. Both come from :mod:`scipy.stats` applied to the ranks,
which equals them applied to the values and makes ``±inf`` ordinary numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Sequence, Tuple

import numpy as np

from nwot.errors import NwotError

#: Top-k fractions of the correlation study.
TOPK_FRACTIONS = (0.01, 0.05, 0.10)


def _pair(x, y) -> Tuple[np.ndarray, np.ndarray]:
    """Two equal-length 1-d float arrays; NaN refused (see the module's rule)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise NwotError(f"need two 1-d arrays of equal length, got shapes {x.shape} and {y.shape}")
    nan = np.isnan(x) | np.isnan(y)
    if nan.any():
        raise NwotError(f"NaN in the values to correlate (at {int(nan.sum())} of {len(x)} positions, first "
                        f"{int(np.flatnonzero(nan)[0])}); NaN is a failed or missing value, not a score: drop "
                        f"those cells first (-inf is allowed and ranks last)")
    return x, y


@dataclass(frozen=True)
class Correlation:
    n: int  # number of cells
    kendall_tau: float  # Kendall tau-b (scipy.stats.kendalltau)
    spearman_rho: float  # Spearman rho (scipy.stats.spearmanr)

    def as_dict(self) -> Dict[str, float]:
        """``{"n", "kendall_tau", "spearman_rho"}`` (the layout of the saved results)."""
        return {"n": self.n, "kendall_tau": self.kendall_tau, "spearman_rho": self.spearman_rho}


def rank_correlation(score, accuracy) -> Correlation:
    """Kendall tau-b and Spearman rho between ``score`` and ``accuracy`` (paper §4, Fig. 3), by the
    module's rule: ``-inf`` ranks below every finite value (ties among themselves), NaN raises."""
    from scipy import stats

    x, y = _pair(score, accuracy)
    if len(x) < 2:
        raise NwotError(f"need at least 2 cells to correlate, got {len(x)}")
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    return Correlation(len(x), float(stats.kendalltau(rx, ry).statistic), float(stats.spearmanr(rx, ry).statistic))


def singular_treatments(score, accuracy, *, draws: int = 20, seed: int = 0) -> Dict[str, Dict[str, float]]:
    """Kendall tau / Spearman rho under three treatments of the singular kernels' ``-inf`` scores.

    * ``"last"``: ``-inf`` ranks below every finite score (the rule of :func:`rank_correlation`);
    * ``"excluded"``: singular cells dropped;
    * ``"random"``: each singular score replaced by a uniform draw over the finite scores' range, mean
      and std over ``draws`` draws of ``numpy.random.default_rng(seed)`` -- a model of the released
      code, whose slogdet returns rounding noise for a numerically singular kernel instead of ``-inf``.
    """
    x, y = _pair(score, accuracy)
    fin = np.isfinite(x)
    out: Dict[str, Dict[str, float]] = {}
    c = rank_correlation(x, y)
    out["last"] = {"n": c.n, "singular": int((~fin).sum()), "kendall_tau": c.kendall_tau,
                   "spearman_rho": c.spearman_rho}
    c = rank_correlation(x[fin], y[fin])
    out["excluded"] = {"n": c.n, "kendall_tau": c.kendall_tau, "spearman_rho": c.spearman_rho}
    rng = np.random.default_rng(seed)
    taus, rhos = [], []
    for _ in range(draws if (~fin).any() else 1):
        z = x.copy()
        z[~fin] = rng.uniform(x[fin].min(), x[fin].max(), int((~fin).sum()))
        c = rank_correlation(z, y)
        taus.append(c.kendall_tau)
        rhos.append(c.spearman_rho)
    out["random"] = {"n": len(x), "draws": len(taus), "kendall_tau": float(np.mean(taus)),
                     "kendall_tau_std": float(np.std(taus)), "spearman_rho": float(np.mean(rhos)),
                     "spearman_rho_std": float(np.std(rhos))}
    return out


def top_k(values, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values; ties broken by position (earlier first)."""
    v = np.asarray(values, dtype=float)
    return np.argsort(-v, kind="stable")[:k]


def topk_overlap(score, accuracy, fraction: float) -> float:
    """``|top_k(score) ∩ top_k(accuracy)| / k`` with ``k = max(1, round(fraction * n))``."""
    x, y = _pair(score, accuracy)
    if not 0 < fraction <= 1:
        raise NwotError(f"top-k fraction must be in (0, 1], got {fraction}")
    k = max(1, int(round(fraction * len(x))))
    return len(set(top_k(x, k).tolist()) & set(top_k(y, k).tolist())) / k


def mean_pairwise_tau(columns: Sequence[Sequence[float]]) -> Tuple[float, float, float]:
    """Mean, min and max Kendall tau over all pairs of score vectors (the same cells in each).

    Sensitivity of the score to the batch or the init seed (paper §5 ablations).
    """
    taus = [rank_correlation(columns[i], columns[j]).kendall_tau
            for i in range(len(columns)) for j in range(i + 1, len(columns))]
    if not taus:
        raise NwotError("need at least 2 score vectors")
    return float(np.mean(taus)), float(min(taus)), float(max(taus))


def group_means(values, groups: Sequence) -> Tuple[list, np.ndarray]:
    """``(sorted group labels, mean of values per group)``: e.g. one NB101 cell per graph hash, its repeats'
    accuracies and scores averaged (a group holding ``-inf`` averages to ``-inf``)."""
    v = np.asarray(values, dtype=float)
    labels = sorted(set(groups))
    members = {g: [k for k, h in enumerate(groups) if h == g] for g in labels}
    return labels, np.array([v[members[g]].mean() for g in labels])
