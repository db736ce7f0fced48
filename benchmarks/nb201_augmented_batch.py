"""Does the released code's training augmentation change NASWOT's correlation on NAS-Bench-201?

The NASWOT authors' released code scores each network on a minibatch drawn from the CIFAR-10 *training
loader*, i.e. after its augmentation (4-pixel zero-padded random crop and random horizontal flip); nwot
scores un-augmented images (``nwot.data.datasets.scoring_batch``). This script scores the same seeded random cells
on an augmented version of the same 128 images (``torch_seed`` init 0, clean mode) and compares the
Kendall tau / Spearman rho of both score sets with the 200-epoch accuracies, beside the tau of other
un-augmented batches from the sensitivity study when they are stored (``--source store``: the score
store; ``--source exports``: the committed exports and sensitivity file).

Augmentation (:func:`nwot.study.augmentation.augment`): per image, pad 4 pixels on each side of the
*normalised* image (``--pad-value black``: torchvision's ``RandomCrop(32, padding=4)`` pads the PIL image
with black, which normalises to ``-mean/std``; ``zero``: 0), take a random 32x32 crop, flip horizontally
with probability 0.5; drawn from ``numpy.random.default_rng(--aug-seed)``.

    python benchmarks/nb201_augmented_batch.py --cells 500
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from _common import RESULTS, STORE

from nwot.study.augmentation import PAD_VALUES, augment, score_cells
from nwot.study.correlation import rank_correlation
from nwot.study.provenance import command_line, git_state, machine
from nwot.study.tables import augmented_markdown

__all__ = ["augment", "main"]
ACCS = ("cifar10/ori-test@200", "cifar10-valid/ori-test@200")


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", type=int, default=500, help="seeded random NB201 cells (the sensitivity set)")
    p.add_argument("--aug-seed", type=int, default=0)
    p.add_argument("--pad-value", choices=PAD_VALUES, default="black")
    p.add_argument("--source", default="store", choices=("store", "exports"),
                   help="where the un-augmented scores of the same cells (batch seeds 0..4) are read")
    p.add_argument("--store", default=str(STORE), help="score store of --source store")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    import torch

    from nwot.adapters.embedded import load_nb201_table
    from nwot.data.datasets import scoring_batch
    from nwot.study.cells import random_cells
    from nwot.study.scores import StoredScores

    torch.set_num_threads(1)
    t0 = time.time()
    table = load_nb201_table()
    cells = random_cells(args.cells, seed=0)
    xa = augment(scoring_batch("cifar10", 128, seed=0), args.aug_seed, args.pad_value)
    aug = score_cells(cells, xa, table, progress=not args.quiet)
    rows = [{"batch": f"augmented (batch seed 0, aug seed {args.aug_seed}, pad {args.pad_value})", "scores": aug}]
    stored = StoredScores(args.source, "cifar10", Path(args.store), RESULTS)
    for bs in range(5):
        got = stored.get(batch_seed=bs)
        if set(cells) <= set(got.index):
            rows.append({"batch": f"un-augmented, batch seed {bs}", "scores": got.loc[cells].to_numpy()})
    out = []
    for r in rows:
        rec = {"batch": r["batch"], "cells": len(cells)}
        for acc in ACCS:
            c = rank_correlation(r["scores"], table[acc].iloc[cells].to_numpy())
            rec[acc] = {"kendall_tau": c.kendall_tau, "spearman_rho": c.spearman_rho, "n": c.n}
        out.append(rec)
    base = next((r["scores"] for r in rows if r["batch"] == "un-augmented, batch seed 0"), None)
    agree = None if base is None else rank_correlation(aug, base)
    res = {"command": command_line(__file__, argv), "git": git_state(), "machine": machine("cpu", 1),
           "wall_seconds": time.time() - t0, "rows": out,
           "augmented_vs_plain_seed0": None if agree is None else {"kendall_tau": agree.kendall_tau,
                                                                    "spearman_rho": agree.spearman_rho}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "nb201_augmented_batch.json").write_text(json.dumps(res, indent=1))
    md = augmented_markdown(res, ACCS)
    (args.out / "nb201_augmented_batch.md").write_text(md)
    print(md, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
