"""grad_norm: the sum of the layers' gradient norms.

Abdelfattah et al., ICLR 2021, arXiv:2101.08134, §3 ("grad_norm")::

    grad_norm = Σ_{W ∈ conv, linear} ||∂L/∂W||_F,    L = mean cross-entropy on the batch

(the Frobenius norm per layer, summed over layers, as the released code does).
"""
from __future__ import annotations

from nwot.proxies._common import SUITE_ZERO_BATCH, ZERO_COST_NAS, layer_sum
from nwot.proxies.base import Direction, Needs, Proxy, finite_or_fail, register_proxy
from nwot.proxies.context import ce_pass


@register_proxy
class GradNorm(Proxy):
    __doc__ = __doc__
    version = 2  # 2: a cell without input->output path is status no_path, not a degenerate 0
    name = "grad_norm"
    direction = Direction.HIGHER
    needs = Needs(gradients=True, labels=True, batch_size=SUITE_ZERO_BATCH)
    paper = ZERO_COST_NAS
    equation = "grad_norm = Σ_{W∈conv,linear} ||∂L/∂W||_F"

    def compute(self, ctx, mode: str) -> float:
        p = ce_pass(ctx, self.batch_size)
        return finite_or_fail(layer_sum(p.names, lambda n: p.grads[n].double().norm()), "grad_norm")
