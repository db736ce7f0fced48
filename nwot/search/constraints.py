"""Cost constraints on a search: ``edgegpu_latency<=5``, ``params<=1.0``, ... (issue 17).

A :class:`Constraint` bounds one cost metric (:data:`~nwot.adapters.hardware.COST_METRICS`: ``params`` MB,
``flops`` MFLOPs, or a HW-NAS-Bench latency / energy, units in :data:`~nwot.adapters.hardware.UNITS`) of the
search dataset's network. :class:`FeasibleSet` evaluates a list of them on every cell of a benchmark table
once (a lookup, free of simulated time). A cell is feasible when every constraint holds; a cell whose
metric is missing (HW-NAS-Bench did not measure the Edge TPU latency of 4,699 cells) is **infeasible** under
a constraint on that metric, and a :class:`MissingMetricWarning` says how many cells that excludes.

How a search respects it, for every strategy, through the one driver (:func:`nwot.search.run.run`'s
``feasible``):

* :class:`ConstrainedSpace` -- the space the strategy sees: ``sample`` draws until a feasible cell comes
  (rejection sampling, so uniform over the feasible set) and ``mutate`` re-draws the mutation until the
  child is feasible (after ``max_tries`` failures it returns a fresh feasible sample, counted as a
  ``fallback``). Random search, REA, AREA (its pre-scored pool too), LSE and the NASWOT search sample
  and mutate only through it.
* :class:`Constrained` -- a guard around the strategy for strategies that build archs themselves (REINFORCE's
  policy, TPE's categorical draws): an infeasible proposal never reaches the evaluator; it is told back to
  the strategy at once as a failed :class:`~nwot.evaluators.base.Evaluation` with cost 0 (REINFORCE then
  takes no step and TPE records a failed trial, so the next draw is from the same model: sampling it
  restricted to the feasible set), and the strategy is asked again.

Rejected cells are never evaluated, so they cost no simulated (or wall) time and never appear in the
trace; the numbers of rejections are recorded in the run's config.
"""
from __future__ import annotations

import math
import operator
import re
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from nwot.adapters.hardware import COST_METRICS, MAY_BE_MISSING, UNITS
from nwot.errors import NwotError, check_choice
from nwot.evaluators.base import Evaluation
from nwot.search.base import Strategy
from nwot.spaces.base import Arch, SearchSpace

#: Comparison operators a constraint may use.
OPERATORS: Dict[str, Callable[[float, float], bool]] = {"<=": operator.le, "<": operator.lt, ">=": operator.ge,
                                                        ">": operator.gt}
_CONSTRAINT_RE = re.compile(r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>[<>=!]+)\s*(?P<value>\S+)\s*$")
#: Rejection-sampling bounds: draws per ``sample`` / ``mutate``, proposals per ``ask`` of the guard.
MAX_TRIES = 10_000


class MissingMetricWarning(UserWarning):
    """Cells whose constrained metric is not measured, and so infeasible."""


@dataclass(frozen=True)
class Constraint:
    """``metric op value``: e.g. ``Constraint("edgegpu_latency", "<=", 5.0)`` = at most 5 ms on the edge GPU."""

    metric: str  # one of COST_METRICS (params MB, flops MFLOPs, HW-NAS-Bench latency ms / energy mJ)
    op: str  # one of OPERATORS
    value: float  # bound, in the metric's unit (UNITS[metric])

    def __post_init__(self) -> None:
        check_choice("constraint metric", self.metric, COST_METRICS)
        check_choice("constraint operator", self.op, OPERATORS)
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)) or not math.isfinite(self.value):
            raise NwotError(f"constraint bound must be a finite number ({UNITS[self.metric]}), got {self.value!r}")
        object.__setattr__(self, "value", float(self.value))

    def holds(self, x: Optional[float]) -> bool:
        """Whether a value satisfies the constraint; a missing value (None / NaN) never does."""
        return x is not None and not math.isnan(x) and OPERATORS[self.op](x, self.value)

    def mask(self, values: np.ndarray) -> np.ndarray:
        """:meth:`holds` for a vector (NaN -> False)."""
        with np.errstate(invalid="ignore"):
            return ~np.isnan(values) & OPERATORS[self.op](values, self.value)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"


def parse_constraint(text: str) -> Constraint:
    """``"edgegpu_latency<=5"`` -> ``Constraint("edgegpu_latency", "<=", 5.0)``; spaces are allowed."""
    if isinstance(text, Constraint):
        return text
    m = _CONSTRAINT_RE.match(str(text))
    if m is None:
        raise NwotError(f"constraint {text!r} is not METRIC OP VALUE (e.g. 'edgegpu_latency<=5'); metrics: "
                        f"{', '.join(COST_METRICS)}; operators: {', '.join(OPERATORS)}")
    try:
        value = float(m["value"])
    except ValueError:
        raise NwotError(f"constraint {text!r}: bound {m['value']!r} is not a number") from None
    return Constraint(m["metric"], m["op"], value)


def parse_constraints(items: Sequence[Any]) -> Tuple[Constraint, ...]:
    return tuple(parse_constraint(c) for c in items)


def metric_values(benchmark: Any, metric: str, dataset: str) -> np.ndarray:
    """``metric`` of ``dataset``'s network for every index of ``benchmark`` (NaN = unknown)."""
    fn = getattr(benchmark, "metric_values", None)
    values = fn(metric, dataset) if callable(fn) else None
    if values is None:
        raise NwotError(f"benchmark {getattr(benchmark, 'name', benchmark)!r} stores no {metric!r} for {dataset} "
                        f"networks, so a constraint on it cannot be checked; the embedded NB201 table "
                        f"('nb201') has {', '.join(COST_METRICS)}")
    return np.asarray(values, dtype=float)


class FeasibleSet:
    """The cells of ``benchmark`` (indexed like ``space.encode``) that satisfy every constraint (module docstring)."""

    def __init__(self, benchmark: Any, space: SearchSpace, constraints: Sequence[Any], dataset: str) -> None:
        self.constraints = parse_constraints(constraints)
        if not self.constraints:
            raise NwotError("a FeasibleSet needs at least one constraint")
        self.benchmark, self.space, self.dataset = benchmark, space, dataset
        mask = np.ones(len(benchmark), dtype=bool)
        self.missing: Dict[str, int] = {}
        for c in self.constraints:
            values = metric_values(benchmark, c.metric, dataset)
            n_missing = int(np.isnan(values).sum())
            if n_missing:
                self.missing[str(c)] = n_missing
                why = " (HW-NAS-Bench did not measure them)" if c.metric in MAY_BE_MISSING else ""
                warnings.warn(f"{n_missing:,} of {len(values):,} cells have no {c.metric} for the {dataset} "
                              f"network{why}: they are infeasible under the constraint {c}",
                              MissingMetricWarning, stacklevel=2)
            mask &= c.mask(values)
        self.mask = mask
        self.n_feasible = int(mask.sum())
        self._memo: Dict[str, int] = {}
        if self.n_feasible == 0:
            raise NwotError(f"no cell satisfies {', '.join(map(str, self.constraints))} on {dataset}; loosen a bound")

    def index(self, arch: Arch) -> int:
        key = self.space.encode(arch)
        i = self._memo.get(key)
        if i is None:
            i = self._memo[key] = int(self.benchmark.index_of(key))
        return i

    def __call__(self, arch: Arch) -> bool:
        return bool(self.mask[self.index(arch)])

    def violations(self, arch: Arch) -> List[str]:
        """The constraints ``arch`` breaks, with its value (``"edgegpu_latency=6.2 ms breaks edgegpu_latency<=5"``)."""
        i, out = self.index(arch), []
        for c in self.constraints:
            v = float(metric_values(self.benchmark, c.metric, self.dataset)[i])
            if not c.holds(v):
                shown = "not measured" if math.isnan(v) else f"{v:g} {UNITS[c.metric]}"
                out.append(f"{c.metric}={shown} breaks {c}")
        return out

    def violation(self, arch: Arch) -> float:
        """How far ``arch`` is from feasible: ``sum_c max(0, excess_c / |bound_c|)`` (1 per missing value;
        0 when feasible), the ordering constrained TPE uses for infeasible trials."""
        i, total = self.index(arch), 0.0
        for c in self.constraints:
            v = float(metric_values(self.benchmark, c.metric, self.dataset)[i])
            if math.isnan(v):
                total += 1.0
            elif not c.holds(v):
                total += max(abs(v - c.value), 1e-12) / max(abs(c.value), 1e-12)
        return total

    def view(self, space: SearchSpace) -> ConstrainedSpace:
        """A fresh constrained view of ``space`` (one per search run: it counts its own rejections)."""
        return ConstrainedSpace(space, self)

    def guard(self, strategy: Strategy) -> Constrained:
        return Constrained(strategy, self)

    def config(self) -> Dict[str, Any]:
        return {"constraints": [str(c) for c in self.constraints], "constraint_dataset": self.dataset,
                "feasible_cells": self.n_feasible, "cells": len(self.mask), "missing_metric_cells": dict(self.missing)}


class ConstrainedSpace:
    """``space`` whose ``sample`` / ``mutate`` return feasible cells only (module docstring); all else delegates."""

    def __init__(self, space: SearchSpace, feasible: FeasibleSet, max_tries: int = MAX_TRIES) -> None:
        self.inner, self.feasible, self.max_tries = space, feasible, max_tries
        self.rejected = 0  # infeasible draws thrown away (never evaluated, never charged)
        self.fallbacks = 0  # mutations that found no feasible child in max_tries and became a fresh sample

    def __getattr__(self, name: str) -> Any:  # name, ops, edges, encode, decode, build, ...
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def sample(self, rng) -> Arch:
        for _ in range(self.max_tries):
            a = self.inner.sample(rng)
            if self.feasible(a):
                return a
            self.rejected += 1
        raise NwotError(f"no feasible cell in {self.max_tries} uniform draws under "
                        f"{', '.join(map(str, self.feasible.constraints))} ({self.feasible.n_feasible} feasible cells)")

    def mutate(self, arch: Arch, rng) -> Arch:
        for _ in range(self.max_tries):
            a = self.inner.mutate(arch, rng)
            if self.feasible(a):
                return a
            self.rejected += 1
        self.fallbacks += 1
        return self.sample(rng)

    def config(self) -> Dict[str, Any]:
        return {"rejected_samples": self.rejected, "mutation_fallbacks": self.fallbacks}


class Constrained(Strategy):
    """Guard: ``inner`` whose infeasible proposals are told back as failures (cost 0) and asked again."""

    def __init__(self, inner: Strategy, feasible: FeasibleSet, max_tries: int = MAX_TRIES) -> None:
        super().__init__(inner.space, inner.rng)
        self.inner, self.feasible, self.max_tries = inner, feasible, max_tries
        self.name = inner.name
        self.rejected = 0  # proposals refused by the guard
        self._held: List[Tuple[int, Arch, Evaluation]] = []  # infeasible members of the last returned batch
        self._batch: List[Arch] = []

    def _refusal(self, arch: Arch) -> Evaluation:
        self.rejected += 1
        return Evaluation.failed("infeasible: " + "; ".join(self.feasible.violations(arch)), cost=0.0,
                                 infeasible=True, violation=self.feasible.violation(arch))

    def ask(self) -> List[Arch]:
        for _ in range(self.max_tries):
            archs = list(self.inner.ask())
            if not archs:
                return []
            ok = [self.feasible(a) for a in archs]
            if not any(ok):
                self.inner.tell(archs, [self._refusal(a) for a in archs])
                continue
            self._held = [(k, a, self._refusal(a)) for k, (a, good) in enumerate(zip(archs, ok)) if not good]
            self._batch = archs
            return [a for a, good in zip(archs, ok) if good]
        raise NwotError(f"strategy {self.inner.name!r} proposed only infeasible cells {self.max_tries} times in a row "
                        f"under {', '.join(map(str, self.feasible.constraints))}")

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        """Tell ``inner`` its whole last batch in its order: the evaluated cells and the held refusals."""
        if not self._held:
            self.inner.tell(archs, evals)
            return
        held = {k: (a, ev) for k, a, ev in self._held}
        told = iter(zip(archs, evals))
        merged = [held[k] if k in held else next(told, None) for k in range(len(self._batch))]
        merged = [m for m in merged if m is not None]
        self._held = []
        self.inner.tell([a for a, _ in merged], [ev for _, ev in merged])

    def take_charges(self):
        return self.inner.take_charges() + super().take_charges()

    def config(self) -> Dict[str, Any]:
        space_cfg = self.inner.space.config() if isinstance(self.inner.space, ConstrainedSpace) else {}
        return {**self.inner.config(), "guard_rejected": self.rejected, **space_cfg}


def feasible_set(benchmark: Optional[Any], space: SearchSpace, constraints: Optional[Sequence[Any]],
                 dataset: str) -> Optional[FeasibleSet]:
    """The :class:`FeasibleSet` of ``constraints`` (None when there are none); a benchmark is required."""
    if not constraints:
        return None
    if benchmark is None:
        raise NwotError(f"constraints ({', '.join(map(str, constraints))}) are looked up in a benchmark table; "
                        f"space {space.name!r} has none (pass benchmark=)")
    return FeasibleSet(benchmark, space, constraints, dataset)
