"""Resumable comparisons of search strategies with real training (the papers' open-space experiments).

A comparison is a list of :class:`Job` s (strategy label, strategy, space, seed, options), each one search run
through the one driver (:func:`nwot.search.run.train_setup` -> :meth:`~nwot.search.run.SearchSetup.run`) with a
budget of trained models. Every finished run is appended as one JSON line (``SearchResult.to_dict()`` plus the
label) to a results file, so an interrupted comparison restarts where it stopped: finished runs are read back,
the interrupted run is replayed from the per-candidate checkpoints (finished candidates are never retrained and
keep their original cost, :class:`~nwot.evaluators.train.TrainEvaluator`), and the runs not started yet follow.
All setups of a comparison share one checkpoint folder, so a cell proposed by two strategies is trained once.

:data:`PAPERS_CPU_TRAIN` is the training all CPU comparisons use: the ``cpu_tiny`` budget (1 epoch on 2,000
CIFAR-10 training images, 500 more held out for the validation signal) with batch 16, lr 0.05 and no
augmentation. Measured here on three random NASNet cells (C = 8, N = 1): plain ``cpu_tiny`` (batch 64, lr 0.05,
augmentation) ends at 12-18 % validation accuracy (chance: 10 %), batch 16 at 26-29 % for the same seconds
(125 optimiser steps instead of 32), so the ranking the searches see is not noise.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from nwot.errors import NwotError
from nwot.search.loop import Budget, SearchResult, TraceRow

#: ``cpu_tiny`` overrides of the CPU comparisons (module docstring).
PAPERS_CPU_TRAIN: Dict[str, Any] = {"batch_size": 16, "lr": 0.05, "augment": False}


@dataclass(frozen=True)
class TrainedPreset:
    """How large one real-training comparison is (a value: variants via ``dataclasses.replace``)."""

    train: str  # nwot.evaluators.train.PRESETS name
    train_overrides: Mapping[str, Any]  # dataclasses.replace overrides of that preset
    build: Mapping[str, Any]  # macro skeleton (C = width, N = cells / blocks per stage)
    evaluations: int  # trained models per run
    seeds: int  # runs per strategy (seeds 0 .. seeds-1)
    test_images: Optional[int]  # CIFAR-10 test images for the chosen cell's report (None = all 10,000)
    note: str = field(default="", compare=False)  # where the numbers come from


@dataclass(frozen=True)
class Job:
    """One search run of a comparison."""

    label: str  # name in tables and plots (e.g. "rea", "random")
    strategy: str  # registered strategy
    space: str  # key of the setup it runs on (a comparison may use several spaces / views)
    seed: int
    options: Mapping[str, Any] = field(default_factory=dict)  # strategy options

    @property
    def key(self) -> Tuple[str, int]:
        return (self.label, self.seed)


def interleaved_jobs(labels: Mapping[str, Tuple[str, str, Mapping[str, Any]]], seeds: int) -> List[Job]:
    """Seed 0 of every strategy, then seed 1, ...: a comparison cut short stays balanced.
    ``labels[label] = (strategy, space key, options)``."""
    return [Job(label, strat, sp, s, dict(opts)) for s in range(seeds) for label, (strat, sp, opts) in labels.items()]


def load_runs(path: os.PathLike) -> List[Dict[str, Any]]:
    """The finished runs of a results file (one JSON object per line; a torn last line is ignored)."""
    p = Path(path)
    if not p.is_file():
        return []
    out = []
    for line in p.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # an append interrupted mid-line; the run is redone
    return out


def append_run(path: os.PathLike, label: str, result: SearchResult) -> Dict[str, Any]:
    """Append one finished run (``{"label", **result.to_dict()}``) and flush it to disk."""
    row = {"label": label, **result.to_dict()}
    p = Path(path)
    torn = p.is_file() and p.stat().st_size > 0 and not p.read_bytes().endswith(b"\n")
    with open(p, "a") as f:
        # after a torn last line (killed mid-append) start a new line, so the torn one stays unreadable alone
        f.write(("\n" if torn else "") + json.dumps(row, default=_json_default) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return row


def _json_default(x: Any) -> Any:
    if isinstance(x, (set, tuple)):
        return list(x)
    if hasattr(x, "item"):
        return x.item()
    return str(x)


def run_jobs(jobs: Sequence[Job], setups: Mapping[str, Any], budget: Budget, results: os.PathLike, *,
             progress: Optional[Callable[[Job, TraceRow], None]] = None,
             on_run: Optional[Callable[[Job, Dict[str, Any]], None]] = None,
             config: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
    """Run the ``jobs`` not yet in ``results`` (module docstring); returns every finished run, in job order.

    ``setups[job.space]`` is a :class:`~nwot.search.run.SearchSetup` (or anything with its ``run``); ``config``
    is recorded in every run's config (e.g. the commit and machine that ran it)."""
    missing = sorted({j.space for j in jobs} - set(setups))
    if missing:
        raise NwotError(f"jobs name setups {missing} that were not given; given: {sorted(setups)}")
    keys = [j.key for j in jobs]
    if len(set(keys)) != len(keys):
        raise NwotError("two jobs share a (label, seed); labels must be unique per strategy variant")
    Path(results).parent.mkdir(parents=True, exist_ok=True)
    done = {(r["label"], int(r["seed"])): r for r in load_runs(results)}
    for job in jobs:
        if job.key in done:
            continue
        cb = None if progress is None else (lambda row, job=job: progress(job, row))
        rep = setups[job.space].run(job.strategy, budget, runs=1, seed=job.seed, options=dict(job.options),
                                    progress=cb, config={**dict(config or {}), "label": job.label})
        done[job.key] = append_run(results, job.label, rep.runs[0])
        if on_run is not None:
            on_run(job, done[job.key])
    return [done[k] for k in keys if k in done]


def eval_signals(run: Mapping[str, Any]) -> List[float]:
    """The search signals of a stored run's evaluations (trace rows of kind ``eval``), in order."""
    return [float(r["signal"]) for r in run["trace"] if r.get("kind", "eval") == "eval"]


def eval_archs(run: Mapping[str, Any]) -> List[str]:
    return [r["arch"] for r in run["trace"] if r.get("kind", "eval") == "eval"]


def by_label(runs: Iterable[Mapping[str, Any]]) -> Dict[str, List[Mapping[str, Any]]]:
    out: Dict[str, List[Mapping[str, Any]]] = {}
    for r in runs:
        out.setdefault(r["label"], []).append(r)
    for v in out.values():
        v.sort(key=lambda r: r["seed"])
    return out


def preset_dict(preset: TrainedPreset) -> Dict[str, Any]:
    d = asdict(preset)
    d["train_overrides"] = dict(preset.train_overrides)
    d["build"] = dict(preset.build)
    return d


def add_train_args(p, results: Path) -> None:
    """The real-training options every papers' comparison script shares (``--part train``), and ``--out``."""
    p.add_argument("--preset", choices=("cpu", "gpu"), default="cpu", help="real-training size")
    p.add_argument("--seeds", type=int, default=None, help="train: seeds per strategy (default: the preset's)")
    p.add_argument("--train-evaluations", type=int, default=None, help="train: models per run (default: preset)")
    p.add_argument("--train-size", type=int, default=None, help="train: override training images (smoke tests)")
    p.add_argument("--val-size", type=int, default=None, help="train: override validation images (smoke tests)")
    p.add_argument("--test-images", type=int, default=None, help="train: override test images of the report")
    p.add_argument("--data-dir", default=None, help="CIFAR-10 python batches (default: $NWOT_DATA_DIR, shared/data)")
    p.add_argument("--checkpoint-dir", default=str(results / "work" / "papers_ckpt"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(results))


def train_kwargs(args) -> Dict[str, Any]:
    """The keyword arguments of a report module's ``train_part`` from :func:`add_train_args`' options."""
    return {"seeds": args.seeds, "evaluations": args.train_evaluations, "data_dir": args.data_dir,
            "checkpoint_dir": args.checkpoint_dir, "test_images": args.test_images,
            "overrides": {k: v for k, v in (("train_size", args.train_size), ("val_size", args.val_size))
                          if v is not None}}
