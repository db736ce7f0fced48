"""Weight inheritance (Real et al., ICML 2017, §3.2-3.3): same name and shape -> copied; reset-weights -> fresh."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from _lse_genomes import CHAIN

from nwot.errors import NwotError
from nwot.evaluators.lineage import LseLineage, WeightStore, cpu_state, inherit_state
from nwot.evaluators.train import TrainConfig
from nwot.spaces import get_space
from nwot.spaces.lse.codec import Conv, Edge, Individual, Vertex
from nwot.spaces.lse.mutations import apply

SPACE = get_space("lse")
PARENT = Individual(CHAIN, "00000000000000aa")


def trained_state(ind: Individual) -> dict:
    """A few SGD steps on random images: every parameter and BN buffer moves off its init."""
    net = SPACE.build(ind)
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):
        x, y = torch.randn(8, 3, 32, 32, generator=gen), torch.randint(0, 10, (8,), generator=gen)
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    return cpu_state(net)


@pytest.fixture(scope="module")
def parent_state():
    return trained_state(PARENT)


def child_of(genome, mutation="identity", uid="00000000000000bb"):
    return Individual(genome, uid, PARENT.uid, mutation)


def test_unchanged_layers_are_copied_bit_for_bit(parent_state):
    child = child_of(CHAIN)
    net = SPACE.build(child)
    fresh = cpu_state(net)
    rep = inherit_state(net, parent_state)
    assert rep.reshaped == () and rep.new == () and set(rep.copied) == set(parent_state)
    for name, t in net.state_dict().items():
        assert torch.equal(t, parent_state[name]), name
        if t.is_floating_point() and "running" not in name:
            assert not torch.equal(fresh[name], parent_state[name]), name  # the parent really was trained


def test_changed_shapes_are_reinitialised(parent_state):
    # e0 (0 -> 1) from 8 to 12 channels: e0's weight, v1's BN and e2 (reads v1 through the identity e1) change
    # shape; the skip v1 -> v3 has no weights; v3's BN and the head keep their shapes
    e0 = replace(CHAIN.edges[0], conv=Conv(12, 3, 3, 2))
    genome = replace(CHAIN, edges=(e0,) + CHAIN.edges[1:])
    net = SPACE.build(child_of(genome))
    fresh = cpu_state(net)
    rep = inherit_state(net, parent_state)
    assert set(rep.reshaped) == {"convs.e0.weight", "convs.e2.weight", "bns.v1.weight", "bns.v1.bias",
                                 "bns.v1.running_mean", "bns.v1.running_var"}
    assert set(rep.copied) == {"bns.v1.num_batches_tracked", "bns.v3.weight", "bns.v3.bias", "bns.v3.running_mean",
                               "bns.v3.running_var", "bns.v3.num_batches_tracked", "head.weight", "head.bias"}
    state = net.state_dict()
    for name in rep.copied:
        assert torch.equal(state[name], parent_state[name])
    for name in rep.reshaped:
        assert torch.equal(state[name], fresh[name]) and state[name].shape != parent_state[name].shape


def test_a_new_layer_is_fresh_and_the_rest_inherited(parent_state):
    genome, _ = apply("insert-convolution", CHAIN, random.Random(0))
    net = SPACE.build(child_of(genome))
    fresh = cpu_state(net)
    rep = inherit_state(net, parent_state)
    assert "convs.e4.weight" in rep.new and rep.reshaped == ()
    assert torch.equal(net.state_dict()["convs.e4.weight"], fresh["convs.e4.weight"])
    assert all(torch.equal(net.state_dict()[n], parent_state[n]) for n in rep.copied)
    assert set(rep.copied) == set(parent_state)  # 3 channels in = 3 out: nothing downstream changed shape


def test_lineage_hook_inherits_or_resets(parent_state):
    store = WeightStore()
    store.put(PARENT.uid, parent_state)
    hook = LseLineage(store)
    kid = child_of(CHAIN)
    net = SPACE.build(kid)
    info = hook.init(kid, net)
    assert info == {"parent": PARENT.uid, "inherited": len(parent_state), "fresh": 0, "reshaped": []}
    assert all(torch.equal(net.state_dict()[n], parent_state[n]) for n in parent_state)

    reset = child_of(CHAIN, "reset-weights", uid="00000000000000cc")
    net = SPACE.build(reset)
    assert hook.init(reset, net)["inherited"] == 0
    for name, t in net.state_dict().items():  # every trained tensor differs from the reset child's
        assert not torch.equal(t, parent_state[name]), name
    assert torch.equal(net.state_dict()["convs.e0.weight"], SPACE.build(reset).state_dict()["convs.e0.weight"])

    ablation = LseLineage(store, inherit=False)
    net = SPACE.build(kid)
    assert ablation.init(kid, net)["inherited"] == 0 and not torch.equal(net.convs["e0"].weight,
                                                                          parent_state["convs.e0.weight"])
    assert hook.key() != ablation.key()


def test_lineage_learning_rate_gene():
    cfg = TrainConfig(lr=0.1, lr_min=0.1)
    kid = child_of(replace(CHAIN, learning_rate=0.0371))
    assert LseLineage().config(kid, cfg).lr == 0.0371 and LseLineage().config(kid, cfg).lr_min == 0.0371
    cos = LseLineage().config(kid, TrainConfig(lr=0.1, lr_min=0.01))
    assert (cos.lr, cos.lr_min) == (0.0371, pytest.approx(0.00371))


def test_missing_parent_weights_raise():
    with pytest.raises(NwotError, match="no trained weights of parent '00000000000000aa'"):
        LseLineage().init(child_of(CHAIN), SPACE.build(child_of(CHAIN)))


def test_weight_store_on_disk_survives_a_restart(tmp_path, parent_state):
    a = WeightStore(tmp_path)
    a.put("00000000000000aa", parent_state)
    b = WeightStore(tmp_path)  # a fresh process
    assert "00000000000000aa" in b and len(b) == 0
    got = b.get("00000000000000aa")
    assert got.keys() == parent_state.keys() and all(torch.equal(got[k], parent_state[k]) for k in got)
    b.forget("00000000000000aa")
    assert "00000000000000aa" not in b and WeightStore(tmp_path).get("00000000000000aa") is None
    with pytest.raises(NwotError, match="plain non-empty name"):
        a.put("../x", parent_state)


def test_the_graph_with_a_skip_into_a_wider_vertex_builds_and_inherits():
    g = replace(CHAIN, vertices=CHAIN.vertices + (Vertex(4, "bn_relu"),),
                edges=CHAIN.edges + (Edge(4, 3, 4, Conv(16, 1, 1, 1)), Edge(5, 0, 4, None, True)), output=4)
    kid = Individual(g, "00000000000000dd", PARENT.uid, "insert-convolution")
    store = WeightStore()
    store.put(PARENT.uid, trained_state(PARENT))
    net = SPACE.build(kid)
    info = LseLineage(store).init(kid, net)
    assert info["reshaped"] == ["head.weight"] and net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
