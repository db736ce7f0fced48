"""Benchmark adapters: one query interface (:class:`~nwot.adapters.base.Benchmark`) over many backends."""
from nwot.adapters.base import (  # noqa: F401
                   DATASET_SPLITS,
                   Benchmark,
                   Metric,
                   QueryResult,
                   SplitResult,
                   TimedBenchmark,
                   TrainEval,
                   get_benchmark,
                   list_benchmarks,
                   register_benchmark,
                   remap_metric,
                   resolve_seed,
                   search_dataset,
)
