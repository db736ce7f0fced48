"""synflow: synaptic flow of the linearised network on an all-ones input.

Tanaka, Kunin, Yamins & Ganguli, "Pruning neural networks without any data by iteratively conserving
synaptic flow", NeurIPS 2020, arXiv:2006.05467, §5 Eq. 2 (``R = 1ᵀ (Π_l |θ^[l]|) 1``, saliency
``∂R/∂θ ⊙ θ``); as a network score in Abdelfattah et al., ICLR 2021, arXiv:2101.08134, §3::

    θ -> |θ| (every parameter and buffer),  BatchNorm removed,  float64,
    R = Σ_k f_k(1; |θ|)  on one all-ones input of the images' shape,
    synflow = Σ_{W ∈ conv, linear} Σ |W ⊙ ∂R/∂W|

It works on a fresh copy of the network (``|θ|`` and float64 alter the weights), so the model being
scored is untouched. Values span many orders of magnitude: NASLib stores ``log(synflow)``, a monotone
transform (the same ranking). The released code is the same computation; no reference mode.
"""
from __future__ import annotations

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from nwot.proxies._common import ZERO_COST_NAS, layer_sum
from nwot.proxies.base import Direction, Needs, Proxy, ProxyFailure, Status, finite_or_fail, register_proxy
from nwot.proxies.context import logits_of, prunable_layers


def bypass_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every BatchNorm module of ``model`` (in place) by ``nn.Identity`` and return ``model``."""
    for name, child in list(model.named_children()):
        if isinstance(child, _BatchNorm):
            setattr(model, name, nn.Identity())
        else:
            bypass_batchnorm(child)
    return model


@register_proxy
class Synflow(Proxy):
    __doc__ = __doc__
    version = 2  # 2: a cell without input->output path is status no_path, not a degenerate 0
    name = "synflow"
    direction = Direction.HIGHER
    needs = Needs(gradients=True, batch_size=1, input="ones", dtype="float64", bn="bypass", alters_weights=True)
    paper = ZERO_COST_NAS
    equation = "synflow = Σ_{W∈conv,linear} Σ |W ⊙ ∂(1ᵀ f(1; |θ|))/∂W|, BN off, float64"

    def compute(self, ctx, mode: str) -> float:
        model = bypass_batchnorm(ctx.fresh_model(torch.float64)).eval()
        with torch.no_grad():
            for t in list(model.parameters()) + list(model.buffers()):
                if t.is_floating_point():
                    t.abs_()
        x = torch.ones((1, *ctx.batch.images.shape[1:]), dtype=torch.float64, device=ctx.device)
        layers = prunable_layers(model)
        with torch.enable_grad():
            r = logits_of(model(x)).sum()
            grads = torch.autograd.grad(r, [m.weight for _, m in layers], allow_unused=True)
        if all(g is None for g in grads):
            raise ProxyFailure(Status.NO_PATH, "no weight receives synaptic flow")
        g = {n: (gr if gr is not None else torch.zeros_like(m.weight)) for (n, m), gr in zip(layers, grads)}
        w = dict(layers)
        v = finite_or_fail(layer_sum(list(w), lambda n: (w[n].weight.detach() * g[n]).abs()), "synflow")
        if v == 0:
            raise ProxyFailure(Status.NO_PATH, "no synaptic flow reaches the output (no input->output path)")
        return v
