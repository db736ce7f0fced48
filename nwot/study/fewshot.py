"""Few-shot ranking: gradient-boosted trees over proxy values + the cell encoding, trained on k labelled cells.

Not training-free: the model sees the accuracies of ``k`` cells, so its rows are reported apart from the
label-free ones (issue #16, "Few-shot"). The design follows GRAF (Kadlecová et al., "Surprisingly Strong
Performance Prediction with Neural Graph Features", ICML 2024, arXiv:2404.16551, §4: zero-cost proxies
plus architecture features into a tree ensemble), with LightGBM (Ke et al., NeurIPS 2017) as the learner:
``f = sum_t eta * tree_t(x)`` fitted to the squared error on the k cells.

Protocol (:func:`fewshot_draws`): per draw ``d`` (``numpy.random.default_rng(seed + d)``), ``k`` training
cells are drawn from the pool without replacement; the model is fitted on them and Kendall tau / Spearman
rho are computed on **all the other cells of the pool only** -- a training cell is never evaluated
(:func:`split_cells` returns disjoint sets, checked). Features: the oriented proxy values (NaN kept, as
LightGBM routes missing values; ``-inf`` becomes NaN too) and the one-hot NB201 encoding (6 edges x 5
ops, :func:`nb201_onehot`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from nwot.errors import NwotError


@dataclass(frozen=True)
class BoostConfig:
    """LightGBM settings of the few-shot model (small trees: k may be 10)."""

    n_estimators: int = 300  # boosting rounds
    learning_rate: float = 0.05  # eta
    num_leaves: int = 15  # leaves per tree
    min_child_samples: int = 2  # cells per leaf at least (k = 10 must still split)
    subsample: float = 0.8  # bagging fraction of cells per round
    colsample_bytree: float = 0.8  # features per tree
    threads: int = 1  # LightGBM threads


@dataclass(frozen=True)
class FewShotResult:
    k: int  # labelled training cells per draw
    draws: int
    pool: int  # cells of the pool (train + evaluated)
    evaluated: int  # cells evaluated per draw (pool - k)
    kendall_mean: float
    kendall_std: float
    spearman_mean: float
    spearman_std: float
    per_draw: List[Tuple[float, float]] = field(default_factory=list)  # (tau, rho) of each draw


def nb201_onehot(archs: Sequence[str]) -> np.ndarray:
    """(cells, 30) one-hot of the NB201 ops per edge (edge-major, :data:`nwot.spaces.nb201.codec.OPS` order)."""
    from nwot.spaces.nb201.codec import OPS, op_vector, parse_arch

    vec = np.array([op_vector(parse_arch(a)) for a in archs], dtype=int)  # (cells, 6)
    out = np.zeros((len(vec), vec.shape[1] * len(OPS)))
    for e in range(vec.shape[1]):
        out[np.arange(len(vec)), e * len(OPS) + vec[:, e]] = 1.0
    return out


def split_cells(n: int, k: int, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Positions ``(train, evaluated)`` of a pool of ``n``: ``k`` drawn without replacement, the rest evaluated."""
    if not 2 <= k < n:
        raise NwotError(f"k (labelled cells) must be in 2..{n - 1} for a pool of {n} cells, got {k}")
    perm = rng.permutation(n)
    train, test = np.sort(perm[:k]), np.sort(perm[k:])
    if np.intersect1d(train, test).size:  # pragma: no cover - a permutation cannot repeat
        raise NwotError("few-shot split trains on an evaluated cell")
    return train, test


def features(scores: Optional[pd.DataFrame], archs: Optional[Sequence[str]]) -> np.ndarray:
    """The model's inputs: oriented proxy columns (``±inf`` -> NaN) and/or the one-hot encoding."""
    parts = []
    if scores is not None and scores.shape[1]:
        parts.append(scores.to_numpy(dtype=float).copy())
        parts[-1][~np.isfinite(parts[-1])] = np.nan
    if archs is not None:
        parts.append(nb201_onehot(archs))
    if not parts:
        raise NwotError("few-shot model needs proxy columns, the encoding, or both")
    return np.hstack(parts)


def fit_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, cfg: BoostConfig,
                seed: int) -> np.ndarray:
    """Fit LightGBM on the training cells, predict the others."""
    try:
        import lightgbm as lgb
    except ModuleNotFoundError:
        raise NwotError("the few-shot models need LightGBM: pip install 'nwot[fewshot]' (lightgbm>=4)") from None

    params = {"objective": "regression", "learning_rate": cfg.learning_rate, "num_leaves": cfg.num_leaves,
              "min_data_in_leaf": cfg.min_child_samples, "min_sum_hessian_in_leaf": 1e-3,
              "bagging_fraction": cfg.subsample, "bagging_freq": 1, "feature_fraction": cfg.colsample_bytree,
              "seed": seed, "num_threads": cfg.threads, "deterministic": True, "force_row_wise": True,
              "verbose": -1}
    data = lgb.Dataset(x_train, y_train, params={"min_data_in_bin": 1, "feature_pre_filter": False, "verbose": -1})
    model = lgb.train(params, data, num_boost_round=cfg.n_estimators)
    return model.predict(x_test)


def fewshot_draws(x: np.ndarray, accuracy, k: int, *, draws: int = 20, seed: int = 0,
                  cfg: BoostConfig = BoostConfig()) -> FewShotResult:
    """Kendall tau / Spearman rho on the held-out cells, mean and std over ``draws`` seeded training draws."""
    from nwot.study.proxy_metrics import kendall, spearman

    y = np.asarray(accuracy, dtype=float)
    if x.shape[0] != len(y) or np.isnan(y).any():
        raise NwotError(f"need one finite accuracy per cell: {x.shape[0]} cells, {len(y)} accuracies "
                        f"({int(np.isnan(y).sum())} NaN)")
    if draws < 1:
        raise NwotError(f"draws must be >= 1, got {draws}")
    per: List[Tuple[float, float]] = []
    for d in range(draws):
        train, test = split_cells(len(y), k, np.random.default_rng(seed + d))
        pred = fit_predict(x[train], y[train], x[test], cfg, seed + d)
        per.append((kendall(pred, y[test]), spearman(pred, y[test])))
    t, r = np.array(per).T
    return FewShotResult(k, draws, len(y), len(y) - k, float(np.nanmean(t)), float(np.nanstd(t)),
                         float(np.nanmean(r)), float(np.nanstd(r)), per)


def fewshot_table(x: np.ndarray, accuracy, ks: Sequence[int], *, draws: int = 20, seed: int = 0,
                  min_evaluated: int = 50, cfg: BoostConfig = BoostConfig()) -> Dict[int, FewShotResult]:
    """:func:`fewshot_draws` for each ``k`` that leaves at least ``min_evaluated`` held-out cells."""
    return {k: fewshot_draws(x, accuracy, k, draws=draws, seed=seed, cfg=cfg)
            for k in ks if len(accuracy) - k >= min_evaluated}
