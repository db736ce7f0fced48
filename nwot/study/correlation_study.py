"""The NAS-Bench-201 correlation study: the score against trained accuracy, the singular kernels, the
agreement with NASLib's NASWOT, and the score's sensitivity to the batch, the init and the batch size.

Mellor et al., ICML 2021, arXiv:2006.04647, §4 / Fig. 3 (Kendall tau = 0.574 on NB201 CIFAR-10) and §5
(ablations). Each section takes stored scores (:class:`nwot.study.scores.StoredScores`) and the
embedded NB201 table and returns a JSON-ready dict; every correlation follows the one rule of
:mod:`nwot.study.correlation` (``-inf`` ranks last). :mod:`nwot.study.tables` renders the result.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import pandas as pd

from nwot.study.cells import path_mask, random_cells, unique_mask
from nwot.study.correlation import (
    TOPK_FRACTIONS,
    mean_pairwise_tau,
    rank_correlation,
    singular_treatments,
    topk_overlap,
)
from nwot.study.scores import SENS_BATCH_SEEDS, SENS_BATCH_SIZES, SENS_CELLS, SENS_INIT_SEEDS, StoredScores

#: Test accuracy columns of the embedded table per dataset (200 epochs, seed mean). CIFAR-10 has two:
#: ``cifar10/ori-test@200`` (trained on 50k, NB201's reporting number) and ``cifar10-valid/ori-test@200``
#: (trained on 25k, what the paper's released code correlates with).
ACCURACY: Dict[str, tuple] = {"cifar10": ("cifar10/ori-test@200", "cifar10-valid/ori-test@200"),
                              "cifar100": ("cifar100/x-test@200",),
                              "ImageNet16-120": ("ImageNet16-120/x-test@200",)}


def _corr(x, y) -> dict:
    return rank_correlation(np.asarray(x), np.asarray(y)).as_dict()


def nb201_correlation_rows(score: pd.Series, table: pd.DataFrame, accuracy_columns: Sequence[str],
                           fractions: Sequence[float] = TOPK_FRACTIONS) -> List[dict]:
    """Kendall tau, Spearman rho and top-k overlaps of NB201 ``score`` (indexed by NB201 index) against
    each accuracy column of ``table``, over three subsets of the scored cells: ``all``; ``path`` (cells
    with an input->output path, :func:`~nwot.study.cells.path_mask`); ``unique`` (one cell per isomorphism
    class, :func:`~nwot.study.cells.unique_mask`, the lowest index).
    """
    score = score.sort_index()
    archs = table["arch"].loc[score.index].tolist()
    subsets = {"all": np.ones(len(score), dtype=bool), "path": path_mask(archs), "unique": unique_mask(archs)}
    rows = []
    for subset, mask in subsets.items():
        s = score.to_numpy()[mask]
        for col in accuracy_columns:
            a = table[col].loc[score.index].to_numpy()[mask]
            c = rank_correlation(s, a)
            row = {"subset": subset, "accuracy": col, "n": c.n, "kendall_tau": c.kendall_tau,
                   "spearman_rho": c.spearman_rho, "singular": int(np.isneginf(s).sum())}
            for f in fractions:
                row[f"top{f * 100:g}%"] = topk_overlap(s, a, f)
            rows.append(row)
    return rows


def correlation_section(scores: StoredScores, table: pd.DataFrame, dataset: str) -> dict:
    """Per mode (clean, reference): :func:`nb201_correlation_rows`; and clean vs reference on their common cells."""
    out = {}
    for compat in ("clean", "reference"):
        s = scores.get(compat)
        if len(s) >= 2:
            out[compat] = {"cells": int(len(s)), "rows": nb201_correlation_rows(s, table, ACCURACY[dataset])}
    if "clean" in out and "reference" in out:
        a, b = scores.get("clean"), scores.get("reference")
        common = a.index.intersection(b.index)
        out["clean_vs_reference"] = rank_correlation(a.loc[common], b.loc[common]).as_dict()
    return out


def singular_section(scores: StoredScores, table: pd.DataFrame, dataset: str) -> dict:
    """The clean scores' singular kernels: their accuracies and tau / rho under three treatments of -inf
    (:func:`~nwot.study.correlation.singular_treatments`)."""
    s = scores.get("clean")
    if len(s) < 2:
        return {}
    out = {"singular": int((~np.isfinite(s.to_numpy())).sum()), "cells": int(len(s)), "by_accuracy": {}}
    for acc in ACCURACY[dataset]:
        a = table[acc].loc[s.index]
        sing = a[~np.isfinite(s.to_numpy())]
        out["by_accuracy"][acc] = {"singular_accuracy_max": float(sing.max()) if len(sing) else None,
                                   **singular_treatments(s.to_numpy(), a.to_numpy())}
    return out


def naslib_section(scores: StoredScores, table: pd.DataFrame, dataset: str, shared: Path) -> dict:
    """Agreement with NASLib's independent NASWOT (``nwot``) on its zero-cost subset (MANIFEST §1.8)."""
    from nwot.study.naslib import load_subset725

    zc = load_subset725(shared, dataset)
    out = {"naslib_cells": int(len(zc)), "naslib_vs_val_accuracy": _corr(zc["naslib_score"], zc["val_accuracy"])}
    for col in ACCURACY[dataset]:
        out[f"naslib_vs_{col}"] = _corr(zc["naslib_score"], table[col].loc[zc.index])
    for compat in ("clean", "reference"):
        s = scores.get(compat)
        common = zc.index.intersection(s.index)
        if len(common) < 2:
            continue
        ours = s.loc[common]
        sec = {"n": int(len(common)), "ours_vs_naslib": _corr(ours, zc["naslib_score"].loc[common]),
               "ours_vs_val_accuracy": _corr(ours, zc["val_accuracy"].loc[common]),
               "naslib_vs_val_accuracy_same_cells": _corr(zc["naslib_score"].loc[common],
                                                          zc["val_accuracy"].loc[common])}
        for col in ACCURACY[dataset]:
            sec[f"ours_vs_{col}"] = _corr(ours, table[col].loc[common])
        out[compat] = sec
    return out


def sensitivity_section(scores: StoredScores, table: pd.DataFrame, dataset: str) -> dict:
    """Paper §5 ablations on the 500 seeded random cells: mean pairwise tau of the score rankings over 5
    batches and over 5 init seeds, rho with accuracy of each; tau / rho for batch sizes 32..256."""
    cells = random_cells(SENS_CELLS, seed=0)
    acc = table[ACCURACY[dataset][0]]
    out = {"cells_asked": SENS_CELLS}
    for name, keys in (("batch_seeds", [dict(batch_seed=s) for s in SENS_BATCH_SEEDS]),
                       ("init_seeds", [dict(init_seed=s) for s in SENS_INIT_SEEDS])):
        series = [scores.get(**k) for k in keys]
        common = sorted(set(cells).intersection(*(set(s.index) for s in series)))
        if len(common) < 2:
            out[name] = {"n": len(common), "note": "not all seeds scored yet"}
            continue
        cols = [s.loc[common].to_numpy() for s in series]
        mean, lo, hi = mean_pairwise_tau(cols)
        rhos = [rank_correlation(c, acc.loc[common]).spearman_rho for c in cols]
        out[name] = {"n": len(common), "seeds": [list(k.values())[0] for k in keys], "pairwise_tau_mean": mean,
                     "pairwise_tau_min": lo, "pairwise_tau_max": hi, "rho_vs_accuracy": rhos,
                     "rho_vs_accuracy_mean": float(np.mean(rhos)), "rho_vs_accuracy_std": float(np.std(rhos))}
    bs = {}
    series = {b: scores.get(batch_size=b) for b in SENS_BATCH_SIZES}
    common = sorted(set(cells).intersection(*(set(s.index) for s in series.values())))
    for b, s in series.items():
        if len(common) >= 2:
            bs[str(b)] = rank_correlation(s.loc[common], acc.loc[common]).as_dict()
    out["batch_sizes"] = bs if bs else {"note": "not all batch sizes scored yet"}
    out["accuracy"] = ACCURACY[dataset][0]
    return out


def correlation_study(scores: StoredScores, table: pd.DataFrame, dataset: str, shared: Path) -> dict:
    """Every section of the study (the body of ``nb201_correlation.json``)."""
    return {"correlation": correlation_section(scores, table, dataset),
            "naslib": naslib_section(scores, table, dataset, shared),
            "singular": singular_section(scores, table, dataset),
            "sensitivity": sensitivity_section(scores, table, dataset)}
