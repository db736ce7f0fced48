"""The ask/tell loop every strategy runs on, its budget, and what a search returns.

::

    while budget.left(used_time, n_evals):
        archs = strategy.ask()
        strategy.tell(archs, evaluate_many(evaluator, archs))

The loop charges each :class:`~nwot.evaluators.base.Evaluation`'s cost, keeps the trace, stops at the
budget, and picks the best arch *by search signal*; the reporting numbers (test accuracy) are looked
up afterwards by a separate ``report`` callable, so no strategy ever sees them.

A strategy that spends budget itself (AREA scores candidates before evolving them) hands those
evaluations to the loop with :meth:`~nwot.search.base.Strategy.charge`: the loop charges their cost
and traces them under their own ``kind`` (e.g. ``"score"``), but their signal never competes for the
best arch and they do not count against ``Budget.evaluations``. A failed evaluation
(``Evaluation.failure``) is charged, traced and told, and never becomes the best.

Costs are *simulated* seconds for a benchmark evaluator and *wall* seconds for a live proxy or real
training (the evaluator's ``cost_kind``); :class:`SearchResult` records which, and the loop's own wall
time beside it.
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Dict, List, Optional, Tuple

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation, Evaluator, cost_kind, evaluate_many
from nwot.search.base import EVAL, Strategy
from nwot.spaces.base import Arch


@dataclass(frozen=True)
class Budget:
    """Stop when ``seconds`` of (simulated or wall) cost or ``evaluations`` are used; ``None`` = unlimited."""

    seconds: Optional[float] = None
    evaluations: Optional[int] = None

    def __post_init__(self) -> None:
        if self.seconds is None and self.evaluations is None:
            raise NwotError("a Budget needs seconds or evaluations (both None would never stop)")
        if self.seconds is not None and not self.seconds > 0:
            raise NwotError(f"budget seconds must be > 0, got {self.seconds!r}")
        if self.evaluations is not None and (isinstance(self.evaluations, bool) or not self.evaluations > 0):
            raise NwotError(f"budget evaluations must be > 0, got {self.evaluations!r}")

    def left(self, used_time: float, n_evals: int) -> bool:
        if self.seconds is not None and used_time >= self.seconds:
            return False
        return self.evaluations is None or n_evals < self.evaluations

    def fits(self, used_time: float, cost: float) -> bool:
        """Whether an evaluation of ``cost`` seconds still fits (an evaluation that does not is discarded)."""
        return self.seconds is None or used_time + cost <= self.seconds

    def remaining_evaluations(self, n_evals: int) -> Optional[int]:
        return None if self.evaluations is None else max(0, self.evaluations - n_evals)


@dataclass(frozen=True)
class TraceRow:
    step: int  # row number, 0-based (evaluations and a strategy's own charged evaluations alike)
    arch: str  # encoded arch
    signal: float
    cost: float
    time: float  # cumulative charged seconds after this row (simulated or wall: SearchResult.cost_kind)
    best_arch: str  # best-by-signal so far among ``kind == "eval"`` rows ("" before the first)
    best_signal: float  # its signal (-inf before the first)
    kind: str = EVAL  # "eval" = the search evaluator; else a strategy's charged side evaluation (e.g. "score")
    failure: str = ""  # why the evaluation failed ("" = it did not)


@dataclass
class SearchResult:
    """One search run."""

    strategy: str
    space: str
    seed: int
    best_arch: str
    best_signal: float
    used_time: float  # charged seconds (simulated for a benchmark evaluator, wall for live scoring / training)
    n_evals: int  # evaluations by the search evaluator (rows of kind "eval")
    trace: List[TraceRow]
    final: Dict[str, Any] = field(default_factory=dict)  # reporting numbers of best_arch (e.g. test_accuracy)
    config: Dict[str, Any] = field(default_factory=dict)
    cost_kind: str = "wall"  # what used_time counts: "simulated" or "wall" seconds
    wall_seconds: float = 0.0  # real time the run took (strategy, evaluations and report)
    #: Pareto mode (``run(..., pareto=...)``): the non-dominated (signal, cost) cells found, ascending cost,
    #: each ``{"arch", "signal", <metric>, <report numbers>}`` (:func:`nwot.search.pareto.search_front`).
    front: List[Dict[str, Any]] = field(default_factory=list)

    def to_frame(self):
        """The trace as a pandas DataFrame (one row per charged evaluation)."""
        import pandas as pd

        cols = [f.name for f in fields(TraceRow)]
        df = pd.DataFrame([asdict(r) for r in self.trace], columns=cols)
        df.insert(0, "seed", self.seed)
        df.insert(0, "strategy", self.strategy)
        return df

    def row(self) -> Dict[str, Any]:
        """One flat row: the run's best arch, its numbers and its times (``time_<kind>`` named by kind)."""
        out = {"seed": self.seed, "strategy": self.strategy, "space": self.space, "best_arch": self.best_arch,
               "best_signal": self.best_signal, "n_evals": self.n_evals,
               f"{self.cost_kind}_seconds": self.used_time}
        if self.cost_kind != "wall":
            out["wall_seconds"] = self.wall_seconds
        out.update(self.final)
        return out

    def summary(self) -> Dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "trace"}

    def to_dict(self) -> Dict[str, Any]:
        """JSON-able dict (trace rows as dicts); :meth:`from_dict` inverts it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> SearchResult:
        d = dict(d)
        d["trace"] = [TraceRow(**r) for r in d.get("trace", [])]
        return cls(**d)


@dataclass
class SearchReport:
    """Several independent runs of one search (run ``r`` seeded with ``seed + r``)."""

    runs: List[SearchResult]

    def to_frame(self):
        """One row per run (:meth:`SearchResult.row`)."""
        import pandas as pd

        return pd.DataFrame([r.row() for r in self.runs])

    def summary(self) -> Dict[str, Any]:
        """Run count, mean / population std of the reported test accuracy, mean charged and wall seconds."""
        accs = [r.final["test_accuracy"] for r in self.runs if r.final.get("test_accuracy") is not None]
        out: Dict[str, Any] = {"runs": len(self.runs)}
        if accs:
            out["test_accuracy_mean"] = statistics.fmean(accs)
            out["test_accuracy_std"] = statistics.pstdev(accs) if len(accs) > 1 else 0.0
        if self.runs:
            out["cost_kind"] = self.runs[0].cost_kind
            out[f"{self.runs[0].cost_kind}_seconds_mean"] = statistics.fmean(r.used_time for r in self.runs)
            out["wall_seconds_mean"] = statistics.fmean(r.wall_seconds for r in self.runs)
        return out


def run_search(strategy: Strategy, evaluate: Evaluator, budget: Budget, *, seed: int = 0,
               report: Optional[Callable[[Arch], Dict[str, Any]]] = None,
               progress: Optional[Callable[[TraceRow], None]] = None) -> SearchResult:
    """Run ``strategy`` until ``budget`` is spent (see the module docstring).

    An evaluation whose cost would push the used time past ``budget.seconds`` is discarded and ends
    the search (the NATS-Bench protocol never reports an arch it could not afford). The same holds for
    the evaluations a strategy charges itself, which are charged in order right after the ``ask`` that
    ran them. When a strategy asks for several archs, they are evaluated together
    (:func:`~nwot.evaluators.base.evaluate_many`: an evaluator with ``map`` may spread them over worker
    processes), at most as many as the evaluation budget has left.
    """
    t_start = time.perf_counter()
    used, trace = 0.0, []
    n_evals = 0
    best: Tuple[Optional[Arch], float] = (None, -math.inf)
    enc = strategy.space.encode

    def record(a: Arch, ev: Evaluation, kind: str) -> None:
        row = TraceRow(len(trace), enc(a), float(ev.signal), float(ev.cost), used,
                       "" if best[0] is None else enc(best[0]), float(best[1]), kind, ev.failure or "")
        trace.append(row)
        if progress is not None:
            progress(row)

    while budget.left(used, n_evals):
        archs = strategy.ask()
        stop = False
        for a, ev, kind in strategy.take_charges():
            if not budget.fits(used, ev.cost):
                stop = True
                break
            used += ev.cost
            record(a, ev, kind)
        if stop or not archs:
            break
        room = budget.remaining_evaluations(n_evals)
        batch = list(archs) if room is None else list(archs)[:room]
        evals: List[Evaluation] = []
        told: List[Arch] = []
        for a, ev in zip(batch, evaluate_many(evaluate, batch)):
            if not budget.fits(used, ev.cost):
                stop = True
                break
            used += ev.cost
            n_evals += 1
            if ev.ok and (ev.signal > best[1] or best[0] is None):
                best = (a, ev.signal)
            record(a, ev, EVAL)
            evals.append(ev)
            told.append(a)
        if told:
            strategy.tell(told, evals)
        if stop or len(batch) < len(archs):
            break
    if best[0] is None:
        failed = sum(1 for r in trace if r.failure)
        raise NwotError(f"budget {budget} too small: no evaluation of {strategy.name} fitted in it"
                        if not failed else f"every evaluation of {strategy.name} failed ({failed}; first: "
                        f"{next(r.failure for r in trace if r.failure)})")
    final = report(best[0]) if report is not None else {}
    return SearchResult(strategy.name, strategy.space.name, seed, enc(best[0]), float(best[1]), used, n_evals,
                        trace, final, strategy.config(), cost_kind=cost_kind(evaluate),
                        wall_seconds=time.perf_counter() - t_start)
