"""Large-scale evolution, LSE (Real et al., "Large-Scale Evolution of Image Classifiers", ICML 2017, §3).

A population of ``P`` individuals; each step picks two members uniformly at random (without
replacement), *kills the worse* (by search signal; on a tie the first picked), and the better one
reproduces: its copy is mutated, trained (evaluated) and put back. Unlike REA (which removes the
oldest), selection here removes the loser.

Mutation set adapted to a fixed-skeleton cell space. Real et al. mutate whole networks with
{alter learning rate, identity, reset weights, insert/remove convolution, alter stride, alter number
of channels, filter size, insert one-to-one, add/remove skip}. In NB201 every structural mutation
is a change of one edge's op, which is exactly ``space.mutate`` (one edge -> a different op):
insert convolution = none/skip/pool -> conv; remove convolution = conv -> none/skip/pool;
filter size = conv1x1 <-> conv3x3; add/remove skip = none <-> skip_connect; insert one-to-one =
none -> skip/pool. In NATS-SSS, ``space.mutate`` changes one layer's channel count = "alter number of
channels". The training mutations (learning rate, reset weights) and alter stride do not exist in
these spaces (training schedule and macro skeleton are fixed by the benchmark), and the identity
mutation (retrain the same network) is left out because with a seed-mean table it would re-buy an
already known number. The initial population is random (Real et al. start from trivial one-layer
networks; the corresponding all-``none`` cell has no input->output path in NB201). ``P`` defaults to
10, REA's population, to fit the ~100-200 evaluations of the benchmark budgets (Real et al.: 1,000).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from nwot.errors import NwotError
from nwot.spaces.base import Arch
from nwot.evaluators.base import Evaluation
from nwot.search.base import Strategy, register_strategy

Member = Tuple[Arch, float]


@register_strategy("lse")
class LargeScaleEvolution(Strategy):
    name = "lse"

    def __init__(self, space, rng, population_size: int = 10) -> None:
        super().__init__(space, rng)
        if population_size < 2:
            raise NwotError(f"LSE picks two members, so population_size must be >= 2, got {population_size}")
        self.population_size = population_size
        self.population: List[Member] = []
        self.n_initial = 0  # random members asked so far
        self.last_killed: Optional[Member] = None
        self.last_parent: Optional[Member] = None

    def ask(self) -> List[Arch]:
        if self.n_initial < self.population_size:
            self.n_initial += 1
            return [self.space.sample(self.rng)]
        i, j = self.rng.sample(range(len(self.population)), 2)
        a, b = self.population[i], self.population[j]
        loser, winner = (a, b) if a[1] <= b[1] else (b, a)
        del self.population[i if loser is a else j]
        self.last_killed, self.last_parent = loser, winner
        return [self.space.mutate(winner[0], self.rng)]

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        for arch, ev in zip(archs, evals):
            self.population.append((arch, float(ev.signal)))

    def config(self) -> Dict[str, Any]:
        return {"population_size": self.population_size}
