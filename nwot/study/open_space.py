"""PNAS vs REA vs random search vs BlockQNN on open cell spaces with real training, with and without
NASWOT pre-screening, at equal numbers of trained models.

Candidates are trained by :class:`nwot.evaluators.train.TrainEvaluator` and scored by held-out accuracy;
``<name>+naswot`` runs score a pool of ``factor`` x the proposals untrained (NASWOT, Mellor et al., ICML
2021) and train only the best (:mod:`nwot.search.prescreen`). :data:`PRESETS` holds the sizes: ``cpu``
(B = 2 blocks over 3 ops, 21 one-block cells + a beam of 3 = 24 trained models; BlockQNN blocks of <= 4
layers, 6 iterations) and ``gpu`` (the PNAS paper's B = 5, K = 256: 1,160 trained models; BlockQNN
blocks of <= 10 layers, 18 iterations of 64).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Dict

STRATEGIES = ("pnas", "rea", "random", "blockqnn", "random-blockqnn")


@dataclass(frozen=True)
class Preset:
    """One size of the comparison."""

    train: str  # nwot.evaluators.train.PRESETS name
    evaluations: int  # trained models per run
    pnas_space: Dict[str, Any]  # PNASCellSpace(**)
    pnas_beam: int  # PNAS beam K
    blockqnn_space: Dict[str, Any]  # BlockQNNSpace(**)
    blockqnn: Dict[str, Any]  # BlockQNN options (schedule: "scaled:<iterations>")
    build: Dict[str, Any]  # macro config for both networks (C = F filters, N per stage)
    test_images: int  # CIFAR-10 test images for the report (None = all)
    surrogate: Dict[str, Any] = field(default_factory=dict)  # PNAS surrogate_kwargs
    naswot_batch: int = 64  # images in the NASWOT scoring batch


PRESETS: Dict[str, Preset] = {
    "cpu": Preset(train="cpu_tiny", evaluations=24,
                  pnas_space=dict(num_blocks=2, ops=("sep_conv_3x3", "identity", "max_pool_3x3")),
                  pnas_beam=3, blockqnn_space=dict(max_layers=4),
                  blockqnn=dict(batch_size=4, replay_size=64, mu=0.01, rho=0.01,
                                schedule=((1.0, 2), (0.7, 1), (0.5, 1), (0.3, 1), (0.1, 1))),
                  build=dict(C=8, N=1), test_images=2000, surrogate=dict(epochs=100)),
    "gpu": Preset(train="pnas_proxy", evaluations=1160, pnas_space=dict(num_blocks=5), pnas_beam=256,
                  blockqnn_space=dict(max_layers=10),
                  blockqnn=dict(batch_size=64, replay_size=64, schedule="scaled:18", mu=0.01, rho=0.01),
                  build=dict(C=24, N=2), test_images=10_000, naswot_batch=128),
}


def space_of(name: str) -> str:
    """The space a strategy of the comparison searches: ``blockqnn`` for the BlockQNN pair, else ``pnas``."""
    return "blockqnn" if "blockqnn" in name else "pnas"


def strategy_options(name: str, preset: Preset):
    """``(registered strategy, options)`` of comparison strategy ``name`` under ``preset``."""
    from nwot.search.blockqnn import scaled_schedule

    if name == "pnas":
        return "pnas", dict(beam=preset.pnas_beam, surrogate="lstm", surrogate_kwargs=preset.surrogate)
    if name == "rea":
        return "rea", dict(population_size=10, sample_size=3)
    if name == "blockqnn":
        kwargs = dict(preset.blockqnn)
        if isinstance(kwargs["schedule"], str):  # "scaled:<iterations>": the paper's schedule shrunk
            kwargs["schedule"] = scaled_schedule(int(kwargs["schedule"].split(":")[1]))
        return "blockqnn", kwargs
    return "random", {}


def build_run(name: str, prescreen: int, preset: Preset, seed: int, spaces, evaluators, images):
    """(strategy, evaluator) of one run; ``prescreen`` > 0 wraps it in NASWOT pre-screening with that factor,
    scoring on ``images`` (batch seed 0, init seed 0, the networks built with ``preset.build``)."""
    from nwot.evaluators.proxy import ProxyEvaluator
    from nwot.scores.scorer import ScoreConfig
    from nwot.search import get_strategy
    from nwot.search.prescreen import NaswotScreen, Prescreened

    rng = random.Random(seed)
    space, evaluate = spaces[space_of(name)], evaluators[space_of(name)]
    inner, kwargs = strategy_options(name, preset)
    if not prescreen:
        return get_strategy(inner, space, rng, **kwargs), evaluate
    scorer = ProxyEvaluator(space, ScoreConfig(batch_size=len(images)), images=images, build_kwargs=preset.build)
    screen = NaswotScreen(scorer, space)
    st = Prescreened(space, rng, inner=inner, factor=prescreen, screen=screen, inner_kwargs=kwargs)
    return st, screen.charge(evaluate)


def summarise(df) -> Dict[str, Any]:
    """Per strategy label (first-seen order): space, runs, mean / std of each column, the best cells."""
    summary = {}
    for name, g in df.groupby("strategy", sort=False):
        summary[name] = {"space": g["space"].iloc[0], "runs": len(g),
                         **{k: {"mean": float(g[k].mean()), "std": float(g[k].std(ddof=0))}
                            for k in ("val_acc", "test_acc", "n_trained", "train_seconds", "screen_seconds",
                                      "wall_seconds", "distinct_cells")},
                         "best_cells": list(g["best_arch"])}
    return summary
