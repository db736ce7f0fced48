"""Pareto mode: the non-dominated (accuracy or score, cost) cells a search found, and a table's true front.

Two objectives: *maximise* an accuracy -- the search signal (a benchmark's 12-epoch validation accuracy
under simulated time, or a zero-cost score) for the front a search returns, the 200-epoch test accuracy
for the true front -- and *minimise* a cost metric (:data:`~nwot.adapters.hardware.COST_METRICS`, e.g. a
device's latency in ms), looked up free in the benchmark table. Cell ``a`` dominates ``b`` when
``acc_a >= acc_b`` and ``cost_a <= cost_b`` with one inequality strict (Deb, "Multi-Objective Optimization
using Evolutionary Algorithms", 2001, §2.4); the front is the set no cell dominates, computed by pymoo's
``find_non_dominated`` (Blank & Deb, "pymoo", IEEE Access 2020) on ``F = (-acc, cost)``. Cells with equal
objective values are all kept. A cell whose cost is missing (HW-NAS-Bench did not measure its Edge TPU
latency) has no place on a front and is left out.

Hypervolume (Zitzler & Thiele, PPSN 1998): the area dominated by a front and bounded by a reference point
``r = (acc_r, cost_r)``, here the worst accuracy and the largest cost over the whole table (so every cell
counts), computed by pymoo's ``HV`` indicator (moocore) on ``F = (-acc, cost)`` with ``r = (-acc_r, cost_r)``.
:func:`hypervolume_ratio` divides a found front's hypervolume, its cells placed at their *test* accuracy,
by the true front's: 1 = the true front found.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from nwot.adapters.base import remap_metric
from nwot.adapters.hardware import UNITS
from nwot.errors import NwotError, check_choice
from nwot.search.base import EVAL
from nwot.search.constraints import metric_values
from nwot.spaces.base import Arch, SearchSpace


def _pymoo():
    try:
        from pymoo.indicators.hv import HV
        from pymoo.util.nds.non_dominated_sorting import find_non_dominated
    except ModuleNotFoundError as e:
        raise NwotError("Pareto fronts and hypervolumes need pymoo: pip install 'nwot[hw]' (pymoo==0.6.2)") from e
    return HV, find_non_dominated


def non_dominated(accuracy: Sequence[float], cost: Sequence[float]) -> np.ndarray:
    """Positions of the non-dominated points of (maximised ``accuracy``, minimised ``cost``), ascending cost."""
    acc, c = np.asarray(accuracy, dtype=float), np.asarray(cost, dtype=float)
    if acc.shape != c.shape or acc.ndim != 1:
        raise NwotError(f"accuracy and cost must be equal-length vectors, got shapes {acc.shape} and {c.shape}")
    if not (np.isfinite(acc).all() and np.isfinite(c).all()):
        raise NwotError("non_dominated needs finite objective values (drop missing costs / failed cells first)")
    if len(acc) == 0:
        return np.array([], dtype=int)
    _, find = _pymoo()
    idx = np.asarray(find(np.column_stack([-acc, c])), dtype=int)
    return idx[np.lexsort((-acc[idx], c[idx]))]


def hypervolume(accuracy: Sequence[float], cost: Sequence[float], reference: Tuple[float, float]) -> float:
    """Hypervolume of the points (module docstring) w.r.t. ``reference = (accuracy_r, cost_r)``; 0 for none."""
    acc, c = np.asarray(accuracy, dtype=float), np.asarray(cost, dtype=float)
    keep = (acc > reference[0]) & (c < reference[1])
    if not keep.any():
        return 0.0
    HV, _ = _pymoo()
    return float(HV(ref_point=np.array([-reference[0], reference[1]]))(np.column_stack([-acc[keep], c[keep]])))


class CostLookup:
    """``arch -> cost metric`` of ``dataset``'s network from a benchmark table (free; NaN when not measured)."""

    def __init__(self, benchmark: Any, space: SearchSpace, metric: str, dataset: str = "cifar10") -> None:
        self.values = metric_values(benchmark, metric, dataset)
        self.benchmark, self.space, self.metric, self.dataset = benchmark, space, metric, dataset
        self.unit = UNITS[metric]

    def index(self, arch: Arch) -> int:
        return int(self.benchmark.index_of(self.space.encode(arch)))

    def __call__(self, arch: Arch) -> float:
        return float(self.values[self.index(arch)])

    def config(self) -> Dict[str, Any]:
        return {"pareto_metric": self.metric, "pareto_unit": self.unit, "pareto_dataset": self.dataset}


def search_front(trace: Sequence[Any], lookup: CostLookup, decode: Callable[[str], Arch],
                 report: Optional[Callable[[Arch], Dict[str, Any]]] = None) -> List[Dict[str, Any]]:
    """The non-dominated (search signal, cost) cells among a run's evaluated cells (trace rows of kind
    ``eval``, not failed; each cell once, its first signal), ascending cost, each with ``report``'s numbers."""
    seen: Dict[str, Tuple[float, float]] = {}
    for row in trace:
        if row.kind != EVAL or row.failure or row.arch in seen:
            continue
        cost = lookup(decode(row.arch))
        if math.isfinite(cost) and math.isfinite(row.signal):
            seen[row.arch] = (float(row.signal), cost)
    archs = list(seen)
    if not archs:
        return []
    order = non_dominated([seen[a][0] for a in archs], [seen[a][1] for a in archs])
    out = []
    for k in order:
        a = archs[k]
        entry: Dict[str, Any] = {"arch": a, "signal": seen[a][0], lookup.metric: seen[a][1]}
        if report is not None:
            entry.update(report(decode(a)))
        out.append(entry)
    return out


@dataclass(frozen=True)
class TrueFront:
    """The exact front of a table: (test accuracy, cost) of every cell, the front's indices, the reference point."""

    metric: str
    dataset: str
    accuracy: np.ndarray  # per benchmark index, NaN where no accuracy
    cost: np.ndarray  # per benchmark index, NaN where not measured
    indices: np.ndarray  # the front, ascending cost
    reference: Tuple[float, float]  # (worst accuracy, largest cost) over the cells with both values

    @property
    def hypervolume(self) -> float:
        return hypervolume(self.accuracy[self.indices], self.cost[self.indices], self.reference)

    def best_under(self, bound: float) -> Tuple[int, float]:
        """``(index, test accuracy)`` of the most accurate cell with cost <= ``bound`` (ties: lowest index)."""
        ok = np.isfinite(self.accuracy) & np.isfinite(self.cost) & (self.cost <= bound)
        if not ok.any():
            raise NwotError(f"no cell has {self.metric} <= {bound:g} {UNITS[self.metric]} on {self.dataset}")
        acc = np.where(ok, self.accuracy, -np.inf)
        i = int(np.argmax(acc))
        return i, float(acc[i])


def true_front(benchmark: Any, metric: str, dataset: str = "cifar10", *, hp: Optional[str] = None,
               indices: Optional[Sequence[int]] = None) -> TrueFront:
    """The exact Pareto front of (``dataset``'s test accuracy at ``hp``, default the full schedule; ``metric``)
    over every cell of ``benchmark`` (or ``indices``), from its table: ``cifar10`` ori-test, else x-test."""
    ds, split = remap_metric(dataset, "test")
    hp = benchmark.check_hp(benchmark.full_hp if hp is None else hp)
    cols = getattr(benchmark, "_cols", None)
    column = f"{ds}/{split}@{hp}"
    if cols is None or column not in cols:
        raise NwotError(f"benchmark {getattr(benchmark, 'name', benchmark)!r} has no {column} column to build a "
                        f"true front from")
    check_choice("cost metric", metric, UNITS)
    acc = np.asarray(cols[column], dtype=float).copy()
    cost = metric_values(benchmark, metric, dataset).copy()
    if indices is not None:
        keep = np.zeros(len(acc), dtype=bool)
        keep[np.asarray(indices, dtype=int)] = True
        acc[~keep], cost[~keep] = np.nan, np.nan
    ok = np.flatnonzero(np.isfinite(acc) & np.isfinite(cost))
    if len(ok) == 0:
        raise NwotError(f"no cell has both {column} and {metric}")
    front = ok[non_dominated(acc[ok], cost[ok])]
    return TrueFront(metric, dataset, acc, cost, front, (float(acc[ok].min()), float(cost[ok].max())))


def hypervolume_ratio(front_indices: Sequence[int], truth: TrueFront) -> float:
    """HV of the cells ``front_indices`` at their true (test accuracy, cost) / HV of the true front."""
    idx = np.asarray(list(front_indices), dtype=int)
    if len(idx) == 0:
        return 0.0
    ok = idx[np.isfinite(truth.accuracy[idx]) & np.isfinite(truth.cost[idx])]
    return hypervolume(truth.accuracy[ok], truth.cost[ok], truth.reference) / truth.hypervolume
