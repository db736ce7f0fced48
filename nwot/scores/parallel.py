"""Threads or worker processes: how a batch of cells uses the machine, measured (see :mod:`nwot.machine.calibration`).

The choice among serial, intra-op threads and worker processes is timed once per process on a slice of
an NB201 cell (:func:`parallel_plan`); ``--threads`` / ``--workers`` or ``NWOT_THREADS`` /
``NWOT_WORKERS`` override it. A cell's score does not depend on the plan.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import torch

from nwot.errors import NwotError
from nwot.machine.calibration import (
    ENV_THREADS,
    ENV_WORKERS,
    Choice,
    _cached,
    best_seconds,
    set_blas_threads,
    sync_blas_threads,
)
from nwot.proxies.gram_choice import gram_choice

#: A parallel mode must beat one thread by this factor to be chosen (it costs start-up and memory).
PARALLEL_MIN_GAIN = 1.1
#: Serial and concurrent rounds timed in turn this many times (minimum of each kept). Workers are timed as
#: forked processes: Python threads standing in for them (the earlier method) share the GIL, whose 5 ms
#: switch interval is of the order of a step, and on the idle machine gave 2 workers anywhere from 0.6x to
#: 3.5x the serial throughput from one process to the next (the job itself: 1.7 - 1.9x).
PARALLEL_ROUNDS = 3
#: Steps per round and process: several in a row, as a worker runs its cells.
PARALLEL_STEPS = 4


@dataclass(frozen=True)
class ParallelPlan:
    """How a batch of cells uses the machine: ``workers`` processes with ``threads`` intra-op threads each."""

    threads: int  # torch (and BLAS) intra-op threads per process
    workers: int  # scoring processes (1 = score in this process)
    choice: Choice  # how it was decided

    @property
    def mode(self) -> str:
        return "workers" if self.workers > 1 else ("threads" if self.threads > 1 else "serial")



def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _env_int(name: str) -> Optional[int]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise NwotError(f"{name}={raw!r}; allowed: a positive integer")
    return value


def check_options(threads: Optional[int] = None, workers: Optional[int] = None) -> None:
    """Raise :class:`~nwot.errors.NwotError` unless ``threads`` / ``workers`` are positive ints or None."""
    for name, value in (("threads", threads), ("workers", workers)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise NwotError(f"{name} must be a positive int or None, got {value!r}")


def parallel_plan(device=None, threads: Optional[int] = None, workers: Optional[int] = None) -> ParallelPlan:
    """How to score a batch of cells on ``device``: the options, else ``NWOT_THREADS`` / ``NWOT_WORKERS``,
    else the faster of serial and worker processes on this machine (measured once; intra-op threads are
    timed too but used only when asked for, see :data:`AUTO_MODES`).

    Measured on one conv + BatchNorm + ReLU + Gram step at batch 64 (a slice of an NB201 cell): one
    thread; all cores as intra-op threads; and all cores as forked worker processes with one intra-op
    thread each (:func:`process_rounds`; Python threads stand in where fork is unavailable). Throughputs
    are compared; a parallel mode must win by :data:`PARALLEL_MIN_GAIN`. Off the CPU: one process.
    """
    check_options(threads, workers)
    dev = torch.device("cpu" if device is None else device)
    if threads is not None or workers is not None:
        return ParallelPlan(threads or 1, workers or 1, Choice("parallel", f"{threads or 1}x{workers or 1}", "option"))
    env_t, env_w = _env_int(ENV_THREADS), _env_int(ENV_WORKERS)
    if env_t is not None or env_w is not None:
        src = " ".join(f"{n}={v}" for n, v in ((ENV_THREADS, env_t), (ENV_WORKERS, env_w)) if v is not None)
        return ParallelPlan(env_t or 1, env_w or 1, Choice("parallel", f"{env_t or 1}x{env_w or 1}", src))
    if dev.type != "cpu":
        return ParallelPlan(torch.get_num_threads(), 1, Choice("parallel", "serial", f"device {dev.type}: one process"))
    return _cached(("parallel", "cpu"), _measure_parallel)


def parallel_workload(method: str, batch: int = 64) -> Callable[[], object]:
    """conv 3x3 + BatchNorm (batch statistics) + ReLU + Gram at NB201's first and last stage shapes
    ((batch, 16, 32, 32) and (batch, 64, 8, 8)): big and small ops, as in a cell."""
    import torch.nn.functional as F

    from nwot.proxies import gram

    g = torch.Generator().manual_seed(0)
    shapes = ((16, 32), (64, 8))
    xs = [torch.randn((batch, c, hw, hw), generator=g) for c, hw in shapes]
    ws = [torch.randn((c, c, 3, 3), generator=g) / (3.0 * c ** 0.5) for c, _ in shapes]

    def step():
        with torch.no_grad():
            for x, w in zip(xs, ws):
                y = torch.relu(F.batch_norm(F.conv2d(x, w, padding=1), None, None, training=True))
                gram.layer_gram(y.reshape(batch, -1), method, relu_output=True)

    return step


def process_rounds(step: Callable[[], object], n: int, rounds: int, between: Callable[[], object] = lambda: None,
                   steps: int = 0) -> Optional[List[float]]:
    """Per round, wall seconds per step at full throughput of ``n`` forked processes (one torch / BLAS thread
    each, forked once) that each run ``steps`` steps (default :data:`PARALLEL_STEPS`) side by side, after a
    warm-up step, as scoring workers do (:mod:`nwot.machine.pool`). ``between()`` runs in this process before
    each round while the workers wait (the serial timing, interleaved). None where processes cannot be forked."""
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        return None
    steps = steps or PARALLEL_STEPS
    ctx = mp.get_context("fork")
    ready, done = ctx.Queue(), ctx.Queue()
    go = [ctx.Event() for _ in range(rounds)]

    def child():
        torch.set_num_threads(1)
        set_blas_threads(1)
        step()
        for r in range(rounds):
            ready.put(r)
            go[r].wait()
            for _ in range(steps):
                step()
            done.put(r)

    procs = [ctx.Process(target=child, daemon=True) for _ in range(n)]
    for p in procs:
        p.start()

    def collect(q) -> None:  # one message per process; a process that died instead ends the measurement
        for _ in procs:
            while True:
                try:
                    q.get(timeout=0.5)
                    break
                except queue.Empty:
                    dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
                    if dead:
                        raise NwotError(f"a timing process of the threads-vs-workers plan died (exit code "
                                        f"{dead[0]}); set the plan with --workers / NWOT_WORKERS") from None

    out = []
    try:
        for r in range(rounds):
            collect(ready)
            between()
            t0 = time.perf_counter()
            go[r].set()
            collect(done)
            out.append((time.perf_counter() - t0) / (steps * n))
        return out
    finally:
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.terminate()


def concurrent_seconds(step: Callable[[], object], n: int) -> float:
    """Wall seconds for ``n`` Python threads (one intra-op thread each) to run ``step`` once each, side by
    side, after a warm-up round (a thread's first torch / oneDNN call pays its own set-up)."""
    ready = threading.Barrier(n + 1)

    def work():
        step()
        ready.wait()
        step()
        ready.wait()

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    ready.wait()
    dt = time.perf_counter() - t0
    for t in threads:
        t.join()
    return dt


def _measure_parallel() -> ParallelPlan:
    cores = available_cores()
    if cores == 1:
        return ParallelPlan(1, 1, Choice("parallel", "serial", "one core"))
    t0 = time.perf_counter()
    step = parallel_workload(gram_choice().chosen)
    before = torch.get_num_threads()
    seconds = {}
    try:
        torch.set_num_threads(1)
        set_blas_threads(1)
        step()
        serial_s = []

        def serial_round():  # interleaved with the workers' rounds, so that a moment of other load hits both
            serial_s.append(best_seconds(lambda: [step() for _ in range(PARALLEL_STEPS)], 1)[0] / PARALLEL_STEPS)

        workers_s = process_rounds(step, cores, PARALLEL_ROUNDS, serial_round)  # per step at full throughput
        if workers_s is None:  # no fork here: Python threads with one intra-op thread each stand in
            workers_s = []
            for _ in range(PARALLEL_ROUNDS):
                serial_round()
                workers_s.append(concurrent_seconds(step, cores) / cores)
        seconds["serial"] = serial = min(serial_s)
        seconds[f"workers={cores}"] = min(workers_s)
        torch.set_num_threads(cores)
        set_blas_threads(cores)
        once = best_seconds(step, 1)[0]  # includes starting the thread team; on a busy machine threads can
        # be 10-50x slower (barriers wait for descheduled threads): then not worth more runs
        seconds[f"threads={cores}"] = once if once > 5 * serial else min(once, best_seconds(step, 2)[0])
    finally:
        torch.set_num_threads(before)
        sync_blas_threads()
    return decide_parallel(seconds, cores, time.perf_counter() - t0)


#: Modes the automatic plan may pick. Intra-op threads are timed (and shown by ``nwot info``) but only
#: used when asked for: one step cannot predict them. On the shared 2-core machine a step measured 2
#: threads 1.19x faster than one, and the README main job then took 179 s per run against 62 s for one
#: thread (benchmarks/results/PERFORMANCE.md): a cell's ~250 small ops each end at a barrier that waits
#: for a descheduled thread. Worker processes never wait for each other.
AUTO_MODES = ("serial", "workers")


def decide_parallel(seconds: Dict[str, float], cores: int, cost_s: float = 0.0) -> ParallelPlan:
    """The plan from measured seconds per step: ``serial``, ``threads=<cores>``, ``workers=<cores>`` (the
    workers' entry is wall time / cores, i.e. per step at full throughput). The fastest of
    :data:`AUTO_MODES` wins; workers must beat serial by :data:`PARALLEL_MIN_GAIN`."""
    auto = {k: v for k, v in seconds.items() if k.split("=")[0] in AUTO_MODES}
    best = min(auto, key=auto.get)
    if auto[best] * PARALLEL_MIN_GAIN > seconds["serial"]:
        best = "serial"
    choice = Choice("parallel", best, "measured", seconds, {},
                    "seconds per step (conv3x3+BN+ReLU+Gram at 16x32x32 and 64x8x8, batch 64; workers: forked "
                    "processes with one intra-op thread each, steps run concurrently)", cost_s)
    if best.startswith("workers"):
        return ParallelPlan(1, cores, choice)
    if best.startswith("threads"):
        return ParallelPlan(cores, 1, choice)
    return ParallelPlan(1, 1, choice)
