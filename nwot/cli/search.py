"""``nwot search``: one search driver (:func:`nwot.search.run.run`) behind three setups.

* ``--strategy naswot`` (default): the NASWOT search, live scoring (or ``--scores`` stored scores);
* other strategies: the benchmark's simulated training time (``--budget`` seconds / ``--evaluations``);
* ``--evaluator train``: real training on an open space (``--evaluations`` trained models per run);
  ``--workers K`` trains K candidates at once on Ray (``--address`` a cluster), resumable from ``--state``
  (:mod:`nwot.search.async_run`): rerun the same command after a crash and it goes on.

``--constraint "edgegpu_latency<=5"`` (repeatable) bounds a cost of the search dataset's network
(:mod:`nwot.search.constraints`); ``--pareto METRIC`` prints each run's front of (signal, METRIC)
(:mod:`nwot.search.pareto`; ``--strategy nsga2`` optimises both).

One line per finished run is printed as it finishes (``--csv``: one CSV row), so an interrupted search
keeps every finished run; progress goes to stderr (a bar on a terminal, dated lines in a log).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any, Dict, List, Optional

from nwot.cli.common import add_scoring_args, parse_options
from nwot.cli.progress import progress
from nwot.errors import NwotError
from nwot.search.constraints import parse_constraints


def _setup(args: argparse.Namespace, signal: str):
    from nwot.search.loop import Budget
    from nwot.search.run import benchmark_setup, proxy_setup, train_setup
    from nwot.spaces.base import get_space

    space = get_space(args.space, **parse_options(args.space_option, "--space-option"))
    score_config = {"batch_size": args.batch_size, "compat": args.compat, "device": args.device}
    constraints = parse_constraints(args.constraint)
    if args.evaluator == "train":
        if constraints or args.pareto:
            raise NwotError("--constraint / --pareto look costs up in a benchmark table; --evaluator train has none")
        if signal == "score":
            raise NwotError(f"--strategy {args.strategy} searches on a zero-cost score, not on trained accuracy; "
                            f"drop --evaluator train")
        if args.evaluations is None:
            raise NwotError("--evaluator train needs --evaluations (trained models per run)")
        overrides = parse_options(args.train_option, "--train-option")
        setup = train_setup(space, preset=args.preset, train_overrides=overrides, data_dir=args.data_dir,
                            checkpoint_dir=args.checkpoint_dir, inherit=not args.no_inherit)
        return setup, Budget(evaluations=args.evaluations), args.evaluations
    if signal == "score":
        if args.budget is not None or args.evaluations is not None:
            raise NwotError(f"--strategy {args.strategy} scores -n N random cells (default 100); --budget / "
                            f"--evaluations set the budget of the strategies on the benchmark's simulated time")
        setup = proxy_setup(space, args.dataset, args.benchmark, scores=args.scores, score_config=score_config,
                            report_datasets=args.report_datasets, data_dir=args.data_dir, constraints=constraints,
                            threads=args.threads, workers=args.workers)
        return setup, Budget(evaluations=args.n), args.n
    if args.budget is None and args.evaluations is None:
        raise NwotError(f"--strategy {args.strategy} needs a budget: --budget SECONDS of simulated training time "
                        f"(NB201 protocol: 12000) or --evaluations N")
    setup = benchmark_setup(space, args.dataset, args.benchmark, signal_seed=args.signal_seed, cost=args.cost,
                            signal_noise=args.signal_noise, report_datasets=args.report_datasets, scores=args.scores,
                            score_config=score_config, data_dir=args.data_dir, constraints=constraints)
    return setup, Budget(seconds=args.budget, evaluations=args.evaluations), None


class RunPrinter:
    """Writes each finished run at once: a text line, or a CSV row (header with the first row)."""

    def __init__(self, fmt: str, dataset: str, bar) -> None:
        self.fmt, self.dataset, self.bar = fmt, dataset, bar
        self.rows: List[Dict[str, Any]] = []
        self._csv: Optional[csv.DictWriter] = None

    def __call__(self, res) -> None:
        row = res.row()
        if res.front:
            row["front_size"] = len(res.front)
        self.rows.append({**row, "config": res.config, "front": res.front} if self.fmt == "json" else row)
        if self.fmt == "csv":
            if self._csv is None:
                self._csv = csv.DictWriter(sys.stdout, fieldnames=list(row), extrasaction="ignore")
                self._csv.writeheader()
            self._csv.writerow(row)
        elif self.fmt == "text":
            print(self.line(res), flush=True)
            for line in self.front_lines(res):
                print(line, flush=True)
        sys.stdout.flush()

    @staticmethod
    def front_lines(res) -> List[str]:
        """Pareto mode: one line per front cell, ascending cost."""
        if not res.front:
            return []
        metric, unit = res.config.get("pareto_metric"), res.config.get("pareto_unit", "")
        out = [f"  front of (signal, {metric}): {len(res.front)} cells"]
        for f in res.front:
            acc = f.get("test_accuracy")
            out.append(f"    {metric} {f[metric]:9.4f} {unit:<6}  signal {f['signal']:10.3f}  test acc "
                       f"{'-' if acc is None else f'{acc:6.2f}'}  index {f.get('index', '-'):>5}  {f['arch']}")
        return out

    @staticmethod
    def line(res) -> str:
        acc, idx = res.final.get("test_accuracy"), res.final.get("index")
        label = "score" if res.cost_kind == "wall" and res.config.get("search_evaluator", {}).get("evaluator") in (
            "proxy", "stored") else "signal"
        # charged: the budget's seconds, summed over the evaluations (measured build + score seconds of each
        # cell, wherever it ran); wall: the run's elapsed time (less than charged with worker processes)
        times = (f"charged {res.used_time:8.2f}s  wall {res.wall_seconds:6.2f}s" if res.cost_kind == "wall" else
                 f"simulated {res.used_time:9.1f}s  wall {res.wall_seconds:6.2f}s")
        levels = res.config.get("levels")  # progressive strategies (PNAS): one entry per beam after level 1
        extra = f"  level {max([1] + [int(b['level']) for b in levels or []])}" if levels is not None else ""
        return (f"run {res.seed:>4}  index {'-' if idx is None else int(idx):>5}  {label} {res.best_signal:10.3f}  "
                f"test acc {'-' if acc is None else f'{acc:6.2f}'}  {times}{extra}  {res.best_arch}")


def _counter(bar):
    """Progress: one tick per evaluation (a strategy's own charged scores are not counted)."""
    def tick(row) -> None:
        if row.kind == "eval":
            bar.update(1)
    return tick


def _workers(args: argparse.Namespace, signal: str):
    """The asynchronous workers of ``--evaluator train`` (live scoring takes ``--workers`` as its processes)."""
    from nwot.search.async_pool import Workers

    if args.evaluator != "train":
        if args.address or args.state:
            raise NwotError("--address / --state are for asynchronous searches with real training: "
                            "--evaluator train --workers K")
        if args.workers is not None and signal != "score":
            raise NwotError(f"--workers: strategy {args.strategy!r} on the benchmark table looks its signal up; "
                            f"--workers applies to live scoring (--strategy naswot) and to --evaluator train")
        return None
    if args.workers is None:
        if args.address or args.state:
            raise NwotError("--address / --state are for asynchronous searches: add --workers K")
        return None
    return Workers(args.workers, address=args.address, state=args.state, cpus_per_worker=args.cpus_per_worker,
                   gpus_per_worker=args.gpus_per_worker, retries=args.retries)


def cmd_search(args: argparse.Namespace) -> int:
    from nwot.search.base import strategy_class

    signal = strategy_class(args.strategy).signal
    options = parse_options(args.option)
    setup, budget, per_run = _setup(args, signal)
    if signal == "score":
        options.setdefault("n", args.n)
    fmt = "json" if args.json else "csv" if args.csv else "text"
    total = per_run * args.runs if per_run else args.runs
    bar = progress(total, "evaluating" if per_run else "runs", "cell" if per_run else "run", quiet=args.quiet)
    printer = RunPrinter(fmt, args.dataset, bar)

    def on_result(res) -> None:
        if not per_run:
            bar.update(1)
        printer(res)

    pareto = setup.cost_lookup(args.pareto) if args.pareto else None
    workers = _workers(args, signal)
    try:
        report = setup.run(args.strategy, budget, runs=args.runs, seed=args.seed, options=options,
                           prescreen=args.prescreen, progress=_counter(bar) if per_run else None,
                           on_result=on_result, pareto=pareto, workers=workers)
    finally:
        bar.close()
    s = report.summary()
    if fmt == "json":
        print(json.dumps({"runs": printer.rows, "summary": s}, indent=2, default=str))
    elif fmt == "text" and "test_accuracy_mean" in s:
        kind = s["cost_kind"]
        print(f"{args.dataset} test accuracy over {s['runs']} run(s): {s['test_accuracy_mean']:.2f} ± "
              f"{s['test_accuracy_std']:.2f}  (mean {kind} time {s[f'{kind}_seconds_mean']:.2f}s)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="NASWOT search (or another strategy) on a space",
                       description="Per run: sample N cells uniformly with replacement, score each untrained "
                                   "on one batch, keep the best (NASWOT search). Other strategies run on the "
                                   "benchmark's simulated training time (--budget seconds), or with real "
                                   "training (--evaluator train). One line per finished run is printed as it "
                                   "finishes.")
    p.add_argument("--strategy", default="naswot",
                   help="naswot (default), random, rea, area, reinforce, bo, lse, pnas, blockqnn, nsga2 (Pareto mode)")
    p.add_argument("--space", default="nb201", help="search space (default: nb201)")
    p.add_argument("-n", "--n", type=int, default=100, help="NASWOT: cells sampled per run (default: 100)")
    p.add_argument("--runs", type=int, default=1, help="independent runs; run r uses seed+r (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default: 0)")
    p.add_argument("--budget", type=float, default=None, help="other strategies: simulated seconds (e.g. 12000)")
    p.add_argument("--evaluations", type=int, default=None,
                   help="other strategies: max evaluations (with --evaluator train: trained models per run)")
    p.add_argument("--benchmark", default=None,
                   help="other strategies: benchmark backend for the search signal (default: embedded NB201 table)")
    p.add_argument("--signal-seed", default="mean", choices=("mean", "random"),
                   help="other strategies: 12-epoch valid accuracy as the seed mean (default; the only one the "
                        "embedded table stores) or one random seed per query (official protocol; needs seeds)")
    p.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                   help="a strategy option, repeatable, for every strategy and evaluator (e.g. -o n_candidates=100 "
                        "for AREA's pool M, -o population_size=20 for REA, -o beam=8 for PNAS); a Python literal, "
                        "else a string")
    p.add_argument("--space-option", action="append", default=[], metavar="KEY=VALUE",
                   help="a search-space option, repeatable (e.g. --space-option num_blocks=3, --space-option "
                        "'ops=(\"sep_conv_3x3\",\"identity\")' for a PNAS space of two ops)")
    p.add_argument("--signal-noise", type=float, default=0.0, metavar="SD",
                   help="other strategies: add Gaussian noise of this SD (accuracy points) to every 12-epoch "
                        "signal, a model of the one-seed draw on a seed-mean table (0.87 = the SD estimated from "
                        "the NATS records; default 0)")
    p.add_argument("--cost", default="benchmark", choices=("benchmark", "scaled"),
                   help="other strategies: stored simulated cost (default), or 'scaled' = cifar10-valid cost x "
                        "train-set size ratio for CIFAR-100 / ImageNet16-120 on the embedded table (labelled)")
    p.add_argument("--scores", default=None,
                   help="naswot / area: a stored score file (what `nwot score-space --export` writes: index, arch, "
                        "score, seconds) instead of live scoring")
    p.add_argument("--report-datasets", nargs="+", default=None,
                   help="datasets whose 200-epoch test accuracy is reported (default: --dataset)")
    p.add_argument("--evaluator", default="table", choices=("table", "train"),
                   help="table (default): the benchmark lookup with simulated time (or the zero-cost score for "
                        "--strategy naswot); train: real training on an open space (--space pnas|blockqnn, budget "
                        "= --evaluations trained models)")
    p.add_argument("--preset", default="cpu_tiny",
                   help="train evaluator: training preset (cpu_tiny, pnas_proxy, blockqnn_proxy, lse_cpu_tiny, "
                        "lse_gpu)")
    p.add_argument("--no-inherit", action="store_true",
                   help="train evaluator on a space with weight inheritance (lse): every child trains from a fresh "
                        "initialisation (the ablation)")
    p.add_argument("--workers", type=int, default=None, metavar="K",
                   help="K candidates evaluated at once. Live scoring (--strategy naswot): K scoring processes, one "
                        "thread each (default: measured on this machine, see `nwot info`; no score depends on it). "
                        "--evaluator train: an asynchronous search, K candidates trained at once as Ray tasks, "
                        "results told as they arrive; the state is kept in --state, so rerunning the same command "
                        "resumes it")
    p.add_argument("--address", default=None,
                   help="with --workers: the Ray cluster to run on ('auto' on a node of a running cluster, "
                        "'HOST:6379'); default: a local Ray of K CPUs")
    p.add_argument("--state", default=None,
                   help="with --workers: the controller's SQLite state (default: <checkpoint-dir>/controller.sqlite)")
    p.add_argument("--cpus-per-worker", type=float, default=1, help="with --workers: Ray CPUs (torch threads) per task")
    p.add_argument("--gpus-per-worker", type=float, default=0,
                   help="with --workers: Ray GPUs per task (e.g. 1; 0.5 packs two trainings on a GPU)")
    p.add_argument("--retries", type=int, default=2,
                   help="with --workers: resubmissions of a candidate whose task raised or whose worker died")
    p.add_argument("--train-option", action="append", default=[], metavar="KEY=VALUE",
                   help="train evaluator: override a field of the preset's TrainConfig, repeatable (e.g. "
                        "--train-option epochs=2 --train-option train_size=5000)")
    p.add_argument("--checkpoint-dir", default="nwot_runs/checkpoints",
                   help="train evaluator: per-candidate checkpoints; finished candidates are not retrained")
    p.add_argument("--prescreen", type=int, default=0,
                   help="NASWOT pre-screening pool factor f: score f x the proposals, evaluate the best (0 = off)")
    p.add_argument("--constraint", action="append", default=[], metavar="METRIC<=VALUE",
                   help="a cost bound on the search dataset's network, repeatable, e.g. 'edgegpu_latency<=5' (ms), "
                        "'params<=1.0' (MB), 'flops<=100' (MFLOPs); metrics: params, flops and the HW-NAS-Bench "
                        "latencies / energies (nwot.adapters.hardware.COST_METRICS); operators <=, <, >=, >. "
                        "Infeasible cells are never evaluated, charged or returned; a cell whose metric is not "
                        "measured is infeasible")
    p.add_argument("--pareto", default=None, metavar="METRIC",
                   help="Pareto mode: print each run's non-dominated set of (search signal, METRIC) among the "
                        "evaluated cells, e.g. --pareto edgegpu_latency (--strategy nsga2 optimises both)")
    p.add_argument("--threads", type=int, default=None,
                   help="live scoring: torch intra-op threads (default: measured on this machine, see `nwot info`; "
                        "no score depends on it)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON (runs and summary) at the end")
    fmt.add_argument("--csv", action="store_true", help="print one CSV row per run, as each run finishes")
    add_scoring_args(p)
    p.set_defaults(func=cmd_search)
