"""The scoring context: one network and one batch, with the passes several proxies share, computed once.

:class:`ScoringContext` is made per (network, batch) by :func:`nwot.proxies.score_proxies`. It owns

* ``model``: the network built once by ``build_model()``. Proxies treat it as read-only: every pass
  below runs under :func:`bn_batch_statistics`, which restores each module's train/eval flag and
  every buffer (BN running statistics) afterwards, and takes gradients with ``torch.autograd.grad``,
  so no ``.grad`` is left on a parameter;
* ``fresh_model()``: a new, identically seeded copy for proxies that must alter weights (synflow's
  ``|θ|`` and float64, Zen's Gaussian re-init, kaiming re-inits of a reference mode);
* cached shared passes (:meth:`ScoringContext.shared`): :func:`ce_pass` (one cross-entropy forward
  and backward: weight gradients and Fisher channel saliencies), :func:`input_jacobian` (the
  gradient of the summed logits with respect to the input).

**Which weights.** The parameter-wise proxies of NAS-Bench-Suite-Zero (snip, grad_norm, plain, grasp,
fisher, l2_norm, synflow) sum over the weights of ``nn.Conv2d`` and ``nn.Linear`` layers only (no
biases, no BatchNorm affine parameters), as Abdelfattah et al. (ICLR 2021, §3) aggregate them;
:func:`prunable_layers` lists them in module order.

**BatchNorm** runs on the batch's own statistics (train mode) and every other module in eval mode
(no dropout noise): with PyTorch's default init, eval-mode BN would be the identity, and the papers
score freshly built networks in train mode.
"""
from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from nwot.errors import NwotError
from nwot.proxies.base import Batch, ProxyFailure, Status

DeviceLike = Union[None, str, torch.device]


def prunable_layers(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """``(name, module)`` of every ``nn.Conv2d`` / ``nn.Linear`` of ``model``, in module order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


@contextlib.contextmanager
def bn_batch_statistics(model: nn.Module) -> Iterator[nn.Module]:
    """Run the block with BatchNorm in train mode and all else in eval mode; restore flags and buffers after."""
    flags = {m: m.training for m in model.modules()}
    buffers = {k: b.detach().clone() for k, b in model.named_buffers()}
    try:
        model.eval()
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                m.train()
        yield model
    finally:
        with torch.no_grad():
            for k, b in model.named_buffers():
                b.copy_(buffers[k])
        for m, f in flags.items():
            m.train(f)


def logits_of(output) -> torch.Tensor:
    """The logits of a forward's output (the first element of a tuple, as NB201's released networks return)."""
    if isinstance(output, (tuple, list)):
        output = output[0]
    if not isinstance(output, torch.Tensor) or output.dim() != 2:
        raise NwotError(f"the model must return (B, num_classes) logits, got {type(output).__name__} "
                        f"{tuple(getattr(output, 'shape', ()))}")
    return output


def _stable_seed(seed: int, tag: str) -> int:
    h = hashlib.sha256(f"{int(seed)}:{tag}".encode()).digest()
    return int.from_bytes(h[:8], "little") & ((1 << 63) - 1)


class ScoringContext:
    """One network and one batch for a set of proxies (see the module docstring)."""

    def __init__(self, build_model: Callable[[], nn.Module], batch: Batch, *, device: DeviceLike = None,
                 seed: int = 0) -> None:
        if not callable(build_model):
            raise NwotError(f"build_model must be a callable returning a fresh nn.Module, got {build_model!r}")
        if not isinstance(batch, Batch):
            raise NwotError(f"batch must be a nwot.proxies.Batch, got {type(batch).__name__}")
        self._build = build_model
        self.batch = batch
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.seed = int(seed)
        self._model: Optional[nn.Module] = None
        self._cache: Dict[tuple, object] = {}

    # -- the network ----------------------------------------------------------------------------
    def _new(self) -> nn.Module:
        m = self._build()
        if not isinstance(m, nn.Module):
            raise NwotError(f"build_model() must return an nn.Module, got {type(m).__name__}")
        return m.to(self.device)

    @property
    def model(self) -> nn.Module:
        """The shared network (read-only for proxies)."""
        if self._model is None:
            self._model = self._new()
        return self._model

    def fresh_model(self, dtype: Optional[torch.dtype] = None) -> nn.Module:
        """A new copy from ``build_model()`` (same seed, same weights) that a proxy may alter."""
        m = self._new()
        return m.to(dtype) if dtype is not None else m

    # -- the data -------------------------------------------------------------------------------
    def images(self, n: Optional[int] = None) -> torch.Tensor:
        """The first ``n`` images of the batch (all when ``n`` is None) on the device."""
        x = self.batch.images
        if n is not None:
            if n > x.shape[0]:
                raise ProxyFailure(Status.ERROR, f"needs a batch of {n} images, the batch has {x.shape[0]}")
            x = x[:n]
        return x.to(self.device)

    def labels(self, n: Optional[int] = None) -> torch.Tensor:
        if self.batch.labels is None:
            raise ProxyFailure(Status.ERROR, "needs labels, the batch has none")
        y = self.batch.labels
        return (y if n is None else y[:n]).to(self.device)

    def generator(self, tag: str) -> torch.Generator:
        """A ``torch.Generator`` on the device, seeded from the context seed and ``tag`` (own randomness)."""
        g = torch.Generator(device=self.device)
        g.manual_seed(_stable_seed(self.seed, tag))
        return g

    # -- shared passes --------------------------------------------------------------------------
    def shared(self, key: tuple, fn: Callable[[], object]) -> object:
        """``fn()`` computed once per context and ``key``; a failure is cached and re-raised too."""
        if key not in self._cache:
            try:
                self._cache[key] = fn()
            except ProxyFailure as e:
                self._cache[key] = e
        out = self._cache[key]
        if isinstance(out, ProxyFailure):
            raise out
        return out


# --------------------------------------------------------------------------------------------------
# The cross-entropy pass: weight gradients and Fisher channel saliencies from one forward/backward.
# --------------------------------------------------------------------------------------------------


@dataclass
class CEPass:
    """One cross-entropy forward/backward on the first ``n`` images (BN on batch statistics)."""

    names: List[str]  # prunable layers (conv / linear), module order
    weights: Dict[str, torch.Tensor]  # layer -> its weight (the model's own tensor, not a copy)
    grads: Dict[str, torch.Tensor]  # layer -> dL/dW
    fisher: Dict[str, torch.Tensor]  # layer -> (C_out,) 0.5 * mean_b (sum_spatial a * dL/da)^2
    loss: float


class _FisherTap:
    """Forward hook on a conv / linear layer: on the backward pass, turns (activation, its gradient) into
    the per-channel Fisher saliency ``Δ_c = ½ E_b[(Σ_{h,w} a_bchw g_bchw)²]`` (Theis et al. 2018, Eq. 4)."""

    def __init__(self, store: Dict[str, torch.Tensor], name: str) -> None:
        self.store, self.name = store, name

    def __call__(self, module: nn.Module, inputs, output: torch.Tensor) -> None:
        if output.requires_grad:
            act = output.detach()
            output.register_hook(_FisherGrad(self.store, self.name, act))


class _FisherGrad:
    def __init__(self, store: Dict[str, torch.Tensor], name: str, act: torch.Tensor) -> None:
        self.store, self.name, self.act = store, name, act

    def __call__(self, grad: torch.Tensor) -> None:
        g = (self.act * grad).sum(dim=tuple(range(2, grad.dim()))) if grad.dim() > 2 else self.act * grad
        d = g.pow(2).mean(0).mul(0.5)
        self.store[self.name] = self.store[self.name] + d if self.name in self.store else d


def ce_pass(ctx: ScoringContext, n: int, start: int = 0) -> CEPass:
    """The shared cross-entropy pass on images ``start .. start + n - 1`` (cached per context and slice).

    The same backward also takes ``∂L/∂x``: if it is zero everywhere the loss does not depend on the
    images (no input->output path, e.g. an NB201 cell of ``none`` edges), and every proxy built on this
    pass fails with status no_path instead of reporting the degenerate 0 (which would rank a broken
    network in the middle of a signed proxy such as plain)."""
    return ctx.shared(("ce", start, n), lambda: _ce_pass(ctx, n, start))


def _ce_pass(ctx: ScoringContext, n: int, start: int) -> CEPass:
    model = ctx.model
    x, y = ctx.images(start + n)[start:].clone().requires_grad_(True), ctx.labels(start + n)[start:]
    layers = prunable_layers(model)
    if not layers:
        raise ProxyFailure(Status.ERROR, "the model has no Conv2d / Linear layer")
    fisher: Dict[str, torch.Tensor] = {}
    handles = [m.register_forward_hook(_FisherTap(fisher, name)) for name, m in layers]
    try:
        with bn_batch_statistics(model), torch.enable_grad():
            loss = F.cross_entropy(logits_of(model(x)), y)
            weights = [m.weight for _, m in layers]
            *grads, gx = torch.autograd.grad(loss, weights + [x], allow_unused=True)
    finally:
        for h in handles:
            h.remove()
    if gx is None or not bool(gx.abs().amax() > 0):
        raise ProxyFailure(Status.NO_PATH, "the loss does not depend on the input (zero ∂L/∂x)")
    names = [nm for nm, _ in layers]
    g = {nm: (gr if gr is not None else torch.zeros_like(w)) for nm, w, gr in zip(names, weights, grads)}
    fi = {nm: fisher.get(nm, torch.zeros(m.weight.shape[0], device=ctx.device)) for nm, m in layers}
    return CEPass(names, {nm: m.weight for nm, m in layers}, g, fi, float(loss.detach()))


def input_jacobian(ctx: ScoringContext, n: int) -> torch.Tensor:
    """``∂(Σ_k f_k(x_i))/∂x_i`` flattened to (n, C·H·W): the gradient of the summed logits w.r.t. each
    input (= ``y.backward(ones_like(y))`` of Mellor et al. v1 / EPE-NAS). Cached per context and ``n``.

    A Jacobian that is zero everywhere means the logits do not depend on the input: status no_path."""
    def run() -> torch.Tensor:
        model = ctx.model
        x = ctx.images(n).clone().requires_grad_(True)
        with bn_batch_statistics(model), torch.enable_grad():
            out = logits_of(model(x))
            (jac,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
        if jac is None or not bool(jac.abs().amax() > 0):
            raise ProxyFailure(Status.NO_PATH, "the logits do not depend on the input (zero input-Jacobian)")
        return jac.reshape(jac.shape[0], -1).detach()

    return ctx.shared(("input_jacobian", n), run)
