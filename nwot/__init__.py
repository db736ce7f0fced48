"""nwot: training-free neural architecture search.

NASWOT score (Mellor et al., "Neural Architecture Search without Training", ICML 2021,
arXiv:2006.04647), search spaces with model builders, benchmark adapters, evaluators and search
strategies on one driver. Public API (imported lazily, so ``import nwot`` is cheap)::

    nwot.naswot_score(model, images) -> float           the NASWOT score of any nn.Module with nn.ReLU modules
    nwot.score_arch(arch, ...) -> ScoreResult            one architecture's score (+ its benchmark accuracy)
    nwot.naswot_search(n=100, runs=10, ...) -> SearchReport   the NASWOT search
    nwot.run(strategy, space, evaluator, budget, ...) -> SearchReport   the one search driver
    nwot.get_space / list_spaces                         search spaces (sample, mutate, encode, build)
    nwot.get_benchmark / list_benchmarks                 benchmark adapters (query semantics of NATS-Bench)
    nwot.get_evaluator / list_evaluators                 arch -> Evaluation (benchmark, proxy, stored, train)
    nwot.get_strategy / list_strategies                  ask/tell strategies
    nwot.Budget, nwot.ScoreResult, nwot.SearchResult, nwot.SearchReport, nwot.Evaluation
    nwot.scoring_batch(dataset, batch_size, seed)        the images; nwot.torch_seed(seed) a seeded init
    nwot.load_nb201_table()                              the embedded NB201 table (pandas)
    nwot.score_proxies(build, batch, "snip,synflow")     zero-cost proxies on one network (shared passes)
    nwot.score_arch_proxies(arch, "all")                 ... on one architecture, as the proxy store scores it
    nwot.get_proxy / list_proxies                        the proxy registry (24 proxies)
    nwot.proxy_correlations(store_or_export)             per-proxy tau / rho table with bootstrap intervals
    nwot.rank_ensemble(oriented_scores, rule)            label-free rank aggregation (mean_rank, log_rank_product, vote)
    nwot.select_label_free(matrix, size=3)               a proxy subset chosen without accuracies
    nwot.fewshot_draws(x, acc, k)                        few-shot LightGBM, evaluated on held-out cells only
    nwot.ensemble_search(scores, acc, n, runs)           best-of-N search with an ensemble, from stored scores
    nwot.NwotError, nwot.OutOfSpaceError                 what bad input raises

The modules: ``nwot.proxies`` (scores), ``nwot.spaces``, ``nwot.adapters``, ``nwot.evaluators``,
``nwot.scores`` (score store, jobs, files), ``nwot.search``, ``nwot.study``, ``nwot.cli``.
"""
from __future__ import annotations

import importlib
import warnings
from typing import Any

__version__ = "0.2.0"

_EXPORTS = {
    "naswot_score": "nwot.proxies.naswot",
    "naswot_kernel": "nwot.proxies.naswot",
    "score_arch": "nwot.api",
    "naswot_search": "nwot.api",
    "run": "nwot.search.run",
    "get_space": "nwot.spaces.base",
    "list_spaces": "nwot.spaces.base",
    "get_benchmark": "nwot.adapters.base",
    "list_benchmarks": "nwot.adapters.base",
    "get_evaluator": "nwot.evaluators.base",
    "list_evaluators": "nwot.evaluators.base",
    "get_strategy": "nwot.search.base",
    "list_strategies": "nwot.search.base",
    "Budget": "nwot.search.loop",
    "Evaluation": "nwot.evaluators.base",
    "ScoreResult": "nwot.api",
    "SearchResult": "nwot.search.loop",
    "SearchReport": "nwot.search.loop",
    "scoring_batch": "nwot.data.datasets",
    "torch_seed": "nwot.seeding",
    "load_nb201_table": "nwot.adapters.embedded",
    "score_proxies": "nwot.proxies.run",
    "get_proxy": "nwot.proxies.base",
    "list_proxies": "nwot.proxies.base",
    "score_arch_proxies": "nwot.api",
    "proxy_correlations": "nwot.api",
    "rank_ensemble": "nwot.study.ensembles",
    "select_label_free": "nwot.study.ensembles",
    "fewshot_draws": "nwot.study.fewshot",
    "ensemble_search": "nwot.study.ensemble_search",
    "NwotError": "nwot.errors",
    "OutOfSpaceError": "nwot.errors",
}
#: Names of the 0.1 API that moved: still importable from ``nwot`` for one release, with a warning.
_DEPRECATED = {
    "ScoreConfig": ("nwot.scores.scorer", "ScoreConfig"),
    "ScoreEvaluator": ("nwot.evaluators.proxy", "ProxyEvaluator"),
    "Benchmark": ("nwot.adapters.base", "Benchmark"),
    "QueryResult": ("nwot.adapters.base", "QueryResult"),
    "TimedBenchmark": ("nwot.adapters.base", "TimedBenchmark"),
    "run_search": ("nwot.search.loop", "run_search"),
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _DEPRECATED:
        mod, attr = _DEPRECATED[name]
        warnings.warn(f"nwot.{name} is deprecated; use {mod}.{attr}", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'nwot' has no attribute {name!r}")


def __dir__():
    return __all__
