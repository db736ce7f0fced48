"""NASWOT on the NDS CIFAR design spaces: score every trained network of each space file, correlate.

Mellor et al., "Neural Architecture Search without Training", ICML 2021 (the NDS-CIFAR10 plots:
score of untrained networks vs accuracy, per design space), on the data of Radosavovic et al., "On
Network Design Spaces for Visual Recognition", ICCV 2019 (https://github.com/facebookresearch/nds,
``data.zip``; not redistributable here, so point ``--file`` / ``--dir`` at your copy).

For each space file (``--file`` repeatable, ``--dir`` adds every ``<space>[_variant].json`` of a folder;
ImageNet ``_in`` files are skipped and listed), every record (or a seeded sample of ``--n``) is built
with ``nwot.spaces.nds`` under ``nwot.seeding.torch_seed(init_seed)`` and scored with
``nwot.proxies.naswot.naswot_score`` on ``nwot.data.datasets.scoring_batch("cifar10", batch_size, batch_seed)``;
accuracy is ``100 - test_ep_top1[-1]`` (the NASWOT paper's NDS accuracy). Each score is appended to the
work CSV as soon as it is computed; a restart skips everything already there (same settings required).
The study is :mod:`nwot.study.nds`.

Outputs (``--out``, default ``benchmarks/results/nds``): ``nds_scores.csv`` (work file, one row per
scored record: score, accuracy, the record's params and the built network's params -- the latter
checks the builders against the data), ``nds_summary.json`` (per file: n, Kendall tau, Spearman rho
from ``scipy.stats``, params agreement; command, settings, git commit, machine, timing) and one
``nds_<file stem>.png`` scatter plot per file.

    python benchmarks/nds_study.py --dir ~/data/nds --n 1000
    python benchmarks/nds_study.py --file ~/data/nds/DARTS.json --file ~/data/nds/ResNet.json
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from _common import RESULTS

from nwot.study.nds import SUMMARY_FILE, NDSStudy, run_study
from nwot.study.provenance import command_line, git_state


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--file", action="append", default=[], help="an NDS space file (repeatable)")
    p.add_argument("--dir", action="append", default=[], help="a folder of NDS space files (repeatable)")
    p.add_argument("--n", type=int, default=None, help="score a seeded sample of N records per file (default: all)")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the --n sample (random.Random)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--batch-seed", type=int, default=0, help="which training images form the batch")
    p.add_argument("--init-seed", type=int, default=0, help="torch_seed of every network's init")
    p.add_argument("--compat", default="clean", choices=("clean", "reference"),
                   help="scorer and AnyNet-builder mode (reference = the NASWOT authors' code)")
    p.add_argument("--data-dir", default=None, help="CIFAR-10 batches (default: $NWOT_DATA_DIR, else embedded sample)")
    p.add_argument("--device", default=None, help="torch device (default: CUDA if available)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--out", default=str(RESULTS / "nds"))
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if not args.file and not args.dir:
        p.error("give at least one --file or --dir (the NDS data.zip from https://github.com/facebookresearch/nds)")
    if args.n is not None and args.n < 1:
        p.error(f"--n must be >= 1, got {args.n}")
    return args


def run(args: argparse.Namespace, argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """The whole study; returns the summary written to ``nds_summary.json``."""
    import torch

    cfg = NDSStudy(inputs=(*args.file, *args.dir), out=Path(args.out), n=args.n, sample_seed=args.sample_seed,
                   batch_size=args.batch_size, batch_seed=args.batch_seed, init_seed=args.init_seed,
                   compat=args.compat, data_dir=args.data_dir, device=args.device, progress=not args.quiet)
    res = run_study(cfg)
    summary = {"study": "NASWOT score vs final test accuracy on NDS CIFAR-10 design spaces (Mellor et al., ICML 2021)",
               "command": command_line(__file__, argv), **res,
               "git_commit": git_state()["commit"], "machine": platform.platform(), "torch": torch.__version__}
    (cfg.out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, allow_nan=True) + "\n")
    return summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    import torch

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    summary = run(args, argv)
    for name, s in summary["files"].items():
        tau = "-" if s["kendall_tau"] is None else f"{s['kendall_tau']:.3f}"
        rho = "-" if s["spearman_rho"] is None else f"{s['spearman_rho']:.3f}"
        print(f"{name:<24} n={s['n']:>5}  finite={s['n_finite']:>5}  kendall={tau}  spearman={rho}")
    for path in summary["skipped_imagenet_files"]:
        print(f"skipped (ImageNet, not scored): {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
