"""plain: the first-order Taylor term of the loss, summed with its sign.

Mozer & Smolensky, "Skeletonization", NeurIPS 1989 (the saliency ``θ ∂L/∂θ``); as a network score in
Abdelfattah et al., ICLR 2021, arXiv:2101.08134, §3 ("plain")::

    plain = Σ_{W ∈ conv, linear} Σ W ⊙ ∂L/∂W,    L = mean cross-entropy on the batch
"""
from __future__ import annotations

from nwot.proxies._common import SUITE_ZERO_BATCH, ZERO_COST_NAS, layer_sum
from nwot.proxies.base import Direction, Needs, Proxy, finite_or_fail, register_proxy
from nwot.proxies.context import ce_pass


@register_proxy
class Plain(Proxy):
    __doc__ = __doc__
    version = 2  # 2: a cell without input->output path is status no_path, not a degenerate 0
    name = "plain"
    direction = Direction.HIGHER
    needs = Needs(gradients=True, labels=True, batch_size=SUITE_ZERO_BATCH)
    paper = ZERO_COST_NAS
    equation = "plain = Σ_{W∈conv,linear} Σ W ⊙ ∂L/∂W"

    def compute(self, ctx, mode: str) -> float:
        p = ce_pass(ctx, self.batch_size)
        return finite_or_fail(layer_sum(p.names, lambda n: p.weights[n].detach() * p.grads[n]), "plain")
