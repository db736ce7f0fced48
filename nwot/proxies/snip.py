"""snip: connection sensitivity summed over the network.

Lee, Ajanthan & Torr, "SNIP", ICLR 2019, arXiv:1810.02340, §4.1 Eq. 6 (saliency ``|∂L/∂c_j|`` of a
connection mask ``c`` at ``c = 1``, i.e. ``|θ_j ∂L/∂θ_j|``), summed unnormalised over all conv / linear
weights as Abdelfattah et al., ICLR 2021, §3 do (the paper's normalisation by ``Σ_k |g_k|`` would make
every network score 1)::

    snip = Σ_{W ∈ conv, linear} Σ |W ⊙ ∂L/∂W|,    L = mean cross-entropy on the batch

The released code (zero-cost-nas / NASLib) multiplies the weights by a ones-mask and reads the mask's
gradient, which is the same number; no reference mode is needed.
"""
from __future__ import annotations

from nwot.proxies._common import SUITE_ZERO_BATCH, ZERO_COST_NAS, layer_sum
from nwot.proxies.base import Direction, Needs, Proxy, finite_or_fail, register_proxy
from nwot.proxies.context import ce_pass


@register_proxy
class Snip(Proxy):
    __doc__ = __doc__
    version = 2  # 2: a cell without input->output path is status no_path, not a degenerate 0
    name = "snip"
    direction = Direction.HIGHER
    needs = Needs(gradients=True, labels=True, batch_size=SUITE_ZERO_BATCH)
    paper = ZERO_COST_NAS
    equation = "snip = Σ_{W∈conv,linear} Σ |W ⊙ ∂L/∂W|, L = cross-entropy"

    def compute(self, ctx, mode: str) -> float:
        p = ce_pass(ctx, self.batch_size)
        return finite_or_fail(layer_sum(p.names, lambda n: (p.weights[n].detach() * p.grads[n]).abs()), "snip")
