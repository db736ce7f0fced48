"""TE-NAS: the NTK condition number and the number of linear regions.

Chen, Gong & Wang, "Neural Architecture Search on ImageNet in Four GPU Hours: A Theoretically Inspired
Perspective", ICLR 2021, arXiv:2102.11535, §3.1-3.2.

* **te_nas_ntk** (§3.1, Eq. 3): with ``g_i = ∂(Σ_k f_k(x_i))/∂θ_w`` the gradient of sample ``i``'s summed
  logits w.r.t. every ``weight`` parameter (conv, BN, linear; full-batch forward, BN on batch
  statistics), the empirical NTK ``Θ = G Gᵀ`` (B × B) and::

      κ = λ_max(Θ) / λ_min(Θ)        (lower is better; a singular Θ, λ_min ≤ 0, is +inf, status singular)

* **te_nas_lr** (§3.2): the number of distinct ReLU activation patterns (all ``nn.ReLU`` outputs of
  4-d inputs, concatenated) over a batch of ``N(0, 1)`` inputs: how many linear regions the batch
  falls into (higher is better; at most B).

TE-NAS ranks a population by ``rank(-κ) + rank(LR)``: :func:`nwot.proxies.population.te_nas_aggregate`.
Batch 32 for both, the protocol of the VKDNW / AZ-NAS NB201 harness (the TE-NAS repository counts
linear regions on a thinned C=1, N=1 network with 1,000 inputs of 3×3 pixels, which a generic
builder cannot reproduce; on the full network and 32 inputs the count is usually 32).
"""
from __future__ import annotations

import math
from typing import List

import numpy as np
import torch
import torch.nn as nn

from nwot.proxies.base import Direction, Needs, Paper, Proxy, ProxyFailure, Status, finite_or_fail, register_proxy
from nwot.proxies.context import bn_batch_statistics, logits_of

PAPER = Paper("Chen, Gong & Wang", "Neural Architecture Search on ImageNet in Four GPU Hours: A Theoretically "
              "Inspired Perspective", "ICLR 2021", "2102.11535", "§3.1-3.2")
TE_BATCH = 32


def ntk_condition(grads: torch.Tensor) -> float:
    """``λ_max / λ_min`` of ``Θ = G Gᵀ`` for per-sample gradient rows ``G`` (B, P)."""
    g = grads.double()
    lam = torch.linalg.eigvalsh(g @ g.T)
    if not float(lam[0]) > 0:
        raise ProxyFailure(Status.SINGULAR, f"the NTK is singular (λ_min = {float(lam[0]):.3g})", value=math.inf)
    return float(lam[-1] / lam[0])


@register_proxy
class TeNasNtk(Proxy):
    __doc__ = __doc__
    fixed_batch = True
    name = "te_nas_ntk"
    direction = Direction.LOWER
    needs = Needs(gradients=True, batch_size=TE_BATCH)
    paper = PAPER
    equation = "κ = λ_max(Θ)/λ_min(Θ), Θ_ij = <∂Σf(x_i)/∂θ, ∂Σf(x_j)/∂θ>"

    def compute(self, ctx, mode: str) -> float:
        model = ctx.model
        weights = [p for n, p in model.named_parameters() if "weight" in n]
        rows: List[torch.Tensor] = []
        with bn_batch_statistics(model), torch.enable_grad():
            out = logits_of(model(ctx.images(TE_BATCH))).sum(dim=1)
            for i in range(out.shape[0]):
                gs = torch.autograd.grad(out[i], weights, retain_graph=i + 1 < out.shape[0], allow_unused=True)
                rows.append(torch.cat([(g if g is not None else torch.zeros_like(w)).reshape(-1)
                                       for g, w in zip(gs, weights)]))
        g = torch.stack(rows)
        if not bool(g.abs().amax() > 0):
            raise ProxyFailure(Status.NO_PATH, "every per-sample gradient is zero")
        return finite_or_fail(ntk_condition(g), "te_nas_ntk")


class _ReluPattern:
    def __init__(self, out: List[torch.Tensor]) -> None:
        self.out = out

    def __call__(self, module, inputs, output) -> None:
        if inputs[0].dim() == 4:
            if not bool(torch.isfinite(output.detach()).all()):
                raise ProxyFailure(Status.NAN, "a ReLU output is NaN / inf")
            self.out.append((output.detach() > 0).reshape(output.shape[0], -1))


def distinct_rows(codes: torch.Tensor) -> int:
    """Number of distinct rows of a bool matrix (samples x units)."""
    packed = np.packbits(codes.cpu().numpy(), axis=1)
    return len({r.tobytes() for r in packed})


@register_proxy
class TeNasLinearRegions(Proxy):
    __doc__ = __doc__
    name = "te_nas_lr"
    direction = Direction.HIGHER
    needs = Needs(batch_size=TE_BATCH, input="gaussian")
    paper = PAPER
    equation = "LR = |{(1[z_v(x_i) > 0])_v : i = 1..B}|, x_i ~ N(0, 1)"

    def compute(self, ctx, mode: str) -> float:
        model = ctx.model
        codes: List[torch.Tensor] = []
        handles = [m.register_forward_hook(_ReluPattern(codes)) for m in model.modules() if isinstance(m, nn.ReLU)]
        x = torch.randn((TE_BATCH, *ctx.batch.images.shape[1:]), generator=ctx.generator("te_nas_lr"),
                        device=ctx.device)
        try:
            with bn_batch_statistics(model), torch.no_grad():
                model(x)
        finally:
            for h in handles:
                h.remove()
        if not codes:
            raise ProxyFailure(Status.ERROR, "the model has no nn.ReLU module with 4-d inputs")
        return float(distinct_rows(torch.cat(codes, dim=1)))
