"""Large-scale evolution end to end: the ``lse`` space, the LSE strategy, training with weight inheritance.

:func:`run_lse` is a thin wrapper over the one driver: :func:`nwot.search.run.train_setup` on the ``lse``
space (which declares weight inheritance, so the evaluator gets the lineage hook) and
:func:`nwot.search.run.run` with the ``lse`` strategy. The same search from the command line::

    nwot search --strategy lse --space lse --evaluator train --preset lse_cpu_tiny --evaluations 200 \
        -o population_size=20 [--workers 2]

Presets (:data:`LSE_PRESETS`, frozen :class:`LsePreset` values) fix everything but the seed: a training preset
of :data:`nwot.evaluators.train.PRESETS` plus the population and a default budget.

* ``gpu`` -- training preset ``lse_gpu``, the paper's training of one individual (Real et al., ICML 2017,
  §3.3 and S1 as we read them): SGD with momentum 0.9, batch size 50, weight decay 1e-4, a constant
  learning rate (the individual's gene, 0.1 for the initial models), 25,600 steps per evaluation (32 epochs
  x 800 steps of 50 images: 40,000 training images, 5,000 more held out for the validation accuracy that is
  the fitness; the paper trains on 45,000), and a population of 1,000 trivial models. The paper ran 250
  workers for days; the ``evaluations`` cap (10,000 trained models) is ours.
* ``cpu_tiny`` -- training preset ``lse_cpu_tiny``, the same recipe shrunk to a 2-core CPU: 2 epochs of 40
  steps (2,000 training images, 500 held out), population 20, no augmentation.

``inherit=False`` is the no-inheritance ablation (every child trains from its own fresh He initialisation),
``screen_threshold`` the NASWOT-screened variant (:class:`~nwot.search.lse.LargeScaleEvolution`; the driver's
NASWOT scorer, batch and init seeded by the run's seed), ``workers`` asynchronous training on Ray
(:mod:`nwot.search.async_run`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Mapping, Optional

from nwot.data.training import ImageData
from nwot.errors import NwotError, check_choice
from nwot.evaluators.train import PRESETS, TrainConfig
from nwot.search.loop import Budget, SearchResult, TraceRow
from nwot.search.lse import PAPER_POPULATION
from nwot.search.run import train_setup


@dataclass(frozen=True)
class LsePreset:
    """One LSE setting: how each individual is trained and how large the population is."""

    train_preset: str  # the training preset (nwot.evaluators.train.PRESETS) of one evaluation
    train: TrainConfig  # its config (lr / lr_min are replaced by the individual's gene)
    population_size: int  # initial trivial models (the paper: 1,000)
    evaluations: int  # default budget: trained models per run, the initial population included
    image: tuple = (3, 32, 32)  # input shape the genomes are validated against
    initial_lr: float = 0.1  # learning rate of the initial models (§3.2)
    note: str = field(default="", compare=False)  # where the numbers come from


LSE_PRESETS: Dict[str, LsePreset] = {
    "gpu": LsePreset("lse_gpu", PRESETS["lse_gpu"], population_size=PAPER_POPULATION, evaluations=10_000,
                     note="Real et al. 2017 §3.3: batch 50, 25,600 steps, momentum 0.9, weight decay 1e-4, "
                          "population 1,000"),
    "cpu_tiny": LsePreset("lse_cpu_tiny", PRESETS["lse_cpu_tiny"], population_size=20, evaluations=200,
                          note="the gpu recipe shrunk for a 2-core CPU: 80 steps per evaluation, population 20"),
}


def _split(overrides: Mapping[str, Any]):
    own = {k: v for k, v in overrides.items() if k in LsePreset.__dataclass_fields__}
    train = {k: v for k, v in overrides.items() if k not in own}
    bad = sorted(set(train) - set(TrainConfig.__dataclass_fields__))
    if bad:
        raise NwotError(f"unknown LSE preset override(s) {bad}; allowed: {sorted(LsePreset.__dataclass_fields__)} "
                        f"and the TrainConfig fields {sorted(TrainConfig.__dataclass_fields__)}")
    return own, train


def lse_preset(name: str, **overrides: Any) -> LsePreset:
    """A :data:`LSE_PRESETS` entry; ``overrides`` replace preset fields, or TrainConfig fields by name."""
    check_choice("LSE preset", name, LSE_PRESETS)
    p = LSE_PRESETS[name]
    own, train = _split(overrides)
    return replace(p, train=replace(p.train, **train), **own)


def run_lse(preset: str = "cpu_tiny", *, seed: int = 0, data: Optional[ImageData] = None, data_dir=None,
            inherit: bool = True, screen_threshold: Optional[float] = None, screen_tries: int = 8,
            evaluations: Optional[int] = None, seconds: Optional[float] = None,
            checkpoint_dir: Optional[os.PathLike] = None, overrides: Optional[Mapping[str, Any]] = None,
            test: Optional[ImageData] = None, test_images: Optional[int] = None,
            progress: Optional[Callable[[TraceRow], None]] = None, workers=None, address: Optional[str] = None,
            state=None) -> SearchResult:
    """One LSE search on the ``lse`` space with real training (train_setup + run).

    Budget: ``evaluations`` trained models and/or ``seconds`` of charged time (training + NASWOT scoring);
    neither given = the preset's ``evaluations``. The training (init, data split, batch order) and the NASWOT
    batch and init are seeded by ``seed``. ``checkpoint_dir`` makes a rerun replay finished candidates from
    disk and keeps every individual's trained weights under ``checkpoint_dir/weights`` (else in memory). With
    ``test`` (e.g. the CIFAR-10 test split; needs ``checkpoint_dir``), ``final["test_accuracy"]`` is the chosen
    individual's accuracy on its first ``test_images`` images (all when None). ``workers`` / ``address`` /
    ``state``: asynchronous training (:func:`nwot.search.run.run`).
    """
    p = lse_preset(preset, **dict(overrides or {}))
    _, train_overrides = _split(dict(overrides or {}))
    if test is not None and checkpoint_dir is None:
        raise NwotError("reporting the chosen individual's test accuracy reloads its trained weights: pass "
                        "checkpoint_dir")
    setup = train_setup("lse", preset=p.train_preset, train_overrides=train_overrides,
                        space_kwargs={"image": p.image, "initial_lr": p.initial_lr}, data=data, data_dir=data_dir,
                        checkpoint_dir=checkpoint_dir, test=test, test_images=0 if test is None else test_images,
                        inherit=inherit)
    if evaluations is None and seconds is None:
        evaluations = p.evaluations
    options = {"population_size": p.population_size, "screen_threshold": screen_threshold,
               "screen_tries": screen_tries}
    res = setup.run("lse", Budget(seconds=seconds, evaluations=evaluations), seed=seed, options=options,
                    progress=progress, workers=workers, address=address, state=state).runs[0]
    ev_cfg = res.config["search_evaluator"]
    res.config.update({"preset": preset, "train_config": ev_cfg["train_config"], "image": list(p.image),
                       "data": ev_cfg["data"]})
    return res
