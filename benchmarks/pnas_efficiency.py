"""PNAS sample efficiency vs REINFORCE (Liu et al., ECCV 2018: "up to 5x fewer models than NAS-RL"): models
evaluated until the best-so-far reaches a target, on the NB201 table and on the PNAS cell space with real
training. Logic: :mod:`nwot.study.pnas_efficiency`.

    python benchmarks/pnas_efficiency.py --part table     # 100 seeds: PNAS (K = 32, 64), REINFORCE, random
    python benchmarks/pnas_efficiency.py --part train     # cpu preset: 3 seeds x 40 trained models
    python benchmarks/pnas_efficiency.py --part report
    python benchmarks/pnas_efficiency.py --part train --preset gpu --data-dir /data/cifar-10-batches-py

Writes ``benchmarks/results/pnas_efficiency_nb201_traces.csv.xz``, ``pnas_efficiency_pnas_<preset>_runs.jsonl``
(resumable), ``pnas_efficiency.{md,json,png}``.
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
    p.add_argument("--runs", type=int, default=100, help="table: seeds per strategy")
    p.add_argument("--budget", type=int, default=None, help="table: models per REINFORCE / random run (default 1500)")
    p.add_argument("--beams", type=int, nargs="+", default=None, help="table: PNAS beam sizes (default 32 64)")
    add_train_args(p, RESULTS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from nwot.study import pnas_report
    from nwot.study.trained_comparison import train_kwargs

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if args.part in ("table", "all"):
        pnas_report.table_part(out, runs=args.runs, budget=args.budget, beams=args.beams, script=__file__, argv=argv)
    if args.part in ("train", "all"):
        pnas_report.train_part(out, args.preset, **train_kwargs(args))
    print(pnas_report.report(out, args.preset, script=__file__, argv=argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
