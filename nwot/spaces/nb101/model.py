"""The NAS-Bench-101 network (Ying et al., ICML 2019, §2.2 and Fig. 1; official ``lib/model_builder.py``).

Macro skeleton, re-implemented from the official TensorFlow definition::

    stem:    ConvBnRelu(3 -> S, 3x3)                              S = stem_channels (benchmark: 128)
    stack 1: 3 cells, C = S
    MaxPool2d(2, 2)          (channels double: C = 2S)
    stack 2: 3 cells
    MaxPool2d(2, 2)          (C = 4S)
    stack 3: 3 cells
    head:    global average pool -> Linear(4S -> num_classes)

Cell with pruned matrix ``A`` (V vertices), input x of ``C_in`` channels, output ``C_out`` channels,
vertex widths ``c = compute_vertex_channels(C_in, C_out, A)``::

    in(t)  = sum_{1 <= s < t, A[s,t]} x_s[:c_t]  +  [A[0,t]] * proj_t(x)      proj_t = ConvBnRelu(C_in -> c_t, 1x1)
    x_t    = op_t(in(t))                                                      (conv: c_t -> c_t; maxpool keeps c_t)
    out    = concat_{t : A[t,V-1]} x_t  +  [A[0,V-1]] * proj_out(x)            (proj_out: C_in -> C_out)

``x_s[:c_t]`` drops the extra channel a vertex may carry from the uneven output split (official
``truncate``). With no interior vertex the output is ``proj_out(x)``.

``ConvBnRelu`` = Conv2d(bias=False) -> BatchNorm2d(affine) -> ``nn.ReLU`` module (the official
``conv_bn_relu``: no conv bias, BN with trainable beta and gamma, eps 1e-5, TF momentum 0.997 =
PyTorch momentum 0.003). Its class name has no "ReLU" substring, so the NASWOT reference scorer
(which hooks modules whose type name contains "ReLU") hooks exactly the ``nn.ReLU`` modules.

Initialisation (``init``): ``"naswot"`` = the NASWOT paper's and NASLib's PyTorch port (conv weights
``N(0, 2 / (k*k*C_out))``, BN 1 / 0, linear ``N(0, 0.01)`` with zero bias); ``"torch"`` = PyTorch
defaults. All randomness comes from the global torch RNG: wrap the build in ``nwot.seeding.torch_seed``.
"""
from __future__ import annotations

import math
from typing import List, Sequence

import torch
import torch.nn as nn

from nwot.errors import check_choice
from nwot.spaces.nb101.codec import CONV1X1, CONV3X3, MAXPOOL3X3, Spec, SpecLike, check_spec, to_spec

BN_MOMENTUM = 1.0 - 0.997  # official BN_MOMENTUM = 0.997 (TF decay) in PyTorch's convention
BN_EPSILON = 1e-5
INITS = ("naswot", "torch")
KERNEL = {CONV3X3: 3, CONV1X1: 1}


def compute_vertex_channels(c_in: int, c_out: int, matrix: Sequence[Sequence[int]]) -> List[int]:
    """Channels of every vertex of a pruned cell (official ``compute_vertex_channels``).

    ``c[0] = c_in``, ``c[V-1] = c_out``. The k vertices feeding the output split ``c_out``: each gets
    ``c_out // k`` and the first ``c_out % k`` of them (in vertex order) one more. Every other interior
    vertex v takes ``max(c[w])`` over its interior successors w, visited from V-3 down to 1.
    """
    n = len(matrix)
    c = [0] * n
    c[0], c[n - 1] = c_in, c_out
    if n == 2:
        return c
    k = sum(matrix[v][n - 1] for v in range(1, n - 1))
    if k == 0:
        raise ValueError(f"pruned NB101 cell with {n} vertices has no interior vertex feeding the output: {matrix!r}")
    base, extra = divmod(c_out, k)
    for v in range(1, n - 1):
        if matrix[v][n - 1]:
            c[v] = base + (1 if extra > 0 else 0)
            extra -= 1 if extra > 0 else 0
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            for w in range(v + 1, n - 1):
                if matrix[v][w]:
                    c[v] = max(c[v], c[w])
        if c[v] <= 0:
            raise ValueError(f"NB101 vertex {v} got {c[v]} channels for {matrix!r} (is the matrix pruned?)")
    return c


class ConvBnRelu(nn.Module):
    """``Conv2d(k x k, stride 1, 'same', bias=False) -> BN -> ReLU``; params ``k*k*C_in*C_out + 2*C_out``."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride=1, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=BN_EPSILON, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


def _vertex_op(op: str, channels: int) -> nn.Module:
    if op == MAXPOOL3X3:
        return nn.MaxPool2d(3, stride=1, padding=1)
    return ConvBnRelu(channels, channels, KERNEL[op])


class NB101Cell(nn.Module):
    """One module of the benchmark network (equations in the module docstring); ``spec`` must be pruned."""

    def __init__(self, spec: Spec, c_in: int, c_out: int) -> None:
        super().__init__()
        self.matrix = spec.matrix
        self.num_vertices = n = spec.num_vertices
        self.vertex_channels = compute_vertex_channels(c_in, c_out, spec.matrix)
        self.ops = nn.ModuleDict({str(t): _vertex_op(spec.ops[t], self.vertex_channels[t]) for t in range(1, n - 1)})
        self.proj = nn.ModuleDict({str(t): ConvBnRelu(c_in, self.vertex_channels[t], 1)
                                   for t in range(1, n) if spec.matrix[0][t]})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, A, c = self.num_vertices, self.matrix, self.vertex_channels
        states = [x]
        concat = []
        for t in range(1, n - 1):
            fan_in = [states[s][:, :c[t]] for s in range(1, t) if A[s][t]]
            if A[0][t]:
                fan_in.append(self.proj[str(t)](x))
            h = fan_in[0]
            for term in fan_in[1:]:
                h = h + term
            states.append(self.ops[str(t)](h))
            if A[t][n - 1]:
                concat.append(states[t])
        if not concat:
            return self.proj[str(n - 1)](x)
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if A[0][n - 1]:
            out = out + self.proj[str(n - 1)](x)
        return out


class NB101Network(nn.Module):
    """Stem, ``num_stacks`` stacks of ``cells_per_stack`` cells with max-pool downsampling, GAP, linear."""

    def __init__(self, spec: SpecLike, num_classes: int = 10, stem_channels: int = 128, num_stacks: int = 3,
                 cells_per_stack: int = 3, init: str = "naswot") -> None:
        super().__init__()
        check_choice("NB101 init", init, INITS)
        self.spec = check_spec(to_spec(spec))
        self.stem = ConvBnRelu(3, stem_channels, 3)
        layers: List[nn.Module] = []
        c = stem_channels
        for stack in range(num_stacks):
            c_out = c if stack == 0 else 2 * c
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2))
            for _ in range(cells_per_stack):
                layers.append(NB101Cell(self.spec, c, c_out))
                c = c_out
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)
        if init == "naswot":
            self._naswot_init()

    def _naswot_init(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(self.stem(x))
        return self.classifier(x.mean(dim=(2, 3)))


def build_nb101(spec: SpecLike, num_classes: int = 10, stem_channels: int = 128, num_stacks: int = 3,
                cells_per_stack: int = 3, init: str = "naswot") -> nn.Module:
    """The benchmark network for ``spec`` (pruned first; ``OutOfSpaceError`` if outside the space)."""
    return NB101Network(spec, num_classes=num_classes, stem_channels=stem_channels, num_stacks=num_stacks,
                        cells_per_stack=cells_per_stack, init=init)


# --------------------------------------------------------------------------------------------------
# Analytic parameter count (no torch). Learnable parameters only (BN running stats are buffers):
#   ConvBnRelu(a -> b, k x k) = k*k*a*b + 2b
#   cell(C_in -> C_out) = sum_{interior conv vertices t} (k_t^2 c_t^2 + 2 c_t)
#                       + sum_{t >= 1 with A[0,t]} (C_in c_t + 2 c_t)
#   total = stem (27 S + 2 S) + sum of the 9 cells + classifier (4S K + K)
# This is the official TensorFlow model's ``trainable_parameters``: e.g. the example notebook's
# Inception-like cell has 2,694,282 and the first tfrecord row 8,555,530 (tests check both).
# --------------------------------------------------------------------------------------------------


def cell_param_count(spec: Spec, c_in: int, c_out: int) -> int:
    c = compute_vertex_channels(c_in, c_out, spec.matrix)
    n = spec.num_vertices
    ops = sum(KERNEL[spec.ops[t]] ** 2 * c[t] * c[t] + 2 * c[t] for t in range(1, n - 1) if spec.ops[t] in KERNEL)
    proj = sum(c_in * c[t] + 2 * c[t] for t in range(1, n) if spec.matrix[0][t])
    return ops + proj


def nb101_param_count(spec: SpecLike, num_classes: int = 10, stem_channels: int = 128, num_stacks: int = 3,
                      cells_per_stack: int = 3) -> int:
    """Learnable parameters of :func:`build_nb101` = the official ``trainable_parameters`` (formula above)."""
    pruned = check_spec(to_spec(spec))
    total = 9 * 3 * stem_channels + 2 * stem_channels
    c = stem_channels
    for stack in range(num_stacks):
        c_out = c if stack == 0 else 2 * c
        for _ in range(cells_per_stack):
            total += cell_param_count(pruned, c, c_out)
            c = c_out
    return total + c * num_classes + num_classes
