"""The NASWOT authors' training augmentation applied to a scoring batch, to test whether it matters.

The released code scores each network on a minibatch of the CIFAR-10 *training loader*, i.e. after a
4-pixel zero-padded random crop and a random horizontal flip; nwot scores un-augmented images
(:func:`nwot.data.datasets.scoring_batch`). Per image: pad 4 pixels on each side of the *normalised*
image with ``pad_value`` (``"black"``: torchvision's ``RandomCrop(32, padding=4)`` pads the PIL image
with black, which normalises to ``-mean/std`` per channel; ``"zero"``: 0 after normalisation), take a
random 32x32 crop (offsets uniform in 0..8), flip horizontally with probability 0.5; all draws from
``numpy.random.default_rng(seed)``.
"""
from __future__ import annotations

import numpy as np
import torch

from nwot.errors import check_choice

PAD_VALUES = ("black", "zero")


def augment(images: torch.Tensor, seed: int, pad_value: str = "black") -> torch.Tensor:
    """Random 4-pixel-padded crop + horizontal flip of a normalised CIFAR-10 (B, 3, H, W) batch (see the module)."""
    from nwot.data.datasets import NORMALISATION

    check_choice("pad value", pad_value, PAD_VALUES)
    rng = np.random.default_rng(seed)
    b, c, h, w = images.shape
    if pad_value == "black":  # a black pixel after normalisation: (0 - mean) / std per channel
        norm = NORMALISATION["cifar10"]
        fill = -(torch.tensor(norm.mean, dtype=images.dtype) / torch.tensor(norm.std, dtype=images.dtype))
        fill = fill.view(1, c, 1, 1)
    else:
        fill = torch.zeros(1, c, 1, 1, dtype=images.dtype)
    padded = fill.expand(b, c, h + 8, w + 8).clone()
    padded[:, :, 4:4 + h, 4:4 + w] = images
    out = torch.empty_like(images)
    for i in range(b):
        y, x = rng.integers(0, 9, size=2)
        crop = padded[i, :, y:y + h, x:x + w]
        out[i] = torch.flip(crop, dims=(2,)) if rng.random() < 0.5 else crop
    return out


def score_cells(cells, images: torch.Tensor, table, *, init_seed: int = 0, progress: bool = True) -> np.ndarray:
    """Clean-mode NASWOT scores of NB201 ``cells`` (indices) on ``images``, each built under ``torch_seed(init_seed)``
    (the same scorer as :class:`nwot.scores.scorer.Scorer`, on a given batch)."""
    from tqdm import tqdm

    from nwot.scores.scorer import ScoreConfig, Scorer
    from nwot.spaces.base import get_space

    space = get_space("nb201")
    scorer = Scorer(space, ScoreConfig(init_seed=init_seed, device="cpu"), images=images)
    return np.array([scorer.score(space.decode(table.arch.iat[i]))
                     for i in tqdm(cells, desc="augmented batch", disable=not progress)])
