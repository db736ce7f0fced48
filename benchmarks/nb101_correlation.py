"""NASWOT on NAS-Bench-101: score NASLib's 500 real CIFAR-10 cells and correlate with validation accuracy.

Mellor et al., ICML 2021, §4 (NAS-Bench-101 panel of Fig. 3 / Table 1): the score of each untrained
cell network (one CIFAR-10 batch of 128 training images) against its trained accuracy. Ground truth
and the other zero-cost proxies come from NASLib's ``zc_nasbench101.json`` (shared data MANIFEST §3):
``val_accuracy`` = one randomly drawn 108-epoch repeat, ``params``/``flops`` of the stem-128 network.

For every stem width (``--stems``; the NASWOT paper scored stem 16, the benchmark trained 128) each row
is scored by ``nwot.scores.scorer.Scorer`` on the nb101 space (``scoring_batch("cifar10", 128, seed=0)``,
init ``torch_seed(init_seed)``). Rows whose pruned spec equals an already scored one reuse that score
(same network, same weights, same batch: the same number; ``--no-reuse`` recomputes). Each score is
appended to the work CSV as soon as it is computed; a restart skips everything already there. The study
is :mod:`nwot.study.nb101`; correlations follow the one rule of :mod:`nwot.study.correlation`.

Outputs (``--out``, default ``benchmarks/results``): ``nb101_correlation_scores.csv`` (the work file,
long format), ``nb101_correlation.csv`` (one row per cell), ``nb101_correlation.json`` (Spearman /
Kendall of every proxy vs ``val_accuracy``, command, git commit, machine, timing) and
``nb101_correlation.png`` (scatter plots).

    python benchmarks/nb101_correlation.py                    # stems 16 then 128
    python benchmarks/nb101_correlation.py --stems 16 --limit 20
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from _common import RESULTS

from nwot.study import nb101
from nwot.study.plots import score_scatters
from nwot.study.provenance import command_line, git_state, machine


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
    p.add_argument("--out", default=str(RESULTS))
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from nwot.adapters.nb101.benchmark import ZERO_COST_PROXIES, NASLib500
    from nwot.scores.scorer import ScoreConfig, Scorer
    from nwot.spaces.base import get_space

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work_path = out / "nb101_correlation_scores.csv"
    bench = NASLib500(args.naslib_file)
    rows = nb101.list_rows(len(bench), args.limit)
    cfg = ScoreConfig(batch_size=args.batch_size, batch_seed=args.batch_seed, init_seed=args.init_seed,
                      compat=args.compat, device="cpu")
    done = nb101.read_work(work_path)
    start = time.time()
    scorer = None
    for stem in args.stems:
        scorer = Scorer(get_space("nb101"), cfg, images=None if scorer is None else scorer.images,
                        build_kwargs={"stem_channels": stem})
        nb101.score_rows(bench, rows, stem, scorer, work_path, done, reuse=not args.no_reuse)
    wall = time.time() - start

    acc = np.array([bench.records[i]["val_accuracy"] for i in rows])
    table = nb101.score_columns(bench, rows, args.stems, done, ZERO_COST_PROXIES + ("params", "flops"))
    corr, corr_unique, n_unique = nb101.correlation_tables(table, acc, [bench.hashes[i] for i in rows])
    nb101.write_table(out / "nb101_correlation.csv", bench, rows, acc, table)
    summary = {
        "what": "NASWOT (nwot.proxies.naswot.naswot_score) and NASLib's zero-cost proxies vs NAS-Bench-101 "
                "val_accuracy (108 epochs, one repeat) on NASLib's 500 CIFAR-10 cells",
        "data": str(bench.path), "rows": len(rows), "unique_cells": n_unique,
        "score_config": {"stems": args.stems, "batch_size": args.batch_size, "batch_seed": args.batch_seed,
                         "init_seed": args.init_seed, "init": "naswot", "compat": args.compat,
                         "images": "nwot.data.datasets.scoring_batch('cifar10') (embedded CIFAR-10 sample unless "
                                   "$NWOT_DATA_DIR is set)", "reuse_identical_pruned_specs": not args.no_reuse},
        "correlation_vs_val_accuracy": corr,
        "correlation_unique_cells": corr_unique,
        "timing": nb101.timing(done, args.stems, rows), "wall_seconds_this_run": wall,
        "command": command_line(__file__, argv),
        "git_commit": git_state()["commit"] or "unknown",
        "machine": {**machine("cpu", args.threads), "data_dir": os.environ.get("NWOT_DATA_DIR")},
    }
    with open(out / "nb101_correlation.json", "w") as f:
        json.dump(summary, f, indent=2)
    score_scatters(out / "nb101_correlation.png", acc,
                   [(f"NB101 (NASLib 500), stem {s}: Spearman {corr[f'naswot_stem{s}']['spearman']:.3f}, "
                     f"Kendall {corr[f'naswot_stem{s}']['kendall']:.3f}", table[f"naswot_stem{s}"])
                    for s in args.stems],
                   xlabel="NASWOT score log|K_H|", ylabel="validation accuracy (%), 108 epochs")
    for name, c in corr.items():
        print(f"{name:>16s}  spearman {c['spearman']:+.3f}  kendall {c['kendall']:+.3f}  (n={c['n']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
