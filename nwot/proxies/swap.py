"""swap: the number of distinct sample-wise activation patterns (SWAP-Score).

Peng, Song, Fayek, Ciesielski & Chang, "SWAP-NAS: Sample-Wise Activation Patterns for Ultra-fast NAS",
ICLR 2024, arXiv:2403.04161, §3.2 Eq. 2-3. For a batch of ``S`` images, every ReLU unit ``v`` (every
output element of every ``nn.ReLU`` call, per image) has the sample-wise pattern
``p_v = (1[z_v(x_1) > 0], ..., 1[z_v(x_S) > 0]) ∈ {0,1}^S``; the score is the number of distinct ones::

    swap = | { p_v : v a ReLU unit } |             (at most min(#units, 2^S))

Batch 16 (``--input_samples 16`` of the released ``correlation.py``). **mode="reference"**
(pym1024/SWAP ``correlation.py`` + ``src/metrics/swap.py``): the mean over 32 repeats, each on a fresh
copy re-initialised with conv / linear weights ``~ N(0, 1)`` (Zen-NAS's Gaussian init). Both modes hook
the ``nn.ReLU`` calls with 4-d inputs, as the released code.

The regularised SWAP-Score (§3.3, ``swap · exp(-(params_k - μ)² / σ)`` with a space-specific μ, σ) is
:func:`nwot.proxies.population.swap_regularised`. Patterns are packed 63 samples per int64 and
counted with ``torch.unique``.
"""
from __future__ import annotations

from typing import List

import torch
import torch.nn as nn

from nwot.proxies.base import Direction, Needs, Paper, Proxy, ProxyFailure, Status, register_proxy
from nwot.proxies.context import bn_batch_statistics
from nwot.proxies.inits import gaussian_init

SWAP_BATCH, SWAP_REPEATS = 16, 32


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
        if inputs[0].dim() != 4:
            return
        if not bool(torch.isfinite(output.detach()).all()):
            raise ProxyFailure(Status.NAN, "a ReLU output is NaN / inf")
        self.out.append((output.detach() > 0).reshape(output.shape[0], -1))


@register_proxy
class Swap(Proxy):
    __doc__ = __doc__
    name = "swap"
    direction = Direction.HIGHER
    fixed_batch = True
    needs = Needs(batch_size=SWAP_BATCH)
    mode_needs = {"reference": Needs(batch_size=SWAP_BATCH, alters_weights=True, init="gaussian x32")}
    modes = ("clean", "reference")
    paper = Paper("Peng, Song, Fayek, Ciesielski & Chang", "SWAP-NAS: Sample-Wise Activation Patterns for "
                  "Ultra-fast NAS", "ICLR 2024", "2403.04161", "§3.2, Eq. 2-3")
    equation = "swap = |{(1[z_v(x_1)>0], ..., 1[z_v(x_S)>0]) : v ReLU units}|"

    def compute(self, ctx, mode: str) -> float:
        x = ctx.images(SWAP_BATCH)
        if mode == "clean":
            return float(swap_of(ctx.model, x))
        g = ctx.generator("swap-init")
        return float(sum(swap_of(gaussian_init(ctx.fresh_model(), g), x) for _ in range(SWAP_REPEATS)) / SWAP_REPEATS)


def swap_of(model: nn.Module, x: torch.Tensor) -> int:
    """The SWAP count of ``model`` on ``x`` (BN on batch statistics; the model is restored afterwards)."""
    codes: List[torch.Tensor] = []
    handles = [m.register_forward_hook(_ReluCodes(codes)) for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        with bn_batch_statistics(model), torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    if not codes:
        raise ProxyFailure(Status.ERROR, "the model has no nn.ReLU module with 4-d inputs")
    return count_patterns(torch.cat(codes, dim=1))
