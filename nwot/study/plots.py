"""Figures of the NAS-Bench-201 reproduction (matplotlib, imported lazily; each draws into a given Axes).

Mellor et al., "Neural Architecture Search without Training", ICML 2021, arXiv:2006.04647:
Fig. 1 (the kernel K_H of a high- and a low-accuracy untrained network), Fig. 3 (score against
trained accuracy over the whole space), Table 2 (search accuracy as the number N of sampled cells grows).
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple

import numpy as np


def score_vs_accuracy(ax, score, accuracy, *, accuracy_label: str = "test accuracy (%)",
                      tau: Optional[float] = None, title: Optional[str] = None):
    """Scatter of score (y) against trained accuracy (x), paper Fig. 3 style. ``-inf`` scores are left out
    and counted in the title."""
    s, a = np.asarray(score, dtype=float), np.asarray(accuracy, dtype=float)
    finite = np.isfinite(s)
    ax.scatter(a[finite], s[finite], s=2, alpha=0.25, linewidths=0, rasterized=True)
    ax.set_xlabel(accuracy_label)
    ax.set_ylabel("NASWOT score  log|det K_H|")
    head = [title or "NAS-Bench-201"] + ([f"Kendall τ = {tau:.3f}"] if tau is not None else [])
    parts = [f"{int(finite.sum())} cells"]
    if (~finite).any():
        parts.append(f"{int((~finite).sum())} singular (-inf) not shown")
    ax.set_title(", ".join(head) + "\n" + ", ".join(parts), fontsize=9)
    return ax


def kernel_heatmap(ax, K, *, title: str = "", n_units: Optional[float] = None):
    """``K_H / N_A`` as an image (paper Fig. 1): 1 on the diagonal, the fraction of ReLU units on which two
    images agree off it. ``n_units`` defaults to ``K[0, 0]`` (clean mode: ``K_H[i, i] = N_A``)."""
    K = np.asarray(K, dtype=float)
    na = float(n_units) if n_units is not None else float(K[0, 0])
    im = ax.imshow(K / na, cmap="viridis", vmin=0.5, vmax=1.0, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("image j")
    ax.set_ylabel("image i")
    return im


def search_curve(ax, rows: Sequence[Mapping], *, paper: Optional[Mapping[int, Tuple[float, float]]] = None,
                 title: str = "NASWOT search, NAS-Bench-201 CIFAR-10"):
    """Test accuracy (mean ± std over runs) of NASWOT and the best-of-N oracle, and the mean of a random pick,
    against N; the paper's Table 2 as error bars."""
    n = np.array([r["n"] for r in rows], dtype=float)
    for key, label in (("naswot", "NASWOT (ours), ± std"), ("oracle", "best of N (oracle), ± std"),
                       ("random", "random pick (mean)")):
        m = np.array([r[f"{key}_mean"] for r in rows])
        ax.plot(n, m, marker="o", ms=3, label=label)
        if key != "random":  # a random cell's spread (tens of points) would hide the others
            sd = np.array([r[f"{key}_std"] for r in rows])
            ax.fill_between(n, m - sd, m + sd, alpha=0.15)
    if paper:
        pn = sorted(paper)
        ax.errorbar(pn, [paper[k][0] for k in pn], yerr=[paper[k][1] for k in pn], fmt="k^", ms=5, capsize=3,
                    label="paper (Table 2)")
    ax.set_xscale("log")
    ax.set_xlabel("N (cells sampled per run)")
    ax.set_ylabel("CIFAR-10 test accuracy (%)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return ax


def save(fig, path) -> None:
    """Save ``fig`` (PNG, 150 dpi, tight) and close it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)

