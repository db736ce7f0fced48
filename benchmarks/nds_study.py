"""NASWOT on the NDS CIFAR design spaces: score every trained network of each space file, correlate.

Mellor et al., "Neural Architecture Search without Training", ICML 2021 (the NDS-CIFAR10 plots:
score of untrained networks vs accuracy, per design space), on the data of Radosavovic et al., "On
Network Design Spaces for Visual Recognition", ICCV 2019 (https://github.com/facebookresearch/nds,
``data.zip``; not redistributable here, so point ``--file`` / ``--dir`` at your copy).

For each space file (``--file`` repeatable, ``--dir`` adds every ``<space>[_variant].json`` of a folder;
ImageNet ``_in`` files are skipped and listed), every record (or a seeded sample of ``--n``) is built
with ``nwot.spaces.nds.codec`` under ``nwot.seeding.torch_seed(init_seed)`` and scored with
``nwot.proxies.naswot.naswot_score`` on ``nwot.data.datasets.scoring_batch("cifar10", batch_size, batch_seed)``; accuracy is
``100 - test_ep_top1[-1]`` (the NASWOT paper's NDS accuracy). Each score is appended to the work CSV
as soon as it is computed; a restart skips everything already there (same settings required).

Outputs (``--out``, default ``benchmarks/results/nds``): ``nds_scores.csv`` (work file, one row per
scored record: score, accuracy, the record's params and the built network's params -- the latter
checks the builders against the data), ``nds_summary.json`` (per file: n, Kendall tau, Spearman rho
from ``scipy.stats``, params agreement; command, settings, git commit, machine, timing) and one
``nds_<file stem>.png`` scatter plot per file.

    python benchmarks/nds_study.py --dir ~/data/nds --n 1000
    python benchmarks/nds_study.py --file ~/data/nds/DARTS.json --file ~/data/nds/ResNet.json
"""
from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from nwot.study.provenance import git_state  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from nwot.adapters.nds import NDSBenchmark, open_files  # noqa: E402
from nwot.data.datasets import scoring_batch  # noqa: E402
from nwot.errors import NwotError  # noqa: E402
from nwot.spaces.nds.cell_model import param_count  # noqa: E402
from nwot.proxies.naswot import naswot_score  # noqa: E402
from nwot.seeding import torch_seed
from nwot.spaces.nds.space import NDSSpace  # noqa: E402
from nwot.study.reproduction import rank_correlation  # noqa: E402

WORK_FILE, SUMMARY_FILE, SETTINGS_FILE = "nds_scores.csv", "nds_summary.json", "nds_settings.json"
WORK_FIELDS = ("file", "space", "variant", "index", "job_id", "accuracy", "score", "params_record",
               "params_model", "seconds")
#: Settings a resumed run must share with the rows already in the work file.
SETTING_NAMES = ("batch_size", "batch_seed", "init_seed", "compat", "data_dir")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--file", action="append", default=[], help="an NDS space file (repeatable)")
    p.add_argument("--dir", action="append", default=[], help="a folder of NDS space files (repeatable)")
    p.add_argument("--n", type=int, default=None, help="score a seeded sample of N records per file (default: all)")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the --n sample (random.Random)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--batch-seed", type=int, default=0, help="which training images form the batch")
    p.add_argument("--init-seed", type=int, default=0, help="torch_seed of every network's init")
    p.add_argument("--compat", default="clean", choices=("clean", "reference"),
                   help="scorer and AnyNet-builder mode (reference = the NASWOT authors' code)")
    p.add_argument("--data-dir", default=None, help="CIFAR-10 batches (default: $NWOT_DATA_DIR, else embedded sample)")
    p.add_argument("--device", default=None, help="torch device (default: CUDA if available)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "nds"))
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if not args.file and not args.dir:
        p.error("give at least one --file or --dir (the NDS data.zip from https://github.com/facebookresearch/nds)")
    if args.n is not None and args.n < 1:
        p.error(f"--n must be >= 1, got {args.n}")
    return args


def settings_of(args: argparse.Namespace) -> Dict[str, Any]:
    return {"batch_size": args.batch_size, "batch_seed": args.batch_seed, "init_seed": args.init_seed,
            "compat": args.compat, "data_dir": args.data_dir}


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


def score_record(space: NDSSpace, bench: NDSBenchmark, index: int, images: torch.Tensor, *, init_seed: int,
                 compat: str, device: Optional[str]) -> Tuple[float, int]:
    """(NASWOT score, built network's parameter count) of one record."""
    build_kwargs = {"compat": compat} if space.family == "anynet" else {}
    with torch_seed(init_seed):
        model = space.build(bench.arch(index), **build_kwargs)
    return naswot_score(model, images, compat=compat, device=device), param_count(model)


def score_file(bench: NDSBenchmark, indices: Sequence[int], images: torch.Tensor, args: argparse.Namespace,
               work_path: Path, done: Dict[Tuple[str, int], dict]) -> int:
    """Score the not yet scored ``indices`` of one file, appending each row at once; returns how many."""
    space = NDSSpace(bench.design_space, benchmark=bench)
    todo = [i for i in indices if (bench.path.name, i) not in done]
    new_file = not work_path.is_file()
    with open(work_path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=WORK_FIELDS)
        if new_file:
            w.writeheader()
        for i in tqdm(todo, desc=bench.path.name, unit="net", disable=args.quiet or None, file=sys.stderr):
            r = bench.records[i]
            t0 = time.perf_counter()
            s, n_params = score_record(space, bench, i, images, init_seed=args.init_seed, compat=args.compat,
                                       device=args.device)
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    score = np.array([float(r["score"]) for r in rows])
    acc = np.array([float(r["accuracy"]) for r in rows])
    ok = np.isfinite(score)
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.scatter(score[ok], acc[ok], s=6, alpha=0.5)
    tau, rho = stats["kendall_tau"], stats["spearman_rho"]
    corr = "" if tau is None else f"  tau={tau:.3f} rho={rho:.3f}"
    ax.set_title(f"{title} (n={len(rows)}){corr}", fontsize=9)
    ax.set_xlabel("NASWOT score  log|K_H|")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(args: argparse.Namespace) -> Dict[str, Any]:
    """The whole study; returns the summary written to ``nds_summary.json``."""
    t0 = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = settings_of(args)
    check_settings(out, settings)
    benches = open_files([*args.file, *args.dir])
    skipped = [str(b.path) for b in benches if "cifar10" not in b.datasets]
    benches = [b for b in benches if "cifar10" in b.datasets]
    if not benches:
        raise NwotError(f"no CIFAR-10 NDS files among the inputs (ImageNet files skipped: {skipped})")
    names = [b.path.name for b in benches]
    if len(set(names)) != len(names):
        raise NwotError(f"two inputs share a file name ({names}); the work file keys rows by file name")
    images = scoring_batch("cifar10", args.batch_size, seed=args.batch_seed, data_dir=args.data_dir)
    work_path = out / WORK_FILE
    done = read_work(work_path)
    files: Dict[str, Any] = {}
    n_new = 0
    for b in benches:
        idx = select_indices(len(b), args.n, args.sample_seed)
        n_new += score_file(b, idx, images, args, work_path, done)
        rows = [done[(b.path.name, i)] for i in idx]
        stats = summarise(rows)
        stats.update(path=str(b.path), space=b.design_space, variant=b.variant, records=len(b))
        plot = out / f"nds_{Path(b.path.name).stem.replace('.json', '')}.png"
        scatter(rows, stats, b.path.name, plot)
        stats["plot"] = plot.name
        files[b.path.name] = stats
    summary = {
        "study": "NASWOT score vs final test accuracy on NDS CIFAR-10 design spaces (Mellor et al., ICML 2021)",
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else None,
        "settings": settings, "n": args.n, "sample_seed": args.sample_seed, "files": files,
        "skipped_imagenet_files": skipped, "newly_scored": n_new, "seconds": round(time.time() - t0, 2),
        "git_commit": git_state()["commit"], "machine": platform.platform(), "torch": torch.__version__,
    }
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, allow_nan=True) + "\n")
    return summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    summary = run(args)
    for name, s in summary["files"].items():
        tau = "-" if s["kendall_tau"] is None else f"{s['kendall_tau']:.3f}"
        rho = "-" if s["spearman_rho"] is None else f"{s['spearman_rho']:.3f}"
        print(f"{name:<24} n={s['n']:>5}  finite={s['n_finite']:>5}  kendall={tau}  spearman={rho}")
    for path in summary["skipped_imagenet_files"]:
        print(f"skipped (ImageNet, not scored): {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
