"""NASWOT search on NAS-Bench-201 CIFAR-10 (Mellor et al., ICML 2021, Table 2), replayed from stored scores.

Per run, N cells are drawn uniformly with replacement from the scored cells and the highest score is
kept (``nwot.study.replay.simulate_search``); 500 runs per N. Beside it: the best-of-N oracle (the highest
test accuracy among the N drawn cells) and a random pick, and the paper's numbers. Accuracy is
``cifar10/ori-test@200`` (NB201's CIFAR-10 test accuracy, seed mean). When the full space is not scored
yet, cells are drawn from the stored ones only and the output says so.

The real cost of a run is measured separately by scoring from scratch with ``nwot.naswot_search``
(N = 10 and 100, a few runs; ``--live-runs 0 0`` skips it, ``--keep-live`` reuses the saved timing).
Writes ``nb201_search_table.{json,md}`` and ``nb201_search_vs_n.png`` to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

from _common import CLEAN_EXPORT, RESULTS, STORE

from nwot.study.cells import NB201_CELLS
from nwot.study.paper import PAPER_SEARCH_C10
from nwot.study.provenance import command_line
from nwot.study.replay import search_curve
from nwot.study.scores import load_scores, load_store_scores
from nwot.study.tables import search_table_markdown

ACCURACY = "cifar10/ori-test@200"
TABLE_N = (10, 100, 1000)
CURVE_N = (1, 3, 10, 30, 100, 300, 1000)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--source", default="store", choices=("store", "exports"), help="store (default) or exports")
    p.add_argument("--store", default=str(STORE))
    p.add_argument("--runs", type=int, default=500, help="search runs per N (default: 500)")
    p.add_argument("--seed", type=int, default=0, help="seed of the replayed searches (default: 0)")
    p.add_argument("--live-runs", type=int, nargs=2, default=(3, 2), metavar=("RUNS_N10", "RUNS_N100"),
                   help="runs of the from-scratch timing for N=10 and N=100 (default: 3 2; 0 0 skips)")
    p.add_argument("--keep-live", action="store_true",
                   help="reuse the live timing of the existing nb201_search_table.json instead of re-measuring")
    p.add_argument("--threads", type=int, default=1, help="torch threads of the live runs (default: 1)")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def live_timing(n: int, runs: int) -> dict:
    """Wall seconds of real NASWOT runs (sample N cells, build and score each on one CPU batch)."""
    from nwot.api import naswot_search

    load_start = os.getloadavg()[0]
    t0 = time.perf_counter()
    df = naswot_search(n=n, runs=runs, seed=0, device="cpu").to_frame()
    wall = time.perf_counter() - t0
    return {"n": n, "runs": runs, "wall_seconds_per_run": wall / runs,
            "load_avg_1min": [load_start, os.getloadavg()[0]],
            "scoring_seconds_per_run": float(df["used_time"].mean()),
            "test_accuracy": [float(x) for x in df["test_accuracy"]]}


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    import nwot.study.plots as plots
    from nwot.adapters.embedded import load_nb201_table

    torch.set_num_threads(args.threads)
    scores = (load_store_scores(args.store) if args.source == "store" else load_scores(CLEAN_EXPORT))["score"]
    if len(scores) == 0:
        print("nb201_search_table: no clean CIFAR-10 scores stored yet; run benchmarks/score_nb201.py",
              file=sys.stderr)
        return 2
    acc = load_nb201_table()[ACCURACY].loc[scores.index]
    curve = search_curve(scores.to_numpy(), acc.to_numpy(), set(CURVE_N) | set(TABLE_N), args.runs, args.seed)
    res = {"command": command_line(__file__, argv), "cells": int(len(scores)),
           "complete": bool(len(scores) == NB201_CELLS), "accuracy": ACCURACY, "runs": args.runs, "seed": args.seed,
           "table": [asdict(curve[n]) for n in TABLE_N], "curve": [asdict(curve[n]) for n in sorted(curve)],
           "paper": {str(k): v for k, v in PAPER_SEARCH_C10.items()}}
    out = Path(args.out)
    previous = out / "nb201_search_table.json"
    if args.keep_live and previous.is_file():
        res["live"] = json.loads(previous.read_text()).get("live", [])
    else:
        res["live"] = [live_timing(n, runs) for n, runs in zip((10, 100), args.live_runs) if runs > 0]
    (out / "nb201_search_table.json").write_text(json.dumps(res, indent=2) + "\n")
    md = search_table_markdown(res)
    (out / "nb201_search_table.md").write_text(md)
    fig, ax = plots.figure(figsize=(5, 3.5))
    plots.search_curve(ax, res["curve"], paper=PAPER_SEARCH_C10,
                       title=f"NASWOT search, NB201 CIFAR-10 ({res['cells']} scored cells, {args.runs} runs)")
    plots.save(fig, out / "nb201_search_vs_n.png")
    if not args.quiet:
        print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
