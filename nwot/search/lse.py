"""Large-scale evolution, LSE (Real et al., "Large-Scale Evolution of Image Classifiers", ICML 2017, §3.1).

The population starts as ``P`` individuals from ``space.sample`` (the paper: 1,000 trivial models). Each
step picks two members uniformly at random (without replacement) and compares their fitness (the search
signal: validation accuracy). The worse one is *killed* (removed at once; on a tie the first picked). The
better one is the parent: it stays in the population, and a copy of it is mutated (``space.mutate``),
trained and evaluated, then put back into the population as a new member. Unlike REA, selection removes
the loser, not the oldest.

* On the ``lse`` space (:mod:`nwot.spaces.lse`) this is the paper's algorithm: trivial initial models, the
  11 mutations, and a child whose arch names its parent, so that an evaluator with
  :class:`~nwot.evaluators.lineage.LseLineage` starts it from the parent's trained weights (weight
  inheritance) and trains it with its own learning-rate gene.
* On any other space (``nb201``, ``nats_sss``, ...) it is *LSE selection with the space's own mutation*
  (NB201: one edge gets another op) and random initial members; there is no weight inheritance, no
  training gene and no trivial model. That is what ``benchmarks/search_nb201.py`` runs (population 10 to
  fit the benchmark budgets of ~100-200 evaluations).

A child whose evaluation failed (``Evaluation.failure``: out of memory, a diverged training run)
enters the population with fitness ``-inf``: it loses every comparison with a trained member and never
reproduces (when both members of a pair have ``-inf``, the loser is killed and another pair is drawn).

**NASWOT screening** (``screen_threshold`` set): before a child is handed out for training, its network
is scored at initialisation with NASWOT (``log|det K_H|``, Mellor et al., ICML 2021, §3; a fixed batch
and a fixed init seed, memoised per structure) and compared with its parent's score. A child with
``score(child) < score(parent) - screen_threshold`` is dropped and another mutation of the same parent is
drawn, up to ``screen_tries`` children; if all are dropped, the best-scored of them is trained. Children
that build the parent's network (identity, learning-rate, reset-weights mutations), networks without
ReLU units (NASWOT is undefined there) and networks whose scoring ran out of memory (a failed score
evaluation) are never dropped. The ``scorer`` is the driver's training-free evaluator
(:class:`~nwot.evaluators.proxy.ProxyEvaluator`: the shared :class:`~nwot.scores.scorer.Scorer`, which
builds ``lse`` networks with the config's ``init_seed``), declared in :attr:`LargeScaleEvolution.wants`.
Scoring seconds are charged to the budget (trace kind ``"score"``).

**Asynchronous use** (``asynchrony = "any"``). ``ask`` may be called again before earlier children are
told (each call does one tournament, so ``k`` children in flight leave ``P - k`` members to pick from;
:meth:`LargeScaleEvolution.can_ask` is False once fewer than two remain, and ask raises then); ``tell``
takes children in any order. :meth:`LargeScaleEvolution.snapshot` /
:meth:`LargeScaleEvolution.restore` save and restore the whole state (population, rng, in-flight children,
counters, screen memo) as JSON, so a controller can persist it after every ask / tell.
"""
from __future__ import annotations

import collections
import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation, Evaluator
from nwot.search.base import Strategy, register_strategy
from nwot.spaces.base import Arch

Member = Tuple[Arch, float]
#: The paper's population size (Real et al. 2017, §4: 1,000 individuals, 250 workers).
PAPER_POPULATION = 1000


def fitness(ev: Evaluation) -> float:
    """The signal, or ``-inf`` for a failed evaluation (``Evaluation.failure``: out of memory, diverged)."""
    return float(ev.signal) if ev.ok else -math.inf


@register_strategy("lse")
class LargeScaleEvolution(Strategy):
    name = "lse"
    wants = ("scorer",)
    asynchrony = "any"

    def __init__(self, space, rng, population_size: int = 10, screen_threshold: Optional[float] = None,
                 screen_tries: int = 8, scorer: Optional[Evaluator] = None, structure: Optional[Callable] = None,
                 ) -> None:
        super().__init__(space, rng)
        if isinstance(population_size, bool) or not isinstance(population_size, int) or population_size < 2:
            raise NwotError(f"LSE picks two members, so population_size must be an int >= 2, got {population_size!r}")
        if screen_threshold is not None and not (isinstance(screen_threshold, (int, float)) and screen_threshold >= 0):
            raise NwotError(f"screen_threshold must be None (no screening) or a number >= 0, got {screen_threshold!r}")
        if isinstance(screen_tries, bool) or not isinstance(screen_tries, int) or screen_tries < 1:
            raise NwotError(f"screen_tries must be an int >= 1, got {screen_tries!r}")
        if screen_threshold is not None and scorer is None:
            raise NwotError("the NASWOT screen (screen_threshold) needs a scorer (a training-free evaluator: arch -> "
                            "Evaluation of the NASWOT score; the driver supplies its own)")
        self.population_size = population_size
        self.screen_threshold = None if screen_threshold is None else float(screen_threshold)
        self.screen_tries = screen_tries
        self._scorer = scorer
        self._structure = structure or _default_structure(space)
        self.population: List[Member] = []
        self.n_initial = 0  # initial members asked so far
        self.last_killed: Optional[Member] = None
        self.last_parent: Optional[Member] = None
        self.pending: Dict[str, str] = {}  # encoded child in flight -> encoded parent
        self.scores: Dict[str, Optional[float]] = {}  # structure key -> NASWOT score at init (screen memo)
        self.stats: collections.Counter = collections.Counter()

    # -- ask / tell -------------------------------------------------------------------------------
    def can_ask(self) -> bool:
        return self.n_initial < self.population_size or len(self.population) >= 2

    def ask(self) -> List[Arch]:
        if self.n_initial < self.population_size:
            self.n_initial += 1
            child = self.space.sample(self.rng)
            self.pending[self.space.encode(child)] = ""
            return [child]
        parent = self._tournament()
        child = self.space.mutate(parent[0], self.rng)
        if self.screen_threshold is not None:
            child = self._screen(parent[0], child)
        self._count(child)
        self.pending[self.space.encode(child)] = self.space.encode(parent[0])
        return [child]

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        for arch, ev in zip(archs, evals):
            self.pending.pop(self.space.encode(arch), None)
            f = fitness(ev)
            self.stats["failed"] += f == -math.inf
            self.population.append((arch, f))

    def _tournament(self) -> Member:
        while True:
            pop = self.population
            if len(pop) < 2:
                raise NwotError(f"LSE needs two members to compare but the population has {len(pop)} "
                                f"(population_size={self.population_size}, {len(self.pending)} children in flight); "
                                f"use population_size >= in-flight children + 2")
            i, j = self.rng.sample(range(len(pop)), 2)
            a, b = pop[i], pop[j]
            loser, winner = (a, b) if a[1] <= b[1] else (b, a)
            del pop[i if loser is a else j]
            self.last_killed, self.last_parent = loser, winner
            self.stats["killed"] += 1
            if winner[1] > -math.inf:
                return winner

    def _count(self, child: Arch) -> None:
        mutation = getattr(child, "mutation", None)
        if mutation is not None:
            self.stats[f"mutation:{mutation}"] += 1
            self.stats["mutation_retries"] += int(getattr(child, "retries", 0))

    # -- NASWOT screen ----------------------------------------------------------------------------
    def _score(self, arch: Arch) -> Optional[float]:
        key = self._structure(arch)
        if key not in self.scores:
            ev = self._scorer(arch)
            # a failed score (no ReLU units, out of memory) is no score: the child is not dropped
            s = float(ev.signal) if ev.ok else None
            self.stats["score_failed"] += not ev.ok
            self.scores[key] = s
            self.stats["scored"] += 1
            self.charge(arch, ev, "score")
        return self.scores[key]

    def _screen(self, parent: Arch, child: Arch) -> Arch:
        tried: List[Tuple[float, Arch]] = []
        for t in range(self.screen_tries):
            if self._structure(child) == self._structure(parent):
                return child
            s_parent, s_child = self._score(parent), self._score(child)
            if s_parent is None or s_child is None or s_child >= s_parent - self.screen_threshold:
                return child
            self.stats["screened_out"] += 1
            tried.append((s_child, child))
            if t + 1 < self.screen_tries:
                child = self.space.mutate(parent, self.rng)
        self.stats["screen_exhausted"] += 1
        best = max(range(len(tried)), key=lambda k: (tried[k][0], -k))
        return tried[best][1]

    # -- state ------------------------------------------------------------------------------------
    def config(self) -> Dict[str, Any]:
        return {"population_size": self.population_size, "screen_threshold": self.screen_threshold,
                "screen_tries": self.screen_tries, "stats": dict(sorted(self.stats.items()))}

    def snapshot(self) -> Dict[str, Any]:
        """JSON-able state: population (encoded, fitness), rng, in-flight children, counters, screen memo."""
        version, internal, gauss = self.rng.getstate()
        return {"population": [[self.space.encode(a), s] for a, s in self.population], "n_initial": self.n_initial,
                "rng": [version, list(internal), gauss], "pending": dict(self.pending), "scores": dict(self.scores),
                "stats": dict(self.stats)}

    def restore(self, snap: Dict[str, Any]) -> None:
        """Inverse of :meth:`snapshot` (on a strategy built with the same space and options)."""
        self.population = [(self.space.decode(a), float(s)) for a, s in snap["population"]]
        self.n_initial = int(snap["n_initial"])
        version, internal, gauss = snap["rng"]
        self.rng.setstate((version, tuple(internal), gauss))
        self.pending = dict(snap["pending"])
        self.scores = dict(snap["scores"])
        self.stats = collections.Counter(snap["stats"])


def _default_structure(space) -> Callable[[Arch], str]:
    """Arch -> key of the network it builds: ``space.structure_key`` where the space has one (lse: the genome
    without lineage and learning rate), else ``space.encode``."""
    return getattr(space, "structure_key", space.encode)
