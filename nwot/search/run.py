"""The one search driver, and the setups that give it an evaluator and a report.

Every search goes through :func:`run`::

    run(strategy, space, evaluator, budget, runs=R, seed=S, report=..., scorer=..., prescreen=f, options={...})

The NASWOT search, the strategies on a benchmark's simulated time and the searches with real training
differ only in what they are given (STYLE habit 9):

=========================  =========================================  ===============================
setup                      search evaluator (signal, cost)            report (never seen by the search)
=========================  =========================================  ===============================
:func:`benchmark_setup`    table lookup: 12-epoch valid acc., sim. s  200-epoch test acc. (seed mean)
:func:`proxy_setup`        zero-cost score, live or stored: wall s    200-epoch test acc. (seed mean)
:func:`train_setup`        real training: held-out val. acc., wall s  test acc. of the trained weights
=========================  =========================================  ===============================

``workers=K`` (optionally ``address=`` a Ray cluster, ``state=`` the SQLite file) evaluates K candidates at
once and tells results as they arrive (:mod:`nwot.search.async_run`), resumable after a crash.

Strategies declare what they need (:attr:`~nwot.search.base.Strategy.needs`, ``takes_select``,
``signal``) instead of being listed by name here; ``options`` (the CLI's ``-o KEY=VALUE``) reach every
strategy on every evaluator. Run ``r`` is seeded with ``seed + r``: the strategy's RNG, and, through
``for_run(seed)``, the evaluator's and the scorer's (a benchmark evaluator's seed draws and noise, a
live scorer's batch and init when it follows the run seed).

Protocols (budgets in simulated seconds):

* NAS-Bench-201 (Dong & Yang, ICLR 2020, §5 / Table 5): search on CIFAR-10 (signal = ``cifar10-valid``
  x-valid after 12 epochs), :data:`NB201_BUDGET` = 12,000 s, 500 runs; the chosen arch is reported on
  the three datasets of :data:`~nwot.adapters.base.SEARCH_DATASETS`.
* NATS-Bench (Dong et al., TPAMI 2021, §5): search on each dataset with its own 12-epoch signal,
  :data:`NATS_BUDGETS` = 20,000 / 40,000 / 120,000 s for CIFAR-10 / CIFAR-100 / ImageNet16-120.
"""
from __future__ import annotations

import dataclasses
import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from nwot.adapters.base import SEARCH_DATASETS, Benchmark, get_benchmark
from nwot.errors import NwotError, check_int
from nwot.evaluators.base import Evaluator, evaluator_config
from nwot.evaluators.benchmark import AccuracyReport, BenchmarkEvaluator, TableSignalConfig
from nwot.evaluators.proxy import ProxyEvaluator, StoredScoreEvaluator
from nwot.scores.scorer import ScoreConfig
from nwot.search.async_pool import Workers
from nwot.search.base import get_strategy, strategy_class
from nwot.search.constraints import FeasibleSet, feasible_set
from nwot.search.loop import Budget, SearchReport, SearchResult, TraceRow, run_search
from nwot.search.pareto import CostLookup, search_front
from nwot.search.prescreen import NaswotScreen, Prescreened
from nwot.spaces.base import Arch, SearchSpace, get_space

NB201_BUDGET = 12_000.0
NATS_BUDGETS: Dict[str, float] = {"cifar10": 20_000.0, "cifar100": 40_000.0, "ImageNet16-120": 120_000.0}
#: The datasets the NB201 protocol reports the chosen cell on.
NB201_DATASETS = SEARCH_DATASETS
#: Backend opened when ``benchmark=None``, per space.
DEFAULT_BENCHMARK = {"nb201": "nb201"}

Report = Callable[[Arch], Dict[str, Any]]


def run(strategy: str, space: Union[str, SearchSpace], evaluator: Evaluator, budget: Budget, *, runs: int = 1,
        seed: int = 0, report: Optional[Report] = None, scorer: Optional[Evaluator] = None, prescreen: int = 0,
        options: Optional[Mapping[str, Any]] = None, config: Optional[Mapping[str, Any]] = None,
        progress: Optional[Callable[[TraceRow], None]] = None,
        on_result: Optional[Callable[[SearchResult], None]] = None, feasible: Optional[FeasibleSet] = None,
        pareto: Optional[CostLookup] = None, workers: Union[None, int, Workers] = None, address: Optional[str] = None,
        state=None) -> SearchReport:
    """``runs`` independent searches of ``strategy``; run ``r`` is seeded with ``seed + r`` (module docstring).

    * ``evaluator``: the search evaluator; its ``for_run(seed)``, when it has one, gives each run its own.
    * ``scorer``: a training-free evaluator for strategies that need one (``Strategy.needs``, e.g. AREA)
      and for ``prescreen``; its ``for_run(seed)`` likewise.
    * ``prescreen = f > 0``: NASWOT pre-screening (:mod:`nwot.search.prescreen`) of ``f`` x the proposals.
    * ``options``: the strategy's keyword options (checked against the strategy: unknown ones raise).
    * ``config``: recorded in every result's ``config`` (with the evaluator's, the scorer's and the report's).
    * ``on_result``: called with each finished run (e.g. to stream one line per run).
    * ``feasible``: cost constraints (:mod:`nwot.search.constraints`): every strategy sees the constrained
      space and runs behind the guard, so no infeasible cell is evaluated, charged or returned.
    * ``pareto``: Pareto mode (:mod:`nwot.search.pareto`): each result's ``front`` holds the non-dominated
      (signal, ``pareto.metric``) cells it evaluated, with the report's numbers; multi-objective strategies
      (``needs`` "cost", e.g. NSGA-II) get ``pareto`` as their cost lookup.
    * ``workers = K`` (or a :class:`~nwot.search.async_pool.Workers`): asynchronous evaluation
      (:mod:`nwot.search.async_run`): K Ray tasks evaluate candidates at once and results are told as they
      arrive, within what the strategy tolerates (its ``asynchrony``); ``address`` names a Ray cluster (``"auto"``,
      ``"HOST:6379"``; None = a local Ray of K CPUs); ``state`` the SQLite file that makes the search resumable
      (default ``<evaluator checkpoint_dir>/controller.sqlite``): run the same call again after a crash and it
      goes on where it stopped.
    """
    check_int("runs", runs, minimum=1)
    sp = get_space(space) if isinstance(space, str) else space
    cls = strategy_class(strategy)
    options = dict(options or {})
    if prescreen and scorer is None:
        raise NwotError("NASWOT pre-screening (prescreen > 0) needs a scorer")
    if "scorer" in cls.needs and scorer is None:
        raise NwotError(f"strategy {strategy!r} needs a scorer (a training-free evaluator: live scoring or a "
                        f"stored score file)")
    if "cost" in cls.needs and pareto is None:
        raise NwotError(f"strategy {strategy!r} is multi-objective: give it the cost to minimise (pareto=CostLookup"
                        f"(...); CLI --pareto METRIC)")
    wk = _workers(workers, address, state)
    if wk is not None and prescreen:
        raise NwotError("NASWOT pre-screening (prescreen > 0) charges its scoring through the evaluator, which the "
                        "workers hold; it is not available with workers (LSE has its own screen: -o screen_threshold)")
    if wk is None:
        return _runs(strategy, sp, cls, evaluator, budget, runs, seed, report, scorer, prescreen, options, config,
                     progress, on_result, feasible, pareto, None)
    from nwot.search.async_run import check_resumable, open_pool, state_path
    from nwot.search.async_store import AsyncStore

    check_resumable(evaluator)
    with AsyncStore(state_path(wk, evaluator)) as store:
        pool = open_pool(wk)
        try:
            return _runs(strategy, sp, cls, evaluator, budget, runs, seed, report, scorer, prescreen, options, config,
                         progress, on_result, feasible, pareto, (wk, pool, store))
        finally:
            pool.close()


def _workers(workers, address, state) -> Optional[Workers]:
    if workers is None:
        if address is not None or state is not None:
            raise NwotError("address / state are for asynchronous searches: give workers=K too (CLI --workers K)")
        return None
    if isinstance(workers, Workers):
        return dataclasses.replace(workers, **{k: v for k, v in (("address", address), ("state", state))
                                               if v is not None})
    return Workers(workers, address=address, state=None if state is None else str(state))


def _runs(strategy, sp, cls, evaluator, budget, runs, seed, report, scorer, prescreen, options, config, progress,
          on_result, feasible, pareto, parallel) -> SearchReport:
    results = []
    for r in range(runs):
        s = seed + r
        rng = random.Random(s)
        ev = _for_run(evaluator, s)
        sc = _for_run(scorer, s) if scorer is not None else None
        rep = _for_run(report, s) if report is not None else None
        kwargs = dict(options)
        if "scorer" in cls.needs or ("scorer" in cls.wants and sc is not None):
            kwargs["scorer"] = sc
        if "cost" in cls.needs:
            kwargs["cost"] = pareto
        run_space = sp if feasible is None else feasible.view(sp)
        guard = None if feasible is None else feasible.guard
        if prescreen:
            screen = NaswotScreen(sc, run_space)
            strat = Prescreened(run_space, rng, inner=strategy, screen=screen, factor=prescreen, inner_kwargs=kwargs,
                                wrap=guard)
            ev = screen.charge(ev)
        else:
            strat = get_strategy(strategy, run_space, rng, **kwargs)
            if guard is not None:
                strat = guard(strat)
        if parallel is None:
            res = run_search(strat, ev, budget, seed=s, report=rep, progress=progress)
        else:
            res = _run_async(strat, ev, budget, s, rep, progress, parallel, strategy, options, prescreen, feasible)
        res.config.update({"space": sp.name, "budget_seconds": budget.seconds, "budget_evaluations": budget.evaluations,
                           **dict(config or {}), "search_evaluator": evaluator_config(ev)})
        if sc is not None:
            res.config["scorer"] = evaluator_config(sc)
        if prescreen:
            res.config["prescreen_factor"] = prescreen
        if feasible is not None:
            res.config.update({**feasible.config(), **run_space.config()})
        if pareto is not None:
            res.front = search_front(res.trace, pareto, sp.decode, rep)
            res.config.update(pareto.config())
        report_cfg = getattr(report, "config", None)
        if callable(report_cfg):
            res.config.update(report_cfg())
        results.append(res)
        if on_result is not None:
            on_result(res)
    return SearchReport(results)


def _run_async(strat, ev, budget, seed, report, progress, parallel, name, options, prescreen, feasible) -> SearchResult:
    from nwot.search.async_run import AsyncSearch, async_identity, run_key

    wk, pool, store = parallel
    ident = async_identity(name, options, seed, strat.space, evaluator_config(ev), prescreen,
                           {"feasible": feasible.config() if feasible is not None else None})
    run_id, _ = store.open_run(run_key(ident), ident)
    return AsyncSearch(strat, ev, budget, store=store, run_id=run_id, pool=pool, workers=wk, seed=seed,
                       report=report, progress=progress).run()


def _for_run(evaluate: Evaluator, seed: int) -> Evaluator:
    fn = getattr(evaluate, "for_run", None)
    return fn(seed) if callable(fn) else evaluate


# --------------------------------------------------------------------------------------------------
# Setups: what a search on a table, on a zero-cost score or with real training is given.
# --------------------------------------------------------------------------------------------------


@dataclass
class SearchSetup:
    """The pieces :func:`run` takes besides the strategy and the budget."""

    space: SearchSpace
    evaluator: Evaluator
    report: Optional[Report] = None
    scorer: Optional[Evaluator] = None
    config: Dict[str, Any] = field(default_factory=dict)
    feasible: Optional[FeasibleSet] = None  # cost constraints (None: unconstrained)
    benchmark: Optional[Benchmark] = None  # the table constraints and Pareto costs are looked up in

    def run(self, strategy: str, budget: Budget, **kwargs: Any) -> SearchReport:
        """:func:`run` with this setup's space, evaluator, report, scorer, constraints and config."""
        return run(strategy, self.space, self.evaluator, budget, report=self.report, scorer=self.scorer,
                   config={**self.config, **kwargs.pop("config", {})}, feasible=self.feasible, **kwargs)

    def cost_lookup(self, metric: str) -> CostLookup:
        """Pareto mode's second objective, ``metric`` of the search dataset's network, from this setup's table."""
        if self.benchmark is None:
            raise NwotError(f"Pareto mode looks {metric!r} up in a benchmark table; this setup has none")
        return CostLookup(self.benchmark, self.space, metric, self.config.get("dataset", "cifar10"))


def open_benchmark(benchmark: Union[None, str, Benchmark], space: SearchSpace) -> Optional[Benchmark]:
    """``benchmark`` as a :class:`~nwot.adapters.base.Benchmark`: an instance, a registered name, or the
    space's default (the embedded table for NB201); ``None`` if the space has none."""
    if isinstance(benchmark, Benchmark):
        return benchmark
    if benchmark is None:
        name = DEFAULT_BENCHMARK.get(space.name)
        return None if name is None else get_benchmark(name)
    if isinstance(benchmark, str):
        return get_benchmark(benchmark)
    raise NwotError(f"benchmark must be a Benchmark, a registered name or None, got {benchmark!r}")


def make_scorer(space: SearchSpace, benchmark: Optional[Benchmark], scores, *, dataset: str = "cifar10",
                score_config: Optional[Mapping[str, Any]] = None, data_dir=None,
                build_kwargs: Optional[Mapping[str, Any]] = None, threads: Optional[int] = None,
                workers: Optional[int] = None) -> Evaluator:
    """A training-free evaluator: stored scores (``scores`` = a score file or DataFrame, keyed by benchmark
    index), an evaluator given as is, or live scoring (``scores=None``; each run draws its batch and init
    from its seed unless ``score_config`` fixes ``batch_seed`` / ``init_seed``; ``threads`` / ``workers``: how
    a batch of cells uses the machine, :class:`~nwot.scores.scorer.Scorer`)."""
    if scores is None:
        kw = {"dataset": dataset, **dict(score_config or {})}
        follow = not ({"batch_seed", "init_seed"} & set(kw))
        return ProxyEvaluator(space, ScoreConfig(**kw), data_dir=data_dir, build_kwargs=dict(build_kwargs or {}),
                              follow_run_seed=follow, threads=threads, workers=workers)
    if callable(scores) and not isinstance(scores, (str, Path)):
        return scores
    if benchmark is None:
        raise NwotError(f"stored scores are keyed by benchmark index; space {space.name!r} needs a benchmark")
    return StoredScoreEvaluator.for_benchmark(scores, benchmark, space)


def _report(bench: Optional[Benchmark], sp: SearchSpace, datasets: Optional[Sequence[str]], dataset: str):
    return AccuracyReport(bench, sp, tuple(datasets or (dataset,))) if bench is not None else None


def benchmark_setup(space: Union[str, SearchSpace] = "nb201", dataset: str = "cifar10", benchmark=None, *,
                    signal_seed: str = "mean", hp: str = "12", cost: str = "benchmark", signal_noise: float = 0.0,
                    report_datasets: Optional[Sequence[str]] = None, scores=None,
                    score_config: Optional[Mapping[str, Any]] = None, data_dir=None,
                    constraints: Sequence[Any] = ()) -> SearchSetup:
    """Search on a benchmark's ``hp``-epoch validation accuracy, charged its simulated seconds
    (:class:`~nwot.evaluators.benchmark.BenchmarkEvaluator`; ``signal_seed``, ``cost``, ``signal_noise``:
    :class:`~nwot.evaluators.benchmark.TableSignalConfig`), reporting the 200-epoch test accuracy on
    ``report_datasets`` (default ``[dataset]``). The scorer (for AREA and pre-screening) is ``scores``:
    a score file, else live scoring. ``constraints`` (``Constraint``s or strings such as ``"edgegpu_latency<=5"``)
    bound the cost of ``dataset``'s network, looked up in the benchmark (:mod:`nwot.search.constraints`)."""
    sp = get_space(space) if isinstance(space, str) else space
    bench = open_benchmark(benchmark, sp)
    if bench is None:
        raise NwotError(f"space {sp.name!r} has no default benchmark to search on; pass benchmark= (a registered "
                        f"name or a Benchmark)")
    cfg = TableSignalConfig(dataset=dataset, signal_seed=signal_seed, hp=hp, cost=cost, signal_noise=signal_noise)
    evaluator = BenchmarkEvaluator(bench, sp, cfg, rng=random.Random(0) if cfg.needs_rng else None)
    scorer = make_scorer(sp, bench, scores, dataset=dataset, score_config=score_config, data_dir=data_dir)
    return SearchSetup(sp, evaluator, _report(bench, sp, report_datasets, dataset), scorer, {"dataset": dataset},
                       feasible_set(bench, sp, constraints, dataset), bench)


def proxy_setup(space: Union[str, SearchSpace] = "nb201", dataset: str = "cifar10", benchmark=None, *, scores=None,
                score_config: Optional[Mapping[str, Any]] = None, report_datasets: Optional[Sequence[str]] = None,
                data_dir=None, constraints: Sequence[Any] = (), threads: Optional[int] = None,
                workers: Optional[int] = None) -> SearchSetup:
    """Search on a zero-cost score (the NASWOT search): stored (``scores`` = a score file) or live, each
    run drawing its batch and init from its seed (Mellor et al. §4). Reported on the space's benchmark
    when it has one; ``constraints`` as in :func:`benchmark_setup`; ``threads`` / ``workers``: how live
    scoring uses the machine (default: measured; no score depends on it)."""
    sp = get_space(space) if isinstance(space, str) else space
    bench = open_benchmark(benchmark, sp)
    evaluator = make_scorer(sp, bench, scores, dataset=dataset, score_config=score_config, data_dir=data_dir,
                            threads=threads, workers=workers)
    return SearchSetup(sp, evaluator, _report(bench, sp, report_datasets, dataset), None, {"dataset": dataset},
                       feasible_set(bench, sp, constraints, dataset), bench)


class TestReport:
    """``report``: test accuracy of the chosen cell's trained weights on the first ``size`` test images."""

    def __init__(self, evaluate, test, size: Optional[int]) -> None:
        self.evaluate, self.test, self.size = evaluate, test, size

    def for_run(self, seed: int) -> TestReport:
        """The report of search run ``seed``: reads the weights that run's evaluator trained."""
        return TestReport(_for_run(self.evaluate, seed), self.test, self.size)

    def __call__(self, arch: Arch) -> Dict[str, Any]:
        n = len(self.test) if self.size is None else min(self.size, len(self.test))
        return {"test_accuracy": self.evaluate.test_accuracy(arch, self.test, n), "test_images": n}

    def config(self) -> Dict[str, Any]:
        return {"report": "test_accuracy (trained weights)", "test_images": self.size}


def train_setup(space: Union[str, SearchSpace] = "pnas", *, preset: str = "cpu_tiny",
                train_overrides: Optional[Mapping[str, Any]] = None, build_kwargs: Optional[Mapping[str, Any]] = None,
                space_kwargs: Optional[Mapping[str, Any]] = None, data_dir=None, checkpoint_dir=None,
                test_images: Optional[int] = 2000, screen_batch_size: int = 64, inherit: bool = True,
                data=None, test=None) -> SearchSetup:
    """Search with real training (:class:`~nwot.evaluators.train.TrainEvaluator`): preset ``preset`` with
    ``train_overrides``, on CIFAR-10 from ``data_dir`` (default ``$NWOT_DATA_DIR``; or the given ``data`` /
    ``test`` :class:`~nwot.data.training.ImageData`) with validation images held out of the training split;
    per-candidate checkpoints in ``checkpoint_dir`` (finished candidates are not retrained).

    * Networks: ``space.build(arch, **build_kwargs)``, default the build kwargs the space declares for
      ``preset`` (its ``train_build``, :func:`~nwot.spaces.base.train_build_kwargs`; none: its own defaults).
    * Seeds: run ``r`` trains with ``config.seed = seed + r`` (init, data split, batch order), unless
      ``train_overrides`` fixes ``seed``.
    * Weight inheritance: on a space that declares it (``weight_inheritance``, e.g. ``lse``) the evaluator gets
      the lineage hook (:class:`~nwot.evaluators.lineage.LseLineage`: learning-rate gene, children start from
      their parent's trained weights), its weights kept under ``checkpoint_dir/weights`` (in memory without a
      checkpoint dir); ``inherit=False`` is the ablation (fresh initialisation for every child).
    * Report: test accuracy of the chosen cell's trained weights on the first ``test_images`` test images
      (None = all, 0 = none; needs ``checkpoint_dir``).
    * Scorer (pre-screening, LSE's NASWOT screen): live NASWOT of the networks built exactly as the evaluator
      builds them, on ``screen_batch_size`` images; each run draws its batch and init from its seed.
    """
    from nwot.data.training import cifar10_data
    from nwot.evaluators.lineage import LseLineage, WeightStore
    from nwot.evaluators.train import TrainEvaluator, train_preset
    from nwot.spaces.base import train_build_kwargs

    if test_images != 0 and checkpoint_dir is None:
        raise NwotError("reporting test accuracy reloads the trained weights: pass checkpoint_dir (or test_images=0)")
    overrides = dict(train_overrides or {})
    cfg = train_preset(preset, **overrides)
    sp = get_space(space, **dict(space_kwargs or {})) if isinstance(space, str) else space
    build = train_build_kwargs(sp, preset) if build_kwargs is None else dict(build_kwargs)
    hook = None
    if getattr(sp, "weight_inheritance", False):
        folder = None if checkpoint_dir is None else Path(checkpoint_dir) / "weights"
        hook = LseLineage(WeightStore(folder), inherit=inherit)
    elif not inherit:
        raise NwotError(f"inherit=False is the weight-inheritance ablation; space {sp.name!r} has no weight "
                        f"inheritance (spaces that declare weight_inheritance: lse)")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*partial.*")
        train = cifar10_data(data_dir) if data is None else data
        if test is None and test_images != 0:
            test = cifar10_data(data_dir, train=False)
    evaluator = TrainEvaluator(sp, cfg, train, build_kwargs=build, checkpoint_dir=checkpoint_dir, hook=hook,
                               follow_run_seed="seed" not in overrides)
    report = TestReport(evaluator, test, test_images) if test is not None and test_images != 0 else None
    device = None if cfg.device == "auto" else cfg.device
    scorer = make_scorer(sp, None, None, score_config={"batch_size": screen_batch_size, "device": device},
                         data_dir=data_dir, build_kwargs=build)
    follow = "seed" not in overrides
    # each run's exact training config (its seed included) is in its config["search_evaluator"]
    config = {"evaluator": "train", "train_preset": preset, "train_config": {**cfg.key(), **({"seed": "run seed"}
              if follow else {})}, "build_kwargs": build}
    if hook is not None:
        config["inherit"] = inherit
    return SearchSetup(sp, evaluator, report, scorer, config)


# --------------------------------------------------------------------------------------------------
# Conveniences: a setup and run() in one call.
# --------------------------------------------------------------------------------------------------


def run_strategy(strategy: str, space: str = "nb201", dataset: str = "cifar10", budget_seconds: Optional[float] = None,
                 evaluations: Optional[int] = None, runs: int = 1, seed: int = 0, benchmark=None, scores=None, *,
                 signal_seed: str = "mean", cost: str = "benchmark", hp: str = "12", signal_noise: float = 0.0,
                 report_datasets: Optional[Sequence[str]] = None, score_config: Optional[Dict[str, Any]] = None,
                 progress: Optional[Callable[[TraceRow], None]] = None, constraints: Sequence[Any] = (),
                 **strategy_kwargs: Any) -> List[SearchResult]:
    """``runs`` searches of ``strategy`` on a tabular space: on the zero-cost score when the strategy searches
    on one (``signal == "score"``: the NASWOT search, :func:`proxy_setup`), else on the benchmark's simulated
    time (:func:`benchmark_setup`). Budget: ``budget_seconds`` (e.g. 12,000 s for NB201, :data:`NATS_BUDGETS`)
    and/or ``evaluations``. ``constraints``: cost bounds (``"edgegpu_latency<=5"``, :mod:`nwot.search.constraints`).
    ``strategy_kwargs`` are the strategy's options."""
    if budget_seconds is None and evaluations is None:
        raise NwotError(f"strategy {strategy!r} needs a budget: budget_seconds (simulated seconds; NB201 12000, "
                        f"NATS {', '.join(f'{d} {int(b)}' for d, b in NATS_BUDGETS.items())}) or evaluations")
    budget = Budget(seconds=budget_seconds, evaluations=evaluations)
    if strategy_class(strategy).signal == "score":
        setup = proxy_setup(space, dataset, benchmark, scores=scores, score_config=score_config,
                            report_datasets=report_datasets, constraints=constraints)
    else:
        setup = benchmark_setup(space, dataset, benchmark, signal_seed=signal_seed, hp=hp, cost=cost,
                                signal_noise=signal_noise, report_datasets=report_datasets, scores=scores,
                                score_config=score_config, constraints=constraints)
    return setup.run(strategy, budget, runs=runs, seed=seed, options=strategy_kwargs, progress=progress).runs


def run_trained_search(strategy: str, space: str = "pnas", *, evaluations: int, runs: int = 1, seed: int = 0,
                       preset: str = "cpu_tiny", train_overrides: Optional[Mapping[str, Any]] = None,
                       build_kwargs: Optional[Mapping[str, Any]] = None,
                       space_kwargs: Optional[Mapping[str, Any]] = None,
                       data_dir=None, checkpoint_dir=None, prescreen: int = 0, test_images: Optional[int] = 2000,
                       progress: Optional[Callable[[TraceRow], None]] = None,
                       **strategy_kwargs: Any) -> List[SearchResult]:
    """``runs`` searches of ``strategy`` on an open space with ``evaluations`` trained models each
    (:func:`train_setup`); ``prescreen = f > 0`` adds NASWOT pre-screening; ``strategy_kwargs`` are the
    strategy's options (e.g. PNAS's ``beam``)."""
    check_int("evaluations (trained models per run)", evaluations, minimum=1)
    setup = train_setup(space, preset=preset, train_overrides=train_overrides, build_kwargs=build_kwargs,
                        space_kwargs=space_kwargs, data_dir=data_dir, checkpoint_dir=checkpoint_dir,
                        test_images=test_images)
    return setup.run(strategy, Budget(evaluations=evaluations), runs=runs, seed=seed, prescreen=prescreen,
                     options=strategy_kwargs, progress=progress).runs
