"""The open NASNet / AmoebaNet cell space (``nasnet``) and the fixed-B view of the PNAS space."""
from __future__ import annotations

import random

import pytest
import torch

import nwot
from nwot.errors import NwotError, OutOfSpaceError
from nwot.search.categorical import categorical_view
from nwot.spaces.nasnet import codec
from nwot.spaces.nds.cell_model import SPACE_OPS, build_nds_cell, param_count
from nwot.spaces.pnas.fixed import FixedBlocksView

OPS3 = ("skip_connect", "sep_conv_3x3", "max_pool_3x3")


def two_node_arch():
    # normal: h2 = sep3(h1) + skip(h0); h3 = max(h2) + sep3(h1)  -> h2 is read by h3: output = concat(h3)
    # reduce: h2 = max(h0) + max(h1); h3 = skip(h0) + sep3(h1)   -> nothing reads h2 or h3: output = concat(h2, h3)
    return (1, "sep_conv_3x3", 0, "skip_connect", 2, "max_pool_3x3", 1, "sep_conv_3x3",
            0, "max_pool_3x3", 1, "max_pool_3x3", 0, "skip_connect", 1, "sep_conv_3x3")


def test_nasnet_defaults_are_the_amoebanet_space():
    sp = nwot.get_space("nasnet")
    assert sp.nodes == 5 and sp.ops == codec.AMOEBA_OPS and set(sp.ops) == set(SPACE_OPS["Amoeba"])
    assert len(sp.choices) == 2 * 5 * 4  # 2 cells x 5 combinations x (in, op, in, op)
    assert sp.choices[0] == (0, 1) and sp.choices[4 * 4] == (0, 1, 2, 3, 4, 5)  # combination k reads 0..k+1


def test_genotype_concatenates_the_unused_states_and_builds_the_nds_network():
    sp = nwot.get_space("nasnet", nodes=2, ops=OPS3)
    arch = two_node_arch()
    g = sp.genotype(arch)
    assert g["normal"] == [["sep_conv_3x3", 1], ["skip_connect", 0], ["max_pool_3x3", 2], ["sep_conv_3x3", 1]]
    assert g["normal_concat"] == [3] and g["reduce_concat"] == [2, 3]
    s = sp.encode(arch)
    assert s == ("|sep_conv_3x3~1|skip_connect~0|+|max_pool_3x3~2|sep_conv_3x3~1|//"
                 "|max_pool_3x3~0|max_pool_3x3~1|+|skip_connect~0|sep_conv_3x3~1|")
    assert sp.decode(s) == arch
    with nwot.torch_seed(0):
        net = sp.build(arch, C=8, N=1)
    with nwot.torch_seed(0):
        ref = build_nds_cell(g, width=8, depth=5)
    assert param_count(net) == param_count(ref) and len(net.cells) == 5
    assert [c.reduction for c in net.cells] == [False, True, False, True, False]  # depth 3N+2, reductions N, 2N+1
    with torch.no_grad():
        assert torch.equal(net.eval()(torch.ones(2, 3, 32, 32)), ref.eval()(torch.ones(2, 3, 32, 32)))


def test_mutation_changes_one_input_or_op_of_one_combination():
    sp = nwot.get_space("nasnet")
    rng = random.Random(3)
    kinds = set()
    for _ in range(200):
        a = sp.sample(rng)
        c = sp.mutate(a, rng)
        diff = [p for p, (x, y) in enumerate(zip(a, c)) if x != y]
        assert len(diff) == 1 and sp.is_valid(c)
        p = diff[0]
        kinds.add("input" if p % 2 == 0 else "op")
        assert c[p] in sp.choices[p]
    assert kinds == {"input", "op"}


def test_bad_archs_name_the_position_and_what_is_allowed():
    sp = nwot.get_space("nasnet", nodes=2, ops=OPS3)
    bad = list(two_node_arch())
    bad[4] = 3  # combination 1 of the normal cell may read 0..2
    with pytest.raises(OutOfSpaceError, match="normal cell, combination 1: input 3 not allowed; allowed: 0, 1, 2"):
        sp.check(bad)
    bad = list(two_node_arch())
    bad[13] = "conv_3x3"
    with pytest.raises(OutOfSpaceError, match="reduce cell, combination 1: op 'conv_3x3' not allowed"):
        sp.check(bad)
    with pytest.raises(OutOfSpaceError, match="has 16 values"):
        sp.check(two_node_arch()[:-1])
    with pytest.raises(OutOfSpaceError, match="'<normal cell>//<reduction cell>'"):
        sp.decode("|skip_connect~0|skip_connect~1|")
    with pytest.raises(NwotError, match="ops must be >= 2 distinct names"):
        nwot.get_space("nasnet", ops=("skip_connect", "bogus"))
    with pytest.raises(NwotError, match="allowed: C, N"):
        sp.build(two_node_arch(), width=8)


def test_reinforce_sees_the_nasnet_space_as_categorical_choices():
    sp = nwot.get_space("nasnet", nodes=2, ops=OPS3)
    view = categorical_view(sp)
    arch = two_node_arch()
    idx = view.to_indices(arch)
    assert idx[:4] == (1, 1, 0, 0) and view.from_indices(idx) == arch


def test_fixed_blocks_view_identifies_cells_by_the_pnas_encoding():
    inner = nwot.get_space("pnas", num_blocks=2, ops=("sep_conv_3x3", "identity", "max_pool_3x3"))
    v = FixedBlocksView(inner)
    assert v.name == "pnas" and len(v.choices) == 8 and v.choices[4] == (0, 1, 2)
    a = (1, "identity", 0, "sep_conv_3x3", 2, "max_pool_3x3", 0, "identity")
    swapped = (0, "sep_conv_3x3", 1, "identity", 0, "identity", 2, "max_pool_3x3")
    assert v.encode(a) == v.encode(swapped) == "|sep_conv_3x3~0|identity~1|+|identity~0|max_pool_3x3~2|"
    assert v.decode(v.encode(a)) == swapped  # the canonical flat form
    assert categorical_view(v).to_indices(a) == (1, 1, 0, 0, 2, 2, 0, 1)
    child = v.mutate(a, random.Random(0))
    assert len(child) == 8 and v.encode(child) != v.encode(a)
    with pytest.raises(OutOfSpaceError, match="exactly 2"):
        v.decode("|identity~0|identity~1|")
    with pytest.raises(OutOfSpaceError, match="flat tuple of 8"):
        v.encode(a[:4])
