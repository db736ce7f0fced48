"""I/O of the BlockQNN comparison (``benchmarks/blockqnn_comparison.py``): run, save, report.

The maths are in :mod:`nwot.study.blockqnn_compare` and :mod:`nwot.study.search_curves`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import numpy as np

from nwot.study import blockqnn_compare as bq
from nwot.study import papers_common as pc
from nwot.study.trained_comparison import by_label, eval_signals, load_runs, preset_dict

TABLE_JSON = "blockqnn_reward_nb201.json"


def trained_file(out: Path, preset: str) -> Path:
    return out / f"blockqnn_blocks_{preset}_runs.jsonl"


def table_part(out: Path, *, split_seed: int, script: str, argv: Optional[Sequence[str]],
               grid_step: Optional[float] = None) -> None:
    res = bq.reward_correlations(seed=split_seed, grid=bq.GRID if grid_step is None else bq.fit_grid(grid_step))
    pc.write_json(out / TABLE_JSON, {**pc.provenance(script, argv), "early": bq.EARLY, **res})


def train_part(out: Path, preset: str, **kw: Any) -> list:
    from nwot.spaces import get_space

    return pc.run_trained(trained_file(out, preset), bq.trained_labels(preset),
                          {"blockqnn": get_space("blockqnn", **bq.TRAINED_SPACE[preset])}, bq.TRAINED_PRESETS[preset],
                          **kw)


def report(out: Path, preset: str, *, script: str, argv: Optional[Sequence[str]]) -> str:
    lines = ["# BlockQNN: Q-learning vs random search, and the early-stop reward correction (Zhong et al., CVPR 2018)",
             ""]
    js: Dict[str, Any] = {"report": pc.provenance(script, argv)}
    if (out / TABLE_JSON).is_file():
        t = json.loads((out / TABLE_JSON).read_text())
        lines += [f"**Reward correction on NB201** ({t['cells']} cells with density > 0; fit on {t['fit_cells']}, "
                  f"held out {t['held_out_cells']}, split seed {t['split_seed']}; grid {t['grid'][0]}..{t['grid'][1]} "
                  f"step {t['grid'][2]:.4f}; `{t['command']}` at `{t['commit']}`). Early-stop accuracy: `{t['early']}` "
                  f"(fraction); score `acc - mu log(FLOPs) - rho log(Density)`; rank correlation with the final "
                  f"accuracy on the held-out half.", ""]
        for final, res in t["finals"].items():
            lines += [f"Final accuracy `{final}`:", "",
                      "| reward | mu | rho | Spearman (held out) | Kendall (held out) |", "|---|---|---|---|---|"]
            for name, r in res.items():
                mu = pc.fmt(r.get("mu"), 4) if "mu" in r else "0"
                rho = pc.fmt(r.get("rho"), 4) if "rho" in r else "0"
                lines.append(f"| {name} | {mu} | {rho} | {r['held_out']['spearman']:.4f} | "
                             f"{r['held_out']['kendall']:.4f} |")
            lines.append("")
        raw = t["raw"]
        lines.append(f"Spearman of the early accuracy with log FLOPs: {raw['spearman_early_vs_log_flops']:.3f}; of the "
                     f"gap (final x-valid@200 - early) with log FLOPs: {raw['spearman_gap_vs_log_flops']:.3f}, with "
                     f"log density: {raw['spearman_gap_vs_log_density']:.3f}.")
        js["nb201"] = t
    runs = load_runs(trained_file(out, preset))
    if runs:
        p = bq.TRAINED_PRESETS[preset]
        opts = bq.TRAINED_QNN[preset]
        summ = pc.trained_summary(runs)
        groups = by_label(runs)
        batch = int(opts["batch_size"])
        iters = {l: [bq.iteration_means(eval_signals(r), batch) for r in rs] for l, rs in groups.items()}
        lines += ["", f"**Block space, real training** (preset `{preset}`: space {bq.TRAINED_SPACE[preset]}, BlockQNN "
                  f"{opts}, `{p.train}` + {dict(p.train_overrides)}, networks {dict(p.build)}, {p.evaluations} blocks "
                  f"per run).", "",
                  "| strategy | runs | best val % | test % | mean val % of the first / last 3 iterations | per seed "
                  "(val / test) |", "|---|---|---|---|---|---|"]
        for l, s in summ.items():
            first, last = _mean_of(iters[l], slice(0, 3)), _mean_of(iters[l], slice(-3, None))
            lines.append(f"| {l} | {s['runs']} | {s['val_mean']:.2f} ± {s['val_std']:.2f} | {s['test_mean']:.2f} ± "
                         f"{s['test_std']:.2f} | {first:.2f} / {last:.2f} | "
                         + ", ".join(f"{v:.1f}/{t_:.1f}" for v, t_ in zip(s["val"], s["test"])) + " |")
        js["trained"] = {"preset": preset_dict(p), "space": bq.TRAINED_SPACE[preset], "blockqnn": opts,
                         "summary": summ, "iteration_means": {l: [m.tolist() for m in v] for l, v in iters.items()}}
        _figure(out, groups, iters, batch)
    pc.write_json(out / "blockqnn_comparison.json", js)
    text = "\n".join(lines) + "\n"
    (out / "blockqnn_comparison.md").write_text(text)
    return text


def _mean_of(per_run, part: slice) -> float:
    """Mean over runs of the mean of ``part`` of each run's iteration means (NaN when there are none)."""
    vals = [v for m in per_run for v in np.asarray(m)[part] if np.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def _figure(out: Path, groups, iters, batch: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nwot.study.plots import save

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, (l, rs) in enumerate(groups.items()):
        m = np.array(iters[l])
        x = np.arange(1, m.shape[1] + 1)
        axes[0].plot(x, np.nanmean(m, axis=0), color=f"C{i}", lw=1.5, label=f"{l} (mean of {len(rs)} runs)")
        for j, r in enumerate(rs):
            s = np.array(eval_signals(r))
            b = np.maximum.accumulate(np.where(np.isfinite(s), s, -np.inf))
            axes[1].plot(np.arange(1, len(b) + 1), b, color=f"C{i}", lw=1.2, label=l if j == 0 else None)
    axes[0].set_xlabel(f"iteration ({batch} blocks each)")
    axes[0].set_ylabel("mean val. acc. of the iteration's blocks (%)")
    axes[0].set_title("Block space, real training: sampled blocks (Fig. 8 style)", fontsize=9)
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("blocks trained")
    axes[1].set_ylabel("best-so-far val. acc. (%)")
    axes[1].set_title("best-so-far (each run)", fontsize=9)
    axes[1].legend(fontsize=8)
    save(fig, out / "blockqnn_comparison.png")
