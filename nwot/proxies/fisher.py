"""fisher: the summed Fisher channel saliency of every conv / linear output.

Theis, Korshunova, Tejani & Huszár, "Faster gaze prediction with dense networks and Fisher pruning",
2018, arXiv:1801.05787, §2.2 Eq. 4 (and Turner et al., BlockSwap, ICLR 2020); as a network score in
Abdelfattah et al., ICLR 2021, arXiv:2101.08134, §3. For each conv / linear layer with output
activations ``a`` (before BatchNorm) and their loss gradients ``g = ∂L/∂a``::

    Δ_c    = ½ · mean_b ( Σ_{h,w} a_bchw g_bchw )²         (one value per output channel c)
    fisher = Σ_layers Σ_c Δ_c                               (clean)

**mode="reference"** (zero-cost-nas / NASLib ``fisher.py``): each channel's Δ_c is broadcast to every
weight of that channel and the weights are summed, so a channel counts ``fan_in = C_in·k_h·k_w`` times:
``fisher = Σ_layers Σ_c fan_in_l · Δ_c``. The activations and gradients are those of the shared
cross-entropy pass in both modes.
"""
from __future__ import annotations

import math

from nwot.proxies._common import SUITE_ZERO_BATCH, ZERO_COST_NAS, layer_sum
from nwot.proxies.base import Direction, Needs, Proxy, finite_or_fail, register_proxy
from nwot.proxies.context import ce_pass


@register_proxy
class Fisher(Proxy):
    __doc__ = __doc__
    version = 2  # 2: a cell without input->output path is status no_path, not a degenerate 0
    name = "fisher"
    direction = Direction.HIGHER
    needs = Needs(gradients=True, labels=True, batch_size=SUITE_ZERO_BATCH)
    paper = ZERO_COST_NAS
    equation = "fisher = Σ_l Σ_c ½ mean_b(Σ_hw a·∂L/∂a)²  (reference: × fan_in)"
    modes = ("clean", "reference")

    def compute(self, ctx, mode: str) -> float:
        p = ce_pass(ctx, self.batch_size)
        if mode == "reference":
            fan = {k: math.prod(p.weights[k].shape[1:]) for k in p.names}
            return finite_or_fail(layer_sum(p.names, lambda k: p.fisher[k] * fan[k]), "fisher")
        return finite_or_fail(layer_sum(p.names, lambda k: p.fisher[k]), "fisher")
