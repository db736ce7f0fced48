"""Synthetic benchmarks with a known optimum for the search tests (tests/test_search_*.py).

``ToyBenchmark`` covers a whole space (NB201: 5**6 cells, NATS-SSS: 8**5 configs) in
``itertools.product`` order. Its 12-epoch x-valid accuracy is *separable*: a sum over positions of a
per-position weight of the chosen value, so the optimum is the per-position argmax and is known in
closed form. Two seeds (111, 777) differ from the mean by -1 / +1. Every number is a multiple of 1/4,
so sums of costs are exact in floating point.
"""
from __future__ import annotations

import itertools
import random
from typing import Any, Dict, List, Optional, Sequence, Tuple

from nwot.adapters.base import DATASET_SPLITS, Benchmark, QueryResult, SplitResult, resolve_seed
from nwot.errors import OutOfSpaceError
from nwot.spaces.base import get_space

SEEDS = (111, 777)
SEED_OFFSET = {None: 0.0, 111: -1.0, 777: 1.0}
#: cost multiplier per dataset (NATS train-set ratio), cost of cifar10-valid = arch cost
DATASET_COST = {"cifar10-valid": 1.0, "cifar10": 2.0, "cifar100": 2.0, "ImageNet16-120": 6.0}


def choices_of(space_name: str) -> Tuple[Tuple[Any, ...], ...]:
    sp = get_space(space_name)
    if space_name == "nb201":
        return (tuple(sp.ops),) * len(sp.edges)
    return (tuple(sp.channels),) * sp.num_layers


class ToyBenchmark(Benchmark):
    name = "toy"
    datasets = tuple(DATASET_SPLITS)
    has_seeds = True

    def __init__(self, space: str = "nb201", weight_seed: int = 12345, costs: Optional[Sequence[float]] = None,
                 gap: float = 0.0) -> None:
        self.space = space
        self.sp = get_space(space)
        self.hps = ("12", "200") if space == "nb201" else ("12", "90")
        self.choices = choices_of(space)
        wr = random.Random(weight_seed)
        # distinct quarter-integer weights per position: unique optimum
        self.weights: List[Dict[Any, float]] = []
        for c in self.choices:
            vals = wr.sample(range(4 * len(c) * 3), len(c))
            w = {v: x / 4 for v, x in zip(c, vals)}
            best = max(w, key=w.get)
            w[best] += gap  # ``gap``: how far the best value stands out at each position
            self.weights.append(w)
        self.archs = [self.sp.encode(t) for t in itertools.product(*self.choices)]
        self._index = {a: i for i, a in enumerate(self.archs)}
        self.tuples = list(itertools.product(*self.choices))
        self.costs = costs

    # identity
    def __len__(self) -> int:
        return len(self.archs)

    def arch(self, index: int) -> str:
        return self.archs[self.check_index(index)]

    def index_of(self, arch: Any, *, resolve_isomorph: bool = False) -> int:
        if isinstance(arch, int):
            return self.check_index(arch)
        s = arch if isinstance(arch, str) else self.sp.encode(tuple(arch))
        if s not in self._index:
            raise OutOfSpaceError(f"toy: unknown arch {arch!r}")
        return self._index[s]

    # the landscape
    def valid(self, i: int) -> float:
        return sum(w[v] for w, v in zip(self.weights, self.tuples[i]))

    def optimum(self) -> Tuple[Any, ...]:
        return tuple(max(w, key=w.get) for w in self.weights)

    def arch_cost(self, i: int) -> float:
        if self.costs is not None:
            return float(self.costs[i % len(self.costs)])
        return 40.0 + 2.5 * (i % 17)

    def query(self, arch: Any, dataset: str, hp, *, seed=None, epoch=None) -> QueryResult:
        i = self.index_of(arch)
        dataset, hp = self.check_dataset(dataset), self.check_hp(hp)
        s = resolve_seed(seed, SEEDS)
        v = self.valid(i) + SEED_OFFSET[s] + (0.0 if hp == "12" else 10.0)
        splits = {sp: SplitResult(v if sp in ("x-valid", "x-test", "ori-test") else None)
                  for sp in DATASET_SPLITS[dataset]}
        return QueryResult(index=i, arch=self.archs[i], dataset=dataset, hp=hp, seed=s, seeds=SEEDS, splits=splits,
                           cost=self.arch_cost(i) * DATASET_COST[dataset])
