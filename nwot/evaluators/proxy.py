"""Live NASWOT scoring as a search evaluator: arch -> (score, measured wall seconds).

The cost charged to a search budget is the real wall time of building the untrained network and
scoring it, so training-free methods are charged honestly against table-based ones.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Iterator, Optional, Sequence

import torch

from nwot.errors import check_choice
from nwot.proxies.naswot import COMPAT_MODES, check_non_negative_int, naswot_score, resolve_device, torch_seed
from nwot.search.base import Evaluation
from nwot.spaces.base import Arch, SearchSpace

#: Number of classes of each dataset's classifier head (clean mode builds the benchmark's network).
NUM_CLASSES = {"cifar10": 10, "cifar10-valid": 10, "cifar100": 100, "ImageNet16-120": 120}


@dataclass(frozen=True)
class ScoreConfig:
    """How one NASWOT score is computed (everything that changes the number is here)."""

    dataset: str = "cifar10"  # image source of the scoring batch (and head size)
    batch_size: int = 128  # images in the one minibatch (paper: 128)
    batch_seed: int = 0  # which images: seeded permutation of the available training images
    init_seed: int = 0  # torch seed of the untrained network's default initialisation
    compat: str = "clean"  # "clean" (each ReLU unit once) or "reference" (the paper's released code)
    num_classes: Optional[int] = None  # head size; None = dataset's classes (clean) or 1 (reference, as the paper's code)
    device: Optional[str] = None  # None = CUDA when available, else CPU

    def __post_init__(self) -> None:
        check_choice("compat mode", self.compat, COMPAT_MODES)
        check_choice("dataset", self.dataset, NUM_CLASSES)
        check_non_negative_int("batch_size", self.batch_size, minimum=2)
        check_non_negative_int("batch_seed", self.batch_seed)
        check_non_negative_int("init_seed", self.init_seed)
        if self.num_classes is not None:
            check_non_negative_int("num_classes", self.num_classes, minimum=1)
        if self.device is not None:
            resolve_device(self.device)

    @property
    def head(self) -> int:
        if self.num_classes is not None:
            return self.num_classes
        return 1 if self.compat == "reference" else NUM_CLASSES[self.dataset]

    def resolved_device(self) -> torch.device:
        return resolve_device(self.device)


class ScoreEvaluator:
    """Evaluator: build ``arch`` untrained (seeded), score it on one fixed batch, charge the wall time.

    The batch is loaded once and kept on the device, shared by every candidate (as the paper's search:
    every cell in a run sees the same batch). :meth:`map` scores many archs with the whole machine:
    ``threads`` intra-op threads or ``workers`` processes (None: workers where measured faster, see
    :func:`nwot.machine.parallel.parallel_plan`); a cell's score is the same either way.
    """

    def __init__(self, space: SearchSpace, cfg: ScoreConfig = ScoreConfig(), *, images: Optional[torch.Tensor] = None,
                 data_dir=None, threads: Optional[int] = None, workers: Optional[int] = None) -> None:
        from nwot.data.datasets import scoring_batch
        from nwot.machine.calibration import allocator_choice
        from nwot.machine.parallel import check_options

        allocator_choice()  # reuse freed activation buffers across forward passes where that measured faster
        check_options(threads, workers)  # (the plan itself is measured on the first map)
        self.space, self.cfg = space, cfg
        self.device = cfg.resolved_device()
        self.threads, self.workers = threads, workers
        if images is None:
            images = scoring_batch(cfg.dataset, batch_size=cfg.batch_size, seed=cfg.batch_seed, data_dir=data_dir)
        self.images = images.to(self.device)

    def with_seeds(self, batch_seed: int, init_seed: int, data_dir=None) -> "ScoreEvaluator":
        return ScoreEvaluator(self.space, replace(self.cfg, batch_seed=batch_seed, init_seed=init_seed),
                              data_dir=data_dir, threads=self.threads, workers=self.workers)

    def plan(self):
        """The :class:`~nwot.machine.parallel.ParallelPlan` that :meth:`map` uses."""
        from nwot.machine.parallel import parallel_plan

        return parallel_plan(self.device, self.threads, self.workers)

    def map(self, archs: Sequence[Arch]) -> Iterator[Evaluation]:
        """``self(a)`` for every arch, in order, using the machine as :meth:`plan` says (results stream).

        Workers (CPU only) each score one cell at a time with one thread; otherwise this process scores
        them with the plan's intra-op threads (restored afterwards). Each evaluation's cost is its own
        wall time, wherever it ran.
        """
        from nwot.machine import calibration

        archs = list(archs)
        plan = self.plan()
        if plan.workers > 1 and len(archs) > 1 and self.device.type == "cpu":
            from nwot.machine.pool import imap_ordered

            yield from imap_ordered(self, archs, min(plan.workers, len(archs)))
            return
        before = torch.get_num_threads()
        torch.set_num_threads(plan.threads)
        calibration.sync_blas_threads()
        try:
            for a in archs:
                yield self(a)
        finally:
            torch.set_num_threads(before)
            calibration.sync_blas_threads()

    def score(self, arch: Arch) -> float:
        with torch_seed(self.cfg.init_seed):
            model = self.space.build(arch, num_classes=self.cfg.head)
        return naswot_score(model, self.images, compat=self.cfg.compat, device=self.device)

    def __call__(self, arch: Arch) -> Evaluation:
        t0 = time.perf_counter()
        s = self.score(arch)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return Evaluation(signal=s, cost=time.perf_counter() - t0, info={"score": s})
