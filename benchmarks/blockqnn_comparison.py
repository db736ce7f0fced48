"""BlockQNN (Zhong et al., CVPR 2018): Q-learning vs random search in the same block space with real training
(Fig. 8), and the early-stop reward correction ``ACC - mu log(FLOPs) - rho log(Density)`` on NB201 (12-epoch vs
200-epoch accuracy, fitted mu and rho). Logic: :mod:`nwot.study.blockqnn_compare`.

    python benchmarks/blockqnn_comparison.py --part table   # NB201 rank correlations + fit, about 1-2 min
    python benchmarks/blockqnn_comparison.py --part train   # cpu preset: 3 seeds x 80 trained blocks
    python benchmarks/blockqnn_comparison.py --part report
    python benchmarks/blockqnn_comparison.py --part train --preset gpu --data-dir /data/cifar-10-batches-py

Writes ``benchmarks/results/blockqnn_reward_nb201.json``, ``blockqnn_blocks_<preset>_runs.jsonl`` (resumable),
``blockqnn_comparison.{md,json,png}``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

RESULTS = REPO / "benchmarks" / "results"


def parse_args(argv=None):
    from nwot.study.trained_comparison import add_train_args

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--part", choices=("table", "train", "report", "all"), default="all")
    p.add_argument("--split-seed", type=int, default=0, help="table: seed of the fit / held-out split")
    p.add_argument("--grid-step", type=float, default=None, help="table: step of the mu / rho grid (default 0.0025)")
    add_train_args(p, RESULTS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from nwot.study import blockqnn_report
    from nwot.study.trained_comparison import train_kwargs

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if args.part in ("table", "all"):
        blockqnn_report.table_part(out, split_seed=args.split_seed, script=__file__, argv=argv,
                                   grid_step=args.grid_step)
    if args.part in ("train", "all"):
        blockqnn_report.train_part(out, args.preset, **train_kwargs(args))
    print(blockqnn_report.report(out, args.preset, script=__file__, argv=argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
