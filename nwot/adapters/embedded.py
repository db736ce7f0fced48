"""The NAS-Bench-201 table embedded in nwot: one row per cell, seed-mean accuracies and costs.

Row ``i`` is NB201 index ``i`` (0..15624), the position in the benchmark's own ``meta_archs`` list
(Dong & Yang, NAS-Bench-201, ICLR 2020; Dong et al., NATS-Bench, TPAMI 2021). Columns are
``arch`` (arch string), ``params`` (MB = 10^6 parameters of the 10-class CIFAR-10 network) and
``"{dataset}/{split}@{hp}"`` with the benchmark's own names: ``dataset`` in cifar10 (trained on
50k), cifar10-valid (trained on 25k), cifar100, ImageNet16-120; ``split`` in train, x-valid, x-test,
ori-test; ``hp`` = training epochs of the schedule, 200 (final) or 12 (the cheap proxy run, a separate
training with its own schedule). ``cifar10-valid/cost@12`` is the 12-epoch *train-all-time* in
seconds; the official ``simulate_train_eval`` charges ``valid-per-time`` on top (2.4-4.2 s, 3-4 %, on the
three real NATS records), which this source does not store. Every value is a mean over the benchmark's seeds; the
sources of each column are listed in ``nwot/_data/README.md`` (built by
``scripts/build_package_data.py``).

Cost columns, each of one dataset's network (``cifar10-valid`` trains the ``cifar10`` network):

* :data:`SIZE_COLUMNS`: ``flops`` (MFLOPs of the CIFAR-10 network; ``params`` above is its MB) and
  ``{dataset}/params``, ``{dataset}/flops`` for ``cifar100`` and ``ImageNet16-120``; computed with nwot's
  builder (:mod:`nwot.spaces.nb201.size`, the NATS-Bench counting convention), checked against the NATS
  records where they exist;
* :data:`HW_COLUMNS`: ``{dataset}/{metric}`` for ``dataset`` in ``cifar10``, ``cifar100``,
  ``ImageNet16-120`` and the ten HW-NAS-Bench metrics of :data:`nwot.adapters.hardware.HW_METRICS`
  (latency ms, energy mJ, Eyeriss arithmetic intensity op/byte; batch 1). ``{dataset}/edgetpu_latency``
  is empty (NaN) for the 4,699 cells HW-NAS-Bench did not measure (its -1.0): :data:`NULLABLE_COLUMNS`
  are the only columns that may be empty.
"""
from __future__ import annotations

import csv
import functools
import lzma
from typing import Dict, List, Tuple

import numpy as np
import pandas as pd

from nwot.adapters.hardware import HW_DATASETS, HW_METRICS, MAY_BE_MISSING
from nwot.errors import BenchmarkFileError, OutOfSpaceError
from nwot.paths import package_data

TABLE_FILE = "nb201_table.csv.xz"
REBUILD_COMMAND = "python scripts/build_package_data.py"
NUM_ROWS = 15_625

#: Accuracy (%) / cost (s) columns of the embedded table, in file order.
METRIC_COLUMNS: Tuple[str, ...] = (
    "cifar10/ori-test@200",
    "cifar10-valid/train@200",
    "cifar10-valid/x-valid@200",
    "cifar10-valid/ori-test@200",
    "cifar100/train@200",
    "cifar100/x-valid@200",
    "cifar100/x-test@200",
    "ImageNet16-120/train@200",
    "ImageNet16-120/x-valid@200",
    "ImageNet16-120/x-test@200",
    "cifar10/ori-test@12",
    "cifar10-valid/x-valid@12",
    "cifar10-valid/cost@12",
    "cifar100/x-valid@12",
    "cifar100/x-test@12",
    "ImageNet16-120/x-valid@12",
    "ImageNet16-120/x-test@12",
)
#: Model size of each dataset's network, computed by nwot's builder (``params`` of CIFAR-10 is the benchmark's).
SIZE_COLUMNS: Tuple[str, ...] = ("flops", "cifar100/params", "cifar100/flops", "ImageNet16-120/params",
                                 "ImageNet16-120/flops")
#: HW-NAS-Bench metrics of each dataset's network: ``{dataset}/{metric}``.
HW_COLUMNS: Tuple[str, ...] = tuple(f"{d}/{m}" for d in HW_DATASETS for m in HW_METRICS)
#: The only columns with empty (not measured) values.
NULLABLE_COLUMNS: Tuple[str, ...] = tuple(f"{d}/{m}" for d in HW_DATASETS for m in MAY_BE_MISSING)
#: Index column, then the data columns, as written in the CSV.
INDEX_COLUMN = "index"
COLUMNS: Tuple[str, ...] = ("arch", "params") + METRIC_COLUMNS + SIZE_COLUMNS + HW_COLUMNS


def _bad_table(msg: str) -> BenchmarkFileError:
    return BenchmarkFileError(f"{msg}; rebuild it with `{REBUILD_COMMAND}` (needs the staged shared data)")


@functools.lru_cache(maxsize=1)
def load_nb201_table() -> pd.DataFrame:
    """The embedded table (15,625 rows, index = NB201 index). Cached: treat it as read-only (``.copy()`` first)."""
    path = package_data(TABLE_FILE)
    if not path.is_file():
        raise _bad_table(f"embedded NB201 table {path} is missing")
    where = f"embedded NB201 table {path}"
    try:
        with lzma.open(path, "rb") as f:
            header = next(csv.reader([f.readline().decode("utf-8")]), [])
            if tuple(header) != (INDEX_COLUMN,) + COLUMNS:
                raise _bad_table(f"{where} has columns {header}, expected {[INDEX_COLUMN, *COLUMNS]}")
            f.seek(0)
            # pandas' C reader (0.2 s against 0.6 s for csv + float()); only an empty field of a nullable
            # column is NaN. tests/adapters/test_table.py checks every value against Python's correctly
            # rounded float() of its text, so the repr-written values come back exactly.
            df = pd.read_csv(f, dtype={INDEX_COLUMN: np.int64, "arch": object, **{c: np.float64 for c in COLUMNS[1:]}},
                             keep_default_na=False, na_values={c: [""] for c in NULLABLE_COLUMNS}, engine="c")
    except (OSError, EOFError, lzma.LZMAError, UnicodeDecodeError, csv.Error, pd.errors.ParserError) as e:
        raise _bad_table(f"{where} is corrupt ({type(e).__name__}: {e})") from e
    except ValueError as e:  # a field that is not a number (an empty one outside the nullable columns too)
        raise _bad_table(f"{where} has a non-numeric value ({e})") from e
    if len(df) != NUM_ROWS or not np.array_equal(df[INDEX_COLUMN].to_numpy(), np.arange(NUM_ROWS)):
        raise _bad_table(f"{where} must have index 0..{NUM_ROWS - 1} and {len(header)} fields per row, "
                         f"got {len(df)} rows")
    df = df.set_index(pd.RangeIndex(NUM_ROWS, name=INDEX_COLUMN)).drop(columns=[INDEX_COLUMN])
    strict = [c for c in COLUMNS[1:] if c not in NULLABLE_COLUMNS]
    if df[strict].isna().any().any():
        bad = [c for c in strict if df[c].isna().any()]
        raise _bad_table(f"{where} has missing (NaN) values in {bad}; only "
                         f"{list(NULLABLE_COLUMNS)} may be empty")
    return df


@functools.lru_cache(maxsize=1)
def _arch_strings() -> Tuple[str, ...]:
    return tuple(load_nb201_table()["arch"])


@functools.lru_cache(maxsize=1)
def _index_of() -> Dict[str, int]:
    return {arch: i for i, arch in enumerate(_arch_strings())}


def nb201_arch_strings() -> List[str]:
    """Arch string of every NB201 index, in index order (= NATS-Bench ``meta_archs``)."""
    return list(_arch_strings())


def nb201_index_of(arch_str: str) -> int:
    """NB201 index of an arch string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
    try:
        return _index_of()[arch_str]
    except (KeyError, TypeError):
        pass
    from nwot.spaces.nb201.codec import parse_arch  # raises a precise error for a malformed string

    parse_arch(arch_str)
    raise OutOfSpaceError(f"{arch_str!r} is not one of the {NUM_ROWS} NB201 arch strings")
