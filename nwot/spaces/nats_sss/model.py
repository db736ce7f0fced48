"""The NATS-Bench size-space network (config ``infer.shape.tiny``, AutoDL ``DynamicShapeTinyNet``).

Dong et al., "NATS-Bench", TPAMI 2021, §3.2. One fixed cell (:data:`~nwot.spaces.nats_sss.codec.FIXED_CELL`),
one cell per stage, and a searched width per layer ``channels = (c0, c1, c2, c3, c4)``::

    stem:    Conv3x3(3 -> c0, bias=False) -> BN
    layer 0: InferCell(c0 -> c0)
    layer 1: ResNetBasicblock(c0 -> c1, stride 2)
    layer 2: InferCell(c1 -> c2)
    layer 3: ResNetBasicblock(c2 -> c3, stride 2)
    layer 4: InferCell(c3 -> c4)
    head:    BN -> ReLU -> global average pool -> Linear(c4 -> num_classes)

Inside a cell, edges leaving the cell input map ``C_in -> C_out`` (``skip_connect`` becomes
``Conv1x1 -> BN`` when the width changes), all other edges ``C_out -> C_out``. The building blocks are
the NB201 ones (:mod:`nwot.spaces.nb201.model`). In general ``len(channels) = 3N + 2`` gives N cells per stage;
the benchmark uses N = 1.
"""
from __future__ import annotations

from typing import Sequence

import torch.nn as nn

from nwot.errors import NwotError
from nwot.spaces import nats_sss
from nwot.spaces.nb201.model import CellNetwork


class ShapeTinyNetwork(CellNetwork):
    """The SSS macro network (module docstring); ``forward`` returns the logits."""

    def __init__(self, channels: Sequence[int], num_classes: int = 10, cell: str = nats_sss.FIXED_CELL) -> None:
        channels = [int(c) for c in channels]
        if len(channels) % 3 != 2 or any(c < 1 for c in channels):
            raise NwotError(f"shape network needs 3N+2 positive channel counts, got {channels!r}")
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
            raise NwotError(f"num_classes must be a positive int, got {num_classes!r}")
        n = len(channels) // 3
        reductions = [False] * n + [True] + [False] * n + [True] + [False] * n
        c_in = [channels[0]] + channels[:-1]
        layers = [("reduce" if red else "cell", a, b) for a, b, red in zip(c_in, channels, reductions)]
        super().__init__(channels[0], layers, cell, num_classes)
        self.channels = tuple(channels)


def build_nats_sss(arch: nats_sss.ArchLike, num_classes: int = 10) -> nn.Module:
    """The benchmark's network for an SSS config (``"c0:c1:c2:c3:c4"`` or 5 channel counts).

    Weights come from PyTorch's default init on the global torch RNG; wrap the call in
    ``nwot.seeding.torch_seed(seed)`` for a reproducible init.
    """
    return ShapeTinyNetwork(nats_sss.to_arch(arch), num_classes=num_classes)


def count_params(arch: nats_sss.ArchLike, num_classes: int = 10) -> int:
    """Learnable parameters of :func:`build_nats_sss` (BN: weight + bias = 2c), analytically::

        cell(a -> b)  = 18ab + 27b^2 + 10b + [a != b](ab + 2b)
                        (3x3 convs a->b twice, b->b three times, skip a->b = Conv1x1+BN iff a != b)
        block(a -> b) = 10ab + 9b^2 + 4b          (ResNetBasicblock, stride 2)
        total = 29 c0 + cell(c0,c0) + block(c0,c1) + cell(c1,c2) + block(c2,c3) + cell(c3,c4)
                + 2 c4 + (c4 + 1) K

    The benchmark's ``params`` is this / 1e6 (MB).
    """
    c0, c1, c2, c3, c4 = nats_sss.to_arch(arch)

    def cell(a: int, b: int) -> int:
        return 18 * a * b + 27 * b * b + 10 * b + (a * b + 2 * b if a != b else 0)

    def block(a: int, b: int) -> int:
        return 10 * a * b + 9 * b * b + 4 * b

    return (29 * c0 + cell(c0, c0) + block(c0, c1) + cell(c1, c2) + block(c2, c3) + cell(c3, c4)
            + 2 * c4 + (c4 + 1) * num_classes)
