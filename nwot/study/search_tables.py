"""Report tables of the search-strategy comparisons on NAS-Bench-201: the summary rows of run records
beside the published numbers (:mod:`nwot.study.paper`), and the markdown the benchmark scripts write.

NAS-Bench-201 Table 5 (Dong & Yang, ICLR 2020) and the NASWOT paper's AREA (Mellor et al., ICML 2021,
§4.1). Means and stds are over runs, numpy ``std`` (ddof = 0).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from nwot.study.paper import PUBLISHED_LABEL, PUBLISHED_NB201, PUBLISHED_VALID
from nwot.study.replay import group_runs
from nwot.study.search_jobs import DATASETS, Setting, label, strategy_rank


def summary_rows(records: Sequence[Mapping[str, Any]], settings: Mapping[str, Setting],
                 valid: Optional[Mapping[str, np.ndarray]] = None) -> List[Dict[str, Any]]:
    """One row per (setting, strategy, report dataset): test (and validation) accuracy of the chosen arch,
    mean / std over runs, evaluations, time used, and the published numbers it sits beside."""
    rows = []
    order = {s: i for i, s in enumerate(settings)}
    groups = group_runs(records)
    for (sk, strat), recs in sorted(groups.items(), key=lambda kv: (order[kv[0][0]], strategy_rank(kv[0][1]))):
        st = settings[sk]
        for d in st.report:
            acc = np.array([r["final"][f"test_accuracy/{d}"] for r in recs])
            val = None if valid is None else np.array([valid[d][r["best_index"]] for r in recs])
            pub = PUBLISHED_NB201.get(strat, {}).get(d) if st.has_published else None
            pv = PUBLISHED_VALID.get(strat.partition("-m")[0], {}).get(d) if (st.has_published and st.variant == ""
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
    return rows


def pm(m, s) -> str:
    """``mean ± std`` with 2 decimals; empty for a missing mean."""
    return "" if m is None or (isinstance(m, float) and math.isnan(m)) else f"{m:.2f} ± {s:.2f}"


def _dagger(score_dataset, dataset: str) -> str:
    """`` †`` when a run searched ``dataset`` with another dataset's stored scores."""
    return " †" if isinstance(score_dataset, str) and score_dataset != dataset else ""


def _pub_label(x) -> str:
    return x if isinstance(x, str) else "-"


SEARCH_NOTES = [
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
]


def search_markdown(df, meta: Mapping[str, Any], skipped: Sequence[str]) -> str:
    """``search_nb201.md``: the NB201-protocol tables (test, then validation accuracy), the NATS table, notes,
    skipped rows and provenance. ``df``: :func:`summary_rows` as a DataFrame."""
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
        for _, g in nb.groupby("strategy", sort=False):
            g = g.set_index("report_dataset")
            pubs = [pm(g.loc[d, "published_mean"], g.loc[d, "published_std"]) for d in DATASETS]
            out.append(f"| {g.iloc[0]['label']} | {int(g.iloc[0]['runs'])} | {g.iloc[0]['evals_mean']:.1f} | "
                       + " | ".join(pm(g.loc[d, "test_mean"], g.loc[d, "test_std"]) for d in DATASETS)
                       + f" | {_pub_label(g.iloc[0]['published_label'])} | " + " | ".join(pubs) + " |")
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
        searched = [d for d in DATASETS if d in set(na.search_dataset)]
        out += ["## NATS-Bench protocol: search each dataset on its own 12-epoch x-valid; test accuracy (%) "
                "of the chosen arch on that dataset, 200 epochs, seed mean", "",
                "| strategy | " + " | ".join(f"{d} ({int(na[na.search_dataset == d].budget_s.iloc[0]):,} s) | evals"
                                           for d in searched) + " |",
                "|---|" + "---|---|" * len(set(na.search_dataset))]
        for _, g in na.groupby("strategy", sort=False):
            g = g.set_index("search_dataset")
            cells = [f"{pm(g.loc[d, 'test_mean'], g.loc[d, 'test_std'])} ({int(g.loc[d, 'runs'])})"
                     f"{_dagger(g.loc[d, 'score_dataset'], d)} | {g.loc[d, 'evals_mean']:.1f}"
                     if d in g.index else " | " for d in searched]
            out.append(f"| {g.iloc[0]['label']} | " + " | ".join(cells) + " |")
        out.append("")
    out += ["## Notes", "", *SEARCH_NOTES, ""]
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


def signal_noise_rows(sigmas: Sequence[float], strategies: Sequence[str], runs: int, seed: int = 0,
                      progress: bool = True) -> List[Dict[str, Any]]:
    """RS / REA / REINFORCE on the NB201 protocol (search CIFAR-10, 12,000 s) with N(0, sigma²) on every
    signal, one row per (sigma, strategy, report dataset): mean / std over ``runs`` and
    ``z = (ours - published) / (published std / sqrt(runs))`` against NB201 Table 5."""
    from tqdm import tqdm

    from nwot.search.run import NB201_BUDGET, run_strategy

    rows = []
    for sigma in tqdm(sigmas, desc="sigma", disable=not progress):
        for strat in strategies:
            res = run_strategy(strat, "nb201", "cifar10", budget_seconds=NB201_BUDGET, runs=runs, seed=seed,
                               signal_noise=sigma, report_datasets=DATASETS)
            for d in DATASETS:
                acc = np.array([r.final[f"test_accuracy/{d}"] for r in res])
                pmean, pstd = PUBLISHED_NB201[strat][d]
                se = pstd / math.sqrt(runs)
                rows.append({"sigma": float(sigma), "strategy": strat, "report_dataset": d, "runs": runs,
                             "test_mean": float(acc.mean()), "test_std": float(acc.std()),
                             "evals_mean": float(np.mean([r.n_evals for r in res])),
                             "published_mean": pmean, "published_std": pstd, "published_se": se,
                             "z": float((acc.mean() - pmean) / se)})
    return rows


def signal_noise_markdown(rows: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> str:
    """``nb201_signal_noise.md``: the sweep of :func:`signal_noise_rows` beside NB201 Table 5, and per strategy
    the sigma closest to the published numbers."""
    labels = {k: label(k) for k in ("random", "rea", "reinforce")}
    out = ["# Seed-draw noise of the search signal vs the published NAS-Bench-201 numbers", "",
           f"Generated {meta['date']} by `{meta['command']}` at commit `{meta['git']['commit']}`"
           f"{' (dirty tree)' if meta['git']['dirty'] else ''} on {meta['machine']['cpu_model']} "
           f"({meta['machine']['cpu_count']} cores), in {meta['wall_seconds']:.0f} s.", "",
           "NB201 protocol: search CIFAR-10 on the 12-epoch `cifar10-valid` x-valid accuracy (seed mean from the "
           "embedded table, plus N(0, sigma²) per query), 12,000 simulated s, "
           f"{rows[0]['runs']} runs (seeds 0..{rows[0]['runs'] - 1}); test accuracy (%) of the best-by-signal cell, "
           "200 epochs, seed mean. `z` = (ours - published) / SE, SE = published std / sqrt(runs).",
           f"sigma estimated from the NATS-TSS records: **{meta['sigma_nats']['sd']:.3f}** "
           f"({meta['sigma_nats']['archs']} archs, {meta['sigma_nats']['results']} seed results).", "",
           "| sigma | strategy | CIFAR-10 | z | CIFAR-100 | z | ImageNet16-120 | z |",
           "|---|---|---|---|---|---|---|---|"]
    by: Dict[tuple, Dict[str, Mapping[str, Any]]] = {}
    for r in rows:
        by.setdefault((r["sigma"], r["strategy"]), {})[r["report_dataset"]] = r
    for (sigma, strat), g in by.items():
        out.append(f"| {sigma:.2f} | {labels.get(strat, strat)} | " + " | ".join(
            f"{g[d]['test_mean']:.2f} ± {g[d]['test_std']:.2f} | {g[d]['z']:+.1f}" for d in DATASETS) + " |")
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    for strat in strategies:
        out.append(f"| published (NB201 Table 5) | {labels[strat]} | "
                   + " | ".join(f"{PUBLISHED_NB201[strat][d][0]:.2f} ± {PUBLISHED_NB201[strat][d][1]:.2f} | "
                                for d in DATASETS) + "")
    out += ["", "Per strategy, the sigma whose largest |z| over the three datasets is smallest, and the sigmas "
            "with every |z| <= 1 (within one published SE on all three datasets):", ""]
    for strat in strategies:
        worst = {sg: max(abs(g[d]["z"]) for d in DATASETS) for (sg, st), g in by.items() if st == strat}
        best = min(worst, key=worst.get)
        within = [f"{sg:.2f}" for sg, w in worst.items() if w <= 1.0]
        out.append(f"* {labels.get(strat, strat)}: best sigma {best:.2f} (max |z| {worst[best]:.1f}); "
                   f"within 1 SE at sigma: {', '.join(within) if within else 'none of the grid'}")
    out += ["", "The published runs used NB201 v1.0; the table here is v1_1 / NATS (other seed sets, MANIFEST "
            "§1.1), and sigma from 3 archs x 2 seeds is a rough estimate: see REPRODUCING.md.", ""]
    return "\n".join(out)


def mean_std_summary(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> Dict[str, Dict[str, float]]:
    """Per key: mean, population std, min and max over ``rows``."""
    out = {}
    for key in keys:
        v = np.array([r[key] for r in rows], dtype=float)
        out[key] = {"mean": float(v.mean()), "std": float(v.std(ddof=0)), "min": float(v.min()), "max": float(v.max())}
    return out
