"""Zero-cost scores as search evaluators: live (:class:`ProxyEvaluator`) or looked up (:class:`StoredScoreEvaluator`).

Live: build the arch untrained and score it on one fixed batch (:class:`nwot.scores.scorer.Scorer`);
the cost charged to a search budget is the real wall time of building and scoring it, so
training-free methods are charged honestly against table-based ones.

Stored: the score and its recorded wall seconds from a score file (:mod:`nwot.scores.files`, what
``nwot score-space --export`` writes), keyed by benchmark index.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Union

import pandas as pd
import torch

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation, register_evaluator
from nwot.scores.files import read_scores
from nwot.scores.scorer import ScoreConfig, Scorer, UnscorableNetwork
from nwot.spaces.base import Arch, SearchSpace


@register_evaluator("proxy")
class ProxyEvaluator:
    """Evaluator: ``arch -> Evaluation(score, wall seconds of build + score)`` (see the module docstring).

    ``follow_run_seed=True`` makes :meth:`for_run` draw each search run's batch and init from the run's
    seed (the NASWOT search protocol: run r uses seed r for the sample, the batch and the init);
    otherwise every run uses ``cfg``'s seeds.

    :meth:`map` scores many archs with the whole machine: ``threads`` intra-op threads or ``workers``
    processes (None: what measured faster, :func:`nwot.scores.parallel.parallel_plan`, decided on the
    first ``map``); a cell's score is the same either way.
    """

    cost_kind = "wall"

    def __init__(self, space: SearchSpace, cfg: ScoreConfig = ScoreConfig(), *, images: Optional[torch.Tensor] = None,
                 data_dir=None, build_kwargs: Optional[Dict[str, Any]] = None, follow_run_seed: bool = False,
                 threads: Optional[int] = None, workers: Optional[int] = None) -> None:
        self.scorer = Scorer(space, cfg, images=images, data_dir=data_dir, build_kwargs=build_kwargs,
                             threads=threads, workers=workers)
        self.follow_run_seed = follow_run_seed

    @property
    def space(self) -> SearchSpace:
        return self.scorer.space

    @property
    def cfg(self) -> ScoreConfig:
        return self.scorer.cfg

    @property
    def device(self) -> torch.device:
        return self.scorer.device

    @property
    def images(self) -> torch.Tensor:
        return self.scorer.images

    def with_seeds(self, batch_seed: int, init_seed: int) -> ProxyEvaluator:
        out = ProxyEvaluator.__new__(ProxyEvaluator)
        out.scorer, out.follow_run_seed = self.scorer.with_seeds(batch_seed, init_seed), self.follow_run_seed
        return out

    def for_run(self, seed: int) -> ProxyEvaluator:
        return self.with_seeds(seed, seed) if self.follow_run_seed else self

    def plan(self):
        """The :class:`~nwot.scores.parallel.ParallelPlan` that :meth:`map` uses."""
        return self.scorer.plan()

    def map(self, archs: Sequence[Arch]) -> Iterator[Evaluation]:
        """``self(a)`` for every arch, in order, with the whole machine (:meth:`Scorer.map`)."""
        return self.scorer.map(self, archs)

    def score(self, arch: Arch) -> float:
        return self.scorer.score(arch)

    def __call__(self, arch: Arch) -> Evaluation:
        """The score and its seconds; a network without ReLU units, or one that does not fit in memory, is a
        failed evaluation (the seconds spent on it as cost)."""
        t0 = time.perf_counter()
        try:
            s, dt = self.scorer.timed(arch)
        except UnscorableNetwork as err:
            return Evaluation.failed(str(err), cost=time.perf_counter() - t0)
        except (MemoryError, torch.OutOfMemoryError) as err:
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            return Evaluation.failed(f"{type(err).__name__}: {str(err)[:300]}", cost=time.perf_counter() - t0)
        return Evaluation(signal=s, cost=dt, info={"score": s})

    def config(self) -> Dict[str, Any]:
        out = {"evaluator": "proxy", **asdict(self.cfg), "build_kwargs": dict(self.scorer.build_kwargs)}
        plan = self.plan()
        out.update({"threads": plan.threads, "workers": plan.workers})
        return out


#: The name this evaluator had before the zero-cost proxy suite (kept for one release).
ScoreEvaluator = ProxyEvaluator


@register_evaluator("stored")
class StoredScoreEvaluator:
    """Evaluator: ``arch -> Evaluation(stored score, its recorded wall seconds)``.

    ``index_of`` maps an arch to its benchmark index (e.g. ``lambda a: bench.index_of(space.encode(a))``,
    see :meth:`for_benchmark`). A row whose ``status`` names a failure gives a failed evaluation.
    """

    cost_kind = "wall"

    def __init__(self, scores: Union[str, Path, pd.DataFrame], index_of: Callable[[Arch], int], *,
                 source: Optional[str] = None) -> None:
        if isinstance(scores, pd.DataFrame):
            frame, self.source = scores, source or "<DataFrame>"
        else:
            frame, self.source = read_scores(scores), source or str(scores)
        self.index_of = index_of
        idx = list(map(int, frame.index))
        self._score: Dict[int, float] = dict(zip(idx, frame["score"].astype(float)))
        self._seconds: Dict[int, float] = dict(zip(idx, frame["seconds"].astype(float)))
        status = frame["status"].fillna("ok").astype(str) if "status" in frame.columns else None
        self._failure: Dict[int, str] = {} if status is None else {i: s for i, s in zip(idx, status) if s != "ok"}

    @classmethod
    def for_benchmark(cls, scores: Union[str, Path, pd.DataFrame], benchmark,
                      space: SearchSpace) -> StoredScoreEvaluator:
        return cls(scores, lambda a: benchmark.index_of(space.encode(a)))

    def __len__(self) -> int:
        return len(self._score)

    def __call__(self, arch: Arch) -> Evaluation:
        i = int(self.index_of(arch))
        if i not in self._score:
            raise NwotError(f"arch {arch!r} (index {i}) has no stored score in {self.source}, which covers "
                            f"{len(self._score)} indices")
        if i in self._failure:
            return Evaluation.failed(self._failure[i], cost=self._seconds[i], index=i)
        return Evaluation(signal=self._score[i], cost=self._seconds[i], info={"index": i, "score": self._score[i]})

    def config(self) -> Dict[str, Any]:
        return {"evaluator": "stored_score", "scores": self.source, "n_scores": len(self._score)}
