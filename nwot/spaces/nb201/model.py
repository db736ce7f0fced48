"""The NAS-Bench-201 network: a cell-based ``TinyNetwork`` (config ``infer.tiny``).

Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible NAS", ICLR 2020, §2.1 and Fig. 1;
the benchmark trained exactly this macro skeleton (AutoDL-Projects ``TinyNetwork`` + ``InferCell``)::

    stem:   Conv3x3(3 -> C, bias=False) -> BN
    stage 1: N cells at C
    ResNetBasicblock(C -> 2C, stride 2)
    stage 2: N cells at 2C
    ResNetBasicblock(2C -> 4C, stride 2)
    stage 3: N cells at 4C
    head:   BN -> ReLU -> global average pool -> Linear(4C -> num_classes)

A cell is a DAG on 4 nodes: ``node_i = sum_{j<i} op_ji(node_j)``; the cell output is node 3.
Defaults C = 16, N = 5 are the benchmark's.

Module names follow AutoDL (``stem``, ``cells``, ``lastact``, ``classifier``; ``ReLUConvBN.op``;
``ResNetBasicblock.conv_a/conv_b/downsample``; ``InferCell.layers`` in arch-string edge order), so a
benchmark ``net_state_dict`` loads with ``load_state_dict``. Every ReLU is an ``nn.ReLU`` module
(the NASWOT scorer hooks them), and the conv container is a class named ``ReLUConvBN``: the NASWOT
authors' reference scorer hooks every module whose class name contains "ReLU", so that name is part
of reproducing their numbers. All ReLUs are out-of-place (``inplace=False``); the function is the same.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Tuple

import torch
import torch.nn as nn

from nwot.errors import NwotError
from nwot.spaces.nb201.codec import EDGES, NUM_NODES, ArchLike, to_arch
from nwot.spaces.nb201.pooling import avg_pool_3x3, pool_method

Size = Tuple[int, int]


class ReLUConvBN(nn.Module):
    """``ReLU -> Conv(bias=False) -> BN(affine, track_running_stats)`` (NB201 ``nor_conv_kxk``).

    Parameters: ``C_in * C_out * k_h * k_w`` (conv) ``+ 2 * C_out`` (BN weight and bias).
    """

    def __init__(self, C_in: int, C_out: int, kernel_size, stride, padding, dilation=1) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(C_out, affine=True, track_running_stats=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class ResNetBasicblock(nn.Module):
    """Residual reduction block between stages (He et al., CVPR 2016; NB201 §2.1).

    ``y = conv_b(conv_a(x)) + shortcut(x)`` with ``conv_a = ReLUConvBN(C_in, C_out, 3, stride, 1)``,
    ``conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1)``; the shortcut is ``AvgPool2d(2, 2) -> Conv1x1(bias=False)``
    when ``stride == 2``, a bare ``Conv1x1`` when only the width changes, and the identity otherwise.
    Parameters at stride 2: ``9*C_in*C_out + 2*C_out + 9*C_out**2 + 2*C_out + C_in*C_out``.
    """

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise NwotError(f"ResNetBasicblock stride {stride!r} not supported; allowed: 1, 2")
        self.conv_a = ReLUConvBN(C_in, C_out, 3, stride, 1, 1)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1, 1)
        if stride == 2:
            self.downsample: nn.Module = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(C_in, C_out, kernel_size=1, stride=1, padding=0, bias=False),
            )
        elif C_in != C_out:
            self.downsample = ReLUConvBN(C_in, C_out, 1, 1, 0, 1)
        else:
            self.downsample = nn.Identity()
        self.in_dim, self.out_dim, self.stride = C_in, C_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.downsample(x)


class Zero(nn.Module):
    """NB201 ``none``: the zero tensor of the op's output shape (``x * 0`` when the shape is kept)."""

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.C_in == self.C_out:
            return x.mul(0.0)
        shape = list(x.shape)
        shape[1] = self.C_out
        return x.new_zeros(shape)


class FactorizedReduce(nn.Module):
    """``skip_connect`` when the shape changes (never inside NB201 cells; NATS size space cells).

    stride 1: ``Conv1x1(C_in -> C_out, bias=False) -> BN``.
    stride 2: ``ReLU`` then two stride-2 1x1 convs on ``x`` and on ``x`` shifted by one pixel,
    concatenated to ``C_out`` channels, then ``BN`` (Liu et al., DARTS, ICLR 2019).
    """

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        if stride == 2:
            self.relu = nn.ReLU(inplace=False)
            halves = (C_out // 2, C_out - C_out // 2)
            self.convs = nn.ModuleList(nn.Conv2d(C_in, c, 1, stride=2, padding=0, bias=False) for c in halves)
            self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0.0)
        elif stride == 1:
            self.conv = nn.Conv2d(C_in, C_out, 1, stride=1, padding=0, bias=False)
        else:
            raise NwotError(f"FactorizedReduce stride {stride!r} not supported; allowed: 1, 2")
        self.bn = nn.BatchNorm2d(C_out, affine=True, track_running_stats=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 2:
            x = self.relu(x)
            y = self.pad(x)
            out = torch.cat([self.convs[0](x), self.convs[1](y[:, :, 1:, 1:])], dim=1)
        else:
            out = self.conv(x)
        return self.bn(out)


class Pooling(nn.Module):
    """NB201 ``avg_pool_3x3``: ``AvgPool2d(3, stride, pad 1, count_include_pad=False)``.

    Parameter-free when ``C_in == C_out``; otherwise a ``ReLUConvBN`` 1x1 first adapts the width. At
    stride 1 on the CPU with autograd off (scoring), the bit-identical :func:`avg_pool_3x3` replaces
    ATen's kernel where it measured faster (``nwot.spaces.nb201.pooling.pool_choice``; force with
    ``NWOT_POOL_METHOD``); training and other devices use ``nn.AvgPool2d``.
    """

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.preprocess = None if C_in == C_out else ReLUConvBN(C_in, C_out, 1, 1, 0, 1)
        self.op = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preprocess is not None:
            x = self.preprocess(x)
        if (self.op.stride == 1 and x.dim() == 4 and x.device.type == "cpu" and x.dtype == torch.float32
                and not (torch.is_grad_enabled() and x.requires_grad) and _shift_add_is_faster()):
            return avg_pool_3x3(x)
        return self.op(x)


def _shift_add_is_faster() -> bool:
    return pool_method() == "shift_add"  # measured once per process


def _skip(C_in: int, C_out: int, stride: int) -> nn.Module:
    return nn.Identity() if stride == 1 and C_in == C_out else FactorizedReduce(C_in, C_out, stride)


#: NB201 op name -> factory ``(C_in, C_out, stride) -> nn.Module`` (names as in ``nwot.spaces.nb201.codec.OPS``).
OPERATIONS: Dict[str, Callable[[int, int, int], nn.Module]] = {
    "none": Zero,
    "skip_connect": _skip,
    "nor_conv_1x1": lambda C_in, C_out, stride: ReLUConvBN(C_in, C_out, 1, stride, 0, 1),
    "nor_conv_3x3": lambda C_in, C_out, stride: ReLUConvBN(C_in, C_out, 3, stride, 1, 1),
    "avg_pool_3x3": Pooling,
}


class InferCell(nn.Module):
    """An NB201 cell with fixed ops: ``node_0 = x``, ``node_i = sum_{j<i} op_ji(node_j)``, output ``node_3``.

    Edges leaving node 0 map ``C_in -> C_out``; all other edges map ``C_out -> C_out`` (stride 1).
    ``layers[k]`` is the op of edge ``EDGES[k]`` (arch-string order).
    """

    def __init__(self, arch_ops: ArchLike, C_in: int, C_out: int) -> None:
        super().__init__()
        self.arch = to_arch(arch_ops)
        self.layers = nn.ModuleList(
            OPERATIONS[op](C_in if j == 0 else C_out, C_out, 1) for (j, _i), op in zip(EDGES, self.arch)
        )
        self.in_dim, self.out_dim = C_in, C_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Node sums skip ``none`` edges (``Zero``) when another edge enters the node: adding ``x * 0``
        changes at most the sign of a zero, which no later op turns into a different non-zero value and
        no ReLU code distinguishes, so every ``nn.ReLU`` sees the same codes (the tests compare the logits
        bit for bit). The one difference: an inf or NaN entering only through a ``none`` edge no longer
        turns the node into NaN. A node fed by ``none`` edges only is the zero tensor, as before."""
        nodes: List[torch.Tensor] = [x]
        for i in range(1, NUM_NODES):
            terms, zero = [], None
            for layer, (j, t) in zip(self.layers, EDGES):
                if t != i:
                    continue
                if isinstance(layer, Zero):
                    zero = (layer, nodes[j])
                    continue
                terms.append(layer(nodes[j]))
            if not terms:
                terms = [zero[0](zero[1])]
            nodes.append(sum(terms[1:], terms[0]))
        return nodes[-1]


class CellNetwork(nn.Module):
    """The macro skeleton shared by the NB201 topology and NATS size networks (AutoDL ``TinyNetwork`` /
    ``DynamicShapeTinyNet``): ``Conv3x3 -> BN`` stem of ``c_stem`` channels, then ``layers`` in order --
    ``("cell", c_in, c_out)`` = :class:`InferCell` with ``cell_ops``, ``("reduce", c_in, c_out)`` =
    :class:`ResNetBasicblock` with stride 2 -- then ``BN -> ReLU -> global average pool -> Linear``.

    Modules are created (and default-initialised from the torch RNG) in that order.
    """

    def __init__(self, c_stem: int, layers: Sequence[Tuple[str, int, int]], cell_ops: ArchLike,
                 num_classes: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, c_stem, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c_stem),
        )
        self.cells = nn.ModuleList(ResNetBasicblock(a, b, 2) if kind == "reduce" else InferCell(cell_ops, a, b)
                                   for kind, a, b in layers)
        c_last = layers[-1][2] if layers else c_stem
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_last), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_last, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        x = self.global_pooling(self.lastact(x))
        return self.classifier(x.flatten(1))


class TinyNetwork(CellNetwork):
    """The NB201 macro network (module docstring); ``forward`` returns the logits."""

    def __init__(self, arch_ops: ArchLike, num_classes: int = 10, C: int = 16, N: int = 5) -> None:
        for name, value in (("num_classes", num_classes), ("C", C), ("N", N)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise NwotError(f"NB201 network {name} must be a positive int, got {value!r}")
        arch = to_arch(arch_ops)
        layers: List[Tuple[str, int, int]] = []
        for stage, width in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                layers.append(("reduce", width // 2, width))
            layers.extend(("cell", width, width) for _ in range(N))
        super().__init__(C, layers, arch, num_classes)
        self.arch = arch


def build_nb201(arch: ArchLike, num_classes: int = 10, C: int = 16, N: int = 5) -> nn.Module:
    """The benchmark's network for ``arch`` (anything :func:`nwot.spaces.nb201.codec.to_arch` accepts).

    Weights are initialised by PyTorch's defaults from the global torch RNG; wrap the call in
    ``nwot.seeding.torch_seed(seed)`` for a reproducible init.
    """
    return TinyNetwork(arch, num_classes=num_classes, C=C, N=N)


# --------------------------------------------------------------------------------------------------
# Analytic parameter count (no torch).
#
# Learnable parameters only (BN running statistics are buffers). With BN = 2c (weight + bias):
#   ReLUConvBN(a -> b, k x k)        = k*k*a*b + 2b
#   cell at width c                  = n3 * (9c^2 + 2c) + n1 * (c^2 + 2c)
#       n3 / n1 = number of nor_conv_3x3 / nor_conv_1x1 edges (none, skip, avg_pool: 0 params;
#       edges whose input is unreachable still exist and are counted, as in the benchmark)
#   ResNetBasicblock(a -> b, s = 2)  = (9ab + 2b) + (9b^2 + 2b) + ab = 10ab + 9b^2 + 4b
#   total = stem (27C + 2C) + N * sum_{c in C,2C,4C} cell(c) + block(C,2C) + block(2C,4C)
#           + lastact BN (2 * 4C) + classifier (4C * K + K)
# e.g. index 0 (n1 = 2, n3 = 0), C = 16, N = 5, K = 10: 464 + 56,000 + 14,464 + 57,600 + 128 + 650
# = 129,306 = the benchmark's 0.129306 MB.
# --------------------------------------------------------------------------------------------------


def _relu_conv_bn_params(c_in: int, c_out: int, k: int) -> int:
    return k * k * c_in * c_out + 2 * c_out


def _basicblock_params(c_in: int, c_out: int) -> int:
    return _relu_conv_bn_params(c_in, c_out, 3) + _relu_conv_bn_params(c_out, c_out, 3) + c_in * c_out


def nb201_param_count(arch: ArchLike, num_classes: int = 10, C: int = 16, N: int = 5) -> int:
    """Number of learnable parameters of :func:`build_nb201` (formula in the comment above).

    NB201's ``params`` column is this divided by 1e6 ("MB"), except for ~1.5 % of cells where the
    benchmark averaged records of different sizes (see shared data MANIFEST §1.3).
    """
    ops = to_arch(arch)
    n3, n1 = ops.count("nor_conv_3x3"), ops.count("nor_conv_1x1")
    widths = (C, 2 * C, 4 * C)
    cells = N * sum(n3 * _relu_conv_bn_params(c, c, 3) + n1 * _relu_conv_bn_params(c, c, 1) for c in widths)
    stem = 3 * 9 * C + 2 * C
    blocks = _basicblock_params(C, 2 * C) + _basicblock_params(2 * C, 4 * C)
    head = 2 * 4 * C + 4 * C * num_classes + num_classes
    return stem + cells + blocks + head
