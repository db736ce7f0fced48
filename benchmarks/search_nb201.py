"""Search strategies on NAS-Bench-201 / NATS-Bench-TSS under the benchmarks' simulated training time.

Settings (search signal = x-valid accuracy after the 12-epoch schedule, charged its simulated seconds;
final number = 200-epoch test accuracy of the best-by-signal arch, seed mean):

* ``nb201/cifar10``: NAS-Bench-201 Table 5 protocol (Dong & Yang, ICLR 2020, §5; ``exps/algos/R_EA.py``
  asserts ``dataset == 'cifar10'``): search on CIFAR-10 (``cifar10-valid``) for 12,000 s, report the
  chosen arch on CIFAR-10 (ori-test), CIFAR-100 and ImageNet16-120 (x-test); beside the published
  REA / RS / REINFORCE / BOHB numbers.
* ``nats/<dataset>``: NATS-Bench protocol (Dong et al., TPAMI 2021, §5): search each dataset on its
  own 12-epoch signal, 20,000 / 40,000 / 120,000 s for CIFAR-10 / CIFAR-100 / ImageNet16-120. The
  embedded table stores only the ``cifar10-valid`` cost, so CIFAR-100 / ImageNet16-120 are charged
  ``cost="scaled"`` (x2 / x6.068, exact for NATS train times; see ``nwot/evaluators/table.py``).

Every run ``r`` uses seed ``--seed + r`` (same seeds for every strategy). Runs are appended, one JSON
line each, to ``--work-dir/search_nb201_runs.jsonl`` as they finish; a re-run skips the runs already
there (so the command can be killed and restarted). At the end the script writes to ``--out``:
``search_nb201.{csv,json,md}`` (table + exact command, git commit, machine), ``search_nb201_traces.jsonl.xz``
(every run's trace: benchmark index, signal, cost per evaluation), ``search_nb201_curves.csv`` and
``search_nb201_curves.png`` (test accuracy of the best-so-far arch vs simulated time, mean +- std).

AREA and NASWOT rows need the stored full-space NASWOT scores (``--scores PATH``, a CSV
``index,score,seconds`` from ``benchmarks/score_nb201.py --export``; ``DATASET=PATH`` for other
datasets); without them those rows are skipped with a printed reason.

Full run (about an hour on one CPU core)::

    nice -n 10 python benchmarks/search_nb201.py --runs 500
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import lzma
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from nwot.study.provenance import git_state, machine  # noqa: E402

NAME = "search_nb201"
DEFAULT_OUT = REPO / "benchmarks" / "results"
DEFAULT_WORK = REPO / "benchmarks" / "results" / "work"
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
TABLE_STRATEGIES = ("random", "rea", "reinforce", "bo", "lse")
SCORE_STRATEGIES = ("area", "naswot")
LABELS = {"random": "RS", "rea": "REA", "reinforce": "REINFORCE", "bo": "BO (TPE)", "lse": "LSE",
          "area": "AREA"}
#: NAS-Bench-201 (ICLR 2020) Table 5, 12,000 s, searched on CIFAR-10: mean, std of test accuracy.
PUBLISHED_NB201 = {
    "rea": {"cifar10": (93.92, 0.30), "cifar100": (71.84, 0.99), "ImageNet16-120": (45.54, 1.03)},
    "random": {"cifar10": (93.70, 0.36), "cifar100": (71.04, 1.07), "ImageNet16-120": (44.57, 1.25)},
    "reinforce": {"cifar10": (93.85, 0.37), "cifar100": (71.71, 1.09), "ImageNet16-120": (45.24, 1.18)},
    "bo": {"cifar10": (93.61, 0.52), "cifar100": (70.85, 1.28), "ImageNet16-120": (44.42, 1.49)},
}
PUBLISHED_LABEL = {"bo": "BOHB"}  # the published row our BO row sits beside
#: Validation accuracy (200-epoch x-valid: cifar10-valid, cifar100, ImageNet16-120) of the chosen arch,
#: 12,000 s searched on CIFAR-10: REA from NB201 Table 5, AREA from the NASWOT paper §4.1 (50 runs).
PUBLISHED_VALID = {
    "rea": {"cifar10": (91.19, 0.31), "cifar100": (71.81, 1.12), "ImageNet16-120": (45.15, 0.89)},
    "area": {"cifar10": (91.20, 0.27), "cifar100": (71.95, 0.99), "ImageNet16-120": (45.70, 1.05)},
}


@dataclass(frozen=True)
class Setting:
    protocol: str  # "nb201" or "nats"
    dataset: str  # search dataset
    budget: float  # simulated seconds
    report: Tuple[str, ...]  # datasets the chosen arch is reported on
    cost: str  # cost model of the table evaluator
    variant: str = ""  # "" (the protocol as published), "quarter" (budget / 4) or "noise" (signal_noise > 0)
    signal_noise: float = 0.0  # SD of the Gaussian seed-draw model on the 12-epoch signal (0 = seed mean)

    @property
    def key(self) -> str:
        return f"{self.protocol}/{self.dataset}" + (f"/{self.variant}" if self.variant else "")

    def title(self) -> str:
        if self.protocol == "nats":
            return f"NATS: search+report {self.dataset}"
        extra = {"quarter": f", {self.budget:,.0f} s (quarter budget)",
                 "noise": f", signal + N(0, {self.signal_noise:.2f}²)"}.get(self.variant, "")
        return "NB201: search CIFAR-10" + extra


def all_settings(signal_noise: float = 0.0) -> List[Setting]:
    """The four protocol settings, plus two NB201 variants: ``nb201/cifar10/quarter`` (3,000 s: AREA vs REA
    at a quarter of the budget) and ``nb201/cifar10/noise`` (the seed-draw noise model, ``signal_noise``)."""
    from nwot.search.run import NATS_BUDGETS, NB201_BUDGET

    out = [Setting("nb201", "cifar10", NB201_BUDGET, DATASETS, "benchmark"),
           Setting("nb201", "cifar10", NB201_BUDGET / 4, DATASETS, "benchmark", "quarter"),
           Setting("nb201", "cifar10", NB201_BUDGET, DATASETS, "benchmark", "noise", signal_noise)]
    for d in DATASETS:
        out.append(Setting("nats", d, NATS_BUDGETS[d], (d,), "benchmark" if d == "cifar10" else "scaled"))
    return out


# --- provenance ----------------------------------------------------------------------
def versions() -> Dict[str, str]:
    import numpy
    import pandas

    out = {"numpy": numpy.__version__, "pandas": pandas.__version__}
    try:
        import optuna

        out["optuna"] = optuna.__version__
    except ModuleNotFoundError:
        pass
    return out


# --- run file (resumable) ------------------------------------------------------------------
def read_runs(path: Path) -> List[Dict[str, Any]]:
    """Records of a JSONL run file; a torn last line (killed mid-write) is cut off the file."""
    if not path.is_file():
        return []
    raw = path.read_bytes()
    out, good = [], 0
    for line in raw.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break
        good += len(line)
    if good < len(raw):
        print(f"note: dropping a torn record at the end of {path} ({len(raw) - good} bytes)", file=sys.stderr)
        with open(path, "r+b") as f:
            f.truncate(good)
    return out


def config_key(cfg: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --- one run -------------------------------------------------------------------------
def run_one(job: Dict[str, Any], bench, index_of: Dict[str, int], scorers: Dict[str, Any]) -> Dict[str, Any]:
    from nwot.search.run import run_strategy

    st: Setting = job["setting"]
    kwargs: Dict[str, Any] = {}
    if job["strategy"] == "naswot":
        kwargs = {"evaluations": job["n"]}
    else:
        kwargs = {"budget_seconds": st.budget}
    if job["strategy"] == "area":
        kwargs["n_candidates"] = job["n"]  # AREA's pool size M
    res = run_strategy(job["strategy"], "nb201", st.dataset, runs=1, seed=job["seed"], benchmark=bench,
                       scores=scorers.get(job["score_dataset"]), signal_seed="mean", cost=st.cost,
                       signal_noise=st.signal_noise, report_datasets=st.report, **kwargs)[0]
    tr = res.trace
    rec = {"setting": st.key, "strategy": job["label"], "run": job["run"], "seed": res.seed,
           "config_key": job["config_key"], "best_index": index_of[res.best_arch], "best_signal": res.best_signal,
           "n_evals": res.n_evals, "used_time": res.used_time, "final": res.final,
           **({"score_dataset": job["score_dataset"]} if job["strategy"] in SCORE_STRATEGIES else {}),
           "trace": {"index": [index_of[r.arch] for r in tr], "signal": [r.signal for r in tr],
                     "cost": [r.cost for r in tr]}}
    if any(r.kind != "eval" for r in tr):
        rec["trace"]["kind"] = [r.kind for r in tr]
    return rec


def job_config(st: Setting, strategy: str, n: Optional[int], scores: Dict[str, str],
               score_dataset: Optional[str] = None) -> Dict[str, Any]:
    """What a run depends on besides its seed (a run file mixing configurations is refused).

    ``n``: NASWOT's N, or AREA's pool size M."""
    cfg = {"setting": st.key, "budget": st.budget, "report": list(st.report), "cost": st.cost,
           "signal_seed": "mean", "strategy": strategy, "hp": "12"}
    if st.signal_noise:
        cfg["signal_noise"] = st.signal_noise
    if strategy == "naswot":
        cfg["n"] = n
    if strategy == "area" and n != 20:  # M = 20 (the paper's) keeps the key of runs made before M was an option
        cfg["m"] = n
    if strategy in SCORE_STRATEGIES:
        cfg["scores"] = Path(scores[score_dataset or st.dataset]).name
    return cfg


def compact(rec: Dict[str, Any]) -> Dict[str, Any]:
    """A run record for the committed traces file: per evaluation only the benchmark index (and kind);
    its signal and cost are lookups of that index in the embedded table (``signal_seed="mean"``) or in
    the stored score file, so the full record is reproducible from them."""
    out = {k: v for k, v in rec.items() if k != "trace"}
    out["trace"] = {k: v for k, v in rec["trace"].items() if k in ("index", "kind")}
    return out


# --- analysis ------------------------------------------------------------------------
def best_so_far(rec: Dict[str, Any]) -> Tuple[np.ndarray, np.ndarray]:
    """(cumulative time, benchmark index of the best-by-signal arch) after each search evaluation."""
    tr = rec["trace"]
    kinds = tr.get("kind") or ["eval"] * len(tr["index"])
    times, best, t, b, bs = [], [], 0.0, -1, -math.inf
    for i, s, c, k in zip(tr["index"], tr["signal"], tr["cost"], kinds):
        t += c
        if k == "eval" and (b < 0 or s > bs):
            b, bs = i, s
        if k == "eval" or b >= 0:
            times.append(t)
            best.append(b)
    return np.asarray(times), np.asarray(best)


def curves(records: Sequence[Dict[str, Any]], settings: Dict[str, Setting], test: Dict[str, np.ndarray],
           points: int = 161):
    import pandas as pd

    rows = []
    groups: Dict[Tuple[str, str], List[Dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["setting"], r["strategy"]), []).append(r)
    for (sk, strat), recs in sorted(groups.items(), key=lambda kv: (kv[0][0], strategy_rank(kv[0][1]))):
        st = settings[sk]
        grid = np.linspace(0.0, st.budget, points)
        for d in st.report:
            vals = np.full((len(recs), points), np.nan)
            for k, rec in enumerate(recs):
                times, best = best_so_far(rec)
                pos = np.searchsorted(times, grid, side="right") - 1
                ok = pos >= 0
                vals[k, ok] = test[d][best[pos[ok]]]
            n = (~np.isnan(vals)).sum(axis=0)
            with np.errstate(all="ignore"):
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    mean, std = np.nanmean(vals, axis=0), np.nanstd(vals, axis=0)
            for g, nn, m, s in zip(grid, n, mean, std):
                rows.append({"setting": sk, "strategy": strat, "report_dataset": d, "time": float(g), "runs": int(nn),
                             "mean": None if nn == 0 else float(m), "std": None if nn == 0 else float(s)})
    return pd.DataFrame(rows)


def valid_accuracies(bench) -> Dict[str, np.ndarray]:
    """200-epoch x-valid accuracy (seed mean) of every cell: cifar10-valid / cifar100 / ImageNet16-120."""
    from nwot.adapters.base import search_dataset

    return {d: np.array([bench.query(i, search_dataset(d), bench.full_hp).valid_accuracy for i in range(len(bench))])
            for d in DATASETS}


def table(records: Sequence[Dict[str, Any]], settings: Dict[str, Setting], valid: Optional[Dict[str, np.ndarray]] = None):
    import pandas as pd

    rows = []
    groups: Dict[Tuple[str, str], List[Dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["setting"], r["strategy"]), []).append(r)
    order = {s: i for i, s in enumerate(settings)}
    for (sk, strat), recs in sorted(groups.items(), key=lambda kv: (order[kv[0][0]], strategy_rank(kv[0][1]))):
        st = settings[sk]
        for d in st.report:
            acc = np.array([r["final"][f"test_accuracy/{d}"] for r in recs])
            val = None if valid is None else np.array([valid[d][r["best_index"]] for r in recs])
            pub = PUBLISHED_NB201.get(strat, {}).get(d) if has_published(st) else None
            pv = PUBLISHED_VALID.get(strat.partition("-m")[0], {}).get(d) if (has_published(st) and st.variant == ""
                                                                              and strat in ("rea", "area")) else None
            rows.append({"setting": sk, "variant": st.variant, "signal_noise": st.signal_noise,
                         "score_dataset": recs[0].get("score_dataset"),
                         "protocol": st.protocol, "search_dataset": st.dataset, "budget_s": st.budget,
                         "report_dataset": d, "strategy": strat, "label": label(strat), "runs": len(recs),
                         "test_mean": float(acc.mean()), "test_std": float(acc.std()),
                         "valid_mean": None if val is None else float(val.mean()),
                         "valid_std": None if val is None else float(val.std()),
                         "published_valid_mean": pv[0] if pv else None, "published_valid_std": pv[1] if pv else None,
                         "evals_mean": float(np.mean([r["n_evals"] for r in recs])),
                         "used_time_mean": float(np.mean([r["used_time"] for r in recs])),
                         "cost_model": st.cost,
                         "published_label": (PUBLISHED_LABEL.get(strat, label(strat)) if pub else None),
                         "published_mean": pub[0] if pub else None, "published_std": pub[1] if pub else None})
    return pd.DataFrame(rows)


def has_published(st: Setting) -> bool:
    """The published NB201 Table 5 rows sit beside the 12,000 s CIFAR-10 search (with or without noise)."""
    return st.protocol == "nb201" and st.variant != "quarter"


def strategy_rank(strategy: str) -> Tuple[int, int, str]:
    """Table / legend order: RS, REA, REINFORCE, BO, LSE, AREA (by M), NASWOT (by N)."""
    if strategy.startswith("area-m"):
        base, n = "area", strategy[6:]
    else:
        base, _, n = strategy.partition("-n")
    order = TABLE_STRATEGIES + SCORE_STRATEGIES
    return (order.index(base) if base in order else len(order), int(n) if n.isdigit() else 20, strategy)


def area_label(m: int) -> str:
    """Run-file label of AREA with pool size M (``area`` = the paper's M = 20)."""
    return "area" if m == 20 else f"area-m{m}"


def label(strategy: str) -> str:
    if strategy.startswith("naswot-n"):
        return f"NASWOT (N={strategy[8:]})"
    if strategy == "area":
        return "AREA (M=20)"
    if strategy.startswith("area-m"):
        return f"AREA (M={strategy[6:]})"
    return LABELS.get(strategy, strategy)


def pub_label(x) -> str:
    return x if isinstance(x, str) else "-"


def markdown(df, meta: Dict[str, Any], skipped: List[str]) -> str:
    def pm(m, s):
        return "" if m is None or (isinstance(m, float) and math.isnan(m)) else f"{m:.2f} ± {s:.2f}"

    out = [f"# Search strategies on NAS-Bench-201 under simulated time ({meta['date']})", ""]
    for sk in [k for k in dict.fromkeys(df.setting) if k.startswith("nb201/")]:
        nb = df[df.setting == sk]
        head = {"": "12,000 simulated s",
                "quarter": f"{nb.budget_s.iloc[0]:,.0f} simulated s (a quarter of the NB201 budget)",
                "noise": (f"12,000 simulated s, every 12-epoch signal + Gaussian noise of SD "
                          f"{nb.signal_noise.iloc[0]:.2f} (model of the official one-seed draw, see Notes)")}
        out += [f"## NAS-Bench-201 protocol: search on CIFAR-10 (12-epoch x-valid of `cifar10-valid`), "
                f"{head[nb.variant.iloc[0]]}; test accuracy (%) of the chosen arch, 200 epochs, seed mean", "",
                "| strategy | runs | evals | CIFAR-10 | CIFAR-100 | ImageNet16-120 | published (NB201 Table 5) | "
                "CIFAR-10 | CIFAR-100 | ImageNet16-120 |", "|---|---|---|---|---|---|---|---|---|---|"]
        for strat, g in nb.groupby("strategy", sort=False):
            g = g.set_index("report_dataset")
            pubs = [pm(g.loc[d, "published_mean"], g.loc[d, "published_std"]) for d in DATASETS]
            out.append(f"| {g.iloc[0]['label']} | {int(g.iloc[0]['runs'])} | {g.iloc[0]['evals_mean']:.1f} | "
                       + " | ".join(pm(g.loc[d, "test_mean"], g.loc[d, "test_std"]) for d in DATASETS)
                       + f" | {pub_label(g.iloc[0]['published_label'])} | " + " | ".join(pubs) + " |")
        out.append("")
    nbv = df[(df.protocol == "nb201") & df.valid_mean.notna()] if "valid_mean" in df else df.iloc[:0]
    if len(nbv):
        out += ["## Validation accuracy of the chosen arch (NB201 protocol; the NASWOT paper §4.1 reports AREA this "
                "way): 200-epoch x-valid (`cifar10-valid`, cifar100, ImageNet16-120), seed mean", "",
                "| setting | strategy | runs | CIFAR-10 | CIFAR-100 | ImageNet16-120 | published | CIFAR-10 | "
                "CIFAR-100 | ImageNet16-120 |", "|---|---|---|---|---|---|---|---|---|---|"]
        for (sk, strat), g in nbv.groupby(["setting", "strategy"], sort=False):
            if strat not in ("rea", "random") and not strat.startswith("area"):
                continue
            g = g.set_index("report_dataset")
            pub = g.published_valid_mean.notna().all()
            src = ("NB201 Table 5" if strat == "rea" else "NASWOT paper") if pub else "-"
            out.append(f"| {sk} | {g.iloc[0]['label']} | {int(g.iloc[0]['runs'])} | "
                       + " | ".join(pm(g.loc[d, "valid_mean"], g.loc[d, "valid_std"]) for d in DATASETS)
                       + f" | {src} | "
                       + " | ".join(pm(g.loc[d, "published_valid_mean"], g.loc[d, "published_valid_std"])
                                    if pub else "" for d in DATASETS) + " |")
        out.append("")
    na = df[df.protocol == "nats"]
    if len(na):
        out += ["## NATS-Bench protocol: search each dataset on its own 12-epoch x-valid; test accuracy (%) "
                "of the chosen arch on that dataset, 200 epochs, seed mean", "",
                "| strategy | " + " | ".join(f"{d} ({int(na[na.search_dataset == d].budget_s.iloc[0]):,} s) | evals"
                                           for d in DATASETS if d in set(na.search_dataset)) + " |",
                "|---|" + "---|---|" * len(set(na.search_dataset))]
        for strat, g in na.groupby("strategy", sort=False):
            g = g.set_index("search_dataset")
            cells = [f"{pm(g.loc[d, 'test_mean'], g.loc[d, 'test_std'])} ({int(g.loc[d, 'runs'])})"
                     f"{' †' if isinstance(g.loc[d, 'score_dataset'], str) and g.loc[d, 'score_dataset'] != d else ''} | "
                     f"{g.loc[d, 'evals_mean']:.1f}" if d in g.index else " | " for d in DATASETS
                     if d in set(na.search_dataset)]
            out.append(f"| {g.iloc[0]['label']} | " + " | ".join(cells) + " |")
        out.append("")
    out += ["## Notes", "",
            "* mean ± std over runs (numpy `std`, ddof=0); `evals` = mean number of 12-epoch queries per run. "
            "Run r uses seed r (same seeds for every strategy).",
            "* Signal: seed mean of the 12-epoch x-valid accuracy (`signal_seed=\"mean\"`): the embedded table "
            "stores seed means only, the official protocol draws one seed per query.",
            "* Cost: the embedded `cifar10-valid/cost@12` is the 12-epoch train time only (NATS records: "
            "the official `simulate_train_eval` also adds `valid-per-time`, 2.4-4.2 s, ~3 %), so a run affords "
            "~3 % more queries than the official API. CIFAR-100 / ImageNet16-120 searches are charged "
            "`cost=\"scaled\"` = cifar10-valid train time x 2 / x 6.068 (training-set size ratio; exact for the "
            "NATS train times of the three staged records, the valid time of those datasets, <0.3 %, is not "
            "included).",
            "* A query whose cost would exceed the budget is discarded and ends the run (NB201 `R_EA.py`); "
            "NATS-Bench's scripts keep that last over-budget query.",
            "* Final arch = best by search signal over the run (REINFORCE too; NB201's first REINFORCE version "
            "reported the policy argmax). BO row = TPE (optuna) beside the published BOHB row.",
            "* LSE = Real et al. 2017's selection (kill the worse of two random members, mutate the better; "
            "population 10) with NB201's one-edge mutation; the paper's own space, mutations and weight "
            "inheritance are the `lse` space (`benchmarks/lse_open_space.py`).",
            "* AREA (NASWOT paper §4.1) = score M random cells with NASWOT, seed REA's population (10) with the top "
            "10, continue as REA; the scoring seconds stored with each score count against the budget (CPU, 1 thread: "
            "median 0.37 s, mean 0.69 s a cell -- part of the space was scored on a loaded machine -- so M = 1000 "
            "costs about 690 s). NASWOT (N) = score N random cells, pick the best score (no training; charged "
            "its scoring seconds). Scores: the stored full-space CIFAR-10 scores (`--scores`).",
            "* † = searched with the CIFAR-10 NASWOT scores: CIFAR-100 / ImageNet16-120 images are not available "
            "here, so AREA / NASWOT on those datasets pre-score with the CIFAR-10 scores.",
            "* Noise setting: the embedded table stores the seed mean of the 12-epoch signal; the official protocol "
            "(NB201 Table 5) reads one randomly drawn seed per query. The noise setting adds N(0, SD²) to every "
            "query's signal, SD = `estimate_signal_noise` on the staged NATS-TSS records (hp 12, cifar10-valid, "
            "pooled deviation of a seed's x-valid accuracy from the seed mean) -- a model of the seed draw, "
            "not the benchmark's per-seed results.",
            ""]
    if skipped:
        out += ["Skipped rows:", ""] + [f"* {w}" for w in skipped] + [""]
    out += ["## Provenance", "", f"* command: `{meta['command']}`",
            f"* git commit: {meta['git']['commit']}{' (dirty tree)' if meta['git']['dirty'] else ''}",
            f"* machine: {meta['machine']['cpu_model']} ({meta['machine']['cpu_count']} cores), "
            f"{meta['machine']['platform']}, Python {meta['machine']['python']}",
            f"* versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}",
            f"* wall time of this invocation: {meta['wall_seconds']:.0f} s (runs already in the resumable run file "
            f"were computed by earlier invocations with the same settings, checked per run)", ""]
    return "\n".join(out)


def plot(cdf, tdf, settings: Dict[str, Setting], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(sk, d) for sk, st in settings.items() for d in st.report
              if len(cdf[(cdf.setting == sk) & (cdf.report_dataset == d)])]
    if not panels:
        return
    ncol = 3
    nrow = math.ceil(len(panels) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.9 * nrow), squeeze=False)
    colors = {}
    for ax, (sk, d) in zip(axes.flat, panels):
        st = settings[sk]
        sub = cdf[(cdf.setting == sk) & (cdf.report_dataset == d)]
        for strat, g in sub.groupby("strategy", sort=False):
            g = g[g.runs == g.runs.max()]  # from the time every run has evaluated a cell (no survivor bias)
            c = colors.setdefault(strat, f"C{len(colors)}")
            ax.plot(g.time, g["mean"], color=c, label=label(strat), lw=1.5)
            ax.fill_between(g.time, g["mean"] - g["std"], g["mean"] + g["std"], color=c, alpha=0.15, lw=0)
            pub = PUBLISHED_NB201.get(strat, {}).get(d) if has_published(st) else None
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
    plt.close(fig)


def test_accuracies(bench) -> Dict[str, np.ndarray]:
    return {d: np.array([bench.query(i, d, bench.full_hp).test_accuracy for i in range(len(bench))]) for d in DATASETS}


# --- main ----------------------------------------------------------------------------
def score_dataset(strategy: str, st: Setting, scorers: Dict[str, Any]) -> Optional[str]:
    """Whose NASWOT scores a score-using run reads: its search dataset's, else CIFAR-10's (labelled †)."""
    if strategy not in SCORE_STRATEGIES:
        return None
    for d in (st.dataset, "cifar10"):
        if d in scorers:
            return d
    return None


def signal_noise(spec: str) -> Dict[str, Any]:
    """``--signal-noise``: a number, or ``nats`` = estimated from the staged NATS-TSS records."""
    if spec != "nats":
        try:
            sd = float(spec)
        except ValueError:
            raise SystemExit(f"--signal-noise must be a number >= 0 or 'nats', got {spec!r}") from None
        return {"sd": sd, "source": "--signal-noise"}
    from nwot.adapters.nats import open_nats_tss
    from nwot.evaluators.benchmark import estimate_signal_noise
    from nwot.paths import shared_data_dir

    path = shared_data_dir() / "nats" / "NATS-tss-v1_0-3ffb9-simple"
    if not path.is_dir():
        raise SystemExit(f"--signal-noise nats needs the NATS-TSS records at {path} (set NWOT_SHARED_DATA), "
                         f"or give the SD as a number, or leave out the nb201/cifar10/noise setting")
    est = estimate_signal_noise(open_nats_tss(path), "cifar10")
    est["source"] = (f"estimate_signal_noise on {est['archs']} NATS-TSS records, {est['results']} seed results of "
                     f"{est['dataset']} hp {est['hp']}")
    return est


def parse_scores(items: Sequence[str]) -> Dict[str, str]:
    out = {}
    for it in items:
        ds, sep, path = it.partition("=")
        if not sep:
            ds, path = "cifar10", it
        if ds not in DATASETS:
            raise SystemExit(f"--scores {it!r}: dataset {ds!r} not one of {', '.join(DATASETS)}")
        out[ds] = path
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=500, help="seeded runs per strategy and setting (default 500)")
    p.add_argument("--seed", type=int, default=0, help="seed of run 0 (run r: seed + r)")
    p.add_argument("--strategies", default=",".join(TABLE_STRATEGIES + SCORE_STRATEGIES),
                   help="comma list (default: all; area/naswot need --scores)")
    p.add_argument("--settings", default="nb201/cifar10,nb201/cifar10/quarter,nb201/cifar10/noise,nats/cifar10,"
                                         "nats/cifar100,nats/ImageNet16-120",
                   help="comma list of protocol/dataset[/variant] settings (default: all six)")
    p.add_argument("--scores", action="append", default=[], metavar="[DATASET=]PATH",
                   help="stored full-space NASWOT scores (CSV index,score,seconds); bare PATH = cifar10")
    p.add_argument("--naswot-n", default="10,100,1000", help="NASWOT search sizes N (evaluations), comma list")
    p.add_argument("--area-m", default="20,100,1000", help="AREA pool sizes M (cells pre-scored), comma list")
    p.add_argument("--signal-noise", default="nats", metavar="SD|nats",
                   help="SD of the seed-draw noise model of the nb201/cifar10/noise setting; 'nats' (default) "
                        "estimates it from the staged NATS-TSS records ($NWOT_SHARED_DATA/nats)")
    p.add_argument("--work-dir", type=Path, default=DEFAULT_WORK, help="where the resumable run file lives")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder of the table / traces / plot")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    import torch
    from tqdm import tqdm

    from nwot.adapters.base import get_benchmark
    from nwot.scores.files import read_scores

    torch.set_num_threads(1)
    t0 = time.time()
    names = [s.key for s in all_settings()]
    wanted = [s.strip() for s in args.settings.split(",") if s.strip()]
    for w in wanted:
        if w not in names:
            raise SystemExit(f"unknown setting {w!r}; allowed: {', '.join(names)}")
    noise_info = None
    if "nb201/cifar10/noise" in wanted:
        noise_info = signal_noise(args.signal_noise)
        print(f"noise setting: signal SD {noise_info['sd']:.4f} ({noise_info['source']})", file=sys.stderr)
    settings = {s.key: s for s in all_settings(noise_info["sd"] if noise_info else 0.0)}
    settings = {k: v for k, v in settings.items() if k in wanted}
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    for s in strategies:
        if s not in TABLE_STRATEGIES + SCORE_STRATEGIES:
            raise SystemExit(f"unknown strategy {s!r}; allowed: {', '.join(TABLE_STRATEGIES + SCORE_STRATEGIES)}")
    scores = parse_scores(args.scores)
    bench = get_benchmark("nb201")
    index_of = {bench.arch(i): i for i in range(len(bench))}
    scorers: Dict[str, Any] = {}
    skipped: List[str] = []
    for d, path in scores.items():
        if Path(path).is_file():
            scorers[d] = read_scores(path)
    jobs = []
    for st in settings.values():
        for s in strategies:
            if s in SCORE_STRATEGIES and score_dataset(s, st, scorers) is None:
                why = (f"{LABELS.get(s, 'NASWOT')} on {st.key}: no stored NASWOT scores for "
                       f"{st.dataset} ("
                       + (f"file {scores[st.dataset]} not found" if st.dataset in scores else "--scores not given")
                       + ")")
                print("skipping " + why, file=sys.stderr)
                skipped.append(why)
                continue
            if s == "naswot" and st.variant:
                continue  # NASWOT search neither uses the budget nor the 12-epoch signal
            sizes = {"naswot": args.naswot_n, "area": args.area_m}.get(s)
            for n in ([int(x) for x in sizes.split(",")] if sizes else [None]):
                lab = f"naswot-n{n}" if s == "naswot" else area_label(n) if s == "area" else s
                sd = score_dataset(s, st, scorers)
                ck = config_key(job_config(st, s, n, scores, sd))
                for r in range(args.runs):
                    jobs.append({"setting": st, "strategy": s, "label": lab, "n": n, "run": r,
                                 "seed": args.seed + r, "config_key": ck, "score_dataset": sd})
    args.work_dir.mkdir(parents=True, exist_ok=True)
    run_file = args.work_dir / f"{NAME}_runs.jsonl"
    done = {}
    for rec in read_runs(run_file):
        done[(rec["setting"], rec["strategy"], rec["run"])] = rec
    todo = []
    for j in jobs:
        rec = done.get((j["setting"].key, j["label"], j["run"]))
        if rec is None:
            todo.append(j)
        elif rec["config_key"] != j["config_key"] or rec["seed"] != j["seed"]:
            raise SystemExit(f"{run_file} holds run {j['run']} of {j['label']} on {j['setting'].key} made with other "
                             f"settings (config {rec['config_key']}, seed {rec['seed']}); use another --work-dir")
    print(f"{len(jobs)} runs requested, {len(jobs) - len(todo)} already in {run_file}, {len(todo)} to do",
          file=sys.stderr)
    with open(run_file, "a", encoding="utf-8") as f:
        for j in tqdm(todo, desc="search runs", unit="run", disable=args.quiet or None, file=sys.stderr):
            rec = run_one(j, bench, index_of, scorers)
            f.write(json.dumps(rec) + "\n")
            f.flush()
            done[(rec["setting"], rec["strategy"], rec["run"])] = rec
    wanted_keys = {(j["setting"].key, j["label"], j["run"]) for j in jobs}
    records = [done[k] for k in sorted(wanted_keys, key=lambda k: (k[0], k[1], k[2]))]

    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(shlex.quote(a) for a in [os.path.relpath(sys.executable, REPO)
                                                          if sys.executable.startswith(str(REPO)) else "python",
                                                          os.path.relpath(__file__, REPO)]
                                + list(sys.argv[1:] if argv is None else argv)),
            "git": git_state(), "machine": machine(), "versions": versions(),
            "wall_seconds": time.time() - t0, "runs": args.runs, "seed": args.seed,
            "settings": {k: {"budget_s": v.budget, "report": list(v.report), "cost": v.cost}
                         for k, v in settings.items()},
            "signal_seed": "mean", "scores": {d: str(p) for d, p in scores.items()}, "skipped": skipped,
            "signal_noise": {k: v for k, v in noise_info.items() if k != "per_arch"} if noise_info else None}
    args.out.mkdir(parents=True, exist_ok=True)
    tdf = table(records, settings, valid_accuracies(bench))
    tdf.to_csv(args.out / f"{NAME}.csv", index=False)
    test = test_accuracies(bench)
    cdf = curves(records, settings, test)
    cdf.to_csv(args.out / f"{NAME}_curves.csv", index=False, float_format="%.6g")
    with lzma.open(args.out / f"{NAME}_traces.jsonl.xz", "wt", encoding="utf-8", preset=9) as f:
        for rec in records:
            f.write(json.dumps(compact(rec)) + "\n")
    if not args.no_plot:
        plot(cdf, tdf, settings, args.out / f"{NAME}_curves.png")
    meta["wall_seconds"] = time.time() - t0
    with open(args.out / f"{NAME}.json", "w") as f:
        json.dump({"meta": meta, "rows": tdf.to_dict(orient="records")}, f, indent=1, default=str)
    md = markdown(tdf, meta, skipped)
    (args.out / f"{NAME}.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
