"""Full-space scoring on a Ray cluster: chunks of cells as tasks, results stored by the driver.

``score_space(..., backend="ray")`` hands the cells still missing from the store to
:func:`score_space_ray`. Each chunk of ``chunk_size`` encoded cells is one Ray task that calls
:func:`nwot.scores.scorer.score_chunk` (a pure function of its arguments, so every node computes the same
numbers as the serial backend). The driver keeps at most ``num_workers`` tasks in flight, waits with
``ray.wait`` and commits each finished chunk to the SQLite store in its own transaction, so:

* **resumable**: a restarted job asks the store what is missing and skips everything committed;
* **fault tolerant**: a task whose worker process or node dies is re-run by Ray (``max_retries``);
  a task that raises is resubmitted by the driver up to ``retries`` times. A chunk that still fails
  ends the job with :class:`~nwot.errors.NwotError` after every other chunk has finished and been
  stored, so nothing already computed is lost.

Cluster use (see ``benchmarks/results/PERFORMANCE.md``): ``ray start --head`` on one machine,
``ray start --address HEAD:6379`` on the others (nwot installed on every node), then
``nwot score-space --backend ray --address auto`` on any node. Without an address a local Ray with
``num_workers`` CPUs is started (and shut down at the end).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from nwot.errors import NwotError
from nwot.scores.store import ScoreRow, ScoreStore, StoreKey


def _chunk_task(space: str, archs: Sequence[str], cfg, data_dir, threads: int,
                inject_failures: Optional[str]) -> List[ScoreRow]:
    """Body of one Ray task: score ``archs`` with ``threads`` torch threads (the task's CPUs)."""
    import torch

    from nwot.scores.scorer import score_chunk

    if inject_failures is not None:
        _fail_once(Path(inject_failures), archs[0])
    torch.set_num_threads(threads)
    return score_chunk(space, archs, cfg, data_dir=data_dir)


def _fail_once(folder: Path, first_arch: str) -> None:
    """Test hook: the first attempt of each chunk fails (marker file per chunk in ``folder``).

    A chunk whose first cell sits at an even position in ``folder/order.txt`` raises; an odd one kills
    its worker process (a crash Ray must retry). Later attempts find the marker and run normally.
    """
    import hashlib

    marker = folder / hashlib.sha1(first_arch.encode()).hexdigest()
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    order = (folder / "order.txt").read_text().split("\n")
    if order.index(first_arch) % 2 == 0:
        raise RuntimeError(f"injected failure of the chunk starting with {first_arch}")
    os._exit(17)


def init_ray(address: Optional[str], num_workers: Optional[int]) -> bool:
    """Connect to ``address`` (``"auto"``, ``"ray://..."``, ``"host:port"``) or start a local Ray.

    Returns whether this call started Ray (and so should shut it down). A local Ray gets
    ``num_workers`` CPUs (default: all) and the folder holding the nwot package on its workers'
    ``PYTHONPATH``, so an uninstalled checkout works too.
    """
    import ray

    if ray.is_initialized():
        return False
    if address is not None:
        ray.init(address=address)
        return True
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=num_workers, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    return True


def score_space_ray(space: str, archs: Sequence[str], cfg, store: ScoreStore, key: StoreKey, *,
                    chunk_size: int = 16, data_dir=None, progress: bool = True, address: Optional[str] = None,
                    num_workers: Optional[int] = None, cpus_per_task: float = 1, gpus_per_task: float = 0,
                    retries: int = 2, max_retries: int = 3, inject_failures: Optional[str] = None) -> int:
    """Score ``archs`` (encoded, none of them stored yet) on Ray and store them under ``key``.

    ``num_workers``: tasks in flight (default: the cluster's CPUs / ``cpus_per_task``); each task runs
    torch with ``max(1, int(cpus_per_task))`` threads. ``gpus_per_task`` (e.g. 0.25 packs four tasks on
    a GPU) with ``cfg.device`` None puts the forward passes on the workers' GPUs. ``retries``: driver
    resubmissions of a task that raised; ``max_retries``: Ray's re-runs of a task whose worker died.
    ``inject_failures`` is a test hook (see :func:`_fail_once`). Returns the number of cells stored.
    """
    import ray
    from tqdm import tqdm

    if chunk_size < 1:
        raise NwotError(f"chunk_size must be >= 1, got {chunk_size}")
    if num_workers is not None and num_workers < 1:
        raise NwotError(f"num_workers must be >= 1 (tasks in flight), got {num_workers}")
    if not archs:
        return 0
    chunks = [list(archs[i:i + chunk_size]) for i in range(0, len(archs), chunk_size)]
    if inject_failures is not None:
        (Path(inject_failures) / "order.txt").write_text("\n".join(c[0] for c in chunks))
    started = init_ray(address, num_workers)
    bar = tqdm(total=len(archs), desc=f"scoring {space} on ray", unit="cell", disable=not progress)
    stored = 0
    try:
        if num_workers is None:
            num_workers = max(1, int(ray.cluster_resources().get("CPU", 1) // max(cpus_per_task, 1e-9)))
        task = ray.remote(_chunk_task).options(num_cpus=cpus_per_task, num_gpus=gpus_per_task,
                                               max_retries=max_retries, retry_exceptions=False)
        threads = max(1, int(cpus_per_task))
        todo = list(range(len(chunks)))[::-1]  # pop() from the end = chunk order
        pending: Dict[object, int] = {}
        attempts = [0] * len(chunks)
        failed: Dict[int, BaseException] = {}
        while todo or pending:
            while todo and len(pending) < num_workers:
                c = todo.pop()
                attempts[c] += 1
                pending[task.remote(space, chunks[c], cfg, data_dir, threads, inject_failures)] = c
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                c = pending.pop(ref)
                try:
                    rows = ray.get(ref)
                except ray.exceptions.RayError as e:  # the task raised, or its worker / node died
                    if attempts[c] <= retries:
                        todo.append(c)
                    else:
                        failed[c] = e
                    continue
                store.put(key, rows)
                stored += len(rows)
                bar.update(len(rows))
        if failed:
            c = min(failed)
            reason = (str(failed[c]).strip().splitlines() or [type(failed[c]).__name__])[-1]
            raise NwotError(f"{len(failed)} of {len(chunks)} chunks failed after {retries + 1} attempt(s) each "
                            f"(first: the chunk starting with {chunks[c][0]}: {reason}); the {stored} cells "
                            f"scored are stored, so re-running the job resumes with the failed ones")
    finally:
        bar.close()
        if started:
            ray.shutdown()
    return stored
