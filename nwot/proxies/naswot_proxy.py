"""naswot: the NASWOT score as a proxy (NASLib and NAS-Bench-Suite-Zero call it ``nwot``).

Mellor, Turner, Storkey & Crowley, "Neural Architecture Search without Training", ICML 2021,
arXiv:2006.04647, §3::

    K_H[i, j] = N_A - d_H(c_i, c_j),    naswot = log |det K_H|     (-inf when K_H is singular)

over the binary ReLU codes ``c_i`` of the batch's images. The kernel is :func:`nwot.proxies.naswot.naswot_score`
(exact integer kernel; see its docstring for what is counted); ``mode`` is its ``compat``:
``"reference"`` reproduces the authors' released code (which expects ``num_classes=1`` networks).
A singular kernel is stored as ``-inf`` with status singular (it ranks below every finite score).
NASLib's ``nwot`` hooks ``nn.ReLU`` modules' inputs in train mode with a float64 kernel: the clean mode.
"""
from __future__ import annotations

import math

from nwot.proxies.base import Direction, Needs, Paper, Proxy, ProxyFailure, Status, register_proxy
from nwot.proxies.naswot import naswot_score


@register_proxy
class Naswot(Proxy):
    __doc__ = __doc__
    name = "naswot"
    direction = Direction.HIGHER
    needs = Needs(batch_size=128)
    paper = Paper("Mellor, Turner, Storkey & Crowley", "Neural Architecture Search without Training",
                  "ICML 2021", "2006.04647", "§3")
    equation = "naswot = log|det K_H|, K_H[i,j] = N_A - hamming(c_i, c_j)"
    modes = ("clean", "reference")

    def compute(self, ctx, mode: str) -> float:
        s = naswot_score(ctx.model, ctx.images(self.batch_size), compat=mode, device=ctx.device)
        if s == -math.inf:
            raise ProxyFailure(Status.SINGULAR, "K_H is singular (two images share a ReLU code)", value=-math.inf)
        return s
