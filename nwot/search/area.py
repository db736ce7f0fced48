"""Assisted REA, AREA (Mellor et al., "Neural Architecture Search without Training", ICML 2021, §4.1).

Sample ``M`` random cells (default 20, twice REA's population), score each with NASWOT (a second,
training-free evaluator passed in), seed REA's population with the ``P`` best by score (P = 10), then
continue as REA (:mod:`nwot.search.rea`). The scoring is charged to the budget: each score's cost
(its wall seconds, live or as recorded in a stored score file) goes through :meth:`Strategy.charge`
and appears in the trace as ``kind == "score"``; scores never compete with the search signal.
"""
from __future__ import annotations

import collections
from typing import Any, Deque, Dict, List

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluator
from nwot.search.base import register_strategy
from nwot.search.rea import RegularizedEvolution
from nwot.spaces.base import Arch


@register_strategy("area")
class AssistedREA(RegularizedEvolution):
    name = "area"
    needs = ("scorer",)
    asynchrony = "batch"  # its P seeds are handed out once each: asks past them before tells would run dry

    def __init__(self, space, rng, scorer: Evaluator, n_candidates: int = 20, population_size: int = 10,
                 sample_size: int = 3) -> None:
        super().__init__(space, rng, population_size=population_size, sample_size=sample_size)
        if n_candidates < population_size:
            raise NwotError(f"AREA scores n_candidates >= population_size cells; "
                            f"got {n_candidates} < {population_size}")
        self.scorer, self.n_candidates = scorer, n_candidates
        self._seeds: Deque[Arch] = collections.deque()
        self._scored = False

    def _prescore(self) -> None:
        """Score ``M`` random cells; queue the top ``P`` by score (ties: earlier draw first)."""
        scored = []
        for i in range(self.n_candidates):
            a = self.space.sample(self.rng)
            ev = self.scorer(a)
            self.charge(a, ev, "score")
            scored.append((float(ev.signal), i, a))
        scored.sort(key=lambda t: (-t[0], t[1]))
        self._seeds.extend(a for _, _, a in scored[: self.population_size])
        self._scored = True

    def ask(self) -> List[Arch]:
        if not self._scored:
            self._prescore()
        return super().ask()

    def initial_arch(self) -> Arch:
        return self._seeds.popleft()

    def config(self) -> Dict[str, Any]:
        return {**super().config(), "n_candidates": self.n_candidates}
