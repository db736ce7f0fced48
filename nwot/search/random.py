"""Random search: evaluate uniformly drawn archs, keep the best by search signal.

NAS-Bench-201 §5 / NATS-Bench ``random_wo_share.py`` (RS): draws are with replacement, one per step.
Bergstra & Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 2012. Asynchronous
evaluation changes nothing: every draw is independent of what was told.
"""
from __future__ import annotations

from typing import List, Sequence

from nwot.evaluators.base import Evaluation
from nwot.search.base import Strategy, register_strategy
from nwot.spaces.base import Arch


@register_strategy("random")
class RandomSearch(Strategy):
    """``ask`` -> one ``space.sample(rng)``; the loop keeps the best (no state to update)."""

    name = "random"
    asynchrony = "any"  # draws are independent of what was told

    def ask(self) -> List[Arch]:
        return [self.space.sample(self.rng)]

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        pass
