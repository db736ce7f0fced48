"""What every evaluator returns, the evaluator interface, and the evaluator registry.

An evaluator maps an architecture to an :class:`Evaluation`: the search signal (higher is better) and
the seconds charged to the search budget. Which number it is depends on the evaluator (STYLE habit 9:
strategies propose, evaluators measure, adapters count):

=============  ======================================  =============================================
evaluator      signal                                  cost
=============  ======================================  =============================================
``benchmark``  a table's validation accuracy (12 ep.)  the benchmark's simulated training seconds
``proxy``      a zero-cost score (NASWOT ...), live    measured wall seconds (build + score)
``stored``     a stored score (score file)             the wall seconds recorded with it
``train``      held-out validation accuracy            measured training wall seconds
=============  ======================================  =============================================

A candidate the evaluator could not measure (a network that does not fit in memory, a diverging run)
is a value too, not a crash: ``Evaluation.failure`` names the reason, the signal is ``-inf`` (it never
wins) and the cost is what was spent on it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Protocol, Sequence, runtime_checkable

from nwot.registry import Registry
from nwot.spaces.base import Arch


@dataclass(frozen=True)
class Evaluation:
    """What an evaluator measured for one arch."""

    signal: float  # the search signal (higher is better): valid accuracy, a proxy score, ...
    cost: float  # seconds charged to the budget (simulated or wall; the evaluator's ``cost_kind`` says which)
    info: Dict[str, Any] = field(default_factory=dict)
    failure: Optional[str] = None  # why the candidate could not be measured (then signal is -inf)

    @classmethod
    def failed(cls, reason: str, cost: float = 0.0, **info: Any) -> Evaluation:
        """A candidate that could not be measured: ``-inf`` signal (never the best), the reason kept."""
        return cls(signal=-math.inf, cost=float(cost), info=dict(info), failure=str(reason))

    @property
    def ok(self) -> bool:
        return self.failure is None


@runtime_checkable
class Evaluator(Protocol):
    """``arch -> Evaluation``. Optional: ``config() -> dict`` (recorded in results), ``for_run(seed)``
    (a copy for one search run, e.g. with that run's RNG), ``map(archs)`` (several at once, e.g. over
    worker processes; same results as calling one by one) and ``cost_kind`` ("simulated" | "wall")."""

    def __call__(self, arch: Arch) -> Evaluation: ...


def evaluate_many(evaluate: Evaluator, archs: Sequence[Arch]) -> Iterator[Evaluation]:
    """The evaluations of ``archs`` in order: all at once through the evaluator's own ``map`` when it has
    one (e.g. over worker processes), else one by one and lazily, so a consumer that stops early (the
    budget is spent) evaluates nothing more."""
    fn: Optional[Callable[[Sequence[Arch]], List[Evaluation]]] = getattr(evaluate, "map", None)
    if callable(fn) and len(archs) > 1:
        yield from fn(archs)
    else:
        for a in archs:
            yield evaluate(a)


def evaluator_config(evaluate: Any) -> Dict[str, Any]:
    """What an evaluator records about itself: its ``describe()`` or ``config()``, else its class name."""
    for name in ("describe", "config"):
        cfg = getattr(evaluate, name, None)
        if callable(cfg):
            return dict(cfg())
    return {"evaluator": type(evaluate).__name__}


def cost_kind(evaluate: Any) -> str:
    """``"simulated"`` (benchmark training time) or ``"wall"`` (measured seconds) for an evaluator."""
    return str(getattr(evaluate, "cost_kind", "wall"))


EVALUATORS: Registry[Evaluator] = Registry("evaluator", builtins=(
    "nwot.evaluators.benchmark",
    "nwot.evaluators.proxy",
    "nwot.evaluators.train",
))
register_evaluator = EVALUATORS.register


def get_evaluator(name: str, *args: Any, **kwargs: Any) -> Evaluator:
    """Build a registered evaluator: ``benchmark``, ``proxy``, ``stored`` or ``train`` (see the module docstring)."""
    return EVALUATORS.create(name, *args, **kwargs)


def list_evaluators() -> List[str]:
    return EVALUATORS.names()
