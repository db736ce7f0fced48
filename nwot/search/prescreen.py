"""NASWOT pre-screening: let any strategy propose more candidates than it trains, train the best-scored.

Mellor et al., "Neural Architecture Search without Training", ICML 2021, §5 suggest the NASWOT
score as a cheap filter in front of expensive searches (their "assisted REA", AREA, scores a pool and
trains the top). Here the filter is a wrapper *strategy*, so the ask/tell loop, the evaluator and the
budget stay as they are:

* **pool mode** (random search, REA, BlockQNN, any strategy whose repeated ``ask`` draws fresh
  candidates): one ask of the wrapper calls the inner ``ask`` ``factor`` times, scores the pooled
  (distinct) candidates with NASWOT and returns as many of the best-scored as one inner ask returns
  (REA: 1 of ``factor`` mutants; BlockQNN: ``batch`` of ``factor x batch`` episodes). Only those are
  trained and told to the inner strategy.
* **select mode** (PNAS, whose ask returns a fixed beam): the beam selection becomes "the
  predictor's top ``factor x K`` children, then the K with the highest NASWOT score"
  (:class:`~nwot.search.pnas.PNAS`'s ``select`` hook). Level-1 cells are all trained, as in PNAS.

Scoring cost: the NASWOT seconds (build + score, measured) are real search time. The screen keeps
them as ``pending_seconds``; :meth:`NaswotScreen.charge` wraps the evaluator so the next evaluation's
cost includes them (``info["screen_seconds"]``). With an evaluation-count budget (equal numbers of
trained models) they are reported, not limiting.

A score is the clean-mode ``log|det K_H|`` of the untrained network built exactly as the evaluator
builds it (same ``build_kwargs``), on one fixed batch from :func:`nwot.data.datasets.scoring_batch`.
"""
from __future__ import annotations

import dataclasses
import random
from typing import Any, Callable, Dict, List, Optional, Sequence

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation, Evaluator, evaluator_config
from nwot.search.base import Strategy, get_strategy, strategy_class
from nwot.spaces.base import Arch, SearchSpace


class NaswotScreen:
    """A training-free scorer for a pool of candidates, with memo and a record of the seconds it spent.

    ``scorer`` is any training-free evaluator (:class:`~nwot.evaluators.proxy.ProxyEvaluator`, live, or
    :class:`~nwot.evaluators.proxy.StoredScoreEvaluator`); the seconds of each score are its ``cost``.
    """

    def __init__(self, scorer: Evaluator, space: SearchSpace) -> None:
        self.scorer, self.space = scorer, space
        self.scores: Dict[str, float] = {}
        self.seconds = 0.0  # all scoring time so far
        self.pending_seconds = 0.0  # scoring time not yet charged to an evaluation

    def score(self, arch: Arch) -> float:
        key = self.space.encode(arch)
        if key not in self.scores:
            ev = self.scorer(arch)
            self.scores[key] = float(ev.signal)
            self.seconds += ev.cost
            self.pending_seconds += ev.cost
        return self.scores[key]

    def top(self, candidates: Sequence[Arch], k: int) -> List[Arch]:
        """The ``k`` candidates with the highest score (stable: earlier candidates win ties)."""
        scored = [(self.score(a), -i, a) for i, a in enumerate(candidates)]
        scored.sort(key=lambda x: (x[0], x[1]), reverse=True)
        return [a for _, _, a in scored[:k]]

    def selector(self, factor: int) -> Callable[[List[Arch], int], List[Arch]]:
        """PNAS beam selection: the scorer's top k of the predictor's top ``factor * k``."""
        return _Selector(self, factor)

    def charge(self, evaluate: Evaluator) -> ChargedEvaluator:
        return ChargedEvaluator(evaluate, self)


class _Selector:
    def __init__(self, screen: NaswotScreen, factor: int) -> None:
        self.screen, self.factor = screen, factor

    def __call__(self, ranked: List[Arch], k: int) -> List[Arch]:
        return self.screen.top(ranked[:self.factor * k], k)


class ChargedEvaluator:
    """``evaluate`` whose next evaluation also pays the screen's pending scoring seconds."""

    def __init__(self, evaluate: Evaluator, screen: NaswotScreen) -> None:
        self.evaluate, self.screen = evaluate, screen

    def __call__(self, arch: Arch) -> Evaluation:
        ev = self.evaluate(arch)
        extra, self.screen.pending_seconds = self.screen.pending_seconds, 0.0
        return dataclasses.replace(ev, cost=ev.cost + extra, info={**ev.info, "screen_seconds": extra})

    def config(self) -> Dict[str, Any]:
        return {**evaluator_config(self.evaluate), "charged_screen": True}


class Prescreened(Strategy):
    """``inner`` strategy with pre-screening of ``factor`` x its proposals by ``screen`` (module docstring).

    A wrapper, not a registered strategy: :func:`nwot.search.run.run` builds it for ``prescreen=f``. The
    mode follows what the inner strategy declares: ``select`` when it takes a beam-selection hook
    (:attr:`~nwot.search.base.Strategy.takes_select`, PNAS), ``pool`` otherwise.
    """

    name = "prescreen"

    def __init__(self, space: SearchSpace, rng: random.Random, *, inner: str, screen: NaswotScreen, factor: int = 4,
                 inner_kwargs: Optional[Dict[str, Any]] = None,
                 wrap: Optional[Callable[[Strategy], Strategy]] = None) -> None:
        super().__init__(space, rng)
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise NwotError(f"pre-screening factor must be an int >= 1, got {factor!r}")
        self.screen, self.factor, self.inner_name = screen, factor, inner
        kwargs = dict(inner_kwargs or {})
        if strategy_class(inner).takes_select:
            kwargs["select"] = screen.selector(factor)
            self.mode = "select"
            self.asynchrony = strategy_class(inner).asynchrony  # the inner beam, selected by the screen
        else:
            self.mode = "pool"  # one ask pools several inner asks and tells only the chosen: one ask at a time

        self.inner = get_strategy(inner, space, rng, **kwargs)
        if wrap is not None:  # e.g. the cost-constraint guard, so no infeasible proposal is ever scored
            self.inner = wrap(self.inner)
        self.name = f"{inner}+naswot"

    def ask(self) -> List[Arch]:
        if self.mode == "select":
            return self.inner.ask()
        first = self.inner.ask()
        pool, seen = [], set()
        batches = [first] + [self.inner.ask() for _ in range(self.factor - 1)]
        for batch in batches:
            for a in batch:
                key = self.space.encode(a)
                if key not in seen:
                    seen.add(key)
                    pool.append(a)
        return self.screen.top(pool, max(1, len(first)))

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        self.inner.tell(archs, evals)

    def config(self) -> Dict[str, Any]:
        return {"inner": self.inner_name, "factor": self.factor, "mode": self.mode,
                "screen_seconds": self.screen.seconds, "scored": len(self.screen.scores),
                "inner_config": self.inner.config()}
