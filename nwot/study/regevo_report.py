"""I/O of the regularized-evolution comparison (``benchmarks/regevo_comparison.py``): run, save, report.

The maths are in :mod:`nwot.study.regevo` and :mod:`nwot.study.search_curves`; this module writes and reads
the result files and draws the figure.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import numpy as np

from nwot.study import papers_common as pc
from nwot.study import regevo
from nwot.study.trained_comparison import by_label, eval_signals, load_runs, preset_dict

TRACES = "regevo_nb201_traces.csv.xz"
TABLE_JSON = "regevo_nb201.json"


def trained_file(out: Path, preset: str) -> Path:
    return out / f"regevo_nasnet_{preset}_runs.jsonl"


def table_part(out: Path, *, runs: int, evaluations: int, script: str, argv: Optional[Sequence[str]]) -> None:
    res = regevo.table_comparison(runs=runs, evaluations=evaluations,
                                  progress=lambda label: print(f"table: {label} done", flush=True))
    frame = pc.table_trace_frame(res)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / TRACES, index=False)
    cfg = {label: rs[0].config for label, rs in res.items()}
    pc.write_json(out / TABLE_JSON, {**pc.provenance(script, argv), "runs": runs, "evaluations": evaluations,
                                     "search_signal": "cifar10-valid/x-valid@12 (seed mean)",
                                     "report": "cifar10/ori-test@200 (seed mean)", "configs": cfg})


def train_part(out: Path, preset: str, **kw: Any) -> list:
    from nwot.spaces import get_space

    spaces = {"nasnet": get_space("nasnet", **regevo.NASNET_SPACE)}
    return pc.run_trained(trained_file(out, preset), regevo.trained_labels(preset), spaces,
                          regevo.TRAINED_PRESETS[preset], **kw)


def _table_numbers(out: Path) -> Optional[Dict[str, Any]]:
    import pandas as pd

    if not (out / TRACES).is_file():
        return None
    frame = pd.read_csv(out / TRACES)
    sig, rep = pc.signals_and_reports(frame)
    curves = {label: regevo.run_curves(sig[label], rep[label]) for label in sig}
    steps = [k for k in regevo.REPORT_STEPS if k <= len(next(iter(sig.values()))[0])]
    ahead = {f"{a} vs {b}": regevo.early_advantage(sig[a], sig[b], steps)
             for a, b in (("rea", "reinforce"), ("rea", "random"), ("reinforce", "random")) if a in sig and b in sig}
    return {"curves": curves, "ahead": ahead, "steps": steps, "runs": {k: len(v) for k, v in sig.items()}}


def report(out: Path, preset: str, *, script: str, argv: Optional[Sequence[str]]) -> str:
    """Write ``regevo_comparison.{md,json,png}`` from whatever parts have results; returns the markdown."""
    import json

    table = _table_numbers(out)
    runs = load_runs(trained_file(out, preset))
    trained = pc.trained_summary(runs) if runs else None
    meta = json.loads((out / TABLE_JSON).read_text()) if (out / TABLE_JSON).is_file() else {}
    lines = ["# Regularized evolution vs REINFORCE vs random search (Real et al., AAAI 2019, Fig. 3)", ""]
    js: Dict[str, Any] = {"report": pc.provenance(script, argv), "table_run": {k: meta.get(k) for k in
                                                                               ("command", "commit", "machine")}}
    if table is not None:
        steps = table["steps"]
        lines += [f"**NB201 table** ({meta.get('runs')} seeds per strategy, {meta.get('evaluations')} models per run; "
                  f"`{meta.get('command')}` at `{meta.get('commit')}` on {meta.get('machine', {}).get('cpu_model')}). "
                  "Search signal: 12-epoch `cifar10-valid` x-valid accuracy; reported: 200-epoch CIFAR-10 test "
                  "accuracy of the best-by-signal cell so far. Median over seeds (mean ± std in the JSON).", "",
                  "| strategy | " + " | ".join(f"after {k}" for k in steps) + " |",
                  "|---|" + "---|" * len(steps)]
        for label, c in table["curves"].items():
            lines.append(f"| {label} (test) | " + " | ".join(pc.fmt(c["at"]["report"]["q50"][k]) for k in steps) + " |")
        for label, c in table["curves"].items():
            lines.append(f"| {label} (signal) | " + " | ".join(pc.fmt(c["at"]["signal"]["q50"][k]) for k in steps)
                         + " |")
        lines += ["", "P(a run of A is ahead of a run of B in best-so-far signal after n models; ties 1/2):", "",
                  "| pair | " + " | ".join(str(k) for k in steps) + " |", "|---|" + "---|" * len(steps)]
        for pair, d in table["ahead"].items():
            lines.append(f"| {pair} | " + " | ".join(f"{d[k]:.2f}" for k in steps) + " |")
        js["table"] = {"runs": table["runs"], "steps": steps, "ahead": table["ahead"],
                       "at": {label: c["at"] for label, c in table["curves"].items()}}
    if trained is not None:
        p = regevo.TRAINED_PRESETS[preset]
        lines += ["", f"**Open NASNet / AmoebaNet cell space, real training** (preset `{preset}`: "
                  f"`{p.train}` + {dict(p.train_overrides)}, networks {dict(p.build)}, {p.evaluations} models per run; "
                  f"REA {regevo.TRAINED_REA[preset]}). Best validation accuracy (the signal) and the test accuracy "
                  f"of the chosen cell on {p.test_images or 10000} CIFAR-10 test images.", "",
                  "| strategy | runs | best val % | test % | per seed (val / test) | train s per run |",
                  "|---|---|---|---|---|---|"]
        for label, s in trained.items():
            per = ", ".join(f"{v:.1f}/{t:.1f}" for v, t in zip(s["val"], s["test"]))
            lines.append(f"| {label} | {s['runs']} | {s['val_mean']:.2f} ± {s['val_std']:.2f} | "
                         f"{s['test_mean']:.2f} ± {s['test_std']:.2f} | {per} | "
                         f"{np.mean(s['train_seconds']):.0f} |")
        curves = {label: regevo.run_curves([eval_signals(r) for r in rs], steps=(4, 8, 12, 16))
                  for label, rs in by_label(runs).items() if len({len(eval_signals(r)) for r in rs}) == 1}
        js["trained"] = {"preset": preset_dict(p), "summary": trained,
                         "at": {label: c["at"] for label, c in curves.items()},
                         "run_commits": sorted({r["config"].get("commit", "") for r in runs} - {""})}
    _figure(out, table, runs)
    pc.write_json(out / "regevo_comparison.json", js)
    text = "\n".join(lines) + "\n"
    (out / "regevo_comparison.md").write_text(text)
    return text


def _figure(out: Path, table, runs) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nwot.study.plots import save

    panels = (2 if table is not None else 0) + (1 if runs else 0)
    if not panels:
        return
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.8))
    axes = np.atleast_1d(axes)
    k = 0
    if table is not None:
        pc.plot_bands(axes[0], {l: c["signal"] for l, c in table["curves"].items()}, logx=True,
                      ylabel="best-so-far 12-epoch val. acc. (%)", title="NB201: search signal (median, IQR)")
        pc.plot_bands(axes[1], {l: c["report"] for l, c in table["curves"].items()}, logx=True,
                      ylabel="200-epoch test acc. of best-so-far (%)", title="NB201: reported (median, IQR)")
        axes[0].set_ylim(80, 85.5)
        axes[1].set_ylim(90, 94.6)
        k = 2
    if runs:
        for label, rs in by_label(runs).items():
            for i, r in enumerate(rs):
                b = np.maximum.accumulate(np.where(np.isfinite(eval_signals(r)), eval_signals(r), -np.inf))
                axes[k].plot(np.arange(1, len(b) + 1), b, color=f"C{list(by_label(runs)).index(label)}", alpha=0.8,
                             lw=1.2, label=label if i == 0 else None)
        axes[k].set_xlabel("models trained")
        axes[k].set_ylabel("best-so-far val. acc. (%)")
        axes[k].set_title("NASNet/Amoeba cells, real training (each run)", fontsize=9)
        axes[k].legend(fontsize=8)
    save(fig, out / "regevo_comparison.png")
