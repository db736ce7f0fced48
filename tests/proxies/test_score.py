"""Tests of nwot.proxies.naswot against hand-computed kernels and a deliberately naive implementation.

The naive versions below capture every code explicitly and count pairwise Hamming distances in
Python loops; the reference-mode one follows the released code's six rules with its own machinery
(the legacy module backward hook and ``.backward()``), independent of nwot.proxies.naswot's.
"""
from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import nwot.proxies.gram as gram_mod
import nwot.proxies.naswot as score_mod
from nwot.errors import NwotError
from nwot.proxies.naswot import hamming_kernel_update, kernel_from_codes, logdet_score, naswot_kernel, naswot_score
from nwot.scores.scorer import ScoreConfig
from nwot.seeding import torch_seed

# ------------------------------------------------------------------------------------------------
# Naive implementations.
# ------------------------------------------------------------------------------------------------


def naive_kernel(code_layers):
    """K[i, j] = sum over layers of (U - #units where codes differ), by explicit pair loops."""
    codes = np.concatenate([np.asarray(c, dtype=bool) for c in code_layers], axis=1)
    n_images, n_units = codes.shape
    K = np.zeros((n_images, n_images), dtype=np.int64)
    for i in range(n_images):
        for j in range(n_images):
            hamming = int(np.count_nonzero(codes[i] != codes[j]))
            K[i, j] = n_units - hamming
    return K, n_units


def naive_clean_codes(model, images):
    """Codes (output > 0) of every nn.ReLU call; BatchNorm uses batch statistics (train mode)."""
    model = copy.deepcopy(model)
    model.train()  # the test models have no dropout, so this equals "BN train, rest eval"
    layers = []

    def grab(module, inp, out):
        layers.append((out.detach().reshape(out.shape[0], -1) > 0).numpy().copy())

    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(grab)
    with torch.no_grad():
        model(images.clone())
    return layers


def naive_reference_codes(model, images):
    """The released code's rules: 'ReLU' in str(type), input > 0, train mode, backward-visited only."""
    model = copy.deepcopy(model)
    model.train()
    layers = []

    def forward_hook(module, inp, out):
        if getattr(module, "visited_backwards", False):
            x = inp[0] if isinstance(inp, tuple) else inp
            layers.append((x.detach().reshape(x.shape[0], -1) > 0).numpy().copy())

    def backward_hook(module, grad_in, grad_out):
        module.visited_backwards = True

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # legacy register_backward_hook is deprecated; the paper used it
        for m in model.modules():
            if "ReLU" in str(type(m)):
                m.register_forward_hook(forward_hook)
                m.register_backward_hook(backward_hook)
        x = images.clone().requires_grad_(True)
        out = model(x * 1.0)
        y = out[0] if isinstance(out, tuple) else out
        y.backward(torch.ones_like(y))
        model(images.clone())
    return layers


def naive_logdet(K):
    sign, logabsdet = np.linalg.slogdet(K.astype(np.float64))
    return float(logabsdet) if sign != 0 else float("-inf")


def naive(model, images, compat):
    layers = naive_clean_codes(model, images) if compat == "clean" else naive_reference_codes(model, images)
    K, n_units = naive_kernel(layers)
    return K, n_units, naive_logdet(K)


# ------------------------------------------------------------------------------------------------
# Small test networks.
# ------------------------------------------------------------------------------------------------


class ReLUConvBN(nn.Module):
    """A container whose class name contains 'ReLU' (the reference mode hooks it too)."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.op(x)


class NestedBlock(nn.Module):
    """Nested modules, an inplace ReLU, and one nn.ReLU called twice."""

    def __init__(self, c):
        super().__init__()
        self.inner = nn.Sequential(ReLUConvBN(c, c), nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True)))
        self.shared = nn.ReLU()
        self.conv = nn.Conv2d(c, c, 1)

    def forward(self, x):
        y = self.shared(self.inner(x) + x)
        return self.shared(self.conv(y) - 0.1)


class SmallConvNet(nn.Module):
    def __init__(self, c=4, out=1, inplace_first=False):
        super().__init__()
        self.first = nn.ReLU(inplace=True) if inplace_first else nn.Identity()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.BatchNorm2d(c))
        self.block = NestedBlock(c)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, out))

    def forward(self, x):
        return self.head(self.block(self.stem(self.first(x))))


class DeadBranchNet(nn.Module):
    """A ReLU whose output never reaches the logits: counted in clean mode, not in reference mode."""

    def __init__(self):
        super().__init__()
        self.fc1, self.relu1 = nn.Linear(12, 10), nn.ReLU()
        self.side, self.dead = nn.Linear(12, 7), nn.ReLU()
        self.fc2 = nn.Linear(10, 1)

    def forward(self, x):
        x = x.flatten(1)
        self.dead(self.side(x))
        return self.fc2(self.relu1(self.fc1(x)))


class TupleOutputNet(nn.Module):
    """Returns (logits, features) like the released code's TinyNetwork."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(12, 9), nn.ReLU(), nn.Linear(9, 6), nn.ReLU())
        self.fc = nn.Linear(6, 1)

    def forward(self, x):
        f = self.body(x)
        return self.fc(f), f


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))


def images(n=8, shape=(3, 2, 2), seed=0):
    return torch.randn((n, *shape), generator=torch.Generator().manual_seed(seed))


SMALL_NETS = {
    "mlp": (mlp, (3, 2, 2)),
    "conv": (lambda: SmallConvNet(), (3, 5, 5)),
    "conv_inplace_first": (lambda: SmallConvNet(c=3, out=2, inplace_first=True), (3, 4, 4)),
    "dead_branch": (DeadBranchNet, (3, 2, 2)),
    "tuple_output": (TupleOutputNet, (3, 2, 2)),
}

# ------------------------------------------------------------------------------------------------
# Hand-computed example.
# ------------------------------------------------------------------------------------------------


def hand_model():
    """x -> ReLU -> Linear(W, b) -> ReLU with W, b chosen so that the codes below hold."""
    m = nn.Sequential(nn.ReLU(), nn.Linear(4, 2), nn.ReLU())
    with torch.no_grad():
        m[1].weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]]))
        m[1].bias.fill_(-0.5)
    return m


HAND_IMAGES = torch.tensor([[1.0, -1.0, 2.0, -2.0], [1.0, 1.0, -1.0, -1.0], [-1.0, -1.0, 1.0, 1.0]])
# Layer 1 codes (x > 0): 1010, 1100, 0011 -> d_H(1,2) = 2, d_H(1,3) = 2, d_H(2,3) = 4.
# Layer 2: relu(x) = [1,0,2,0], [1,1,0,0], [0,0,1,1]; pre-activations (h0 - .5, h2 - h3 - .5) =
# (.5, 1.5), (.5, -.5), (-.5, -.5) -> codes 11, 10, 00 -> d_H = 1, 2, 1.
# N_A = 4 + 2 = 6; total d_H = 3, 4, 5  ->  K = 6 - d_H.
HAND_K = [[6, 3, 2], [3, 6, 1], [2, 1, 6]]
# det K = 6 (36 - 1) - 3 (18 - 2) + 2 (3 - 12) = 210 - 48 - 18 = 144.
HAND_LOGDET = math.log(144)


@pytest.mark.parametrize("compat", ["clean", "reference"])
def test_hand_computed_example(compat):
    K = naswot_kernel(hand_model(), HAND_IMAGES, compat=compat, device="cpu")
    assert K.dtype == torch.float64 and K.device.type == "cpu"
    assert K.tolist() == HAND_K
    assert naswot_score(hand_model(), HAND_IMAGES, compat=compat, device="cpu") == pytest.approx(HAND_LOGDET, rel=1e-12)


def test_kernel_from_codes_by_hand():
    codes = np.array([[1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=bool)
    K = kernel_from_codes(codes)
    assert K.tolist() == [[4, 2, 2], [2, 4, 0], [2, 0, 4]]  # 4 - d_H with d_H = 2, 2, 4
    layer2 = torch.tensor([[1, 1], [1, 0], [0, 0]], dtype=torch.bool)
    K2 = hamming_kernel_update(K, layer2)
    assert K2.tolist() == HAND_K
    assert K.tolist() == [[4, 2, 2], [2, 4, 0], [2, 0, 4]]  # pure: input untouched
    assert logdet_score(K2) == pytest.approx(HAND_LOGDET, rel=1e-12)
    xx, nn_ = score_mod.reference_layer_terms(codes)
    assert xx.dtype == torch.float32 and (xx + nn_).tolist() == K.tolist()


def test_kernel_from_codes_blocks_are_exact(monkeypatch):
    rng = np.random.default_rng(3)
    codes = rng.random((7, 23)) > 0.4
    expected, _ = naive_kernel([codes])
    monkeypatch.setattr(gram_mod, "FP32_EXACT_COLUMNS", 5)  # force 5 column blocks
    assert kernel_from_codes(codes).numpy().tolist() == expected.tolist()


def test_kernel_from_codes_rejects_non_bool():
    with pytest.raises(NwotError, match="bool"):
        kernel_from_codes(np.zeros((3, 4), dtype=np.int64))
    with pytest.raises(NwotError, match="does not match"):
        hamming_kernel_update(torch.zeros((2, 2), dtype=torch.float64), np.zeros((3, 4), dtype=bool))


# ------------------------------------------------------------------------------------------------
# Agreement with the naive implementation.
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compat", ["clean", "reference"])
@pytest.mark.parametrize("name", sorted(SMALL_NETS))
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_naive_implementation(name, compat, seed):
    build, shape = SMALL_NETS[name]
    with torch_seed(seed):
        model = build()
    x = images(10, shape, seed=seed)
    K_naive, n_units, s_naive = naive(model, x, compat)
    K = naswot_kernel(model, x, compat=compat, device="cpu")
    assert K.numpy().tolist() == K_naive.tolist()  # exact integers
    s = naswot_score(model, x, compat=compat, device="cpu")
    assert math.isfinite(s_naive)
    assert s == pytest.approx(s_naive, rel=1e-9)
    if compat == "clean":
        assert (K.diagonal() == n_units).all()


def test_reference_mode_rules_on_small_nets():
    x = images(10, (3, 2, 2))
    with torch_seed(0):
        dead = DeadBranchNet()
    # clean counts the dead branch's 7 units; reference only the 10 units that reach the logits.
    assert naswot_kernel(dead, x, compat="clean")[0, 0].item() == 17
    assert naswot_kernel(dead, x, compat="reference")[0, 0].item() == 10
    with torch_seed(0):
        conv = SmallConvNet()
    x = images(6, (3, 5, 5))
    clean = naswot_kernel(conv, x, compat="clean")
    ref = naswot_kernel(conv, x, compat="reference")
    units = 4 * 5 * 5  # every ReLU call here has 4 x 5 x 5 units
    assert clean[0, 0].item() == 4 * units  # ReLUConvBN's ReLU, inner inplace ReLU, shared ReLU twice
    assert ref[0, 0].item() == 5 * units  # + the ReLUConvBN container's input (counted twice)


def test_relu6_is_not_counted_in_clean_mode_but_is_in_reference_mode():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.ReLU6(), nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 1))
    x = images(4)
    assert naswot_kernel(model, x, compat="clean")[0, 0].item() == 3
    assert naswot_kernel(model, x, compat="reference")[0, 0].item() == 8


# ------------------------------------------------------------------------------------------------
# Determinism, degenerate kernels and errors.
# ------------------------------------------------------------------------------------------------


def test_torch_seed_is_deterministic_and_restores_global_rng():
    x = images(10, (3, 5, 5))
    before = torch.get_rng_state()
    scores = []
    for seed in (0, 0, 1):
        with torch_seed(seed):
            model = SmallConvNet()
        scores.append(naswot_score(model, x, device="cpu"))
    assert torch.equal(torch.get_rng_state(), before)
    assert scores[0] == scores[1]
    assert scores[0] != scores[2]
    with pytest.raises(NwotError, match="seed"):
        with torch_seed(-1):
            pass


def test_identical_codes_give_minus_infinity():
    with torch_seed(0):
        model = mlp()
    x = images(1).repeat(6, 1, 1, 1)  # six copies of one image: every code identical
    K = naswot_kernel(model, x)
    assert (K == 32).all()  # N_A = 16 + 16 everywhere
    assert naswot_score(model, x) == float("-inf")
    # two equal rows among distinct ones: singular as well
    codes = np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1]], dtype=bool)
    assert logdet_score(kernel_from_codes(codes)) == float("-inf")


def test_nan_images_and_nan_activations_raise():
    with torch_seed(0):
        model = mlp()
    x = images(4)
    x[1, 0, 0, 0] = float("nan")
    with pytest.raises(NwotError, match="NaN"):
        naswot_score(model, x)

    class Blowup(nn.Module):
        def forward(self, x):
            return x * float("inf")

    bad = nn.Sequential(nn.Flatten(), nn.Linear(12, 4), Blowup(), nn.ReLU(), nn.Linear(4, 1))
    for compat in ("clean", "reference"):
        with pytest.raises(NwotError, match=r"module 3 \(ReLU\).*NaN or inf"):
            naswot_score(bad, images(4), compat=compat)
    assert not bad[3]._forward_hooks  # hooks removed after the exception


def test_model_without_relu_modules_raises():
    class FunctionalRelu(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(12, 3)

        def forward(self, x):
            return F.relu(self.fc(x.flatten(1)))

    for model in (FunctionalRelu(), nn.Sequential(nn.Flatten(), nn.Linear(12, 3), nn.Tanh())):
        with pytest.raises(NwotError, match="F.relu"):
            naswot_score(model, images(4))

    class UnusedRelu(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.relu = nn.Linear(12, 3), nn.ReLU()

        def forward(self, x):
            return self.fc(x.flatten(1))

    with pytest.raises(NwotError, match="was called"):
        naswot_score(UnusedRelu(), images(4))


def test_bad_arguments_name_allowed_values():
    with pytest.raises(NwotError, match=r"'clean', 'reference'"):
        naswot_score(mlp(), images(4), compat="paper")
    with pytest.raises(NwotError, match="device"):
        naswot_score(mlp(), images(4), device="not-a-device")
    with pytest.raises(NwotError, match="floating-point"):
        naswot_score(mlp(), np.zeros((4, 3, 2, 2)))
    with pytest.raises(NwotError, match="compat"):
        ScoreConfig(compat="paper")
    with pytest.raises(NwotError, match="batch_size"):
        ScoreConfig(batch_size=0)
    assert ScoreConfig().batch_size == 128 and ScoreConfig().compat == "clean"


@pytest.mark.parametrize("compat", ["clean", "reference"])
def test_model_state_is_restored(compat):
    with torch_seed(0):
        model = SmallConvNet(inplace_first=True)
    model.eval()
    model.block.inner.train()  # mixed modes must come back exactly
    modes = {name: m.training for name, m in model.named_modules()}
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    x = images(6, (3, 5, 5))
    x_before = x.clone()
    naswot_score(model, x, compat=compat, device="cpu")
    assert {name: m.training for name, m in model.named_modules()} == modes
    for name, b in model.named_buffers():
        assert torch.equal(b, buffers[name]), name  # BN running statistics untouched
    assert torch.equal(x, x_before)  # the inplace first ReLU worked on a copy
    assert all(p.grad is None for p in model.parameters())
    assert all(not m._forward_hooks and not m._backward_hooks for m in model.modules())


def test_batchnorm_uses_batch_statistics():
    """With default init, eval-mode BN is the identity; the score must not depend on the model's mode."""
    with torch_seed(0):
        model = SmallConvNet()
    x = images(8, (3, 5, 5))
    model.train()
    s_train = naswot_score(model, x)
    model.eval()
    assert naswot_score(model, x) == s_train


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_kernel_is_exact():
    codes = np.random.default_rng(5).random((9, 301)) > 0.5
    expected, _ = naive_kernel([codes])
    assert kernel_from_codes(torch.from_numpy(codes).cuda()).cpu().numpy().tolist() == expected.tolist()
    for compat in ("clean", "reference"):
        K = naswot_kernel(hand_model(), HAND_IMAGES, compat=compat, device="cuda")
        assert K.device.type == "cpu" and K.tolist() == HAND_K


# ------------------------------------------------------------------------------------------------
# A real NAS-Bench-201 network on real CIFAR-10 images.
# ------------------------------------------------------------------------------------------------

NB201_ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.fixture(scope="module")
def cifar16():
    """The first 16 images of the JPEG-derived CIFAR-10 training batch, NB201-normalised (from the embedded
    sample, which is that batch's first 1,280 images: tests/datasets/test_data.py)."""
    from nwot.data.datasets import load_embedded_sample, normalise

    images, _, _ = load_embedded_sample()
    return normalise(images[:16], "cifar10")


def test_nb201_network_matches_naive_in_both_modes(cifar16):
    from nwot.spaces.nb201.model import build_nb201

    with torch_seed(0):
        net = build_nb201(NB201_ARCH, num_classes=1)
    K_clean_naive, n_units, s_clean_naive = naive(net, cifar16, "clean")
    K_ref_naive, _, s_ref_naive = naive(net, cifar16, "reference")
    K_clean = naswot_kernel(net, cifar16, compat="clean", device="cpu")
    K_ref = naswot_kernel(net, cifar16, compat="reference", device="cpu")
    assert K_clean.numpy().tolist() == K_clean_naive.tolist()
    assert K_ref.numpy().tolist() == K_ref_naive.tolist()
    assert logdet_score(K_clean) == pytest.approx(s_clean_naive, rel=1e-9)
    assert logdet_score(K_ref) == pytest.approx(s_ref_naive, rel=1e-9)
    # Clean: diag = N_A. Each cell has 3 nor_conv_3x3 edges (one ReLU each); a ReLU sees C x H x W
    # units = 16x32x32, 32x16x16, 64x8x8 in the three stages; each reduction block has two ReLUConvBN
    # (input at the old, then the new resolution); the head has one ReLU at 64x8x8.
    u1, u2, u3 = 16 * 32 * 32, 32 * 16 * 16, 64 * 8 * 8
    expected_units = 3 * 5 * (u1 + u2 + u3) + (u1 + u2) + (u2 + u3) + u3
    assert n_units == expected_units
    assert (K_clean.diagonal() == expected_units).all()
    # Reference: every ReLUConvBN container repeats its inner ReLU's input -> all but the final ReLU twice.
    assert (K_ref.diagonal() > K_clean.diagonal()).all()
    assert (K_ref.diagonal() == 2 * expected_units - u3).all()
