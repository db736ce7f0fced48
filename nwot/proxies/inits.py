"""Weight re-initialisations some proxies apply to a fresh copy of the network, from a passed generator.

* :func:`gaussian_init` (Zen-NAS, Lin et al., ICCV 2021, §3.2): conv / linear weights ``~ N(0, 1)``,
  biases 0; BatchNorm weight 1, bias 0.
* :func:`kaiming_normal_init` (the AZ-NAS and VKDNW released code): conv / linear weights
  ``~ N(0, 2 / fan_in)`` (He et al., ICCV 2015, ReLU gain), biases 0; BatchNorm / GroupNorm weight 1, bias 0.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm


def _norm_affine(m: nn.Module) -> None:
    if isinstance(m, (_BatchNorm, nn.GroupNorm)) and getattr(m, "affine", False):
        m.weight.fill_(1.0)
        m.bias.zero_()


@torch.no_grad()
def gaussian_init(model: nn.Module, generator: torch.Generator) -> nn.Module:
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.weight.copy_(torch.randn(m.weight.shape, generator=generator, device=m.weight.device,
                                       dtype=m.weight.dtype))
            if m.bias is not None:
                m.bias.zero_()
        _norm_affine(m)
    return model


@torch.no_grad()
def kaiming_normal_init(model: nn.Module, generator: torch.Generator) -> nn.Module:
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            std = math.sqrt(2.0 / fan_in)
            m.weight.copy_(torch.randn(m.weight.shape, generator=generator, device=m.weight.device,
                                       dtype=m.weight.dtype) * std)
            if m.bias is not None:
                m.bias.zero_()
        _norm_affine(m)
    return model
