"""NASWOT on the NDS CIFAR-10 design spaces: score every trained network of a space file, correlate.

Mellor et al., ICML 2021 (the NDS-CIFAR10 panels: score of untrained networks against accuracy, per
design space), on the data of Radosavovic et al., "On Network Design Spaces for Visual Recognition",
ICCV 2019 (https://github.com/facebookresearch/nds, ``data.zip``). Each record (or a seeded sample) is
built with the NDS space under ``torch_seed(init_seed)`` and scored with NASWOT on one CIFAR-10 batch;
accuracy is ``100 - test_ep_top1[-1]``. Scores are appended to a work CSV as computed; a restart skips
them, and a work file made with other settings is refused. Correlations follow the one rule of
:mod:`nwot.study.correlation` (``-inf`` ranks last).
"""
from __future__ import annotations

import csv
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from nwot.errors import NwotError
from nwot.study.correlation import rank_correlation

WORK_FILE, SUMMARY_FILE, SETTINGS_FILE = "nds_scores.csv", "nds_summary.json", "nds_settings.json"
WORK_FIELDS = ("file", "space", "variant", "index", "job_id", "accuracy", "score", "params_record",
               "params_model", "seconds")
#: Settings a resumed run must share with the rows already in the work file.
SETTING_NAMES = ("batch_size", "batch_seed", "init_seed", "compat", "data_dir")


@dataclass(frozen=True)
class NDSStudy:
    """One invocation of the study."""

    inputs: Tuple[str, ...]  # NDS space files and folders of them
    out: Path  # work file, summary and plots
    n: Optional[int] = None  # seeded sample of N records per file (None: all)
    sample_seed: int = 0  # random.Random seed of the sample
    batch_size: int = 128  # images in the scoring batch
    batch_seed: int = 0  # which training images form the batch
    init_seed: int = 0  # torch_seed of every network's init
    compat: str = "clean"  # scorer and AnyNet-builder mode (reference = the NASWOT authors' code)
    data_dir: Optional[str] = None  # CIFAR-10 batches (None: $NWOT_DATA_DIR, else the embedded sample)
    device: Optional[str] = None  # torch device (None: CUDA if available)
    progress: bool = True  # progress bars

    def settings(self) -> Dict[str, Any]:
        return {"batch_size": self.batch_size, "batch_seed": self.batch_seed, "init_seed": self.init_seed,
                "compat": self.compat, "data_dir": self.data_dir}


def read_work(path: Path) -> Dict[Tuple[str, int], dict]:
    """Rows already scored, keyed by (file name, record index)."""
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {(r["file"], int(r["index"])): r for r in csv.DictReader(f)}


def check_settings(out: Path, settings: Dict[str, Any]) -> None:
    """Refuse to mix rows scored with different settings in one work file; record the settings."""
    path = out / SETTINGS_FILE
    if (out / WORK_FILE).is_file():
        if not path.is_file():
            raise NwotError(f"{out / WORK_FILE} exists without {SETTINGS_FILE}; cannot tell how it was scored, "
                            f"use another --out")
        old = json.loads(path.read_text())
        diff = {k: (old.get(k), settings[k]) for k in SETTING_NAMES if old.get(k) != settings[k]}
        if diff:
            raise NwotError(f"{out / WORK_FILE} was scored with other settings {diff} (old, new); use another --out")
    path.write_text(json.dumps(settings, indent=2) + "\n")


def select_indices(n_records: int, n: Optional[int], seed: int) -> List[int]:
    """All indices, or ``sorted(random.Random(seed).sample(range(n_records), n))``."""
    if n is None or n >= n_records:
        return list(range(n_records))
    return sorted(random.Random(seed).sample(range(n_records), n))


def score_record(space, bench, index: int, images, *, init_seed: int, compat: str,
                 device: Optional[str]) -> Tuple[float, int]:
    """(NASWOT score, built network's parameter count) of one record."""
    from nwot.proxies.naswot import naswot_score
    from nwot.seeding import torch_seed
    from nwot.spaces.nds.cell_model import param_count

    build_kwargs = {"compat": compat} if space.family == "anynet" else {}
    with torch_seed(init_seed):
        model = space.build(bench.arch(index), **build_kwargs)
    return naswot_score(model, images, compat=compat, device=device), param_count(model)


def score_file(bench, indices: Sequence[int], images, cfg: NDSStudy, work_path: Path,
               done: Dict[Tuple[str, int], dict]) -> int:
    """Score the not yet scored ``indices`` of one file, appending each row at once; returns how many."""
    from tqdm import tqdm

    from nwot.spaces.nds.space import NDSSpace

    space = NDSSpace(bench.design_space, benchmark=bench)
    todo = [i for i in indices if (bench.path.name, i) not in done]
    new_file = not work_path.is_file()
    with open(work_path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=WORK_FIELDS)
        if new_file:
            w.writeheader()
        for i in tqdm(todo, desc=bench.path.name, unit="net", disable=None if cfg.progress else True, file=sys.stderr):
            r = bench.records[i]
            t0 = time.perf_counter()
            s, n_params = score_record(space, bench, i, images, init_seed=cfg.init_seed, compat=cfg.compat,
                                       device=cfg.device)
            row = {"file": bench.path.name, "space": bench.design_space, "variant": bench.variant, "index": i,
                   "job_id": r.job_id, "accuracy": repr(r.test_accuracy), "score": repr(s),
                   "params_record": repr(r.params), "params_model": n_params,
                   "seconds": f"{time.perf_counter() - t0:.4f}"}
            w.writerow(row)
            f.flush()
            done[(bench.path.name, i)] = {k: str(v) for k, v in row.items()}
    return len(todo)


def summarise(rows: List[dict]) -> Dict[str, Any]:
    """n, Kendall tau / Spearman rho (score vs accuracy; -inf ranks lowest), params agreement of one file."""
    score = np.array([float(r["score"]) for r in rows])
    acc = np.array([float(r["accuracy"]) for r in rows])
    out: Dict[str, Any] = {"n": len(rows), "n_finite": int(np.isfinite(score).sum())}
    if len(rows) >= 2:
        c = rank_correlation(score, acc)
        out.update(kendall_tau=c.kendall_tau, spearman_rho=c.spearman_rho)
    else:
        out.update(kendall_tau=None, spearman_rho=None)
    rel = [abs(int(r["params_model"]) / float(r["params_record"]) - 1.0) for r in rows if float(r["params_record"]) > 0]
    out["params_rel_diff_median"] = float(np.median(rel)) if rel else None
    out["params_within_1pct"] = float(np.mean([d <= 0.01 for d in rel])) if rel else None
    return out


def scatter(rows: List[dict], stats: Dict[str, Any], title: str, path: Path) -> None:
    """Accuracy against score of one file's rows, tau / rho in the title."""
    from nwot.study.plots import score_scatter

    tau, rho = stats["kendall_tau"], stats["spearman_rho"]
    corr = "" if tau is None else f"  tau={tau:.3f} rho={rho:.3f}"
    score_scatter(path, [float(r["score"]) for r in rows], [float(r["accuracy"]) for r in rows],
                  f"{title} (n={len(rows)}){corr}")


def run_study(cfg: NDSStudy) -> Dict[str, Any]:
    """The whole study; returns the summary (without command and provenance) and the files' statistics."""
    from nwot.adapters.nds import open_files
    from nwot.data.datasets import scoring_batch

    t0 = time.time()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = cfg.settings()
    check_settings(out, settings)
    benches = open_files(list(cfg.inputs))
    skipped = [str(b.path) for b in benches if "cifar10" not in b.datasets]
    benches = [b for b in benches if "cifar10" in b.datasets]
    if not benches:
        raise NwotError(f"no CIFAR-10 NDS files among the inputs (ImageNet files skipped: {skipped})")
    names = [b.path.name for b in benches]
    if len(set(names)) != len(names):
        raise NwotError(f"two inputs share a file name ({names}); the work file keys rows by file name")
    images = scoring_batch("cifar10", cfg.batch_size, seed=cfg.batch_seed, data_dir=cfg.data_dir)
    work_path = out / WORK_FILE
    done = read_work(work_path)
    files: Dict[str, Any] = {}
    n_new = 0
    for b in benches:
        idx = select_indices(len(b), cfg.n, cfg.sample_seed)
        n_new += score_file(b, idx, images, cfg, work_path, done)
        rows = [done[(b.path.name, i)] for i in idx]
        stats = summarise(rows)
        stats.update(path=str(b.path), space=b.design_space, variant=b.variant, records=len(b))
        plot = out / f"nds_{Path(b.path.name).stem.replace('.json', '')}.png"
        scatter(rows, stats, b.path.name, plot)
        stats["plot"] = plot.name
        files[b.path.name] = stats
    return {"settings": settings, "n": cfg.n, "sample_seed": cfg.sample_seed, "files": files,
            "skipped_imagenet_files": skipped, "newly_scored": n_new, "seconds": round(time.time() - t0, 2)}
