"""Hardware-aware search on NB201 (issue 17): how close the fronts and constrained searches come to the truth.

Two measurements, each on the embedded table (NB201 CIFAR-10; HW-NAS-Bench latencies of the CIFAR-10
network), every method under the same budget of charged seconds (default 12,000, the NB201 protocol):

* **Fronts.** Each run returns the non-dominated set of (its signal, a device's latency) among the cells it
  evaluated (:mod:`nwot.search.pareto`). Methods: training-free Pareto search (``naswot``: uniform draws
  scored by the stored NASWOT score, charged its recorded scoring seconds), random search (``random``:
  12-epoch validation accuracy, charged simulated training seconds) and NSGA-II (``nsga2``, pymoo, same
  signal and cost, latency as its second objective). Quality: the hypervolume ratio of the returned cells
  at their true (200-epoch test accuracy, latency) against the table's exact front
  (:func:`~nwot.search.pareto.hypervolume_ratio`), with two reference points: the table's worst accuracy
  (10 %, the default of :func:`~nwot.search.pareto.true_front`; every front then shares the large area of
  the cheap untrainable cells, so the ratios sit near 1) and the table's *median* test accuracy (90.745 % on
  CIFAR-10), which measures only the useful upper half of the trade-off. The reference cost is the largest
  latency in the table in both. ``naswot`` and ``random`` do not look at the latency
  while searching, so one run gives the front of every device; ``nsga2`` runs once per device.
* **Latency budgets.** For three bounds per device (the 10 / 25 / 50 % quantiles of the measured
  latencies, 3 significant digits), the test accuracy of the cell a constrained search returns
  (:mod:`nwot.search.constraints`: REA under simulated time, the NASWOT search of N = 100 cells, random
  search), and of the best cell under the bound on each returned front, against the true constrained
  optimum ``max {acc_i : latency_i <= L}``; the gap is optimum - mean.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from nwot.adapters.hardware import DEVICES
from nwot.search.loop import Budget, SearchResult
from nwot.search.pareto import TrueFront, hypervolume_ratio, non_dominated, true_front
from nwot.search.run import benchmark_setup, proxy_setup

#: Methods of the front comparison, with the labels the tables use.
FRONT_METHODS: Dict[str, str] = {"naswot": "training-free (NASWOT score)", "random": "RS (12-ep. acc.)",
                                 "nsga2": "NSGA-II (12-ep. acc.)"}
#: Methods of the latency-budget comparison (constrained searches).
CONSTRAINED_METHODS: Dict[str, str] = {"rea": "REA (constrained)", "naswot": "NASWOT N=100 (constrained)",
                                       "random": "RS (constrained)"}
QUANTILES: Tuple[float, ...] = (0.1, 0.25, 0.5)


@dataclass(frozen=True)
class StudyConfig:
    """What the study runs."""

    scores: str  # stored NASWOT score file (index, score, seconds), e.g. the committed full-space export
    budget_seconds: float = 12_000.0  # charged seconds per run, every method
    runs: int = 100  # seeded runs per method (seeds seed .. seed + runs - 1)
    seed: int = 0
    devices: Tuple[str, ...] = DEVICES
    dataset: str = "cifar10"
    quantiles: Tuple[float, ...] = QUANTILES  # latency bounds per device, as quantiles of the measured latencies
    naswot_n: int = 100  # cells of the constrained NASWOT search

    def describe(self) -> Dict[str, Any]:
        return asdict(self)


def metric(device: str) -> str:
    return f"{device}_latency"


def latency_bounds(truth: TrueFront, quantiles: Sequence[float]) -> List[float]:
    """The ``quantiles`` of the measured latencies, rounded to 3 significant digits."""
    cost = truth.cost[np.isfinite(truth.cost)]
    return [float(f"{q:.3g}") for q in np.quantile(cost, quantiles)]


class Study:
    """The table, the true fronts and the setups of one study (:class:`StudyConfig`)."""

    def __init__(self, cfg: StudyConfig) -> None:
        self.cfg = cfg
        self.table_setup = benchmark_setup("nb201", cfg.dataset)
        self.free_setup = proxy_setup("nb201", cfg.dataset, scores=cfg.scores)
        self.bench, self.space = self.table_setup.benchmark, self.table_setup.space
        self.truth = {d: true_front(self.bench, metric(d), cfg.dataset) for d in cfg.devices}
        #: The same fronts with the reference accuracy at the table's median test accuracy (module docstring).
        self.median_accuracy = {d: float(np.nanmedian(t.accuracy)) for d, t in self.truth.items()}
        self.truth_median = {d: replace(t, reference=(self.median_accuracy[d], t.reference[1]))
                             for d, t in self.truth.items()}
        self.bounds = {d: latency_bounds(self.truth[d], cfg.quantiles) for d in cfg.devices}
        self._index: Dict[str, int] = {}

    def index(self, arch: str) -> int:
        i = self._index.get(arch)
        if i is None:
            i = self._index[arch] = int(self.bench.index_of(arch))
        return i

    # --- fronts --------------------------------------------------------------------------
    def front_group(self, method: str, device: Optional[str] = None) -> List[Dict[str, Any]]:
        """Every seed's run of a front method: rows for every device (``naswot``, ``random``, which never look
        at a latency) or for ``device`` (``nsga2``, which minimises that device's latency)."""
        budget = Budget(seconds=self.cfg.budget_seconds)
        kw = {"runs": self.cfg.runs, "seed": self.cfg.seed}
        if method == "naswot":
            runs = self.free_setup.run("naswot", budget, **kw).runs
        elif method == "nsga2":
            runs = self.table_setup.run("nsga2", budget, pareto=self.table_setup.cost_lookup(metric(device)), **kw).runs
        else:
            runs = self.table_setup.run(method, budget, **kw).runs
        devices = [device] if method == "nsga2" else list(self.cfg.devices)
        return [row for res in runs for row in self.front_rows(method, res, devices)]

    def front_of(self, res: SearchResult, device: str) -> np.ndarray:
        """Indices of the run's non-dominated (signal, latency) cells (each cell's first signal)."""
        first: Dict[int, float] = {}
        for row in res.trace:
            if row.kind == "eval" and not row.failure:
                first.setdefault(self.index(row.arch), float(row.signal))
        idx = np.fromiter(first, dtype=int)
        sig = np.fromiter(first.values(), dtype=float)
        cost = self.truth[device].cost[idx]
        ok = np.isfinite(cost) & np.isfinite(sig)
        idx, sig, cost = idx[ok], sig[ok], cost[ok]
        return idx[non_dominated(sig, cost)]

    def front_rows(self, method: str, res: SearchResult, devices: Iterable[str]) -> List[Dict[str, Any]]:
        rows = []
        for d in devices:
            idx = self.front_of(res, d)
            truth = self.truth[d]
            row = {"part": "front", "method": method, "device": d, "seed": res.seed,
                   "hv_ratio": hypervolume_ratio(idx, truth), "front_size": int(len(idx)), "n_evals": res.n_evals,
                   "used_seconds": res.used_time, "front": idx.tolist()}
            for L in self.bounds[d]:
                ok = idx[truth.cost[idx] <= L]
                row[f"front_best@{L:g}"] = float(truth.accuracy[ok].max()) if len(ok) else None
            rows.append(row)
        return rows

    # --- constrained searches -----------------------------------------------------------------
    def constrained_group(self, method: str, device: str, bound: float) -> List[Dict[str, Any]]:
        """Every seed's constrained search ``metric(device) <= bound``: the returned cell's test accuracy."""
        c = f"{metric(device)}<={bound:g}"
        kw = {"runs": self.cfg.runs, "seed": self.cfg.seed}
        if method == "naswot":
            setup = proxy_setup("nb201", self.cfg.dataset, scores=self.free_setup.evaluator, constraints=[c])
            runs = setup.run("naswot", Budget(evaluations=self.cfg.naswot_n), options={"n": self.cfg.naswot_n},
                             **kw).runs
        else:
            setup = benchmark_setup("nb201", self.cfg.dataset, constraints=[c])
            runs = setup.run(method, Budget(seconds=self.cfg.budget_seconds), **kw).runs
        rows = []
        for res in runs:
            i = int(res.final["index"])
            lat = float(self.truth[device].cost[i])
            rows.append({"part": "constrained", "method": method, "device": device, "bound": bound, "seed": res.seed,
                         "index": i, "test_accuracy": float(res.final["test_accuracy"]), "latency": lat,
                         "feasible": bool(lat <= bound), "n_evals": res.n_evals, "used_seconds": res.used_time,
                         "rejected": res.config.get("rejected_samples", 0) + res.config.get("guard_rejected", 0)})
        return rows

    def optimum(self, device: str, bound: float) -> Tuple[int, float]:
        return self.truth[device].best_under(bound)


# --- summaries -------------------------------------------------------------------------------
def _mean_std(xs: Sequence[float]) -> Tuple[float, float]:
    a = np.asarray([x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))], dtype=float)
    return (float(a.mean()), float(a.std())) if len(a) else (math.nan, math.nan)


def summarise_fronts(rows: Sequence[Dict[str, Any]], study: Study) -> List[Dict[str, Any]]:
    """Per (device, method): HV ratio (both reference points), front size, evaluations."""
    out = []
    keys = sorted({(r["method"], r["device"]) for r in rows if r["part"] == "front"},
                  key=lambda k: (DEVICES.index(k[1]), list(FRONT_METHODS).index(k[0])))
    for m, d in keys:
        sel = [r for r in rows if r["part"] == "front" and r["method"] == m and r["device"] == d]
        hv, hv_sd = _mean_std([r["hv_ratio"] for r in sel])
        med = [hypervolume_ratio(r["front"], study.truth_median[d]) for r in sel]
        hv_m, hv_m_sd = _mean_std(med)
        size, _ = _mean_std([r["front_size"] for r in sel])
        evals, _ = _mean_std([r["n_evals"] for r in sel])
        out.append({"device": d, "method": m, "runs": len(sel), "hv_ratio_mean": hv, "hv_ratio_std": hv_sd,
                    "hv_ratio_min": float(min(r["hv_ratio"] for r in sel)),
                    "hv_ratio_median_ref_mean": hv_m, "hv_ratio_median_ref_std": hv_m_sd,
                    "hv_ratio_median_ref_min": float(min(med)), "front_size_mean": size,
                    "evaluations_mean": evals})
    return out


def summarise_constrained(rows: Sequence[Dict[str, Any]], study: Study) -> List[Dict[str, Any]]:
    """Per (device, bound): the optimum, and per method the mean reached test accuracy and the gap; the
    front methods' best-under-the-bound cell on their returned fronts likewise."""
    out = []
    for d in study.cfg.devices:
        for L in study.bounds[d]:
            i_opt, acc_opt = study.optimum(d, L)
            base = {"device": d, "bound_ms": L, "feasible_cells": int(np.sum(study.truth[d].cost <= L)),
                    "optimum_index": i_opt, "optimum_test_accuracy": acc_opt}
            for m in CONSTRAINED_METHODS:
                sel = [r for r in rows if r["part"] == "constrained" and r["method"] == m and r["device"] == d
                       and r["bound"] == L]
                if sel:
                    mean, sd = _mean_std([r["test_accuracy"] for r in sel])
                    out.append({**base, "method": f"{m} (constrained search)", "runs": len(sel), "reached_mean": mean,
                                "reached_std": sd, "gap": acc_opt - mean,
                                "all_feasible": all(r["feasible"] for r in sel),
                                "optimum_hit": sum(r["index"] == i_opt for r in sel) / len(sel)})
            for m in FRONT_METHODS:
                sel = [r for r in rows if r["part"] == "front" and r["method"] == m and r["device"] == d]
                vals = [r.get(f"front_best@{L:g}") for r in sel]
                if sel:
                    mean, sd = _mean_std(vals)
                    out.append({**base, "method": f"{m} (best on its front)", "runs": len(sel), "reached_mean": mean,
                                "reached_std": sd, "gap": acc_opt - mean, "all_feasible": True,
                                "no_front_cell_under_bound": sum(v is None for v in vals)})
    return out


def plot_fronts(study: Study, rows: Sequence[Dict[str, Any]], path, seed: Optional[int] = None,
                title: str = "") -> None:
    """One panel per device: the true front (line), every cell (grey) and one seed's front per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seed = study.cfg.seed if seed is None else seed
    devices = study.cfg.devices
    cols = 3
    n_rows = math.ceil(len(devices) / cols)
    fig, axes = plt.subplots(n_rows, cols, figsize=(5 * cols, 4 * n_rows), squeeze=False)
    colours = {"naswot": "tab:green", "random": "tab:blue", "nsga2": "tab:red"}
    markers = {"naswot": "o", "random": "s", "nsga2": "^"}
    for ax, d in zip(axes.flat, devices):
        t = study.truth[d]
        mine = [r for r in rows if r["part"] == "front" and r["device"] == d]
        ok = np.isfinite(t.cost) & np.isfinite(t.accuracy) & (t.accuracy > 80)
        ax.scatter(t.cost[ok], t.accuracy[ok], s=1, c="0.85", rasterized=True, label="all cells (acc > 80 %)")
        f = t.indices[t.accuracy[t.indices] > 80]
        ax.step(t.cost[f], t.accuracy[f], where="post", c="k", lw=1.2, label="true front")
        for m in FRONT_METHODS:
            sel = [r for r in mine if r["method"] == m and r["seed"] == seed]
            if not sel:
                continue
            idx = np.asarray(sel[0]["front"], dtype=int)
            idx = idx[t.accuracy[idx] > 80]
            hv = np.mean([r["hv_ratio"] for r in mine if r["method"] == m])
            ax.scatter(t.cost[idx], t.accuracy[idx], s=22, marker=markers[m], facecolors="none",
                       edgecolors=colours[m], label=f"{FRONT_METHODS[m]} (mean HV ratio {hv:.3f})")
        ax.set_xlabel(f"{d} latency (ms, batch 1)")
        ax.set_ylabel("CIFAR-10 test accuracy (%), 200 ep.")
        ax.set_title(f"{d}: fronts of seed {seed}")
        ax.legend(fontsize=6, loc="lower right")
    for ax in list(axes.flat)[len(devices):]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

