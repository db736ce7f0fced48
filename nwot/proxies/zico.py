"""zico: inverse coefficient of variation of the gradients across batches.

Li, Yang, Bhardwaj & Marculescu, "ZiCo: Zero-shot NAS via Inverse
Coefficient of Variation on Gradients", ICLR 2023, arXiv:2301.11300, §3.3 Eq. 8. With ``g_b(ω)`` the
cross-entropy gradient of weight ``ω`` on batch ``b`` (two batches of 64: the first and second half of
the scoring batch), ``E`` and ``std`` over the batches (population std)::

    zico = Σ_{layers l ∈ conv, linear} log( Σ_{ω ∈ θ_l, std(ω) > 0} E[|g(ω)|] / std(g(ω)) )

A layer whose gradients never vary is skipped (its sum would be 0, ``log 0``), as in the released code.
"""
from __future__ import annotations

import math

import torch

from nwot.proxies.base import Direction, Needs, Paper, Proxy, ProxyFailure, Status, finite_or_fail, register_proxy
from nwot.proxies.context import ce_pass

#: ZiCo's minibatch (its NB201 runs: two batches of 64, ``batch_iter=2``).
ZICO_BATCH, ZICO_STEPS = 64, 2


def zico_score(per_batch) -> float:
    """``per_batch``: a list over batches of {layer: gradient}; returns the ZiCo sum (module docstring)."""
    total, used = 0.0, 0
    for name in per_batch[0]:
        g = torch.stack([b[name].detach().reshape(-1).double() for b in per_batch])
        sd = g.std(dim=0, unbiased=False)
        nz = sd > 0
        s = float((g.abs().mean(dim=0)[nz] / sd[nz]).sum())
        if s > 0:
            total += math.log(s)
            used += 1
    if used == 0:
        raise ProxyFailure(Status.NO_PATH, "no layer has gradients that vary across batches")
    return total


@register_proxy
class Zico(Proxy):
    __doc__ = __doc__
    version = 2  # 2: a cell without input->output path is status no_path, not a degenerate 0
    fixed_batch = True
    name = "zico"
    direction = Direction.HIGHER
    needs = Needs(gradients=True, labels=True, batch_size=ZICO_BATCH * ZICO_STEPS)
    paper = Paper("Li, Yang, Bhardwaj & Marculescu", "ZiCo: Zero-shot NAS via Inverse Coefficient of Variation on "
                  "Gradients", "ICLR 2023", "2301.11300", "§3.3, Eq. 8")
    equation = "zico = Σ_l log Σ_{ω∈θ_l} E_b|∂L_b/∂ω| / std_b(∂L_b/∂ω), 2 batches of 64"

    def compute(self, ctx, mode: str) -> float:
        passes = [ce_pass(ctx, ZICO_BATCH, start=i * ZICO_BATCH) for i in range(ZICO_STEPS)]
        return finite_or_fail(zico_score([p.grads for p in passes]), "zico")
