"""AZ-NAS: expressivity, progressivity, trainability and complexity of the primary blocks.

Lee & Ham, "AZ-NAS: Assembling Zero-Cost Proxies for Network Architecture Search", CVPR 2024,
arXiv:2403.19232, §3.2-3.3. The primary blocks of a cell network are its stem and each cell (NB201:
stem + 17 cells); ``f_0 .. f_L`` are their output features on a batch of 64 images, BN on batch statistics.

* **expressivity** (Eq. 2-3): for each ``f_l`` (B, C, H, W) -> rows of C channels, centred, with
  ``Σ_l = FᵀF / (BHW)``, eigenvalues ``λ``, ``p = λ / Σλ``::

      s^E_l = -Σ_i p_i log(p_i + 1e-8),     s^E = Σ_l s^E_l

* **progressivity** (Eq. 4): ``s^P = min_l (s^E_l - s^E_{l-1})``;
* **trainability** (Eq. 5-6): for each block ``l`` a Rademacher vector ``g`` on ``f_l`` is pulled back to
  ``f_{l-1}`` (``g' = Jᵀ g``; pixel-unshuffled to ``f_l``'s resolution at a reduction), ``M = g'ᵀ g / (BHW)``,
  ``σ_l`` its largest singular value (the spectral norm of the block's Jacobian)::

      s^T = mean_l ( -σ_l - 1/(σ_l + 1e-6) + 2 )        (0 for an isometry, σ = 1)

* **complexity** (§3.3): the FLOPs (:mod:`nwot.proxies.flops`).

The AZ-NAS score itself ranks a *population*: ``Σ_m log(rank_m / N)`` over the four components
(Eq. 7), :func:`nwot.proxies.population.az_nas_aggregate`; per cell only the components exist. A
component that is NaN (the isotropy of all-zero features) is stored as ``-inf`` with status nan, as
the released code does, so it ranks last.

**mode="reference"** (cvlab-yonsei/AZ-NAS ``compute_az_nas_score.py``): on a fresh copy re-initialised
kaiming-normal (fan_in; BN weight 1, bias 0), and a block whose pulled-back vector equals ``g`` (an
identity block) scores ``-inf`` trainability, making ``s^T = -inf``. Clean mode scores the network as
built and applies the formula to identity blocks too.
"""
from __future__ import annotations

import math
from typing import Dict, List

import numpy as np
import torch
import torch.nn as nn

from nwot.proxies.base import Direction, Needs, Paper, Proxy, ProxyFailure, Status, register_proxy
from nwot.proxies.context import bn_batch_statistics
from nwot.proxies.inits import kaiming_normal_init
from nwot.spaces.complexity import count_flops

PAPER = Paper("Lee & Ham", "AZ-NAS: Assembling Zero-Cost Proxies for Network Architecture Search", "CVPR 2024",
              "2403.19232", "§3.2-3.3, Eq. 2-7")
AZ_BATCH = 64


class _Keep:
    def __init__(self, out: List[torch.Tensor]) -> None:
        self.out = out

    def __call__(self, module, inputs, output) -> None:
        self.out.append(output)


def primary_blocks(model: nn.Module) -> List[nn.Module]:
    """Stem then cells of an AutoDL-style cell network (``model.stem``, ``model.cells``)."""
    stem, cells = getattr(model, "stem", None), getattr(model, "cells", None)
    if not isinstance(stem, nn.Module) or not isinstance(cells, nn.ModuleList):
        raise ProxyFailure(Status.ERROR, "AZ-NAS needs primary blocks: a model with .stem and .cells (ModuleList)")
    return [stem, *cells]


def expressivity_terms(feats: List[torch.Tensor]) -> np.ndarray:
    """``s^E_l`` of each feature map (module docstring); NaN for all-zero features."""
    out = []
    for f in feats:
        b, c, h, w = f.shape
        x = f.detach().double().permute(0, 2, 3, 1).reshape(b * h * w, c)
        x = x - x.mean(dim=0, keepdim=True)
        lam = torch.linalg.eigvalsh(x.T @ x / x.shape[0])
        p = lam / lam.sum()
        out.append(float((-p * torch.log(p + 1e-8)).sum()))
    return np.array(out)


def trainability_terms(feats: List[torch.Tensor], gen: torch.Generator, reference: bool) -> List[float]:
    scores = []
    for i in reversed(range(1, len(feats))):
        f_out, f_in = feats[i], feats[i - 1]
        g_out = (torch.bernoulli(torch.full_like(f_out, 0.5), generator=gen) - 0.5) * 2
        (g_in,) = torch.autograd.grad(f_out, f_in, grad_outputs=g_out, retain_graph=True, allow_unused=True)
        if g_in is None:
            g_in = torch.zeros_like(f_in)
        if reference and g_in.shape == g_out.shape and bool(torch.equal(g_in, g_out)):
            scores.append(-math.inf)
            continue
        if g_in.shape[2:] != g_out.shape[2:]:
            g_in = nn.functional.pixel_unshuffle(g_in, g_in.shape[2] // g_out.shape[2])
        bo, co, ho, wo = g_out.shape
        go = g_out.permute(0, 2, 3, 1).reshape(-1, co).double()
        gi = g_in.permute(0, 2, 3, 1).reshape(-1, g_in.shape[1]).double()
        s = float(torch.linalg.svdvals(gi.T @ go / (bo * ho * wo)).max())
        scores.append(-s - 1.0 / (s + 1e-6) + 2.0)
    return scores


def az_nas_components(ctx, mode: str) -> Dict[str, float]:
    """Expressivity, progressivity and trainability from one forward and the block backward passes (cached)."""
    def run() -> Dict[str, float]:
        if mode == "reference":
            model = kaiming_normal_init(ctx.fresh_model(), ctx.generator("az_nas-init"))
        else:
            model = ctx.model
        feats: List[torch.Tensor] = []
        handles = [b.register_forward_hook(_Keep(feats)) for b in primary_blocks(model)]
        try:
            with bn_batch_statistics(model), torch.enable_grad():
                model(ctx.images(AZ_BATCH))
                if not all(bool(torch.isfinite(f).all()) for f in feats):
                    raise ProxyFailure(Status.NAN, "a block's features are NaN / inf")
                e = expressivity_terms(feats)
                t = trainability_terms(feats, ctx.generator("az_nas-trainability"), mode == "reference")
        finally:
            for h in handles:
                h.remove()
        return {"expressivity": float(np.sum(e)), "progressivity": float(np.min(e[1:] - e[:-1])),
                "trainability": float(np.mean(t))}

    return ctx.shared(("az_nas", mode), run)


class _AzComponent(Proxy):
    fixed_batch = True
    component = ""
    direction = Direction.HIGHER
    needs = Needs(gradients=True, batch_size=AZ_BATCH)
    mode_needs = {"reference": Needs(gradients=True, batch_size=AZ_BATCH, alters_weights=True, init="kaiming_normal")}
    paper = PAPER
    modes = ("clean", "reference")

    def compute(self, ctx, mode: str) -> float:
        v = az_nas_components(ctx, mode)[self.component]
        if math.isnan(v):
            raise ProxyFailure(Status.NAN, f"AZ-NAS {self.component} is NaN (all-zero features)", value=-math.inf)
        return v


@register_proxy
class AzExpressivity(_AzComponent):
    __doc__ = __doc__
    name, component = "az_nas_expressivity", "expressivity"
    equation = "s^E = Σ_l H(eig(cov of f_l's channels) / trace)"


@register_proxy
class AzProgressivity(_AzComponent):
    __doc__ = __doc__
    name, component = "az_nas_progressivity", "progressivity"
    equation = "s^P = min_l (s^E_l - s^E_{l-1})"


@register_proxy
class AzTrainability(_AzComponent):
    __doc__ = __doc__
    name, component = "az_nas_trainability", "trainability"
    sentinels = (-math.inf,)
    equation = "s^T = mean_l (-σ_l - 1/σ_l + 2), σ_l = ||∂f_l/∂f_{l-1}|| (Rademacher estimate)"


@register_proxy
class AzComplexity(Proxy):
    __doc__ = __doc__
    name = "az_nas_complexity"
    direction = Direction.HIGHER
    needs = Needs(input="none", bn="n/a")
    paper = PAPER
    equation = "s^C = FLOPs (conv + linear MACs)"

    def compute(self, ctx, mode: str) -> float:
        return float(count_flops(ctx.model, tuple(ctx.batch.images.shape[1:])))
