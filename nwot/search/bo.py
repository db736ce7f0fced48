"""Bayesian optimisation with the Tree-structured Parzen Estimator, TPE (Bergstra et al.,
"Algorithms for Hyper-Parameter Optimization", NeurIPS 2011), via ``optuna`` (Akiba et al., KDD 2019).

Each position of the space (NB201 edge, NATS-SSS layer) is one categorical parameter over its
choices (:mod:`nwot.search.categorical`). TPE splits the observed archs into good (top gamma) and bad
by search signal, fits a Parzen density ``l(x)`` / ``g(x)`` to each and proposes the candidate that
maximises ``l(x) / g(x)`` (expected improvement); the first ``n_startup_trials`` are random.

Why TPE and not BOHB (NB201's row): BOHB (Falkner et al., ICML 2018) = Hyperband's multi-fidelity
schedule + a TPE-like KDE model. Under one fixed fidelity (the 12-epoch signal every strategy here
gets) BOHB reduces to that KDE model with a random fraction, i.e. TPE; ``optuna`` has a native
ask/tell API and a seeded sampler (one seed drawn from ``self.rng``), whereas ``hpbandster`` drives
its own loop through a Pyro4 name server and worker threads and is unmaintained. A failed evaluation
(``Evaluation.failure``) is told as a failed trial, which TPE leaves out of its densities; a cell refused
by a cost constraint (``info["infeasible"]``) is told as an infeasible trial with its violation
(``Trial.set_constraint``, optuna >= 5; constrained TPE, Watanabe & Hutter, IJCAI 2023), which TPE puts in
its "bad" group, so it learns to avoid the infeasible region.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Dict, List, Sequence

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.search.base import Strategy, register_strategy
from nwot.search.categorical import categorical_view
from nwot.spaces.base import Arch


@contextmanager
def _quiet_optuna():
    """Silence optuna's INFO lines ("A new study created...") for the duration, then restore its level."""
    log = logging.getLogger("optuna")
    old = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(old)


@register_strategy("bo")
class TPESearch(Strategy):
    name = "bo"

    def __init__(self, space, rng, n_startup_trials: int = 10, multivariate: bool = False) -> None:
        super().__init__(space, rng)
        try:
            import optuna
        except ModuleNotFoundError as e:
            raise NwotError("strategy 'bo' (TPE) needs the optuna package: pip install optuna") from e
        self.view = categorical_view(space, "BO (TPE)")
        self.n_startup_trials, self.multivariate = n_startup_trials, multivariate
        self.sampler_seed = rng.getrandbits(32)
        self._names = [f"x{p}" for p in range(len(self.view.choices))]
        self._dists = {n: optuna.distributions.CategoricalDistribution(list(range(len(c))))
                       for n, c in zip(self._names, self.view.choices)}
        sampler = optuna.samplers.TPESampler(seed=self.sampler_seed, n_startup_trials=n_startup_trials,
                                             multivariate=multivariate)
        with _quiet_optuna():
            self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self._pending: List[Any] = []

    def ask(self) -> List[Arch]:
        with _quiet_optuna():
            trial = self.study.ask(self._dists)
        self._pending.append(trial)
        return [self.view.from_indices([trial.params[n] for n in self._names])]

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        import optuna

        for _a, ev in zip(archs, evals):
            trial = self._pending.pop(0)
            with _quiet_optuna():
                if ev.ok:
                    self.study.tell(trial, float(ev.signal))
                elif ev.info.get("infeasible") and hasattr(trial, "set_constraint"):
                    trial.set_constraint("nwot_cost_constraints", float(ev.info.get("violation", 1.0)))
                    self.study.tell(trial, 0.0)  # the value of an infeasible trial is not used by TPE
                else:
                    self.study.tell(trial, state=optuna.trial.TrialState.FAIL)

    def config(self) -> Dict[str, Any]:
        return {"model": "tpe", "library": "optuna", "n_startup_trials": self.n_startup_trials,
                "multivariate": self.multivariate, "sampler_seed": self.sampler_seed}
