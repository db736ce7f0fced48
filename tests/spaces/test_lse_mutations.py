"""The 11 LSE mutations (Real et al., ICML 2017, §3.2 / S1): what each does to the genome."""
from __future__ import annotations

import collections
import random
from dataclasses import replace

import pytest
from _lse_genomes import CHAIN

from nwot.errors import NwotError
from nwot.spaces import get_space
from nwot.spaces.lse.codec import Conv, Edge, Genome, Vertex, shapes, trivial_genome, validate
from nwot.spaces.lse.mutations import MUTATIONS, NotApplicable, apply, mutate

SPACE = get_space("lse")


def draws(name, g, n=300, seed=0):
    rng = random.Random(seed)
    return [apply(name, g, rng) for _ in range(n)]


def test_the_paper_mutation_set():
    assert MUTATIONS == ("alter-learning-rate", "identity", "reset-weights", "insert-convolution",
                         "remove-convolution", "alter-stride", "alter-number-of-channels", "filter-size",
                         "insert-one-to-one", "add-skip", "remove-skip")


def test_alter_learning_rate_is_uniform_from_half_to_twice():
    lrs = [g.learning_rate for g, _ in draws("alter-learning-rate", CHAIN, 4000)]
    assert min(lrs) >= 0.025 and max(lrs) <= 0.1
    assert sum(lrs) / len(lrs) == pytest.approx(0.0625, rel=0.02)  # mean of U[0.025, 0.1]
    assert {replace(g, learning_rate=0.05) for g, _ in draws("alter-learning-rate", CHAIN, 20)} == {CHAIN}


@pytest.mark.parametrize("name", ["identity", "reset-weights"])
def test_identity_and_reset_weights_keep_the_genome(name):
    (g, _), = draws(name, CHAIN, 1)
    assert g == CHAIN


def test_reset_weights_child_does_not_inherit():
    rng = random.Random(0)
    parent = SPACE.sample(rng)
    kids = [SPACE.mutate(parent, rng) for _ in range(200)]
    assert all(k.parent == parent.uid for k in kids)
    assert {k.mutation for k in kids if not k.inherits} == {"reset-weights"}
    assert all(k.inherits for k in kids if k.mutation != "reset-weights")


def test_insert_convolution_on_the_trivial_model():
    out = draws("insert-convolution", trivial_genome(), 100)
    strides = collections.Counter()
    for g, _ in out:
        (e,) = g.edges
        assert (e.id, e.src, e.dst, e.skip) == (0, 0, 1, False) and g.output == 1
        assert (e.conv.kh, e.conv.kw, e.conv.channels) == (3, 3, 3)  # 3x3, channels = the input's
        strides[e.conv.stride] += 1
        assert g.vertex(1).act in ("linear", "bn_relu")
    assert set(strides) == {1, 2}
    assert {g.vertex(1).act for g, _ in out} == {"linear", "bn_relu"}


def test_insert_convolution_inside_the_backbone_keeps_the_other_edges():
    for g, _ in draws("insert-convolution", CHAIN, 100):
        assert validate(g) is None
        (new,) = [e for e in g.edges if e.id == 4]
        assert new.conv.channels == shapes(CHAIN)[new.src][0] and new.dst == 4
        old = {e.id: e for e in CHAIN.edges}
        for e in g.edges:
            if e.id in old and e != old[e.id]:  # only the backbone edge that left new.src moved, to the new vertex
                assert replace(e, src=old[e.id].src) == old[e.id] and e.src == 4 and old[e.id].src == new.src
        assert len(g.backbone()) == 5 and set(CHAIN.backbone()) <= set(g.backbone())


def test_insert_one_to_one_adds_an_identity_vertex():
    for g, _ in draws("insert-one-to-one", CHAIN, 50):
        (new,) = [e for e in g.edges if e.id == 4]
        assert new.conv is None and not new.skip and new.dst == 4 and len(g.convs()) == 2


def test_remove_convolution_inverts_insert_convolution():
    rng = random.Random(3)
    g = trivial_genome()
    grown, _ = apply("insert-convolution", g, rng)
    back, _ = apply("remove-convolution", grown, rng)
    assert back == g
    # on CHAIN: removing e0 (0->1) merges v1 into the input; skip e3 (v1 -> v3) then leaves the input
    outs = {d.split(",")[0]: h for h, d in draws("remove-convolution", CHAIN, 60)}
    h = outs["removed convolution edge 0 0->1"]
    assert [v.id for v in h.vertices] == [0, 2, 3] and validate(h) is None
    assert {(e.id, e.src, e.dst) for e in h.edges} == {(1, 0, 2), (2, 2, 3), (3, 0, 3)}
    # removing e2 (2 -> 3, the output's primary) merges the output into v2, the skip 1->3 duplicates 1->2: dropped
    h = outs["removed convolution edge 2 2->3"]
    assert h.output == 2 and {(e.id, e.src, e.dst) for e in h.edges} == {(0, 0, 1), (1, 1, 2)}


def test_alter_stride_halves_or_doubles():
    seen = collections.Counter()
    for g, _ in draws("alter-stride", CHAIN, 200):
        (changed,) = [(a, b) for a, b in zip(CHAIN.edges, g.edges) if a != b]
        a, b = changed
        assert replace(b, conv=replace(b.conv, stride=a.conv.stride)) == a
        seen[(a.conv.stride, b.conv.stride)] += 1
    assert set(seen) == {(2, 1), (2, 4)}
    g = Genome((Vertex(0), Vertex(1)), (Edge(0, 0, 1, Conv(3, 3, 3, 1)),), 1, 0.1)
    assert {h.edges[0].conv.stride for h, _ in draws("alter-stride", g, 20)} == {2}


def test_alter_number_of_channels_half_to_twice():
    g = Genome((Vertex(0), Vertex(1)), (Edge(0, 0, 1, Conv(10, 3, 3, 1)),), 1, 0.1)
    got = {h.edges[0].conv.channels for h, _ in draws("alter-number-of-channels", g, 1000)}
    assert got == set(range(5, 21)) - {10}  # "10 channels -> between 5 and 20" (§3.2)
    one = Genome((Vertex(0), Vertex(1)), (Edge(0, 0, 1, Conv(1, 3, 3, 1)),), 1, 0.1)
    assert {h.edges[0].conv.channels for h, _ in draws("alter-number-of-channels", one, 20)} == {2}


def test_filter_size_odd_values_horizontal_or_vertical():
    g = Genome((Vertex(0), Vertex(1)), (Edge(0, 0, 1, Conv(4, 3, 5, 1)),), 1, 0.1)
    got = collections.Counter((h.edges[0].conv.kh, h.edges[0].conv.kw) for h, _ in draws("filter-size", g, 600))
    assert set(got) == {(5, 5), (3, 3), (3, 7), (3, 9)}  # kh 3 -> 5; kw 5 -> one of 3, 7, 9 (odd in [2.5, 10])
    one = Genome((Vertex(0), Vertex(1)), (Edge(0, 0, 1, Conv(4, 1, 1, 1)),), 1, 0.1)
    with pytest.raises(NotApplicable, match="no other odd size"):
        apply("filter-size", one, random.Random(0))


def test_add_and_remove_skip():
    for g, _ in draws("add-skip", CHAIN, 100):
        (new,) = [e for e in g.edges if e.id == 4]
        bb = CHAIN.backbone()
        assert new.skip and new.conv is None and bb.index(new.src) < bb.index(new.dst)
        assert (new.src, new.dst) in {(0, 2), (0, 3)}  # the only backbone pairs not joined yet
    for g, _ in draws("remove-skip", CHAIN, 10):
        assert g == replace(CHAIN, edges=CHAIN.edges[:3])


@pytest.mark.parametrize("name, why", [("remove-convolution", "no convolution"), ("alter-stride", "no convolution"),
                                       ("alter-number-of-channels", "no convolution"),
                                       ("filter-size", "no convolution"), ("add-skip", "already joined"),
                                       ("remove-skip", "no skip edge")])
def test_inapplicable_on_the_trivial_model(name, why):
    with pytest.raises(NotApplicable, match=why):
        apply(name, trivial_genome(), random.Random(0))


def test_invalid_children_are_redrawn_and_counted():
    # on a 2x2 image with a stride-2 conv, doubling the stride (4 > 2 pixels) is invalid
    image = (3, 2, 2)
    g = Genome((Vertex(0), Vertex(1)), (Edge(0, 0, 1, Conv(3, 3, 3, 2)),), 1, 0.1)
    results = [mutate(g, random.Random(s), image, ("alter-stride", "identity")) for s in range(60)]
    bad = [m for m in results if m.rejected]
    assert bad and all(m.rejected == (("alter-stride", "edge 0 (0->1): stride 4 on a 2x2 input shrinks the image "
                                                      "below 1 pixel"),) and m.mutation == "identity" for m in bad)
    assert any(m.mutation == "alter-stride" and m.genome.edges[0].conv.stride == 1 for m in results)
    # every mutation of the trivial model but 5 is inapplicable
    ms = [mutate(trivial_genome(), random.Random(s)) for s in range(300)]
    assert {m.mutation for m in ms} == {"alter-learning-rate", "identity", "reset-weights", "insert-convolution",
                                        "insert-one-to-one"}
    assert all(len(m.rejected) <= 6 for m in ms) and any(m.rejected for m in ms)
    sp = get_space("lse", image=image)
    child = sp.mutate(sp.sample(random.Random(0)), random.Random(7))
    assert child.retries == len(child.rejected)


def test_mutate_rejects_unknown_names_and_gives_up_without_identity():
    with pytest.raises(NwotError, match="distinct names"):
        mutate(CHAIN, random.Random(0), mutations=("grow",))
    with pytest.raises(NwotError, match="no mutation"):
        mutate(trivial_genome(), random.Random(0), mutations=("remove-skip", "alter-stride"))
    with pytest.raises(NwotError, match="mutations"):
        get_space("lse", mutations=())


def test_mutations_are_pure_and_seeded():
    a = [mutate(CHAIN, random.Random(s)) for s in range(30)]
    b = [mutate(CHAIN, random.Random(s)) for s in range(30)]
    assert a == b and CHAIN == CHAIN.__class__(CHAIN.vertices, CHAIN.edges, 3, 0.05)
    assert len({m.mutation for m in a}) >= 8
