"""BlockQNN: Q-learning vs random search in the same block space, and the early-stop reward correction.

Zhong, Yan, Wu, Shao & Liu, "Practical Block-wise Neural Network Architecture Generation", CVPR 2018
(arXiv:1708.05552):

* **Fig. 8** (as we read it): Q-learning and random search sample blocks from the same space with the same
  early-stop training; Q-learning's sampled blocks get better as epsilon anneals, random search's do not, and
  the best blocks found by Q-learning are better. Here: :data:`TRAINED_PRESETS` (real training), curves of the
  mean accuracy of each iteration's blocks and of the best-so-far against models evaluated.
* **§3.4, the early-stop reward** (Eq. 4 as nwot implements it, :meth:`nwot.search.blockqnn.BlockQNN.reward`)::

      reward = ACC_EarlyStop - mu log(FLOPs) - rho log(Density)

  FLOPs is the block's computational cost, Density = edges / nodes of the block's DAG; mu and rho are
  hyper-parameters that balance the two terms, chosen so that the corrected early-stop accuracy ranks blocks
  more like their final accuracy (their Fig. 4); the paper gives the form, not a fitting procedure. On NB201
  (:func:`reward_correlations`) the early-stop accuracy is the 12-epoch ``cifar10-valid`` x-valid accuracy (as a
  fraction, as BlockQNN's ACC), the final one the 200-epoch accuracy, FLOPs the table's CIFAR-10 FLOPs and
  Density = (non-``none`` edges) / 4 nodes of the cell (:func:`nb201_density`; the all-``none`` cell, density 0,
  is left out). mu and rho are fitted by a grid search maximising Spearman's rank correlation with the final
  accuracy on a random half of the cells and reported on the other half, with the paper's sign
  (mu, rho >= 0: penalise large, dense blocks) and with free signs.
"""
from __future__ import annotations

import math
import random
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
from scipy.stats import kendalltau, spearmanr

from nwot.errors import NwotError
from nwot.study.trained_comparison import PAPERS_CPU_TRAIN, TrainedPreset

EARLY = "cifar10-valid/x-valid@12"
#: Final accuracies the correction is judged against: the same split after 200 epochs, and the CIFAR-10 test set.
FINALS = ("cifar10-valid/x-valid@200", "cifar10/ori-test@200")
def fit_grid(step: float = 0.0025, limit: float = 0.2) -> Tuple[float, ...]:
    """``-limit .. limit`` in steps of ``step`` (both mu and rho), 0 included."""
    if not 0 < step <= limit:
        raise NwotError(f"grid step must be in (0, limit={limit}], got {step!r}")
    n = int(round(limit / step))
    return tuple(float(np.round(k * step, 6)) for k in range(-n, n + 1))


#: Grid of the fit (both mu and rho): -0.2 .. 0.2 in steps of 0.0025.
GRID = fit_grid()


def nb201_density(arch: str) -> float:
    """Edges / nodes of an NB201 cell's DAG: non-``none`` edges over its 4 nodes."""
    from nwot.spaces import nb201

    ops = nb201.parse_arch(arch)
    return sum(op != "none" for op in ops) / 4.0


def corrected(acc: np.ndarray, log_flops: np.ndarray, log_density: np.ndarray, mu: float, rho: float) -> np.ndarray:
    """``acc - mu log(FLOPs) - rho log(Density)`` (acc as a fraction)."""
    return acc - mu * log_flops - rho * log_density


def fit_mu_rho(acc: np.ndarray, log_flops: np.ndarray, log_density: np.ndarray, final: np.ndarray, *,
               grid: Sequence[float] = GRID, nonnegative: bool = False, fix_mu: Optional[float] = None,
               fix_rho: Optional[float] = None) -> Dict[str, float]:
    """The (mu, rho) on ``grid`` maximising Spearman(corrected, final); ``nonnegative`` keeps the paper's sign,
    ``fix_mu`` / ``fix_rho`` pin one of them (e.g. 0 for a FLOPs-only or density-only correction). Ties keep the
    smallest |mu| + |rho| (then the first in grid order)."""
    mus = [fix_mu] if fix_mu is not None else [g for g in grid if g >= 0 or not nonnegative]
    rhos = [fix_rho] if fix_rho is not None else [g for g in grid if g >= 0 or not nonnegative]
    rf = _ranks(final)
    best: Tuple[float, float, float, float] = (-math.inf, 0.0, 0.0, 0.0)
    for mu in mus:
        for rho in rhos:
            r = _pearson(_ranks(corrected(acc, log_flops, log_density, mu, rho)), rf)
            size = abs(mu) + abs(rho)
            if r > best[0] + 1e-12 or (abs(r - best[0]) <= 1e-12 and size < best[3]):
                best = (r, float(mu), float(rho), size)
    return {"mu": best[1], "rho": best[2], "spearman_fit": best[0]}


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    d = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / d) if d > 0 else float("nan")


def correlations(score: np.ndarray, final: np.ndarray) -> Dict[str, float]:
    return {"spearman": float(spearmanr(score, final).correlation), "kendall": float(kendalltau(score, final)[0])}


def nb201_reward_frame():
    """The NB201 cells with an early accuracy (fraction), log FLOPs, log density and the finals (density > 0)."""
    from nwot import load_nb201_table

    t = load_nb201_table()
    dens = np.array([nb201_density(a) for a in t["arch"]])
    keep = dens > 0
    df = t.loc[keep, ["arch", EARLY, "flops", *FINALS]].copy()
    df["acc"] = df[EARLY] / 100.0
    df["log_flops"] = np.log(df["flops"].to_numpy())
    df["log_density"] = np.log(dens[keep])
    return df


def reward_correlations(seed: int = 0, grid: Sequence[float] = GRID) -> Dict[str, Any]:
    """Rank correlations of the early-stop accuracy with the final accuracy, uncorrected and corrected with the
    fitted (mu, rho): fit on a random half (``random.Random(seed)``), reported on the held-out half and on all."""
    df = nb201_reward_frame()
    n = len(df)
    idx = list(range(n))
    random.Random(seed).shuffle(idx)
    fit_i, test_i = np.array(sorted(idx[: n // 2])), np.array(sorted(idx[n // 2:]))
    cols = {k: df[k].to_numpy() for k in ("acc", "log_flops", "log_density")}
    out: Dict[str, Any] = {"cells": n, "fit_cells": len(fit_i), "held_out_cells": len(test_i), "split_seed": seed,
                           "grid": [float(min(grid)), float(max(grid)), float(grid[1] - grid[0])], "finals": {}}
    variants = {"flops+density (free sign)": {}, "flops+density (paper sign)": {"nonnegative": True},
                "flops only (free sign)": {"fix_rho": 0.0}, "density only (free sign)": {"fix_mu": 0.0},
                "flops only (paper sign)": {"fix_rho": 0.0, "nonnegative": True},
                "density only (paper sign)": {"fix_mu": 0.0, "nonnegative": True}}
    for final_name in FINALS:
        final = df[final_name].to_numpy()
        sub = {k: v[fit_i] for k, v in cols.items()}
        res: Dict[str, Any] = {"uncorrected": {"held_out": correlations(cols["acc"][test_i], final[test_i]),
                                               "all": correlations(cols["acc"], final)}}
        for name, kw in variants.items():
            fit = fit_mu_rho(sub["acc"], sub["log_flops"], sub["log_density"], final[fit_i], grid=grid, **kw)
            score = corrected(cols["acc"], cols["log_flops"], cols["log_density"], fit["mu"], fit["rho"])
            res[name] = {**fit, "held_out": correlations(score[test_i], final[test_i]),
                         "all": correlations(score, final)}
        out["finals"][final_name] = res
    out["raw"] = {"spearman_early_vs_log_flops": float(spearmanr(cols["acc"], cols["log_flops"]).correlation),
                  "spearman_gap_vs_log_flops": float(spearmanr(df[FINALS[0]].to_numpy() / 100 - cols["acc"],
                                                               cols["log_flops"]).correlation),
                  "spearman_gap_vs_log_density": float(spearmanr(df[FINALS[0]].to_numpy() / 100 - cols["acc"],
                                                                 cols["log_density"]).correlation)}
    return out


# --------------------------------------------------------------------------------------------------
# Real training: Q-learning vs random search in the BlockQNN block space.
# --------------------------------------------------------------------------------------------------

#: ``cpu``: blocks of <= 4 layers in the smallest network (C = 8, N = 1), 4 blocks per iteration, 20 iterations
#: (80 trained blocks per run) with the paper's epsilon schedule shrunk to 20 iterations (11 at epsilon 1, then
#: one each at 0.9 .. 0.1), 3 seeds. ``gpu``: blocks of <= 10 layers, BlockQNN's early-stop budget
#: (``blockqnn_proxy``: 12 epochs), 64 blocks per iteration, the schedule shrunk to 18 iterations (1,152 blocks;
#: the paper: 178 iterations, 11,392 blocks), 2 seeds.
TRAINED_PRESETS: Dict[str, TrainedPreset] = {
    "cpu": TrainedPreset("cpu_tiny", PAPERS_CPU_TRAIN, {"C": 8, "N": 1}, evaluations=80, seeds=3, test_images=2000,
                         note="2-core CPU: about 3 s per block"),
    "gpu": TrainedPreset("blockqnn_proxy", {}, {"C": 32, "N": 2}, evaluations=1152, seeds=2, test_images=None,
                         note="one GPU; needs the 5 CIFAR-10 training batches"),
}
TRAINED_SPACE: Dict[str, Dict[str, Any]] = {"cpu": {"max_layers": 4}, "gpu": {"max_layers": 10}}
#: BlockQNN options per preset (schedule "scaled:<iterations>" = the paper's schedule shrunk).
TRAINED_QNN: Dict[str, Dict[str, Any]] = {
    "cpu": {"batch_size": 4, "replay_size": 64, "schedule": "scaled:20", "mu": 0.0, "rho": 0.0},
    "gpu": {"batch_size": 64, "replay_size": 64, "schedule": "scaled:18", "mu": 0.0, "rho": 0.0},
}


def qnn_options(preset: str, overrides: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """BlockQNN options of ``preset`` with the schedule expanded (``scaled:<n>`` -> the paper's, shrunk)."""
    from nwot.search.blockqnn import scaled_schedule

    opts = {**TRAINED_QNN[preset], **dict(overrides or {})}
    sched = opts.get("schedule")
    if isinstance(sched, str):
        if not sched.startswith("scaled:") or not sched[7:].isdigit():
            raise NwotError(f"schedule must be a list of (epsilon, iterations) or 'scaled:<iterations>', got {sched!r}")
        opts["schedule"] = [list(x) for x in scaled_schedule(int(sched[7:]))]
    return opts


def trained_labels(preset: str, overrides: Optional[Mapping[str, Any]] = None) -> Dict[str, tuple]:
    return {"blockqnn": ("blockqnn", "blockqnn", qnn_options(preset, overrides)),
            "random": ("random", "blockqnn", {})}


def iteration_means(signals: Sequence[float], batch: int) -> np.ndarray:
    """Mean signal of each consecutive group of ``batch`` models (one BlockQNN iteration; failures left out)."""
    s = np.asarray(signals, dtype=float)
    n = len(s) // batch
    out = np.full(n, np.nan)
    for i in range(n):
        g = s[i * batch:(i + 1) * batch]
        g = g[np.isfinite(g)]
        if len(g):
            out[i] = g.mean()
    return out
