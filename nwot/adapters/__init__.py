"""Benchmark adapters: one query interface (:class:`~nwot.adapters.base.Benchmark`) over many backends."""
from .base import (Benchmark, Metric, QueryResult, SplitResult, TimedBenchmark, get_benchmark,  # noqa: F401
                   register_benchmark)
