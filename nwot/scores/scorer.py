"""How one architecture is scored untrained: the score configuration and the scorer every path shares.

A :class:`Scorer` builds the network of an arch from a seeded default init, exactly as the space
builds it (``space.build(arch, num_classes=cfg.head, compat=cfg.compat, **build_kwargs)``), and scores
it on one fixed minibatch: NASWOT's ``s = log|det K_H|`` (Mellor et al., ICML 2021, arXiv:2006.04647,
§3; :mod:`nwot.proxies.naswot`). The live search evaluator (:class:`nwot.evaluators.proxy.ProxyEvaluator`),
the full-space scoring job (:mod:`nwot.scores.job`) and NASWOT pre-screening all go through it, so a
score means the same number everywhere; :func:`store_key` names it in the score store.

A space whose ``build`` seeds its own initialisation (an ``init_seed`` parameter: ``lse``, whose networks are
otherwise initialised from each individual's uid) gets ``init_seed = cfg.init_seed``, so the score of a
network depends on its structure and the config, not on the individual. A network without the units the
score reads (no ``nn.ReLU`` module: ``lse``'s trivial initial models) raises :class:`UnscorableNetwork`;
the live evaluator turns it into a failed evaluation.
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, List, Mapping, Optional, Sequence, Tuple

import torch

from nwot.adapters.base import NUM_CLASSES
from nwot.adapters.embedded import nb201_arch_strings, nb201_index_of
from nwot.data.datasets import scoring_batch
from nwot.errors import NwotError, check_choice, check_int
from nwot.machine.calibration import allocator_choice
from nwot.machine.device import resolve_device
from nwot.proxies.naswot import COMPAT_MODES, naswot_score
from nwot.scores.store import ScoreRow, StoreKey
from nwot.seeding import torch_seed
from nwot.spaces.base import Arch, SearchSpace, get_space

#: Scores the scorer computes (the zero-cost proxy suite registers more).
PROXIES = ("naswot",)


class UnscorableNetwork(NwotError):
    """The network has none of the units the score reads (NASWOT: no ``nn.ReLU`` module); the score is undefined."""


def has_relu_units(model: torch.nn.Module, compat: str) -> bool:
    """Whether NASWOT finds units to hook: an ``nn.ReLU`` module (clean mode), a module whose type name
    contains ``ReLU`` (reference mode, as the paper's code)."""
    if compat == "reference":
        return any("ReLU" in str(type(m)) for m in model.modules())
    return any(isinstance(m, torch.nn.ReLU) for m in model.modules())


@dataclass(frozen=True)
class ScoreConfig:
    """How one score is computed (everything that changes the number is here)."""

    dataset: str = "cifar10"  # image source of the scoring batch (and head size)
    batch_size: int = 128  # images in the one minibatch (paper: 128)
    batch_seed: int = 0  # which images: seeded permutation of the available training images
    init_seed: int = 0  # torch seed of the untrained network's default initialisation
    compat: str = "clean"  # "clean" (each ReLU unit once) or "reference" (the paper's released code)
    # head size; None = dataset's classes (clean) or 1 (reference, as the paper's code)
    num_classes: Optional[int] = None
    device: Optional[str] = None  # None = CUDA when available, else CPU
    proxy: str = "naswot"  # which score

    def __post_init__(self) -> None:
        check_choice("compat mode", self.compat, COMPAT_MODES)
        check_choice("dataset", self.dataset, NUM_CLASSES)
        check_choice("proxy", self.proxy, PROXIES)
        check_int("batch_size", self.batch_size, minimum=2)
        check_int("batch_seed", self.batch_seed)
        check_int("init_seed", self.init_seed)
        if self.num_classes is not None:
            check_int("num_classes", self.num_classes, minimum=1)
        if self.device is not None:
            resolve_device(self.device)

    @property
    def head(self) -> int:
        """Classifier outputs: ``num_classes``, else 1 in reference mode (the released code), else the dataset's."""
        if self.num_classes is not None:
            return self.num_classes
        return 1 if self.compat == "reference" else NUM_CLASSES[self.dataset]

    @property
    def score_name(self) -> str:
        """The score's name in the store: ``naswot`` (clean) or ``naswot-reference``."""
        return self.proxy if self.compat == "clean" else f"{self.proxy}-{self.compat}"

    def resolved_device(self) -> torch.device:
        return resolve_device(self.device)

    def with_seeds(self, batch_seed: int, init_seed: int) -> ScoreConfig:
        return replace(self, batch_seed=batch_seed, init_seed=init_seed)


def store_key(space: str, cfg: ScoreConfig) -> StoreKey:
    """The store key of ``cfg``'s scores of ``space`` (the one place it is built)."""
    return StoreKey(space=space, dataset=cfg.dataset, batch_seed=cfg.batch_seed, batch_size=cfg.batch_size,
                    init_seed=cfg.init_seed, score_name=cfg.score_name)


class Scorer:
    """Build an arch untrained (seeded by ``cfg.init_seed``) and score it on one fixed batch, timed.

    The batch (``cfg.batch_size`` images of ``cfg.dataset`` drawn with ``cfg.batch_seed``, or ``images``)
    is loaded once and kept on the device, shared by every arch (as in the paper's search).
    :meth:`map_timed` scores many archs with the whole machine: ``threads`` intra-op threads or ``workers``
    processes (None: what measured faster, :func:`nwot.scores.parallel.parallel_plan`, decided on first
    use); a cell's score is the same either way.
    """

    def __init__(self, space: SearchSpace, cfg: ScoreConfig = ScoreConfig(), *, images: Optional[torch.Tensor] = None,
                 data_dir=None, build_kwargs: Optional[Mapping[str, Any]] = None, threads: Optional[int] = None,
                 workers: Optional[int] = None) -> None:
        from nwot.scores.parallel import check_options

        check_options(threads, workers)
        self.threads, self.workers = threads, workers
        allocator_choice()  # reuse freed activation buffers across forward passes where that measured faster
        self.space, self.cfg = space, cfg
        self.build_kwargs = dict(build_kwargs or {})
        self.device = cfg.resolved_device()
        self._images = None if images is None else images.to(self.device)
        self.data_dir = data_dir
        #: the space's build seeds its own init (``init_seed`` parameter): it gets ``cfg.init_seed``
        self._seeds_own_init = "init_seed" in inspect.signature(space.build).parameters

    @property
    def images(self) -> torch.Tensor:
        """The scoring batch on the device (drawn on first use)."""
        if self._images is None:
            x = scoring_batch(self.cfg.dataset, batch_size=self.cfg.batch_size, seed=self.cfg.batch_seed,
                              data_dir=self.data_dir)
            self._images = x.to(self.device)
        return self._images

    def build(self, arch: Arch) -> torch.nn.Module:
        kw = {"init_seed": self.cfg.init_seed, **self.build_kwargs} if self._seeds_own_init else self.build_kwargs
        with torch_seed(self.cfg.init_seed):
            return self.space.build(arch, num_classes=self.cfg.head, compat=self.cfg.compat, **kw)

    def score(self, arch: Arch) -> float:
        """The score of ``arch`` (``-inf`` for a singular NASWOT kernel; :class:`UnscorableNetwork` without ReLU
        units)."""
        model = self.build(arch)
        if not has_relu_units(model, self.cfg.compat):
            raise UnscorableNetwork(f"the network of {self.space.encode(arch)!r} has no ReLU units: its NASWOT score "
                                    f"is undefined")
        return naswot_score(model, self.images, compat=self.cfg.compat, device=self.device)

    def timed(self, arch: Arch) -> tuple[float, float]:
        """``(score, wall seconds of build + score)``."""
        t0 = time.perf_counter()
        s = self.score(arch)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return s, time.perf_counter() - t0

    def with_seeds(self, batch_seed: int, init_seed: int) -> Scorer:
        """The same scorer with another batch and init (a new batch is drawn unless only the init changes)."""
        cfg = self.cfg.with_seeds(batch_seed, init_seed)
        images = self._images if batch_seed == self.cfg.batch_seed else None
        return Scorer(self.space, cfg, images=images, data_dir=self.data_dir, build_kwargs=self.build_kwargs,
                      threads=self.threads, workers=self.workers)

    def plan(self):
        """The :class:`~nwot.scores.parallel.ParallelPlan` that :meth:`map_timed` uses."""
        from nwot.scores.parallel import parallel_plan

        return parallel_plan(self.device, self.threads, self.workers)

    def map_timed(self, archs: Sequence[Arch]) -> Iterator[Tuple[float, float]]:
        """:meth:`timed` of every arch, in order, with the whole machine (:meth:`map`)."""
        return self.map(self.timed, archs)

    def map(self, fn: Callable[[Arch], Any], archs: Sequence[Arch]) -> Iterator[Any]:
        """``fn(a)`` for every arch (``fn`` scores with this scorer), in order, using the machine as
        :meth:`plan` says; results stream.

        Workers (CPU only) each run one arch at a time with one thread; otherwise this process runs them
        with the plan's intra-op threads (restored afterwards).
        """
        from nwot.machine import calibration

        archs = list(archs)
        if not archs:
            return
        plan = self.plan()
        if plan.workers > 1 and len(archs) > 1 and self.device.type == "cpu":
            from nwot.machine.pool import imap_ordered

            _ = self.images  # drawn here, so that forked workers inherit the batch
            yield from imap_ordered(fn, archs, min(plan.workers, len(archs)))
            return
        before = torch.get_num_threads()
        torch.set_num_threads(plan.threads)
        calibration.sync_blas_threads()
        try:
            for a in archs:
                yield fn(a)
        finally:
            torch.set_num_threads(before)
            calibration.sync_blas_threads()

    def rows(self, archs: Sequence[str], index_of: Callable[[str], Optional[int]]) -> List[ScoreRow]:
        """Store rows of encoded ``archs`` (scored in order)."""
        out = []
        for a in archs:
            s, dt = self.timed(self.space.decode(a))
            out.append(ScoreRow(a, s, dt, index_of(a), str(self.device)))
        return out


def score_chunk(space: str, archs: Sequence[str], cfg: ScoreConfig, data_dir=None) -> List[ScoreRow]:
    """Score encoded ``archs`` of registered ``space``: a pure function of its arguments, so the serial and
    the Ray backends of :mod:`nwot.scores.job` compute the same rows."""
    return Scorer(get_space(space), cfg, data_dir=data_dir).rows(archs, index_lookup(space))


#: Spaces whose every arch has a benchmark index, with the arch list in index order.
INDEXED_SPACES = {"nb201": nb201_arch_strings}


def space_archs(space: str, limit: Optional[int] = None) -> List[str]:
    """Encoded archs of a whole indexed space in benchmark index order (NB201: all 15,625)."""
    if space not in INDEXED_SPACES:
        raise NwotError(f"full-space enumeration is available for {', '.join(map(repr, INDEXED_SPACES))}; for "
                        f"{space!r} pass the archs explicitly")
    archs = list(INDEXED_SPACES[space]())
    return archs[:limit] if limit is not None else archs


def index_lookup(space: str) -> Callable[[str], Optional[int]]:
    """``encoded arch -> benchmark index`` for an indexed space, else ``-> None``."""
    if space == "nb201":
        return nb201_index_of
    return lambda a: None
