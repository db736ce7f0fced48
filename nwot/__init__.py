"""nwot: training-free neural architecture search.

NASWOT score (Mellor et al., "Neural Architecture Search without Training", ICML 2021,
arXiv:2006.04647), search spaces with model builders, benchmark adapters and search strategies.

Public API (imported lazily, so ``import nwot`` is cheap)::

    nwot.score_arch(arch, ...)              -> ScoreResult    one NASWOT score
    nwot.naswot_search(n=100, runs=10, ...) -> SearchReport   NASWOT search

(``nwot.proxies.naswot`` and ``nwot.search`` are the scorer module and the strategies package.)
    nwot.naswot_score(model, images) -> float               the score of any nn.Module
    nwot.get_space(name), nwot.list_spaces()                search spaces
    nwot.get_benchmark(name, ...)                           benchmark adapters
    nwot.get_strategy(name, space, rng, ...), nwot.run_search(...)
    nwot.scoring_batch(dataset, batch_size, seed)           the images
    nwot.load_nb201_table()                                 embedded NB201 table (pandas)
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "score_arch": "nwot.api",
    "naswot_search": "nwot.api",
    "ScoreResult": "nwot.api",
    "SearchReport": "nwot.search.loop",
    "naswot_score": "nwot.proxies.naswot",
    "naswot_kernel": "nwot.proxies.naswot",
    "torch_seed": "nwot.seeding",
    "ScoreConfig": "nwot.evaluators.proxy",
    "ScoreEvaluator": "nwot.evaluators.proxy",
    "get_space": "nwot.spaces.base",
    "list_spaces": "nwot.spaces.base",
    "get_benchmark": "nwot.adapters.base",
    "Benchmark": "nwot.adapters.base",
    "QueryResult": "nwot.adapters.base",
    "TimedBenchmark": "nwot.adapters.base",
    "get_strategy": "nwot.search.base",
    "run_search": "nwot.search.loop",
    "Budget": "nwot.search.loop",
    "Evaluation": "nwot.evaluators.base",
    "SearchResult": "nwot.search.loop",
    "scoring_batch": "nwot.data.datasets",
    "load_nb201_table": "nwot.adapters.embedded",
    "NwotError": "nwot.errors",
    "OutOfSpaceError": "nwot.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'nwot' has no attribute {name!r}")


def __dir__():
    return __all__
