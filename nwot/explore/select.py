"""Filters, Pareto front and rank correlations over a :class:`~nwot.explore.data.SpaceTable` (pure numpy).

* Filters (:class:`Filters`): op counts per type (``lo <= count <= hi``), edges fixed to an op, the
  has-path condition (some input -> output path avoids ``none``), ranges of any numeric column
  (``lo <= v <= hi``; a cell without a value fails a range, so an unbounded range keeps the cells that
  have a value).
* Pareto front (:func:`pareto_front`): cells not dominated when maximising accuracy ``a`` and
  minimising cost ``c``; ``q`` dominates ``p`` iff ``a_q >= a_p``, ``c_q <= c_p`` and one is strict.
* Rank correlations (:func:`rank_correlation`): Kendall tau-b and Spearman rho (scipy) over the cells
  where both values exist; ``-inf`` (singular NASWOT kernel) ranks below every finite value.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from nwot.errors import NwotError
from nwot.explore.data import EDGE_PREFIX, HAS_PATH, OPS_PREFIX, SpaceTable


@dataclass(frozen=True)
class Filters:
    """Which cells are shown. Empty = all."""

    op_counts: Tuple[Tuple[str, int, int], ...] = ()  # (op, min count, max count)
    edges: Tuple[Tuple[str, str], ...] = ()  # (edge name "j-i", op on it)
    has_path: bool = False  # only cells with an input -> output path
    ranges: Tuple[Tuple[str, Optional[float], Optional[float]], ...] = ()  # (column, lo or None, hi or None)

    def to_dict(self) -> Dict[str, Any]:
        return {k: [list(v) for v in val] if isinstance(val, tuple) else val for k, val in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Optional[Mapping[str, Any]]) -> Filters:
        d = dict(d or {})
        unknown = set(d) - {"op_counts", "edges", "has_path", "ranges"}
        if unknown:
            raise NwotError(f"unknown filter field(s) {sorted(unknown)}; allowed: op_counts, edges, has_path, ranges")
        return cls(tuple((str(o), int(lo), int(hi)) for o, lo, hi in d.get("op_counts", ())),
                   tuple((str(e), str(o)) for e, o in d.get("edges", ())), bool(d.get("has_path", False)),
                   tuple((str(c), _num(lo), _num(hi)) for c, lo, hi in d.get("ranges", ())))

    def describe(self) -> List[str]:
        """One short line per active condition."""
        out = [f"{lo} <= #{op} <= {hi}" for op, lo, hi in self.op_counts]
        out += [f"edge {e} = {op}" for e, op in self.edges]
        out += ["has an input->output path"] if self.has_path else []
        for c, lo, hi in self.ranges:
            out.append(" <= ".join(x for x in (None if lo is None else f"{lo:g}", c, None if hi is None else f"{hi:g}")
                                   if x is not None))
        return out


def _num(v) -> Optional[float]:
    if v is None or v == "":
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        raise NwotError(f"a range bound must be a number or empty, got {v!r}") from None


def apply_filters(table: SpaceTable, f: Filters) -> np.ndarray:
    """Boolean mask over ``table.frame`` rows: the cells that pass every condition of ``f``."""
    df = table.frame
    mask = np.ones(len(df), dtype=bool)
    for op, lo, hi in f.op_counts:
        if op not in table.ops:
            raise NwotError(f"unknown op {op!r} in an op-count filter of {table.name}; allowed: {', '.join(table.ops)}")
        n = df[OPS_PREFIX + op].to_numpy()
        mask &= (n >= lo) & (n <= hi)
    for edge, op in f.edges:
        if edge not in table.edges:
            raise NwotError(f"unknown edge {edge!r} of {table.name}; allowed: {', '.join(table.edges) or 'none'}")
        if op not in table.ops:
            raise NwotError(f"unknown op {op!r} on edge {edge}; allowed: {', '.join(table.ops)}")
        mask &= df[EDGE_PREFIX + edge].to_numpy() == op
    if f.has_path:
        mask &= df[HAS_PATH].to_numpy(dtype=bool)
    for col, lo, hi in f.ranges:
        v = df[table.check_column(col)].to_numpy(dtype=float)
        ok = ~np.isnan(v)
        if lo is not None:
            ok &= v >= lo
        if hi is not None:
            ok &= v <= hi
        mask &= ok
    return mask


def op_usage(table: SpaceTable, mask: np.ndarray) -> Dict[str, int]:
    """Per op: how many of the masked cells use it at least once."""
    return {op: int((table.frame[OPS_PREFIX + op].to_numpy()[mask] > 0).sum()) for op in table.ops}


# --------------------------------------------------------------------------------------------------
# Pareto front.
# --------------------------------------------------------------------------------------------------


def pareto_front(accuracy: Sequence[float], cost: Sequence[float]) -> np.ndarray:
    """Mask of the non-dominated points (max accuracy, min cost); NaN points are never on it. O(n log n).

    Sort by (cost ascending, accuracy descending); a point is dominated iff an earlier point of its cost
    has higher accuracy, or some point of strictly lower cost has accuracy >= its own. Exact duplicates
    do not dominate each other.
    """
    a = np.asarray(accuracy, dtype=float)
    c = np.asarray(cost, dtype=float)
    if a.shape != c.shape:
        raise NwotError(f"accuracy and cost must have the same length, got {a.shape} and {c.shape}")
    out = np.zeros(a.shape, dtype=bool)
    ok = np.flatnonzero(~(np.isnan(a) | np.isnan(c)))
    if ok.size == 0:
        return out
    order = ok[np.lexsort((-a[ok], c[ok]))]
    best_lower = -np.inf  # best accuracy among points of strictly lower cost
    k = 0
    while k < order.size:
        j = k
        while j < order.size and c[order[j]] == c[order[k]]:
            j += 1
        group = order[k:j]
        top = a[group[0]]
        for i in group:
            out[i] = a[i] == top and a[i] > best_lower
        best_lower = max(best_lower, top)
        k = j
    return out


def dominators(accuracy: Sequence[float], cost: Sequence[float], i: int) -> int:
    """How many points dominate point ``i`` (0 = it is on the front)."""
    a = np.asarray(accuracy, dtype=float)
    c = np.asarray(cost, dtype=float)
    if np.isnan(a[i]) or np.isnan(c[i]):
        return 0
    dom = (a >= a[i]) & (c <= c[i]) & ((a > a[i]) | (c < c[i]))
    return int(dom.sum())


# --------------------------------------------------------------------------------------------------
# Rank correlations.
# --------------------------------------------------------------------------------------------------


def _ranked(v: np.ndarray) -> np.ndarray:
    """``-inf`` moved just below the finite minimum (same ranks, safe for scipy)."""
    v = v.astype(float).copy()
    neg = np.isneginf(v)
    if neg.any():
        fin = v[np.isfinite(v)]
        v[neg] = (fin.min() - 1.0) if fin.size else 0.0
    return v


def rank_correlation(x: Sequence[float], y: Sequence[float]) -> Tuple[float, float, int]:
    """``(Kendall tau-b, Spearman rho, n)`` over the pairs where neither value is NaN (NaN, NaN if n < 3
    or a side is constant)."""
    from scipy import stats

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y) | np.isposinf(x) | np.isposinf(y))
    n = int(ok.sum())
    if n < 3:
        return float("nan"), float("nan"), n
    xs, ys = _ranked(x[ok]), _ranked(y[ok])
    if np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return float("nan"), float("nan"), n
    return float(stats.kendalltau(xs, ys).statistic), float(stats.spearmanr(xs, ys).statistic), n


def correlation_matrix(table: SpaceTable, columns: Sequence[str], mask: Optional[np.ndarray] = None,
                       method: str = "kendall") -> Tuple[np.ndarray, np.ndarray]:
    """``(values, counts)``: pairwise Kendall tau (or Spearman rho) of ``columns`` over the masked cells,
    each pair over the cells where both exist; the diagonal is 1."""
    if method not in ("kendall", "spearman"):
        raise NwotError(f"unknown correlation method {method!r}; allowed: 'kendall', 'spearman'")
    cols = [table.check_column(c) for c in columns]
    df = table.frame if mask is None else table.frame[mask]
    k = len(cols)
    val = np.full((k, k), np.nan)
    cnt = np.zeros((k, k), dtype=int)
    for i in range(k):
        for j in range(i, k):
            tau, rho, n = rank_correlation(df[cols[i]].to_numpy(), df[cols[j]].to_numpy())
            val[i, j] = val[j, i] = 1.0 if i == j and n >= 3 else (tau if method == "kendall" else rho)
            cnt[i, j] = cnt[j, i] = n
    return val, cnt
