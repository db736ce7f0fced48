"""Kendall tau between the clean and reference-compatible NASWOT rankings on NB201 CIFAR-10.

Reference scores are computed here for a seeded sample of cells that have stored clean scores (same
128-image batch, batch seed 0, init seed 0); writes ``benchmarks/results/nb201_mode_tau.{json,csv}``.
Usage: python benchmarks/nb201_mode_tau.py [--n 200]
"""
import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats

from nwot.evaluators.proxy import ProxyEvaluator
from nwot.scores.scorer import ScoreConfig
from nwot.spaces.base import get_space

RES = Path(__file__).resolve().parent / "results"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200, help="cells (default: 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the cell sample (default: 0)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    clean = pd.read_csv(RES / "nb201_cifar10_naswot_clean_seed0.csv.xz")
    sample = clean.sample(n=args.n, random_state=np.random.RandomState(args.seed)).sort_values("index")
    space = get_space("nb201")
    ev = ProxyEvaluator(space, ScoreConfig(compat="reference", device="cpu"))
    t0 = time.perf_counter()
    ref = [ev(space.decode(a)).signal for a in sample["arch"]]
    sample = sample.assign(reference=ref)
    finite = np.isfinite(sample["score"]) & np.isfinite(sample["reference"])
    tau = stats.kendalltau(sample["score"][finite], sample["reference"][finite]).statistic
    rho = stats.spearmanr(sample["score"][finite], sample["reference"][finite]).statistic
    out = {"command": "python benchmarks/nb201_mode_tau.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "cells": int(len(sample)), "finite_both": int(finite.sum()), "kendall_tau": float(tau),
           "spearman_rho": float(rho), "seconds_reference_total": time.perf_counter() - t0,
           "git": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
           "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} thread(s)"}
    sample.rename(columns={"score": "clean"})[["index", "arch", "clean", "reference"]].to_csv(
        RES / "nb201_mode_tau.csv", index=False)
    (RES / "nb201_mode_tau.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
