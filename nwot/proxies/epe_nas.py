"""epe_nas: per-class correlation of the input Jacobians.

Lopes, Alirezazadeh & Alexandre, "EPE-NAS: Efficient Performance Estimation Without Training for Neural
Architecture Search", ICANN 2021, arXiv:2102.08099, §3 Eq. 3-5. With ``J_c`` the input-gradient rows
(of the summed logits) of the batch's images of class ``c``, ``Σ_c = corrcoef(J_c)`` and ``k = 1e-5``::

    E_c     = Σ_{i,j} log(|Σ_c[i, j]| + k)
    epe_nas = Σ_c |E_c|                                  (C ≤ 100 classes)
    epe_nas = (1/C') Σ_c Σ_c' |E_c / n_c - E_c' / n_c'|   (C > 100; n_c = rows of Σ_c, C' classes seen)

A class with one image contributes ``|log(1 + k)|``, as ``corrcoef`` of one row is 1 (as the released
code). Zero-variance rows make ``Σ_c`` undefined: status nan. The released code (NASLib ``epe_nas.py``)
computes the same; no reference mode.
"""
from __future__ import annotations

import torch

from nwot.proxies._common import SUITE_ZERO_BATCH
from nwot.proxies.base import Direction, Needs, Paper, Proxy, ProxyFailure, Status, finite_or_fail, register_proxy
from nwot.proxies.context import input_jacobian

K = 1e-5


def epe_nas_score(jac: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
    """EPE-NAS of input-Jacobian rows ``jac`` (B, D) with ``labels`` (B,) (module docstring)."""
    j = jac.to(torch.float64)
    per_class = {}
    for c in sorted(set(int(v) for v in labels.tolist())):
        rows = j[labels == c]
        if rows.shape[0] == 1:
            corr = torch.ones((1, 1), dtype=torch.float64)
        else:
            if bool((rows.std(dim=1) == 0).any()):
                raise ProxyFailure(Status.NAN, f"a Jacobian row of class {c} has zero variance")
            corr = torch.corrcoef(rows)
        e = float(torch.log(corr.abs() + K).sum())
        per_class[c] = e / corr.shape[0] if num_classes > 100 else e
    if num_classes <= 100:
        return float(sum(abs(e) for e in per_class.values()))
    vals = list(per_class.values())
    return float(sum(abs(a - b) for a in vals for b in vals) / len(vals))


@register_proxy
class EpeNas(Proxy):
    __doc__ = __doc__
    name = "epe_nas"
    direction = Direction.HIGHER
    needs = Needs(gradients=True, labels=True, batch_size=SUITE_ZERO_BATCH)
    paper = Paper("Lopes, Alirezazadeh & Alexandre", "EPE-NAS: Efficient Performance Estimation Without Training "
                  "for Neural Architecture Search", "ICANN 2021", "2102.08099", "§3, Eq. 3-5")
    equation = "epe_nas = Σ_c |Σ_ij log(|corrcoef(J_c)|_ij + 1e-5)|"

    def compute(self, ctx, mode: str) -> float:
        n = self.batch_size
        s = epe_nas_score(input_jacobian(ctx, n), ctx.labels(n).cpu(), ctx.batch.num_classes)
        return finite_or_fail(s, "epe_nas")
