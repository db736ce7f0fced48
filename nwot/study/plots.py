"""Figures of the NAS-Bench-201 reproduction (matplotlib, imported lazily; each draws into a given Axes).

Mellor et al., "Neural Architecture Search without Training", ICML 2021, arXiv:2006.04647:
Fig. 1 (the kernel K_H of a high- and a low-accuracy untrained network), Fig. 3 (score against
trained accuracy over the whole space), Table 2 (search accuracy as the number N of sampled cells grows).
Also the figures of the search comparisons (best-so-far curves under simulated time, NAS-Bench-201
Table 5 as dots; accuracy against the signal's seed-draw noise) and of the NB101 / NDS studies.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

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



def figure(*args, **kwargs):
    """``matplotlib.pyplot.subplots`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def score_scatter(path, score, accuracy, title: str, *, xlabel: str = "NASWOT score  log|K_H|",
                  ylabel: str = "test accuracy (%)", grid: bool = True, dpi: int = 120) -> None:
    """One scatter of accuracy (y) against score (x), ``-inf`` scores left out; saved to ``path``."""
    s, a = np.asarray(score, dtype=float), np.asarray(accuracy, dtype=float)
    ok = np.isfinite(s)
    fig, ax = figure(figsize=(4.5, 3.5))
    ax.scatter(s[ok], a[ok], s=6, alpha=0.5)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if grid:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    _close(fig)


def score_scatters(path, accuracy, panels: Sequence[Tuple[str, Any]], *, xlabel: str, ylabel: str) -> None:
    """One scatter per ``(title, score)`` panel side by side (accuracy on y, ``-inf`` left out); saved to ``path``."""
    acc = np.asarray(accuracy, dtype=float)
    fig, axes = figure(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, (title, s) in zip(axes[0], panels):
        s = np.asarray(s, dtype=float)
        ok = np.isfinite(s)
        ax.scatter(s[ok], acc[ok], s=8, alpha=0.6)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _close(fig)


def search_curves(path, cdf, settings: Mapping[str, Any], published: Mapping[str, Mapping[str, Tuple[float, float]]],
                  label) -> None:
    """Best-so-far test accuracy against simulated time, one panel per (setting, report dataset), mean ± std
    over runs from the time every run has evaluated a cell (no survivor bias); published means as dots at
    the budget. ``cdf``: :func:`nwot.study.replay.curves` as a DataFrame; ``label(strategy)`` names a line."""
    panels = [(sk, d) for sk, st in settings.items() for d in st.report
              if len(cdf[(cdf.setting == sk) & (cdf.report_dataset == d)])]
    if not panels:
        return
    ncol = 3
    nrow = math.ceil(len(panels) / ncol)
    fig, axes = figure(nrow, ncol, figsize=(5.2 * ncol, 3.9 * nrow), squeeze=False)
    colors: Dict[str, str] = {}
    for ax, (sk, d) in zip(axes.flat, panels):
        st = settings[sk]
        sub = cdf[(cdf.setting == sk) & (cdf.report_dataset == d)]
        for strat, g in sub.groupby("strategy", sort=False):
            g = g[g.runs == g.runs.max()]
            c = colors.setdefault(strat, f"C{len(colors)}")
            ax.plot(g.time, g["mean"], color=c, label=label(strat), lw=1.5)
            ax.fill_between(g.time, g["mean"] - g["std"], g["mean"] + g["std"], color=c, alpha=0.15, lw=0)
            pub = published.get(strat, {}).get(d) if st.has_published else None
            if pub:
                ax.errorbar([st.budget * 1.015], [pub[0]], yerr=[pub[1]], fmt="o", ms=3, color=c, capsize=2)
        sub = sub[sub.runs == sub.runs.max()]
        lo = sub["mean"].dropna()
        if len(lo):
            hi = sub.loc[sub.time >= st.budget * 0.1, "mean"].dropna()
            ax.set_ylim(max(hi.min() - 2.5 * sub["std"].dropna().median(), lo.min()) if len(hi) else lo.min(),
                        sub["mean"].max() + 1.5 * sub["std"].dropna().median())
        ax.set_title(st.title() + (f", report {d}" if st.protocol == "nb201" else ""), fontsize=9)
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("test accuracy of best-so-far (%)")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Best-so-far arch (by 12-epoch valid acc.): 200-epoch test accuracy, mean ± std over runs "
                 "(drawn once every run has evaluated a cell); dots = NB201 published", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _close(fig)


def signal_noise_sweep(path, rows: Sequence[Mapping[str, Any]], datasets: Sequence[str], labels: Mapping[str, str],
                       published: Mapping[str, Mapping[str, Tuple[float, float]]]) -> None:
    """Test accuracy (mean ± SE over runs) against the signal noise SD, one panel per report dataset; the
    published mean ± SE as a dashed line and band."""
    fig, axes = figure(1, len(datasets), figsize=(14, 3.8))
    for ax, d in zip(axes, datasets):
        for k, strat in enumerate(labels):
            sub = [r for r in rows if r["strategy"] == strat and r["report_dataset"] == d]
            if not sub:
                continue
            x = [r["sigma"] for r in sub]
            y = np.array([r["test_mean"] for r in sub])
            se = np.array([r["test_std"] / math.sqrt(r["runs"]) for r in sub])
            ax.errorbar(x, y, yerr=se, marker="o", ms=3, color=f"C{k}", label=labels[strat], capsize=2)
            m, s = published[strat][d]
            ax.axhspan(m - s / math.sqrt(sub[0]["runs"]), m + s / math.sqrt(sub[0]["runs"]), color=f"C{k}", alpha=0.2)
            ax.axhline(m, color=f"C{k}", ls="--", lw=0.8)
        ax.set_title(f"report {d}", fontsize=10)
        ax.set_xlabel("signal noise SD sigma (accuracy points)")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("NB201 search (CIFAR-10, 12,000 s): mean ± SE over runs vs signal noise; dashed + band = "
                 "published mean ± SE", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _close(fig)


def _close(fig) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)
