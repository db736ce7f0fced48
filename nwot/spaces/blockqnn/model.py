"""The BlockQNN CIFAR network: one searched block stacked in 3 stages with pooling between them.

Zhong et al., "Practical Block-wise Neural Network Architecture Generation", CVPR 2018, §3.1 and
Fig. 3 (CIFAR template): the block is repeated N times per stage, a pooling layer halves the
resolution between stages, and the number of filters doubles after each pooling; a linear softmax
classifier ends the network::

    stem:    Conv3x3(3 -> C, bias=False) -> BN                          (ours: a stem for the first block)
    stage 1: N blocks at C
    MaxPool 2x2, stride 2
    stage 2: N blocks at 2C
    MaxPool 2x2, stride 2
    stage 3: N blocks at 4C
    head:    ReLU -> global average pool -> Linear(4C -> num_classes)

**Inside a block** (layer codes of :mod:`nwot.spaces.blockqnn.codec`): node 0 is the block input,
projected to C channels by ReLU-Conv1x1-BN when its width differs (the first block of a stage).
Convolution layers are pre-activation ``ReLU -> Conv kxk (C out, same padding) -> BN``; pooling
layers use stride 1 and same padding (avg pooling without counting the padding) and keep the width;
identity keeps it; concat adds the two widths; elementwise add sums two inputs of equal width, and
when the widths differ (a concat output meeting a C-wide layer) each input that is not C wide is
first projected to C by ReLU-Conv1x1-BN. The block output concatenates the layers without successors
and, if that is not C wide, projects it to C with ReLU-Conv1x1-BN. The channel bookkeeping (the
projections) is ours; the paper does not spell it out.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import torch
import torch.nn as nn

from nwot.spaces.blockqnn.codec import ADD, AVG_POOL, CONCAT, CONV, IDENTITY, MAX_POOL, TERMINAL, Layer, output_layers
from nwot.spaces.nb201.model import ReLUConvBN


def _project(c_in: int, c_out: int) -> nn.Module:
    return nn.Identity() if c_in == c_out else ReLUConvBN(c_in, c_out, 1, 1, 0)


class BlockQNNBlock(nn.Module):
    """A block from its layer codes, ``C_in -> C`` channels, resolution kept."""

    def __init__(self, layers: Sequence[Layer], C_in: int, C: int) -> None:
        super().__init__()
        self.layers = tuple(tuple(l) for l in layers if l[1] != TERMINAL)
        self.input_proj = _project(C_in, C)
        width: Dict[int, int] = {0: C}
        ops: List[nn.Module] = []
        for i, t, k, p1, p2 in self.layers:
            if t == CONV:
                ops.append(ReLUConvBN(width[p1], C, k, 1, k // 2))
                width[i] = C
            elif t == MAX_POOL:
                ops.append(nn.MaxPool2d(k, stride=1, padding=k // 2))
                width[i] = width[p1]
            elif t == AVG_POOL:
                ops.append(nn.AvgPool2d(k, stride=1, padding=k // 2, count_include_pad=False))
                width[i] = width[p1]
            elif t == IDENTITY:
                ops.append(nn.Identity())
                width[i] = width[p1]
            elif t == ADD:
                if width[p1] == width[p2]:
                    ops.append(nn.ModuleList([nn.Identity(), nn.Identity()]))
                    width[i] = width[p1]
                else:
                    ops.append(nn.ModuleList([_project(width[p1], C), _project(width[p2], C)]))
                    width[i] = C
            elif t == CONCAT:
                ops.append(nn.Identity())
                width[i] = width[p1] + width[p2]
        self.ops = nn.ModuleList(ops)
        self.outputs = output_layers(layers)
        self.output_proj = _project(sum(width[i] for i in self.outputs), C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = {0: self.input_proj(x)}
        for op, (i, t, _, p1, p2) in zip(self.ops, self.layers):
            if t == ADD:
                h[i] = op[0](h[p1]) + op[1](h[p2])
            elif t == CONCAT:
                h[i] = torch.cat([h[p1], h[p2]], dim=1)
            else:
                h[i] = op(h[p1])
        out = h[self.outputs[0]] if len(self.outputs) == 1 else torch.cat([h[i] for i in self.outputs], dim=1)
        return self.output_proj(out)


class BlockQNNNet(nn.Module):
    """Stem, 3 stages of N blocks (C, 2C, 4C) with 2x2 max pooling between stages, ReLU-GAP-linear head."""

    def __init__(self, layers: Sequence[Layer], num_classes: int = 10, C: int = 32, N: int = 2) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        mods: List[nn.Module] = []
        c_prev = C
        for stage in range(3):
            width = C * 2 ** stage
            if stage > 0:
                mods.append(nn.MaxPool2d(2, stride=2))
            for _ in range(N):
                mods.append(BlockQNNBlock(layers, c_prev, width))
                c_prev = width
        self.body = nn.Sequential(*mods)
        self.lastact = nn.ReLU(inplace=False)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.global_pooling(self.lastact(self.body(self.stem(x))))
        return self.classifier(out.flatten(1))


def build_blockqnn_net(layers: Sequence[Layer], num_classes: int = 10, C: int = 32, N: int = 2) -> BlockQNNNet:
    """The CIFAR network of a BlockQNN block (defaults: C = 32 filters in stage 1, N = 2 blocks per stage; ours)."""
    return BlockQNNNet(layers, num_classes=num_classes, C=C, N=N)
