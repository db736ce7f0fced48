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

A strategy that spends budget itself (AREA scores candidates with NASWOT before evolving them) hands
those evaluations to the loop with :meth:`Strategy.charge`: the loop charges their cost and traces them
under their own ``kind`` (e.g. ``"score"``), but their signal never competes for the best arch and they
do not count as evaluations of the ``Budget.evaluations`` limit.
"""
from __future__ import annotations

import inspect
import math
import random
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple

from nwot.errors import NwotError
from nwot.registry import Registry
from nwot.spaces.base import Arch, SearchSpace

#: Trace ``kind`` of an evaluation by the search evaluator (the only kind that competes for the best).
EVAL = "eval"


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

    def fits(self, used_time: float, cost: float) -> bool:
        """Whether an evaluation of ``cost`` seconds still fits (an evaluation that does not is discarded)."""
        return self.seconds is None or used_time + cost <= self.seconds


@dataclass(frozen=True)
class TraceRow:
    step: int  # row number, 0-based (evaluations and a strategy's own charged evaluations alike)
    arch: str  # encoded arch
    signal: float
    cost: float
    time: float  # cumulative seconds after this row
    best_arch: str  # best-by-signal so far among ``kind == "eval"`` rows ("" before the first)
    best_signal: float  # its signal (-inf before the first)
    kind: str = EVAL  # "eval" = the search evaluator; else a strategy's charged side evaluation (e.g. "score")


@dataclass
class SearchResult:
    strategy: str
    space: str
    seed: int
    best_arch: str
    best_signal: float
    used_time: float
    n_evals: int  # evaluations by the search evaluator (rows of kind "eval")
    trace: List[TraceRow]
    final: Dict[str, Any] = field(default_factory=dict)  # reporting numbers of best_arch (e.g. test_accuracy)
    config: Dict[str, Any] = field(default_factory=dict)

    def to_frame(self):
        """The trace as a pandas DataFrame (one row per charged evaluation)."""
        import pandas as pd

        cols = [f.name for f in fields(TraceRow)]
        df = pd.DataFrame([asdict(r) for r in self.trace], columns=cols)
        df.insert(0, "seed", self.seed)
        df.insert(0, "strategy", self.strategy)
        return df

    def summary(self) -> Dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "trace"}
        return d

    def to_dict(self) -> Dict[str, Any]:
        """JSON-able dict (trace rows as dicts); :meth:`from_dict` inverts it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "SearchResult":
        d = dict(d)
        d["trace"] = [TraceRow(**r) for r in d.get("trace", [])]
        return cls(**d)


class Strategy(ABC):
    """Ask/tell search strategy. Subclasses own their state; randomness only from ``self.rng``."""

    name: str = "strategy"

    def __init__(self, space: SearchSpace, rng: random.Random) -> None:
        self.space = space
        self.rng = rng
        self._charges: List[Tuple[Arch, Evaluation, str]] = []

    @abstractmethod
    def ask(self) -> List[Arch]:
        """Archs to evaluate next (at least one; an empty list ends the search)."""

    @abstractmethod
    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        """Feed back what the evaluator measured for the archs of the last :meth:`ask`."""

    def config(self) -> Dict[str, Any]:
        return {}

    def charge(self, arch: Arch, evaluation: Evaluation, kind: str) -> None:
        """Hand the loop an evaluation this strategy ran itself (charged to the budget, traced as ``kind``)."""
        if kind == EVAL:
            raise NwotError(f"a strategy's own evaluations need a kind other than {EVAL!r} (e.g. 'score')")
        self._charges.append((arch, evaluation, kind))

    def take_charges(self) -> List[Tuple[Arch, Evaluation, str]]:
        """The evaluations charged since the last call (the loop drains them after every :meth:`ask`)."""
        out, self._charges = list(getattr(self, "_charges", [])), []
        return out


STRATEGIES: Registry[Strategy] = Registry("search strategy")
register_strategy = STRATEGIES.register


def get_strategy(name: str, space: SearchSpace, rng: random.Random, **kwargs: Any) -> Strategy:
    from nwot.search import _load_all  # noqa: F401

    cls = STRATEGIES.get(name)
    allowed = strategy_options(name)
    bad = sorted(set(kwargs) - set(allowed))
    if bad and not any(p.kind is inspect.Parameter.VAR_KEYWORD
                       for p in inspect.signature(cls.__init__).parameters.values()):
        raise NwotError(f"strategy {name!r} has no option {', '.join(map(repr, bad))}; its options: "
                        f"{', '.join(allowed) or '(none)'}")
    return cls(space, rng, **kwargs)


def strategy_options(name: str) -> List[str]:
    """The keyword options of strategy ``name`` (its constructor's, past ``space`` and ``rng``)."""
    from nwot.search import _load_all  # noqa: F401

    params = list(inspect.signature(STRATEGIES.get(name).__init__).parameters.values())[3:]
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def list_strategies() -> List[str]:
    from nwot.search import _load_all  # noqa: F401

    return STRATEGIES.names()


def _evaluations(evaluate: Evaluator, archs: Sequence[Arch], budget: Budget, n_evals: int):
    """Evaluations of ``archs`` in order, lazily. An evaluator with a ``map(archs)`` method (live NASWOT
    scoring: threads or worker processes) gets every arch the budget can take at once when several are
    asked; a budget in seconds is checked per evaluation, so it keeps the one-by-one path."""
    archs = list(archs)
    batch = getattr(evaluate, "map", None)
    if batch is not None and len(archs) > 1 and budget.seconds is None:
        take = len(archs) if budget.evaluations is None else max(0, min(len(archs), budget.evaluations - n_evals))
        yield from batch(archs[:take])
        return
    for a in archs:
        yield evaluate(a)


def run_search(strategy: Strategy, evaluate: Evaluator, budget: Budget, *, seed: int = 0,
               report: Optional[Callable[[Arch], Dict[str, Any]]] = None,
               progress: Optional[Callable[[TraceRow], None]] = None) -> SearchResult:
    """Run ``strategy`` until ``budget`` is spent.

    An evaluation whose cost would push the used time past ``budget.seconds`` is discarded and ends
    the search (the NATS-Bench protocol never reports an arch it could not afford). The same holds for
    the evaluations a strategy charges itself (:meth:`Strategy.charge`), which are charged in order
    right after the :meth:`Strategy.ask` that ran them.
    """
    used, trace = 0.0, []
    n_evals = 0
    best_arch, best_signal = None, -math.inf
    enc = strategy.space.encode

    def record(a: Arch, ev: Evaluation, kind: str) -> None:
        row = TraceRow(len(trace), enc(a), float(ev.signal), float(ev.cost), used,
                       "" if best_arch is None else enc(best_arch), float(best_signal), kind)
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
        evals: List[Evaluation] = []
        told: List[Arch] = []
        results = _evaluations(evaluate, archs, budget, n_evals)
        try:
            for a in archs:
                if not budget.left(used, n_evals):
                    stop = True
                    break
                ev = next(results)
                if not budget.fits(used, ev.cost):
                    stop = True
                    break
                used += ev.cost
                n_evals += 1
                if ev.signal > best_signal or best_arch is None:
                    best_arch, best_signal = a, ev.signal
                record(a, ev, EVAL)
                evals.append(ev)
                told.append(a)
        finally:
            results.close()  # stops an evaluator's workers when the budget ends the batch early
        if told:
            strategy.tell(told, evals)
        if stop:
            break
    if best_arch is None:
        raise NwotError(f"budget {budget} too small: no evaluation of {strategy.name} fitted in it")
    final = report(best_arch) if report is not None else {}
    return SearchResult(strategy.name, strategy.space.name, seed, enc(best_arch), float(best_signal), used,
                        n_evals, trace, final, strategy.config())
