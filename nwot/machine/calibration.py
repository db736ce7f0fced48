"""Machine-dependent choices, each made by timing the candidates once per process (STYLE.md habit 13).

nwot's speed depends on the CPU: ``torch._int_mm`` is ~5x faster than float32 on a CPU with AVX-512
VNNI and ~20x slower without it (torch then runs a scalar loop), glibc's allocator can page-fault
every activation in again, and whether threads or processes use the cores better depends on the
load. So no choice is made from flags or device type: each is timed on a small representative
workload the first time it is needed, the fastest *exact* candidate is kept for the process, and the
timings are kept for ``nwot info``. Single-threaded candidates are timed in thread CPU time (a busy
machine would otherwise decide by who got the core); the parallel choice in wall time (that is what
it is about). This module holds the timing and caching machinery and the allocator choice; each other
choice lives beside what it chooses between (see the table). Every candidate gives the same numbers
(the Gram methods the same integers, the two poolings the same bits), so a choice changes speed only.

=============  ==============================================  ==========================  =======================
choice         candidates                                      timed on                    force with
=============  ==============================================  ==========================  =======================
gram method    ``int8``, ``float32``, ``float32_syrk``,        codes + ``c cᵀ`` of a       ``NWOT_GRAM_METHOD``
               ``float64``, ``bitpack``                        128 x 16,384 ReLU output
               (:mod:`nwot.proxies.gram_choice`)
pool           ``shift_add`` (nwot), ``aten``                  3x3 average pool of          ``NWOT_POOL_METHOD``
               (:mod:`nwot.spaces.nb201.pooling`)
               (``F.avg_pool2d``): bit-identical               (32, 16, 32, 32)
allocator      ``keep_freed_memory`` (glibc mallopt),          a forward-like sequence of   ``NWOT_KEEP_FREED_MEMORY``
               ``glibc_default``                               0.5-8 MB activations         (1 / 0)
parallel       serial, intra-op threads, worker processes      conv + BN + ReLU + Gram     ``NWOT_THREADS``,
               (:mod:`nwot.scores.parallel`)                  at batch 64                 ``NWOT_WORKERS``
=============  ==============================================  ==========================  =======================

The OpenMP wait policy is read by OpenMP when torch is imported, so it cannot be switched (or timed)
inside a process: ``nwot`` sets ``OMP_WAIT_POLICY=PASSIVE`` before importing torch unless the user set
it, and the parallel choice is timed under whatever policy is in force (spinning threads on a busy
machine then lose to workers, which run one thread each and never wait at an OpenMP barrier).
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple

import torch

from nwot.errors import NwotError

ENV_GRAM = "NWOT_GRAM_METHOD"
ENV_POOL = "NWOT_POOL_METHOD"
ENV_ALLOCATOR = "NWOT_KEEP_FREED_MEMORY"
ENV_THREADS = "NWOT_THREADS"
ENV_WORKERS = "NWOT_WORKERS"
POOL_METHODS: Tuple[str, ...] = ("shift_add", "aten")
ALLOCATOR_SETTINGS: Tuple[str, ...] = ("keep_freed_memory", "glibc_default")
#: Representative block of the Gram timing: a stage-1 NB201 ReLU output (16 x 32 x 32 units, batch 128).
GRAM_BLOCK = (128, 16384)
#: Columns of the screening block: every method is timed on it (best of 3; once if already 9x slower than
#: the fastest so far); those within :data:`SCREEN_FACTOR` of the fastest are timed again on the full
#: block (so a very slow method costs little).
SCREEN_COLUMNS = 2048
SCREEN_FACTOR = 3.0


@dataclass(frozen=True)
class Choice:
    """One machine-specific choice and the measurements behind it."""

    what: str  # "gram method", "pool", "allocator", "parallel"
    chosen: str  # the candidate kept
    source: str  # "measured", "NWOT_...=value" (forced), "option", or why nothing was timed
    seconds: Dict[str, float] = field(default_factory=dict)  # candidate -> best seconds on the workload
    screen: Dict[str, float] = field(default_factory=dict)  # candidate -> seconds on the screening block
    workload: str = ""  # what was timed
    cost_s: float = 0.0  # wall seconds the measurement took

    def as_dict(self) -> dict:
        return {"what": self.what, "chosen": self.chosen, "source": self.source, "seconds": dict(self.seconds),
                "screen": dict(self.screen), "workload": self.workload, "cost_s": self.cost_s}


_LOCK = threading.RLock()
_CACHE: Dict[tuple, object] = {}


def reset() -> None:
    """Forget every cached choice (tests; a later call measures again)."""
    with _LOCK:
        _CACHE.clear()


def cached_choices() -> Dict[str, dict]:
    """The choices made so far in this process (``what`` -> :meth:`Choice.as_dict`)."""
    with _LOCK:
        out = {}
        for key, value in _CACHE.items():
            c = getattr(value, "choice", value)  # a ParallelPlan carries its Choice
            if isinstance(c, Choice):
                out[" ".join(map(str, key))] = c.as_dict()
        return out


def seed(choices: Dict[tuple, object]) -> None:
    """Install choices made by another process (worker processes inherit their parent's decisions)."""
    with _LOCK:
        _CACHE.update(choices)


def snapshot() -> Dict[tuple, object]:
    with _LOCK:
        return dict(_CACHE)


def _cached(key: tuple, make: Callable[[], object]):
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = make()
        return _CACHE[key]


def best_seconds(fn: Callable[[], object], repeats: int, clock: Callable[[], float] = time.perf_counter
                 ) -> Tuple[float, object]:
    """``(min seconds over repeats, last result)`` of ``fn()`` by ``clock`` (default: wall)."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = clock()
        out = fn()
        best = min(best, clock() - t0)
    return best, out


def cpu_seconds(fn: Callable[[], object], repeats: int) -> Tuple[float, object]:
    """:func:`best_seconds` by this thread's CPU time: single-threaded work timed without the time the thread
    waited for a core, so a busy machine does not flip a choice (page-fault handling is counted)."""
    return best_seconds(fn, repeats, time.thread_time)


# --------------------------------------------------------------------------------------------------
# BLAS threads (numpy's OpenBLAS runs the float32_syrk products; its pool is separate from torch's).
# --------------------------------------------------------------------------------------------------

_BLAS: List[object] = []


def set_blas_threads(n: int) -> None:
    """Give numpy's BLAS ``n`` threads, matching torch's intra-op threads (threadpoolctl)."""
    if not _BLAS:
        import numpy  # noqa: F401  (its BLAS must be loaded to be found)
        from threadpoolctl import ThreadpoolController

        _BLAS.extend(ThreadpoolController().select(user_api="blas").lib_controllers)
    for lib in _BLAS:
        if lib.get_num_threads() != n:
            lib.set_num_threads(n)


def sync_blas_threads() -> None:
    set_blas_threads(torch.get_num_threads())


# --------------------------------------------------------------------------------------------------
# Allocator.
# --------------------------------------------------------------------------------------------------


def allocator_choice() -> Choice:
    """Keep glibc's freed activation memory (:func:`~nwot.machine.allocator.keep_freed_memory`) if faster.

    Timed on a forward-like sequence of 0.5-8 MB tensors: glibc as it is in this process, and tuned in a
    forked child process, so that this process's allocator is only ever changed to the winner. (Setting
    the thresholds back afterwards is no way back: once ``mallopt`` has set them, glibc's dynamic mmap
    threshold stays off, and a fixed 128 KiB threshold measured a forward pass 2x slower than either
    candidate.) ``NWOT_KEEP_FREED_MEMORY=1`` / ``0`` forces it.
    """
    return _cached(("allocator",), _allocator_choice)


def allocator_workload() -> torch.Tensor:
    """Activations of an NB201-like pass: each op allocates a fresh 0.5-8 MB tensor and frees one."""
    x = None
    for shape in ((128, 16, 32, 32), (128, 32, 16, 16)):
        x = torch.ones(shape)
        for _ in range(2):
            y = torch.relu(x)
            x = y * 0.5 + y
    return x


ALLOCATOR_REPEATS = 3


def _tuned_allocator_seconds() -> float:
    """Best CPU seconds of :func:`allocator_workload` with the tuned allocator, timed in a forked child process
    (one torch thread) so that this process's allocator stays untouched."""
    from nwot.machine import allocator

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: tune, warm, time, report, exit without cleanup
        code = 1
        try:
            os.close(read)
            torch.set_num_threads(1)
            allocator.keep_freed_memory()
            allocator_workload()
            os.write(write, repr(cpu_seconds(allocator_workload, ALLOCATOR_REPEATS)[0]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        text = fh.read().decode()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not text:
        raise NwotError(f"the allocator timing process failed (wait status {status}); set "
                        f"{ENV_ALLOCATOR}=1 or 0 to choose without timing")
    return float(text)


def _allocator_choice() -> Choice:
    from nwot.machine import allocator

    forced = os.environ.get(ENV_ALLOCATOR)
    if forced in ("0", "1"):
        applied = allocator.keep_freed_memory() if forced == "1" else False
        chosen = "keep_freed_memory" if applied else "glibc_default"
        return Choice("allocator", chosen, f"{ENV_ALLOCATOR}={forced}")
    if forced:
        raise NwotError(f"{ENV_ALLOCATOR}={forced!r}; allowed: '1' (keep freed memory) or '0' (glibc default)")
    if not allocator.available() or not hasattr(os, "fork"):
        return Choice("allocator", "glibc_default", "not Linux with glibc: nothing to tune")
    t0 = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        allocator_workload()
        default = cpu_seconds(allocator_workload, ALLOCATOR_REPEATS)[0]
        tuned = _tuned_allocator_seconds()
        default = min(default, cpu_seconds(allocator_workload, ALLOCATOR_REPEATS)[0])  # before and after
    finally:
        torch.set_num_threads(threads)
    seconds = {"glibc_default": default, "keep_freed_memory": tuned}
    chosen = min(seconds, key=seconds.get)
    if chosen == "keep_freed_memory":
        allocator.keep_freed_memory()
    return Choice("allocator", chosen, "measured", seconds, {},
                  f"4 relu/mul/add steps on (128, C, H, W) activations of 4-8 MB, best of {ALLOCATOR_REPEATS} "
                  f"(glibc as it is here, before and after; tuned in a forked process)",
                  time.perf_counter() - t0)

