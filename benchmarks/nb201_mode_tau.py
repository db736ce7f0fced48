"""Kendall tau between the clean and reference-compatible NASWOT rankings on NB201 CIFAR-10.

Reference scores are computed here for a seeded sample of cells that have stored clean scores (same
128-image batch, batch seed 0, init seed 0); writes ``benchmarks/results/nb201_mode_tau.{json,csv}``.
Correlations follow the one rule of :mod:`nwot.study.correlation` (a singular kernel's ``-inf`` ranks
last); the tau / rho with the cells singular in either mode left out are kept beside for comparison.
Usage: python benchmarks/nb201_mode_tau.py [--n 200]
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from _common import CLEAN_EXPORT, RESULTS

from nwot.study.correlation import rank_correlation
from nwot.study.provenance import command_line, git_label, machine


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200, help="cells (default: 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the cell sample (default: 0)")
    p.add_argument("--out", type=Path, default=RESULTS, help="output folder (default: benchmarks/results)")
    args = p.parse_args(argv)
    import torch

    from nwot.scores.files import read_scores
    from nwot.scores.scorer import ScoreConfig, Scorer
    from nwot.spaces.base import get_space

    torch.set_num_threads(1)
    clean = read_scores(CLEAN_EXPORT).reset_index()
    sample = clean.sample(n=args.n, random_state=np.random.RandomState(args.seed)).sort_values("index")
    space = get_space("nb201")
    scorer = Scorer(space, ScoreConfig(compat="reference", device="cpu"))
    t0 = time.perf_counter()
    sample = sample.assign(reference=[scorer.score(space.decode(a)) for a in sample["arch"]])
    c = rank_correlation(sample["score"], sample["reference"])
    finite = np.isfinite(sample["score"]) & np.isfinite(sample["reference"])
    cf = rank_correlation(sample["score"][finite], sample["reference"][finite])
    out = {"command": command_line(__file__, argv), "cells": int(len(sample)), "finite_both": int(finite.sum()),
           "kendall_tau": c.kendall_tau, "spearman_rho": c.spearman_rho,
           "finite_both_kendall_tau": cf.kendall_tau, "finite_both_spearman_rho": cf.spearman_rho,
           "seconds_reference_total": time.perf_counter() - t0, "git": git_label(), "machine": machine("cpu", 1)}
    sample.rename(columns={"score": "clean"})[["index", "arch", "clean", "reference"]].to_csv(
        args.out / "nb201_mode_tau.csv", index=False)
    (args.out / "nb201_mode_tau.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
