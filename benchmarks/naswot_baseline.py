"""A straightforward NASWOT scorer, done the way the paper's released code does it: the perf baseline.

Mellor et al., "Neural Architecture Search without Training", ICML 2021, arXiv:2006.04647, §3; released
code BayesWatch/nas-without-training (``score_networks.py``): build the network for each sample, put it
in train mode, register a forward hook on every ReLU that turns the layer's activations into binary
codes ``c``, copies them to numpy and adds ``c cᵀ + (1 - c)(1 - c)ᵀ`` to a running kernel, run one
forward pass, take ``slogdet``. Nothing here is shared with ``nwot.proxies.naswot``.

It computes nwot's *clean* score (so the two can be compared number for number), which differs from the
released code only in which units count: every ``nn.ReLU`` call, code = output > 0, no gradient pre-pass
(the released code's extra rules are nwot's ``compat="reference"``). The kernel is accumulated in
float64 numpy, so it is exact (integers < 2^53) like nwot's. The network is nwot's NB201
``TinyNetwork`` (same weights for the same init seed) with PyTorch's own ``nn.AvgPool2d`` kernel, as
the released code uses, and the released code's node sums (``none`` edges multiplied in): nwot's
bit-identical shift-and-add pooling and its skipping of ``none`` edges are switched off here.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn


def _plain_cell_forward(cell, x):
    """The released code's node sums: every edge's output added, ``none`` edges (``x * 0``) included."""
    from nwot.spaces.nb201.model import EDGES, NUM_NODES

    nodes = [x]
    for i in range(1, NUM_NODES):
        terms = [layer(nodes[j]) for layer, (j, t) in zip(cell.layers, EDGES) if t == i]
        nodes.append(sum(terms[1:], terms[0]))
    return nodes[-1]


def build_network(arch, init_seed: int, num_classes: int = 10) -> nn.Module:
    """NB201 network of ``arch`` with ``torch.manual_seed(init_seed)`` init; ATen's ``nn.AvgPool2d`` and
    plain node sums (nwot's network skips ``none`` edges)."""
    import functools

    from nwot.spaces.nb201.model import InferCell, Pooling, build_nb201

    with torch.random.fork_rng():
        torch.manual_seed(init_seed)
        net = build_nb201(arch, num_classes=num_classes)
    for m in net.modules():
        if isinstance(m, Pooling):
            assert m.preprocess is None  # NB201 cells keep the width
            m.forward = m.op  # the plain nn.AvgPool2d module
        if isinstance(m, InferCell):
            m.forward = functools.partial(_plain_cell_forward, m)
    return net


def baseline_kernel(net: nn.Module, images: torch.Tensor) -> np.ndarray:
    """``K = Σ_ReLU calls c cᵀ + (1 - c)(1 - c)ᵀ`` in float64 numpy (one hook per nn.ReLU)."""
    batch = images.shape[0]
    K = np.zeros((batch, batch), dtype=np.float64)

    def hook(module, inputs, output):
        c = (output.detach().reshape(batch, -1) > 0).cpu().numpy().astype(np.float64)
        K[...] += c @ c.T + (1.0 - c) @ (1.0 - c).T

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    net.train()  # BatchNorm with batch statistics; NB201 has no dropout
    try:
        with torch.no_grad():
            net(images)
    finally:
        for h in handles:
            h.remove()
    return K


def baseline_score(arch, images: torch.Tensor, init_seed: int = 0, num_classes: int = 10,
                   device: str = "cpu") -> float:
    """Build ``arch`` (seeded), score it on ``images``: ``log |det K|``, -inf when slogdet's sign is 0."""
    net = build_network(arch, init_seed, num_classes).to(device)
    K = baseline_kernel(net, images.to(device))
    sign, logdet = np.linalg.slogdet(K)
    return float(logdet) if sign != 0 else float("-inf")
