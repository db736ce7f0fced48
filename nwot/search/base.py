"""One search loop for every strategy (STYLE.md habit 9: strategies propose, evaluators measure).

::

    while budget.left(used_time, n_evals):
        archs = strategy.ask()
        strategy.tell(archs, [evaluate(a) for a in archs])

An :class:`Evaluator` maps an arch to an :class:`Evaluation` (search signal + cost in seconds: simulated
training time for a table lookup, measured wall time for the NASWOT score or real training). The loop
keeps the trace, charges the cost, stops at the budget, and picks the best arch *by search signal*;
the final (reporting) accuracy is looked up afterwards by a separate ``report`` callable so that no
strategy ever sees test numbers.
"""
from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence

from ..errors import NwotError
from ..registry import Registry
from ..spaces.base import Arch, SearchSpace


@dataclass(frozen=True)
class Evaluation:
    """What an evaluator measured for one arch."""

    signal: float  # the search signal (higher is better): valid accuracy, NASWOT score, ...
    cost: float  # seconds charged to the budget
    info: Dict[str, Any] = field(default_factory=dict)


class Evaluator(Protocol):
    def __call__(self, arch: Arch) -> Evaluation: ...


@dataclass(frozen=True)
class Budget:
    """Stop when ``seconds`` of (simulated) time or ``evaluations`` are used; ``None`` = unlimited."""

    seconds: Optional[float] = None
    evaluations: Optional[int] = None

    def __post_init__(self) -> None:
        if self.seconds is None and self.evaluations is None:
            raise NwotError("a Budget needs seconds or evaluations (both None would never stop)")
        if self.seconds is not None and not self.seconds > 0:
            raise NwotError(f"budget seconds must be > 0, got {self.seconds!r}")
        if self.evaluations is not None and not self.evaluations > 0:
            raise NwotError(f"budget evaluations must be > 0, got {self.evaluations!r}")

    def left(self, used_time: float, n_evals: int) -> bool:
        if self.seconds is not None and used_time >= self.seconds:
            return False
        if self.evaluations is not None and n_evals >= self.evaluations:
            return False
        return True


@dataclass(frozen=True)
class TraceRow:
    step: int  # evaluation number, 0-based
    arch: str  # encoded arch
    signal: float
    cost: float
    time: float  # cumulative seconds after this evaluation
    best_arch: str  # best-by-signal so far
    best_signal: float


@dataclass
class SearchResult:
    strategy: str
    space: str
    seed: int
    best_arch: str
    best_signal: float
    used_time: float
    n_evals: int
    trace: List[TraceRow]
    final: Dict[str, Any] = field(default_factory=dict)  # reporting numbers of best_arch (e.g. test_accuracy)
    config: Dict[str, Any] = field(default_factory=dict)

    def to_frame(self):
        import pandas as pd

        df = pd.DataFrame([asdict(r) for r in self.trace])
        df.insert(0, "seed", self.seed)
        df.insert(0, "strategy", self.strategy)
        return df

    def summary(self) -> Dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "trace"}
        return d


class Strategy(ABC):
    """Ask/tell search strategy. Subclasses own their state; randomness only from ``self.rng``."""

    name: str = "strategy"

    def __init__(self, space: SearchSpace, rng: random.Random) -> None:
        self.space = space
        self.rng = rng

    @abstractmethod
    def ask(self) -> List[Arch]:
        """Archs to evaluate next (at least one)."""

    @abstractmethod
    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        """Feed back what the evaluator measured for the archs of the last :meth:`ask`."""

    def config(self) -> Dict[str, Any]:
        return {}


STRATEGIES: Registry[Strategy] = Registry("search strategy")
register_strategy = STRATEGIES.register


def get_strategy(name: str, space: SearchSpace, rng: random.Random, **kwargs: Any) -> Strategy:
    from . import _load_all  # noqa: F401

    return STRATEGIES.create(name, space, rng, **kwargs)


def run_search(strategy: Strategy, evaluate: Evaluator, budget: Budget, *, seed: int = 0,
               report: Optional[Callable[[Arch], Dict[str, Any]]] = None,
               progress: Optional[Callable[[TraceRow], None]] = None) -> SearchResult:
    """Run ``strategy`` until ``budget`` is spent.

    An evaluation whose cost would push the used time past ``budget.seconds`` is discarded and ends
    the search (the NATS-Bench protocol never reports an arch it could not afford).
    """
    used, trace = 0.0, []
    best_arch, best_signal = None, -math.inf
    enc = strategy.space.encode
    while budget.left(used, len(trace)):
        archs = strategy.ask()
        if not archs:
            break
        evals: List[Evaluation] = []
        told: List[Arch] = []
        stop = False
        for a in archs:
            if not budget.left(used, len(trace)):
                stop = True
                break
            ev = evaluate(a)
            if budget.seconds is not None and used + ev.cost > budget.seconds:
                stop = True
                break
            used += ev.cost
            if ev.signal > best_signal or best_arch is None:
                best_arch, best_signal = a, ev.signal
            row = TraceRow(len(trace), enc(a), float(ev.signal), float(ev.cost), used, enc(best_arch), float(best_signal))
            trace.append(row)
            if progress is not None:
                progress(row)
            evals.append(ev)
            told.append(a)
        if told:
            strategy.tell(told, evals)
        if stop:
            break
    if best_arch is None:
        raise NwotError(f"budget {budget} too small: no evaluation of {strategy.name} fitted in it")
    final = report(best_arch) if report is not None else {}
    return SearchResult(strategy.name, strategy.space.name, seed, enc(best_arch), float(best_signal), used,
                        len(trace), trace, final, strategy.config())
