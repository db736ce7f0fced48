"""Figures of the NASWOT NAS-Bench-201 reproduction (Mellor et al., ICML 2021, Fig. 1 and Fig. 3).

* ``nb201_score_vs_accuracy.png``: score against CIFAR-10 test accuracy (``cifar10/ori-test@200``) of every
  scored cell, clean mode and (when scored) reference mode (Fig. 3 style).
* ``nb201_kernels.png``: K_H / N_A of the best cell (highest ``cifar10/ori-test@200``) and of the worst cell
  that has an input->output path, on the batch-128 seed-0 CIFAR-10 batch, init seed 0 (Fig. 1 style). The
  kernels are computed once and kept in ``nb201_kernels_seed0.npz`` (``--recompute-kernels`` redoes them).

The search-vs-N figure is drawn by ``benchmarks/nb201_search_table.py``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from _common import RESULTS, STORE

import nwot.study.plots as plots
from nwot.study.correlation import rank_correlation
from nwot.study.kernels import compute_kernels
from nwot.study.scores import export_path, load_scores, load_store_scores

ACCURACY = "cifar10/ori-test@200"
KERNELS = "nb201_kernels_seed0.npz"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--source", default="exports", choices=("store", "exports"), help="exports (default) or store")
    p.add_argument("--store", default=str(STORE))
    p.add_argument("--recompute-kernels", action="store_true")
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    from nwot.adapters.embedded import load_nb201_table

    table = load_nb201_table()
    out = Path(args.out)
    panels = []
    for compat in ("clean", "reference"):
        if args.source == "store":
            s = load_store_scores(args.store, compat=compat)["score"]
        else:
            f = export_path(RESULTS, "cifar10", compat)
            s = load_scores(f)["score"] if f.is_file() else None
        if s is not None and len(s) > 1:
            panels.append((compat, s))
    fig, axes = plots.figure(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False, layout="constrained")
    for ax, (compat, s) in zip(axes[0], panels):
        a = table[ACCURACY].loc[s.index]
        tau = rank_correlation(s.to_numpy(), a.to_numpy()).kendall_tau
        plots.score_vs_accuracy(ax, s, a, accuracy_label=f"{ACCURACY} (%)", tau=tau, title=f"{compat} mode")
    plots.save(fig, out / "nb201_score_vs_accuracy.png")

    kpath = out / KERNELS
    if args.recompute_kernels or not kpath.is_file():
        compute_kernels(table, kpath, ACCURACY)
    k = np.load(kpath)
    fig, axes = plots.figure(1, 2, figsize=(9, 4), layout="constrained")
    for ax, name in zip(axes, ("high", "low")):
        idx = int(k[f"{name}_index"])
        im = plots.kernel_heatmap(ax, k[f"{name}_K"], title=f"index {idx}: {table[ACCURACY].iat[idx]:.2f}% test, "
                                                            f"score {float(k[f'{name}_score']):.1f}")
    fig.colorbar(im, ax=axes, shrink=0.8, label="K_H / N_A")
    plots.save(fig, out / "nb201_kernels.png")
    print(f"wrote nb201_score_vs_accuracy.png, nb201_kernels.png ({KERNELS}) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
