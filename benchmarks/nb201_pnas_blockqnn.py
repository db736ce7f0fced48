"""PNAS and BlockQNN against REA and random search on NAS-Bench-201 (CIFAR-10), table evaluator.

Protocol (NAS-Bench-201 §5, as :mod:`nwot.search.run`): search signal = ``cifar10-valid`` x-valid
accuracy after the 12-epoch schedule (seed mean, embedded table), each query charged its simulated
12-epoch seconds, budget 12,000 s; the best-by-signal cell is reported by its 200-epoch test accuracy
(seed mean) on CIFAR-10 (ori-test), CIFAR-100 and ImageNet16-120 (x-test). Run r uses seed r.

Strategies (``--variants``; options in :data:`nwot.study.pnas_blockqnn.VARIANTS`):

* ``pnas``: PNAS grown one non-``none`` edge at a time (``nwot.search.progressive``), beam K = 16,
  LSTM ensemble surrogate with the paper's sizes (embedding = hidden = 100, 5 members, L1 loss),
  refit from scratch after every beam with 50 Adam epochs (ours); after level 6 it continues with the
  next K best predicted level-6 cells;
* ``pnas-mlp``: the same with the MLP surrogate;
* ``blockqnn``: 6 edge decisions, tabular Q-learning (alpha = 0.01, gamma = 1, spread reward shaping,
  replay 64 per iteration), 8 cells per iteration, the paper's epsilon schedule shrunk to 14
  iterations (about the ~115 cells 12,000 s buy), no FLOPs/density correction (the table has no FLOPs);
* ``rea`` (P = 10, S = 3) and ``random``: the same runner, for the common table.

Writes ``nb201_pnas_blockqnn.{json,md}`` (summary, command, commit, machine),
``nb201_pnas_blockqnn_runs.csv`` (one row per run: best cell, signal, evaluations, test accuracies) and
``nb201_pnas_blockqnn_traces.csv.xz`` (every evaluation of every run).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _common import RESULTS, WORK

from nwot.study.pnas_blockqnn import SUMMARY_KEYS, VARIANTS, read_progress, run_variant
from nwot.study.provenance import command_line, git_label, machine
from nwot.study.search_tables import mean_std_summary
from nwot.study.tables import pnas_blockqnn_markdown

BUDGET = 12_000.0


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=100, help="search runs per strategy (default: 100)")
    p.add_argument("--seed", type=int, default=0, help="first seed (run r uses seed + r)")
    p.add_argument("--budget", type=float, default=BUDGET, help="simulated seconds per run (default: 12000)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--progress", default=str(WORK / "nb201_pnas_blockqnn_progress.jsonl"),
                   help="one JSON line per finished run; a rerun skips them (resume)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import pandas as pd
    import torch
    from tqdm import tqdm

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    progress = Path(args.progress)
    progress.parent.mkdir(parents=True, exist_ok=True)
    done = read_progress(progress, args.budget)  # resume: finished runs (same variant, seed, budget) are kept
    rows, traces, summary, variants = [], [], {}, {}
    md = ""
    for name in args.variants:
        strategy, kwargs = VARIANTS[name]
        variants[name] = {"strategy": strategy, **kwargs}
        vrows = []
        for r in tqdm(range(args.runs), desc=name):
            rec = done.get((name, args.seed + r))
            if rec is None:
                rec = run_variant(name, args.seed + r, args.budget)
                with progress.open("a") as f:
                    f.write(json.dumps(rec) + "\n")
            vrows.append(rec["row"])
            traces.append(pd.DataFrame(rec["trace"]))
        rows += vrows
        summary[name] = mean_std_summary(vrows, SUMMARY_KEYS)
        pd.DataFrame(rows).to_csv(out / "nb201_pnas_blockqnn_runs.csv", index=False)
        pd.concat(traces).to_csv(out / "nb201_pnas_blockqnn_traces.csv.xz", index=False)
        res = {"command": command_line(__file__, argv), "commit": git_label(), "machine": machine(),
               "budget": args.budget, "runs": args.runs, "seed": args.seed, "variants": variants, "summary": summary}
        (out / "nb201_pnas_blockqnn.json").write_text(json.dumps(res, indent=2) + "\n")
        md = pnas_blockqnn_markdown(res)
        (out / "nb201_pnas_blockqnn.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
