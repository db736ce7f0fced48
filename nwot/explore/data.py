"""One table per search space for the explorer: numeric columns plus per-cell metadata (pure pandas).

A :class:`SpaceTable` holds one row per benchmark cell (the frame's index is the benchmark index) and
two kinds of columns:

* **numeric columns**, each with a *role* (:data:`ROLES`): ``accuracy`` (``{dataset}/{split}@{epochs}``),
  ``cost`` (params, FLOPs, simulated training seconds, latency, energy, scoring seconds), ``proxy``
  (training-free scores) or ``metric`` (anything else). Every numeric column of every source appears
  by itself: the embedded table's, each score file's, the hardware files'. Roles of columns that no
  loader names come from :func:`guess_role`.
* **metadata** (:data:`META_PREFIX` ``"cell/"``): ``cell/arch`` (the benchmark's arch string),
  ``cell/unique`` (isomorphism class), ``cell/iso_size``, ``cell/has_path``, ``cell/ops/<op>`` (how
  many edges or nodes carry each op) and, for NB201, ``cell/edge/<j>-<i>`` (the op on edge j -> i).

Loaders are registered per space (:data:`TABLES`); :func:`load_spaces` returns, per space, either a
table or an :class:`Unavailable` that says why (a missing file is a value, not a crash). Problems in
optional inputs (a missing or corrupt score file) become the table's ``notices`` and the rest loads.
"""
from __future__ import annotations

import lzma
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from nwot.errors import BenchmarkFileError, NwotError
from nwot.registry import Registry

#: Column roles, in the order the UI lists them.
ROLES = ("accuracy", "proxy", "cost", "metric")
META_PREFIX = "cell/"
ARCH, UNIQUE, ISO_SIZE, HAS_PATH = "cell/arch", "cell/unique", "cell/iso_size", "cell/has_path"
OPS_PREFIX, EDGE_PREFIX = "cell/ops/", "cell/edge/"

#: Repository folder with the stored NASWOT scores (present in a checkout, absent from a wheel).
RESULTS_DIR = Path(__file__).resolve().parent.parent.parent / "benchmarks" / "results"
#: NB201 score files read by default when present (MANIFEST-style ``index,arch,score,seconds``).
NB201_STORED_SCORES = ("nb201_cifar10_naswot_clean_seed0.csv.xz", "nb201_cifar10_naswot_reference_seed0.csv.xz")
#: NB101 NASWOT scores of the NASLib 500 cells (``benchmarks/nb101_correlation.py``).
NB101_STORED_SCORES = ("nb101_correlation.csv",)
#: HW-NAS-Bench files (shared data MANIFEST §9), one per dataset; ``-1`` marks a missing measurement.

_ACCURACY = re.compile(r"^[^/]+/(train|x-valid|x-test|ori-test|valid|test)@[^/]+$|accuracy")
_COST = re.compile(r"(^|[/_ ])(params|flops|cost|seconds|latency|energy)($|[@_ ])|latency|energy")
_METRIC = re.compile(r"intensity|^n_|count")
#: Score-file column names that say nothing about the score: the file's name labels them instead.
GENERIC_SCORE_NAMES = ("score", "value")
INDEX_COLUMNS = ("index", "row", "arch_index")
ARCH_COLUMNS = ("arch", "spec")


class ScoreFileError(BenchmarkFileError):
    """A score file given to the explorer is missing, unreadable or does not match the space."""


def guess_role(name: str) -> str:
    """Role of a numeric column from its name: accuracy / cost / metric, else ``proxy`` (a score)."""
    if _COST.search(name):
        return "cost"
    if _ACCURACY.search(name):
        return "accuracy"
    if _METRIC.search(name):
        return "metric"
    return "proxy"


@dataclass(frozen=True)
class ExploreConfig:
    """What the explorer reads besides the embedded table."""

    scores: Tuple[str, ...] = ()  # extra score files (``--scores``): index, arch, one column per score
    stored_scores: bool = True  # also read the repository's stored NASWOT scores (benchmarks/results)
    nats_dir: Optional[str] = None  # NATS-tss archive folder, for training curves (``--nats-dir``)
    nds: Tuple[str, ...] = ()  # NDS JSON files (``--nds``), one space each
    nb101_file: Optional[str] = None  # NASLib's 500-cell NB101 file (default: shared data, MANIFEST §3)


@dataclass(frozen=True)
class SpaceTable:
    """One row per cell of a space: numeric columns with their roles, metadata columns, notices."""

    name: str  # registry name, e.g. "nb201"
    title: str  # shown in the UI
    frame: pd.DataFrame  # index = benchmark index; numeric columns + META_PREFIX metadata
    roles: Dict[str, str]  # numeric column -> role (ROLES); the order is the UI's order
    defaults: Dict[str, str]  # x, y, color, accuracy, cost, headline: default columns
    cell_kind: str  # how a cell is drawn: "nb201" (ops on edges), "nb101" (ops on nodes), "none"
    ops: Tuple[str, ...] = ()  # op names of the op-count filters
    edges: Tuple[str, ...] = ()  # edge names of the fixed-op filters (NB201: "0-1" ...)
    notices: Tuple[str, ...] = ()  # facts worth knowing about the data (missing values, -inf scores)
    sources: Dict[str, str] = field(default_factory=dict)  # numeric column -> where it came from
    errors: Tuple[str, ...] = ()  # optional inputs that could not be read (bad score file ...)

    @property
    def size(self) -> int:
        return len(self.frame)

    def columns(self, role: Optional[str] = None) -> List[str]:
        """Numeric columns (of one role when given), in UI order."""
        return [c for c, r in self.roles.items() if role is None or r == role]

    def check_column(self, name: str) -> str:
        if name not in self.roles:
            raise NwotError(f"unknown column {name!r} of space {self.name!r}; allowed: {', '.join(self.roles)}")
        return name

    def check_index(self, index) -> int:
        try:
            i = int(index)
        except (TypeError, ValueError):
            raise NwotError(f"cell index must be an integer, got {index!r}") from None
        if i not in self.frame.index:
            raise NwotError(f"index {i} is not a cell of {self.name!r} (indices {self.frame.index.min()}.."
                            f"{self.frame.index.max()}, {self.size:,} cells)")
        return i

    def iso_members(self, index: int) -> List[int]:
        """Indices of the cells isomorphic to ``index`` (itself included), ascending."""
        key = self.frame.at[self.check_index(index), UNIQUE]
        return sorted(int(i) for i in self.frame.index[self.frame[UNIQUE] == key])

    def with_columns(self, extra: pd.DataFrame, roles: Mapping[str, str], source: str,
                     notices: Sequence[str] = ()) -> SpaceTable:
        """A copy with ``extra``'s columns joined on the index (missing cells: NaN)."""
        frame = self.frame.join(extra, how="left")
        new_roles = {**self.roles, **{c: roles[c] for c in extra.columns}}
        return replace(self, frame=frame, roles=new_roles, notices=self.notices + tuple(notices),
                       sources={**self.sources, **{c: source for c in extra.columns}})

    def with_notices(self, notices: Sequence[str] = (), errors: Sequence[str] = ()) -> SpaceTable:
        return replace(self, notices=self.notices + tuple(notices), errors=self.errors + tuple(errors))


@dataclass(frozen=True)
class Unavailable:
    """A space the explorer cannot show, and why (shown in the UI in place of the table)."""

    name: str
    title: str
    reason: str


Loaded = Union[SpaceTable, Unavailable]
#: name -> loader ``(ExploreConfig) -> {space name: SpaceTable | Unavailable}`` (NDS: one per file).
TABLES: Registry[Dict[str, Loaded]] = Registry("explorer space", builtins=("nwot.explore.spaces",))
SPACE_ORDER = ("nb201", "nb101", "nds", "nats-sss")


def load_spaces(cfg: ExploreConfig = ExploreConfig(), names: Optional[Sequence[str]] = None) -> Dict[str, Loaded]:
    """Every space of :data:`SPACE_ORDER` (or ``names``) as a table or an :class:`Unavailable`, in that order."""
    out: Dict[str, Loaded] = {}
    for name in (names or SPACE_ORDER):
        try:
            out.update(TABLES.create(name, cfg))
        except NwotError as e:
            out[name] = Unavailable(name, SPACE_TITLES.get(name, name), str(e))
    return out


SPACE_TITLES = {"nb201": "NAS-Bench-201 (15,625 cells)", "nb101": "NAS-Bench-101 (NASLib's 500 cells)",
                "nds": "NDS", "nats-sss": "NATS-Bench SSS (32,768 size configs)"}


# --------------------------------------------------------------------------------------------------
# Score files.
# --------------------------------------------------------------------------------------------------


def score_label(path: Union[str, Path], space: str) -> str:
    """Column label of a file's generic ``score`` column: the file name less suffixes, space and dataset
    prefixes (``nb201_cifar10_naswot_clean_seed0.csv.xz`` -> ``naswot_clean_seed0``)."""
    name = Path(path).name
    for suffix in (".xz", ".gz", ".bz2", ".csv"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    for prefix in (f"{space}_", "cifar10_", "cifar100_", "ImageNet16-120_"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name or Path(path).name


def read_score_file(path: Union[str, Path], table: SpaceTable,
                    arch_of: Callable[[str], str] = str) -> Tuple[pd.DataFrame, Dict[str, str], List[str]]:
    """New columns from one score file: ``(frame indexed like the table, roles, notices)``.

    Format (tolerant of extra columns): an index column (:data:`INDEX_COLUMNS`), optionally an arch
    column (:data:`ARCH_COLUMNS`, checked against the table after ``arch_of`` normalises it), then any
    numeric columns. A generic ``score`` column is labelled by :func:`score_label`; ``seconds`` becomes
    ``<label> seconds`` (a cost); a column the table already has with the same values is skipped, with
    other values it is added as ``<name> [<label>]``; a column equal to one the table has (any name) is
    skipped. ``-inf`` scores (singular kernels) are kept.
    Raises :class:`ScoreFileError` naming the file and the problem.
    """
    p = Path(path)
    if not p.is_file():
        raise ScoreFileError(f"score file not found: {p}")
    try:
        df = pd.read_csv(p)
    except (OSError, lzma.LZMAError, EOFError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as e:
        raise ScoreFileError(f"score file {p} is not a readable CSV: {type(e).__name__}: {e}") from e
    idx_col = next((c for c in INDEX_COLUMNS if c in df.columns), None)
    if idx_col is None:
        raise ScoreFileError(f"score file {p} has no index column (one of {', '.join(INDEX_COLUMNS)}); "
                             f"its columns: {', '.join(map(str, df.columns))}")
    if df.empty:
        raise ScoreFileError(f"score file {p} has no rows")
    index = pd.to_numeric(df[idx_col], errors="coerce")
    if index.isna().any() or (index != index.round()).any():
        bad = df[idx_col][index.isna() | (index != index.round())].iloc[0]
        raise ScoreFileError(f"score file {p}: index {bad!r} is not an integer")
    index = index.astype(np.int64)
    outside = ~index.isin(table.frame.index)
    if outside.any():
        raise ScoreFileError(f"score file {p}: index {int(index[outside].iloc[0])} is not a cell of {table.name} "
                             f"({table.size:,} cells, {table.frame.index.min()}..{table.frame.index.max()})")
    if index.duplicated().any():
        raise ScoreFileError(f"score file {p}: index {int(index[index.duplicated()].iloc[0])} appears twice")
    arch_col = next((c for c in ARCH_COLUMNS if c in df.columns), None)
    if arch_col is not None:
        want = table.frame.loc[index, ARCH].to_numpy()
        for k, (got, ref) in enumerate(zip(df[arch_col].astype(str), want)):
            try:
                same = arch_of(got) == ref
            except NwotError:
                same = False
            if not same:
                raise ScoreFileError(f"score file {p}: row {k} has index {int(index.iloc[k])} with arch {got!r}, "
                                     f"but that cell of {table.name} is {ref!r}")
    label = score_label(p, table.name)
    out = pd.DataFrame(index=pd.Index(index.to_numpy(), name=table.frame.index.name))
    roles: Dict[str, str] = {}
    notices: List[str] = []
    numeric = [c for c in df.columns if c not in (idx_col, arch_col) and pd.api.types.is_numeric_dtype(df[c])]
    if not numeric:
        raise ScoreFileError(f"score file {p} has no numeric column besides {idx_col!r}")
    for c in numeric:
        values = df[c].to_numpy(dtype=float)
        if c in GENERIC_SCORE_NAMES:
            name, role = label, "proxy"
        elif c == "seconds":
            name, role = f"{label} seconds", "cost"
        else:
            name, role = str(c), guess_role(str(c))
        if _same_as_known(table, index, values):
            continue  # e.g. the benchmark's own accuracy repeated in the score file
        if name in table.frame.columns or name in out.columns:
            name = f"{name} [{label}]"
        out[name] = values
        roles[name] = role if name not in table.roles else table.roles[name]
        n_inf = int(np.isneginf(values).sum())
        if n_inf:
            notices.append(f"{name}: {n_inf:,} of {len(values):,} values are -inf (singular kernel); they are "
                           "drawn at the low edge of the axis (triangles) and rank lowest in tau / rho")
    if len(out) < table.size:
        notices.append(f"{p.name}: scores for {len(out):,} of {table.size:,} cells; the others have no value")
    return out, roles, notices


def _same_as_known(table: SpaceTable, index: pd.Series, values: np.ndarray) -> bool:
    """True when ``values`` equal one of the table's numeric columns on the file's cells."""
    for c in table.roles:
        known = table.frame.loc[index, c].to_numpy(dtype=float)
        if np.allclose(known, values, rtol=1e-9, atol=1e-12, equal_nan=True):
            return True
    return False


def add_score_files(table: SpaceTable, paths: Sequence[Union[str, Path]], *,
                    arch_of: Callable[[str], str] = str, required: bool = True) -> SpaceTable:
    """``table`` with each file's columns; a bad file becomes a notice (the others still load).
    ``required=False``: a file that does not exist is skipped silently (the optional stored scores)."""
    for p in paths:
        if not required and not Path(p).is_file():
            continue
        try:
            extra, roles, notices = read_score_file(p, table, arch_of)
        except ScoreFileError as e:
            table = table.with_notices(errors=[str(e)])
            continue
        table = table.with_columns(extra, roles, str(p), notices)
    return table


# --------------------------------------------------------------------------------------------------
# Helpers shared by the loaders.
# --------------------------------------------------------------------------------------------------


def op_count_columns(ops_per_cell: Sequence[Sequence[str]], ops: Sequence[str], index) -> pd.DataFrame:
    """``cell/ops/<op>``: how many slots of each cell carry each op."""
    counts = {f"{OPS_PREFIX}{op}": [sum(o == op for o in cell) for cell in ops_per_cell] for op in ops}
    return pd.DataFrame(counts, index=index)


def iso_columns(unique: Sequence[str], index) -> pd.DataFrame:
    """``cell/unique`` and ``cell/iso_size`` (cells sharing the class)."""
    s = pd.Series(list(unique), index=index, name=UNIQUE)
    return pd.DataFrame({UNIQUE: s, ISO_SIZE: s.map(s.value_counts()).astype(np.int64)})


def finite_or_nan(values) -> np.ndarray:
    """Float array with +inf (never a valid measurement) as NaN; -inf (singular kernel) is kept."""
    a = np.asarray(values, dtype=float).copy()
    a[np.isposinf(a)] = math.nan
    return a
