"""Hand-checked proxy values on a tiny network with fixed weights, against independent slow implementations
(central finite differences in float64, explicit loops, closed forms)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nwot.proxies import Batch, score_proxies
from tests._proxy_nets import TinyNet, tiny_batch

B = tiny_batch(n=128)


def val(name, mode="clean", batch=B, build=TinyNet, **kw):
    r = score_proxies(build, batch, [name], mode=mode, **kw)[name]
    assert r.ok, r
    return r.value


def loss_of(net, x, y):
    """Cross-entropy with BN on batch statistics, float64, on a copy (independent of nwot's passes)."""
    net = net.double().train()
    return F.cross_entropy(net(x.double()), y)


def fd_grad(f, w: torch.Tensor, eps=1e-6) -> torch.Tensor:
    """Central finite-difference gradient of the scalar ``f()`` w.r.t. the tensor ``w`` (edited in place)."""
    g = torch.zeros_like(w)
    flat, gf = w.data.view(-1), g.view(-1)
    for i in range(flat.numel()):
        old = float(flat[i])
        flat[i] = old + eps
        up = float(f())
        flat[i] = old - eps
        dn = float(f())
        flat[i] = old
        gf[i] = (up - dn) / (2 * eps)
    return g


def grads32():
    net = TinyNet().double().train()
    x, y = B.images[:32].double(), B.labels[:32]
    f = lambda: F.cross_entropy(net(x), y)  # noqa: E731
    return net, {"conv": fd_grad(f, net.stem[0].weight), "lin": fd_grad(f, net.classifier.weight)}


def test_snip_grad_norm_plain_against_finite_differences():
    net, g = grads32()
    w = {"conv": net.stem[0].weight.data, "lin": net.classifier.weight.data}
    assert val("snip") == pytest.approx(sum(float((w[k] * g[k]).abs().sum()) for k in w), rel=1e-4)
    assert val("plain") == pytest.approx(sum(float((w[k] * g[k]).sum()) for k in w), rel=1e-3, abs=1e-7)
    assert val("grad_norm") == pytest.approx(sum(float(g[k].norm()) for k in w), rel=1e-4)


def test_grasp_against_finite_difference_hessian_vector_product():
    net, g = grads32()
    x, y = B.images[:32].double(), B.labels[:32]
    params = [net.stem[0].weight, net.classifier.weight]
    gvec = [g["conv"], g["lin"]]

    def grad_at(shift):
        with torch.no_grad():
            for p, v in zip(params, gvec):
                p.add_(shift * v)
        gs = torch.autograd.grad(F.cross_entropy(net(x), y), params)
        with torch.no_grad():
            for p, v in zip(params, gvec):
                p.sub_(shift * v)
        return gs

    eps = 1e-4
    hg = [(a - b) / (2 * eps) for a, b in zip(grad_at(eps), grad_at(-eps))]
    expected = -sum(float((p.detach() * h).sum()) for p, h in zip(params, hg))
    assert val("grasp") == pytest.approx(expected, rel=1e-4)


def test_fisher_both_modes_by_hand():
    net = TinyNet().double().train()
    x, y = B.images[:32].double(), B.labels[:32]
    # explicit forward with the two conv / linear outputs as leaves of their own
    a1 = F.conv2d(x, net.stem[0].weight).detach().requires_grad_(True)
    h = F.relu(F.batch_norm(a1, None, None, net.stem[1].weight, net.stem[1].bias, training=True))
    a2_in = h.mean(dim=(2, 3))
    a2 = F.linear(a2_in, net.classifier.weight).detach().requires_grad_(True)
    # d loss / d a1 must flow through the rest of the network: recompute with a2 as a function of a1
    loss1 = F.cross_entropy(F.linear(F.relu(F.batch_norm(a1, None, None, net.stem[1].weight, net.stem[1].bias,
                                                         training=True)).mean(dim=(2, 3)), net.classifier.weight), y)
    (g1,) = torch.autograd.grad(loss1, a1)
    (g2,) = torch.autograd.grad(F.cross_entropy(a2, y), a2)
    d1 = 0.5 * ((a1 * g1).sum(dim=(2, 3)) ** 2).mean(0)
    d2 = 0.5 * ((a2 * g2) ** 2).mean(0)
    assert val("fisher") == pytest.approx(float(d1.sum() + d2.sum()), rel=1e-4)
    assert val("fisher", "reference") == pytest.approx(float(3 * d1.sum() + 2 * d2.sum()), rel=1e-4)  # × fan-in


def test_synflow_is_euler_sum_of_the_path_norm():
    # BN bypassed, |θ|, ones input: R = 1ᵀ|W2||W1|1_3 (pooling a constant map); R is 1-homogeneous in each
    # of the two layers, so Σ θ ∂R/∂θ = 2R.
    w1 = TinyNet().stem[0].weight.detach().abs().view(2, 3).double()
    w2 = TinyNet().classifier.weight.detach().abs().double()
    r = float(torch.ones(3, dtype=torch.float64) @ w2 @ w1 @ torch.ones(3, dtype=torch.float64))
    assert val("synflow") == pytest.approx(2 * r, rel=1e-12)


def test_l2_norm_params_flops_by_hand():
    assert val("l2_norm") == pytest.approx(math.sqrt(0.25 + 0.09 + 0.04 + 0.16 + 0.36 + 0.01)
                                           + math.sqrt(0.49 + 0.04 + 0.01 + 0.81 + 0.25 + 0.09), rel=1e-6)
    assert val("params") == 6 + 4 + 6  # conv 2x3, BN weight + bias, linear 3x2
    assert val("flops") == 4 * 4 * 2 * 3 + 2 * 3  # 1x1 conv on 4x4 pixels + linear
    assert val("az_nas_complexity") == 102 and val("vkdnw_dim") == 4


def input_jacobian_fd(n):
    net = TinyNet().double().train()
    x = B.images[:n].double().clone()
    f = lambda: net(x).sum()  # noqa: E731  (BN couples the batch: the sum of all logits, as y.backward(ones))
    return fd_grad(f, x).reshape(n, -1)


def test_jacov_and_epe_nas_against_numpy():
    # 8 images (of 48 input values): a well-conditioned correlation matrix, so float32 vs float64 does not matter
    jac = input_jacobian_fd(8).numpy()
    corr = np.corrcoef(jac)
    v = np.linalg.eigvalsh(corr)
    k = 1e-5
    assert val("jacov", batch_sizes={"jacov": 8}) == pytest.approx(-np.sum(np.log(v + k) + 1 / (v + k)), rel=1e-5)
    labels = B.labels[:8].numpy()
    e = 0.0
    for c in range(3):
        cc = np.corrcoef(jac[labels == c])
        e += abs(np.sum(np.log(np.abs(cc) + k)))
    assert val("epe_nas", batch_sizes={"epe_nas": 8}) == pytest.approx(e, rel=1e-5)


def test_naswot_against_explicit_hamming_kernel():
    net = TinyNet().train()
    x = B.images[:12]
    with torch.no_grad():
        pre = net.stem(x)  # the only ReLU's input
    c = (pre > 0).reshape(12, -1).numpy().astype(int)
    k = c.shape[1] - (c[:, None, :] != c[None, :, :]).sum(-1)  # N_A - Hamming distance
    sign, logdet = np.linalg.slogdet(k.astype(float))
    assert sign != 0
    assert val("naswot", batch_sizes={"naswot": 12}) == pytest.approx(logdet, rel=1e-9)
    # 128 images but 32 ReLU units: K_H has rank <= 33, singular -> -inf with status singular
    r = score_proxies(TinyNet, B, ["naswot"])["naswot"]
    assert r.value == -math.inf and r.status.value == "singular"


def test_zico_formula():
    from nwot.proxies.zico import zico_score

    g1 = {"a": torch.tensor([1.0, 2.0, 3.0]), "b": torch.tensor([[0.5, 0.5]])}
    g2 = {"a": torch.tensor([3.0, 2.0, -1.0]), "b": torch.tensor([[0.5, -0.5]])}
    # layer a: mean|g| = (2, 2, 2), std = (1, 0, 2) -> 2/1 + 2/2 (the zero-std weight is skipped) = 3
    # layer b: mean|g| = (.5, .5), std = (0, .5) -> 1
    assert zico_score([g1, g2]) == pytest.approx(math.log(3.0) + math.log(1.0))


def test_zico_end_to_end_two_halves():
    from nwot.proxies.zico import zico_score

    per = []
    for s in (0, 64):
        net = TinyNet().double().train()
        x, y = B.images[s:s + 64].double(), B.labels[s:s + 64]
        def f(net=net, x=x, y=y):
            return F.cross_entropy(net(x), y)
        per.append({"c": fd_grad(f, net.stem[0].weight), "l": fd_grad(f, net.classifier.weight)})
    assert val("zico") == pytest.approx(zico_score(per), rel=1e-4)


def test_meco_clean_by_hand():
    net = TinyNet().train()
    x = B.images[:1]
    with torch.no_grad():
        a = net.stem[0](x)
        b = net.stem[1](a)
        r = torch.relu(b)
        p = r.mean(dim=(2, 3), keepdim=True)

    def lam(t):
        m = np.corrcoef(t[0].reshape(t.shape[1], -1).double().numpy())
        m = np.where(np.isfinite(m), m, 0.0)
        return np.linalg.eigvalsh(m)[0]

    assert val("meco") == pytest.approx(lam(a) + lam(b) + lam(r) + lam(p), abs=1e-9)


def test_swap_counts_distinct_unit_patterns():
    from nwot.proxies.swap import count_patterns

    codes = torch.tensor([[1, 0, 1, 1], [0, 0, 0, 0], [1, 0, 1, 0]], dtype=torch.bool)  # 3 samples x 4 units
    assert count_patterns(codes) == 3  # unit patterns (1,0,1), (0,0,0), (1,0,1), (1,0,0)
    big = torch.zeros(70, 3, dtype=torch.bool)
    big[65, 0] = True  # differs only past the first 63-sample block
    assert count_patterns(big) == 2
    net = TinyNet().train()
    with torch.no_grad():
        c = (torch.relu(net.stem(B.images[:16])) > 0).reshape(16, -1).T.numpy()
    assert val("swap") == len({tuple(row) for row in c})


def test_te_nas_ntk_against_per_sample_finite_differences():
    net = TinyNet().double().train()
    x = B.images[:32].double()
    ws = [net.stem[0].weight, net.stem[1].weight, net.classifier.weight]
    rows = []
    for i in range(32):
        def f(i=i):
            return net(x)[i].sum()
        rows.append(torch.cat([fd_grad(f, w).reshape(-1) for w in ws]))
    g = torch.stack(rows)
    lam = np.linalg.eigvalsh((g @ g.T).numpy())
    # 14 weights, 32 samples: Θ has rank <= 14, so the clean NTK is singular -> +inf, status singular
    r = score_proxies(TinyNet, B, ["te_nas_ntk"])["te_nas_ntk"]
    assert lam[0] < 1e-8 * lam[-1] and r.status.value == "singular" and r.value == math.inf


def test_ntk_condition_number():
    from nwot.proxies.te_nas import ntk_condition

    g = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert ntk_condition(g) == pytest.approx(4.0)


def test_te_nas_linear_regions_distinct_rows():
    from nwot.proxies.te_nas import distinct_rows

    c = torch.tensor([[1, 0, 1], [1, 0, 1], [0, 0, 1]], dtype=torch.bool)
    assert distinct_rows(c) == 2
    net = TinyNet().train()
    from nwot.proxies.context import _stable_seed

    gen = torch.Generator().manual_seed(_stable_seed(0, "te_nas_lr"))
    xg = torch.randn((32, 3, 4, 4), generator=gen)
    with torch.no_grad():
        codes = (torch.relu(net.stem(xg)) > 0).reshape(32, -1).numpy()
    assert val("te_nas_lr") == len({tuple(r) for r in codes})


def test_az_nas_expressivity_of_isotropic_features_is_log_c():
    from nwot.proxies.az_nas import expressivity_terms

    f = torch.zeros(2, 2, 2, 2)  # 8 rows of 2 channels: (±1, ±1) balanced -> covariance = identity
    f[:, 0] = torch.tensor([[1.0, -1.0], [1.0, -1.0]])
    f[:, 1] = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    assert expressivity_terms([f])[0] == pytest.approx(math.log(2), abs=1e-7)
    g = f.clone()
    g[:, 1] = 0  # all variance on one channel -> entropy 0
    assert expressivity_terms([g])[0] == pytest.approx(0.0, abs=1e-6)


def test_az_nas_trainability_of_a_scaling_block():
    from nwot.proxies.az_nas import trainability_terms

    fin = torch.randn(4, 3, 2, 2, requires_grad=True)
    fout = 2 * fin
    gen = torch.Generator().manual_seed(5)
    got = trainability_terms([fin, fout], gen, reference=False)
    gen = torch.Generator().manual_seed(5)
    go = (torch.bernoulli(torch.full_like(fout, 0.5), generator=gen) - 0.5) * 2
    m = (2 * go).permute(0, 2, 3, 1).reshape(-1, 3).double()
    s = float(torch.linalg.svdvals(m.T @ go.permute(0, 2, 3, 1).reshape(-1, 3).double() / 16).max())
    assert got == [pytest.approx(-s - 1 / (s + 1e-6) + 2)]
    ident = trainability_terms([fin, fin * 1.0], torch.Generator().manual_seed(5), reference=True)
    assert ident == [-math.inf]  # the released code's identity rule


def test_az_nas_components_end_to_end():
    from nwot.proxies.az_nas import expressivity_terms

    net = TinyNet().train()
    with torch.no_grad():
        s = net.stem(B.images[:64])
        c = torch.relu(s)
    e = expressivity_terms([s, c])
    assert val("az_nas_expressivity") == pytest.approx(e.sum(), rel=1e-9)
    assert val("az_nas_progressivity") == pytest.approx(e[1] - e[0], rel=1e-9, abs=1e-12)


def test_multinomial_cholesky_and_deciles():
    from nwot.proxies.vkdnw import decile_entropy, multinomial_cholesky

    p = torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]], dtype=torch.float64)
    L = multinomial_cholesky(p)
    cov = torch.diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1)
    assert torch.allclose(L @ L.transpose(1, 2), cov, atol=1e-12)
    assert torch.equal(L, torch.tril(L))
    lam = torch.arange(1, 12, dtype=torch.float64)  # deciles of 1..11 are 2..10
    q = np.arange(2, 11, dtype=float)
    t = q / q.sum()
    assert decile_entropy(lam) == pytest.approx(-np.sum(t * np.log(t + 1e-10)), rel=1e-9)


def test_vkdnw_fisher_against_finite_differences():
    from nwot.proxies.vkdnw import _per_sample_bn, fisher_subset

    net = _per_sample_bn(TinyNet().double()).eval()
    x = B.images[:4].double()
    fim = fisher_subset(net, x, reference=False)
    params = list(net.parameters())  # conv.w, bn.w, bn.b, lin.w: their first elements
    expected = torch.zeros(4, 4, dtype=torch.float64)
    for i in range(4):
        xi = x[i:i + 1]
        cols = []
        for p in params:
            def f(c, p=p, xi=xi):
                return net(xi)[0, c]
            col = []
            for c in range(3):
                old = float(p.data.view(-1)[0])
                p.data.view(-1)[0] = old + 1e-6
                up = float(f(c))
                p.data.view(-1)[0] = old - 1e-6
                dn = float(f(c))
                p.data.view(-1)[0] = old
                col.append((up - dn) / 2e-6)
            cols.append(col)
        j = torch.tensor(cols, dtype=torch.float64).T  # (C, P)
        with torch.no_grad():
            pr = torch.softmax(net(xi)[0], 0)
        expected += j.T @ (torch.diag(pr) - torch.outer(pr, pr)) @ j
    assert torch.allclose(fim, expected / 4, rtol=1e-5, atol=1e-10)


class _StridedNet(torch.nn.Module):
    """Padded, strided and dilated convs with biases, a grouped conv, BN and a biased linear: every layer kind
    whose first-element gradient the batched (hooks) Jacobian reads off its input and output gradient."""

    def __init__(self) -> None:
        super().__init__()
        nn = torch.nn
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=True), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=2, bias=False),
                                  nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Linear(4, 5)

    def forward(self, x):
        return self.head(self.body(x).flatten(1))


class _SharedNet(TinyNet):
    """TinyNet whose stem runs twice: the batched Jacobian cannot read one layer twice, so ``auto`` loops."""

    def forward(self, x):
        x = self.stem[1](self.stem[0](x))
        x = self.stem[1](x)
        return self.classifier(self.global_pooling(torch.relu(x)).flatten(1))


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("build", [TinyNet, _StridedNet], ids=["tiny", "strided"])
def test_vkdnw_batched_jacobian_equals_the_per_image_loop(build, reference):
    from nwot.proxies.vkdnw import fisher_subset

    torch.manual_seed(3)
    net = build().double()
    x = torch.randn((6, 3, 8, 8), dtype=torch.float64)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    hooks = fisher_subset(net, x, reference, method="hooks")
    loop = fisher_subset(net, x, reference, method="loop")
    assert torch.allclose(hooks, loop, rtol=1e-12, atol=1e-18)
    assert float(hooks.abs().max()) > 0
    assert torch.equal(fisher_subset(net, x, reference), hooks)  # auto picks the batched method here
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())  # the model is not changed ...
    assert net.training  # ... nor its mode (each method works on an eval-mode copy)


def test_vkdnw_shared_layer_uses_the_loop_and_hooks_refuses():
    from nwot.proxies.vkdnw import fisher_subset

    net = _SharedNet().double()
    x = B.images[:4].double()
    assert torch.equal(fisher_subset(net, x, False), fisher_subset(net, x, False, method="loop"))
    with pytest.raises(ValueError, match="run once"):
        fisher_subset(net, x, False, method="hooks")
    with pytest.raises(ValueError, match="known: auto, hooks, loop"):
        fisher_subset(net, x, False, method="fast")


class _TokenNet(torch.nn.Module):
    """A linear layer on (B, T, F) inputs: its first-element gradient is not ``g[n, 0] x[n, 0]``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 1)
        self.mix = torch.nn.Linear(4, 4)
        self.head = torch.nn.Linear(4, 3)

    def forward(self, x):
        t = self.conv(x).flatten(2).transpose(1, 2)  # (B, HW, 4)
        return self.head(torch.relu(self.mix(t)).mean(1))


def test_vkdnw_linear_on_token_inputs_uses_the_loop():
    from nwot.proxies.vkdnw import fisher_subset

    torch.manual_seed(0)
    net = _TokenNet().double()
    x = torch.randn((4, 3, 4, 4), dtype=torch.float64)
    assert torch.equal(fisher_subset(net, x, False), fisher_subset(net, x, False, method="loop"))
    with pytest.raises(ValueError, match=r"\(B, F\) inputs"):
        fisher_subset(net, x, False, method="hooks")


def test_vkdnw_nb201_cell_batched_equals_loop():
    """One NB201 cell (the scored network), float64: the batched and the per-image Jacobian agree."""
    import nwot
    from nwot.proxies.vkdnw import fisher_subset
    from nwot.spaces.nb201.model import build_nb201

    with nwot.torch_seed(0):
        net = build_nb201("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|"
                          "skip_connect~2|", num_classes=10).double()
    x = torch.randn((3, 3, 32, 32), dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    hooks, loop = fisher_subset(net, x, False, method="hooks"), fisher_subset(net, x, False, method="loop")
    assert hooks.shape == (len(list(net.parameters())),) * 2
    assert torch.allclose(hooks, loop, rtol=1e-10, atol=1e-16 * float(loop.abs().max()))


def test_zen_clean_by_hand():
    from nwot.proxies.context import _stable_seed
    from nwot.proxies.inits import gaussian_init

    g = torch.Generator().manual_seed(_stable_seed(0, "zen"))
    net = gaussian_init(TinyNet(), g).train()
    x = torch.randn((64, 3, 4, 4), generator=g)
    eps = torch.randn((64, 3, 4, 4), generator=g)
    with torch.no_grad():
        a = net.stem[0](x)
        f1 = torch.relu(net.stem[1](a))
        f2 = torch.relu(net.stem[1](net.stem[0](x + 0.01 * eps)))
    delta = float((f1 - f2).abs().sum(dim=(1, 2, 3)).mean())
    sig = 0.5 * math.log(float(a.double().var(dim=(0, 2, 3), unbiased=False).mean()))
    assert val("zen") == pytest.approx(math.log(delta) + sig, rel=1e-6)


def test_aggregates():
    from nwot.proxies.population import (
        az_nas_aggregate,
        oriented_ranks,
        te_nas_aggregate,
        vkdnw_aggregate,
        vkdnw_single_rank,
    )

    assert list(oriented_ranks([3.0, float("nan"), 1.0, -math.inf])) == [4.0, 1.5, 3.0, 1.5]
    assert list(oriented_ranks([3.0, 1.0, 2.0], higher_is_better=False)) == [1.0, 3.0, 2.0]
    e, p, t, c = [1, 2, 3], [3, 2, 1], [1, 3, 2], [2, 1, 3]
    expect = [math.log(1 / 3) + math.log(1) + math.log(1 / 3) + math.log(2 / 3),
              math.log(2 / 3) + math.log(2 / 3) + math.log(1) + math.log(1 / 3),
              math.log(1) + math.log(1 / 3) + math.log(2 / 3) + math.log(1)]
    assert np.allclose(az_nas_aggregate(e, p, t, c), expect)
    assert list(te_nas_aggregate([10.0, 2.0, 5.0], [3, 3, 4])) == [1 + 1.5, 3 + 1.5, 2 + 3]
    assert list(vkdnw_single_rank([2, 1, 2, 1], [0.5, 0.9, 0.7, 0.9])) == [2, 1, 3, 1]
    v = vkdnw_aggregate([2, 1, 2], [0.5, 0.9, 0.7], [1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3])
    assert np.allclose(v, [math.log(2 / 3) + 4 * math.log(1 / 3), math.log(1 / 3) + 4 * math.log(2 / 3),
                           math.log(1) + 4 * math.log(1)])


def test_batch_with_labels_is_the_scoring_batch():
    import nwot
    from nwot.scores.proxy_store import labelled_batch

    b = labelled_batch("cifar10", 16, 3)
    assert torch.equal(b.images, nwot.scoring_batch("cifar10", 16, 3))
    assert b.labels.shape == (16,) and int(b.labels.max()) < 10 and b.num_classes == 10
    assert isinstance(b, Batch)
