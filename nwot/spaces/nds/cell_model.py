"""Cell-based networks of the NDS CIFAR design spaces (Amoeba, DARTS, ENAS, NASNet, PNAS).

Radosavovic et al., "On Network Design Spaces for Visual Recognition", ICCV 2019 (NDS), NAS case study: the
five NAS cell spaces share one macro skeleton -- the DARTS CIFAR evaluation network (Liu et al., "DARTS",
ICLR 2019; NDS trained it with pycls ``models/nas``) -- and differ in the cell's op set and
number of nodes. For a genotype, width ``C`` and depth ``L``::

    stem:   Conv3x3(3 -> 3C, bias=False) -> BN
    cells:  L cells; cells L//3 and 2L//3 are *reduction* cells (stride 2, channels doubled)
    head:   global average pool -> Linear(C_last -> num_classes)

A cell takes the outputs ``s0, s1`` of the two previous cells, preprocesses them to ``C`` channels
(``s0``: FactorizedReduce if the previous cell reduced, else ReLU-Conv1x1-BN; ``s1``: ReLU-Conv1x1-BN),
then computes ``n`` nodes ``h_i = op_a(state[in_a]) + op_b(state[in_b])`` from the genotype's op list
``[(op_a, in_a), (op_b, in_b), ...]`` (``state = [s0, s1, h_0, h_1, ...]``) and outputs the channel
concatenation of ``state[k]`` for ``k`` in its concat list. In a reduction cell the ops reading ``s0``
or ``s1`` (input index < 2) have stride 2.

For scoring, the network is built without the auxiliary head and without drop-path (both only act
during training; the NDS ``aux`` / ``drop_prob`` settings are ignored here).

Ops (DARTS ``operations.py`` / pycls ``models/nas/operations.py`` semantics): see :data:`OPS`.
Every ReLU is an out-of-place ``nn.ReLU`` module (the NASWOT scorer hooks them). Class names follow
pycls where the NASWOT reference scorer's "class name contains ReLU" rule matters: only
``ReLUConvBN`` (the preprocessing) carries "ReLU" in its name; the plain conv ops, which pycls wrote
as ``nn.Sequential``, are :class:`ActConvBN` / :class:`SpatialSepConv`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Tuple

import torch
import torch.nn as nn

from nwot.errors import NwotError, OutOfSpaceError
from nwot.spaces.nb201.model import FactorizedReduce, ReLUConvBN, Zero

#: Input states of a cell that come from outside it (``s0`` = cell k-2, ``s1`` = cell k-1).
NUM_CELL_INPUTS = 2
#: Channel multiplier of the stem (DARTS ``stem_multiplier``).
STEM_MULTIPLIER = 3


# --------------------------------------------------------------------------------------------------
# Ops. Each factory maps (C, stride) -> module with C input and C output channels.
# --------------------------------------------------------------------------------------------------


class SepConv(nn.Module):
    """``sep_conv_kxk``: twice ``ReLU -> depthwise kxk -> pointwise 1x1 -> BN``; only the first has the stride.

    Parameters: ``2 * (k*k*C + C*C + 2C)``.
    """

    def __init__(self, C: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C, C, kernel_size, stride=stride, padding=pad, groups=C, bias=False),
            nn.Conv2d(C, C, 1, bias=False),
            nn.BatchNorm2d(C),
            nn.ReLU(inplace=False),
            nn.Conv2d(C, C, kernel_size, stride=1, padding=pad, groups=C, bias=False),
            nn.Conv2d(C, C, 1, bias=False),
            nn.BatchNorm2d(C),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DilConv(nn.Module):
    """``dil_conv_kxk``: ``ReLU -> depthwise kxk (dilation 2) -> pointwise 1x1 -> BN``.

    Parameters: ``k*k*C + C*C + 2C``. Padding ``k - 1`` keeps the size at stride 1.
    """

    def __init__(self, C: int, kernel_size: int, stride: int, dilation: int = 2) -> None:
        super().__init__()
        pad = dilation * (kernel_size - 1) // 2
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C, C, kernel_size, stride=stride, padding=pad, dilation=dilation, groups=C, bias=False),
            nn.Conv2d(C, C, 1, bias=False),
            nn.BatchNorm2d(C),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DilSepConv(nn.Module):
    """``dil_sep_conv_3x3`` (AmoebaNet): :class:`SepConv` with both depthwise convs dilated by 2.

    Parameters: ``2 * (9C + C*C + 2C)``.
    """

    def __init__(self, C: int, kernel_size: int, stride: int, dilation: int = 2) -> None:
        super().__init__()
        pad = dilation * (kernel_size - 1) // 2
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C, C, kernel_size, stride=stride, padding=pad, dilation=dilation, groups=C, bias=False),
            nn.Conv2d(C, C, 1, bias=False),
            nn.BatchNorm2d(C),
            nn.ReLU(inplace=False),
            nn.Conv2d(C, C, kernel_size, stride=1, padding=pad, dilation=dilation, groups=C, bias=False),
            nn.Conv2d(C, C, 1, bias=False),
            nn.BatchNorm2d(C),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class ActConvBN(nn.Module):
    """``conv_1x1`` / ``conv_3x3`` (NASNet space): ``ReLU -> Conv kxk -> BN``. Parameters: ``k*k*C*C + 2C``."""

    def __init__(self, C: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C, C, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(C),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class SpatialSepConv(nn.Module):
    """``conv_3x1_1x3`` / ``conv_7x1_1x7``: ``ReLU -> Conv 1xk (stride (1, s)) -> Conv kx1 (stride (s, 1)) -> BN``.

    Parameters: ``2*k*C*C + 2C``.
    """

    def __init__(self, C: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C, C, (1, kernel_size), stride=(1, stride), padding=(0, pad), bias=False),
            nn.Conv2d(C, C, (kernel_size, 1), stride=(stride, 1), padding=(pad, 0), bias=False),
            nn.BatchNorm2d(C),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


def _skip(C: int, stride: int) -> nn.Module:
    return nn.Identity() if stride == 1 else FactorizedReduce(C, C, 2)


def _avg_pool(k: int) -> Callable[[int, int], nn.Module]:
    return lambda C, stride: nn.AvgPool2d(k, stride=stride, padding=k // 2, count_include_pad=False)


def _max_pool(k: int) -> Callable[[int, int], nn.Module]:
    return lambda C, stride: nn.MaxPool2d(k, stride=stride, padding=k // 2)


#: Op name (as in NDS genotypes) -> factory ``(C, stride) -> nn.Module`` mapping C -> C channels.
#: ``none`` outputs zeros (subsampled at stride 2); ``skip_connect`` at stride 2 is a FactorizedReduce.
#: Pools are parameter-free (average pools exclude the padding from the count).
OPS: Dict[str, Callable[[int, int], nn.Module]] = {
    "none": lambda C, stride: Zero(C, C, stride),
    "skip_connect": _skip,
    "avg_pool_3x3": _avg_pool(3),
    "avg_pool_5x5": _avg_pool(5),
    "max_pool_3x3": _max_pool(3),
    "max_pool_5x5": _max_pool(5),
    "max_pool_7x7": _max_pool(7),
    "conv_1x1": lambda C, stride: ActConvBN(C, 1, stride),
    "conv_3x3": lambda C, stride: ActConvBN(C, 3, stride),
    "conv_3x1_1x3": lambda C, stride: SpatialSepConv(C, 3, stride),
    "conv_7x1_1x7": lambda C, stride: SpatialSepConv(C, 7, stride),
    "sep_conv_3x3": lambda C, stride: SepConv(C, 3, stride),
    "sep_conv_5x5": lambda C, stride: SepConv(C, 5, stride),
    "sep_conv_7x7": lambda C, stride: SepConv(C, 7, stride),
    "dil_conv_3x3": lambda C, stride: DilConv(C, 3, stride),
    "dil_conv_5x5": lambda C, stride: DilConv(C, 5, stride),
    "dil_sep_conv_3x3": lambda C, stride: DilSepConv(C, 3, stride),
}

#: Op set of each NDS cell space (the candidate ops of NASNet, AmoebaNet, PNAS, ENAS
#: and DARTS as NDS sampled them; pycls ``models/nas/genotypes.py`` lists the same names) and its
#: number of cell nodes (two ops each).
SPACE_OPS: Dict[str, Tuple[str, ...]] = {
    "NASNet": ("skip_connect", "conv_3x1_1x3", "conv_7x1_1x7", "dil_conv_3x3", "avg_pool_3x3", "max_pool_3x3",
               "max_pool_5x5", "max_pool_7x7", "conv_1x1", "conv_3x3", "sep_conv_3x3", "sep_conv_5x5",
               "sep_conv_7x7"),
    "Amoeba": ("skip_connect", "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7", "avg_pool_3x3", "max_pool_3x3",
               "dil_sep_conv_3x3", "conv_7x1_1x7"),
    "PNAS": ("sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7", "conv_7x1_1x7", "skip_connect", "avg_pool_3x3",
             "max_pool_3x3", "dil_conv_3x3"),
    "ENAS": ("skip_connect", "sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3"),
    "DARTS": ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
              "dil_conv_3x3", "dil_conv_5x5"),
}
SPACE_NODES: Dict[str, int] = {"NASNet": 5, "Amoeba": 5, "PNAS": 5, "ENAS": 5, "DARTS": 4}


# --------------------------------------------------------------------------------------------------
# Genotype
# --------------------------------------------------------------------------------------------------

Edge = Tuple[str, int]


@dataclass(frozen=True)
class Genotype:
    """A cell-space architecture, NDS ``net['genotype']`` (DARTS ``Genotype`` namedtuple)."""

    normal: Tuple[Edge, ...]  # (op, input state) pairs, two per node, node by node
    normal_concat: Tuple[int, ...]  # states concatenated into the normal cell's output
    reduce: Tuple[Edge, ...]  # same for the reduction cell
    reduce_concat: Tuple[int, ...]

    @property
    def num_nodes(self) -> int:
        return len(self.normal) // 2


GENOTYPE_KEYS = ("normal", "normal_concat", "reduce", "reduce_concat")


def _check_cell(name: str, edges: Any, concat: Any, reduction: bool) -> Tuple[Tuple[Edge, ...], Tuple[int, ...]]:
    if not isinstance(edges, (list, tuple)) or not edges or len(edges) % 2:
        raise OutOfSpaceError(f"genotype {name!r} must be a non-empty list of [op, input] pairs, two per node; "
                              f"got {edges!r}")
    out: List[Edge] = []
    for k, pair in enumerate(edges):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise OutOfSpaceError(f"genotype {name}[{k}] must be an [op, input] pair, got {pair!r}")
        op, src = pair
        if op not in OPS:
            raise OutOfSpaceError(f"unknown op {op!r} in genotype {name}[{k}]; allowed: {', '.join(OPS)}")
        node = k // 2
        if isinstance(src, bool) or not isinstance(src, int) or not 0 <= src < NUM_CELL_INPUTS + node:
            raise OutOfSpaceError(f"genotype {name}[{k}] input {src!r} out of range: node {node} may read states "
                                  f"0..{NUM_CELL_INPUTS + node - 1} (0, 1 = the two previous cells)")
        out.append((op, src))
    n_states = NUM_CELL_INPUTS + len(edges) // 2
    if not isinstance(concat, (list, tuple)) or not concat:
        raise OutOfSpaceError(f"genotype {name}_concat must be a non-empty list of state indices, got {concat!r}")
    lo = NUM_CELL_INPUTS if reduction else 0
    for c in concat:
        if isinstance(c, bool) or not isinstance(c, int) or not lo <= c < n_states:
            raise OutOfSpaceError(f"genotype {name}_concat entry {c!r} out of range; allowed {lo}..{n_states - 1}"
                                  + (" (a reduction cell cannot output its unreduced inputs)" if reduction else ""))
    return tuple(out), tuple(concat)


def parse_genotype(g: Any) -> Genotype:
    """Validate an NDS genotype dict (``normal``, ``normal_concat``, ``reduce``, ``reduce_concat``).

    ``normal`` / ``reduce`` are lists of ``[op, input]`` pairs; node ``i`` (0-based) owns pairs ``2i``,
    ``2i+1`` and may read states ``0 .. i+1``. Raises :class:`OutOfSpaceError` naming the bad entry.
    """
    if isinstance(g, Genotype):
        g = {k: getattr(g, k) for k in GENOTYPE_KEYS}
    if not isinstance(g, Mapping):
        raise OutOfSpaceError(f"a genotype must be a dict with keys {', '.join(GENOTYPE_KEYS)}; got {g!r}")
    missing = [k for k in GENOTYPE_KEYS if k not in g]
    extra = [k for k in g if k not in GENOTYPE_KEYS]
    if missing or extra:
        raise OutOfSpaceError(f"genotype keys must be exactly {', '.join(GENOTYPE_KEYS)}; "
                              f"missing {missing}, unexpected {extra}")
    normal, normal_concat = _check_cell("normal", g["normal"], g["normal_concat"], reduction=False)
    reduce, reduce_concat = _check_cell("reduce", g["reduce"], g["reduce_concat"], reduction=True)
    return Genotype(normal, normal_concat, reduce, reduce_concat)


# --------------------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------------------


class Cell(nn.Module):
    """One normal or reduction cell (module docstring)."""

    def __init__(self, genotype: Genotype, C_prev_prev: int, C_prev: int, C: int, reduction: bool,
                 reduction_prev: bool) -> None:
        super().__init__()
        if C % 2:
            raise NwotError(f"cell width {C} must be even (FactorizedReduce splits it in two halves)")
        self.preprocess0 = (FactorizedReduce(C_prev_prev, C, 2) if reduction_prev
                            else ReLUConvBN(C_prev_prev, C, 1, 1, 0))
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0)
        edges, concat = ((genotype.reduce, genotype.reduce_concat) if reduction
                         else (genotype.normal, genotype.normal_concat))
        self.reduction = reduction
        self._inputs = tuple(src for _, src in edges)
        self._concat = tuple(concat)
        self._ops = nn.ModuleList(
            OPS[op](C, 2 if reduction and src < NUM_CELL_INPUTS else 1) for op, src in edges
        )
        self.multiplier = len(concat)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(len(self._ops) // 2):
            a, b = 2 * i, 2 * i + 1
            states.append(self._ops[a](states[self._inputs[a]]) + self._ops[b](states[self._inputs[b]]))
        return torch.cat([states[k] for k in self._concat], dim=1)


def reduction_layers(depth: int) -> Tuple[int, int]:
    """Indices of the two reduction cells: ``depth // 3`` and ``2 * depth // 3`` (DARTS ``NetworkCIFAR``)."""
    return depth // 3, 2 * depth // 3


class NetworkCIFAR(nn.Module):
    """The DARTS / NDS CIFAR network for a genotype (module docstring); ``forward`` returns the logits."""

    def __init__(self, genotype: Genotype, C: int, depth: int, num_classes: int = 10) -> None:
        super().__init__()
        for name, value in (("width", C), ("depth", depth), ("num_classes", num_classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise NwotError(f"NDS cell network {name} must be a positive int, got {value!r}")
        self.genotype = genotype
        C_curr = STEM_MULTIPLIER * C
        self.stem = nn.Sequential(nn.Conv2d(3, C_curr, 3, padding=1, bias=False), nn.BatchNorm2d(C_curr))
        C_prev_prev, C_prev, C_curr = C_curr, C_curr, C
        reductions = reduction_layers(depth)
        cells: List[Cell] = []
        reduction_prev = False
        for i in range(depth):
            reduction = i in reductions
            if reduction:
                C_curr *= 2
            cell = Cell(genotype, C_prev_prev, C_prev, C_curr, reduction, reduction_prev)
            cells.append(cell)
            reduction_prev = reduction
            C_prev_prev, C_prev = C_prev, cell.multiplier * C_curr
        self.cells = nn.ModuleList(cells)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(self.global_pooling(s1).flatten(1))


def build_nds_cell(genotype: Any, width: int, depth: int, num_classes: int = 10) -> nn.Module:
    """The NDS CIFAR network of ``genotype`` (a :class:`Genotype` or NDS genotype dict) at ``width``, ``depth``.

    Weights are PyTorch's default init from the global torch RNG; wrap the call in
    ``nwot.seeding.torch_seed(seed)`` for a reproducible init.
    """
    return NetworkCIFAR(parse_genotype(genotype), width, depth, num_classes)


def build_from_net(net: Mapping[str, Any], num_classes: int = 10) -> nn.Module:
    """Build from an NDS record's ``net`` dict (``genotype``, ``width``, ``depth``; ``aux``, ``drop_prob`` ignored)."""
    check_cell_net(net)
    return build_nds_cell(net["genotype"], net["width"], net["depth"], num_classes)


#: Keys of a cell-space ``net`` config in the NDS files (NNI's NDS importer reads the same keys).
CELL_NET_KEYS = ("genotype", "width", "depth", "aux", "drop_prob")


def check_cell_net(net: Any) -> Genotype:
    """Validate a cell-space ``net`` dict; returns its genotype. Unknown or missing keys raise."""
    if not isinstance(net, Mapping):
        raise OutOfSpaceError(f"an NDS cell net config must be a dict, got {type(net).__name__}: {net!r}")
    missing = [k for k in ("genotype", "width", "depth") if k not in net]
    extra = [k for k in net if k not in CELL_NET_KEYS]
    if missing or extra:
        raise OutOfSpaceError(f"NDS cell net config needs keys genotype, width, depth (optional aux, drop_prob); "
                              f"missing {missing}, unexpected {extra}")
    for key in ("width", "depth"):
        v = net[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise OutOfSpaceError(f"NDS cell net {key} must be a positive int, got {v!r}")
    if net["width"] % 2:
        raise OutOfSpaceError(f"NDS cell net width must be even (FactorizedReduce halves), got {net['width']}")
    return parse_genotype(net["genotype"])


def param_count(model: nn.Module) -> int:
    """Number of learnable parameters (BN running statistics are buffers, not counted)."""
    return sum(p.numel() for p in model.parameters())


__all__ = ["OPS", "SPACE_OPS", "SPACE_NODES", "Genotype", "parse_genotype", "Cell", "NetworkCIFAR",
           "build_nds_cell", "build_from_net", "check_cell_net", "reduction_layers", "param_count",
           "SepConv", "DilConv", "DilSepConv", "ActConvBN", "SpatialSepConv"]
