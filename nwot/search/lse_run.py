"""Large-scale evolution end to end: the ``lse`` space, the LSE strategy, training with weight inheritance.

Presets (:data:`LSE_PRESETS`, frozen :class:`LsePreset` values) fix everything but the seed:

* ``gpu`` -- the paper's training of one individual (Real et al., ICML 2017, §3.3 and S1 as we read them):
  SGD with momentum 0.9, batch size 50, weight decay 1e-4, a constant learning rate (the individual's gene,
  0.1 for the initial models), 25,600 steps per evaluation (32 epochs x 800 steps of 50 images: 40,000
  training images, 5,000 more held out for the validation accuracy that is the fitness; the paper trains
  on 45,000), and a population of 1,000 trivial models. The paper ran 250 workers for days; the
  ``evaluations`` cap (10,000 trained models) is ours.
* ``cpu_tiny`` -- the same recipe shrunk to a 2-core CPU: 2 epochs of 40 steps (2,000 training images, 500
  held out), population 20, no augmentation.

:func:`run_lse` runs one search; ``inherit=False`` is the no-inheritance ablation (every child trains from its
own fresh He initialisation), ``screen_threshold`` the NASWOT-screened variant
(:class:`~nwot.search.lse.LargeScaleEvolution`).
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Mapping, Optional

from nwot.errors import NwotError, check_choice
from nwot.evaluators.lineage import LseLineage, WeightStore
from nwot.evaluators.train import TrainConfig, TrainEvaluator
from nwot.data.training import ImageData
from nwot.spaces.base import get_space
from nwot.search.loop import Budget, SearchResult, TraceRow, run_search
from nwot.search.lse import PAPER_POPULATION, LargeScaleEvolution, NaswotInitScorer


@dataclass(frozen=True)
class LsePreset:
    """One LSE setting: how each individual is trained and how large the population is."""

    train: TrainConfig  # training of one evaluation (lr / lr_min are replaced by the individual's gene)
    population_size: int  # initial trivial models (the paper: 1,000)
    evaluations: int  # default budget: trained models per run, the initial population included
    image: tuple = (3, 32, 32)  # input shape the genomes are validated against
    initial_lr: float = 0.1  # learning rate of the initial models (§3.2)
    note: str = field(default="", compare=False)  # where the numbers come from


LSE_PRESETS: Dict[str, LsePreset] = {
    "gpu": LsePreset(
        TrainConfig(epochs=32, batch_size=50, lr=0.1, lr_min=0.1, momentum=0.9, weight_decay=1e-4,
                    train_size=40_000, val_size=5_000, augment=True, grad_clip=None, eval_batch_size=500),
        population_size=PAPER_POPULATION, evaluations=10_000,
        note="Real et al. 2017 §3.3: batch 50, 25,600 steps, momentum 0.9, weight decay 1e-4, population 1,000"),
    "cpu_tiny": LsePreset(
        TrainConfig(epochs=2, batch_size=50, lr=0.1, lr_min=0.1, momentum=0.9, weight_decay=1e-4,
                    train_size=2_000, val_size=500, augment=False, grad_clip=None, device="cpu"),
        population_size=20, evaluations=200,
        note="the gpu recipe shrunk for a 2-core CPU: 80 steps per evaluation, population 20"),
}


def lse_preset(name: str, **overrides: Any) -> LsePreset:
    """A :data:`LSE_PRESETS` entry; ``overrides`` replace preset fields, or TrainConfig fields by name."""
    check_choice("LSE preset", name, LSE_PRESETS)
    p = LSE_PRESETS[name]
    own = {k: v for k, v in overrides.items() if k in LsePreset.__dataclass_fields__}
    train = {k: v for k, v in overrides.items() if k not in own}
    bad = sorted(set(train) - set(TrainConfig.__dataclass_fields__))
    if bad:
        raise NwotError(f"unknown LSE preset override(s) {bad}; allowed: {sorted(LsePreset.__dataclass_fields__)} "
                        f"and the TrainConfig fields {sorted(TrainConfig.__dataclass_fields__)}")
    return replace(p, train=replace(p.train, **train), **own)


def run_lse(preset: str = "cpu_tiny", *, seed: int = 0, data: Optional[ImageData] = None, data_dir=None,
            inherit: bool = True, screen_threshold: Optional[float] = None, screen_tries: int = 8,
            evaluations: Optional[int] = None, seconds: Optional[float] = None,
            checkpoint_dir: Optional[os.PathLike] = None, weights_dir: Optional[os.PathLike] = None,
            overrides: Optional[Mapping[str, Any]] = None, test: Optional[ImageData] = None,
            test_images: Optional[int] = None, progress: Optional[Callable[[TraceRow], None]] = None) -> SearchResult:
    """One LSE search on the ``lse`` space with real training.

    Budget: ``evaluations`` trained models and/or ``seconds`` of charged time (training + NASWOT scoring);
    neither given = the preset's ``evaluations``. The training data / validation split and the NASWOT batch
    and init are seeded by ``seed`` too. ``checkpoint_dir`` makes a rerun replay finished candidates from
    disk; ``weights_dir`` keeps the trained weights of every individual on disk (else in memory). With
    ``test`` (e.g. the CIFAR-10 test split), ``final["test_accuracy"]`` is the chosen individual's accuracy on
    its first ``test_images`` images (all when None).
    """
    p = lse_preset(preset, **dict(overrides or {}))
    cfg = replace(p.train, seed=seed)
    space = get_space("lse", image=p.image, initial_lr=p.initial_lr)
    hook = LseLineage(WeightStore(weights_dir), inherit=inherit)
    evaluate = TrainEvaluator(space, cfg, data, data_dir=data_dir, checkpoint_dir=checkpoint_dir, hook=hook)
    scorer = None
    if screen_threshold is not None:
        scorer = NaswotInitScorer(space, batch_seed=seed, init_seed=seed, device=str(evaluate.device))
    strategy = LargeScaleEvolution(space, random.Random(seed), p.population_size, screen_threshold=screen_threshold,
                                   screen_tries=screen_tries, scorer=scorer)
    if evaluations is None and seconds is None:
        evaluations = p.evaluations
    report = None if test is None else _TestAccuracy(evaluate, hook.store, test, test_images)
    res = run_search(strategy, evaluate, Budget(seconds=seconds, evaluations=evaluations), seed=seed,
                     report=report, progress=progress)
    res.config.update({"preset": preset, "train_config": cfg.key(), "inherit": inherit, "image": list(p.image),
                       "budget_evaluations": evaluations, "budget_seconds": seconds, "data": evaluate.data.name})
    return res


class _TestAccuracy:
    """``report``: top-1 accuracy (%) of the chosen individual's trained weights on the first ``n`` test images."""

    def __init__(self, evaluate: TrainEvaluator, store: WeightStore, test: ImageData, n: Optional[int]) -> None:
        self.evaluate, self.store, self.test, self.n = evaluate, store, test, n

    def __call__(self, arch) -> Dict[str, Any]:
        import torch

        from nwot.evaluators.train import evaluate_accuracy

        state = self.store.get(arch.uid)
        if state is None:
            raise NwotError(f"no trained weights of the chosen individual {arch.uid!r} to report its test accuracy")
        model = self.evaluate.build(arch)
        model.load_state_dict(state)
        n = len(self.test) if self.n is None else min(self.n, len(self.test))
        acc, _ = evaluate_accuracy(model.to(self.evaluate.device), self.test, torch.arange(n),
                                   self.evaluate.config.eval_batch_size, self.evaluate.device)
        return {"test_accuracy": acc, "test_images": n}
