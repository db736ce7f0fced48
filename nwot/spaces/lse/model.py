"""The network of an LSE genome (Real et al., ICML 2017, §3.2): a DAG of activations joined by convolutions.

For each vertex ``v`` in topological order::

    y_v = act_v( P(x_p) + sum_{skip s -> v} R(x_s; shape of P(x_p)) )

where ``P`` is the primary edge (a ``Conv2d`` with "same" padding ``k // 2`` and no bias, or the identity),
``R`` reshapes a skip input to the primary one's shape (nearest-neighbour = zeroth-order interpolation of
height / width, then truncation or zero padding of channels, §3.2), and ``act_v`` is ``ReLU(BN(.))`` for
``"bn_relu"`` vertices and the identity for ``"linear"`` ones. The output vertex is averaged over space
and classified by one fully connected layer (the paper's §3 does not specify the head; global average
pooling is our choice: it keeps the classifier's shape independent of the strides, so it can be inherited).

Layers are named by the genome's persistent ids (``convs.e<edge id>``, ``bns.v<vertex id>``,
``relus.v<vertex id>``, ``head``), so weight inheritance can match a child's tensors to its parent's by name.
Every ``bn_relu`` vertex owns its own ``nn.ReLU`` module (NASWOT hooks count each once).

Initialisation (:func:`he_init`): convolutions ``N(0, 2 / fan_in)`` (He et al., ICCV 2015 — the paper's
reset-weights), the classifier ``N(0, 1 / fan_in)`` with zero bias, batch norm ``gamma = 1, beta = 0``; all
draws from a passed ``torch.Generator`` in parameter order.
"""
from __future__ import annotations

import math
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from nwot.spaces.lse.codec import CIFAR_SHAPE, INPUT, Genome, Shape, shapes, topological_order


def reshape_to(x: torch.Tensor, channels: int, height: int, width: int) -> torch.Tensor:
    """Skip-input reconciliation (§3.2): nearest-neighbour resize, then truncate / zero-pad the channels."""
    if x.shape[2:] != (height, width):
        x = F.interpolate(x, size=(height, width), mode="nearest")
    c = x.shape[1]
    if c > channels:
        x = x[:, :channels]
    elif c < channels:
        x = F.pad(x, (0, 0, 0, 0, 0, channels - c))
    return x


class LseNet(nn.Module):
    """``nn.Module`` of a (valid) :class:`~nwot.spaces.lse.codec.Genome`; see the module docstring."""

    def __init__(self, genome: Genome, num_classes: int = 10, image: Shape = CIFAR_SHAPE) -> None:
        super().__init__()
        shp = shapes(genome, image)  # validates
        self.genome = genome
        self.order = [v for v in topological_order(genome) if v != INPUT]
        self.shapes = shp
        self.convs = nn.ModuleDict()
        for e in genome.convs():
            c = e.conv
            self.convs[f"e{e.id}"] = nn.Conv2d(shp[e.src][0], c.channels, (c.kh, c.kw), stride=c.stride,
                                               padding=(c.kh // 2, c.kw // 2), bias=False)
        self.bns = nn.ModuleDict()
        self.relus = nn.ModuleDict()
        for v in genome.vertices:
            if v.act == "bn_relu":
                self.bns[f"v{v.id}"] = nn.BatchNorm2d(shp[v.id][0])
                self.relus[f"v{v.id}"] = nn.ReLU()
        self.head = nn.Linear(shp[genome.output][0], num_classes)
        self._plan = [(v, genome.primary(v), [e.src for e in genome.in_edges(v) if e.skip]) for v in self.order]
        self._acts = {v.id: v.act for v in genome.vertices}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        acts: Dict[int, torch.Tensor] = {INPUT: x}
        for v, prim, skips in self._plan:
            src = acts[prim.src]
            y = self.convs[f"e{prim.id}"](src) if prim.conv is not None else src
            for s in skips:
                y = y + reshape_to(acts[s], y.shape[1], y.shape[2], y.shape[3])
            if self._acts[v] == "bn_relu":
                y = self.relus[f"v{v}"](self.bns[f"v{v}"](y))
            acts[v] = y
        return self.head(acts[self.genome.output].mean(dim=(2, 3)))


def he_init(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-initialise ``model`` in place from ``generator`` (see the module docstring); returns it."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * math.sqrt(1.0 / m.in_features))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()  # gamma 1, beta 0, running mean 0 / var 1 (no randomness)
    return model


def build(genome: Genome, num_classes: int = 10, image: Shape = CIFAR_SHAPE,
          generator: Optional[torch.Generator] = None) -> LseNet:
    """:class:`LseNet` of ``genome``, He-initialised from ``generator`` when given (else torch's default init)."""
    net = LseNet(genome, num_classes, image)
    return he_init(net, generator) if generator is not None else net
