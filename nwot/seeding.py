"""Seeded torch randomness without touching the global RNG state (STYLE habit 10: own your randomness)."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from nwot.errors import check_int


@contextlib.contextmanager
def torch_seed(seed: int) -> Iterator[None]:
    """Run the block with torch's RNGs (CPU and every CUDA device) seeded by ``seed``, then restore them.

    Use it around model construction for a reproducible default init without leaving the global
    torch RNG changed (``torch.random.fork_rng``). Python's ``random`` and numpy are not touched.
    """
    check_int("seed", seed)
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield
