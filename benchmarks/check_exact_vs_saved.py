"""Re-score NB201 cells whose scores an earlier nwot version saved, and require bit-identical floats.

Used to check that the speed-ups of the scorer (int8 Gram products, cheap checks, shifted-add pooling,
allocator tuning) change no score: the saved values come from the scorer before them. Sources: a
score file (``index,arch,score,seconds``) or the SQLite score store of a scoring job, optionally only rows
created before a time (when the job ran the earlier code)::

    python benchmarks/check_exact_vs_saved.py --csv benchmarks/results/nb201_cifar10_naswot_clean_seed0.csv.xz
    python benchmarks/check_exact_vs_saved.py --store benchmarks/results/work/nb201_scores.sqlite \\
        --created-before "2026-11-26 07:58" --sample 200
"""
from __future__ import annotations

import argparse
import random
import sys
import time


def saved_rows(args, cfg) -> list:
    """(arch, score) pairs of ``cfg``'s key (batch 128, batch seed 0, init seed 0, clean mode)."""
    if args.csv:
        from nwot.scores.files import read_scores

        df = read_scores(args.csv)
        return list(zip(df["arch"], df["score"]))
    from nwot.scores.scorer import store_key
    from nwot.scores.store import ScoreStore

    with ScoreStore(args.store) as store:
        df = store.to_frame(store_key("nb201", cfg))
    if args.created_before:
        df = df[df["created"] < time.mktime(time.strptime(args.created_before, "%Y-%m-%d %H:%M"))]
    return list(zip(df["arch"], df["value"]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--csv", help="score file with arch and score columns")
    src.add_argument("--store", help="SQLite score store")
    p.add_argument("--created-before", default=None, help="store rows created before 'YYYY-MM-DD HH:MM' (local)")
    p.add_argument("--sample", type=int, default=None, help="check this many rows, drawn by random.Random(0)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    import torch

    from nwot.scores.scorer import ScoreConfig, Scorer
    from nwot.spaces.base import get_space

    torch.set_num_threads(args.threads)
    cfg = ScoreConfig(batch_size=128, batch_seed=0, init_seed=0, device="cpu")
    rows = saved_rows(args, cfg)
    if args.sample is not None and args.sample < len(rows):
        rows = random.Random(0).sample(rows, args.sample)
    sp = get_space("nb201")
    scorer = Scorer(sp, cfg)
    bad = 0
    for arch, value in rows:
        s = scorer.score(sp.decode(arch))
        if s != value:
            bad += 1
            print(f"DIFFERENT {arch}: now {s!r}, saved {value!r}")
    pools = sum("avg_pool_3x3" in a for a, _ in rows)
    singular = sum(v == float("-inf") for _, v in rows)
    print(f"{len(rows)} cells ({pools} with avg_pool_3x3 edges, {singular} singular): {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
