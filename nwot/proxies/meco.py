"""meco: the minimum eigenvalue of the channel correlation of every layer's features, for one image.

Jiang, Wang & Bie, "MeCo: Zero-Shot NAS with One Data and Single Forward Pass via Minimum Eigenvalue
of Correlation", NeurIPS 2023, §4 Eq. 9. For one input image ``X``, each layer ``i``'s feature map
``f^i(X) ∈ R^{c×h×w}`` is reshaped to ``c`` rows of ``h·w`` values; ``P(f^i)`` is their ``c × c``
Pearson correlation matrix::

    meco = Σ_i λ_min( P(f^i(X)) )

Undefined correlations (a channel of zero variance) are set to 0 and the layers whose ``λ_min`` is
NaN / inf are dropped, as in the released code. BN uses the image's own statistics (train mode).

* clean: the layers are the leaf modules (no children) with a 4-d output (conv, BN, ReLU, pooling, ...);
* **mode="reference"** (HamsterMimi/MeCo ``correlation/NAS_Bench_201.py``): a forward hook on *every*
  module (``named_modules()``: the network itself, the cells and containers too), each reading the
  first sample of its output whatever its shape (the logits give a ``C x 1`` matrix, i.e. 0).
"""
from __future__ import annotations

import warnings
from typing import List

import torch

from nwot.proxies.base import Direction, Needs, Paper, Proxy, ProxyFailure, Status, register_proxy
from nwot.proxies.context import bn_batch_statistics


def min_corr_eigenvalue(fea: torch.Tensor) -> float:
    """``λ_min`` of ``corrcoef`` of the rows of ``fea`` (c, d); NaN / inf entries of the matrix set to 0."""
    with warnings.catch_warnings():  # a 1-column feature (the logits) has no correlation: NaN, set to 0
        warnings.simplefilter("ignore", UserWarning)
        corr = torch.corrcoef(fea.double())
    corr = torch.where(torch.isfinite(corr), corr, torch.zeros_like(corr))
    return float(torch.linalg.eigvalsh(corr)[0])


class _MecoHook:
    def __init__(self, out: List[float], four_d_only: bool) -> None:
        self.out, self.four_d_only = out, four_d_only

    def __call__(self, module, inputs, output) -> None:
        if isinstance(output, (tuple, list)):
            output = output[0]
        if not isinstance(output, torch.Tensor) or output.dim() < 2:
            return
        if self.four_d_only and output.dim() != 4:
            return
        fea = output[0].detach()
        if not bool(torch.isfinite(fea).all()):
            raise ProxyFailure(Status.NAN, "a feature map is NaN / inf")
        fea = fea.reshape(fea.shape[0], -1)
        if fea.shape[0] < 1:
            return
        self.out.append(min_corr_eigenvalue(fea))


@register_proxy
class Meco(Proxy):
    __doc__ = __doc__
    fixed_batch = True
    name = "meco"
    direction = Direction.HIGHER
    needs = Needs(batch_size=1)
    paper = Paper("Jiang, Wang & Bie", "MeCo: Zero-Shot NAS with One Data and Single Forward Pass via Minimum "
                  "Eigenvalue of Correlation", "NeurIPS 2023", "n/a (NeurIPS 2023 proceedings)", "§4, Eq. 9")
    equation = "meco = Σ_layers λ_min(corrcoef of the c channels of f^i(X)), one image X"
    modes = ("clean", "reference")

    def compute(self, ctx, mode: str) -> float:
        model = ctx.model
        if mode == "reference":
            mods = [m for _, m in model.named_modules()]
        else:
            mods = [m for m in model.modules() if not list(m.children())]
        vals: List[float] = []
        handles = [m.register_forward_hook(_MecoHook(vals, four_d_only=mode == "clean")) for m in mods]
        try:
            with bn_batch_statistics(model), torch.no_grad():
                model(ctx.images(1))
        finally:
            for h in handles:
                h.remove()
        t = torch.tensor(vals, dtype=torch.float64)
        t = t[torch.isfinite(t)]
        if t.numel() == 0:
            raise ProxyFailure(Status.NAN, "no layer gave a finite minimum eigenvalue")
        return float(t.sum())
