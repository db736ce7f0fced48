"""Table backend: seed-mean results in one pandas table (embedded NB201 table, or a local import).

Schema (the embedded table's, :mod:`nwot.adapters.embedded`), one row per arch, ``index`` = benchmark index:

* ``arch`` -- the benchmark's arch string (NB201 ``|op~0|+...`` or SSS ``c0:c1:c2:c3:c4``);
* ``params`` -- MB (1e6 parameters) of the 10-class CIFAR-10 network; optional ``flops`` (MFLOPs, same
  network) and per-dataset ``{dataset}/params``, ``{dataset}/flops``;
* ``{dataset}/{split}@{hp}`` -- final-epoch top-1 accuracy (%), seed mean, official dataset / split names;
* ``{dataset}/cost@{hp}`` -- simulated seconds of that run, ``train-all-time + valid-per-time``
  (``simulate_train_eval``'s charge);
* ``{dataset}/{metric}`` -- optional HW-NAS-Bench hardware cost of that dataset's network (``metric`` in
  :data:`nwot.adapters.hardware.HW_METRICS`, units in :data:`~nwot.adapters.hardware.UNITS`; NaN = not measured),
  returned by :meth:`TableBenchmark.query` as ``QueryResult.hardware`` and by :meth:`TableBenchmark.metric_values`.

The embedded table has the NB201/NATS-TSS columns listed in :data:`nwot.adapters.embedded.COLUMNS`; its only cost
column is ``cifar10-valid/cost@12`` (what a 12-epoch CIFAR-10 search is charged). Caveat, measured on the
three real NATS records (``tests/adapters/test_adapters.py``): that column (RoBoT's hp-12 cost) equals the 12-epoch
*train-all-time* alone; the official ``simulate_train_eval`` charges ``valid-per-time`` on top (2.4-4.2 s
for indices 0 / 11 / 284, i.e. 3-4 %). :attr:`TableBenchmark.cost_definition` says which one a table holds.

``nwot bench import`` writes the same schema, with every column an official archive has, to ``.csv.xz`` or ``.sqlite``
(:func:`write_table`), and ``get_benchmark("table", path=...)`` reads it back (:func:`read_table`).
A partial archive gives rows of NaN for the archs it lacks; querying them raises.
"""
from __future__ import annotations

import lzma
import re
import sqlite3
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from nwot.adapters.base import (
    DATASET_SPLITS,
    NB201_DATASETS,
    NUM_CLASSES,
    Benchmark,
    HpLike,
    QueryResult,
    SeedLike,
    SplitResult,
    register_benchmark,
    remap_metric,
)
from nwot.adapters.hardware import COST_METRICS, HW_METRICS, hardware_costs, hw_dataset
from nwot.adapters.index import ArchIndex, detect_space
from nwot.errors import BenchmarkFileError, NwotError, check_choice

#: Name of the SQL table in an imported ``.sqlite`` file.
SQL_TABLE = "nwot_table"
INDEX_COLUMN = "index"
_METRIC_RE = re.compile(r"^(?P<dataset>[^/@]+)/(?P<what>[^/@]+)@(?P<hp>[0-9]+)$")
#: Per-space: the backend that has per-seed / per-epoch results, for messages.
_SEED_BACKEND = {
    "nb201": "'nats-tss' (NATS-Bench archive, https://github.com/D-X-Y/NATS-Bench) or 'nb201-api' "
             "(NAS-Bench-201 .pth, https://github.com/D-X-Y/NAS-Bench-201)",
    "nats_sss": "'nats-sss' (NATS-Bench archive, https://github.com/D-X-Y/NATS-Bench)",
}
#: Width of the layer before the classifier, needed to derive other datasets' params (NB201: 4C = 64).
_NB201_HEAD_IN = 64


def _hp_key(hp: str) -> Tuple[int, str]:
    return int(hp), hp


class TableBenchmark(Benchmark):
    """Seed means of one table (module docstring). ``seed`` must be None and ``epoch`` None (final)."""

    has_seeds = False

    def __init__(self, frame: pd.DataFrame, *, name: str = "table", origin: str = "") -> None:
        if "arch" not in frame.columns or len(frame) == 0:
            raise BenchmarkFileError(f"{name}: a benchmark table needs an 'arch' column and rows{origin}")
        if not (np.asarray(frame.index) == np.arange(len(frame))).all():
            raise BenchmarkFileError(f"{name}: table index must be 0..{len(frame) - 1} (benchmark order){origin}")
        self.name, self.origin = name, origin
        #: What the ``cost`` columns hold (imported tables: the official simulate_train_eval charge).
        self.cost_definition = "train-all-time + valid-per-time (official simulate_train_eval)"
        self.space = detect_space(frame["arch"].iloc[0])
        self.source = "https://github.com/D-X-Y/NATS-Bench"
        self.frame = frame
        self.index = ArchIndex(frame["arch"], self.space, name)
        self._cols: Dict[str, np.ndarray] = {}
        metric_cols: List[str] = []
        hps, datasets = set(), set()
        for c in frame.columns:
            if c == "arch":
                continue
            try:
                self._cols[c] = frame[c].to_numpy(dtype=float)
            except (TypeError, ValueError) as e:
                raise BenchmarkFileError(f"{name}: column {c!r} is not numeric{origin}") from e
            m = _METRIC_RE.match(c)
            if m:
                check_choice(f"dataset in table column {c!r}", m["dataset"], NB201_DATASETS)
                check_choice(f"split in table column {c!r}", m["what"],
                             DATASET_SPLITS[m["dataset"]] + ("cost",))
                hps.add(m["hp"])
                datasets.add(m["dataset"])
                metric_cols.append(c)
        if not metric_cols:
            raise BenchmarkFileError(f"{name}: no '{{dataset}}/{{split}}@{{hp}}' columns{origin}")
        self.datasets = tuple(d for d in NB201_DATASETS if d in datasets)
        self.hps = tuple(sorted(hps, key=_hp_key))
        self._evaluated = ~np.isnan(np.stack([self._cols[c] for c in metric_cols])).all(axis=0)

    # --- construction -----------------------------------------------------------------
    @classmethod
    def embedded(cls) -> TableBenchmark:
        """The NB201 table shipped with nwot (:func:`nwot.adapters.embedded.load_nb201_table`)."""
        from nwot.adapters.embedded import load_nb201_table

        table = cls(load_nb201_table(), name="table", origin=" (embedded NB201 table)")
        table.cost_definition = ("train-all-time only (RoBoT's hp-12 cost; the official simulate_train_eval adds "
                                 "valid-per-time, 2-4 s more)")
        return table

    @classmethod
    def open(cls, path: Optional[Any] = None) -> TableBenchmark:
        """A table written by ``nwot bench import`` (``.csv.xz`` / ``.csv`` / ``.sqlite``), or the embedded one."""
        if path is None:
            return cls.embedded()
        return cls(read_table(path), name="table", origin=f" ({path})")

    # --- identity -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index)

    def arch(self, index: int) -> str:
        return self.index.arch(index)

    def index_of(self, arch: Any, *, resolve_isomorph: bool = False) -> int:
        return self.index.index_of(arch, resolve_isomorph=resolve_isomorph)

    def available_indices(self) -> Sequence[int]:
        return np.flatnonzero(self._evaluated).tolist()

    # --- lookups --------------------------------------------------------------------
    def _value(self, column: str, i: int) -> Optional[float]:
        col = self._cols.get(column)
        if col is None or np.isnan(col[i]):
            return None
        return float(col[i])

    def _row(self, arch: Any) -> int:
        i = self.index_of(arch)
        if not self._evaluated[i]:
            raise NwotError(f"{self.name}: index {i} ({self.arch(i)}) has no results in this table{self.origin}; "
                            f"it was not in the archive it was imported from")
        return i

    def query(self, arch: Any, dataset: str, hp: HpLike, *, seed: SeedLike = None,
              epoch: Optional[int] = None) -> QueryResult:
        i = self._row(arch)
        dataset, hp = self.check_dataset(dataset), self.check_hp(hp)
        if seed is not None:
            raise NwotError(f"{self.name}{self.origin} stores seed means only: use seed=None; per-seed results "
                            f"need the backend {_SEED_BACKEND[self.space]}")
        if epoch is not None:
            raise NwotError(f"{self.name}{self.origin} stores final-epoch results only: use epoch=None; per-epoch "
                            f"results need the backend {_SEED_BACKEND[self.space]}")
        splits = {s: SplitResult(self._value(f"{dataset}/{s}@{hp}", i)) for s in DATASET_SPLITS[dataset]}
        return QueryResult(index=i, arch=self.arch(i), dataset=dataset, hp=hp, seed=None, seeds=(), splits=splits,
                           cost=self._value(f"{dataset}/cost@{hp}", i), params=self.params(i, dataset),
                           flops=self.flops(i, dataset), hardware=self.hardware(i, dataset))

    def hardware(self, arch: Any, dataset: str = "cifar10") -> Dict[str, Any]:
        """``{device: HardwareCost}`` of ``dataset``'s network (``{}`` if the table has no hardware columns;
        ``cifar10-valid`` reads the ``cifar10`` network's)."""
        i, ds = self.index_of(arch), hw_dataset(self.check_dataset(dataset))
        if not any(f"{ds}/{m}" in self._cols for m in HW_METRICS):
            return {}
        return hardware_costs({m: self._value(f"{ds}/{m}", i) for m in HW_METRICS})

    def metric_values(self, metric: str, dataset: str = "cifar10") -> Optional[np.ndarray]:
        """``metric`` (:data:`~nwot.adapters.hardware.COST_METRICS`: params, flops or a hardware metric) of
        ``dataset``'s network for every index, NaN where unknown; None if the table has no such column."""
        check_choice("cost metric", metric, COST_METRICS)
        dataset = self.check_dataset(dataset)
        if metric == "params":
            return self._params_array(dataset)
        if metric == "flops":
            return self._flops_array(dataset)
        return self._cols.get(f"{hw_dataset(dataset)}/{metric}")

    def cost_columns(self) -> List[str]:
        return [c for c in self._cols if _METRIC_RE.match(c) and _METRIC_RE.match(c)["what"] == "cost"]

    def missing_cost_message(self, dataset: str, hp: str) -> str:
        have = ", ".join(c.replace("/cost@", " hp ") for c in self.cost_columns()) or "none"
        return (f"{self.name}{self.origin} stores no simulated training cost for {dataset} hp {hp}; it has costs "
                f"for: {have}. Other datasets / schedules need the backend {_SEED_BACKEND[self.space]}")

    def cost(self, arch: Any, dataset: str, hp: HpLike, *, seed: SeedLike = None) -> float:
        dataset, hp = self.check_dataset(dataset), self.check_hp(hp)
        if f"{dataset}/cost@{hp}" not in self._cols:
            raise NwotError(self.missing_cost_message(dataset, hp))
        return super().cost(arch, dataset, hp, seed=seed)

    def _params_array(self, dataset: str) -> Optional[np.ndarray]:
        if f"{dataset}/params" in self._cols:
            return self._cols[f"{dataset}/params"]
        if "params" not in self._cols:
            return None
        base = self._cols["params"]
        extra = NUM_CLASSES[dataset] - 10
        if extra == 0:
            return base
        # Only the classifier Linear(c_in -> K) depends on the dataset: (K - 10) * (c_in + 1) more parameters.
        if self.space == "nb201":
            c_in = np.full(len(base), _NB201_HEAD_IN)
        else:
            c_in = np.array([int(a.rsplit(":", 1)[1]) for a in self.index.archs])
        return base + extra * (c_in + 1) / 1e6

    def params(self, arch: Any, dataset: str = "cifar10") -> Optional[float]:
        """Params (MB) of ``dataset``'s network; for cifar100 / ImageNet16-120 without a ``{dataset}/params``
        column, the CIFAR-10 count plus the wider classifier, ``(K - 10) * (c_in + 1)`` (c_in = 64 for NB201)."""
        i, dataset = self.index_of(arch), self.check_dataset(dataset)
        col = self._params_array(dataset)
        return None if col is None or np.isnan(col[i]) else float(col[i])

    def _flops_array(self, dataset: str) -> Optional[np.ndarray]:
        if f"{dataset}/flops" in self._cols:
            return self._cols[f"{dataset}/flops"]
        if dataset in ("cifar10", "cifar10-valid"):
            return self._cols.get("flops")
        return None

    def flops(self, arch: Any, dataset: str = "cifar10") -> Optional[float]:
        i, dataset = self.index_of(arch), self.check_dataset(dataset)
        col = self._flops_array(dataset)
        return None if col is None or np.isnan(col[i]) else float(col[i])

    def best(self, dataset: str, metric: str = "test", hp: Optional[HpLike] = None, *,
             max_params: Optional[float] = None, max_flops: Optional[float] = None,
             indices: Optional[Sequence[int]] = None) -> Tuple[int, float]:
        """Vectorised :meth:`Benchmark.best` (same semantics: NATS ``find_best``, ties -> lowest index)."""
        ds, split = remap_metric(dataset, metric, self.datasets)
        self.check_dataset(ds)
        check_choice(f"split of {ds}", split, DATASET_SPLITS[ds])
        hp = self.check_hp(self.full_hp if hp is None else hp)
        column = f"{ds}/{split}@{hp}"
        if column not in self._cols:
            have = ", ".join(c for c in self._cols if c.endswith(f"@{hp}") and "/cost@" not in c)
            raise NwotError(f"{self.name}{self.origin} does not store {column}; it has: {have}")
        vals = self._cols[column].copy()
        keep = np.ones(len(vals), dtype=bool)
        if indices is not None:
            keep[:] = False
            keep[[self.check_index(i) for i in indices]] = True
        for limit, arr, what in ((max_params, self._params_array(ds), "params"),
                                 (max_flops, self._flops_array(ds), "flops")):
            if limit is None:
                continue
            if arr is None:
                raise NwotError(f"{self.name}{self.origin} does not know the {what} of its {ds} networks; "
                                f"drop the max_{what} limit")
            keep &= arr <= limit
        vals[~keep] = np.nan
        if np.isnan(vals).all():
            raise NwotError(f"{self.name}: no architecture with a {column} value satisfies "
                            f"max_params={max_params}, max_flops={max_flops}")
        i = int(np.nanargmax(vals))
        return i, float(vals[i])

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()


@register_benchmark("table")
def open_table(path: Optional[Any] = None) -> TableBenchmark:
    """Embedded NB201 table (``path=None``, offline default) or a table written by ``nwot bench import``."""
    return TableBenchmark.open(path)


@register_benchmark("nb201")
def open_embedded_nb201() -> TableBenchmark:
    """Alias of the embedded NB201 table (``get_benchmark("nb201")``)."""
    return TableBenchmark.embedded()


# --- files ---------------------------------------------------------------------------
#: pandas < 3 needs ``float_precision="round_trip"`` to read back ``repr``-written floats exactly (pandas 3:
#: the default, and the argument is deprecated).
_EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
_SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
_CSV_SUFFIXES = (".csv", ".xz")


def _kind(path: Path) -> str:
    if path.suffix in _SQLITE_SUFFIXES:
        return "sqlite"
    if path.suffix in _CSV_SUFFIXES:
        return "csv"
    raise NwotError(f"unknown table file type {path.name!r}; allowed suffixes: "
                    f"{', '.join(('.csv.xz',) + _CSV_SUFFIXES + _SQLITE_SUFFIXES)}")


def write_table(frame: pd.DataFrame, path: Any) -> Path:
    """Write a benchmark table (index = benchmark index) as ``.csv.xz`` / ``.csv`` or ``.sqlite``.

    CSV values are written with ``repr`` precision (``float_format`` unset), so they read back exactly.
    """
    path = Path(path).expanduser()
    kind = _kind(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    out.index.name = INDEX_COLUMN
    if kind == "csv":
        if path.suffix == ".xz":
            with lzma.open(path, "wt", encoding="utf-8", newline="") as f:
                out.to_csv(f)
        else:
            out.to_csv(path)
    else:
        if path.exists():
            path.unlink()
        with sqlite3.connect(path) as con:
            out.to_sql(SQL_TABLE, con, index=True)
        con.close()
    return path


def read_table(path: Any) -> pd.DataFrame:
    """Read a table written by :func:`write_table`; missing / corrupt files raise ``BenchmarkFileError``."""
    path = Path(path).expanduser()
    kind = _kind(path)
    hint = "; build it with `nwot bench import` from an official archive (https://github.com/D-X-Y/NATS-Bench)"
    if not path.is_file():
        raise BenchmarkFileError(f"benchmark table not found: {path}{hint}")
    try:
        if kind == "csv":
            opener = lzma.open if path.suffix == ".xz" else open
            with opener(path, "rt", encoding="utf-8", newline="") as f:
                df = pd.read_csv(f, index_col=INDEX_COLUMN, dtype={"arch": str}, **_EXACT_FLOATS)
        else:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                df = pd.read_sql_query(f'SELECT * FROM "{SQL_TABLE}" ORDER BY "{INDEX_COLUMN}"', con,
                                       index_col=INDEX_COLUMN)
            finally:
                con.close()
    except (OSError, EOFError, lzma.LZMAError, ValueError, UnicodeDecodeError, pd.errors.ParserError,
            sqlite3.DatabaseError, pd.errors.DatabaseError) as e:
        raise BenchmarkFileError(f"corrupt benchmark table {path}: {type(e).__name__}: {e}{hint}") from e
    df.index = df.index.astype(int)
    return df


def import_benchmark(benchmark: Benchmark, out: Any, *, progress: bool = True) -> Tuple[Path, int]:
    """Write ``benchmark``'s seed means (every hp, dataset, split, cost, params, FLOPs) as a local table.

    Rows cover every index of the benchmark (archs without a record get NaN), so the table has the same
    ``len`` / ``arch`` / ``index_of`` as the archive. Returns ``(path, number of archs with results)``.
    """
    from nwot.adapters.autodl import RecordBenchmark

    frame = benchmark.to_frame(progress=progress) if isinstance(benchmark, RecordBenchmark) else benchmark.to_frame()
    full = frame.reindex(range(len(benchmark)))
    full["arch"] = [benchmark.arch(i) for i in range(len(benchmark))]
    full.index.name = INDEX_COLUMN
    return write_table(full, out), len(frame)
