"""Progressive Neural Architecture Search (sequential model-based optimisation with a beam).

Liu et al., "Progressive Neural Architecture Search", ECCV 2018 (arXiv:1712.00559), Algorithm 1::

    S_1 = all level-1 cells;  train S_1;  fit predictor pi on (S_1, accuracies)
    for b = 2 .. B:
        S'_b = expand(S_{b-1})                  # every child: one more block
        S_b  = top-K of S'_b ranked by pi        # the beam
        train S_b;  refit pi on every cell trained so far
    return the best trained cell

**On the ask/tell loop.** :meth:`PNAS.ask` returns the whole current beam (all level-1 cells first,
then the K chosen children of each level); :func:`~nwot.search.base.run_search` trains them one by
one and :meth:`PNAS.tell` records them. When every cell of the beam has been told, the predictor is
refit and the next beam is ranked. A beam cut short by the budget simply ends the search (``tell``
receives the evaluated prefix). Asynchronous use (``asynchrony = "beam"``): the whole beam is trained
concurrently and each cell told as it finishes, in any order; the next beam is asked once all are told.
A failed cell (``Evaluation.failure``) is never re-proposed, expanded or fitted. Level-1 cells are
queued in a seeded random order, so a budget that cannot afford all of them trains a uniform subset.

**After level B** PNAS stops. With ``continue_search=True`` (default), so that PNAS can use the same
budget as REA / random search, it keeps going at level B: each further beam is the next K untrained
level-B children, re-ranked by the refit predictor.

``select`` (optional) replaces "take the first K of the ranking" (used by NASWOT pre-screening,
:mod:`nwot.search.prescreen`: the predictor's top ``f * K`` go through NASWOT and the best K are trained).
"""
from __future__ import annotations

import random
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.search.base import Strategy, register_strategy
from nwot.search.progressive import progression_for
from nwot.search.surrogates import EnsembleSurrogate, SurrogateConfig
from nwot.spaces.base import Arch, SearchSpace

#: ``select(ranked_candidates, k) -> chosen`` (at most k, a subset of the candidates).
Selector = Callable[[List[Arch], int], List[Arch]]


@register_strategy("pnas")
class PNAS(Strategy):
    """PNAS on any space with a :class:`~nwot.search.progressive.Progression` (``pnas``, ``nb201``)."""

    name = "pnas"
    takes_select = True
    asynchrony = "beam"

    def __init__(self, space: SearchSpace, rng: random.Random, *, beam: int = 256,
                 surrogate: Union[SurrogateConfig, str] = "lstm", depth: Optional[int] = None,
                 continue_search: bool = True, select: Optional[Selector] = None,
                 surrogate_kwargs: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(space, rng)
        if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
            raise NwotError(f"beam K must be an int >= 1, got {beam!r}")
        self.prog = progression_for(space)
        if depth is None:
            depth = self.prog.depth
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= self.prog.depth:
            raise NwotError(f"depth must be an int in 1..{self.prog.depth}, got {depth!r}")
        if isinstance(surrogate, str):
            surrogate = SurrogateConfig(kind=surrogate, **(surrogate_kwargs or {}))
        elif surrogate_kwargs:
            raise NwotError("surrogate_kwargs only apply when surrogate is given by kind name")
        self.beam, self.depth, self.continue_search = beam, depth, continue_search
        self.surrogate_cfg: SurrogateConfig = surrogate
        self.select = select
        self.level = 1
        roots = list(self.prog.roots())
        rng.shuffle(roots)
        self.queue: List[Arch] = roots
        self.ranked: List[Arch] = []  # untrained candidates of the current level, best predicted first
        self.predicted: Dict[Arch, float] = {}  # surrogate prediction of each cell of the current beam
        self.predicted_all: Dict[Arch, float] = {}  # ... of every candidate of the last ranking
        self.trained: Dict[Arch, float] = {}
        self.failed: Dict[Arch, str] = {}  # cells whose evaluation failed -> reason (never fitted or expanded)
        self.surrogate: Optional[EnsembleSurrogate] = None
        self.levels: List[Dict[str, Any]] = []  # per beam: level, candidates, surrogate quality
        self._fits = 0

    # -- ask / tell -------------------------------------------------------------------------------
    def ask(self) -> List[Arch]:
        return list(self.queue)

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        for a, ev in zip(archs, evals):
            if ev.ok:
                self.trained[a] = float(ev.signal)
            else:
                self.failed[a] = str(ev.failure)
            if a in self.queue:
                self.queue.remove(a)
            elif a in self.ranked:
                self.ranked.remove(a)
        if not self.queue:
            self._advance()

    # -- the SMBO step ----------------------------------------------------------------------------
    def _fit(self) -> None:
        cells = list(self.trained)
        self.surrogate = EnsembleSurrogate(self.prog.token_kinds, self.prog.token_vocab(), self.surrogate_cfg)
        self.surrogate.fit([self.prog.tokens(c) for c in cells], [self.trained[c] for c in cells],
                           seed=self.rng.randrange(2 ** 31))
        self._fits += 1

    def _record_beam_quality(self) -> None:
        """Spearman rho between predicted and measured signals of the beam just trained (PNAS Fig. 4 style)."""
        done = [a for a in self.predicted if a in self.trained]
        if self.levels and len(done) >= 3:
            pred = np.array([self.predicted[a] for a in done])
            real = np.array([self.trained[a] for a in done])
            from scipy.stats import spearmanr  # here: scipy.stats takes 0.5 s to import, and only PNAS needs it

            rho = float(spearmanr(pred, real).correlation) if np.ptp(pred) > 0 and np.ptp(real) > 0 else None
            self.levels[-1]["beam_spearman"] = rho
        self.predicted = {}

    def _rank(self, candidates: List[Arch]) -> List[Arch]:
        preds = self.surrogate.predict([self.prog.tokens(c) for c in candidates])
        order = np.argsort(-preds, kind="stable")
        self.predicted_all = {candidates[i]: float(preds[i]) for i in order}
        return [candidates[i] for i in order]

    def _choose(self, ranked: List[Arch]) -> List[Arch]:
        chosen = ranked[:self.beam] if self.select is None else list(self.select(ranked, self.beam))
        if not chosen or len(chosen) > self.beam or any(c in self.trained or c in self.failed for c in chosen):
            raise NwotError(f"beam selection returned {len(chosen)} cells (need 1..{self.beam} untrained ones)")
        return chosen

    def _advance(self) -> None:
        self._record_beam_quality()
        if not self.trained:  # every cell so far failed: nothing to fit a predictor on
            self.queue, self.ranked = [], []
            return
        self._fit()
        if self.level < self.depth:
            parents = [a for a in self.trained if self.prog.level(a) == self.level]
            seen = set()
            children = []
            for p in parents:
                for c in self.prog.children(p):
                    if c not in seen and c not in self.trained and c not in self.failed:
                        seen.add(c)
                        children.append(c)
            self.level += 1
        elif self.continue_search:
            children = list(self.ranked)
        else:
            self.queue, self.ranked = [], []
            return
        if not children:
            self.queue, self.ranked = [], []
            return
        ranked = self._rank(children)
        self.queue = self._choose(ranked)
        chosen = set(self.queue)
        self.ranked = [a for a in ranked if a not in chosen]
        self.predicted = {a: self.predicted_all[a] for a in self.queue}
        self.levels.append({"level": self.level, "candidates": len(children), "beam": len(self.queue),
                            "trained_so_far": len(self.trained), "surrogate_train_l1": self.surrogate.train_l1})

    def config(self) -> Dict[str, Any]:
        return {"beam": self.beam, "depth": self.depth, "continue_search": self.continue_search,
                "surrogate": self.surrogate_cfg.__dict__.copy(), "prescreened": self.select is not None,
                "levels": list(self.levels), "surrogate_fits": self._fits, "failed": len(self.failed)}
