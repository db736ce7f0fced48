"""swap: the number of distinct sample-wise activation patterns (SWAP-Score).

Peng, Song, Fayek, Ciesielski & Chang, "SWAP-NAS: Sample-Wise Activation Patterns for Ultra-fast NAS",
ICLR 2024, arXiv:2403.04161, §3.2 Eq. 2-3. For a batch of ``S`` images, every ReLU unit ``v`` (every
output element of every ``nn.ReLU`` call, per image) has the sample-wise pattern
``p_v = (1[z_v(x_1) > 0], ..., 1[z_v(x_S) > 0]) ∈ {0,1}^S``; the score is the number of distinct ones::

    swap = | { p_v : v a ReLU unit } |             (at most min(#units, 2^S))

The regularised SWAP-Score (§3.3, ``swap · exp(-(params_k - μ)² / σ)`` with a space-specific μ, σ) is
:func:`nwot.proxies.population.swap_regularised`. Patterns are packed 63 samples per int64 and
counted with ``torch.unique``.
"""
from __future__ import annotations

from typing import List

import torch
import torch.nn as nn

from .base import Direction, Needs, Paper, Proxy, ProxyFailure, Status, register_proxy
from .context import bn_batch_statistics


def count_patterns(codes: torch.Tensor) -> int:
    """Distinct columns of the bool matrix ``codes`` (S samples, V units), i.e. distinct unit patterns."""
    s, v = codes.shape
    if v == 0:
        return 0
    cols = []
    for start in range(0, s, 63):
        block = codes[start:start + 63].to(torch.int64)
        weights = (2 ** torch.arange(block.shape[0], dtype=torch.int64, device=codes.device)).unsqueeze(1)
        cols.append((block * weights).sum(dim=0))
    packed = torch.stack(cols, dim=1)
    return int(torch.unique(packed, dim=0).shape[0]) if packed.shape[1] > 1 else int(torch.unique(packed).numel())


class _ReluCodes:
    def __init__(self, out: List[torch.Tensor]) -> None:
        self.out = out

    def __call__(self, module, inputs, output) -> None:
        if not bool(torch.isfinite(output.detach()).all()):
            raise ProxyFailure(Status.NAN, "a ReLU output is NaN / inf")
        self.out.append((output.detach() > 0).reshape(output.shape[0], -1))


@register_proxy
class Swap(Proxy):
    __doc__ = __doc__
    name = "swap"
    direction = Direction.HIGHER
    needs = Needs(batch_size=32)
    paper = Paper("Peng, Song, Fayek, Ciesielski & Chang", "SWAP-NAS: Sample-Wise Activation Patterns for "
                  "Ultra-fast NAS", "ICLR 2024", "2403.04161", "§3.2, Eq. 2-3")
    equation = "swap = |{(1[z_v(x_1)>0], ..., 1[z_v(x_S)>0]) : v ReLU units}|"

    def compute(self, ctx, mode: str) -> float:
        model = ctx.model
        codes: List[torch.Tensor] = []
        handles = [m.register_forward_hook(_ReluCodes(codes)) for m in model.modules() if isinstance(m, nn.ReLU)]
        try:
            with bn_batch_statistics(model), torch.no_grad():
                model(ctx.images(self.needs.batch_size))
        finally:
            for h in handles:
                h.remove()
        if not codes:
            raise ProxyFailure(Status.ERROR, "the model has no nn.ReLU module")
        return float(count_patterns(torch.cat(codes, dim=1)))
