"""Run a registered strategy on an open space with real training: what ``nwot search --evaluator train`` calls.

Open spaces (``pnas``, ``blockqnn``) have no table, so every candidate is trained by
:class:`~nwot.evaluators.train.TrainEvaluator` (budget = number of trained models). Strategies that
run here: ``pnas``, ``blockqnn``, ``rea``, ``random`` (any registered strategy that only needs the
space); ``prescreen=f > 0`` wraps them in NASWOT pre-screening (:mod:`nwot.search.prescreen`).
The chosen cell is reported by the accuracy of its trained weights on CIFAR-10 test images.
Tables (``nb201``) go through :func:`nwot.search.run.run_strategy` instead.
"""
from __future__ import annotations

import random
import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional

from nwot.errors import NwotError
from nwot.spaces.base import get_space
from nwot.search.loop import Budget, SearchResult, TraceRow, run_search
from nwot.search.base import get_strategy

#: Macro skeleton per training preset: (C = F filters of stage 1, N cells / blocks per stage).
DEFAULT_BUILD: Dict[str, Dict[str, int]] = {
    "cpu_tiny": {"C": 8, "N": 1},
    "pnas_proxy": {"C": 24, "N": 2},  # PNAS §5.1 search networks
    "blockqnn_proxy": {"C": 32, "N": 2},
}


def run_trained_search(strategy: str, space: str = "pnas", *, evaluations: int, runs: int = 1, seed: int = 0,
                       preset: str = "cpu_tiny", train_overrides: Optional[Mapping[str, Any]] = None,
                       build_kwargs: Optional[Mapping[str, Any]] = None, space_kwargs: Optional[Mapping[str, Any]] = None,
                       data_dir=None, checkpoint_dir=None, prescreen: int = 0, test_images: Optional[int] = 2000,
                       progress: Optional[Callable[[TraceRow], None]] = None, **strategy_kwargs: Any) -> List[SearchResult]:
    """``runs`` searches of ``strategy`` on ``space``, each with ``evaluations`` trained models; run r uses seed + r.

    * training: :data:`~nwot.evaluators.train.PRESETS` ``preset`` with ``train_overrides``; the data is the
      CIFAR-10 training split in ``data_dir`` (default ``$NWOT_DATA_DIR``), validation images held out of it;
    * networks: ``space.build(arch, **build_kwargs)`` (default :data:`DEFAULT_BUILD` [preset]);
    * ``checkpoint_dir``: per-candidate checkpoints shared by all runs (finished cells are not retrained);
    * ``prescreen``: NASWOT pool factor (0 = off); ``strategy_kwargs`` go to the strategy;
    * report: ``final["test_accuracy"]`` on the first ``test_images`` CIFAR-10 test images (None = all,
      0 = no report; needs ``checkpoint_dir`` to reload the trained weights).
    """
    from nwot.data.training import cifar10_data
    from nwot.evaluators.train import TrainEvaluator, train_preset
    from nwot.search.prescreen import NaswotScreen, Prescreened

    if isinstance(evaluations, bool) or not isinstance(evaluations, int) or evaluations < 1:
        raise NwotError(f"evaluations (trained models per run) must be an int >= 1, got {evaluations!r}")
    if runs < 1:
        raise NwotError(f"runs must be >= 1, got {runs}")
    if test_images != 0 and checkpoint_dir is None:
        raise NwotError("reporting test accuracy reloads the trained weights: pass checkpoint_dir (or test_images=0)")
    cfg = train_preset(preset, **dict(train_overrides or {}))
    build = dict(DEFAULT_BUILD.get(preset, {}) if build_kwargs is None else build_kwargs)
    sp = get_space(space, **dict(space_kwargs or {}))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*partial.*")
        train = cifar10_data(data_dir)
        test = cifar10_data(data_dir, train=False) if test_images != 0 else None
    evaluate = TrainEvaluator(sp, cfg, train, build_kwargs=build, checkpoint_dir=checkpoint_dir)
    results = []
    for r in range(runs):
        s = seed + r
        rng = random.Random(s)
        if prescreen:
            screen = NaswotScreen(sp, build_kwargs=build, data_dir=data_dir, batch_seed=s, init_seed=s)
            strat = Prescreened(sp, rng, inner=strategy, factor=prescreen, screen=screen, inner_kwargs=strategy_kwargs)
            ev = screen.charge(evaluate)
        else:
            strat, ev = get_strategy(strategy, sp, rng, **strategy_kwargs), evaluate
        report = None
        if test is not None:
            report = _TestReport(evaluate, test, test_images)
        res = run_search(strat, ev, Budget(evaluations=evaluations), seed=s, report=report, progress=progress)
        res.config.update({"space": space, "evaluator": "train", "train_preset": preset, "train_config": cfg.key(),
                           "build_kwargs": build, "budget_evaluations": evaluations, "prescreen_factor": prescreen})
        results.append(res)
    return results


class _TestReport:
    """``report`` of :func:`run_search`: test accuracy of the chosen cell's trained weights."""

    def __init__(self, evaluate, test, size: Optional[int]) -> None:
        self.evaluate, self.test, self.size = evaluate, test, size

    def __call__(self, arch) -> Dict[str, Any]:
        n = len(self.test) if self.size is None else min(self.size, len(self.test))
        return {"test_accuracy": self.evaluate.test_accuracy(arch, self.test, n), "test_images": n}
