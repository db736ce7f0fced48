"""NASWOT search (Mellor et al., "Neural Architecture Search without Training", ICML 2021, §4, Alg. 1):
sample ``N`` cells uniformly *with replacement*, score each untrained, keep the highest score.

Run it with a NASWOT evaluator (live :class:`~nwot.evaluators.proxy.ScoreEvaluator` or
:class:`~nwot.evaluators.proxy.StoredScoreEvaluator`) and ``Budget(evaluations=N)``; the loop's
best-by-signal is the argmax score. ``n`` (optional) also stops asking after ``N`` draws.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.search.base import Strategy, register_strategy
from nwot.spaces.base import Arch


@register_strategy("naswot")
class NaswotSearch(Strategy):
    name = "naswot"
    signal = "score"

    def __init__(self, space, rng, n: Optional[int] = None) -> None:
        super().__init__(space, rng)
        if n is not None and n < 1:
            raise NwotError(f"NASWOT search needs n >= 1 cells, got {n}")
        self.n, self.asked = n, 0

    def ask(self) -> List[Arch]:
        """All ``n`` remaining draws at once (an evaluator can then score them in parallel), else one draw.

        The draws are the same either way: one ``space.sample(rng)`` per cell, in order.
        """
        if self.n is not None and self.asked >= self.n:
            return []
        k = 1 if self.n is None else self.n - self.asked
        self.asked += k
        return [self.space.sample(self.rng) for _ in range(k)]

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        pass

    def config(self) -> Dict[str, Any]:
        return {"n": self.n}
