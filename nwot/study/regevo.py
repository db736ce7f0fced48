"""Regularized evolution vs reinforcement learning vs random search: Real et al.'s controlled comparison.

Real, Aggarwal, Huang & Le, "Regularized Evolution for Image Classifier Architecture Search", AAAI 2019,
§4 / Fig. 3: evolution (aging tournament selection, P = population, S = sample size), RL (the NAS controller)
and random search run side by side on the NASNet space with the same training code; the figure plots the
accuracy of the models found against the number of models evaluated (5 repeats of 20,000 models each). The
paper's claims: evolution reaches similar or higher final accuracy than RL, is clearly better early in the
search, and both beat random search.

Here, two settings (the scripts: ``benchmarks/regevo_comparison.py``):

* **NB201 table** (:func:`table_comparison`): 100 seeds per strategy; search signal the 12-epoch
  ``cifar10-valid`` x-valid accuracy (seed mean), charged as one model each; reported: the 200-epoch CIFAR-10
  test accuracy (seed mean) of the best-by-signal cell so far. REA is nwot's NB201 setting (P = 10, S = 3),
  REINFORCE the NB201 / NATS-Bench factorised policy (Adam, lr 0.01, EMA baseline 0.9).
* **open NASNet / AmoebaNet cell space with real training** (:data:`TRAINED_PRESETS`, the ``nasnet`` space):
  REA with the paper's mutations, REINFORCE's factorised policy over the flat cell (one categorical per input
  and op choice: a simpler controller than the paper's LSTM + PPO), random search.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from nwot.search.loop import Budget
from nwot.study.search_curves import at_steps, band, best_so_far, reported_best_so_far
from nwot.study.trained_comparison import PAPERS_CPU_TRAIN, TrainedPreset

#: Strategy label -> (registered strategy, options) on the NB201 table.
TABLE_STRATEGIES: Dict[str, tuple] = {
    "rea": ("rea", {"population_size": 10, "sample_size": 3}),
    "reinforce": ("reinforce", {}),
    "random": ("random", {}),
}
#: Models after which the table comparison reports the curves.
REPORT_STEPS = (10, 25, 50, 100, 200, 500, 1000)

#: Real-training sizes. ``cpu``: 16 trained models per run, 3 seeds, AmoebaNet cells of 5 combinations in the
#: smallest network (C = 8, N = 1: 5 cells), :data:`~nwot.study.trained_comparison.PAPERS_CPU_TRAIN`; REA
#: P = 6, S = 3 (so 10 of the 16 models are mutants). ``gpu``: Real et al.'s search-time networks (F = 24 filters,
#: N = 3 normal cells per stage, §4.1 / S1 as we read them) trained on the pnas_proxy budget (20 epochs, 45,000 /
#: 5,000 images), 500 models per run, 5 seeds (the paper: 20,000 models, 5 repeats), REA P = 100, S = 25.
TRAINED_PRESETS: Dict[str, TrainedPreset] = {
    "cpu": TrainedPreset("cpu_tiny", PAPERS_CPU_TRAIN, {"C": 8, "N": 1}, evaluations=16, seeds=3, test_images=2000,
                         note="2-core CPU: about 25 s per model on an idle core, 60-110 s on the shared machine"),
    "gpu": TrainedPreset("pnas_proxy", {}, {"C": 24, "N": 3}, evaluations=500, seeds=5, test_images=None,
                         note="one GPU; needs the 5 CIFAR-10 training batches (45,000 + 5,000 images)"),
}
#: REA options per preset (P, S); Real et al. used P = 100, S = 25 for their CIFAR-10 searches of 20,000 models.
TRAINED_REA: Dict[str, Dict[str, int]] = {"cpu": {"population_size": 6, "sample_size": 3},
                                          "gpu": {"population_size": 100, "sample_size": 25}}
#: Space options of the open NASNet space (AmoebaNet ops, 5 combinations per cell).
NASNET_SPACE: Dict[str, Any] = {"nodes": 5}


def trained_labels(preset: str) -> Dict[str, tuple]:
    """``label -> (strategy, setup key, options)`` of the real-training comparison."""
    return {"rea": ("rea", "nasnet", dict(TRAINED_REA[preset])), "reinforce": ("reinforce", "nasnet", {}),
            "random": ("random", "nasnet", {})}


def table_comparison(runs: int = 100, evaluations: int = 1000, seed: int = 0,
                     strategies: Optional[Mapping[str, tuple]] = None, progress=None) -> Dict[str, List[Any]]:
    """``{label: [SearchResult per seed]}`` of each strategy on the NB201 table (module docstring)."""
    from nwot.search.run import benchmark_setup

    setup = benchmark_setup("nb201", "cifar10")
    out = {}
    for label, (strat, opts) in (strategies or TABLE_STRATEGIES).items():
        out[label] = setup.run(strat, Budget(evaluations=evaluations), runs=runs, seed=seed, options=dict(opts),
                               config={"label": label}).runs
        if progress is not None:
            progress(label)
    return out


def run_curves(signals: Sequence[Sequence[float]], reports: Optional[Sequence[Sequence[float]]] = None,
               steps: Sequence[int] = REPORT_STEPS) -> Dict[str, Any]:
    """Bands (mean, std, quartiles per model count) of the best-so-far signal and, with ``reports``, of the
    reported accuracy of the best-so-far cell; and their values at ``steps`` (those within the budget)."""
    sig = [best_so_far(s) for s in signals]
    out: Dict[str, Any] = {"signal": band(sig)}
    if reports is not None:
        out["report"] = band([reported_best_so_far(s, r) for s, r in zip(signals, reports)])
    n = len(sig[0])
    keep = [k for k in steps if k <= n]
    out["at"] = {key: {stat: at_steps(out[key][stat], keep) for stat in ("mean", "std", "q50")}
                 for key in ("signal", "report") if key in out}
    return out


def early_advantage(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]],
                    steps: Sequence[int]) -> Dict[int, float]:
    """Per step ``n``, the fraction of seed pairs (a_i, b_j) in which ``a``'s best-so-far beats ``b``'s (ties
    count 1/2): the probability that a run of ``a`` is ahead of a run of ``b`` after ``n`` models."""
    ca = np.array([best_so_far(s) for s in a])
    cb = np.array([best_so_far(s) for s in b])
    out = {}
    for n in steps:
        x, y = ca[:, n - 1][:, None], cb[:, n - 1][None, :]
        out[int(n)] = float(np.mean((x > y) + 0.5 * (x == y)))
    return out
