"""I/O of the PNAS sample-efficiency comparison (``benchmarks/pnas_efficiency.py``): run, save, report.

The maths are in :mod:`nwot.study.pnas_efficiency` and :mod:`nwot.study.search_curves`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import numpy as np

from nwot.study import papers_common as pc
from nwot.study import pnas_efficiency as pe
from nwot.study.regevo import run_curves
from nwot.study.trained_comparison import by_label, eval_archs, eval_signals, load_runs, preset_dict

TRACES = "pnas_efficiency_nb201_traces.csv.xz"
TABLE_JSON = "pnas_efficiency_nb201.json"


def trained_file(out: Path, preset: str) -> Path:
    return out / f"pnas_efficiency_pnas_{preset}_runs.jsonl"


def table_part(out: Path, *, runs: int, budget: Optional[int], beams: Optional[Sequence[int]], script: str,
               argv: Optional[Sequence[str]]) -> None:
    import pandas as pd

    work = out / "work" / "pnas_efficiency_table"
    work.mkdir(parents=True, exist_ok=True)
    key = f"runs{runs}-budget{budget or pe.TABLE_BUDGET}"
    done = {p.name.split("__")[1][:-4]: p for p in work.glob(f"{key}__*.csv")}  # labels finished by an earlier call

    def keep(label, results):  # each label saved as it finishes: an interrupted call resumes by label
        pc.table_trace_frame({label: results}).to_csv(work / f"{key}__{label}.csv", index=False)
        (work / f"{key}__{label}.json").write_text(json.dumps({k: v for k, v in results[0].config.items()
                                                               if k != "levels"}, default=str))
        print(f"table: {label} done", flush=True)

    pe.table_comparison(runs=runs, budget=budget or pe.TABLE_BUDGET, beams=tuple(beams or pe.TABLE_BEAMS),
                        progress=keep, skip=tuple(done))
    labels = list(pe.table_jobs(tuple(beams or pe.TABLE_BEAMS)))
    frame = pd.concat([pd.read_csv(work / f"{key}__{label}.csv") for label in labels], ignore_index=True)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / TRACES, index=False)
    cfg = {label: json.loads((work / f"{key}__{label}.json").read_text()) for label in labels}
    pc.write_json(out / TABLE_JSON, {**pc.provenance(script, argv), "runs": runs, "budget": budget or pe.TABLE_BUDGET,
                                     "beams": list(beams or pe.TABLE_BEAMS), "configs": cfg,
                                     "search_signal": "cifar10-valid/x-valid@12 (seed mean)"})


def train_part(out: Path, preset: str, **kw: Any) -> list:
    from nwot.spaces import get_space
    from nwot.spaces.pnas.fixed import FixedBlocksView

    sp = get_space("pnas", **pe.TRAINED_SPACE[preset])
    return pc.run_trained(trained_file(out, preset), pe.trained_labels(preset), {"pnas": sp,
                                                                                  "pnas-fixed": FixedBlocksView(sp)},
                          pe.TRAINED_PRESETS[preset], **kw)


def _hits_lines(eff: Dict[str, Any], labels: Sequence[str], baseline: str = "reinforce") -> list:
    lines = []
    for mkey, tab in eff.items():
        lines += ["", f"Models to target, {mkey} mean (median [q25, q75] over seeds; `>B` = not reached within the "
                  f"run; speedup = median {baseline} / median strategy):", "",
                  "| target | signal | " + " | ".join(labels) + " | " + " | ".join(
                      f"speedup {l}" for l in labels if l != baseline) + " |",
                  "|---|---|" + "---|" * (2 * len(labels) - 1)]
        for tname, per in tab.items():
            cells, speed = [], []
            for l in labels:
                s = per[l]
                q = [s[k] for k in ("median", "q25", "q75")]
                f = [f"{int(x)}" if x is not None else ">B" for x in q]
                cells.append(f"{f[0]} [{f[1]}, {f[2]}] ({100 * s['fraction_reached']:.0f}% reached)")
                if l != baseline:
                    sp = s.get(f"speedup_vs_{baseline}", {})
                    speed.append(pc.fmt(sp.get("ratio")) if sp.get("ratio") is not None else
                                 (f">{sp['at_least']:.2f}" if sp.get("at_least") else "–"))
            target = next(iter(per.values()))["target"]
            lines.append(f"| {tname} | {target:.2f} | " + " | ".join(cells) + " | " + " | ".join(speed) + " |")
    return lines


def report(out: Path, preset: str, *, script: str, argv: Optional[Sequence[str]]) -> str:
    import pandas as pd

    lines = ["# PNAS sample efficiency vs REINFORCE (Liu et al., ECCV 2018)", ""]
    js: Dict[str, Any] = {"report": pc.provenance(script, argv)}
    table = None
    if (out / TRACES).is_file():
        meta = json.loads((out / TABLE_JSON).read_text())
        frame = pd.read_csv(out / TRACES)
        sig, rep = pc.signals_and_reports(frame)
        labels = list(sig)
        targets = pe.table_targets()
        budgets = {l: int(max(len(s) for s in v)) for l, v in sig.items()}
        eff = pe.efficiency(sig, targets, budgets=budgets)
        used = {l: float(np.mean([len(s) for s in v])) for l, v in sig.items()}
        final_test = {l: float(np.mean([r[int(np.argmax(s))] for s, r in zip(sig[l], rep[l])])) for l in labels}
        pnas_n = int(round(min(used[l] for l in labels if l.startswith("pnas")))) if any(
            l.startswith("pnas") for l in labels) else None
        at_pnas = None
        if pnas_n:
            at_pnas = {l: float(np.mean([r[int(np.argmax(s[:pnas_n]))] for s, r in zip(sig[l], rep[l])]))
                       for l in labels}
        lines += [f"**NB201 table** ({meta['runs']} seeds; `{meta['command']}` at `{meta['commit']}` on "
                  f"{meta['machine']['cpu_model']}). Signal: 12-epoch `cifar10-valid` x-valid accuracy. PNAS (MLP "
                  f"ensemble, beam K) ends by itself when its last level is exhausted; REINFORCE and random search "
                  f"get {meta['budget']} models. Targets: the signal of the best 5 / 1 / 0.5 / 0.1 % of the 15,625 "
                  f"cells.", "",
                  "| strategy | models per run (mean) | 200-epoch test acc. of the final best (mean) | "
                  f"... after {pnas_n} models |", "|---|---|---|---|"]
        for l in labels:
            lines.append(f"| {l} | {used[l]:.0f} | {final_test[l]:.2f} | "
                         f"{pc.fmt(at_pnas[l]) if at_pnas else '–'} |")
        lines += _hits_lines(eff, labels)
        js["table"] = {"meta": {k: meta[k] for k in ("command", "commit", "machine", "runs", "budget", "beams")},
                       "targets": targets, "models_per_run": used, "final_test_mean": final_test,
                       "test_after_pnas_budget": at_pnas, "efficiency": eff}
        table = {"sig": sig, "eff": eff, "targets": targets}
    runs = load_runs(trained_file(out, preset))
    if runs:
        p = pe.TRAINED_PRESETS[preset]
        groups = by_label(runs)
        sigs = {l: [eval_signals(r) for r in rs] for l, rs in groups.items()}
        targets = pe.pooled_targets([s for v in sigs.values() for s in v],
                                    [eval_archs(r) for rs in groups.values() for r in rs])
        eff = pe.efficiency(sigs, targets, m_values=(1,), budgets={l: p.evaluations for l in sigs})
        summ = pc.trained_summary(runs)
        lines += ["", f"**PNAS cell space, real training** (preset `{preset}`: space {pe.TRAINED_SPACE[preset]}, "
                  f"PNAS {pe.TRAINED_PNAS[preset]}, `{p.train}` + {dict(p.train_overrides)}, networks {dict(p.build)}, "
                  f"{p.evaluations} models per run). Targets: quantiles of the validation accuracy of every distinct "
                  f"cell trained here.", "",
                  "| strategy | runs | best val % | test % | per seed (val / test) |", "|---|---|---|---|---|"]
        for l, s in summ.items():
            lines.append(f"| {l} | {s['runs']} | {s['val_mean']:.2f} ± {s['val_std']:.2f} | {s['test_mean']:.2f} ± "
                         f"{s['test_std']:.2f} | " + ", ".join(f"{v:.1f}/{t:.1f}" for v, t in zip(s["val"], s["test"]))
                         + " |")
        lines += _hits_lines(eff, list(sigs))
        for tname, per in eff["top-1"].items():
            lines.append(f"* per seed, {tname}: " + "; ".join(f"{l} {per[l]['values']}" for l in sigs))
        js["trained"] = {"preset": preset_dict(p), "space": pe.TRAINED_SPACE[preset], "pnas": pe.TRAINED_PNAS[preset],
                         "summary": summ, "targets": targets, "efficiency": eff}
    _figure(out, table, runs)
    pc.write_json(out / "pnas_efficiency.json", js)
    text = "\n".join(lines) + "\n"
    (out / "pnas_efficiency.md").write_text(text)
    return text


def _figure(out: Path, table, runs) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nwot.study.plots import save

    panels = (2 if table else 0) + (1 if runs else 0)
    if not panels:
        return
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.8))
    axes = np.atleast_1d(axes)
    k = 0
    if table:
        bands = {}
        for l, v in table["sig"].items():
            n = min(len(s) for s in v)
            bands[l] = run_curves([s[:n] for s in v], steps=())["signal"]
        pc.plot_bands(axes[0], bands, logx=True, ylabel="best-so-far 12-epoch val. acc. (%)",
                      title="NB201: best-so-far signal (median, IQR; cut to the shortest run)")
        axes[0].set_ylim(80, 85.5)
        tname = "top 0.5%"
        per = table["eff"]["top-1"][tname]
        for i, (l, s) in enumerate(per.items()):
            vals = np.sort([v for v in s["values"] if v is not None])
            frac = np.arange(1, len(vals) + 1) / len(s["values"])
            axes[1].step(vals, frac, where="post", label=l, color=f"C{i}")
        axes[1].set_xscale("log")
        axes[1].set_xlabel("models evaluated")
        axes[1].set_ylabel("fraction of runs at target")
        axes[1].set_title(f"NB201: reaching the {tname} signal ({table['targets'][tname]:.2f} %)", fontsize=9)
        axes[1].legend(fontsize=8)
        k = 2
    if runs:
        groups = by_label(runs)
        for i, (l, rs) in enumerate(groups.items()):
            for j, r in enumerate(rs):
                s = np.array(eval_signals(r))
                b = np.maximum.accumulate(np.where(np.isfinite(s), s, -np.inf))
                axes[k].plot(np.arange(1, len(b) + 1), b, color=f"C{i}", lw=1.2, label=l if j == 0 else None)
        axes[k].set_xlabel("models trained")
        axes[k].set_ylabel("best-so-far val. acc. (%)")
        axes[k].set_title("PNAS cell space, real training (each run)", fontsize=9)
        axes[k].legend(fontsize=8)
    save(fig, out / "pnas_efficiency.png")
