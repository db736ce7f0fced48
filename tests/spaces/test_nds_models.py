"""NDS network builders: op and network parameter counts (hand arithmetic / published totals), shapes, scoring.

Fixture records: tests/data/nds (real NDS record schema, synthetic numbers; see its README.md).
"""
import dataclasses
import json
import math
import random
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from nwot.data.datasets import scoring_batch
from nwot.errors import NwotError, OutOfSpaceError
from nwot.proxies.naswot import naswot_score
from nwot.seeding import torch_seed
from nwot.spaces import SearchSpace, get_space, list_spaces
from nwot.spaces.nds.anynet_model import AnyNetConfig, build_anynet, config_from_nds
from nwot.spaces.nds.anynet_model import build_from_net as build_anynet_net
from nwot.spaces.nds.cell_model import OPS, SPACE_NODES, SPACE_OPS, build_nds_cell, check_cell_net, param_count
from nwot.spaces.nds.codec import SPACE_NAMES, canonical_net

DATA = Path(__file__).resolve().parents[1] / "data" / "nds"


def records(space):
    return json.loads((DATA / f"{space}.json").read_text())


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small convs run faster single-threaded on a shared CPU; restore the setting afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# --- published genotypes, as the DARTS repository's and pycls's genotypes.py write them: DARTS-V2 (Liu et al.,
# ICLR 2019), PNASNet-5 (Liu et al., ECCV 2018), AmoebaNet-A (Real et al., AAAI 2019)
DARTS_V2 = {"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1],
                       ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]],
            "normal_concat": [2, 3, 4, 5],
            "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1],
                       ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]],
            "reduce_concat": [2, 3, 4, 5]}
PNAS_CELL = [["sep_conv_5x5", 0], ["max_pool_3x3", 0], ["sep_conv_7x7", 1], ["max_pool_3x3", 1],
             ["sep_conv_5x5", 1], ["sep_conv_3x3", 1], ["sep_conv_3x3", 4], ["max_pool_3x3", 1],
             ["sep_conv_3x3", 0], ["skip_connect", 1]]
PNAS = {"normal": PNAS_CELL, "normal_concat": [2, 3, 4, 5, 6], "reduce": PNAS_CELL, "reduce_concat": [2, 3, 4, 5, 6]}
AMOEBA = {"normal": [["avg_pool_3x3", 0], ["max_pool_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_5x5", 2],
                     ["sep_conv_3x3", 0], ["avg_pool_3x3", 3], ["sep_conv_3x3", 1], ["skip_connect", 1],
                     ["skip_connect", 0], ["avg_pool_3x3", 1]],
          "normal_concat": [4, 5, 6],
          "reduce": [["avg_pool_3x3", 0], ["sep_conv_3x3", 1], ["max_pool_3x3", 0], ["sep_conv_7x7", 2],
                     ["sep_conv_7x7", 0], ["avg_pool_3x3", 1], ["max_pool_3x3", 0], ["max_pool_3x3", 1],
                     ["conv_7x1_1x7", 0], ["sep_conv_3x3", 5]],
          "reduce_concat": [3, 4, 6]}


# --------------------------------------------------------------------------------------------------
# Ops
# --------------------------------------------------------------------------------------------------

C = 4
BN = 2 * C  # BatchNorm weight + bias
# Hand counts at C = 4 (convs have no bias):
#   sep_conv_k:  2 * (k*k*C [depthwise] + C*C [pointwise] + BN)
#   dil_conv_k:  k*k*C + C*C + BN;  dil_sep_conv_3x3: 2 * (9C + C*C + BN)
#   conv_k (conv_1x1 / conv_3x3): k*k*C*C + BN;  conv_kx1_1xk: 2*k*C*C + BN
#   skip_connect at stride 2 = FactorizedReduce: 2 * (C * C/2) + BN;  pools, none, identity: 0
OP_PARAMS = {
    "none": (0, 0), "skip_connect": (0, 2 * C * (C // 2) + BN),
    "avg_pool_3x3": (0, 0), "avg_pool_5x5": (0, 0), "max_pool_3x3": (0, 0), "max_pool_5x5": (0, 0),
    "max_pool_7x7": (0, 0),
    "conv_1x1": (C * C + BN,) * 2, "conv_3x3": (9 * C * C + BN,) * 2,
    "conv_3x1_1x3": (2 * 3 * C * C + BN,) * 2, "conv_7x1_1x7": (2 * 7 * C * C + BN,) * 2,
    "sep_conv_3x3": (2 * (9 * C + C * C + BN),) * 2, "sep_conv_5x5": (2 * (25 * C + C * C + BN),) * 2,
    "sep_conv_7x7": (2 * (49 * C + C * C + BN),) * 2,
    "dil_conv_3x3": (9 * C + C * C + BN,) * 2, "dil_conv_5x5": (25 * C + C * C + BN,) * 2,
    "dil_sep_conv_3x3": (2 * (9 * C + C * C + BN),) * 2,
}


def test_op_table_covers_every_space_op():
    assert set(OP_PARAMS) == set(OPS)
    assert set().union(*SPACE_OPS.values()) <= set(OPS)
    assert SPACE_NODES == {"NASNet": 5, "Amoeba": 5, "PNAS": 5, "ENAS": 5, "DARTS": 4}


@pytest.mark.parametrize("op", sorted(OP_PARAMS))
def test_op_params_and_shapes(op):
    x = torch.randn(2, C, 8, 8)
    for stride, expected, size in ((1, OP_PARAMS[op][0], 8), (2, OP_PARAMS[op][1], 4)):
        m = OPS[op](C, stride)
        assert param_count(m) == expected, (op, stride)
        assert m(x).shape == (2, C, size, size), (op, stride)
    assert not any(isinstance(m, nn.ReLU) and m.inplace for m in OPS[op](C, 2).modules())


def test_none_is_zero_and_skip_is_identity():
    x = torch.randn(2, C, 8, 8)
    assert torch.equal(OPS["none"](C, 1)(x), torch.zeros_like(x))
    assert torch.equal(OPS["none"](C, 2)(x), torch.zeros(2, C, 4, 4))
    assert torch.equal(OPS["skip_connect"](C, 1)(x), x)


# --------------------------------------------------------------------------------------------------
# Cell networks
# --------------------------------------------------------------------------------------------------

TINY = {"normal": [["sep_conv_3x3", 0], ["skip_connect", 1]], "normal_concat": [2],
        "reduce": [["max_pool_3x3", 0], ["skip_connect", 1]], "reduce_concat": [2]}


def test_tiny_cell_network_hand_count_and_relus():
    # width 4, depth 3 -> reductions at 3//3 = 1 and 2*3//3 = 2: cells normal(C=4), reduce(8), reduce(16)
    #   stem Conv3x3 3->12 + BN:                          3*12*9 + 24            =  348
    #   cell 0 (C_pp=C_p=12): 2 ReLUConvBN 12->4 (48+8) + sep_conv_3x3 2*(36+16+8) = 112 + 120 = 232
    #   cell 1 (C_pp=12, C_p=4, C=8): ReLUConvBN 12->8 (96+16) + 4->8 (32+16) + FR(8,8) (2*32 + 16) = 240
    #   cell 2 (C_pp=4, C_p=8, C=16, prev reduced): FR(4,16) (2*32 + 32) + ReLUConvBN 8->16 (128+32)
    #          + FR(16,16) (2*128 + 32)                                                    = 544
    #   classifier Linear(16 -> 10)                      16*10 + 10                          =  170
    model = build_nds_cell(TINY, width=4, depth=3)
    assert param_count(model) == 348 + 232 + 240 + 544 + 170 == 1534
    calls = []
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            assert not m.inplace
            m.register_forward_hook(lambda *a: calls.append(1))
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    # ReLU calls: cell 0: 2 preprocess + 2 in sep_conv; cell 1: 2 preprocess + 1 in FR skip; cell 2: 2 + 1
    assert len(calls) == 10


@pytest.mark.parametrize("name, genotype, width, depth, published, rel_tol", [
    # DARTS paper (Liu et al., ICLR 2019) Table 1: DARTS (second order) 3.3M params, 20 cells, 36 initial channels,
    # auxiliary head excluded from the count (DARTS train.py counts params without 'auxiliary'). Tolerance: the
    # published figure's rounding, [3.25M, 3.35M).
    ("DARTS-V2", DARTS_V2, 36, 20, 3.3e6, 0.05 / 3.3),
    # PNAS paper (Liu et al., ECCV 2018) Table 1: PNASNet-5 on CIFAR-10, N = 3, F = 48, 3.2M params. PNASNet stacks
    # 3N = 9 cells in total with the two reduction cells among them (the TensorFlow pnasnet.py places its reduction
    # indices inside num_cells), i.e. depth 9, reductions at 3 and 6 as here (with 3N + 2 = 11 cells the count
    # would be 4.27M). Tolerance: rounding, [3.15M, 3.25M).
    ("PNASNet-5", PNAS, 48, 9, 3.2e6, 0.05 / 3.2),
    # Real et al. (AAAI 2019), CIFAR-10 results: AmoebaNet-A, N = 6, F = 36, 3.2M params; NASNet-style macro with
    # the 2 reduction cells added to 3N normal cells (depth 20). Tolerance 2 %: the DARTS/pycls AmoebaNet genotype
    # concatenates nodes (4,5,6) / (3,4,6), which differs slightly from the TF original's outputs.
    ("AmoebaNet-A", AMOEBA, 36, 20, 3.2e6, 0.02),
])
def test_published_param_totals(name, genotype, width, depth, published, rel_tol):
    n = param_count(build_nds_cell(genotype, width, depth))
    assert abs(n - published) < rel_tol * published, (name, n)


def test_reduction_layers_and_output_shape():
    model = build_nds_cell(DARTS_V2, width=8, depth=6)
    assert [c.reduction for c in model.cells] == [False, False, True, False, True, False]
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 10)
    assert build_nds_cell(DARTS_V2, 8, 3, num_classes=1)(torch.randn(2, 3, 16, 16)).shape == (2, 1)


@pytest.mark.parametrize("change, match", [
    (lambda g: g["normal"].__setitem__(0, ["conv_9x9", 0]), "unknown op 'conv_9x9'"),
    (lambda g: g["normal"].__setitem__(2, ["sep_conv_3x3", 3]), r"input 3 out of range: node 1 may read states 0..2"),
    (lambda g: g["reduce"].pop(), "two per node"),
    (lambda g: g.__setitem__("reduce_concat", [0, 2]), "reduction cell cannot output its unreduced inputs"),
    (lambda g: g.__setitem__("normal_concat", [6]), r"normal_concat entry 6 out of range; allowed 0..5"),
    (lambda g: g.pop("reduce_concat"), r"missing \['reduce_concat'\]"),
])
def test_malformed_genotypes(change, match):
    g = json.loads(json.dumps(DARTS_V2))
    change(g)
    with pytest.raises(OutOfSpaceError, match=match):
        build_nds_cell(g, 8, 3)


def test_cell_net_config_errors():
    net = {"genotype": DARTS_V2, "width": 9, "depth": 3, "aux": False, "drop_prob": 0.0}
    with pytest.raises(OutOfSpaceError, match="width must be even"):
        check_cell_net(net)
    with pytest.raises(OutOfSpaceError, match=r"unexpected \['layers'\]"):
        check_cell_net({**net, "width": 8, "layers": 3})


# --------------------------------------------------------------------------------------------------
# AnyNet
# --------------------------------------------------------------------------------------------------

RESNET = {"block_type": "res_basic_block", "bot_muls": [], "ds": [1, 1, 1], "num_gs": [], "ss": [1, 2, 2],
          "ws": [8, 16, 32]}
VANILLA = dict(RESNET, block_type="double_plain_block")
RESNEXT = {"block_type": "res_bottleneck_block", "ds": [1, 1], "ws": [16, 32], "ss": [1, 2],
           "bot_muls": [0.5, 0.25], "num_gs": [2, 4]}


def test_resnet_hand_count():
    # stem Conv3x3 3->16 + BN                                             27*16 + 32            =    464
    # s1 16->8 s1: proj 16*8 + 16; f: 9*16*8 + 16 + 9*8*8 + 16          144 + 1760             =  1,904
    # s2 8->16 s2: proj 8*16 + 32; f: 9*8*16 + 32 + 9*16*16 + 32        160 + 3520             =  3,680
    # s3 16->32 s2: proj 16*32 + 64; f: 9*16*32 + 64 + 9*32*32 + 64     576 + 13952            = 14,528
    # head Linear(32 -> 10)                                               320 + 10              =    330
    model = build_anynet_net(RESNET)
    assert param_count(model) == 464 + 1904 + 3680 + 14528 + 330 == 20906
    assert records("ResNet")[0]["net"] == RESNET and records("ResNet")[0]["params"] == 20906
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_vanilla_hand_count():
    # stem 464; s1 16->8: 9*16*8 + 16 + 9*8*8 + 16 = 1760; s2 8->16: 9*8*16 + 32 + 9*16*16 + 32 = 3520;
    # s3 16->32: 9*16*32 + 64 + 9*32*32 + 64 = 13952; head 330   (no projections: plain blocks)
    model = build_anynet_net(VANILLA)
    assert param_count(model) == 464 + 1760 + 3520 + 13952 + 330 == 20026
    assert records("Vanilla")[0]["net"] == VANILLA and records("Vanilla")[0]["params"] == 20026
    assert not any(isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) for m in model.modules())


def test_resnext_hand_count_clean_and_reference():
    # clean: stem 464; s1 16->16 s1 (no proj), w_b = round(16*0.5) = 8, g = 2:
    #   1x1 16*8 + 16 = 144; G3x3 9*8*8/2 + 16 = 304; 1x1 8*16 + 32 = 160                       =   608
    # s2 16->32 s2, w_b = round(32*0.25) = 8, g = 4: proj 16*32 + 64 = 576; 1x1 16*8 + 16 = 144;
    #   G3x3 9*8*8/4 + 16 = 160; 1x1 8*32 + 64 = 320                                             = 1,200
    # head 330
    assert param_count(build_anynet_net(RESNEXT)) == 464 + 608 + 1200 + 330 == 2602
    # reference (NASWOT loader): stem_w 12, res_stem_in (Conv7x7 3->12 + BN = 1764 + 24 = 1788), num_gs read as
    # group widths -> g = 8 // 2 = 4 in s1, 8 // 4 = 2 in s2.
    #   s1 12->16: proj 12*16 + 32 = 224; 1x1 12*8 + 16 = 112; G3x3 9*8*8/4 + 16 = 160; 1x1 160  =   656
    #   s2: 576 + 144 + (9*8*8/2 + 16 = 304) + 320                                                = 1,344
    ref = build_anynet_net(RESNEXT, space="ResNeXt-A", compat="reference")
    assert param_count(ref) == 1788 + 656 + 1344 + 330 == 4118
    assert ref(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    cfg = config_from_nds(VANILLA, space="Vanilla", compat="reference")
    assert (cfg.stem_type, cfg.stem_w, cfg.block_type) == ("simple_stem_in", 12, "vanilla_block")


def test_anynet_init_is_pycls():
    with torch_seed(0):
        model = build_anynet(config_from_nds(RESNET))
    conv = model.s3.b1.f[0]  # 3x3 conv 16 -> 32
    std = float(conv.weight.detach().std())
    assert abs(std - math.sqrt(2 / (9 * 32))) < 0.1 * math.sqrt(2 / (9 * 32))
    fc = model.head[-1]
    assert float(fc.bias.detach().abs().max()) == 0.0 and abs(float(fc.weight.detach().std()) - 0.01) < 0.003


@pytest.mark.parametrize("net, match", [
    (dict(RESNEXT, num_gs=[3, 4]), r"round\(16 \* 0.5\) = 8 is not divisible into 3 groups"),
    (dict(RESNEXT, bot_muls=[0, 0.25]), "bottleneck multiplier must be a positive number"),
    (dict(RESNET, block_type="res_funky_block"), "unknown NDS block_type 'res_funky_block'"),
    (dict(RESNET, bot_muls=[1.0, 1.0, 1.0]), "takes no bot_muls"),
    (dict(RESNET, ws=[8, 16]), "widths has 2 entries, depths has 3"),
    (dict(RESNET, ds=[1, 0, 1]), "depths entry must be a positive int, got 0"),
    ({k: v for k, v in RESNET.items() if k != "ss"}, r"missing \['ss'\]"),
])
def test_anynet_config_errors(net, match):
    with pytest.raises(NwotError, match=match):
        config_from_nds(net)


def test_anynet_config_is_frozen():
    cfg = config_from_nds(RESNET)
    assert isinstance(cfg, AnyNetConfig) and cfg.depths == (1, 1, 1) and cfg.stem_w == 16
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.stem_w = 8


# --------------------------------------------------------------------------------------------------
# The nine spaces on the fixture records
# --------------------------------------------------------------------------------------------------


def test_nine_spaces_registered():
    assert [s for s in list_spaces() if s.startswith("nds:")] == sorted(f"nds:{s}" for s in SPACE_NAMES)
    assert len(SPACE_NAMES) == 9
    assert all(isinstance(get_space(f"nds:{s}"), SearchSpace) for s in SPACE_NAMES)


def test_fixture_cells_use_their_space_ops():
    for space, ops in SPACE_OPS.items():
        used = set()
        for r in records(space):
            g = r["net"]["genotype"]
            assert len(g["normal"]) == len(g["reduce"]) == 2 * SPACE_NODES[space]
            used |= {op for op, _ in g["normal"] + g["reduce"]}
        assert used == set(ops), space


@pytest.fixture(scope="module")
def images():
    return scoring_batch("cifar10", batch_size=16, seed=0)


@pytest.mark.parametrize("space", SPACE_NAMES)
def test_every_fixture_record_builds_and_scores(space, images):
    sp = get_space(f"nds:{space}")
    for k, r in enumerate(records(space)):
        arch = sp.encode(r["net"])
        assert arch == canonical_net(r["net"]) and sp.decode(arch) == arch
        with torch_seed(k):
            model = sp.build(arch)
        assert model(images[:2, :, :16, :16]).shape == (2, 10)  # any resolution: global pooling
        if k == 0:  # one NASWOT score per space keeps the test fast; the study test scores them all
            s = naswot_score(model, images)
            assert math.isfinite(s) and s > 0
    assert sp.build(records(space)[0]["net"], num_classes=1)(images[:2, :, :16, :16]).shape == (2, 1)


def test_space_rejects_the_other_family_and_needs_a_file_to_sample(monkeypatch):
    monkeypatch.delenv("NWOT_NDS_DIR", raising=False)
    with pytest.raises(OutOfSpaceError, match="a anynet config is not a member of NDS space 'DARTS'"):
        get_space("nds:DARTS").encode(RESNET)
    with pytest.raises(NwotError, match=r"nds:ResNet cannot sample without its NDS file.*facebookresearch/nds"):
        get_space("nds:ResNet").sample(random.Random(0))
    with pytest.raises(NwotError, match="cannot mutate without its NDS file"):
        get_space("nds:ResNet").mutate(RESNET, random.Random(0))
    assert get_space("nds:ResNet").size is None
