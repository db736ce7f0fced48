"""Parameters and FLOPs of every NB201 network, from nwot's builder and counters (no benchmark needed).

NATS-Bench convention (Dong et al., TPAMI 2021, the ``params`` / ``flop`` fields of every record):
``params`` = all parameters / 1e6 ("MB"), ``flops`` = multiply-accumulates of the convolutions and the
classifier plus the classifier's bias additions, per image / 1e6 ("MFLOPs"); BatchNorm, ReLU, pooling and
additions are not counted. That is :func:`nwot.spaces.complexity.count_flops` (conv + linear MACs) plus
``out_features`` per bias-carrying ``nn.Linear`` (:func:`nats_flops`); on the three NATS records staged
(indices 0, 11, 284; 3 datasets) it equals the record's ``flop`` to 1e-9 MFLOPs.

Decomposition. Every NB201 network is the fixed skeleton (stem, two residual reductions, head) plus 15
cells (5 per stage) whose edge ``e`` carries op ``o_e``; an edge's module does not depend on the other
edges, so for a size measure ``m`` (params or FLOPs, both sums over modules)::

    m(arch) = m(all-none) + sum_e [m(one_edge(e, o_e)) - m(all-none)]

where ``one_edge(e, o)`` is the all-``none`` cell with op ``o`` on edge ``e``. :func:`edge_table` builds the
1 + 6 x 4 networks that define the terms; :func:`size_of` evaluates the sum (exact integers), and
:func:`check_decomposition` compares it with a direct count of built networks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Sequence, Tuple

import torch.nn as nn

from nwot.errors import NwotError, check_choice
from nwot.seeding import torch_seed
from nwot.spaces.complexity import count_flops, count_params
from nwot.spaces.nb201.codec import EDGES, OPS, ArchLike, to_arch
from nwot.spaces.nb201.model import build_nb201

#: (num_classes, input H = W) of each dataset's NB201 network (cifar10-valid trains the cifar10 net).
NETWORKS: Dict[str, Tuple[int, int]] = {"cifar10": (10, 32), "cifar10-valid": (10, 32), "cifar100": (100, 32),
                                        "ImageNet16-120": (120, 16)}


def nats_flops(model: nn.Module, image_size: int) -> int:
    """NATS-Bench FLOPs of one image: conv + linear MACs (:func:`count_flops`) + one add per linear bias output."""
    bias = sum(m.out_features for m in model.modules() if isinstance(m, nn.Linear) and m.bias is not None)
    return count_flops(model, (3, image_size, image_size)) + bias


def measure(arch: ArchLike, dataset: str) -> Tuple[int, int]:
    """``(parameters, FLOPs)`` of the built network of ``arch`` for ``dataset`` (integers, direct count)."""
    check_choice("dataset", dataset, NETWORKS)
    classes, size = NETWORKS[dataset]
    with torch_seed(0):  # the init does not change the counts; seeded only so building draws no global state
        model = build_nb201(to_arch(arch), num_classes=classes)
    return count_params(model), nats_flops(model, size)


@dataclass(frozen=True)
class EdgeTable:
    """The terms of the decomposition (module docstring) for one dataset's network."""

    dataset: str
    base: Tuple[int, int]  # (params, FLOPs) of the all-none network
    extra: Dict[Tuple[int, str], Tuple[int, int]]  # (edge position, op) -> added (params, FLOPs)


def edge_table(dataset: str) -> EdgeTable:
    """Build the all-``none`` network and the 6 x 4 one-edge networks of ``dataset`` and count them."""
    base = measure(("none",) * len(EDGES), dataset)
    extra = {}
    for e in range(len(EDGES)):
        for op in OPS[1:]:
            arch = tuple(op if k == e else "none" for k in range(len(EDGES)))
            p, f = measure(arch, dataset)
            extra[(e, op)] = (p - base[0], f - base[1])
    return EdgeTable(dataset, base, extra)


def size_of(table: EdgeTable, arch: ArchLike) -> Tuple[int, int]:
    """``(parameters, FLOPs)`` of ``arch`` by the decomposition: base + the extra of each edge's op."""
    p, f = table.base
    for e, op in enumerate(to_arch(arch)):
        if op != "none":
            dp, df = table.extra[(e, op)]
            p, f = p + dp, f + df
    return p, f


def check_decomposition(table: EdgeTable, archs: Sequence[ArchLike]) -> None:
    """Raise unless the decomposition equals a direct count of the built network for every arch given."""
    for a in archs:
        direct, summed = measure(a, table.dataset), size_of(table, a)
        if direct != summed:
            raise NwotError(f"NB201 size decomposition fails for {a!r} on {table.dataset}: built network "
                            f"(params, FLOPs) = {direct}, decomposition {summed}")
