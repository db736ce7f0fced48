"""Worker processes that apply one evaluator to many archs, results in order (``ScoreEvaluator.map``).

Each worker holds its own copy of the evaluator (space, score config, the scoring batch) and runs
one torch / BLAS thread, so W workers use W cores without OpenMP barriers between them. A cell's
score depends only on the arch, the config and the batch, never on which worker scored it, so the
results equal the serial ones bit for bit (``tests/scores/test_parallel_scoring.py``).

On Linux the workers are forked: they start in milliseconds and inherit the evaluator, the batch
and the machine calibration without pickling (the pool is created before any of its helper threads,
and a forked worker only ever runs one intra-op thread, the ``DataLoader`` worker pattern).
Elsewhere they are spawned and receive the evaluator pickled. Workers ignore Ctrl-C; the parent
terminates them when the iteration ends early, fails or is interrupted.
"""
from __future__ import annotations

import multiprocessing as mp
import signal
from typing import Any, Callable, Iterable, Iterator, Optional

_WORKER_FN: Optional[Callable[[Any], Any]] = None


def _init_worker(fn, choices) -> None:
    import torch

    from nwot.machine import calibration

    global _WORKER_FN
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    calibration.seed(choices)  # the parent's measured choices (no re-measuring per worker)
    calibration.set_blas_threads(1)
    if fn is not None:  # spawned: the evaluator arrives pickled; forked: inherited in _WORKER_FN
        _WORKER_FN = fn


def _run(item):
    return _WORKER_FN(item)


def start_method() -> str:
    return "fork" if "fork" in mp.get_all_start_methods() else "spawn"


def imap_ordered(fn: Callable[[Any], Any], items: Iterable[Any], workers: int) -> Iterator[Any]:
    """``fn(item)`` for each item, computed by ``workers`` processes, yielded in the items' order.

    Results stream as they finish (progress bars advance per item). Leaving the loop early (a budget,
    an exception, Ctrl-C) terminates the workers.
    """
    from nwot.machine import calibration

    global _WORKER_FN
    method = start_method()
    ctx = mp.get_context(method)
    _WORKER_FN = fn
    pool = ctx.Pool(workers, initializer=_init_worker,
                    initargs=(None if method == "fork" else fn, calibration.snapshot()))
    try:
        yield from pool.imap(_run, items, chunksize=1)
        pool.close()
        pool.join()
    finally:
        pool.terminate()
        _WORKER_FN = None
