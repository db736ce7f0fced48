"""grasp: gradient signal preservation, ``-θ ⊙ H g`` summed over the network.

Wang, Zhang & Grosse, "Picking Winning Tickets Before Training by Preserving Gradient Flow" (GraSP),
ICLR 2020, arXiv:2002.07376, §4 Eq. 8 (``S(-θ) = -θ ⊙ H g``); as a network score in Abdelfattah et al.,
ICLR 2021, arXiv:2101.08134, §3::

    grasp = -Σ_{W ∈ conv, linear} Σ W ⊙ (H g)_W,   g = ∂L/∂W (detached),  H g = ∂(gᵀ ∂L/∂W)/∂W

with ``L`` the mean cross-entropy on the batch (temperature 1, one iteration, as the released code).
The Hessian-vector product takes a second forward with ``create_graph``; the gradient ``g`` comes from
the shared cross-entropy pass (same batch, same BatchNorm statistics).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from nwot.proxies._common import SUITE_ZERO_BATCH, ZERO_COST_NAS, layer_sum
from nwot.proxies.base import Direction, Needs, Proxy, finite_or_fail, register_proxy
from nwot.proxies.context import bn_batch_statistics, ce_pass, logits_of


@register_proxy
class Grasp(Proxy):
    __doc__ = __doc__
    version = 2  # 2: a cell without input->output path is status no_path, not a degenerate 0
    name = "grasp"
    direction = Direction.HIGHER
    needs = Needs(gradients=True, labels=True, batch_size=SUITE_ZERO_BATCH)
    paper = ZERO_COST_NAS
    equation = "grasp = -Σ_{W∈conv,linear} Σ W ⊙ (H ∂L/∂W)"

    def compute(self, ctx, mode: str) -> float:
        n = self.batch_size
        p = ce_pass(ctx, n)
        model = ctx.model
        weights = [p.weights[k] for k in p.names]
        with bn_batch_statistics(model), torch.enable_grad():
            loss = F.cross_entropy(logits_of(model(ctx.images(n))), ctx.labels(n))
            grad_f = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
            z = sum((p.grads[k].detach() * gf).sum() for k, gf in zip(p.names, grad_f) if gf is not None)
            hg = torch.autograd.grad(z, weights, allow_unused=True)
        hgd = {k: (h if h is not None else torch.zeros_like(w)) for k, w, h in zip(p.names, weights, hg)}
        return finite_or_fail(-layer_sum(p.names, lambda k: p.weights[k].detach() * hgd[k]), "grasp")
