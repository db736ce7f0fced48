"""The query interface shared by every tabular benchmark (NB201, NATS-TSS/SSS, NB101, NDS, ...).

Semantics follow the official APIs researchers know (NATS-Bench ``get_more_info`` /
``simulate_train_eval`` / ``find_best``, nasbench ``query``), with two deliberate differences
(STYLE.md habit 7): fidelity (``hp``) and seed are explicit, and no default draws a random trial.

* ``seed=None``  -> mean over the seeds the benchmark has (official ``is_random=False``);
* ``seed=<int>`` -> that seed's trial;
* ``seed=random.Random`` -> one seed drawn from that RNG among the available ones (official ``is_random=True``).
"""
from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

from ..errors import NwotError, OutOfSpaceError, check_choice
from ..registry import Registry

SeedLike = Union[None, int, random.Random]


class Metric(str, Enum):
    ACCURACY = "accuracy"
    LOSS = "loss"


#: Official split names (NB201/NATS ``eval_acc1es`` keys); "train" is the training set.
SPLITS = ("train", "x-valid", "x-test", "ori-test")


@dataclass(frozen=True)
class SplitResult:
    accuracy: Optional[float]  # top-1 %, None when the benchmark does not store it
    loss: Optional[float] = None


@dataclass(frozen=True)
class QueryResult:
    """One benchmark lookup. ``splits`` maps official split names to their numbers."""

    index: int
    arch: str
    dataset: str
    hp: str  # training epochs/schedule key, e.g. "12", "200" (TSS), "01"/"12"/"90" (SSS), "108" (NB101)
    seed: Optional[int]  # None = mean over ``seeds``
    seeds: Sequence[int]
    splits: Dict[str, SplitResult]
    cost: Optional[float] = None  # simulated seconds: train-all-time + valid-per-time (official simulate_train_eval)
    params: Optional[float] = None  # MB (1e6 parameters)
    flops: Optional[float] = None  # MFLOPs
    epoch: Optional[int] = None  # None = final epoch

    def accuracy(self, split: str) -> Optional[float]:
        check_choice("split", split, self.splits)
        return self.splits[split].accuracy

    @property
    def valid_accuracy(self) -> Optional[float]:
        """Search signal: ``x-valid`` (for ``cifar10-valid``, the held-out 25k of the train set)."""
        s = self.splits.get("x-valid")
        return None if s is None else s.accuracy

    @property
    def test_accuracy(self) -> Optional[float]:
        """Reporting number as NB201/NATS report it: ``ori-test`` for CIFAR-10 datasets, else ``x-test``."""
        key = "ori-test" if self.dataset in ("cifar10", "cifar10-valid") else "x-test"
        s = self.splits.get(key)
        return None if s is None else s.accuracy

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["splits"] = {k: asdict(v) for k, v in self.splits.items()}
        return d


class Benchmark(ABC):
    """A tabular benchmark: a finite indexed set of architectures with stored training results."""

    name: str = "benchmark"
    datasets: Sequence[str] = ()
    hps: Sequence[str] = ()

    # --- identity -----------------------------------------------------------------
    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def arch(self, index: int) -> str:
        """The encoded architecture (arch string / spec hash / config id) at ``index``."""

    @abstractmethod
    def index_of(self, arch: Any, *, resolve_isomorph: bool = False) -> int:
        """Normalise an index, string or op vector to the benchmark index; ``OutOfSpaceError`` if unknown."""

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self)))

    def check_index(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int) and not hasattr(index, "__index__"):
            raise OutOfSpaceError(f"{self.name} index must be an int, got {index!r}")
        index = int(index)
        if not 0 <= index < len(self):
            raise OutOfSpaceError(f"{self.name} index {index} out of range; allowed 0..{len(self) - 1}")
        return index

    def check_dataset(self, dataset: str) -> str:
        check_choice(f"{self.name} dataset", dataset, self.datasets)
        return dataset

    def check_hp(self, hp: Union[str, int]) -> str:
        hp = str(hp)
        if self.name in ("nats_sss",) and len(hp) == 1:
            hp = hp.zfill(2)
        check_choice(f"{self.name} hp", hp, self.hps)
        return hp

    # --- lookups --------------------------------------------------------------------
    @abstractmethod
    def query(self, arch: Any, dataset: str, hp: Union[str, int], *, seed: SeedLike = None,
              epoch: Optional[int] = None) -> QueryResult:
        """Accuracy/loss per split for ``arch`` trained on ``dataset`` with schedule ``hp``."""

    def cost(self, arch: Any, dataset: str, hp: Union[str, int], *, seed: SeedLike = None) -> float:
        """Simulated training seconds (train-all-time + valid-per-time), as ``simulate_train_eval`` charges."""
        c = self.query(arch, dataset, hp, seed=seed).cost
        if c is None:
            raise NwotError(f"{self.name} stores no training time for dataset {dataset!r} hp {hp!r}")
        return c

    def params(self, arch: Any, dataset: str = "cifar10") -> Optional[float]:
        return None

    def flops(self, arch: Any, dataset: str = "cifar10") -> Optional[float]:
        return None

    def best(self, dataset: str, metric: str = "test", hp: Union[str, int] = "200", *,
             max_params: Optional[float] = None, max_flops: Optional[float] = None):
        """(index, value) of the best arch by ``metric`` ("valid" or "test" accuracy), like NATS ``find_best``."""
        check_choice("metric", metric, ("valid", "test"))
        best_i, best_v = None, float("-inf")
        for i in self:
            if max_params is not None and (self.params(i, dataset) or float("inf")) > max_params:
                continue
            if max_flops is not None and (self.flops(i, dataset) or float("inf")) > max_flops:
                continue
            r = self.query(i, dataset, hp)
            v = r.valid_accuracy if metric == "valid" else r.test_accuracy
            if v is not None and v > best_v:
                best_i, best_v = i, v
        return best_i, best_v

    def to_frame(self):
        """All stored numbers as a pandas DataFrame (one row per arch)."""
        raise NotImplementedError(f"{type(self).__name__}.to_frame")


def resolve_seed(seed: SeedLike, available: Sequence[int]) -> Optional[int]:
    """Map the public ``seed`` argument to a concrete seed (or None for the mean); see module docstring."""
    available = list(available)
    if seed is None:
        return None
    if isinstance(seed, random.Random):
        if not available:
            raise NwotError("no seeds available to sample from")
        return seed.choice(sorted(available))
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise NwotError(f"seed must be None, an int or a random.Random, got {seed!r}")
    check_choice("seed", seed, available)
    return seed


@dataclass
class TimedBenchmark:
    """Time accounting for searches (NATS-Bench ``simulate_train_eval`` / ``reset_time`` / ``used_time``).

    Each :meth:`simulate_train_eval` returns the search signal (valid accuracy of one randomly drawn
    seed, as the official API with ``is_random=True``) and charges the simulated cost.
    """

    benchmark: Benchmark
    dataset: str
    hp: str = "12"
    used_time: float = 0.0
    n_queries: int = 0
    history: List[Dict[str, Any]] = field(default_factory=list)

    def reset_time(self) -> None:
        self.used_time = 0.0
        self.n_queries = 0
        self.history.clear()

    def simulate_train_eval(self, arch: Any, rng: random.Random):
        """-> (valid_accuracy, latency, used_time, cost), like NATS ``simulate_train_eval``."""
        r = self.benchmark.query(arch, _search_dataset(self.dataset), self.hp, seed=rng)
        if r.valid_accuracy is None or r.cost is None:
            raise NwotError(f"{self.benchmark.name} has no valid accuracy/cost for {self.dataset} hp {self.hp}")
        self.used_time += r.cost
        self.n_queries += 1
        self.history.append({"index": r.index, "signal": r.valid_accuracy, "cost": r.cost, "time": self.used_time})
        return r.valid_accuracy, 0.0, self.used_time, r.cost


def _search_dataset(dataset: str) -> str:
    """CIFAR-10 searches read ``cifar10-valid`` (train 25k / x-valid 25k); reports read ``cifar10`` ori-test."""
    return "cifar10-valid" if dataset == "cifar10" else dataset


search_dataset = _search_dataset

BENCHMARKS: Registry[Benchmark] = Registry("benchmark")
register_benchmark = BENCHMARKS.register


def get_benchmark(name: str, **kwargs: Any) -> Benchmark:
    """Open a registered benchmark backend, e.g. ``get_benchmark("nb201")`` (embedded table)."""
    from . import _load_all  # noqa: F401

    return BENCHMARKS.create(name, **kwargs)
