"""zen: the Zen-score, expressivity of the pre-pooling features under a Gaussian network.

Lin, Wang, Sun, Chen, Sun, Qian, Li & Jin, "Zen-NAS: A Zero-Shot NAS for High-Performance Image
Recognition", ICCV 2021, arXiv:2102.01063, §3.2 Eq. 4-5. On a fresh copy with every conv / linear
weight ``~ N(0, 1)`` (BN weight 1, bias 0; BN on batch statistics), with ``x, ε ~ N(0, 1)`` of the
batch's shape, ``f`` the feature map entering the global average pool and ``γ = 0.01``::

    Δ    = mean_b Σ_{c,h,w} | f(x) - f(x + γ ε) |
    zen  = log Δ + Σ_{BN layers i} log sqrt( mean_c σ²_{i,c} )

with ``σ²_{i,c}`` the batch variance of channel ``c`` at BN layer ``i`` in the forward of ``x``
(clean, the paper's mini-batch statistics). A BN layer whose input is constant (a branch fed by an
NB201 ``none`` edge: zero variance, ``log σ = -inf``) computes a constant and carries no signal; clean
mode leaves it out of the sum (the paper's networks have no such branches). **mode="reference"**
(Zen-NAS / NASLib ``zen.py``) reads ``running_var`` after the two forwards instead (momentum 0.1
from 1: ``0.81 + 0.09 σ²(x) + 0.1 σ²(x+γε)`` with unbiased variances).
Inputs and weights come from the context's generator.
"""
from __future__ import annotations

import math
from typing import List

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from nwot.proxies.base import Direction, Needs, Paper, Proxy, ProxyFailure, Status, finite_or_fail, register_proxy
from nwot.proxies.inits import gaussian_init

GAMMA = 1e-2


class _Capture:
    """Forward hook keeping the input of a module (the features entering the global pool)."""

    def __init__(self) -> None:
        self.value = None

    def __call__(self, module, inputs, output) -> None:
        self.value = inputs[0].detach()


class _BatchVar:
    """Forward hook on a BN layer: ``mean_c var_c`` of its input (biased variance)."""

    def __init__(self, out: List[float]) -> None:
        self.out = out

    def __call__(self, module, inputs, output) -> None:
        x = inputs[0].detach().double()
        dims = [0] + list(range(2, x.dim()))
        self.out.append(float(x.var(dim=dims, unbiased=False).mean()))


@register_proxy
class Zen(Proxy):
    __doc__ = __doc__
    version = 3  # 2: no-path cells are status no_path; 3: clean skips BN layers fed a constant (dead branches)
    name = "zen"
    direction = Direction.HIGHER
    needs = Needs(batch_size=64, input="gaussian", alters_weights=True, init="gaussian")
    paper = Paper("Lin, Wang, Sun, Chen, Sun, Qian, Li & Jin", "Zen-NAS: A Zero-Shot NAS for High-Performance "
                  "Image Recognition", "ICCV 2021", "2102.01063", "§3.2, Eq. 4-5")
    equation = "zen = log mean_b||f(x) - f(x + 0.01 ε)||_1 + Σ_BN log sqrt(mean_c σ²_c)"
    modes = ("clean", "reference")

    def compute(self, ctx, mode: str) -> float:
        g = ctx.generator("zen")
        model = gaussian_init(ctx.fresh_model(), g)
        pools = [m for m in model.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]
        if not pools:
            raise ProxyFailure(Status.ERROR, "zen needs the network's global average pool (nn.AdaptiveAvgPool2d)")
        shape = (self.needs.batch_size, *ctx.batch.images.shape[1:])
        x = torch.randn(shape, generator=g, device=ctx.device)
        eps = torch.randn(shape, generator=g, device=ctx.device)
        cap = _Capture()
        logs: List[float] = []
        handles = [pools[-1].register_forward_hook(cap)]
        if mode == "clean":
            handles += [m.register_forward_hook(_BatchVar(logs)) for m in model.modules() if isinstance(m, _BatchNorm)]
        model.train()
        try:
            with torch.no_grad():
                model(x)
                f1 = cap.value
                clean_logs = list(logs)
                model(x + GAMMA * eps)
                f2 = cap.value
        finally:
            for h in handles:
                h.remove()
        delta = float((f1 - f2).abs().sum(dim=tuple(range(1, f1.dim()))).mean())
        if not delta > 0:
            raise ProxyFailure(Status.NO_PATH, "the pre-pooling features do not depend on the input")
        if mode == "clean":
            variances = [v for v in clean_logs if v > 0]  # constant-input BN layers carry no signal (docstring)
        else:
            variances = [float(m.running_var.double().mean()) for m in model.modules() if isinstance(m, _BatchNorm)]
        if not variances or not all(v > 0 for v in variances):
            raise ProxyFailure(Status.NO_PATH, "a BatchNorm layer sees zero variance (its input is constant)")
        bn_term = sum(0.5 * math.log(v) for v in variances)
        return finite_or_fail(math.log(delta) + bn_term, "zen")
