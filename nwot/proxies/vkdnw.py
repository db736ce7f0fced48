"""vkdnw: entropy of the Fisher-information spectrum of one weight per parameter tensor.

Tybl & Neumann, "Training-free Neural Architecture Search through Variance of Knowledge of Deep
Network Weights", CVPR 2025, arXiv:2502.04975, §3 Eq. 5-8. Take one scalar weight per parameter
tensor (its first element), ``θ' ∈ R^P``. For each of 32 inputs ``x_n``, processed alone (BN on the
image's own statistics, as the released code's per-sample ``vmap``), ``J_n = ∂f(x_n)/∂θ'`` (C × P)
and ``p_n = softmax(f(x_n))``; the empirical Fisher information matrix and its spectrum are::

    F = mean_n J_nᵀ (diag(p_n) - p_n p_nᵀ) J_n,     λ = eig(F)
    q_k = decile_k(λ), k = 1..9,   q̃ = q / (Σ q + 1e-10),   vkdnw = -Σ_k q̃_k log(q̃_k + 1e-10)

(higher is better: a spread spectrum). VKDNW ranks networks by (``vkdnw_dim`` = number of parameter
tensors, then ``vkdnw``) lexicographically, and VKDNW_agg adds the log-ranks of jacov, AZ-NAS
expressivity and trainability and FLOPs: :mod:`nwot.proxies.population`.

**mode="reference"** (ondratybl/VKDNW ``NB201/ZeroShotProxy/compute_vkdnw_score.py``, NB201 harness
defaults): a fresh copy re-initialised kaiming-normal (fan_in), inputs ``N(0, 1)`` noise instead of
images, probabilities smoothed ``p̃ = 0.95 p + 0.05 / C``, and ``F = mean_n (L_n J_n)ᵀ (L_n J_n)`` with
``L_n`` the lower Cholesky factor of ``diag(p̃) - p̃ p̃ᵀ`` (so ``J_nᵀ L_nᵀ L_n J_n``, not ``J_nᵀ L_n L_nᵀ J_n``).
"""
from __future__ import annotations

import copy
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, jacrev
from torch.nn.modules.batchnorm import _BatchNorm

from nwot.proxies.base import Direction, Needs, Paper, Proxy, ProxyFailure, Status, finite_or_fail, register_proxy
from nwot.proxies.context import logits_of
from nwot.proxies.inits import kaiming_normal_init

PAPER = Paper("Tybl & Neumann", "Training-free Neural Architecture Search through Variance of Knowledge of Deep "
              "Network Weights", "CVPR 2025", "2502.04975", "§3, Eq. 5-8")
VKDNW_BATCH = 32
ALPHA = 0.05


def multinomial_cholesky(p: torch.Tensor) -> torch.Tensor:
    """Lower-triangular ``L`` (B, C, C) with ``L Lᵀ = diag(p) - p pᵀ`` for probability rows ``p`` (B, C).

    Closed form (Tanabe & Sagae, JRSS-B 1992, Thm. 1): with ``q_j = 1 - Σ_{i≤j} p_i`` (``q_0 = 1``,
    ``q_C = 0``), ``d_j = sqrt(p_j q_j / q_{j-1})``, ``L_jj = d_j`` and ``L_ij = -p_i d_j / q_j`` (i > j)."""
    q = 1.0 - torch.cumsum(p, dim=1)
    q[:, -1] = 0.0
    q_prev = torch.cat([torch.ones_like(q[:, :1]), q[:, :-1]], dim=1)
    d = torch.sqrt((p * q / q_prev).clamp_min(0.0))
    ratio = p.unsqueeze(2) / q.unsqueeze(1)  # [i, j] = p_i / q_j
    ratio = torch.nan_to_num(ratio, nan=0.0, posinf=0.0, neginf=0.0)
    c = p.shape[1]
    lower = torch.tril(torch.ones(c, c, dtype=torch.bool, device=p.device), diagonal=-1)
    m = torch.where(lower, -ratio, torch.zeros_like(ratio)) + torch.eye(c, dtype=p.dtype, device=p.device)
    return m * d.unsqueeze(1)


def decile_entropy(lam: torch.Tensor) -> float:
    """``-Σ q̃ log(q̃ + 1e-10)`` of the normalised deciles ``q̃`` of ``lam`` (module docstring)."""
    q = torch.quantile(lam.double(), torch.arange(1, 10, dtype=torch.float64) / 10)
    t = q / (q.abs().sum() + 1e-10)
    return float(-(t * torch.log(t + 1e-10)).sum())


def _per_sample_bn(model: nn.Module) -> nn.Module:
    """BN without running statistics: every forward normalises with the statistics of its own input."""
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.track_running_stats = False
            m.running_mean, m.running_var, m.num_batches_tracked = None, None, None
    return model


class _InstanceBN(nn.Module):
    """A BatchNorm2d applied to one image alone, for a whole batch at once: over one image, BN's batch
    statistics are that image's per-channel statistics, i.e. instance normalisation with BN's affine."""

    def __init__(self, bn: nn.BatchNorm2d) -> None:
        super().__init__()
        self.weight, self.bias, self.eps = bn.weight, bn.bias, bn.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


def _hookable(model: nn.Module) -> bool:
    """Whether every parameter sits on a Conv2d (zero padding, int padding), a Linear or an affine
    BatchNorm2d, the layers whose first-element gradients :func:`_first_element_jacobian_hooks` reads."""
    for m in model.modules():
        own = list(m.parameters(recurse=False))
        if not own:
            continue
        if isinstance(m, nn.Conv2d):
            if m.padding_mode != "zeros" or isinstance(m.padding, str):
                return False
        elif not isinstance(m, (nn.Linear, nn.BatchNorm2d)):
            return False
    return True


def _first_element_jacobian_hooks(model: nn.Module, x: torch.Tensor) -> Optional[Tuple[torch.Tensor, torch.Tensor]]:
    """``(J, logits)``: ``J[n, c, k] = ∂f_c(x_n)/∂θ_k[0]`` (B, C, P, float64), each image processed alone.

    One batched forward (BN as :class:`_InstanceBN`, which is BN on one image) and one backward per
    class of ``Σ_n f_c(x_n)`` w.r.t. the layers' outputs only; the per-image gradient of a layer's first
    weight is then read off its input and output gradient: conv ``Σ_hw g[n,0,h,w] x_pad[n,0,s_h h,s_w w]``
    (kernel offset (0, 0); group 0 holds input channel 0), linear ``g[n,0] x[n,0]``, BN ``Σ_hw g[n,0] x̂[n,0]``,
    biases ``Σ_hw g[n,0]``. Same numbers as the per-image ``jacrev`` loop (equal to 1e-15 in float64), about
    2x faster on CPU. ``None`` when a layer runs more than once in a forward (shared weights) or a linear layer
    sees other than (B, F) inputs."""
    model = copy.deepcopy(model).eval()
    for m in list(model.modules()):
        for child_name, child in list(m.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(m, child_name, _InstanceBN(child))
    for prm in model.parameters():
        prm.requires_grad_(False)
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear, _InstanceBN))]
    seen: Dict[nn.Module, Tuple[torch.Tensor, torch.Tensor]] = {}
    repeated: List[nn.Module] = []

    def keep(mod, inputs, output):
        if mod in seen or inputs[0].dim() != (2 if isinstance(mod, nn.Linear) else 4):
            repeated.append(mod)  # run twice, or on inputs of another rank: the loop handles it
        seen[mod] = (inputs[0].detach(), output)

    handles = [m.register_forward_hook(keep) for m in layers]
    try:
        with torch.enable_grad():
            out = logits_of(model(x.detach().clone().requires_grad_(True)))
    finally:
        for h in handles:
            h.remove()
    if repeated:
        return None
    entries = [(m, pname) for m in model.modules() for pname, _ in m.named_parameters(recurse=False)]
    live = [m for m in seen if seen[m][1].requires_grad]
    # what multiplies the output gradient g[:, 0] of each entry's layer (the same for every class): the input
    # at kernel offset (0, 0) for a conv weight, x̂ for a BN weight, x[:, 0] for a linear weight, 1 for a bias
    factors = [None if pname == "bias" or m not in seen else _first_weight_input(m, seen[m][0], seen[m][1])
               for m, pname in entries]
    b, c_out = out.shape
    jac = torch.zeros((b, c_out, len(entries)), dtype=torch.float64, device=out.device)
    for c in range(c_out):
        grads = torch.autograd.grad(out[:, c].sum(), [seen[m][1] for m in live], retain_graph=c + 1 < c_out,
                                    allow_unused=True)
        g_of = dict(zip(live, grads))
        for k, (m, _) in enumerate(entries):
            g = g_of.get(m)
            if g is None:
                continue
            v = g[:, 0] if factors[k] is None else g[:, 0] * factors[k]
            jac[:, c, k] = (v if v.dim() == 1 else v.sum(dim=(1, 2))).double()
    return jac, out.detach()


def _first_weight_input(m: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """The factor ``a`` with ``∂f/∂w[0] = Σ g[:, 0] · a`` per image for the first weight of layer ``m``."""
    if isinstance(m, nn.Linear):
        return inp[:, 0]
    if isinstance(m, nn.Conv2d):
        (ph, pw), (sh, sw) = m.padding, m.stride
        h, w = out.shape[2], out.shape[3]
        return F.pad(inp[:, 0], (pw, pw, ph, ph))[:, 0:(h - 1) * sh + 1:sh, 0:(w - 1) * sw + 1:sw]
    return F.instance_norm(inp, eps=m.eps)[:, 0]


def _first_element_jacobian_loop(model: nn.Module, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(J, logits)`` as :func:`_first_element_jacobian_hooks`, by ``jacrev`` on each image alone (any model)."""
    model = _per_sample_bn(copy.deepcopy(model)).eval()
    names = [k for k, _ in model.named_parameters()]
    base = {k: v.detach() for k, v in model.named_parameters()}
    s0 = {k: base[k].reshape(-1)[:1].clone() for k in names}

    def logits(s, x1):
        params = {k: torch.cat([s[k], base[k].reshape(-1)[1:]]).view_as(base[k]) for k in names}
        return logits_of(functional_call(model, params, (x1,))).squeeze(0)

    jacs, outs = [], []
    for i in range(x.shape[0]):
        x1 = x[i:i + 1]
        jac = jacrev(logits)(s0, x1)
        jacs.append(torch.cat([jac[k].reshape(jac[k].shape[0], -1) for k in names], dim=1).double())  # (C, P)
        with torch.no_grad():
            outs.append(logits(s0, x1))
    return torch.stack(jacs), torch.stack(outs)


def fisher_subset(model: nn.Module, x: torch.Tensor, reference: bool, method: str = "auto") -> torch.Tensor:
    """The (P, P) Fisher matrix of the first element of each parameter tensor (module docstring).

    ``method``: ``"hooks"`` (:func:`_first_element_jacobian_hooks`), ``"loop"`` (per-image ``jacrev``) or
    ``"auto"``: hooks when every parameter is on a Conv2d / Linear / BatchNorm2d and no layer runs twice, else
    the loop: the same equation either way. ``model`` is not changed (each method works on a copy)."""
    if method not in ("auto", "hooks", "loop"):
        raise ValueError(f"unknown method {method!r}; known: auto, hooks, loop")
    found = None
    if method != "loop" and _hookable(model):
        found = _first_element_jacobian_hooks(model, x)
    if found is None and method == "hooks":
        raise ValueError("the hooks method needs every parameter on a Conv2d / Linear / BatchNorm2d run once "
                         "(linear layers on (B, F) inputs)")
    jac, out = found if found is not None else _first_element_jacobian_loop(model, x)
    p = torch.softmax(out.double(), dim=1)
    if reference:
        p = p * (1 - ALPHA) + ALPHA / p.shape[1]
        lj = multinomial_cholesky(p) @ jac
        fim = torch.einsum("bcp,bcq->pq", lj, lj)
    else:
        cov = torch.diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1)
        fim = torch.einsum("bcp,bcd,bdq->pq", jac, cov, jac)
    return fim / x.shape[0]


@register_proxy
class Vkdnw(Proxy):
    __doc__ = __doc__
    fixed_batch = True
    name = "vkdnw"
    version = 2  # 2: batched per-image Jacobian (hooks); float32 values moved by ~1e-4 from the jacrev loop's
    direction = Direction.HIGHER
    needs = Needs(gradients=True, batch_size=VKDNW_BATCH, alters_weights=True)
    mode_needs = {"reference": Needs(gradients=True, batch_size=VKDNW_BATCH, input="gaussian", alters_weights=True,
                                     init="kaiming_normal")}
    paper = PAPER
    equation = "vkdnw = H(normalised deciles of eig(E_n J_nᵀ (diag p_n - p_n p_nᵀ) J_n)), θ' = θ_k[0] ∀k"
    modes = ("clean", "reference")

    def compute(self, ctx, mode: str) -> float:
        model = ctx.fresh_model()
        if mode == "reference":
            kaiming_normal_init(model, ctx.generator("vkdnw-init"))
            x = torch.randn((VKDNW_BATCH, *ctx.batch.images.shape[1:]), generator=ctx.generator("vkdnw-input"),
                            device=ctx.device)
        else:
            x = ctx.images(VKDNW_BATCH)
        fim = fisher_subset(model, x, reference=mode == "reference")
        if not bool(torch.isfinite(fim).all()):
            raise ProxyFailure(Status.NAN, "the Fisher matrix has NaN / inf entries")
        lam = torch.linalg.svdvals(fim)
        if not float(lam.max()) > 0:
            raise ProxyFailure(Status.NO_PATH, "the Fisher matrix is zero")
        return finite_or_fail(decile_entropy(lam), "vkdnw")


@register_proxy
class VkdnwDim(Proxy):
    __doc__ = __doc__
    name = "vkdnw_dim"
    direction = Direction.HIGHER
    needs = Needs(input="none", bn="n/a")
    paper = PAPER
    equation = "vkdnw_dim = number of parameter tensors (VKDNW's first ranking key)"

    def compute(self, ctx, mode: str) -> float:
        return float(sum(1 for _ in ctx.model.named_parameters()))


