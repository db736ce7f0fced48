"""LSE genome codec and network builder (Real et al., ICML 2017, §3.2)."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from _lse_genomes import CHAIN, CHAIN_SHAPES

from nwot.errors import OutOfSpaceError
from nwot.spaces import get_space
from nwot.spaces.lse.codec import (
    Conv,
    Edge,
    Genome,
    InvalidGenomeError,
    Vertex,
    decode,
    decode_genome,
    encode,
    encode_genome,
    shapes,
    structure_key,
    trivial_genome,
    validate,
)
from nwot.spaces.lse.model import LseNet, build, he_init, reshape_to

SPACE = get_space("lse")


def test_trivial_model_has_no_hidden_layer():
    g = trivial_genome()
    assert encode_genome(g) == "lr=0.1;out=0;v=0:linear;e="
    net = build(g, 10, generator=torch.Generator().manual_seed(0))
    assert [n for n, _ in net.named_parameters()] == ["head.weight", "head.bias"]
    assert net.head.weight.shape == (10, 3)  # global average pool of the image -> 10 logits
    x = torch.randn(2, 3, 32, 32)
    assert torch.allclose(net(x), x.mean((2, 3)) @ net.head.weight.T + net.head.bias)


def test_hand_computed_shapes_and_string():
    assert shapes(CHAIN) == CHAIN_SHAPES
    s = encode_genome(CHAIN)
    assert s == ("lr=0.05;out=3;v=0:linear,1:bn_relu,2:linear,3:bn_relu;"
                 "e=0:0-1:conv3x3s2c8,1:1-2:id,2:2-3:conv5x3s2c4,3:1-3:skip")
    assert decode_genome(s) == CHAIN and structure_key(CHAIN) == s.partition(";")[2]


def test_individual_round_trip_over_random_mutation_chains():
    rng = random.Random(0)
    inds = [SPACE.sample(rng)]
    for _ in range(400):
        inds.append(SPACE.mutate(rng.choice(inds[-20:]), rng))
    for ind in inds:
        s = SPACE.encode(ind)
        back = SPACE.decode(s)
        assert back == ind and SPACE.encode(back) == s and back.retries == ind.retries
    assert len({i.uid for i in inds}) == len(inds)
    assert max(len(i.genome.convs()) for i in inds) >= 3 and max(len(i.genome.skips()) for i in inds) >= 1


def test_sorted_ids_make_equal_genomes_equal():
    shuffled = Genome(CHAIN.vertices[::-1], CHAIN.edges[::-1], 3, 0.05)
    assert shuffled == CHAIN and encode_genome(shuffled) == encode_genome(CHAIN)


def _g(vertices, edges, output, lr=0.1):
    return Genome(tuple(Vertex(i, a) for i, a in vertices), tuple(edges), output, lr)


@pytest.mark.parametrize("genome, reason", [
    (_g([(0, "linear"), (1, "linear"), (2, "linear")], [Edge(0, 0, 1), Edge(1, 2, 1, None, True), Edge(2, 1, 2)], 2),
     "a cycle through vertices [1, 2]"),
    (_g([(0, "linear"), (1, "linear"), (2, "bn_relu")], [Edge(0, 0, 1), Edge(1, 0, 2)], 1),
     "dangling vertex 2: no path to the output vertex 1"),
    (replace(CHAIN, edges=CHAIN.edges[:2] + (Edge(2, 2, 3, Conv(4, 5, 3, 32)), CHAIN.edges[3])),
     "edge 2 (2->3): stride 32 on a 16x16 input shrinks the image below 1 pixel"),
    (_g([(0, "linear"), (1, "linear")], [], 1), "vertex 1 has 0 primary (non-skip) inputs"),
    (_g([(0, "linear"), (1, "linear"), (2, "linear")], [Edge(0, 0, 1), Edge(1, 0, 2), Edge(2, 1, 2)], 2),
     "vertex 2 has 2 primary (non-skip) inputs"),
    (_g([(0, "linear"), (1, "linear")], [Edge(0, 0, 1, Conv(3, 3, 3, 1), True)], 1), "must be an identity"),
    (_g([(0, "linear"), (1, "relu")], [Edge(0, 0, 1)], 1), "unknown activation 'relu'"),
    (_g([(0, "bn_relu")], [], 0), "the input vertex 0 is the image"),
    (_g([(0, "linear"), (1, "linear")], [Edge(0, 0, 1, Conv(3, 2, 3, 1))], 1), "filter height must be an odd int"),
    (_g([(0, "linear"), (1, "linear")], [Edge(0, 0, 1, Conv(3, 3, 3, 3))], 1), "stride must be a power of 2"),
    (_g([(0, "linear"), (1, "linear")], [Edge(0, 0, 1, Conv(0, 3, 3, 1))], 1), "channels must be an int >= 1"),
    (_g([(0, "linear"), (1, "linear")], [Edge(0, 0, 7)], 1), "points to vertex 7, which does not exist"),
    (_g([(0, "linear"), (1, "linear")], [Edge(0, 0, 1), Edge(1, 0, 1, None, True)], 1), "two edges 0->1"),
    (_g([(0, "linear"), (1, "linear")], [Edge(0, 0, 1), Edge(1, 1, 0, None, True)], 1), "enters the input vertex"),
    (_g([(0, "linear")], [], 5), "the output vertex 5 does not exist"),
    (_g([(0, "linear")], [], 0, lr=0.0), "learning rate must be a finite float > 0"),
])
def test_invalid_genomes_are_rejected_with_the_reason(genome, reason):
    assert reason in validate(genome)
    with pytest.raises(InvalidGenomeError, match="invalid LSE genome") as err:
        LseNet(genome)
    assert reason in err.value.reason


def test_stride_rule_on_a_chain_of_halvings():
    # 32 -> 16 -> 8 -> 4 -> 2 -> 1 with stride-2 convs: valid; one more stride 2 on 1x1 is not
    def chain(n):
        verts = [Vertex(i, "linear") for i in range(n + 1)]
        edges = [Edge(i, i, i + 1, Conv(3, 3, 3, 2)) for i in range(n)]
        return Genome(tuple(verts), tuple(edges), n, 0.1)

    assert shapes(chain(5))[5] == (3, 1, 1)
    assert validate(chain(6)) == "edge 5 (5->6): stride 2 on a 1x1 input shrinks the image below 1 pixel"
    assert shapes(Genome(chain(1).vertices, (Edge(0, 0, 1, Conv(3, 3, 3, 32)),), 1, 0.1))[1] == (3, 1, 1)


@pytest.mark.parametrize("text, what", [
    ("lr=0.1;v=0:linear;out=0;e=", "expected the fields"),
    ("lr=abc;out=0;v=0:linear;e=", "is not a number"),
    ("lr=0.1;out=0;v=0:linear;e=0:0-1:pool", "edge op 'pool'"),
    ("lr=0.1;out=0;v=0linear;e=", "must be '<id>:<activation>'"),
    ("lr=0.1;out=x;v=0:linear;e=", "out must be a non-negative int"),
])
def test_malformed_strings(text, what):
    with pytest.raises(OutOfSpaceError, match=what):
        decode_genome(text)


def test_malformed_individual_and_invalid_genome_strings():
    with pytest.raises(OutOfSpaceError, match="16 lowercase hex"):
        decode("uid=xyz;parent=-;mut=initial;retries=0;lr=0.1;out=0;v=0:linear;e=")
    with pytest.raises(InvalidGenomeError, match="a cycle"):
        decode("uid=0123456789abcdef;parent=-;mut=identity;retries=0;lr=0.1;out=2;v=0:linear,1:linear,2:linear;"
               "e=0:0-1:id,1:2-1:skip,2:1-2:id")
    ind = decode("uid=0123456789abcdef;parent=fedcba9876543210;mut=add-skip;retries=2;" + encode_genome(CHAIN))
    assert (ind.parent, ind.mutation, ind.retries, ind.inherits) == ("fedcba9876543210", "add-skip", 2, True)
    assert encode(ind).startswith("uid=0123456789abcdef;parent=fedcba9876543210;mut=add-skip;retries=2;lr=0.05")


# -- the network -----------------------------------------------------------------------------------
def test_reshape_to_nearest_and_channel_padding():
    x = torch.arange(8, dtype=torch.float32).reshape(1, 2, 2, 2)
    up = reshape_to(x, 3, 4, 4)
    assert up.shape == (1, 3, 4, 4)
    assert torch.equal(up[0, 0], torch.tensor([[0., 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]))
    assert torch.equal(up[0, 2], torch.zeros(4, 4))  # zero-padded channel
    down = reshape_to(up, 1, 2, 2)
    assert torch.equal(down, x[:, :1])  # nearest downsampling picks the top-left of each 2x2, then truncates


def test_network_equals_an_independent_functional_forward():
    gen = torch.Generator().manual_seed(3)
    net = build(CHAIN, 10, generator=gen).eval()
    with torch.no_grad():  # non-trivial BN statistics
        for bn in net.bns.values():
            bn.running_mean.copy_(torch.randn(bn.num_features, generator=gen))
            bn.running_var.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
            bn.weight.copy_(torch.randn(bn.num_features, generator=gen))
    x = torch.randn(3, 3, 32, 32, generator=gen)

    def bn_relu(y, bn):
        y = (y - bn.running_mean[None, :, None, None]) / torch.sqrt(bn.running_var[None, :, None, None] + bn.eps)
        return torch.clamp(y * bn.weight[None, :, None, None] + bn.bias[None, :, None, None], min=0)

    v1 = bn_relu(F.conv2d(x, net.convs["e0"].weight, stride=2, padding=1), net.bns["v1"])
    v2 = v1
    prim = F.conv2d(v2, net.convs["e2"].weight, stride=2, padding=(2, 1))
    skip = v1[:, :4, ::2, ::2]  # 8x16x16 -> nearest 8x8, channels truncated to 4
    v3 = bn_relu(prim + skip, net.bns["v3"])
    want = v3.mean((2, 3)) @ net.head.weight.T + net.head.bias
    assert torch.allclose(net(x), want, atol=1e-5)


def test_one_relu_module_per_bn_relu_vertex_and_naswot_scores_it():
    from nwot.proxies.naswot import naswot_score

    net = SPACE.build(SPACE.decode("uid=0123456789abcdef;parent=-;mut=initial;retries=0;" + encode_genome(CHAIN)))
    relus = [n for n, m in net.named_modules() if isinstance(m, nn.ReLU)]
    assert relus == ["relus.v1", "relus.v3"]
    x = torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    s = naswot_score(net, x)
    assert s > 0 and s == naswot_score(net, x)


def test_he_init_statistics_and_determinism():
    g = Genome((Vertex(0), Vertex(1, "bn_relu")), (Edge(0, 0, 1, Conv(256, 3, 3, 1)),), 1, 0.1)
    a = build(g, generator=torch.Generator().manual_seed(5))
    b = build(g, generator=torch.Generator().manual_seed(5))
    c = build(g, generator=torch.Generator().manual_seed(6))
    w = a.convs["e0"].weight
    assert w.std().item() == pytest.approx((2 / 27) ** 0.5, rel=0.02)  # He et al. 2015: N(0, 2 / fan_in)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(w, c.convs["e0"].weight)
    assert torch.equal(a.bns["v1"].weight, torch.ones(256)) and float(a.head.bias.detach().abs().sum()) == 0
    he_init(c, torch.Generator().manual_seed(5))
    assert torch.equal(c.convs["e0"].weight, w)


def test_space_build_is_seeded_by_the_uid():
    rng = random.Random(1)
    a, b = SPACE.sample(rng), SPACE.sample(rng)
    wa, wb = SPACE.build(a).head.weight, SPACE.build(b).head.weight
    assert torch.equal(wa, SPACE.build(a).head.weight) and not torch.equal(wa, wb)
    assert torch.equal(SPACE.build(a, init_seed=0).head.weight, SPACE.build(b, init_seed=0).head.weight)
