"""NAS-Bench-101 (Ying et al., ICML 2019) from the official ``.tfrecord`` files, without TensorFlow.

Two official files (https://github.com/google-research/nasbench, README "Download the dataset"):
``nasbench_only108.tfrecord`` (499 MB, 108-epoch runs) and ``nasbench_full.tfrecord`` (1.95 GB,
4/12/36/108 epochs). Each holds 3 training runs ("repeats") per cell and epoch budget. The first
open parses the file once (:mod:`nwot.adapters.nb101.cache`) into a SQLite table beside it.

:class:`NB101Benchmark` is the shared :class:`~nwot.adapters.base.Benchmark` view: ``index`` = table
row = order of first appearance of the hash in the file; ``arch(i)`` = the graph hash; ``hp`` = epochs;
``seed`` = repeat (``None`` = mean of the 3); splits ``train`` (10k fixed training images),
``x-valid`` (the held-out 10k validation images) and ``ori-test`` (CIFAR-10 test set), in %;
``cost`` = the run's training seconds; ``epoch=hp//2`` gives the halfway evaluation.
:class:`NASBench101API` mirrors the official ``nasbench.api.NASBench`` methods (``query``,
``get_metrics_from_spec``, ``hash_iterator``, budget counters) with an explicit ``random.Random``.
:class:`NASLib500` reads the 500-cell NASLib zero-cost file (shared data MANIFEST §3).
"""
from __future__ import annotations

import json
import lzma
import random
import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from nwot.adapters.base import Benchmark, QueryResult, SeedLike, SplitResult, register_benchmark, resolve_seed
from nwot.adapters.nb101.cache import RUN_FIELDS, build_table, default_table_path, read_meta, table_is_current
from nwot.errors import BenchmarkFileError, NwotError, OutOfSpaceError
from nwot.paths import shared_data_dir, user_data_dir
from nwot.spaces.nb101.codec import Spec, SpecLike, check_spec, encode_spec, from_raw, spec_hash, to_spec

OFFICIAL_FILES = {"nasbench_only108.tfrecord": "499 MB", "nasbench_full.tfrecord": "1.95 GB"}
OFFICIAL_URL = "https://github.com/google-research/nasbench"
DATASETS = ("cifar10", "cifar10-valid")  # one training run; "cifar10-valid" is the search-signal alias


def _missing(where: str) -> BenchmarkFileError:
    files = ", ".join(f"{k} ({v})" for k, v in OFFICIAL_FILES.items())
    return BenchmarkFileError(f"NAS-Bench-101 data not found ({where}); download one of the official files "
                              f"{files} from {OFFICIAL_URL} (storage.googleapis.com/nasbench/) and pass its path "
                              f"or put it in $NWOT_DATA_DIR")


def _find_file(path: Optional[Union[str, Path]]) -> Path:
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise _missing(f"no file {p}")
        return p
    root = user_data_dir()
    if root is None:
        raise _missing("no path given and $NWOT_DATA_DIR is not set")
    for name in OFFICIAL_FILES:
        for cand in (root / name, root / "nasbench" / name):
            if cand.is_file():
                return cand
    raise _missing(f"none of {', '.join(OFFICIAL_FILES)} in {root}")


@register_benchmark("nb101")
class NB101Benchmark(Benchmark):
    """NAS-Bench-101 table (module docstring). ``path``: an official ``.tfrecord`` or a built table."""

    name = "nb101"
    datasets = DATASETS

    def __init__(self, path: Optional[Union[str, Path]] = None, *, table: Optional[Union[str, Path]] = None,
                 verify_crc: bool = True, verify_hashes: bool = False, progress: bool = True) -> None:
        source = _find_file(path)
        if source.suffix == ".sqlite":
            table_path, tfrecord = source, None
        else:
            tfrecord = source
            table_path = Path(table) if table is not None else default_table_path(source)
        if not table_is_current(table_path, tfrecord):
            if tfrecord is None:
                raise BenchmarkFileError(f"{table_path} is not a current nwot NB101 table; rebuild it from an "
                                         f"official tfrecord ({', '.join(OFFICIAL_FILES)})")
            build_table(tfrecord, table_path, verify_crc=verify_crc, verify_hashes=verify_hashes, progress=progress)
        self.table_path = table_path
        self.meta = read_meta(table_path)
        self._con = sqlite3.connect(f"file:{table_path}?mode=ro", uri=True, check_same_thread=False)
        self._len = int(self.meta["num_cells"])
        self.hps = tuple(self.meta["epochs"].split(","))

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> NB101Benchmark:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- identity -----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._len

    def arch(self, index: int) -> str:
        return self._cell(self.check_index(index))[0]

    def spec(self, arch: Any) -> Spec:
        """The stored (pruned) spec of a cell."""
        _, adjacency, operations, _ = self._cell(self.index_of(arch))
        return from_raw(adjacency, operations)

    def index_of(self, arch: Any, *, resolve_isomorph: bool = True) -> int:
        """Index of an index, a graph hash, or anything :func:`nwot.spaces.nb101.codec.to_spec` reads.
        Specs are pruned and hashed, so isomorphic specs always resolve to the same cell."""
        if isinstance(arch, int) or (hasattr(arch, "__index__") and not isinstance(arch, (str, bytes))):
            return self.check_index(arch)
        if isinstance(arch, str) and len(arch) == 32 and all(c in "0123456789abcdef" for c in arch):
            key = arch
        else:
            key = spec_hash(to_spec(arch))
        row = self._con.execute("SELECT idx FROM cells WHERE hash = ?", (key,)).fetchone()
        if row is None:
            raise OutOfSpaceError(f"NB101 cell {key} is not in {self.meta['source_name']}")
        return int(row[0])

    def hash_iterator(self) -> Iterator[str]:
        """All graph hashes in table (= file) order."""
        return (h for (h,) in self._con.execute("SELECT hash FROM cells ORDER BY idx"))

    def _cell(self, index: int) -> Tuple[str, str, str, int]:
        return self._con.execute("SELECT hash, adjacency, operations, params FROM cells WHERE idx = ?",
                                 (index,)).fetchone()

    # --- lookups ------------------------------------------------------------------------------------
    def runs(self, arch: Any, hp: Union[str, int] = 108) -> List[Dict[str, float]]:
        """All repeats of one cell at ``hp`` epochs: dicts of :data:`RUN_FIELDS` (fractions, seconds)."""
        idx, epochs = self.index_of(arch), int(self.check_hp(hp))
        rows = self._con.execute(f"SELECT {', '.join(RUN_FIELDS)} FROM runs WHERE idx = ? AND epochs = ? "
                                 f"ORDER BY repeat", (idx, epochs)).fetchall()
        return [dict(zip(RUN_FIELDS, r)) for r in rows]

    def query(self, arch: Any, dataset: str = "cifar10", hp: Union[str, int] = 108, *, seed: SeedLike = None,
              epoch: Optional[int] = None) -> QueryResult:
        self.check_dataset(dataset)
        index = self.index_of(arch)
        hp = self.check_hp(hp)
        runs = self.runs(index, hp)
        seeds = tuple(range(len(runs)))
        chosen = resolve_seed(seed, seeds)
        if epoch is None or epoch == int(hp):
            stage, epoch = "final", None
        elif epoch == int(hp) // 2:
            stage = "halfway"
        else:
            raise NwotError(f"NB101 stores epochs {int(hp) // 2} (halfway) and {hp} (final) of a {hp}-epoch run; "
                            f"got epoch={epoch!r}")
        picked = runs if chosen is None else [runs[chosen]]

        def mean(key: str) -> float:
            return sum(r[f"{stage}_{key}"] for r in picked) / len(picked)

        splits = {"train": SplitResult(100 * mean("train")), "x-valid": SplitResult(100 * mean("valid")),
                  "ori-test": SplitResult(100 * mean("test"))}
        h, _, _, params = self._cell(index)
        return QueryResult(index=index, arch=h, dataset=dataset, hp=hp, seed=chosen, seeds=seeds, splits=splits,
                           cost=mean("time"), params=params / 1e6, epoch=epoch)

    def params(self, arch: Any, dataset: str = "cifar10") -> float:
        return self._cell(self.index_of(arch))[3] / 1e6

    def to_frame(self, hp: Union[str, int] = 108):
        """One row per cell: hash, spec string, params and the repeat-mean final metrics at ``hp`` epochs."""
        import pandas as pd

        hp = int(self.check_hp(hp))
        q = ("SELECT c.idx, c.hash, c.adjacency, c.operations, c.params, AVG(r.final_train), AVG(r.final_valid), "
             "AVG(r.final_test), AVG(r.final_time), COUNT(*) FROM cells c JOIN runs r ON r.idx = c.idx "
             "WHERE r.epochs = ? GROUP BY c.idx ORDER BY c.idx")
        df = pd.DataFrame(self._con.execute(q, (hp,)).fetchall(),
                          columns=["index", "hash", "adjacency", "operations", "params", "train", "valid", "test",
                                   "time", "repeats"]).set_index("index")
        df["params"] = df["params"] / 1e6
        for col in ("train", "valid", "test"):
            df[col] = 100 * df[col]
        return df


class NASBench101API:
    """The official ``nasbench.api.NASBench`` interface over :class:`NB101Benchmark`.

    ``query`` samples one of the repeats with ``rng`` (the official API uses the global ``random``) and
    adds to the budget counters; ``get_metrics_*`` do not. Accuracies are fractions, as officially.
    """

    def __init__(self, benchmark: NB101Benchmark, rng: Optional[random.Random] = None) -> None:
        self.benchmark = benchmark
        self.rng = rng if rng is not None else random.Random(0)
        self.valid_epochs = {int(e) for e in benchmark.hps}
        self.reset_budget_counters()

    def is_valid(self, spec: SpecLike) -> bool:
        try:
            check_spec(to_spec(spec))
        except OutOfSpaceError:
            return False
        return True

    def hash_iterator(self) -> Iterator[str]:
        return self.benchmark.hash_iterator()

    def get_metrics_from_hash(self, module_hash: str) -> Tuple[Dict[str, Any], Dict[int, List[Dict[str, float]]]]:
        import numpy as np

        b = self.benchmark
        idx = b.index_of(module_hash)
        h, adjacency, operations, params = b._cell(idx)
        spec = from_raw(adjacency, operations)
        fixed = {"module_adjacency": np.array(spec.matrix, dtype=np.int8), "module_operations": list(spec.ops),
                 "trainable_parameters": params}
        computed = {}
        for e in sorted(self.valid_epochs):
            computed[e] = [{f"{stage}_{official}": r[f"{stage}_{ours}"] for stage in ("halfway", "final")
                            for ours, official in (("time", "training_time"), ("train", "train_accuracy"),
                                                   ("valid", "validation_accuracy"), ("test", "test_accuracy"))}
                           for r in b.runs(idx, e)]
        return fixed, computed

    def get_metrics_from_spec(self, spec: SpecLike):
        return self.get_metrics_from_hash(spec_hash(spec))

    def query(self, spec: SpecLike, epochs: int = 108, stop_halfway: bool = False) -> Dict[str, Any]:
        if epochs not in self.valid_epochs:
            raise OutOfSpaceError(f"invalid number of epochs {epochs!r}; allowed: {sorted(self.valid_epochs)}")
        fixed, computed = self.get_metrics_from_spec(spec)
        run = computed[epochs][self.rng.randrange(len(computed[epochs]))]
        stage = "halfway" if stop_halfway else "final"
        data = dict(fixed)
        for key in ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy"):
            data[key] = run[f"{stage}_{key}"]
        self.training_time_spent += data["training_time"]
        self.total_epochs_spent += epochs // 2 if stop_halfway else epochs
        return data

    def get_budget_counters(self) -> Tuple[float, int]:
        return self.training_time_spent, self.total_epochs_spent

    def reset_budget_counters(self) -> None:
        self.training_time_spent = 0.0
        self.total_epochs_spent = 0


# --- NASLib's 500-cell zero-cost file --------------------------------------------------------------

NASLIB500_FILE = "nb101/naslib/zc_nasbench101_subset500.json.xz"
ZERO_COST_PROXIES = ("synflow", "jacov", "snip", "grad_norm", "fisher", "grasp", "epe_nas", "l2_norm", "plain")


@register_benchmark("nb101_naslib500")
class NASLib500(Benchmark):
    """The 500 CIFAR-10 cells of NASLib's ``zc_nasbench101.json`` (MANIFEST §3), in file order.

    ``arch(i)`` is the row's spec string as NASLib stored it (unpruned; 292 distinct graph hashes among
    the 500). ``val_accuracy`` is one 108-epoch repeat drawn at random by NASLib (which one is not
    recorded), so only ``seed=None`` is accepted and the split is ``x-valid``; no training time is stored.
    """

    name = "nb101_naslib500"
    datasets = ("cifar10",)
    hps = ("108",)

    def __init__(self, path: Optional[Union[str, Path]] = None) -> None:
        p = Path(path) if path is not None else shared_data_dir() / NASLIB500_FILE
        if not p.is_file():
            raise BenchmarkFileError(f"NASLib NB101 zero-cost file not found: {p} (automl/NASLib "
                                     f"naslib/data/zc_nasbench101.json, xz-compressed; see shared data MANIFEST §3)")
        opener = lzma.open if p.suffix == ".xz" else open
        with opener(p, "rt") as f:
            data = json.load(f)["nasbench101"]["cifar10"]
        self.path = p
        self.records: List[Dict[str, float]] = list(data.values())
        self.specs: List[Spec] = [to_spec(k) for k in data]
        self._by_spec = {s: i for i, s in enumerate(self.specs)}
        self.hashes: List[str] = [spec_hash(s) for s in self.specs]
        self._by_hash: Dict[str, int] = {}
        for i, h in enumerate(self.hashes):
            self._by_hash.setdefault(h, i)

    def __len__(self) -> int:
        return len(self.specs)

    def arch(self, index: int) -> str:
        return encode_spec(self.specs[self.check_index(index)])

    def index_of(self, arch: Any, *, resolve_isomorph: bool = False) -> int:
        """Exact spec match; with ``resolve_isomorph`` the first row with the same graph hash."""
        if isinstance(arch, int) or (hasattr(arch, "__index__") and not isinstance(arch, (str, bytes))):
            return self.check_index(arch)
        spec = to_spec(arch)
        if spec in self._by_spec:
            return self._by_spec[spec]
        if resolve_isomorph and spec_hash(spec) in self._by_hash:
            return self._by_hash[spec_hash(spec)]
        raise OutOfSpaceError(f"NB101 spec {encode_spec(spec)} is not one of the {len(self)} NASLib rows"
                              + ("" if resolve_isomorph else " (try resolve_isomorph=True)"))

    def query(self, arch: Any, dataset: str = "cifar10", hp: Union[str, int] = "108", *, seed: SeedLike = None,
              epoch: Optional[int] = None) -> QueryResult:
        self.check_dataset(dataset)
        hp = self.check_hp(hp)
        if seed is not None or epoch is not None:
            raise NwotError("NASLib's NB101 file stores one unidentified repeat at the final epoch; "
                            f"only seed=None, epoch=None are allowed (got seed={seed!r}, epoch={epoch!r})")
        i = self.index_of(arch)
        r = self.records[i]
        return QueryResult(index=i, arch=self.arch(i), dataset=dataset, hp=hp, seed=None, seeds=(),
                           splits={"x-valid": SplitResult(r["val_accuracy"])}, params=r["params"],
                           flops=r["flops"])

    def params(self, arch: Any, dataset: str = "cifar10") -> float:
        return self.records[self.index_of(arch)]["params"]

    def flops(self, arch: Any, dataset: str = "cifar10") -> float:
        return self.records[self.index_of(arch)]["flops"]

    def zero_cost(self, arch: Any) -> Dict[str, float]:
        """NASLib's stored zero-cost proxy values for one row (:data:`ZERO_COST_PROXIES`)."""
        r = self.records[self.index_of(arch)]
        return {k: r[k] for k in ZERO_COST_PROXIES}

    def to_frame(self):
        import pandas as pd

        rows = [{"spec": encode_spec(s), "hash": h, **r} for s, h, r in zip(self.specs, self.hashes, self.records)]
        return pd.DataFrame(rows)
