"""The PNAS / NASNet CIFAR network built from one PNAS cell (:mod:`nwot.spaces.pnas.codec`).

Liu et al., "Progressive Neural Architecture Search", ECCV 2018, §3.2 and Fig. 2 (CIFAR): the same
cell is used for normal and reduction cells; on CIFAR the network is ::

    stem:    Conv3x3(3 -> stem_multiplier * F, bias=False) -> BN
    stage 1: N normal cells at F filters
    reduction cell (stride 2) at 2F
    stage 2: N normal cells at 2F
    reduction cell (stride 2) at 4F
    stage 3: N normal cells at 4F
    head:    ReLU -> global average pool -> Linear(-> num_classes)

(PNAS §5.1 searches with N = 2, F = 24; the released PNASNet-5 CIFAR model uses N = 6, F = 32;
NASNet's stem multiplier is 3.)

**Inside a cell** (NASNet conventions, Zoph et al., CVPR 2018, Appendix A): the two cell inputs are
first mapped to F channels, ``H^{c-1}`` by ReLU-Conv1x1-BN and ``H^{c-2}`` likewise, or by a
factorized reduction when the previous cell halved the resolution. Every op maps F -> F channels; in a
reduction cell the ops that read ``H^{c-2}`` or ``H^{c-1}`` use stride 2 (an identity then becomes a
factorized reduction), ops on earlier blocks stride 1. Ops:

* ``sep_conv_kxk``: (ReLU, depthwise kxk, pointwise 1x1, BN) twice, the first with the op's stride
  (NASNet applies separable convs twice); params ``2 (F k^2 + F^2 + 2F)``;
* ``conv_1x7_7x1``: ReLU, Conv 1x7, Conv 7x1, BN; params ``14 F^2 + 2F``;
* ``dil_conv_3x3``: ReLU, Conv 3x3 with dilation 2, BN (a full, not separable, conv as the paper's
  op list says "3x3 dilated convolution"); params ``9 F^2 + 2F``;
* ``identity``; ``avg_pool_3x3`` (count_include_pad=False), ``max_pool_3x3``: padding 1.

**Cell output.** PNAS concatenates the outputs of *all* B blocks: the authors' PNASNet-5 cell
(TF-slim ``pnasnet.py``, ``used_hiddenstates = [1, 1, 0, 0, 0, 0, 0]``, i.e. only the two cell inputs
are excluded; their PyTorch port has ``normal_concat = [2, 3, 4, 5, 6]``) concatenates block 2's output
although block 3 reads it. That is the default here (``concat="all"``); ``concat="unused"``
concatenates only the blocks no other block reads (NASNet's ``_combine_unused_states``, ENAS/DARTS-like).
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import torch
import torch.nn as nn

from nwot.errors import check_choice
from nwot.spaces.nb201.model import FactorizedReduce, ReLUConvBN
from nwot.spaces.pnas.codec import NUM_CELL_INPUTS, OPS, Block

CONCAT_MODES: Tuple[str, ...] = ("all", "unused")


class SepConv(nn.Module):
    """NASNet separable conv, applied twice: ``[ReLU, DWConv kxk (stride), PWConv 1x1, BN] x 2``."""

    def __init__(self, C: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        pad = kernel_size // 2
        layers: List[nn.Module] = []
        for s in (stride, 1):
            layers += [nn.ReLU(inplace=False),
                       nn.Conv2d(C, C, kernel_size, stride=s, padding=pad, groups=C, bias=False),
                       nn.Conv2d(C, C, 1, bias=False),
                       nn.BatchNorm2d(C)]
        self.op = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Conv1x7then7x1(nn.Module):
    """``ReLU -> Conv 1x7 (stride (1, s)) -> Conv 7x1 (stride (s, 1)) -> BN``."""

    def __init__(self, C: int, stride: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C, C, (1, 7), stride=(1, stride), padding=(0, 3), bias=False),
            nn.Conv2d(C, C, (7, 1), stride=(stride, 1), padding=(3, 0), bias=False),
            nn.BatchNorm2d(C),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


def make_op(name: str, C: int, stride: int) -> nn.Module:
    """The PNAS op ``name`` mapping C -> C channels with ``stride`` (see the module docstring)."""
    check_choice("PNAS op", name, OPS)
    if name.startswith("sep_conv_"):
        return SepConv(C, int(name[-1]), stride)
    if name == "conv_1x7_7x1":
        return Conv1x7then7x1(C, stride)
    if name == "dil_conv_3x3":
        return ReLUConvBN(C, C, 3, stride, 2, 2)
    if name == "identity":
        return nn.Identity() if stride == 1 else FactorizedReduce(C, C, 2)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    return nn.MaxPool2d(3, stride=stride, padding=1)


def concat_blocks(cell: Sequence[Block], mode: str = "all") -> List[int]:
    """Indices of the blocks whose outputs form the cell output (``"all"`` = PNAS; ``"unused"``)."""
    check_choice("concat mode", mode, CONCAT_MODES)
    if mode == "all":
        return list(range(len(cell)))
    read = {i - NUM_CELL_INPUTS for blk in cell for i in (blk[0], blk[2]) if i >= NUM_CELL_INPUTS}
    return [b for b in range(len(cell)) if b not in read]


class PNASCell(nn.Module):
    """One (normal or reduction) cell: ``H_b = op1(in1) + op2(in2)``, output = concat of chosen blocks."""

    def __init__(self, cell: Sequence[Block], C_prev_prev: int, C_prev: int, C: int, reduction: bool,
                 reduction_prev: bool, concat: str = "all") -> None:
        super().__init__()
        self.cell = tuple(tuple(b) for b in cell)
        self.reduction = reduction
        self.preprocess0 = (FactorizedReduce(C_prev_prev, C, 2) if reduction_prev
                            else ReLUConvBN(C_prev_prev, C, 1, 1, 0))
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0)
        ops = []
        for i1, o1, i2, o2 in self.cell:
            for i, o in ((i1, o1), (i2, o2)):
                stride = 2 if reduction and i < NUM_CELL_INPUTS else 1
                ops.append(make_op(o, C, stride))
        self.ops = nn.ModuleList(ops)
        self.concat = concat_blocks(self.cell, concat)
        self.multiplier = len(self.concat)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for b, (i1, _, i2, _) in enumerate(self.cell):
            states.append(self.ops[2 * b](states[i1]) + self.ops[2 * b + 1](states[i2]))
        return torch.cat([states[NUM_CELL_INPUTS + b] for b in self.concat], dim=1)


class PNASNet(nn.Module):
    """Stem, 3 stages of N normal cells with a reduction cell between stages, ReLU-GAP-linear head."""

    def __init__(self, cell: Sequence[Block], num_classes: int = 10, C: int = 24, N: int = 2,
                 stem_multiplier: int = 3, concat: str = "all") -> None:
        super().__init__()
        C_stem = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(3, C_stem, 3, padding=1, bias=False), nn.BatchNorm2d(C_stem))
        C_pp, C_p, C_curr = C_stem, C_stem, C
        reduction_prev = False
        cells = []
        for stage in range(3):
            kinds = ([True] if stage > 0 else []) + [False] * N
            for reduction in kinds:
                if reduction:
                    C_curr *= 2
                c = PNASCell(cell, C_pp, C_p, C_curr, reduction, reduction_prev, concat)
                cells.append(c)
                C_pp, C_p = C_p, c.multiplier * C_curr
                reduction_prev = reduction
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.ReLU(inplace=False)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_p, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        out = self.global_pooling(self.lastact(s1))
        return self.classifier(out.flatten(1))


def build_pnas_net(cell: Sequence[Block], num_classes: int = 10, C: int = 24, N: int = 2,
                   stem_multiplier: int = 3, concat: str = "all") -> PNASNet:
    """The CIFAR network of ``cell`` (defaults: PNAS's search-time N = 2, F = C = 24)."""
    return PNASNet(cell, num_classes=num_classes, C=C, N=N, stem_multiplier=stem_multiplier, concat=concat)
