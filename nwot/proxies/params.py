"""params: the number of trainable parameters.

The size baseline of every zero-cost study (NAS-Bench-Suite-Zero, Krishnakumar et al., NeurIPS 2022,
arXiv:2210.03230, Table 1; Ning et al., "Evaluating efficient performance estimators", NeurIPS 2021)::

    params = Σ_{θ trainable} numel(θ)

(a count, not NASLib's millions: the same ranking). Reuses :func:`nwot.spaces.complexity.count_params`.
"""
from __future__ import annotations

from nwot.proxies._common import SUITE_ZERO
from nwot.proxies.base import Direction, Needs, Proxy, register_proxy
from nwot.spaces.complexity import count_params


@register_proxy
class Params(Proxy):
    __doc__ = __doc__
    name = "params"
    direction = Direction.HIGHER
    needs = Needs(input="none", bn="n/a")
    paper = SUITE_ZERO
    equation = "params = Σ_θ numel(θ)"

    def compute(self, ctx, mode: str) -> float:
        return float(count_params(ctx.model))
