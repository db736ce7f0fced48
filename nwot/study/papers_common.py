"""Shared pieces of the papers' comparison scripts: provenance, real-training setups, progress lines, figures.

The scripts (``benchmarks/regevo_comparison.py``, ``benchmarks/pnas_efficiency.py``,
``benchmarks/blockqnn_comparison.py``) stay thin: they parse arguments and call the study modules
(:mod:`nwot.study.regevo`, :mod:`nwot.study.pnas_efficiency`, :mod:`nwot.study.blockqnn_compare`), which call
this module for what they share.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np

from nwot.study.trained_comparison import Job, TrainedPreset

#: The repository root (this file is ``<repo>/nwot/study/papers_common.py``).
REPO = Path(__file__).resolve().parents[2]


def provenance(script: str, argv: Optional[Sequence[str]], device: Optional[str] = None) -> Dict[str, Any]:
    """Command, commit and machine of a result (:mod:`nwot.study.provenance`)."""
    import shlex

    from nwot.study.provenance import git_label, machine

    path = Path(script).resolve()
    try:
        path = path.relative_to(REPO)
    except ValueError:
        pass
    args = list(sys.argv[1:] if argv is None else argv)
    command = " ".join(shlex.quote(a) for a in ["python", str(path), *args])
    return {"command": command, "commit": git_label(REPO), "machine": machine(device),
            "written": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def write_json(path: Path, obj: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=_default, allow_nan=True) + "\n")
    tmp.replace(path)


def _default(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, (set, tuple)):
        return list(x)
    return str(x)


def trained_setups(spaces: Mapping[str, Any], preset: TrainedPreset, *, data_dir=None, checkpoint_dir,
                   train_overrides: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """One :func:`nwot.search.run.train_setup` per space (all sharing ``checkpoint_dir``); CIFAR-10 from
    ``data_dir``, else ``$NWOT_DATA_DIR``, else the staged shared data."""
    from nwot.paths import shared_data_dir, user_data_dir
    from nwot.search.run import train_setup

    data_dir = data_dir or user_data_dir() or shared_data_dir()
    over = {**dict(preset.train_overrides), **dict(train_overrides or {})}
    return {key: train_setup(sp, preset=preset.train, train_overrides=over, build_kwargs=dict(preset.build),
                             data_dir=data_dir, checkpoint_dir=checkpoint_dir, test_images=preset.test_images)
            for key, sp in spaces.items()}


def progress_line(job: Job, row) -> None:
    """One line per trained model on stderr (long CPU jobs log their progress)."""
    print(f"[{time.strftime('%H:%M:%S')}] {job.label} seed {job.seed} model {row.step + 1}: "
          f"signal {row.signal:.2f} cost {row.cost:.1f}s best {row.best_signal:.2f}"
          + (f" FAILED {row.failure[:80]}" if row.failure else ""), file=sys.stderr, flush=True)


def plot_bands(ax, curves: Mapping[str, Mapping[str, np.ndarray]], *, x: Optional[np.ndarray] = None,
               ylabel: str = "", title: str = "", logx: bool = False, lo: str = "q25", hi: str = "q75") -> None:
    """Median (line) and the ``lo``..``hi`` band of each strategy's curve against models evaluated."""
    for label, b in curves.items():
        n = len(b["q50"])
        xs = np.arange(1, n + 1) if x is None else x
        line = ax.plot(xs, b["q50"], label=label, lw=1.5)[0]
        ax.fill_between(xs, b[lo], b[hi], color=line.get_color(), alpha=0.18, lw=0)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("models evaluated")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)


def fmt(x: Optional[float], d: int = 2) -> str:
    return "–" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{d}f}"


# --------------------------------------------------------------------------------------------------
# NB201 table traces: saved compactly (NB201 index per evaluation), reported from the embedded table.
# --------------------------------------------------------------------------------------------------


def nb201_index() -> Dict[str, int]:
    """NB201 arch string -> index (the embedded table's order)."""
    from nwot import load_nb201_table

    t = load_nb201_table()
    return {a: int(i) for i, a in zip(t.index, t["arch"])}


def table_trace_frame(results: Mapping[str, Sequence[Any]]):
    """One row per evaluation of every run: label, seed, step (1-based), NB201 index, signal."""
    import pandas as pd

    idx = nb201_index()
    rows = []
    for label, runs in results.items():
        for r in runs:
            k = 0
            for row in r.trace:
                if row.kind != "eval":
                    continue
                k += 1
                rows.append((label, r.seed, k, idx[row.arch], row.signal))
    return pd.DataFrame(rows, columns=["label", "seed", "step", "index", "signal"])


def signals_and_reports(frame, report_column: str = "cifar10/ori-test@200", budget: Optional[int] = None):
    """``({label: [signals per seed]}, {label: [reports per seed]})`` from a trace frame; runs cut to ``budget``."""
    from nwot import load_nb201_table

    rep = load_nb201_table()[report_column].to_numpy()
    sig: Dict[str, list] = {}
    reps: Dict[str, list] = {}
    order = {label: k for k, label in enumerate(dict.fromkeys(frame["label"]))}  # labels in the order they were run
    frame = frame.assign(_order=frame["label"].map(order)).sort_values(["_order", "seed", "step"])
    for (label, _seed), g in frame.groupby(["label", "seed"], sort=False):
        s = g["signal"].to_numpy()[:budget]
        sig.setdefault(label, []).append(s)
        reps.setdefault(label, []).append(rep[g["index"].to_numpy()[:budget]])
    return sig, reps


def run_trained(results: Path, labels: Mapping[str, tuple], spaces: Mapping[str, Any], preset: TrainedPreset, *,
                seeds: Optional[int] = None, evaluations: Optional[int] = None, data_dir=None, checkpoint_dir,
                overrides: Optional[Mapping[str, Any]] = None, test_images: Optional[int] = None) -> list:
    """The real-training jobs of a comparison (seeds interleaved), resumable through ``results`` (JSON lines)."""
    from dataclasses import replace

    from nwot.search.loop import Budget
    from nwot.study.trained_comparison import interleaved_jobs, run_jobs

    if test_images is not None:
        preset = replace(preset, test_images=test_images)
    setups = trained_setups(spaces, preset, data_dir=data_dir, checkpoint_dir=checkpoint_dir,
                            train_overrides=overrides)
    jobs = interleaved_jobs(labels, preset.seeds if seeds is None else seeds)
    budget = Budget(evaluations=preset.evaluations if evaluations is None else evaluations)
    from nwot.study.provenance import git_label, machine

    stamp = {"commit": git_label(), "machine": machine()}
    return run_jobs(jobs, setups, budget, results, progress=progress_line, config=stamp,
                    on_run=lambda job, row: print(f"finished {job.label} seed {job.seed}: best {row['best_signal']:.2f}"
                                                  f" test {row['final'].get('test_accuracy')}", file=sys.stderr,
                                                  flush=True))


def trained_summary(runs: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """Per label: runs, best validation accuracy and test accuracy of the chosen cell (mean, std, per seed),
    trained seconds and distinct cells."""
    from nwot.study.trained_comparison import by_label, eval_archs

    out: Dict[str, Any] = {}
    for label, rs in by_label(runs).items():
        val = np.array([r["best_signal"] for r in rs], dtype=float)
        test = np.array([r["final"].get("test_accuracy", np.nan) for r in rs], dtype=float)
        out[label] = {"runs": len(rs), "seeds": [r["seed"] for r in rs],
                      "val_mean": float(val.mean()), "val_std": float(val.std()), "val": val.tolist(),
                      "test_mean": float(np.nanmean(test)), "test_std": float(np.nanstd(test)), "test": test.tolist(),
                      "models": [r["n_evals"] for r in rs],
                      "train_seconds": [round(float(r["used_time"]), 1) for r in rs],
                      "distinct_cells": [len(set(eval_archs(r))) for r in rs],
                      "best_cells": [r["best_arch"] for r in rs]}
    return out
