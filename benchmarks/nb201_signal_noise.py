"""How much of the gap to the published NAS-Bench-201 search numbers is the seed draw of the signal?

The published Table 5 runs (Dong & Yang, ICLR 2020, §5) read, for every query, the 12-epoch x-valid
accuracy of *one randomly drawn seed*; the embedded table stores the *seed mean* only, a less noisy
signal, so searches on it find slightly better cells. This script runs RS, REA and REINFORCE on the
NB201 protocol (search CIFAR-10, 12,000 simulated s, 500 seeded runs) with Gaussian noise of SD
``sigma`` added to every signal (``TableSignalConfig.signal_noise``, a model of the seed draw) for a
grid of ``sigma``, and sets each cell beside the published mean in units of its standard error
(``z = (ours - published) / (published std / sqrt(500))``). ``sigma = 0`` is the seed-mean search of
``search_nb201.py``; the SD estimated from the staged NATS-TSS records (hp 12, cifar10-valid, 3 archs x
2 seeds; ``estimate_signal_noise``) is added to the grid.

Writes ``nb201_signal_noise.{csv,json,md,png}`` to ``--out`` with the command, commit and machine::

    python benchmarks/nb201_signal_noise.py --runs 500
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

import numpy as np  # noqa: E402

from nwot.study.provenance import command_line, git_state, machine  # noqa: E402

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
LABELS = {"random": "RS", "rea": "REA", "reinforce": "REINFORCE"}


def published() -> Dict[str, Dict[str, tuple]]:
    from search_nb201 import PUBLISHED_NB201

    return PUBLISHED_NB201


def sweep(sigmas: Sequence[float], strategies: Sequence[str], runs: int, seed: int = 0,
          progress: bool = True) -> List[Dict[str, Any]]:
    """One row per (sigma, strategy, report dataset): mean / std over ``runs`` and z vs the published mean."""
    from tqdm import tqdm

    from nwot.search.run import NB201_BUDGET, run_strategy

    pub = published()
    rows = []
    for sigma in tqdm(sigmas, desc="sigma", disable=not progress):
        for strat in strategies:
            res = run_strategy(strat, "nb201", "cifar10", budget_seconds=NB201_BUDGET, runs=runs, seed=seed,
                               signal_noise=sigma, report_datasets=DATASETS)
            for d in DATASETS:
                acc = np.array([r.final[f"test_accuracy/{d}"] for r in res])
                pm, ps = pub[strat][d]
                se = ps / math.sqrt(runs)
                rows.append({"sigma": float(sigma), "strategy": strat, "report_dataset": d, "runs": runs,
                             "test_mean": float(acc.mean()), "test_std": float(acc.std()),
                             "evals_mean": float(np.mean([r.n_evals for r in res])),
                             "published_mean": pm, "published_std": ps, "published_se": se,
                             "z": float((acc.mean() - pm) / se)})
    return rows


def markdown(rows: List[Dict[str, Any]], meta: Dict[str, Any]) -> str:
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
           "| sigma | strategy | CIFAR-10 | z | CIFAR-100 | z | ImageNet16-120 | z |", "|---|---|---|---|---|---|---|---|"]
    by = {}
    for r in rows:
        by.setdefault((r["sigma"], r["strategy"]), {})[r["report_dataset"]] = r
    for (sigma, strat), g in by.items():
        out.append(f"| {sigma:.2f} | {LABELS.get(strat, strat)} | " + " | ".join(
            f"{g[d]['test_mean']:.2f} ± {g[d]['test_std']:.2f} | {g[d]['z']:+.1f}" for d in DATASETS) + " |")
    pub = published()
    for strat in dict.fromkeys(r["strategy"] for r in rows):
        out.append(f"| published (NB201 Table 5) | {LABELS[strat]} | "
                   + " | ".join(f"{pub[strat][d][0]:.2f} ± {pub[strat][d][1]:.2f} | " for d in DATASETS) + "")
    out += ["", "Per strategy, the sigma whose largest |z| over the three datasets is smallest, and the sigmas "
            "with every |z| <= 1 (within one published SE on all three datasets):", ""]
    for strat in dict.fromkeys(r["strategy"] for r in rows):
        worst = {sg: max(abs(g[d]["z"]) for d in DATASETS) for (sg, st), g in by.items() if st == strat}
        best = min(worst, key=worst.get)
        within = [f"{sg:.2f}" for sg, w in worst.items() if w <= 1.0]
        out.append(f"* {LABELS.get(strat, strat)}: best sigma {best:.2f} (max |z| {worst[best]:.1f}); "
                   f"within 1 SE at sigma: {', '.join(within) if within else 'none of the grid'}")
    out += ["", "The published runs used NB201 v1.0; the table here is v1_1 / NATS (other seed sets, MANIFEST "
            "§1.1), and sigma from 3 archs x 2 seeds is a rough estimate: see REPRODUCING.md.", ""]
    return "\n".join(out)


def plot(rows: List[Dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    pub = published()
    for ax, d in zip(axes, DATASETS):
        for k, strat in enumerate(LABELS):
            sub = [r for r in rows if r["strategy"] == strat and r["report_dataset"] == d]
            if not sub:
                continue
            x = [r["sigma"] for r in sub]
            y = np.array([r["test_mean"] for r in sub])
            se = np.array([r["test_std"] / math.sqrt(r["runs"]) for r in sub])
            ax.errorbar(x, y, yerr=se, marker="o", ms=3, color=f"C{k}", label=LABELS[strat], capsize=2)
            m, s = pub[strat][d]
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
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=500, help="seeded runs per strategy and sigma (default 500)")
    p.add_argument("--sigmas", default="0,0.2,0.4,0.6", help="comma list of noise SDs; the NATS estimate is added")
    p.add_argument("--strategies", default="random,rea,reinforce", help="comma list (default random,rea,reinforce)")
    p.add_argument("--shared-data", default=None, help="staged shared data (NATS records; default $NWOT_SHARED_DATA)")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)

    import torch

    from nwot.adapters.nats import open_nats_tss
    from nwot.errors import NwotError
    from nwot.evaluators.benchmark import estimate_signal_noise
    from nwot.paths import shared_data_dir

    torch.set_num_threads(1)
    t0 = time.time()
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    for s in strategies:
        if s not in LABELS:
            raise SystemExit(f"unknown strategy {s!r}; allowed: {', '.join(LABELS)} (those with published numbers)")
    rec = shared_data_dir(args.shared_data) / "nats" / "NATS-tss-v1_0-3ffb9-simple"
    try:
        est = estimate_signal_noise(open_nats_tss(rec), "cifar10")
    except NwotError as e:
        raise SystemExit(f"nb201_signal_noise: cannot estimate sigma from {rec}: {e}") from None
    sigmas = sorted({float(x) for x in args.sigmas.split(",") if x.strip()} | {round(est["sd"], 4)})
    rows = sweep(sigmas, strategies, args.runs, progress=not args.quiet)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": command_line(__file__, argv), "git": git_state(), "machine": machine("cpu", 1),
            "sigma_nats": {k: v for k, v in est.items()}, "wall_seconds": time.time() - t0}
    args.out.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    pd.DataFrame(rows).to_csv(args.out / "nb201_signal_noise.csv", index=False, float_format="%.6g")
    (args.out / "nb201_signal_noise.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    plot(rows, args.out / "nb201_signal_noise.png")
    md = markdown(rows, meta)
    (args.out / "nb201_signal_noise.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
