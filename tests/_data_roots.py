"""Data roots for tests: the committed cut (``tests/data/shared``) or the full staged ``shared/data``.

Both have the same layout and file formats (``scripts/cut_test_fixtures.py``): the cut keeps a subset of
rows (tables), of records (JSON) or of images (CIFAR batches), and copies the NATS-Bench records whole.
Tests read NB201 tables through :meth:`DataRoot.nb201_rows` / :meth:`DataRoot.nb201_frame`, which key
rows by NB201 index either way (the full files by row number or their own index column, the cut by its
``index`` column).
"""
from __future__ import annotations

import csv
import importlib.util
import lzma
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Tuple

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
CUT_ROOT = Path(__file__).resolve().parent / "data" / "shared"


@lru_cache(maxsize=1)
def cut_script():
    """``scripts/cut_test_fixtures.py`` as a module (it defines the tables and their index columns)."""
    path = REPO / "scripts" / "cut_test_fixtures.py"
    spec = importlib.util.spec_from_file_location("cut_test_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class DataRoot:
    """A folder with the ``shared/data`` layout; ``full`` says whether it is the whole staged data."""

    path: Path  # the folder
    full: bool  # True: the full staged data (all 15,625 NB201 rows, ...); False: the committed cut

    def __truediv__(self, rel) -> Path:
        return self.path / rel

    def __str__(self) -> str:
        return str(self.path)

    def nb201_rows(self, rel: str) -> Dict[int, Dict[str, str]]:
        """Rows of an NB201 per-cell CSV by NB201 index (ascending), values as the source's text."""
        return _nb201_rows(self.path, self.full, rel)

    def nb201_frame(self, rel: str) -> pd.DataFrame:
        """The same table as a DataFrame indexed by NB201 index (named ``index``), parsed by pandas; the
        columns are the source's (a native index column is kept as a column too)."""
        column, added = _layout(rel, self.full)
        with lzma.open(self.path / rel, "rt", encoding="utf-8", newline="") as f:
            df = pd.read_csv(f)
        if column is None:
            df.index = pd.RangeIndex(len(df))
        else:
            df = df.set_index(column, drop=added)
        df.index.name = "index"
        return df


def _layout(rel: str, full: bool) -> Tuple[Optional[str], bool]:
    """(column holding the NB201 index, None for the row number; whether the cut added that column)."""
    script = cut_script()
    tables = {t.path: t for t in script.NB201_TABLES}
    if rel not in tables:
        raise KeyError(f"{rel} is not an NB201 table of scripts/cut_test_fixtures.py; known: {sorted(tables)}")
    native = tables[rel].index_column
    if native is not None:
        return native, False
    return (None, False) if full else (script.CUT_INDEX_COLUMN, True)


@lru_cache(maxsize=32)
def _nb201_rows(path: Path, full: bool, rel: str) -> Dict[int, Dict[str, str]]:
    column, added = _layout(rel, full)
    with lzma.open(path / rel, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if column is None:
        return dict(enumerate(rows))
    out = {int(r[column]): {k: v for k, v in r.items() if not (added and k == column)} for r in rows}
    return dict(sorted(out.items()))
