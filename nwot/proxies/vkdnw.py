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

import torch
import torch.nn as nn
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


def fisher_subset(model: nn.Module, x: torch.Tensor, reference: bool) -> torch.Tensor:
    """The (P, P) Fisher matrix of the first element of each parameter tensor (module docstring)."""
    names = [k for k, _ in model.named_parameters()]
    base = {k: v.detach() for k, v in model.named_parameters()}
    s0 = {k: base[k].reshape(-1)[:1].clone() for k in names}

    def logits(s, x1):
        params = {k: torch.cat([s[k], base[k].reshape(-1)[1:]]).view_as(base[k]) for k in names}
        return logits_of(functional_call(model, params, (x1,))).squeeze(0)

    fim = torch.zeros((len(names), len(names)), dtype=torch.float64)
    for i in range(x.shape[0]):
        x1 = x[i:i + 1]
        jac = jacrev(logits)(s0, x1)
        j = torch.cat([jac[k].reshape(jac[k].shape[0], -1) for k in names], dim=1).double()  # (C, P)
        with torch.no_grad():
            p = torch.softmax(logits(s0, x1).double(), dim=0)
        if reference:
            p = p * (1 - ALPHA) + ALPHA / p.shape[0]
            lj = multinomial_cholesky(p.unsqueeze(0))[0] @ j
            fim += lj.T @ lj
        else:
            fim += j.T @ (torch.diag(p) - torch.outer(p, p)) @ j
    return fim / x.shape[0]


@register_proxy
class Vkdnw(Proxy):
    __doc__ = __doc__
    fixed_batch = True
    name = "vkdnw"
    direction = Direction.HIGHER
    needs = Needs(gradients=True, batch_size=VKDNW_BATCH, alters_weights=True)
    mode_needs = {"reference": Needs(gradients=True, batch_size=VKDNW_BATCH, input="gaussian", alters_weights=True,
                                     init="kaiming_normal")}
    paper = PAPER
    equation = "vkdnw = H(normalised deciles of eig(E_n J_nᵀ (diag p_n - p_n p_nᵀ) J_n)), θ' = θ_k[0] ∀k"
    modes = ("clean", "reference")

    def compute(self, ctx, mode: str) -> float:
        model = _per_sample_bn(ctx.fresh_model()).eval()
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


