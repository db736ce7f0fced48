"""benchmarks/nb201_augmented_batch.py: the augmentation is a padded random crop + optional flip."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

from nwot.data.datasets import NORMALISATION, scoring_batch

REPO = Path(__file__).resolve().parents[2]


def _script(monkeypatch):
    spec = importlib.util.spec_from_file_location("aug_script", REPO / "benchmarks" / "nb201_augmented_batch.py")
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # as `python benchmarks/x.py` does: finds _common
    monkeypatch.setitem(sys.modules, spec.name, mod)
    spec.loader.exec_module(mod)
    return mod


def test_each_image_is_a_crop_of_the_black_padded_image_possibly_flipped(monkeypatch):
    mod = _script(monkeypatch)
    x = scoring_batch("cifar10", 16, seed=0)
    xa = mod.augment(x, seed=3)
    assert xa.shape == x.shape and not torch.equal(xa, x)
    norm = NORMALISATION["cifar10"]
    black = -(torch.tensor(norm.mean) / torch.tensor(norm.std)).view(3, 1, 1)
    flips = 0
    for i in range(16):
        padded = black.expand(3, 40, 40).clone()
        padded[:, 4:36, 4:36] = x[i]
        hits = [(y, z, f) for y in range(9) for z in range(9) for f in (False, True)
                if torch.equal(xa[i], torch.flip(padded[:, y:y + 32, z:z + 32], dims=(2,)) if f
                               else padded[:, y:y + 32, z:z + 32])]
        assert hits, i
        flips += hits[0][2]
    assert 0 < flips < 16  # both flipped and unflipped images occur
    assert torch.equal(mod.augment(x, seed=3), xa)  # seeded
