"""Does the released code's training augmentation change NASWOT's correlation on NAS-Bench-201?

The NASWOT authors' released code scores each network on a minibatch drawn from the CIFAR-10 *training
loader*, i.e. after its augmentation (4-pixel zero-padded random crop and random horizontal flip); nwot
scores un-augmented images (``nwot.data.datasets.scoring_batch``). This script scores the same seeded random cells
on an augmented version of the same 128 images (``torch_seed`` init 0, clean mode) and compares the
Kendall tau / Spearman rho of both score sets with the 200-epoch accuracies, beside the tau of other
un-augmented batches from the sensitivity study when the store holds them.

Augmentation: per image, pad 4 zero pixels on each side of the *normalised* image (torchvision's
``RandomCrop(32, padding=4)`` pads the PIL image with black, which normalises to ``-mean/std``; both
are reported as ``--pad-value``), take a random 32x32 crop, flip horizontally with probability 0.5;
drawn from ``numpy.random.default_rng(--aug-seed)``.

    python benchmarks/nb201_augmented_batch.py --cells 500
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

import numpy as np  # noqa: E402
import torch  # noqa: E402

from nwot.study.provenance import command_line, git_state, machine  # noqa: E402

ACCS = ("cifar10/ori-test@200", "cifar10-valid/ori-test@200")


def augment(images: torch.Tensor, seed: int, pad_value: str = "black") -> torch.Tensor:
    """Random 4-pixel-padded crop + horizontal flip of a normalised (B, 3, H, W) batch (see module docstring)."""
    from nwot.data.datasets import NORMALISATION

    rng = np.random.default_rng(seed)
    b, c, h, w = images.shape
    if pad_value == "black":  # a black pixel after normalisation: (0 - mean) / std per channel
        norm = NORMALISATION["cifar10"]
        fill = -(torch.tensor(norm.mean, dtype=images.dtype) / torch.tensor(norm.std, dtype=images.dtype))
        fill = fill.view(1, c, 1, 1)
    else:
        fill = torch.zeros(1, c, 1, 1, dtype=images.dtype)
    padded = fill.expand(b, c, h + 8, w + 8).clone()
    padded[:, :, 4:4 + h, 4:4 + w] = images
    out = torch.empty_like(images)
    for i in range(b):
        y, x = rng.integers(0, 9, size=2)
        crop = padded[i, :, y:y + h, x:x + w]
        out[i] = torch.flip(crop, dims=(2,)) if rng.random() < 0.5 else crop
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", type=int, default=500, help="seeded random NB201 cells (the sensitivity set)")
    p.add_argument("--aug-seed", type=int, default=0)
    p.add_argument("--pad-value", choices=("black", "zero"), default="black")
    p.add_argument("--store", default=str(REPO / "benchmarks" / "results" / "work" / "nb201_scores.sqlite"),
                   help="score store holding the un-augmented scores of the same cells (batch seeds 0..4)")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)

    from tqdm import tqdm

    from nwot.data.datasets import scoring_batch
    from nwot.scores.scorer import ScoreConfig
    from nwot.spaces.nb201.model import build_nb201
    from nwot.proxies.naswot import naswot_score
    from nwot.seeding import torch_seed
    from nwot.scores.scorer import store_key
    from nwot.scores.store import ScoreStore
    from nwot.study.reproduction import random_cells, rank_correlation
    from nwot.adapters.embedded import load_nb201_table

    torch.set_num_threads(1)
    t0 = time.time()
    table = load_nb201_table()
    cells = random_cells(args.cells, seed=0)
    x = scoring_batch("cifar10", 128, seed=0)
    xa = augment(x, args.aug_seed, args.pad_value)
    aug = []
    for i in tqdm(cells, desc="augmented batch", disable=args.quiet):
        with torch_seed(0):
            model = build_nb201(table.arch.iat[i])
        aug.append(naswot_score(model, xa, device="cpu"))
    aug = np.array(aug)
    rows = [{"batch": f"augmented (batch seed 0, aug seed {args.aug_seed}, pad {args.pad_value})", "scores": aug}]
    with ScoreStore(args.store) as store:
        for bs in range(5):
            key = store_key("nb201", ScoreConfig(dataset="cifar10", batch_seed=bs, compat="clean", device="cpu"))
            got = store.to_frame(key).set_index("arch_index")
            if not set(cells) <= set(got.index):
                continue
            rows.append({"batch": f"un-augmented, batch seed {bs}", "scores": got.loc[cells, "value"].to_numpy()})
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
    lines = ["# NASWOT with the released code's training augmentation (NB201, CIFAR-10)", "",
             f"Generated by `{res['command']}` at commit `{res['git']['commit']}` on {res['machine']['cpu_model']} "
             f"in {res['wall_seconds']:.0f} s. {len(cells)} seeded random cells (`random_cells(n, seed=0)`), clean "
             f"mode, init seed 0, the same 128 images.", "",
             "| batch | τ vs `cifar10/ori-test@200` | ρ | τ vs `cifar10-valid/ori-test@200` | ρ |", "|---|---|---|---|---|"]
    for r in out:
        a, b = r[ACCS[0]], r[ACCS[1]]
        lines.append(f"| {r['batch']} | {a['kendall_tau']:.3f} | {a['spearman_rho']:.3f} | {b['kendall_tau']:.3f} | "
                     f"{b['spearman_rho']:.3f} |")
    if agree is not None:
        lines += ["", f"Augmented vs un-augmented (batch seed 0) scores: Kendall τ {agree.kendall_tau:.3f}, "
                      f"Spearman ρ {agree.spearman_rho:.3f}."]
    (args.out / "nb201_augmented_batch.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
