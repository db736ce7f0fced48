"""flops: conv + linear multiply-accumulates of one forward pass on one image.

The cost baseline of every zero-cost study (NAS-Bench-Suite-Zero, Krishnakumar et al., NeurIPS 2022,
arXiv:2210.03230, Table 1) and AZ-NAS's complexity term::

    flops = Σ_conv H_out W_out C_out (C_in / groups) k_h k_w  +  Σ_linear in · out

counted by :func:`nwot.spaces.complexity.count_flops` (MACs, the convention of NB201's "FLOPs" column;
BN, pooling and additions are not counted) at the batch's image size.
"""
from __future__ import annotations

from nwot.proxies._common import SUITE_ZERO
from nwot.proxies.base import Direction, Needs, Proxy, register_proxy
from nwot.spaces.complexity import count_flops


@register_proxy
class Flops(Proxy):
    __doc__ = __doc__
    name = "flops"
    direction = Direction.HIGHER
    needs = Needs(input="none", bn="n/a")
    paper = SUITE_ZERO
    equation = "flops = Σ_conv H W C_out C_in k² / groups + Σ_linear in·out (MACs)"

    def compute(self, ctx, mode: str) -> float:
        return float(count_flops(ctx.model, tuple(ctx.batch.images.shape[1:])))
