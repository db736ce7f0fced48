"""The strategy interface (ask/tell) and the strategy registry.

A strategy proposes architectures (:meth:`Strategy.ask`) and learns from what an evaluator measured
(:meth:`Strategy.tell`); it never sees how a number was obtained (a table lookup, a proxy score or
real training), nor any test accuracy. The loop that drives it is :func:`nwot.search.loop.run_search`,
the front door for whole searches :func:`nwot.search.run.run`.

Strategies declare what they need besides the space and their RNG, instead of the driver listing
them by name: :attr:`Strategy.needs` names constructor keywords the driver must supply (``"scorer"``: a
training-free evaluator, e.g. AREA's pre-scoring), and :attr:`Strategy.takes_select` says the strategy
accepts a ``select`` hook for its beam (PNAS), which NASWOT pre-screening uses; :attr:`Strategy.signal` says
whether it searches on a measured accuracy or on a zero-cost score (the NASWOT search).
:attr:`Strategy.wants` names optional inputs (keys of :data:`NEEDS`) the driver supplies when it has them
(LSE's NASWOT screen takes the driver's scorer).

**Asynchronous evaluation** (:mod:`nwot.search.async_run`: several workers train candidates at once and
results are told as they arrive). A strategy declares what it tolerates in :attr:`Strategy.asynchrony`
(one of :data:`ASYNCHRONY`); :meth:`Strategy.can_ask` says whether another ask may be issued now (False:
wait for a tell).
"""
from __future__ import annotations

import inspect
import random
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Dict, List, Sequence, Tuple, Type

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.registry import Registry
from nwot.spaces.base import Arch, SearchSpace

#: Trace ``kind`` of an evaluation by the search evaluator (the only kind that competes for the best).
EVAL = "eval"
#: Inputs a strategy may declare in :attr:`Strategy.needs`, with what they are.
NEEDS: Dict[str, str] = {
    "scorer": "a training-free evaluator (arch -> Evaluation of a zero-cost score) the strategy calls itself",
    "cost": "a free lookup arch -> the second objective to minimise (a cost metric such as a latency in ms), "
            "for multi-objective strategies (run(..., pareto=...))",
}

#: What a strategy tolerates when its candidates are evaluated concurrently (:attr:`Strategy.asynchrony`).
ASYNCHRONY: Dict[str, str] = {
    "any": "ask may be called again before earlier asks are told, and tells come one arch at a time in any "
           "order (random search, REA, REINFORCE, LSE)",
    "beam": "one ask at a time: its archs (a beam) are evaluated concurrently and told one at a time in any "
            "order; the next ask once all of them are told (PNAS)",
    "batch": "one ask at a time: its archs are evaluated concurrently and told together, in ask order, once "
             "all are evaluated (BlockQNN's iterations; the safe default, the synchronous loop's semantics)",
}


class Strategy(ABC):
    """Ask/tell search strategy. Subclasses own their state; randomness only from ``self.rng``."""

    name: str = "strategy"
    #: Constructor keywords the driver supplies (keys of :data:`NEEDS`).
    needs: ClassVar[Tuple[str, ...]] = ()
    #: Optional constructor keywords the driver supplies when it has them (keys of :data:`NEEDS`).
    wants: ClassVar[Tuple[str, ...]] = ()
    #: What the strategy tolerates under concurrent evaluation (a key of :data:`ASYNCHRONY`).
    asynchrony: ClassVar[str] = "batch"
    #: Whether the constructor takes ``select(ranked, k) -> chosen`` for its beam (NASWOT pre-screening).
    takes_select: ClassVar[bool] = False
    #: What the strategy searches on by default: ``"benchmark"`` (a measured accuracy: table lookup or
    #: training) or ``"score"`` (a zero-cost score: the NASWOT search).
    signal: ClassVar[str] = "benchmark"

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

    def can_ask(self) -> bool:
        """Whether :meth:`ask` may be called now, with earlier asks still untold (``asynchrony == "any"``);
        False: wait for a tell (e.g. LSE with too few members left to pick a pair from)."""
        return True

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


STRATEGIES: Registry[Type[Strategy]] = Registry("search strategy", builtins=(
    "nwot.search.area",
    "nwot.search.blockqnn",
    "nwot.search.bo",
    "nwot.search.lse",
    "nwot.search.naswot",
    "nwot.search.nsga2",
    "nwot.search.pnas",
    "nwot.search.random",
    "nwot.search.rea",
    "nwot.search.reinforce",
))
register_strategy = STRATEGIES.register


def strategy_class(name: str) -> Type[Strategy]:

    return STRATEGIES.get(name)


def get_strategy(name: str, space: SearchSpace, rng: random.Random, **kwargs: Any) -> Strategy:
    """Instantiate strategy ``name``; an unknown option raises, listing the strategy's options."""
    cls = strategy_class(name)
    allowed = strategy_options(name) + list(cls.needs) + list(cls.wants) + (["select"] if cls.takes_select else [])
    bad = sorted(set(kwargs) - set(allowed))
    if bad and not any(p.kind is inspect.Parameter.VAR_KEYWORD
                       for p in inspect.signature(cls.__init__).parameters.values()):
        raise NwotError(f"strategy {name!r} has no option {', '.join(map(repr, bad))}; its options: "
                        f"{', '.join(strategy_options(name)) or '(none)'}")
    missing = [n for n in cls.needs if n not in kwargs]
    if missing:
        raise NwotError(f"strategy {name!r} needs {', '.join(f'{n} ({NEEDS[n]})' for n in missing)}")
    return cls(space, rng, **kwargs)


def strategy_options(name: str) -> List[str]:
    """The user-settable keyword options of strategy ``name`` (constructor parameters past ``space`` and
    ``rng``, without what the driver supplies: :attr:`Strategy.needs`, :attr:`Strategy.wants` and ``select``)."""
    cls = strategy_class(name)
    params = list(inspect.signature(cls.__init__).parameters.values())[3:]
    skip = set(cls.needs) | set(cls.wants) | ({"select"} if cls.takes_select else set())
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in skip]


def list_strategies() -> List[str]:
    return STRATEGIES.names()
