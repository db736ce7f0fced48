"""PNAS sample efficiency: models evaluated until the best-so-far reaches a target, PNAS vs REINFORCE.

Liu et al., "Progressive Neural Architecture Search", ECCV 2018, abstract and §5.3 (Table 1 as we read it):
under the same search space, PNAS is "up to 5 times more efficient than the RL method of Zoph et al. (2018) in
terms of number of models evaluated": PNAS trains 1,160 models (B = 5, beam K = 256); NAS needs about 5x as many
to reach the same mean validation accuracy of its top-M models (M = 1, 5, 25).

The statistic here (:mod:`nwot.study.search_curves`): per run, ``N(t) = min{n : top-M mean of the first n signals
>= t}``; over seeds, the distribution of ``N(t)`` with runs that never reach ``t`` censored; the "speedup" is
``median N_REINFORCE(t) / median N_PNAS(t)``.

* **NB201 table** (:func:`table_comparison`): PNAS grows cells one non-``none`` edge at a time
  (:class:`~nwot.search.progressive.NB201EdgeProgression`: 24 one-edge cells, then the beam of each level up to
  6 edges; the search ends when the level-6 children of its beam are exhausted), REINFORCE has a fixed budget of
  :data:`TABLE_BUDGET` models, random search as a reference. Targets: the signal (12-epoch ``cifar10-valid``
  x-valid accuracy) of the best ``f`` of all 15,625 cells, ``f`` in :data:`TOP_FRACTIONS`.
* **PNAS cell space with real training** (:data:`TRAINED_PRESETS`): PNAS on ``pnas`` (cells of up to B blocks),
  REINFORCE on :class:`~nwot.spaces.pnas.fixed.FixedBlocksView` (cells of exactly B blocks, sampled block by
  block as the NAS controller does). Targets: quantiles of the validation accuracies of every distinct cell
  trained in the comparison (there is no table of the space).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from nwot.search.loop import Budget
from nwot.study.search_curves import hits_table, median_ratio, top_fraction_targets
from nwot.study.trained_comparison import PAPERS_CPU_TRAIN, TrainedPreset

#: Fractions of the space whose signal is a target (top 5 %, 1 %, 0.5 %, 0.1 % of NB201's 15,625 cells).
TOP_FRACTIONS = (0.05, 0.01, 0.005, 0.001)
#: Models REINFORCE and random search may evaluate per run on the table (PNAS stops by itself).
TABLE_BUDGET = 1500
#: Top-M means compared (PNAS Table 1 uses M = 1, 5, 25).
TOP_M = (1, 5)
#: PNAS on the table: the MLP-ensemble surrogate (PNAS §3.3's alternative to the LSTM; 4-5x cheaper here).
TABLE_PNAS = {"surrogate": "mlp", "surrogate_kwargs": {"epochs": 50}}
TABLE_BEAMS = (32, 64)

TRAINED_PRESETS: Dict[str, TrainedPreset] = {
    "cpu": TrainedPreset("cpu_tiny", PAPERS_CPU_TRAIN, {"C": 8, "N": 1}, evaluations=40, seeds=3, test_images=2000,
                         note="2-core CPU: about 10 s per model; the 21 one-block cells are shared by all PNAS runs"),
    "gpu": TrainedPreset("pnas_proxy", {}, {"C": 24, "N": 2}, evaluations=2320, seeds=3, test_images=None,
                         note="PNAS §5.1: B = 5, 8 ops, K = 256 = 1,160 models, 20 epochs each; REINFORCE gets 2x"),
}
#: PNAS space and beam per preset.
TRAINED_SPACE: Dict[str, Dict[str, Any]] = {
    "cpu": {"num_blocks": 2, "ops": ("sep_conv_3x3", "identity", "max_pool_3x3")},
    "gpu": {"num_blocks": 5},
}
TRAINED_PNAS: Dict[str, Dict[str, Any]] = {
    "cpu": {"beam": 4, "surrogate": "lstm", "surrogate_kwargs": {"epochs": 100}},
    "gpu": {"beam": 256, "surrogate": "lstm", "continue_search": False},
}
#: Quantiles of the pooled trained accuracies used as targets in the real-training comparison.
TRAINED_TARGET_QUANTILES = (0.75, 0.9)


def trained_labels(preset: str) -> Dict[str, tuple]:
    return {"pnas": ("pnas", "pnas", dict(TRAINED_PNAS[preset])), "reinforce": ("reinforce", "pnas-fixed", {})}


def table_targets(fractions: Sequence[float] = TOP_FRACTIONS) -> Dict[str, float]:
    """``{"top 1%": signal, ...}``: the 12-epoch x-valid accuracy of the best ``f`` of the NB201 cells."""
    from nwot import load_nb201_table

    t = top_fraction_targets(load_nb201_table()["cifar10-valid/x-valid@12"].to_numpy(), fractions)
    return {f"top {100 * f:g}%": v for f, v in t.items()}


def table_jobs(beams: Sequence[int] = TABLE_BEAMS) -> Dict[str, tuple]:
    """``label -> (strategy, options)`` of the table comparison: PNAS per beam, REINFORCE, random search."""
    jobs = {f"pnas-k{k}": ("pnas", {"beam": k, **TABLE_PNAS}) for k in beams}
    jobs.update({"reinforce": ("reinforce", {}), "random": ("random", {})})
    return jobs


def table_comparison(runs: int = 100, seed: int = 0, budget: int = TABLE_BUDGET, beams: Sequence[int] = TABLE_BEAMS,
                     progress=None, skip: Sequence[str] = ()) -> Dict[str, List[Any]]:
    """``{label: [SearchResult per seed]}``: PNAS (each beam), REINFORCE and random search on the NB201 table;
    labels in ``skip`` are not run; ``progress(label, results)`` after each label."""
    from nwot.search.run import benchmark_setup

    setup = benchmark_setup("nb201", "cifar10")
    out = {}
    for label, (strat, opts) in table_jobs(beams).items():
        if label in skip:
            continue
        out[label] = setup.run(strat, Budget(evaluations=budget), runs=runs, seed=seed, options=opts,
                               config={"label": label}).runs
        if progress is not None:
            progress(label, out[label])
    return out


def efficiency(signals: Mapping[str, Sequence[Sequence[float]]], targets: Mapping[str, float],
               m_values: Sequence[int] = TOP_M, budgets: Optional[Mapping[str, int]] = None,
               baseline: str = "reinforce") -> Dict[str, Any]:
    """Models-to-target distributions per (M, target, strategy) and each strategy's speedup over ``baseline``
    (``median N_baseline / median N_strategy``)."""
    out: Dict[str, Any] = {}
    for m in m_values:
        tab = hits_table(signals, targets, m)
        for per in tab.values():
            for label, summ in per.items():
                summ["budget"] = None if budgets is None else budgets.get(label)
                if label != baseline and baseline in per:
                    summ["speedup_vs_" + baseline] = median_ratio(per[baseline]["values"], summ["values"])
        out[f"top-{m}"] = tab
    return out


def pooled_targets(signals: Sequence[Sequence[float]], archs: Sequence[Sequence[str]],
                   quantiles: Sequence[float] = TRAINED_TARGET_QUANTILES) -> Dict[str, float]:
    """Quantiles of the signals of every distinct arch (first measurement) across all runs given."""
    seen: Dict[str, float] = {}
    for sig, arc in zip(signals, archs):
        for s, a in zip(sig, arc):
            if a not in seen and np.isfinite(s):
                seen[a] = float(s)
    v = np.array(list(seen.values()))
    return {f"q{int(round(100 * q))} of {len(v)} cells": float(np.quantile(v, q)) for q in quantiles}
