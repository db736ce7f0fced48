"""Shared engine of the backends that read the official per-arch records (NAS-Bench-201 / NATS-Bench).

Both benchmarks store, per arch and schedule ``hp``, an ``ArchResults`` state dict: ``all_results``
maps ``(dataset, seed)`` to one trial (per-epoch ``train_acc1es`` / ``train_losses`` / ``train_times``,
``eval_acc1es`` / ``eval_losses`` / ``eval_times`` keyed ``"<split>@<epoch>"``, ``params``, ``flop``,
``latency``) and ``dataset_seed`` lists the seeds. The numbers are read through the official packages'
own ``ArchResults`` classes (``nats_bench.api_utils`` / ``nas_201_api.api_utils``), built from dicts that
nwot loaded itself with an allow-list (never with ``pickle.load``), so means, seed selection and the
NATS params/FLOPs legacy fix are exactly the official ones:

* accuracy / loss: ``ArchResults.get_metrics(dataset, split, iepoch, is_random)``, ``is_random`` = the
  resolved seed, or ``False`` for the seed mean;
* cost (``simulate_train_eval``): ``train-all-time + valid-per-time`` with
  ``train-all-time = sum_{e <= iepoch} train_times[e]`` and
  ``valid-per-time = sum_{e <= iepoch} eval_times["x-valid@e"] / (iepoch + 1)`` (``ori-test`` for
  ``cifar10``, which has no ``x-valid``); where ``x-valid`` is not stored at ``iepoch`` (NATS TSS hp 200 of
  cifar100 / ImageNet16-120 keeps it for the last epoch only) the final epoch's per-time is used, as
  the official fallback does;
* params / FLOPs / latency: ``ArchResults.get_compute_costs(dataset)``.
"""
from __future__ import annotations

from abc import abstractmethod
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Union

from nwot.adapters.base import (
    DATASET_SPLITS,
    NB201_DATASETS,
    Benchmark,
    HpLike,
    QueryResult,
    SeedLike,
    SplitResult,
    resolve_seed,
)
from nwot.adapters.index import ArchIndex
from nwot.errors import NwotError

IsRandom = Union[bool, int]


def _f(x: Any) -> Optional[float]:
    return None if x is None else float(x)


def metrics(ar: Any, dataset: str, split: str, epoch: Optional[int], is_random: IsRandom) -> Optional[Dict[str, Any]]:
    """Official ``get_metrics`` or None where the split is not stored at that epoch."""
    try:
        return ar.get_metrics(dataset, split, iepoch=epoch, is_random=is_random)
    except (KeyError, ValueError):  # "<split>@<epoch>" not in the record (official get_more_info: "not avaliable")
        return None


def simulated_cost(ar: Any, dataset: str, epoch: Optional[int], is_random: IsRandom) -> Optional[float]:
    """``train-all-time + valid-per-time`` (module docstring), or None where times are not stored."""
    train = metrics(ar, dataset, "train", epoch, is_random)
    if train is None or train["all_time"] is None:
        return None
    split = "x-valid" if "x-valid" in DATASET_SPLITS[dataset] else "ori-test"
    valid = metrics(ar, dataset, split, epoch, is_random)
    total = train["iepoch"] + 1
    if valid is None:  # official fallback: per-time of the final epoch's query
        valid = metrics(ar, dataset, split, None, is_random)
        if valid is None:
            return None
        total = valid["iepoch"] + 1
    if valid["all_time"] is None:
        return None
    return float(train["all_time"] + valid["all_time"] / total)


class RecordBenchmark(Benchmark):
    """A benchmark whose results are official ``ArchResults`` records (see module docstring)."""

    datasets = NB201_DATASETS
    index: ArchIndex
    cache_size: int = 64  # records kept in memory (an NB201/NATS record is ~1 MB of Python objects)

    def __init__(self) -> None:
        self._cache: OrderedDict[int, Dict[str, Any]] = OrderedDict()

    # --- subclasses --------------------------------------------------------------------
    @abstractmethod
    def _load_results(self, index: int) -> Dict[str, Any]:
        """``{hp: ArchResults}`` of one arch (raises ``BenchmarkFileError`` / ``NwotError`` if absent)."""

    # --- identity -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index)

    def arch(self, index: int) -> str:
        return self.index.arch(index)

    def index_of(self, arch: Any, *, resolve_isomorph: bool = False) -> int:
        return self.index.index_of(arch, resolve_isomorph=resolve_isomorph)

    # --- records ------------------------------------------------------------------------
    def results(self, index: int, hp: str) -> Any:
        """The official ``ArchResults`` of ``index`` trained with schedule ``hp`` (cached)."""
        if index in self._cache:
            self._cache.move_to_end(index)
        else:
            self._cache[index] = self._load_results(index)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        per_hp = self._cache[index]
        if hp not in per_hp:
            raise NwotError(f"{self.name}: index {index} has results for hp {', '.join(map(repr, per_hp))} only, "
                            f"not {hp!r}")
        return per_hp[hp]

    def _dataset_results(self, index: int, dataset: str, hp: str) -> Any:
        ar = self.results(index, hp)
        if dataset not in ar.get_dataset_names():
            raise NwotError(f"{self.name}: index {index} hp {hp} has no {dataset} trials; it has: "
                            f"{', '.join(ar.get_dataset_names())}")
        return ar

    # --- lookups --------------------------------------------------------------------
    def query(self, arch: Any, dataset: str, hp: HpLike, *, seed: SeedLike = None,
              epoch: Optional[int] = None) -> QueryResult:
        i = self.index_of(arch)
        dataset, hp = self.check_dataset(dataset), self.check_hp(hp)
        ar = self._dataset_results(i, dataset, hp)
        seeds = ar.get_dataset_seeds(dataset)
        s = resolve_seed(seed, seeds)
        if epoch is not None:
            n = ar.get_total_epoch(dataset)
            if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < n:
                raise NwotError(f"{self.name}: epoch {epoch!r} out of range for hp {hp}; allowed 0..{n - 1} "
                                f"(0-based, official iepoch) or None for the final epoch")
        is_random: IsRandom = False if s is None else s
        splits = {}
        for split in DATASET_SPLITS[dataset]:
            m = metrics(ar, dataset, split, epoch, is_random)
            splits[split] = SplitResult(None, None) if m is None else SplitResult(_f(m["accuracy"]), _f(m["loss"]))
        costs = ar.get_compute_costs(dataset)
        return QueryResult(index=i, arch=self.arch(i), dataset=dataset, hp=hp, seed=s, seeds=tuple(seeds),
                           splits=splits, cost=simulated_cost(ar, dataset, epoch, is_random),
                           params=_f(costs["params"]), flops=_f(costs["flops"]), epoch=epoch,
                           latency=_f(costs["latency"]))

    def compute_costs(self, arch: Any, dataset: str, hp: Optional[HpLike] = None) -> Dict[str, Any]:
        """Official ``get_cost_info``: params (MB), FLOPs (M), latency (s) and mean epoch times."""
        i, dataset = self.index_of(arch), self.check_dataset(dataset)
        hp = self.check_hp(self.full_hp if hp is None else hp)
        return dict(self._dataset_results(i, dataset, hp).get_compute_costs(dataset))

    def params(self, arch: Any, dataset: str = "cifar10") -> Optional[float]:
        return _f(self.compute_costs(arch, dataset)["params"])

    def flops(self, arch: Any, dataset: str = "cifar10") -> Optional[float]:
        return _f(self.compute_costs(arch, dataset)["flops"])

    def to_frame(self, indices: Optional[Sequence[int]] = None, *, progress: bool = False):
        """Seed means of the final epoch of every hp, in the table schema (:mod:`nwot.adapters.tables`).

        ``indices`` defaults to :meth:`available_indices`; ``progress`` shows a tqdm bar.
        """
        import pandas as pd
        from tqdm import tqdm

        idx = list(self.available_indices() if indices is None else [self.check_index(i) for i in indices])
        if not idx:
            raise NwotError(f"{self.name}: no records to read")
        rows: List[Dict[str, Any]] = []
        for i in tqdm(idx, desc=f"reading {self.name} records", unit="arch", disable=not progress):
            row: Dict[str, Any] = {"arch": self.arch(i)}
            for ds in self.datasets:
                c = self._dataset_results(i, ds, self.full_hp).get_compute_costs(ds)
                row[f"{ds}/params"], row[f"{ds}/flops"] = _f(c["params"]), _f(c["flops"])
            row["params"], row["flops"] = row["cifar10/params"], row["cifar10/flops"]
            for hp in self.hps:
                for ds in self.datasets:
                    r = self.query(i, ds, hp)
                    for split, v in r.splits.items():
                        row[f"{ds}/{split}@{hp}"] = v.accuracy
                    row[f"{ds}/cost@{hp}"] = r.cost
            rows.append(row)
        df = pd.DataFrame(rows, index=pd.Index(idx, name="index"))
        head = ["arch", "params", "flops"]
        return df[head + [c for c in df.columns if c not in head]].astype({c: float for c in df.columns if c != "arch"})
