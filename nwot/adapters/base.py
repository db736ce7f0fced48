"""The query interface shared by every tabular benchmark (NB201, NATS-TSS/SSS, NB101, NDS, ...).

Semantics follow the official APIs researchers know (NATS-Bench ``get_more_info`` /
``simulate_train_eval`` / ``find_best``, nasbench ``query``), with two deliberate differences
(STYLE.md habit 7): fidelity (``hp``) and seed are explicit, and no default draws a random trial.

* ``seed=None``  -> mean over the seeds the benchmark has (official ``is_random=False``);
* ``seed=<int>`` -> that seed's trial (official ``is_random=<seed>``);
* ``seed=random.Random`` -> one seed drawn from that RNG among the available ones (official
  ``is_random=True``, which draws ``random.choice(sorted seeds)`` once per query: the same seed is
  used for every split of that query).

Pitfalls the interface makes explicit (each has a test in ``tests/adapters/test_adapters.py``):

* the official ``query_by_index`` / ``get_more_info`` / ``find_best`` default to ``hp="12"`` (the
  12-epoch proxy run); here ``hp`` has no default in :meth:`Benchmark.query`;
* a CIFAR-10 *search* reads ``cifar10-valid`` (trained on 25k, signal = ``x-valid``), a CIFAR-10
  *report* reads ``cifar10`` (trained on 50k, ``ori-test``): :class:`TimedBenchmark` and
  :func:`remap_metric` encode that mapping, exactly as ``simulate_train_eval`` / ``find_best`` do.
"""
from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from nwot.adapters.hardware import COST_METRICS, UNITS, HardwareCost, Measure, metric_of
from nwot.errors import NwotError, OutOfSpaceError, check_choice
from nwot.registry import Registry

SeedLike = Union[None, int, random.Random]
HpLike = Union[str, int]


class Metric(str, Enum):
    ACCURACY = "accuracy"
    LOSS = "loss"


#: Official split names (NB201/NATS ``eval_acc1es`` keys); "train" is the training set.
SPLITS = ("train", "x-valid", "x-test", "ori-test")

#: The splits each NB201/NATS dataset has (official ``get_metrics`` docstring):
#: ``cifar10-valid`` trains on 25k, ``x-valid`` = the other 25k train images, ``ori-test`` = test set;
#: ``cifar10`` trains on all 50k, only ``ori-test``; ``cifar100`` / ``ImageNet16-120`` split the test
#: set into halves ``x-valid`` / ``x-test`` (``ori-test`` = both halves).
DATASET_SPLITS: Dict[str, Tuple[str, ...]] = {
    "cifar10-valid": ("train", "x-valid", "ori-test"),
    "cifar10": ("train", "ori-test"),
    "cifar100": ("train", "x-valid", "x-test", "ori-test"),
    "ImageNet16-120": ("train", "x-valid", "x-test", "ori-test"),
}
NB201_DATASETS: Tuple[str, ...] = tuple(DATASET_SPLITS)
#: Classifier outputs of each dataset's network.
NUM_CLASSES: Dict[str, int] = {"cifar10-valid": 10, "cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
#: Dataset names accepted by the official ``simulate_train_eval``.
SEARCH_DATASETS: Tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")


@dataclass(frozen=True)
class SplitResult:
    accuracy: Optional[float]  # top-1 %, None when the benchmark does not store it
    loss: Optional[float] = None


@dataclass(frozen=True)
class QueryResult:
    """One benchmark lookup. ``splits`` maps the dataset's official split names to their numbers
    (every split of :data:`DATASET_SPLITS`; a split the backend does not store has ``accuracy=None``)."""

    index: int
    arch: str
    dataset: str
    hp: str  # training epochs/schedule key, e.g. "12", "200" (TSS), "01"/"12"/"90" (SSS), "108" (NB101)
    seed: Optional[int]  # None = mean over ``seeds``
    seeds: Sequence[int]  # seeds the benchmark has for (arch, dataset, hp); () when it stores means only
    splits: Dict[str, SplitResult]
    # simulated seconds: train-all-time + valid-per-time (official simulate_train_eval);
    # embedded table: train-all-time only
    cost: Optional[float] = None
    params: Optional[float] = None  # MB (1e6 parameters) of this dataset's network
    flops: Optional[float] = None  # MFLOPs of this dataset's network
    epoch: Optional[int] = None  # 0-based epoch index as the official ``iepoch``; None = final epoch
    latency: Optional[float] = None  # seconds per batch of 256 (official ``get_latency``), None if unknown
    #: HW-NAS-Bench cost of this dataset's network per device (batch 1; :mod:`nwot.adapters.hardware`);
    #: empty when the backend has none, a field ``None`` where a device did not measure this cell.
    hardware: Dict[str, HardwareCost] = field(default_factory=dict)

    def cost_metric(self, metric: str) -> Optional[Measure]:
        """``params`` / ``flops`` / a hardware metric (e.g. ``"edgegpu_latency"``) with its unit; None if unknown."""
        check_choice("cost metric", metric, COST_METRICS)
        value = getattr(self, metric) if metric in ("params", "flops") else metric_of(self.hardware, metric)
        return None if value is None else Measure(float(value), UNITS[metric])

    def accuracy(self, split: str) -> Optional[float]:
        check_choice(f"split of {self.dataset}", split, self.splits)
        return self.splits[split].accuracy

    def loss(self, split: str) -> Optional[float]:
        check_choice(f"split of {self.dataset}", split, self.splits)
        return self.splits[split].loss

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
        d["seeds"] = list(self.seeds)
        d["splits"] = {k: asdict(v) for k, v in self.splits.items()}
        return d


def remap_metric(dataset: str, metric: str, datasets: Sequence[str] = NB201_DATASETS) -> Tuple[str, str]:
    """``(dataset, metric)`` -> ``(dataset, split)`` as NATS ``remap_dataset_set_names`` (used by ``find_best``).

    ``("cifar10", "valid")`` -> ``("cifar10-valid", "x-valid")`` (the search split),
    ``("cifar10", "test")`` -> ``("cifar10", "ori-test")`` (the report split), cifar100 / ImageNet16-120:
    ``valid`` -> ``x-valid``, ``test`` -> ``x-test``; ``cifar10-valid``: ``valid`` -> ``x-valid``,
    ``test`` -> ``ori-test``. An official split name is passed through unchanged.
    """
    if metric in SPLITS:
        return dataset, metric
    check_choice("metric", metric, ("valid", "test") + SPLITS)
    if dataset == "cifar10" and metric == "valid" and "cifar10-valid" in datasets:
        return "cifar10-valid", "x-valid"
    if dataset in ("cifar10", "cifar10-valid"):
        return dataset, "x-valid" if metric == "valid" else "ori-test"
    return dataset, "x-valid" if metric == "valid" else "x-test"


class Benchmark(ABC):
    """A tabular benchmark: a finite indexed set of architectures with stored training results."""

    name: str = "benchmark"
    space: str = ""  # registered search-space name of the archs (e.g. "nb201", "nats_sss")
    datasets: Sequence[str] = ()
    hps: Sequence[str] = ()  # schedule keys, shortest first; the last one is the full training
    has_seeds: bool = True  # False for tables of seed means (``seed`` must then be None)
    source: str = ""  # where the official data comes from (URL), for messages

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

    def available_indices(self) -> Sequence[int]:
        """Indices whose results this backend can return (all of them, unless the archive is partial)."""
        return range(len(self))

    @property
    def full_hp(self) -> str:
        """The benchmark's full training schedule (``"200"`` TSS, ``"90"`` SSS): the last of :attr:`hps`."""
        if not self.hps:
            raise NwotError(f"{self.name} declares no training schedules (hps)")
        return str(self.hps[-1])

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

    def check_hp(self, hp: HpLike) -> str:
        """Normalise ``hp`` to the benchmark's key: ``200`` -> ``"200"``, ``1`` -> ``"01"`` (SSS)."""
        if isinstance(hp, bool) or not isinstance(hp, (str, int)):
            raise NwotError(f"{self.name} hp must be a str or int, got {hp!r}; "
                            f"allowed: {', '.join(map(repr, self.hps))}")
        hp = str(hp)
        if hp not in self.hps and hp.isdigit() and hp.zfill(2) in self.hps:
            hp = hp.zfill(2)
        check_choice(f"{self.name} hp", hp, self.hps)
        return hp

    # --- lookups --------------------------------------------------------------------
    @abstractmethod
    def query(self, arch: Any, dataset: str, hp: HpLike, *, seed: SeedLike = None,
              epoch: Optional[int] = None) -> QueryResult:
        """Accuracy/loss per split for ``arch`` trained on ``dataset`` with schedule ``hp``."""

    def cost(self, arch: Any, dataset: str, hp: HpLike, *, seed: SeedLike = None) -> float:
        """Simulated training seconds (train-all-time + valid-per-time), as ``simulate_train_eval`` charges.

        This is the cost of *that* dataset's run; a CIFAR-10 search is charged ``cifar10-valid``'s
        (see :class:`TimedBenchmark`).
        """
        r = self.query(arch, dataset, hp, seed=seed)
        if r.cost is None:
            raise NwotError(self.missing_cost_message(r.dataset, r.hp))
        return r.cost

    def missing_cost_message(self, dataset: str, hp: str) -> str:
        return f"{self.name} stores no training time for dataset {dataset!r} hp {hp!r}"

    def params(self, arch: Any, dataset: str = "cifar10") -> Optional[float]:
        """Parameters (MB = 1e6) of ``dataset``'s network, None if unknown."""
        return None

    def flops(self, arch: Any, dataset: str = "cifar10") -> Optional[float]:
        """MFLOPs of ``dataset``'s network, None if unknown."""
        return None

    def best(self, dataset: str, metric: str = "test", hp: Optional[HpLike] = None, *,
             max_params: Optional[float] = None, max_flops: Optional[float] = None,
             indices: Optional[Sequence[int]] = None) -> Tuple[int, float]:
        """``(index, accuracy)`` of the best arch, like NATS ``find_best``.

        ``metric`` is "valid" / "test" (mapped by :func:`remap_metric`, so ``("cifar10", "valid")`` reads
        ``cifar10-valid`` x-valid) or an official split name; the accuracy is the seed mean of the final
        epoch of ``hp`` (default: :attr:`full_hp`; the official default is ``"12"``). Archs whose params
        (MB) / FLOPs (M) exceed ``max_params`` / ``max_flops`` are skipped; ties go to the lowest index.
        ``indices`` restricts the candidates (default: :meth:`available_indices`).
        """
        ds, split = remap_metric(dataset, metric, self.datasets)
        self.check_dataset(ds)
        check_choice(f"split of {ds}", split, DATASET_SPLITS.get(ds, SPLITS))
        hp = self.check_hp(self.full_hp if hp is None else hp)
        cands = self.available_indices() if indices is None else [self.check_index(i) for i in indices]
        best_i, best_v = -1, float("-inf")
        for i in cands:
            if max_params is not None and _exceeds(self.params(i, ds), max_params, "params", self.name, ds):
                continue
            if max_flops is not None and _exceeds(self.flops(i, ds), max_flops, "FLOPs", self.name, ds):
                continue
            v = self.query(i, ds, hp).accuracy(split)
            if v is not None and v > best_v:
                best_i, best_v = i, v
        if best_i < 0:
            raise NwotError(f"{self.name}: no architecture with a {ds} {split} accuracy at hp {hp} satisfies "
                            f"max_params={max_params}, max_flops={max_flops}")
        return best_i, best_v

    def to_frame(self):
        """All stored numbers as a pandas DataFrame (one row per arch)."""
        raise NotImplementedError(f"{type(self).__name__}.to_frame")


def _exceeds(value: Optional[float], limit: float, what: str, name: str, dataset: str) -> bool:
    if value is None:
        raise NwotError(f"{name} does not know the {what} of its {dataset} networks; drop the max_{what.lower()} limit")
    return value > limit


def resolve_seed(seed: SeedLike, available: Sequence[int]) -> Optional[int]:
    """Map the public ``seed`` argument to a concrete seed (or None for the mean); see module docstring.

    ``random.Random`` draws ``rng.choice(sorted(available))``: the official ``is_random=True`` is
    ``random.choice(archresult.get_dataset_seeds(dataset))`` on the sorted seed list, so an RNG in the same
    state picks the same seed.
    """
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


def search_dataset(dataset: str) -> str:
    """CIFAR-10 searches read ``cifar10-valid`` (train 25k / x-valid 25k); reports read ``cifar10`` ori-test."""
    return "cifar10-valid" if dataset == "cifar10" else dataset


_search_dataset = search_dataset


class TrainEval(NamedTuple):
    """What one ``simulate_train_eval`` returns, in the official tuple order."""

    valid_accuracy: float  # the search signal
    latency: Optional[float]  # seconds per batch of 256 (None if the benchmark does not store it)
    cost: float  # simulated seconds charged for this evaluation
    used_time: float  # total simulated seconds so far


#: Cost models of :class:`TimedBenchmark`: the cost the backend stores for the dataset's run, or the
#: ``cifar10-valid`` cost scaled by the training-set size (for tables that store only that one).
COST_MODELS: Tuple[str, ...] = ("benchmark", "scaled")
#: Training images of each dataset's run (NB201 §2.2): cifar10-valid = half of the CIFAR-10 train set.
TRAIN_IMAGES: Dict[str, int] = {"cifar10-valid": 25_000, "cifar10": 50_000, "cifar100": 50_000,
                                "ImageNet16-120": 151_700}
#: The dataset whose stored cost ``cost="scaled"`` scales.
COST_REFERENCE = "cifar10-valid"


def cost_scale(dataset: str) -> float:
    """``N_train(search dataset) / N_train(cifar10-valid)``: 1 (cifar10), 2 (cifar100), 6.068 (ImageNet16-120)."""
    check_choice("search dataset", dataset, SEARCH_DATASETS)
    return TRAIN_IMAGES[search_dataset(dataset)] / TRAIN_IMAGES[COST_REFERENCE]


@dataclass
class TimedBenchmark:
    """The search clock (NATS-Bench ``simulate_train_eval`` / ``reset_time`` / ``used_time``): the one place
    a benchmark query becomes (search signal, simulated cost) and the time is counted.

    ``dataset`` is one of the official search names ``cifar10`` / ``cifar100`` / ``ImageNet16-120``;
    ``cifar10`` reads ``cifar10-valid``. Each :meth:`simulate_train_eval` returns the search signal
    (``x-valid`` accuracy; ``ori-test`` at an ``epoch`` where ``x-valid`` is not stored, as the official
    code) and charges the simulated cost: with ``cost="benchmark"`` what the backend stores for that run
    (officially ``train-all-time + valid-per-time``), with ``cost="scaled"`` the ``cifar10-valid`` cost
    times :func:`cost_scale` (for tables that store only that one). With ``rng`` one seed's trial is drawn
    (official ``is_random=True``); with ``rng=None`` the seed mean is used (the only option for tables of
    seed means).
    """

    benchmark: Benchmark
    dataset: str
    hp: str = "12"
    cost: str = "benchmark"
    used_time: float = 0.0
    n_queries: int = 0
    history: List[Dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_choice("search dataset (official simulate_train_eval names; cifar10 reads cifar10-valid)",
                     self.dataset, SEARCH_DATASETS)
        check_choice("cost model", self.cost, COST_MODELS)
        self.signal_dataset = self.benchmark.check_dataset(search_dataset(self.dataset))
        self.hp = self.benchmark.check_hp(self.hp)
        if self.cost == "scaled":
            self.benchmark.check_dataset(COST_REFERENCE)
        self.scale = cost_scale(self.dataset) if self.cost == "scaled" else 1.0

    def reset_time(self) -> None:
        self.used_time = 0.0
        self.n_queries = 0
        self.history.clear()

    def _cost(self, arch: Any, r: QueryResult) -> float:
        if self.cost == "benchmark":
            if r.cost is None:
                raise NwotError(f"{self.benchmark.missing_cost_message(r.dataset, self.hp)}; or use cost='scaled' "
                                f"(cifar10-valid cost x training-set size ratio, recorded in the result config)")
            return float(r.cost)
        ref = self.benchmark.query(arch, COST_REFERENCE, self.hp, seed=None).cost  # the seed mean's cost
        if ref is None:
            raise NwotError(self.benchmark.missing_cost_message(COST_REFERENCE, self.hp))
        return float(ref) * self.scale

    def simulate_train_eval(self, arch: Any, rng: Optional[random.Random] = None, *, epoch: Optional[int] = None,
                            account_time: bool = True) -> TrainEval:
        """-> ``(valid_accuracy, latency, cost, used_time)``, like NATS ``simulate_train_eval``."""
        signal, cost, r = self.charge(arch, rng, epoch=epoch, account_time=account_time)
        return TrainEval(signal, r.latency, cost, self.used_time)

    def charge(self, arch: Any, rng: Optional[random.Random] = None, *, epoch: Optional[int] = None,
               account_time: bool = True) -> Tuple[float, float, QueryResult]:
        """``(search signal, simulated cost, the query)`` of one evaluation, counted on this clock."""
        r = self.benchmark.query(arch, self.signal_dataset, self.hp, seed=rng, epoch=epoch)
        signal = r.valid_accuracy
        if signal is None:  # official: "valtest" (ori-test) where x-valid is not stored at that epoch
            signal = r.splits.get("ori-test", SplitResult(None)).accuracy
        if signal is None:
            raise NwotError(f"{self.benchmark.name} has no x-valid / ori-test accuracy for {self.signal_dataset} "
                            f"hp {self.hp} (arch {r.arch})")
        cost = self._cost(arch, r)
        if account_time:
            self.used_time += cost
        self.n_queries += 1
        self.history.append({"index": r.index, "seed": r.seed, "signal": signal, "cost": cost,
                             "time": self.used_time})
        return float(signal), cost, r


BENCHMARKS: Registry[Benchmark] = Registry("benchmark", builtins=(
    "nwot.adapters.nats",
    "nwot.adapters.nb101",
    "nwot.adapters.nb201_api",
    "nwot.adapters.nds",
    "nwot.adapters.tables",
))
register_benchmark = BENCHMARKS.register


def get_benchmark(name: str, **kwargs: Any) -> Benchmark:
    """Open a registered benchmark backend, e.g. ``get_benchmark("table")`` (embedded NB201 table),
    ``get_benchmark("nats-tss", path=...)``, ``get_benchmark("nb201-api", path=...)``."""

    return BENCHMARKS.create(name, **kwargs)


def list_benchmarks() -> List[str]:
    return BENCHMARKS.names()
