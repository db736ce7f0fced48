"""PNAS vs REA vs random search vs BlockQNN on open cell spaces with real training, with and without
NASWOT pre-screening, at equal numbers of trained models.

Every candidate is trained by :class:`nwot.evaluators.train.TrainEvaluator` (SGD + cosine, crop/flip
augmentation) and scored by its accuracy on images held out of the CIFAR-10 training split; the chosen
(best-by-validation) cell of each run is reported by the accuracy of those same trained weights on
CIFAR-10 test images. Candidates are checkpointed in one shared folder, so a cell proposed by two
strategies (or a rerun) is trained once; a cached evaluation still counts as one trained model of
the run's budget and is charged its original training seconds.

Strategies (each run gets ``--evaluations`` trained models; :mod:`nwot.study.open_space`):

* ``pnas``: PNAS on the ``pnas`` space (train all 1-block cells, then the beam), LSTM surrogate;
* ``rea``: regularized evolution (P = 10, S = 3) on the ``pnas`` space, PNAS/NASNet mutations
  (one op or one input of one block);
* ``random``: uniform cells of the ``pnas`` space;
* ``blockqnn``: Q-learning on the ``blockqnn`` space (its own block space), reward
  ``acc - mu log(FLOPs) - rho log(density)``; ``random-blockqnn`` is its random baseline;
* ``<name>+naswot``: the same with NASWOT pre-screening (:mod:`nwot.search.prescreen`): a pool of
  ``--prescreen-factor`` x the proposals is scored untrained and only the best are trained (PNAS: the
  NASWOT-best K of the predictor's top factor x K). Scoring seconds are reported separately.

Presets (:data:`nwot.study.open_space.PRESETS`):

* ``cpu`` (run here): ``cpu_tiny`` training (1 epoch, 2,000 training and 500 validation images),
  networks with F = 8 filters and N = 1 cell / block per stage; PNAS space of B = 2 blocks over 3 ops
  (sep_conv_3x3, identity, max_pool_3x3), i.e. (2*3)(2*3+1)/2 = 21 one-block cells + a beam of K = 3 =
  24 trained models per run; BlockQNN blocks of <= 4 layers, 4 blocks per iteration, so 6 iterations with
  epsilon 1.0, 1.0, 0.7, 0.5, 0.3, 0.1 (the paper's 1.0 -> 0.1 anneal, compressed), mu = rho = 0.01;
  2,000 CIFAR-10 test images for the report. Reads the CIFAR-10 batches staged in shared/data (``--data-dir``).
* ``gpu`` (documented, for a GPU): ``pnas_proxy`` training (20 epochs, 45,000 / 5,000 images: needs
  the full CIFAR-10 python batches in ``--data-dir`` or ``$NWOT_DATA_DIR``), F = 24, N = 2 (PNAS's
  search networks); the full PNAS space (B = 5, 8 ops) with the paper's beam K = 256, i.e.
  136 + 4 x 256 = 1,160 trained models per run (the PNAS paper's count); BlockQNN blocks of <= 10
  layers, 64 blocks per iteration with the paper's epsilon schedule shrunk to 18 iterations
  (1,152 blocks); all 10,000 test images. ``python benchmarks/open_space_pnas.py --preset gpu --seeds 1``.

Writes ``open_space_pnas[_<preset>].{json,md}`` (summary, command, commit, machine),
``..._runs.csv`` (one row per run: best cell, validation and test accuracy, seconds) and
``..._traces.csv`` (every trained model of every run).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import asdict
from pathlib import Path

from _common import RESULTS, WORK

from nwot.study.open_space import PRESETS, STRATEGIES, build_run, space_of, summarise
from nwot.study.provenance import command_line, git_label, machine
from nwot.study.tables import open_space_markdown


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="cpu", choices=list(PRESETS))
    p.add_argument("--seeds", type=int, default=1, help="runs per strategy (seeds 0..n-1)")
    p.add_argument("--evaluations", type=int, default=None, help="trained models per run (default: preset)")
    p.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    p.add_argument("--prescreen-factor", type=int, default=4, help="NASWOT pool factor; 0 = no pre-screened runs")
    p.add_argument("--data-dir", default=None,
                   help="CIFAR-10 python batches (default: $NWOT_DATA_DIR, else shared/data)")
    p.add_argument("--checkpoint-dir", default=str(WORK / "open_space_ckpt"))
    p.add_argument("--train-size", type=int, default=None, help="override the preset's training images (smoke tests)")
    p.add_argument("--val-size", type=int, default=None, help="override the preset's validation images (smoke tests)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(RESULTS))
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import pandas as pd
    import torch
    from tqdm import tqdm

    from nwot.data.datasets import scoring_batch
    from nwot.data.training import cifar10_data
    from nwot.evaluators.train import TrainEvaluator, train_preset
    from nwot.paths import shared_data_dir, user_data_dir
    from nwot.search import Budget, run_search
    from nwot.spaces import get_space

    torch.set_num_threads(args.threads)
    preset = PRESETS[args.preset]
    n_evals = args.evaluations or preset.evaluations
    data_dir = args.data_dir or user_data_dir() or shared_data_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the staged CIFAR-10 has 1 of the 5 training batch files
        train_data, test_data = cifar10_data(data_dir), cifar10_data(data_dir, train=False)
    overrides = {k: v for k, v in (("train_size", args.train_size), ("val_size", args.val_size)) if v is not None}
    cfg = train_preset(preset.train, **overrides)
    spaces = {"pnas": get_space("pnas", **preset.pnas_space),
              "blockqnn": get_space("blockqnn", **preset.blockqnn_space)}
    evaluators = {k: TrainEvaluator(sp, cfg, train_data, build_kwargs=preset.build, checkpoint_dir=args.checkpoint_dir)
                  for k, sp in spaces.items()}
    images = scoring_batch("cifar10", batch_size=preset.naswot_batch, seed=0)
    factors = [0] + ([args.prescreen_factor] if args.prescreen_factor else [])
    rows, traces = [], []
    tag = "" if args.preset == "cpu" else f"_{args.preset}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, factor, seed in tqdm([(n, f, s) for n in args.strategies for f in factors for s in range(args.seeds)],
                                   desc="runs"):
        label = name + ("+naswot" if factor else "")
        st, evaluate = build_run(name, factor, preset, seed, spaces, evaluators, images)
        t0 = time.perf_counter()
        res = run_search(st, evaluate, Budget(evaluations=n_evals), seed=seed)
        wall = time.perf_counter() - t0
        best = spaces[space_of(name)].decode(res.best_arch)
        test_acc = evaluators[space_of(name)].test_accuracy(best, test_data, preset.test_images)
        screen_s = st.screen.seconds if factor else 0.0
        rows.append({"strategy": label, "space": space_of(name), "seed": seed, "best_arch": res.best_arch,
                     "val_acc": res.best_signal, "test_acc": test_acc, "n_trained": res.n_evals,
                     "train_seconds": res.used_time - screen_s, "screen_seconds": screen_s, "wall_seconds": wall,
                     "distinct_cells": len({r.arch for r in res.trace})})
        traces += [{"strategy": label, "seed": seed, **asdict(r)} for r in res.trace]
        pd.DataFrame(rows).to_csv(out / f"open_space_pnas{tag}_runs.csv", index=False)
        pd.DataFrame(traces).to_csv(out / f"open_space_pnas{tag}_traces.csv", index=False)
    res = {"command": command_line(__file__, argv), "commit": git_label(),
           "machine": {**machine(), "cuda": torch.cuda.is_available()}, "preset": args.preset,
           "preset_config": asdict(preset), "train_config": asdict(cfg), "evaluations": n_evals, "seeds": args.seeds,
           "prescreen_factor": args.prescreen_factor, "data_dir": str(data_dir),
           "summary": summarise(pd.DataFrame(rows))}
    (out / f"open_space_pnas{tag}.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    md = open_space_markdown(res, preset, cfg)
    (out / f"open_space_pnas{tag}.md").write_text(md)
    print(md, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
