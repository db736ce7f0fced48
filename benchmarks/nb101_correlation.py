"""NASWOT on NAS-Bench-101: score NASLib's 500 real CIFAR-10 cells and correlate with validation accuracy.

Mellor et al., ICML 2021, §4 (NAS-Bench-101 panel of Fig. 3 / Table 1): the score of each untrained
cell network (one CIFAR-10 batch of 128 training images) against its trained accuracy. Ground truth
and the other zero-cost proxies come from NASLib's ``zc_nasbench101.json`` (shared data MANIFEST §3):
``val_accuracy`` = one randomly drawn 108-epoch repeat, ``params``/``flops`` of the stem-128 network.

For every stem width (``--stems``; the NASWOT paper scored stem 16, the benchmark trained 128) each row
is scored with ``nwot.proxies.naswot.naswot_score`` on ``nwot.data.datasets.scoring_batch("cifar10", 128, seed=0)``, the
network built by ``nwot.spaces.nb101.model.build_nb101`` under ``torch_seed(init_seed)``. Rows whose pruned
spec equals an already scored one reuse that score (same network, same weights, same batch: the
same number; ``--no-reuse`` recomputes). Each score is appended to the work CSV as soon as it is
computed; a restart skips everything already there.

Outputs (``--out``, default ``benchmarks/results``): ``nb101_correlation_scores.csv`` (the work file,
long format), ``nb101_correlation.csv`` (one row per cell), ``nb101_correlation.json`` (Spearman /
Kendall of every proxy vs ``val_accuracy``, command, git commit, machine, timing) and
``nb101_correlation.png`` (scatter plots).

    python benchmarks/nb101_correlation.py                    # stems 16 then 128
    python benchmarks/nb101_correlation.py --stems 16 --limit 20
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
from scipy import stats
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from nwot.study.provenance import git_state  # noqa: E402

from nwot.adapters.nb101.benchmark import ZERO_COST_PROXIES, NASLib500  # noqa: E402
from nwot.data.datasets import scoring_batch  # noqa: E402
from nwot.spaces.nb101.model import build_nb101  # noqa: E402
from nwot.proxies.naswot import naswot_score  # noqa: E402
from nwot.seeding import torch_seed
from nwot.spaces.nb101.codec import encode_spec, prune  # noqa: E402

WORK_FIELDS = ("stem", "row", "hash", "pruned_spec", "score", "seconds", "computed")
OTHER_PROXIES = ZERO_COST_PROXIES + ("params", "flops")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stems", type=int, nargs="+", default=[16, 128], help="stem widths to score, in order")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--batch-seed", type=int, default=0)
    p.add_argument("--init-seed", type=int, default=0)
    p.add_argument("--compat", default="clean", choices=("clean", "reference"))
    p.add_argument("--limit", type=int, default=None, help="score only the first N rows (smoke test)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1: leave cores free)")
    p.add_argument("--no-reuse", action="store_true", help="recompute rows whose pruned spec was already scored")
    p.add_argument("--naslib-file", default=None, help="default: shared data nb101/naslib/...subset500.json.xz")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    return p.parse_args(argv)


def read_work(path: Path) -> Dict[Tuple[int, int], dict]:
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {(int(r["stem"]), int(r["row"])): r for r in csv.DictReader(f)}


def score_rows(bench: NASLib500, rows: List[int], stem: int, args, images: torch.Tensor, work_path: Path,
               done: Dict[Tuple[int, int], dict]) -> None:
    """Score ``rows`` at one stem width, appending each result to the work CSV immediately."""
    by_spec = {r["pruned_spec"]: r for (s, _), r in done.items() if s == stem and r["computed"] == "1"}
    todo = [i for i in rows if (stem, i) not in done]
    new_file = not work_path.is_file()
    with open(work_path, "a", newline="") as f:
        w = csv.DictWriter(f, WORK_FIELDS)
        if new_file:
            w.writeheader()
        for i in tqdm(todo, desc=f"NASWOT stem {stem}", unit="cell"):
            pruned = encode_spec(prune(bench.specs[i]))
            prev = None if args.no_reuse else by_spec.get(pruned)
            if prev is not None:
                rec = dict(prev, row=i, hash=bench.hashes[i], seconds=0.0, computed=0)
            else:
                t0 = time.perf_counter()
                with torch_seed(args.init_seed):
                    model = build_nb101(bench.specs[i], num_classes=1 if args.compat == "reference" else 10,
                                        stem_channels=stem)
                score = naswot_score(model, images, compat=args.compat)
                rec = {"stem": stem, "row": i, "hash": bench.hashes[i], "pruned_spec": pruned, "score": repr(score),
                       "seconds": round(time.perf_counter() - t0, 4), "computed": 1}
                by_spec[pruned] = {k: str(v) for k, v in rec.items()}
            w.writerow(rec)
            f.flush()
            done[(stem, i)] = {k: str(v) for k, v in rec.items()}


def correlations(x: np.ndarray, y: np.ndarray) -> dict:
    ok = np.isfinite(x) & np.isfinite(y)
    rho = stats.spearmanr(x[ok], y[ok]).statistic
    tau = stats.kendalltau(x[ok], y[ok]).statistic
    return {"spearman": float(rho), "kendall": float(tau), "n": int(ok.sum())}


def plot(path: Path, acc: np.ndarray, scores: Dict[int, np.ndarray], corr: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(scores), figsize=(5 * len(scores), 4), squeeze=False)
    for ax, (stem, s) in zip(axes[0], scores.items()):
        ok = np.isfinite(s)
        ax.scatter(s[ok], acc[ok], s=8, alpha=0.6)
        c = corr[f"naswot_stem{stem}"]
        ax.set_title(f"NB101 (NASLib 500), stem {stem}: Spearman {c['spearman']:.3f}, Kendall {c['kendall']:.3f}",
                     fontsize=9)
        ax.set_xlabel("NASWOT score log|K_H|")
        ax.set_ylabel("validation accuracy (%), 108 epochs")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work_path = out / "nb101_correlation_scores.csv"
    bench = NASLib500(args.naslib_file)
    rows = list(range(len(bench) if args.limit is None else min(args.limit, len(bench))))
    images = scoring_batch("cifar10", args.batch_size, args.batch_seed)
    done = read_work(work_path)
    start = time.time()
    for stem in args.stems:
        score_rows(bench, rows, stem, args, images, work_path, done)
    wall = time.time() - start

    acc = np.array([bench.records[i]["val_accuracy"] for i in rows])
    table = {f"naswot_stem{stem}": np.array([float(done[(stem, i)]["score"]) for i in rows]) for stem in args.stems}
    table.update({k: np.array([bench.records[i][k] for i in rows], dtype=float) for k in OTHER_PROXIES})
    corr = {name: correlations(v, acc) for name, v in table.items()}
    # unique cells: one row per graph hash, accuracy and scores averaged over its rows
    hashes = sorted({bench.hashes[i] for i in rows})
    members = {h: [k for k, i in enumerate(rows) if bench.hashes[i] == h] for h in hashes}
    acc_u = np.array([acc[members[h]].mean() for h in hashes])
    corr_unique = {name: correlations(np.array([v[members[h]].mean() for h in hashes]), acc_u)
                   for name, v in table.items()}

    timing = {}
    for stem in args.stems:
        secs = [float(done[(stem, i)]["seconds"]) for i in rows if done[(stem, i)]["computed"] == "1"]
        timing[f"stem{stem}"] = {"computed": len(secs), "reused": len(rows) - len(secs),
                                 "seconds_per_score_mean": float(np.mean(secs)) if secs else None,
                                 "seconds_per_score_median": float(np.median(secs)) if secs else None,
                                 "seconds_total": float(np.sum(secs))}
    with open(out / "nb101_correlation.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row", "spec", "hash", "val_accuracy"] + list(table))
        for k, i in enumerate(rows):
            w.writerow([i, bench.arch(i), bench.hashes[i], acc[k]] + [repr(float(v[k])) for v in table.values()])
    summary = {
        "what": "NASWOT (nwot.proxies.naswot.naswot_score) and NASLib's zero-cost proxies vs NAS-Bench-101 val_accuracy "
                "(108 epochs, one repeat) on NASLib's 500 CIFAR-10 cells",
        "data": str(bench.path), "rows": len(rows), "unique_cells": len(hashes),
        "score_config": {"stems": args.stems, "batch_size": args.batch_size, "batch_seed": args.batch_seed,
                         "init_seed": args.init_seed, "init": "naswot", "compat": args.compat,
                         "images": "nwot.data.datasets.scoring_batch('cifar10') (embedded CIFAR-10 sample unless "
                                   "$NWOT_DATA_DIR is set)", "reuse_identical_pruned_specs": not args.no_reuse},
        "correlation_vs_val_accuracy": corr,
        "correlation_unique_cells": corr_unique,
        "timing": timing, "wall_seconds_this_run": wall,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "git_commit": git_state()["commit"] or "unknown",
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpu_count": os.cpu_count(),
                    "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                    "data_dir": os.environ.get("NWOT_DATA_DIR")},
    }
    with open(out / "nb101_correlation.json", "w") as f:
        json.dump(summary, f, indent=2)
    plot(out / "nb101_correlation.png", acc, {s: table[f"naswot_stem{s}"] for s in args.stems}, corr)
    for name, c in corr.items():
        print(f"{name:>16s}  spearman {c['spearman']:+.3f}  kendall {c['kendall']:+.3f}  (n={c['n']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
