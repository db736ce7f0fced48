"""Every exact shortcut of the NASWOT scorer against the naive kernel, on real NB201 cells (issue #14).

The shortcuts: each Gram method (int8 / float32 / float32 BLAS syrk / float64) forced in turn, one
product per distinct ReLU input (repeats reuse it), all-zero layers skipped, BatchNorm without
running-statistic writes, ``none`` edges left out of node sums. The naive kernel captures every
``nn.ReLU`` call's codes (clean) or the released code's input codes (reference) with its own hooks on
an unoptimised network (ATen pooling, ``none`` edges multiplied in) and counts pairwise agreements
with explicit loops (``tests/proxies/test_score.py``). Images: the embedded CIFAR-10 sample (real images,
shipped with the package).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as nn
from test_score import naive_clean_codes, naive_kernel, naive_reference_codes

import nwot.proxies.naswot as score_mod
from nwot.data.datasets import scoring_batch
from nwot.machine import calibration
from nwot.proxies import gram, gram_choice
from nwot.proxies.naswot import logdet_score, naswot_kernel
from nwot.seeding import torch_seed
from nwot.spaces.nb201 import model as nb201_model
from nwot.spaces.nb201.model import Pooling, build_nb201

CELLS = [  # node 0 feeds three convs (repeated codes), none edges, pooling, a dead node
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|",
    "|none~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|nor_conv_3x3~1|avg_pool_3x3~2|",
    "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|",
]


@pytest.fixture(scope="module")
def images():
    return scoring_batch("cifar10", batch_size=12, seed=3)


@pytest.fixture
def forced(monkeypatch):
    """``forced(method)``: make the scorer use that Gram method (as ``NWOT_GRAM_METHOD`` does)."""
    def force(method: str) -> None:
        monkeypatch.setenv(gram_choice.ENV_GRAM, method)
        calibration.reset()

    yield force
    calibration.reset()


class AtenPooling(Pooling):
    def forward(self, x):
        return self.op(x)  # NB201 cells keep the width: no preprocess


class PlainCell(nb201_model.InferCell):
    def forward(self, x):
        nodes = [x]
        for i in range(1, nb201_model.NUM_NODES):
            terms = [layer(nodes[j]) for layer, (j, t) in zip(self.layers, nb201_model.EDGES) if t == i]
            nodes.append(sum(terms[1:], terms[0]))
        return nodes[-1]


def unoptimised_network(arch, seed, num_classes=10):
    """The NB201 network with ATen pooling and the plain node sums (every ``none`` edge multiplied in)."""
    with torch_seed(seed):
        net = build_nb201(arch, num_classes=num_classes)
    for m in net.modules():
        if isinstance(m, Pooling):
            m.__class__ = AtenPooling  # (classes, not patched methods: the naive scorers deep-copy the net)
        if isinstance(m, nb201_model.InferCell):
            m.__class__ = PlainCell
    return net


@pytest.mark.parametrize("method", gram.GRAM_METHODS)
@pytest.mark.parametrize("compat", ["clean", "reference"])
@pytest.mark.parametrize("arch", CELLS)
def test_kernel_equals_the_naive_one_for_every_gram_method(arch, compat, method, images, forced):
    forced(method)
    head = 1 if compat == "reference" else 10
    slow = unoptimised_network(arch, seed=2, num_classes=head)
    codes = naive_clean_codes(slow, images) if compat == "clean" else naive_reference_codes(slow, images)
    K_naive, n_units = naive_kernel(codes)
    with torch_seed(2):
        net = build_nb201(arch, num_classes=head)
    K = naswot_kernel(net, images, compat=compat, device="cpu")
    assert score_mod.gram_method(torch.device("cpu")) == method
    assert K.numpy().tolist() == K_naive.tolist()  # exact integers
    if compat == "clean":
        assert (K.diagonal() == n_units).all()
    assert logdet_score(K) == pytest.approx(float(np.linalg.slogdet(K_naive.astype(float))[1]), rel=1e-9)


def count_products(monkeypatch):
    seen = []
    kernel = score_mod._KernelAccumulator.kernel

    def spy(self):
        seen.append((self.n_calls, self.n_products))
        return kernel(self)

    monkeypatch.setattr(score_mod._KernelAccumulator, "kernel", spy)
    return seen


def test_repeated_relu_inputs_cost_one_product(images, monkeypatch):
    """CELLS[0]: node 0 feeds three ReLUConvBN edges, node 1 two; each repeat reuses the first product."""
    seen = count_products(monkeypatch)
    with torch_seed(0):
        net = build_nb201(CELLS[0])
    naswot_kernel(net, images, device="cpu")
    naswot_kernel(net, images, compat="reference", device="cpu")
    (calls, products), (ref_calls, ref_products) = seen
    # clean: per cell 5 ReLU calls (the nor_conv edges) on 3 distinct inputs (nodes 0, 1, 2); 15 cells
    convs_from = {0: 3, 1: 1, 2: 1}  # nor_conv edges leaving nodes 0, 1, 2 in CELLS[0]
    per_cell_calls, per_cell_inputs = sum(convs_from.values()), len(convs_from)
    reduction_and_head = 2 * 2 + 1  # two ReLUConvBN per reduction block, the head's ReLU
    assert calls == 15 * per_cell_calls + reduction_and_head
    assert products == 15 * per_cell_inputs + reduction_and_head
    # reference: each ReLUConvBN container repeats its inner ReLU's input (so every one is a repeat)
    assert ref_products == products and ref_calls > calls


class SharedInput(nn.Module):
    """One tensor through three ReLUs, then modified in place and through a fourth one."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(6, 9)
        self.relus = nn.ModuleList(nn.ReLU() for _ in range(4))
        self.head = nn.Linear(9, 1)

    def forward(self, x):
        h = self.lin(x.flatten(1))
        a, b, c = (r(h) for r in self.relus[:3])
        h.sub_(0.3)  # bumps the version counter: the next ReLU's codes differ and must be recomputed
        d = self.relus[3](h)
        return self.head(a + b + c + d)


def test_a_tensor_changed_in_place_is_not_taken_for_a_repeat(monkeypatch):
    seen = count_products(monkeypatch)
    with torch_seed(1):
        model = SharedInput()
    x = torch.randn((10, 6), generator=torch.Generator().manual_seed(4))
    K = naswot_kernel(model, x, device="cpu")
    assert seen == [(4, 2)]  # three calls on h share one product; the changed h gets its own
    expected, _ = naive_kernel(naive_clean_codes(model, x))
    assert K.numpy().tolist() == expected.tolist()


class DeadLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(5, 7)
        self.dead, self.live = nn.ReLU(), nn.ReLU()

    def forward(self, x):
        h = self.lin(x)
        return self.live(h).sum(1, keepdim=True) + self.dead(-h.abs() - 1.0).sum(1, keepdim=True)


def test_all_zero_layers_count_their_units_without_a_product(monkeypatch):
    seen = count_products(monkeypatch)
    with torch_seed(2):
        model = DeadLayer()
    x = torch.randn((8, 5), generator=torch.Generator().manual_seed(5))
    K = naswot_kernel(model, x, device="cpu")
    assert seen == [(2, 1)]
    expected, n_units = naive_kernel(naive_clean_codes(model, x))
    assert n_units == 14 and K.numpy().tolist() == expected.tolist()


@pytest.mark.parametrize("arch", CELLS)
def test_none_edges_left_out_of_node_sums_keep_every_bit(arch, images):
    slow = unoptimised_network(arch, seed=5)
    with torch_seed(5):
        fast = build_nb201(arch)
    slow.train()
    fast.train()
    outs = {}
    for name, net in (("slow", slow), ("fast", fast)):
        acts = []

        def keep(mod, inputs, output, acts=acts):
            acts.append(output.detach().clone())

        hooks = [m.register_forward_hook(keep) for m in net.modules() if isinstance(m, nn.ReLU)]
        with torch.no_grad():
            outs[name] = (net(images), acts)
        for h in hooks:
            h.remove()
    assert torch.equal(outs["slow"][0], outs["fast"][0])  # the logits, bit for bit
    assert len(outs["slow"][1]) == len(outs["fast"][1])
    for a, b in zip(outs["slow"][1], outs["fast"][1]):
        assert torch.equal(a, b)  # every ReLU output (so every code)


def test_batchnorm_without_running_stats_gives_the_same_bits(images):
    bn = nn.BatchNorm2d(3).train()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.2, 0.2)
    tracked = bn(images)
    bn.track_running_stats = False
    assert torch.equal(bn(images), tracked)


def test_scoring_leaves_batchnorm_buffers_and_flags_as_they_were(images):
    with torch_seed(0):
        net = build_nb201(CELLS[1])
    net.eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    for compat in ("clean", "reference"):
        s = logdet_score(naswot_kernel(net, images, compat=compat, device="cpu"))
        assert math.isfinite(s)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(not m.training for m in net.modules())
    assert all(m.track_running_stats for m in net.modules() if isinstance(m, nn.BatchNorm2d))


@pytest.mark.parametrize("method", gram.GRAM_METHODS)
def test_layer_gram_of_general_activations_is_exact(method):
    """Codes of a non-ReLU activation are t > 0 (negative, zero, signed-zero and positive entries)."""
    g = torch.Generator().manual_seed(9)
    t = torch.randn((7, 33), generator=g)
    t[0, :5] = -0.0
    t[1, :5] = 0.0
    codes = (t > 0).numpy()
    expected = [[int(np.count_nonzero(codes[i] & codes[j])) for j in range(7)] for i in range(7)]
    assert gram.layer_gram(t, method, relu_output=False).to(torch.int64).tolist() == expected
    r = torch.relu(t)
    assert gram.layer_gram(r, method, relu_output=True).to(torch.int64).tolist() == expected


def test_float32_syrk_refuses_other_devices():
    from nwot.errors import NwotError

    fake = torch.zeros((2, 3), device="meta")
    with pytest.raises(NwotError, match="float32_syrk"):
        gram.product(fake, "float32_syrk")
