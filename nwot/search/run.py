"""Run a registered strategy on a benchmark's simulated time: what ``nwot search`` calls.

Protocols (budgets in simulated seconds):

* NAS-Bench-201 (Dong & Yang, ICLR 2020, §5 / Table 5): search on CIFAR-10 (signal = ``cifar10-valid``
  x-valid after 12 epochs), :data:`NB201_BUDGET` = 12,000 s, 500 runs; the chosen arch is reported
  on all three datasets (``report_datasets=NB201_DATASETS``).
* NATS-Bench (Dong et al., TPAMI 2021, §5): search on each dataset with its own 12-epoch signal,
  :data:`NATS_BUDGETS` = 20,000 / 40,000 / 120,000 s for CIFAR-10 / CIFAR-100 / ImageNet16-120.
"""
from __future__ import annotations

import random
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from nwot.errors import NwotError
from nwot.spaces.base import SearchSpace, get_space
from nwot.search.loop import Budget, SearchResult, TraceRow, run_search
from nwot.evaluators.base import Evaluator
from nwot.search.base import get_strategy

NB201_BUDGET = 12_000.0
NATS_BUDGETS: Dict[str, float] = {"cifar10": 20_000.0, "cifar100": 40_000.0, "ImageNet16-120": 120_000.0}
NB201_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
#: Strategies whose search evaluator is the NASWOT score (the rest use the benchmark lookup).
SCORE_SEARCH = ("naswot",)
#: Strategies that take a NASWOT scorer as a second evaluator.
SCORE_ASSISTED = ("area",)
#: Backend opened when ``benchmark=None``, per space.
DEFAULT_BENCHMARK = {"nb201": "nb201"}


def open_benchmark(benchmark, space: SearchSpace):
    """``benchmark`` as a :class:`~nwot.adapters.base.Benchmark`: an instance, a registered name, or the
    space's default (the embedded table for NB201); ``None`` if the space has none."""
    from nwot.adapters.base import Benchmark, get_benchmark

    if isinstance(benchmark, Benchmark):
        return benchmark
    if benchmark is None:
        name = DEFAULT_BENCHMARK.get(space.name)
        return None if name is None else get_benchmark(name)
    if isinstance(benchmark, str):
        return get_benchmark(benchmark)
    raise NwotError(f"benchmark must be a Benchmark, a registered name or None, got {benchmark!r}")


def make_scorer(space: SearchSpace, benchmark, scores, *, dataset: str, seed: int,
                score_config: Optional[Dict[str, Any]] = None) -> Evaluator:
    """NASWOT evaluator: stored scores (``scores`` = file path, DataFrame or evaluator) or live scoring
    (``scores=None``; batch and init seeded with the run's ``seed``)."""
    from nwot.evaluators.stored import StoredScoreEvaluator

    if scores is None:
        from nwot.evaluators.proxy import ScoreConfig, ScoreEvaluator

        kw = {"dataset": dataset, "batch_seed": seed, "init_seed": seed, **(score_config or {})}
        return ScoreEvaluator(space, ScoreConfig(**kw))
    if callable(scores) and not isinstance(scores, (str, Path)):
        return scores
    if benchmark is None:
        raise NwotError(f"stored NASWOT scores are keyed by benchmark index; space {space.name!r} needs a benchmark")
    return StoredScoreEvaluator.for_benchmark(scores, benchmark, space)


def _config(obj) -> Dict[str, Any]:
    """What an evaluator records about itself: its ``config()``, else its frozen ``cfg`` dataclass."""
    cfg = getattr(obj, "config", None)
    if callable(cfg):
        return cfg()
    cfg = getattr(obj, "cfg", None)
    if cfg is not None and is_dataclass(cfg):
        return {"evaluator": type(obj).__name__, **asdict(cfg)}
    return {"evaluator": type(obj).__name__}


def run_strategy(strategy: str, space: str = "nb201", dataset: str = "cifar10", budget_seconds: Optional[float] = None,
                 evaluations: Optional[int] = None, runs: int = 1, seed: int = 0, benchmark=None, scores=None, *,
                 signal_seed: str = "mean", cost: str = "benchmark", hp: str = "12", signal_noise: float = 0.0,
                 report_datasets: Optional[Sequence[str]] = None, score_config: Optional[Dict[str, Any]] = None,
                 progress: Optional[Callable[[TraceRow], None]] = None, **strategy_kwargs: Any) -> List[SearchResult]:
    """``runs`` independent searches of ``strategy`` on ``space``; run ``r`` is seeded with ``seed + r``.

    * Search evaluator: the benchmark lookup (:class:`~nwot.evaluators.benchmark.TableEvaluator`: valid
      accuracy after ``hp`` epochs on ``dataset``, charged its simulated seconds) for every strategy
      but ``naswot``, whose evaluator is the NASWOT score. ``signal_seed`` ("mean" default, the only one
      the embedded table supports; "random" = the official per-query seed draw) and ``cost``
      ("benchmark" or "scaled", see :mod:`nwot.evaluators.benchmark`) are recorded in each result's config;
      ``signal_noise`` adds Gaussian noise of that SD to every signal (a model of the seed draw).
    * NASWOT scores (``naswot``, and ``area``'s pre-scoring): ``scores`` = a stored score file (CSV
      ``index,score,seconds``) or ``None`` for live scoring (``score_config`` = extra
      :class:`~nwot.evaluators.proxy.ScoreConfig` fields).
    * Budget: ``budget_seconds`` of simulated time and/or ``evaluations`` (e.g. 12,000 s for NB201,
      :data:`NATS_BUDGETS` for NATS-Bench; ``naswot``: ``evaluations=N``).
    * Report: 200-epoch test accuracy (seed mean) of the best-by-signal arch on ``report_datasets``
      (default: ``[dataset]``), when the space has a benchmark.
    * ``benchmark``: a :class:`~nwot.adapters.base.Benchmark`, a registered name, or ``None`` (NB201:
      the embedded table). ``strategy_kwargs`` go to the strategy (e.g. ``population_size=10``).
    """
    from nwot.evaluators.benchmark import AccuracyReport, TableEvaluator, TableSignalConfig

    if runs < 1:
        raise NwotError(f"runs must be >= 1, got {runs}")
    if budget_seconds is None and evaluations is None:
        raise NwotError(f"strategy {strategy!r} needs a budget: budget_seconds (simulated seconds; NB201 12000, "
                        f"NATS {', '.join(f'{d} {int(b)}' for d, b in NATS_BUDGETS.items())}) or evaluations")
    budget = Budget(seconds=budget_seconds, evaluations=evaluations)
    sp = get_space(space)
    bench = open_benchmark(benchmark, sp)
    uses_table = strategy not in SCORE_SEARCH
    if uses_table and bench is None:
        raise NwotError(f"strategy {strategy!r} searches on a benchmark's validation accuracy; space {space!r} has "
                        f"no default benchmark, pass benchmark=")
    signal_cfg = TableSignalConfig(dataset=dataset, signal_seed=signal_seed, hp=hp, cost=cost,
                                   signal_noise=signal_noise) if uses_table else None
    report = AccuracyReport(bench, sp, report_datasets or (dataset,)) if bench is not None else None
    if scores is not None and (strategy in SCORE_SEARCH or strategy in SCORE_ASSISTED):
        scores = make_scorer(sp, bench, scores, dataset=dataset, seed=seed)  # read a score file once for all runs
    results = []
    for r in range(runs):
        s = seed + r
        kwargs = dict(strategy_kwargs)
        scorer = None
        if strategy in SCORE_SEARCH or strategy in SCORE_ASSISTED:
            scorer = make_scorer(sp, bench, scores, dataset=dataset, seed=s, score_config=score_config)
        if strategy in SCORE_ASSISTED:
            kwargs["scorer"] = scorer
        if uses_table:
            rng = random.Random(f"signal-seed/{s}") if signal_seed == "random" or signal_noise > 0 else None
            evaluate: Evaluator = TableEvaluator(bench, sp, signal_cfg, rng=rng)
        else:
            evaluate = scorer
        strat = get_strategy(strategy, sp, random.Random(s), **kwargs)
        res = run_search(strat, evaluate, budget, seed=s, report=report, progress=progress)
        res.config.update({"space": space, "dataset": dataset, "budget_seconds": budget_seconds,
                           "budget_evaluations": evaluations, "search_evaluator": _config(evaluate)})
        if scorer is not None and strategy in SCORE_ASSISTED:
            res.config["scorer"] = _config(scorer)
        if report is not None:
            res.config.update(report.config())
        results.append(res)
    return results
