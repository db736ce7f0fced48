"""Regularized (aging) evolution, REA (Real et al., "Regularized Evolution for Image Classifier
Architecture Search", AAAI 2019, Algorithm 1), as run on NAS-Bench-201 / NATS-Bench.

* fill a population of ``P`` random archs (P = 10);
* each cycle: draw ``S`` members *with replacement* (S = 3, the "sample size"), the best of them by
  search signal is the parent, the child is the parent with one edge changed to a different op
  (``space.mutate``); the child joins the population and the *oldest* member leaves.

**Asynchronous use** (``asynchrony = "any"``, as the paper's workers ran it: each worker picks a parent
from the current population when it is free, and a child joins when its training ends): ``ask`` may be
called again before earlier children are told, and tells come in any order. An ask issued while fewer than
``P`` members have been told draws a random member, so with ``K`` workers up to ``P + K - 1`` random
members are trained before the first mutation; an ask never changes the population (only tells do).
"""
from __future__ import annotations

import collections
from typing import Any, Deque, Dict, List, Sequence, Tuple

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.search.base import Strategy, register_strategy
from nwot.spaces.base import Arch

Member = Tuple[Arch, float]  # (arch, search signal)


def tournament(population: Sequence[Member], sample_size: int, rng) -> Member:
    """Best of ``sample_size`` members drawn uniformly with replacement (first drawn wins ties)."""
    sample = [population[rng.randrange(len(population))] for _ in range(sample_size)]
    return max(sample, key=lambda m: m[1])


@register_strategy("rea")
class RegularizedEvolution(Strategy):
    name = "rea"
    asynchrony = "any"

    def __init__(self, space, rng, population_size: int = 10, sample_size: int = 3) -> None:
        super().__init__(space, rng)
        if population_size < 1 or sample_size < 1:
            raise NwotError(f"REA needs population_size >= 1 and sample_size >= 1, "
                            f"got {population_size}, {sample_size}")
        self.population_size, self.sample_size = population_size, sample_size
        self.population: Deque[Member] = collections.deque()

    def initial_arch(self) -> Arch:
        """A member of the initial population (REA: uniform random)."""
        return self.space.sample(self.rng)

    def ask(self) -> List[Arch]:
        if len(self.population) < self.population_size:
            return [self.initial_arch()]
        parent, _ = tournament(self.population, self.sample_size, self.rng)
        return [self.space.mutate(parent, self.rng)]

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        for a, ev in zip(archs, evals):
            self.population.append((a, float(ev.signal)))
            if len(self.population) > self.population_size:
                self.population.popleft()  # aging: the oldest dies, whatever its signal

    def config(self) -> Dict[str, Any]:
        return {"population_size": self.population_size, "sample_size": self.sample_size}
