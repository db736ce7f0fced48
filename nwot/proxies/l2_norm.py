"""l2_norm: the sum of the layers' weight norms at initialisation.

NAS-Bench-Suite-Zero (Krishnakumar et al., NeurIPS 2022, arXiv:2210.03230, Table 1: "l2_norm")::

    l2_norm = Σ_{W ∈ conv, linear} ||W||_F

A data-free proxy: it only reads the weights of the builder's init.
"""
from __future__ import annotations

from nwot.proxies._common import SUITE_ZERO, layer_sum
from nwot.proxies.base import Direction, Needs, Proxy, finite_or_fail, register_proxy
from nwot.proxies.context import prunable_layers


@register_proxy
class L2Norm(Proxy):
    __doc__ = __doc__
    name = "l2_norm"
    direction = Direction.HIGHER
    needs = Needs(input="none")
    paper = SUITE_ZERO
    equation = "l2_norm = Σ_{W∈conv,linear} ||W||_F"

    def compute(self, ctx, mode: str) -> float:
        layers = dict(prunable_layers(ctx.model))
        return finite_or_fail(layer_sum(list(layers), lambda n: layers[n].weight.detach().double().norm()), "l2_norm")
