"""jacov: the Jacobian-covariance score (the first, 2020 version of NASWOT).

Mellor, Turner, Storkey & Crowley, "Neural Architecture Search without Training", arXiv:2006.04647v1
(June 2020), §3 Eq. 2; as ``jacob_cov`` in Abdelfattah et al., ICLR 2021 and NAS-Bench-Suite-Zero.
With ``J`` the (B, C·H·W) matrix of input gradients of the summed logits (one row per image),
``Σ_J`` its row correlation matrix (``numpy.corrcoef``) and ``σ_i`` the eigenvalues of ``Σ_J``::

    jacov = -Σ_i [ log(σ_i + k) + 1 / (σ_i + k) ],   k = 1e-5

(higher is better: the Jacobians of different images are less correlated). Eigenvalues are those of
the symmetric matrix (``eigvalsh``, float64). A zero-variance Jacobian row makes ``Σ_J`` undefined:
status nan. The released code (NASLib ``jacov.py``) computes the same; no reference mode.
"""
from __future__ import annotations

import torch

from nwot.proxies._common import SUITE_ZERO_BATCH
from nwot.proxies.base import Direction, Needs, Paper, Proxy, ProxyFailure, Status, finite_or_fail, register_proxy
from nwot.proxies.context import input_jacobian

K = 1e-5


def jacov_score(jac: torch.Tensor) -> float:
    """``-Σ log(σ + k) + 1/(σ + k)`` over the eigenvalues ``σ`` of ``corrcoef(jac)`` (rows = samples)."""
    j = jac.to(torch.float64)
    if bool((j.std(dim=1) == 0).any()):
        raise ProxyFailure(Status.NAN, "a Jacobian row has zero variance: its correlation is undefined")
    sig = torch.linalg.eigvalsh(torch.corrcoef(j))
    return -float((torch.log(sig + K) + 1.0 / (sig + K)).sum())


@register_proxy
class Jacov(Proxy):
    __doc__ = __doc__
    name = "jacov"
    direction = Direction.HIGHER
    needs = Needs(gradients=True, batch_size=SUITE_ZERO_BATCH)
    paper = Paper("Mellor, Turner, Storkey & Crowley", "Neural Architecture Search without Training (v1)",
                  "arXiv 2020", "2006.04647v1", "§3, Eq. 2")
    equation = "jacov = -Σ_i [log(σ_i + 1e-5) + 1/(σ_i + 1e-5)], σ = eig(corrcoef(∂Σf/∂x))"

    def compute(self, ctx, mode: str) -> float:
        return finite_or_fail(jacov_score(input_jacobian(ctx, self.batch_size)), "jacov")
