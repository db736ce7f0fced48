"""``nwot`` command line: thin wrappers over the Python API (nwot.api and the subcommand modules)."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

# Before torch is imported: OpenMP threads sleep instead of spinning at barriers. On a busy 2-core
# machine spinning made scoring 22x slower (39.6 s vs 1.8 s for 6 cells); on an idle one the cost is
# small. Set OMP_WAIT_POLICY yourself to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from dataclasses import asdict
from typing import List, Optional

from nwot import __version__
from nwot.errors import NwotError

#: Modules that add their own subcommands through ``register(subparsers)``.
SUBCOMMAND_MODULES = ("bench", "score_space", "info")


def _add_scoring_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="cifar10", help="image source and head size (default: cifar10)")
    p.add_argument("--batch-size", type=int, default=128, help="images in the scoring minibatch (default: 128)")
    p.add_argument("--compat", default="clean", choices=("clean", "reference"),
                   help="clean definition (default) or the paper's released-code behaviour")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA if available)")
    p.add_argument("--data-dir", default=None,
                   help="folder with the dataset's python batches (default: $NWOT_DATA_DIR, else the embedded "
                        "1,280-image CIFAR-10 sample)")


def cmd_score(args) -> int:
    from nwot.api import score_arch

    r = score_arch(args.arch, space=args.space, dataset=args.dataset, batch_size=args.batch_size, seed=args.seed,
              init_seed=args.init_seed, compat=args.compat, device=args.device, data_dir=args.data_dir)
    if args.json:
        print(json.dumps(asdict(r), indent=2))
        return 0
    if r.index is not None:
        print(f"index          {r.index}")
    print(f"arch           {r.arch}")
    print(f"score          {r.score:.6f}")
    print(f"seconds        {r.seconds:.3f}")
    if r.test_accuracy is not None:
        print(f"test accuracy  {r.test_accuracy:.2f}  ({args.dataset}, 200 epochs, NATS-Bench seed mean)")
    return 0


def cmd_search(args) -> int:
    from tqdm import tqdm

    if args.strategy == "naswot" and args.evaluator != "train" and (args.budget is not None
                                                                    or args.evaluations is not None):
        raise NwotError("--strategy naswot scores -n N random cells (default 100); --budget / --evaluations set the "
                        "budget of the strategies on the benchmark's simulated time")
    if args.option and (args.evaluator == "train" or args.strategy == "naswot"):
        raise NwotError("--option sets the options of the strategies on the benchmark's simulated time "
                        "(not --strategy naswot, whose option is -n, nor --evaluator train)")
    if args.evaluator == "train":
        from nwot.api import SearchReport
        from nwot.search.run_trained import run_trained_search  # real training on an open space

        if args.evaluations is None:
            raise NwotError("--evaluator train needs --evaluations (trained models per run)")
        report = SearchReport(run_trained_search(
            args.strategy, args.space, evaluations=args.evaluations, runs=args.runs, seed=args.seed,
            preset=args.preset, data_dir=args.data_dir, checkpoint_dir=args.checkpoint_dir, prescreen=args.prescreen))
    elif args.strategy != "naswot":
        from nwot.search.run import run_strategy  # strategies on the benchmark's simulated time

        results = run_strategy(args.strategy, space=args.space, dataset=args.dataset, budget_seconds=args.budget,
                               evaluations=args.evaluations, runs=args.runs, seed=args.seed,
                               benchmark=args.benchmark, scores=args.scores, signal_seed=args.signal_seed,
                               cost=args.cost, signal_noise=args.signal_noise,
                               report_datasets=args.report_datasets, **strategy_options(args.option))
        from nwot.api import SearchReport

        report = SearchReport(results)
    else:
        from nwot.api import naswot_search

        bar = tqdm(total=args.n * args.runs, desc="scoring", unit="cell", disable=args.quiet or None,
                   file=sys.stderr)
        report = naswot_search(space=args.space, dataset=args.dataset, n=args.n, runs=args.runs, seed=args.seed,
                        batch_size=args.batch_size, compat=args.compat, device=args.device, data_dir=args.data_dir,
                        progress=lambda row: bar.update(1), threads=args.threads, workers=args.workers)
        bar.close()
    df = report.to_frame()
    if args.json:
        print(json.dumps({"runs": df.to_dict(orient="records"), "summary": report.summary()}, indent=2, default=str))
        return 0
    if args.csv:
        df.to_csv(sys.stdout, index=False)
        return 0
    label = "score" if args.strategy == "naswot" else "signal"
    for _, row in df.iterrows():
        acc = row.get("test_accuracy")
        idx = row.get("index")
        print(f"run {int(row['seed']):>4}  index {'-' if idx is None else int(idx):>5}  {label} {row['best_signal']:10.3f}  "
              f"test acc {'-' if acc is None else f'{acc:6.2f}'}  time {row['used_time']:7.2f}s  {row['best_arch']}")
    s = report.summary()
    if "test_accuracy_mean" in s:
        print(f"{args.dataset} test accuracy over {s['runs']} run(s): "
              f"{s['test_accuracy_mean']:.2f} ± {s['test_accuracy_std']:.2f}  (mean time {s['time_mean']:.2f}s)")
    return 0


def strategy_options(items) -> dict:
    """``KEY=VALUE`` strings of ``--option`` -> strategy keyword arguments (values as Python literals)."""
    import ast

    out = {}
    for it in items:
        key, sep, val = it.partition("=")
        if not sep or not key.strip().isidentifier():
            raise NwotError(f"--option must be KEY=VALUE (e.g. n_candidates=100), got {it!r}")
        try:
            out[key.strip()] = ast.literal_eval(val)
        except (ValueError, SyntaxError):
            out[key.strip()] = val
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nwot", description="Training-free neural architecture search (NASWOT).")
    parser.add_argument("--version", action="version", version=f"nwot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("score", help="NASWOT score of one architecture",
                       description="Score one untrained network: s = log|det K_H| (Mellor et al., ICML 2021).")
    p.add_argument("arch", help="NB201 index, NB201 arch string, or the space's encoding (see --space)")
    p.add_argument("--space", default="nb201", help="search space (default: nb201)")
    p.add_argument("--seed", type=int, default=0, help="seed of the scoring batch (default: 0)")
    p.add_argument("--init-seed", type=int, default=None, help="seed of the network init (default: --seed)")
    p.add_argument("--json", action="store_true", help="print JSON")
    _add_scoring_args(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("search", help="NASWOT search (or another strategy) on a space",
                       description="Per run: sample N cells uniformly with replacement, score each untrained "
                                   "on one batch, keep the best (NASWOT search). Other strategies run on the "
                                   "benchmark's simulated training time (--budget seconds).")
    p.add_argument("--strategy", default="naswot",
                   help="naswot (default), random, rea, area, reinforce, bo, lse, pnas, blockqnn")
    p.add_argument("--space", default="nb201", help="search space (default: nb201)")
    p.add_argument("-n", "--n", type=int, default=100, help="NASWOT: cells sampled per run (default: 100)")
    p.add_argument("--runs", type=int, default=1, help="independent runs; run r uses seed+r (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default: 0)")
    p.add_argument("--budget", type=float, default=None, help="other strategies: simulated seconds (e.g. 12000)")
    p.add_argument("--evaluations", type=int, default=None, help="other strategies: max evaluations")
    p.add_argument("--benchmark", default=None,
                   help="other strategies: benchmark backend for the search signal (default: embedded NB201 table)")
    p.add_argument("--signal-seed", default="mean", choices=("mean", "random"),
                   help="other strategies: 12-epoch valid accuracy as the seed mean (default; the only one the "
                        "embedded table stores) or one random seed per query (official protocol; needs seeds)")
    p.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                   help="other strategies: a strategy option, repeatable (e.g. -o n_candidates=100 for AREA's pool "
                        "M, -o population_size=20 for REA); a Python literal, else a string")
    p.add_argument("--signal-noise", type=float, default=0.0, metavar="SD",
                   help="other strategies: add Gaussian noise of this SD (accuracy points) to every 12-epoch "
                        "signal, a model of the one-seed draw on a seed-mean table (0.87 = the SD estimated from "
                        "the NATS records; default 0)")
    p.add_argument("--cost", default="benchmark", choices=("benchmark", "scaled"),
                   help="other strategies: stored simulated cost (default), or 'scaled' = cifar10-valid cost x "
                        "train-set size ratio for CIFAR-100 / ImageNet16-120 on the embedded table (labelled)")
    p.add_argument("--scores", default=None,
                   help="area/naswot: stored full-space score CSV (index,score,seconds) instead of live scoring")
    p.add_argument("--report-datasets", nargs="+", default=None,
                   help="other strategies: datasets whose 200-epoch test accuracy is reported (default: --dataset)")
    p.add_argument("--evaluator", default="table", choices=("table", "train"),
                   help="other strategies: benchmark lookup with simulated time (default) or real training "
                        "(open spaces: --space pnas|blockqnn, budget = --evaluations trained models)")
    p.add_argument("--preset", default="cpu_tiny", help="train evaluator: training preset (cpu_tiny, pnas_proxy)")
    p.add_argument("--checkpoint-dir", default="nwot_runs/checkpoints",
                   help="train evaluator: per-candidate checkpoints; finished candidates are not retrained")
    p.add_argument("--prescreen", type=int, default=0,
                   help="train evaluator: NASWOT pre-screening pool factor (0 = off)")
    p.add_argument("--threads", type=int, default=None,
                   help="NASWOT: torch intra-op threads (default: 1 thread per process, and every core as worker "
                        "processes where they measured faster; see `nwot info`)")
    p.add_argument("--workers", type=int, default=None, help="NASWOT: scoring processes, one thread each")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON (runs and summary)")
    fmt.add_argument("--csv", action="store_true", help="print one CSV row per run")
    _add_scoring_args(p)
    p.set_defaults(func=cmd_search)

    for mod in SUBCOMMAND_MODULES:
        try:
            m = importlib.import_module(f"{__package__}.{mod}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{mod}":
                raise
            continue
        m.register(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except NwotError as e:
        print(f"nwot: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nwot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
