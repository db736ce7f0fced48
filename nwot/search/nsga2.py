"""NSGA-II (Deb et al., "A fast and elitist multiobjective genetic algorithm: NSGA-II", IEEE TEC 2002) via pymoo
(Blank & Deb, IEEE Access 2020), as an ask/tell strategy of the Pareto mode (:mod:`nwot.search.pareto`).

Objectives, both minimised by pymoo: ``f1 = -signal`` (the evaluator's search signal: 12-epoch validation
accuracy under simulated time, or a zero-cost score) and ``f2 = cost(arch)``, a cost metric looked up free
(the driver's ``pareto`` lookup, e.g. the edge-GPU latency in ms). Each ask returns one pymoo generation
(the initial population, then ``population_size`` offspring); its tell gives pymoo the objective values and
runs its survival (non-dominated sorting + crowding distance).

Encoding: one integer variable per position of the space's categorical view (NB201: 6 edges x 5 ops,
:mod:`nwot.search.categorical`), with pymoo's integer recipe -- integer random sampling, SBX crossover and
polynomial mutation on the reals with rounding repair, duplicates eliminated. A failed evaluation (a cell a
constraint refused, or a missing cost) is a constraint violation (``G = 1``) for pymoo, so it ranks below
every measured cell. The RNG is pymoo's own generator, seeded with one draw from the strategy's ``rng``.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Sequence

import numpy as np

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.search.base import Strategy, register_strategy
from nwot.search.categorical import categorical_view
from nwot.spaces.base import Arch


@register_strategy("nsga2")
class NSGA2Search(Strategy):
    name = "nsga2"
    needs = ("cost",)

    def __init__(self, space, rng, cost: Callable[[Arch], float], population_size: int = 20,
                 crossover_eta: float = 3.0, mutation_eta: float = 3.0) -> None:
        super().__init__(space, rng)
        try:
            from pymoo.algorithms.moo.nsga2 import NSGA2
            from pymoo.core.problem import Problem
            from pymoo.core.termination import NoTermination
            from pymoo.operators.crossover.sbx import SBX
            from pymoo.operators.mutation.pm import PM
            from pymoo.operators.repair.rounding import RoundingRepair
            from pymoo.operators.sampling.rnd import IntegerRandomSampling
        except ModuleNotFoundError as e:
            raise NwotError("strategy 'nsga2' needs pymoo: pip install 'nwot[hw]' (pymoo==0.6.2)") from e
        if isinstance(population_size, bool) or not isinstance(population_size, int) or population_size < 2:
            raise NwotError(f"NSGA-II needs population_size >= 2, got {population_size!r}")
        self.view = categorical_view(space, "NSGA-II")
        self.cost = cost
        self.population_size, self.crossover_eta, self.mutation_eta = population_size, crossover_eta, mutation_eta
        self.seed = rng.getrandbits(32)
        upper = np.array([len(c) - 1 for c in self.view.choices])
        self.problem = Problem(n_var=len(upper), n_obj=2, n_ieq_constr=1, xl=np.zeros(len(upper)), xu=upper,
                               vtype=int)
        self.algorithm = NSGA2(pop_size=population_size, sampling=IntegerRandomSampling(),
                               crossover=SBX(prob=1.0, eta=crossover_eta, vtype=float, repair=RoundingRepair()),
                               mutation=PM(prob=1.0, eta=mutation_eta, vtype=float, repair=RoundingRepair()),
                               eliminate_duplicates=True)
        self.algorithm.setup(self.problem, termination=NoTermination(), seed=self.seed, verbose=False)
        self._pop = None
        self.generations = 0

    def ask(self) -> List[Arch]:
        self._pop = self.algorithm.ask()
        X = np.asarray(self._pop.get("X")).astype(int)
        return [self.view.from_indices(list(x)) for x in X]

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        if self._pop is None or len(evals) < len(self._pop):
            return  # the budget ended inside this generation: nothing for pymoo to select from
        F, G = np.zeros((len(evals), 2)), np.zeros((len(evals), 1))
        for k, (a, ev) in enumerate(zip(archs, evals)):
            c = float(self.cost(a)) if ev.ok else math.nan
            if ev.ok and math.isfinite(c) and math.isfinite(ev.signal):
                F[k] = (-float(ev.signal), c)
            else:
                G[k] = 1.0  # infeasible for pymoo: ranked after every measured cell
        self._pop.set("F", F, "G", G)
        self.algorithm.tell(infills=self._pop)
        self._pop = None
        self.generations += 1

    def config(self) -> Dict[str, Any]:
        return {"library": "pymoo", "population_size": self.population_size, "crossover": "SBX+rounding",
                "crossover_eta": self.crossover_eta, "mutation": "PM+rounding", "mutation_eta": self.mutation_eta,
                "pymoo_seed": self.seed, "generations": self.generations,
                "cost_metric": getattr(self.cost, "metric", None)}
