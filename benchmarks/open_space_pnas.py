"""PNAS vs REA vs random search vs BlockQNN on open cell spaces with real training, with and without
NASWOT pre-screening, at equal numbers of trained models.

Every candidate is trained by :class:`nwot.evaluators.train.TrainEvaluator` (SGD + cosine, crop/flip
augmentation) and scored by its accuracy on images held out of the CIFAR-10 training split; the chosen
(best-by-validation) cell of each run is reported by the accuracy of those same trained weights on
CIFAR-10 test images. Candidates are checkpointed in one shared folder, so a cell proposed by two
strategies (or a rerun) is trained once; a cached evaluation still counts as one trained model of
the run's budget and is charged its original training seconds.

Strategies (each run gets ``--evaluations`` trained models):

* ``pnas``: PNAS on the ``pnas`` space (train all 1-block cells, then the beam), LSTM surrogate;
* ``rea``: regularized evolution (P = 10, S = 3) on the ``pnas`` space, PNAS/NASNet mutations
  (one op or one input of one block);
* ``random``: uniform cells of the ``pnas`` space;
* ``blockqnn``: Q-learning on the ``blockqnn`` space (its own block space), reward
  ``acc - mu log(FLOPs) - rho log(density)``; ``random-blockqnn`` is its random baseline;
* ``<name>+naswot``: the same with NASWOT pre-screening (:mod:`nwot.search.prescreen`): a pool of
  ``--prescreen-factor`` x the proposals is scored untrained and only the best are trained (PNAS: the
  NASWOT-best K of the predictor's top factor x K). Scoring seconds are reported separately.

Presets:

* ``cpu`` (run here): :data:`~nwot.evaluators.train.PRESETS` ``cpu_tiny`` (1 epoch, 2,000 training
  and 500 validation images), networks with F = 8 filters and N = 1 cell / block per stage; PNAS space
  of B = 2 blocks over 3 ops (sep_conv_3x3, identity, max_pool_3x3), i.e. (2*3)(2*3+1)/2 = 21 one-block
  cells + a beam of K = 3 = 24 trained models per run; BlockQNN blocks of <= 4 layers, 4 blocks per
  iteration, so 6 iterations with epsilon 1.0, 1.0, 0.7, 0.5, 0.3, 0.1 (the paper's 1.0 -> 0.1 anneal,
  compressed), mu = rho = 0.01; 2,000 CIFAR-10 test images for the report. Reads the CIFAR-10 batches
  staged in shared/data (``--data-dir``).
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
import random
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nwot.study.provenance import command_line, git_label, machine  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
STRATEGIES = ("pnas", "rea", "random", "blockqnn", "random-blockqnn")


@dataclass(frozen=True)
class Preset:
    """One size of the comparison."""

    train: str  # nwot.evaluators.train.PRESETS name
    evaluations: int  # trained models per run
    pnas_space: Dict[str, Any]  # PNASCellSpace(**)
    pnas_beam: int  # PNAS beam K
    blockqnn_space: Dict[str, Any]  # BlockQNNSpace(**)
    blockqnn: Dict[str, Any]  # BlockQNN options (schedule: "scaled:<iterations>")
    build: Dict[str, Any]  # macro config for both networks (C = F filters, N per stage)
    test_images: int  # CIFAR-10 test images for the report (None = all)
    surrogate: Dict[str, Any] = field(default_factory=dict)  # PNAS surrogate_kwargs
    naswot_batch: int = 64  # images in the NASWOT scoring batch


PRESETS: Dict[str, Preset] = {
    "cpu": Preset(train="cpu_tiny", evaluations=24,
                  pnas_space=dict(num_blocks=2, ops=("sep_conv_3x3", "identity", "max_pool_3x3")),
                  pnas_beam=3, blockqnn_space=dict(max_layers=4),
                  blockqnn=dict(batch_size=4, replay_size=64, mu=0.01, rho=0.01,
                                schedule=((1.0, 2), (0.7, 1), (0.5, 1), (0.3, 1), (0.1, 1))),
                  build=dict(C=8, N=1), test_images=2000, surrogate=dict(epochs=100)),
    "gpu": Preset(train="pnas_proxy", evaluations=1160, pnas_space=dict(num_blocks=5), pnas_beam=256,
                  blockqnn_space=dict(max_layers=10),
                  blockqnn=dict(batch_size=64, replay_size=64, schedule="scaled:18", mu=0.01, rho=0.01),
                  build=dict(C=24, N=2), test_images=10_000, naswot_batch=128),
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="cpu", choices=list(PRESETS))
    p.add_argument("--seeds", type=int, default=1, help="runs per strategy (seeds 0..n-1)")
    p.add_argument("--evaluations", type=int, default=None, help="trained models per run (default: preset)")
    p.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    p.add_argument("--prescreen-factor", type=int, default=4, help="NASWOT pool factor; 0 = no pre-screened runs")
    p.add_argument("--data-dir", default=None, help="CIFAR-10 python batches (default: $NWOT_DATA_DIR, else shared/data)")
    p.add_argument("--checkpoint-dir", default=str(RESULTS / "work" / "open_space_ckpt"))
    p.add_argument("--train-size", type=int, default=None, help="override the preset's training images (smoke tests)")
    p.add_argument("--val-size", type=int, default=None, help="override the preset's validation images (smoke tests)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(RESULTS))
    return p.parse_args(argv)


def build_run(name: str, prescreen: int, preset: Preset, seed: int, spaces, evaluators, images):
    """(strategy, evaluator) of one run."""
    from nwot.search import get_strategy
    from nwot.search.blockqnn import scaled_schedule
    from nwot.search.prescreen import NaswotScreen, Prescreened

    rng = random.Random(seed)
    space_name = "blockqnn" if "blockqnn" in name else "pnas"
    space, evaluate = spaces[space_name], evaluators[space_name]
    if name == "pnas":
        inner, kwargs = "pnas", dict(beam=preset.pnas_beam, surrogate="lstm", surrogate_kwargs=preset.surrogate)
    elif name == "rea":
        inner, kwargs = "rea", dict(population_size=10, sample_size=3)
    elif name == "blockqnn":
        kwargs = dict(preset.blockqnn)
        if isinstance(kwargs["schedule"], str):  # "scaled:<iterations>": the paper's schedule shrunk
            kwargs["schedule"] = scaled_schedule(int(kwargs["schedule"].split(":")[1]))
        inner = "blockqnn"
    else:
        inner, kwargs = "random", {}
    if not prescreen:
        return get_strategy(inner, space, rng, **kwargs), evaluate
    screen = NaswotScreen(space, build_kwargs=preset.build, images=images)
    st = Prescreened(space, rng, inner=inner, factor=prescreen, screen=screen, inner_kwargs=kwargs)
    return st, screen.charge(evaluate)


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
    spaces = {"pnas": get_space("pnas", **preset.pnas_space), "blockqnn": get_space("blockqnn", **preset.blockqnn_space)}
    evaluators = {k: TrainEvaluator(sp, cfg, train_data, build_kwargs=preset.build, checkpoint_dir=args.checkpoint_dir)
                  for k, sp in spaces.items()}
    images = scoring_batch("cifar10", batch_size=preset.naswot_batch, seed=0)
    factors = [0] + ([args.prescreen_factor] if args.prescreen_factor else [])
    rows, traces = [], []
    tag = "" if args.preset == "cpu" else f"_{args.preset}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(n, f, s) for n in args.strategies for f in factors for s in range(args.seeds)]
    for name, factor, seed in tqdm(jobs, desc="runs"):
        label = name + ("+naswot" if factor else "")
        st, evaluate = build_run(name, factor, preset, seed, spaces, evaluators, images)
        t0 = time.perf_counter()
        res = run_search(st, evaluate, Budget(evaluations=n_evals), seed=seed)
        wall = time.perf_counter() - t0
        space_name = "blockqnn" if "blockqnn" in name else "pnas"
        best = spaces[space_name].decode(res.best_arch)
        test_acc = evaluators[space_name].test_accuracy(best, test_data, preset.test_images)
        screen_s = st.screen.seconds if factor else 0.0
        rows.append({"strategy": label, "space": space_name, "seed": seed, "best_arch": res.best_arch,
                     "val_acc": res.best_signal, "test_acc": test_acc, "n_trained": res.n_evals,
                     "train_seconds": res.used_time - screen_s, "screen_seconds": screen_s, "wall_seconds": wall,
                     "distinct_cells": len({r.arch for r in res.trace})})
        traces += [{"strategy": label, "seed": seed, **asdict(r)} for r in res.trace]
        pd.DataFrame(rows).to_csv(out / f"open_space_pnas{tag}_runs.csv", index=False)
        pd.DataFrame(traces).to_csv(out / f"open_space_pnas{tag}_traces.csv", index=False)
    df = pd.DataFrame(rows)
    summary = {}
    for label, g in df.groupby("strategy", sort=False):
        summary[label] = {"space": g["space"].iloc[0], "runs": len(g),
                          **{k: {"mean": float(g[k].mean()), "std": float(g[k].std(ddof=0))}
                             for k in ("val_acc", "test_acc", "n_trained", "train_seconds", "screen_seconds",
                                       "wall_seconds", "distinct_cells")},
                          "best_cells": list(g["best_arch"])}
    res = {"command": command_line(__file__, argv), "commit": git_label(),
           "machine": {**machine(), "cuda": torch.cuda.is_available()}, "preset": args.preset, "preset_config": asdict(preset), "train_config": asdict(cfg),
           "evaluations": n_evals, "seeds": args.seeds, "prescreen_factor": args.prescreen_factor,
           "data_dir": str(data_dir), "summary": summary}
    (out / f"open_space_pnas{tag}.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    lines = [f"# Open-space search with real training ({args.preset} preset)", "",
             f"Generated by `{res['command']}` at commit `{res['commit']}` on {res['machine']['cpu_model']} "
             f"({res['machine']['threads']} torch thread, CUDA {res['machine']['cuda']}). {n_evals} trained models "
             f"per run, {args.seeds} run(s) per strategy. Training: `{preset.train}` "
             f"({cfg.epochs} epoch(s), {cfg.train_size} training / {cfg.val_size} validation images held out of the "
             f"CIFAR-10 training split), networks {preset.build}. Test: the chosen cell's trained weights on "
             f"{preset.test_images} CIFAR-10 test images. Mean ± std over runs.", "",
             "| strategy | space | val acc (signal) | test acc | trained models | distinct cells | train s | NASWOT s | wall s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, s in summary.items():
        f = lambda k, d=2: f"{s[k]['mean']:.{d}f} ± {s[k]['std']:.{d}f}"  # noqa: E731
        lines.append(f"| {label} | {s['space']} | {f('val_acc')} | {f('test_acc')} | {s['n_trained']['mean']:.0f} | "
                     f"{s['distinct_cells']['mean']:.1f} | {s['train_seconds']['mean']:.0f} | "
                     f"{s['screen_seconds']['mean']:.0f} | {s['wall_seconds']['mean']:.0f} |")
    lines += ["", "`train s`: training seconds charged to the run (a cell already in the checkpoint folder is not "
              "retrained but is charged its original seconds); `NASWOT s`: scoring seconds of the pre-screen (not "
              "counted in the trained-model budget); `wall s`: this invocation's wall time, short for runs whose "
              "cells were all trained by an earlier invocation or another strategy. At this budget (1 epoch on "
              "2,000 images) validation accuracies of 20-28 % are close to chance (10 %) and favour cheap, "
              "parameter-free cells: the table demonstrates the pipeline, not the methods' relative merit.",
              "", "Best cells (one per run):", ""]
    for label, s in summary.items():
        lines.append(f"* {label}: " + ", ".join(f"`{c}`" for c in s["best_cells"]))
    (out / f"open_space_pnas{tag}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
