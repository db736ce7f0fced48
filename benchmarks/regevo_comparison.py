"""Regularized evolution vs REINFORCE vs random search (Real et al., AAAI 2019, Fig. 3), on the NB201 table and
on the open NASNet / AmoebaNet cell space with real training. Logic: :mod:`nwot.study.regevo`.

    python benchmarks/regevo_comparison.py --part table            # 100 seeds x 1,000 models, about 2 min
    python benchmarks/regevo_comparison.py --part train            # cpu preset: 3 seeds x 24 trained models
    python benchmarks/regevo_comparison.py --part report           # tables, JSON and figure from saved results
    python benchmarks/regevo_comparison.py --part train --preset gpu --data-dir /data/cifar-10-batches-py

Writes ``benchmarks/results/regevo_nb201_traces.csv.xz`` (every evaluation), ``regevo_nasnet_<preset>_runs.jsonl``
(one finished run per line: rerunning resumes), ``regevo_comparison.{md,json}`` and ``regevo_comparison.png``.
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
    p.add_argument("--evaluations", type=int, default=1000, help="table: models per run")
    add_train_args(p, RESULTS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from nwot.study import regevo_report
    from nwot.study.trained_comparison import train_kwargs

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if args.part in ("table", "all"):
        regevo_report.table_part(out, runs=args.runs, evaluations=args.evaluations, script=__file__, argv=argv)
    if args.part in ("train", "all"):
        regevo_report.train_part(out, args.preset, **train_kwargs(args))
    print(regevo_report.report(out, args.preset, script=__file__, argv=argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
