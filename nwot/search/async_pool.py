"""Where the asynchronous controller's candidates are evaluated: Ray tasks, or inline for tests.

A pool takes candidates (:meth:`submit`) and hands back one finished candidate at a time (:meth:`wait`)
as ``(cid, evaluation, error, worker)``: ``evaluation`` is the evaluator's value (a failed
:class:`~nwot.evaluators.base.Evaluation` included), or ``None`` with ``error`` naming why the attempt
produced nothing (the task raised, or its worker process / node died).

* :class:`RayPool` -- each candidate is one Ray task running ``evaluator(arch)`` with ``cpus_per_worker``
  torch threads (and ``gpus_per_worker`` GPUs); the evaluator is put in the object store once per run, so
  a multi-node cluster needs no shared data folder, only a checkpoint folder every node sees at the same
  path. Ray re-runs a task whose worker died (``max_retries``); the controller resubmits one that raised.
  While a worker evaluates a candidate it holds an exclusive lock on the candidate's checkpoint folder, so
  two workers never train the same candidate at once (a resumed controller may resubmit a candidate whose
  first task is still being torn down): the second one waits, then finds the finished checkpoint.
* :class:`InlinePool` -- evaluates in the controller's own process, one candidate per :meth:`wait`, in a
  scrambled but reproducible order (the in-flight candidate with the smallest ``sha1(cid)`` first), so tests
  exercise out-of-order arrival deterministically and without Ray.
"""
from __future__ import annotations

import contextlib
import hashlib
import math
import os
import socket
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from nwot.errors import NwotError, check_choice
from nwot.evaluators.base import Evaluation

#: ``(cid, evaluation or None, error or None, worker or None)``
Outcome = Tuple[int, Optional[Evaluation], Optional[str], Optional[str]]
BACKENDS = ("ray", "inline")


@dataclass(frozen=True)
class Workers:
    """How candidates are evaluated at once: ``run(..., workers=Workers(...))``; ``workers=K`` is ``Workers(K)``."""

    count: int  # candidates in flight at once (K workers)
    address: Optional[str] = None  # Ray cluster ("auto", "HOST:6379", "ray://HOST:10001"); None = a local Ray
    state: Optional[str] = None  # controller state (SQLite); None = <evaluator checkpoint_dir>/controller.sqlite
    cpus_per_worker: float = 1  # Ray CPUs per task (also its torch threads, at least 1)
    gpus_per_worker: float = 0  # Ray GPUs per task (e.g. 1, or 0.5 to pack two trainings on a GPU)
    retries: int = 2  # controller resubmissions of a candidate whose task raised or whose worker died
    max_retries: int = 3  # Ray's own re-runs of a task whose worker process died
    backend: str = "ray"  # "ray", or "inline" (in the controller's process: tests, debugging)

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise NwotError(f"workers must be an int >= 1 (candidates evaluated at once), got {self.count!r}")
        if not self.cpus_per_worker > 0 or self.gpus_per_worker < 0:
            raise NwotError(f"cpus_per_worker must be > 0 and gpus_per_worker >= 0, got {self.cpus_per_worker!r}, "
                            f"{self.gpus_per_worker!r}")
        for name in ("retries", "max_retries"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise NwotError(f"{name} must be an int >= 0, got {v!r}")
        check_choice("worker backend", self.backend, BACKENDS)
        if self.backend == "inline" and self.address is not None:
            raise NwotError(f"the inline backend evaluates in this process; address {self.address!r} needs "
                            f"backend='ray'")

    @property
    def threads(self) -> int:
        return max(1, int(self.cpus_per_worker))


@contextlib.contextmanager
def candidate_lock(evaluate: Any, arch: Any) -> Iterator[None]:
    """Exclusive lock on ``arch``'s checkpoint folder while it is evaluated (no lock without checkpoints)."""
    path_of = getattr(evaluate, "checkpoint_path", None)
    folder = path_of(arch) if callable(path_of) else None
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        fcntl = None
    if folder is None or fcntl is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def evaluate_candidate(evaluate: Any, arch: Any, threads: int) -> Tuple[Evaluation, str]:
    """Body of one worker task: ``evaluate(arch)`` with ``threads`` torch threads, under the candidate's lock."""
    import torch

    torch.set_num_threads(threads)
    with candidate_lock(evaluate, arch):
        ev = evaluate(arch)
    return ev, f"{socket.gethostname()}:{os.getpid()}"


def _reason(err: BaseException) -> str:
    lines = [ln for ln in str(err).strip().splitlines() if ln.strip()]
    return f"{type(err).__name__}: {lines[-1] if lines else ''}"[:500]


class RayPool:
    """Candidates as Ray tasks (see the module docstring)."""

    def __init__(self, workers: Workers) -> None:
        from nwot.scores.ray_job import init_ray

        self.workers = workers
        self._started = init_ray(workers.address, None if workers.address else
                                 max(1, math.ceil(workers.count * workers.cpus_per_worker)))
        self._refs: Dict[Any, int] = {}
        self._task = None
        self._evaluate = None

    def start(self, evaluate: Any) -> None:
        """Ship ``evaluate`` (one search run's evaluator) to the object store."""
        import ray

        self._evaluate = ray.put(evaluate)
        self._task = ray.remote(evaluate_candidate).options(
            num_cpus=self.workers.cpus_per_worker, num_gpus=self.workers.gpus_per_worker,
            max_retries=self.workers.max_retries, retry_exceptions=False)

    def submit(self, cid: int, arch: Any) -> None:
        self._refs[self._task.remote(self._evaluate, arch, self.workers.threads)] = cid

    def in_flight(self) -> int:
        return len(self._refs)

    def wait(self) -> Outcome:
        import ray

        done, _ = ray.wait(list(self._refs), num_returns=1)
        cid = self._refs.pop(done[0])
        try:
            ev, worker = ray.get(done[0])
        except ray.exceptions.RayError as err:  # the task raised, or its worker / node died (after Ray's retries)
            return cid, None, _reason(err), None
        return cid, ev, None, worker

    def cancel(self) -> List[int]:
        """Cancel every task in flight (their candidates resume from their checkpoints next time)."""
        import ray

        cids = list(self._refs.values())
        for ref in self._refs:
            ray.cancel(ref, force=True)
        self._refs.clear()
        return cids

    def close(self) -> None:
        import ray

        self._refs.clear()
        if self._started:
            ray.shutdown()
            self._started = False


class InlinePool:
    """Evaluates in this process, in a scrambled reproducible order (see the module docstring)."""

    def __init__(self, workers: Workers) -> None:
        self.workers = workers
        self._pending: Dict[int, Any] = {}
        self._evaluate = None

    def start(self, evaluate: Any) -> None:
        self._evaluate = evaluate

    def submit(self, cid: int, arch: Any) -> None:
        self._pending[cid] = arch

    def in_flight(self) -> int:
        return len(self._pending)

    def wait(self) -> Outcome:
        import torch

        cid = min(self._pending, key=lambda c: hashlib.sha1(str(c).encode()).hexdigest())
        arch = self._pending.pop(cid)
        threads = torch.get_num_threads()
        try:
            ev, worker = evaluate_candidate(self._evaluate, arch, self.workers.threads)
        except Exception as err:  # what a raising Ray task would report  # noqa: BLE001
            return cid, None, _reason(err), None
        finally:
            torch.set_num_threads(threads)
        return cid, ev, None, "inline"

    def cancel(self) -> List[int]:
        cids = list(self._pending)
        self._pending.clear()
        return cids

    def close(self) -> None:
        self._pending.clear()


POOLS = {"ray": RayPool, "inline": InlinePool}


def open_pool(workers: Workers):
    return POOLS[workers.backend](workers)
