"""NATS-Bench size space: codec against the real meta file, sampling / mutation, and the network.

Ground truth: the real ``NATS-sss-v1_0-50262-simple`` meta (all 32,768 ``meta_archs``) and records
(params of 0, 11, 284 for cifar10 / cifar100 / ImageNet16-120), MANIFEST §2; whole files in the committed
cut (tests/data/shared).
"""
from __future__ import annotations

import bz2
import itertools
import pickle
import random
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn as nn

from nwot.errors import NwotError, OutOfSpaceError
from nwot.spaces import nats_sss
from nwot.spaces.base import get_space
from nwot.spaces.nats_sss.model import ShapeTinyNetwork, build_nats_sss, count_params

SSS_DIR = "NATS-sss-v1_0-50262-simple"
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}


def _plain_load(path):
    with bz2.open(path, "rb") as f:
        return pickle.load(f)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny forward passes: one intra-op thread avoids oversubscription on shared CPUs (results identical)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def meta(cut_data):
    return _plain_load(cut_data / "nats" / SSS_DIR / "meta.pickle.pbz2")["meta_archs"]


@pytest.fixture(scope="module")
def records(cut_data):
    return {i: _plain_load(cut_data / "nats" / SSS_DIR / f"{i:06d}.pickle.pbz2") for i in (0, 11, 284)}


def test_index_order_is_itertools_product_of_the_real_meta(meta):
    assert len(meta) == nats_sss.NUM_ARCHS == 32768
    product = [":".join(map(str, c)) for c in itertools.product(range(8, 65, 8), repeat=5)]
    assert meta == product  # last position fastest
    for i, s in enumerate(meta):
        arch = nats_sss.parse_arch(s)
        assert nats_sss.format_arch(arch) == s
        assert nats_sss.arch_index(arch) == i and nats_sss.arch_index(s) == i
        assert nats_sss.from_index(i) == arch
    assert meta[284] == "8:8:40:32:40" and meta[11] == "8:8:8:16:32"  # MANIFEST §2


def test_codec_errors_name_the_allowed_values():
    with pytest.raises(OutOfSpaceError, match="malformed SSS arch string '8:8:8:8'.*5 ':'-separated"):
        nats_sss.parse_arch("8:8:8:8")
    with pytest.raises(OutOfSpaceError, match="channel count 12 .*allowed: 8, 16, 24, 32, 40, 48, 56, 64"):
        nats_sss.parse_arch("8:8:8:8:12")
    with pytest.raises(OutOfSpaceError, match="malformed"):
        nats_sss.parse_arch("8:8:8:8:x")
    with pytest.raises(OutOfSpaceError, match="must be a str"):
        nats_sss.parse_arch(88888)
    with pytest.raises(OutOfSpaceError, match="5 channel counts, got 6"):
        nats_sss.to_arch((8,) * 6)
    with pytest.raises(OutOfSpaceError, match=r"SSS index 32768 out of range; allowed 0\.\.32767"):
        nats_sss.from_index(32768)
    with pytest.raises(OutOfSpaceError, match="channel count True"):
        nats_sss.to_arch((True, 8, 8, 8, 8))
    assert nats_sss.to_arch(np.array([8, 16, 24, 32, 40])) == (8, 16, 24, 32, 40)


def test_sample_is_seeded_and_uniform():
    a = [nats_sss.sample(random.Random(7)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    rng = random.Random(0)
    draws = [nats_sss.sample(rng) for _ in range(4000)]
    for k in range(5):
        counts = Counter(d[k] for d in draws)
        assert set(counts) == set(nats_sss.CHANNELS)
        assert all(abs(c - 500) < 120 for c in counts.values())  # 4000/8 per channel, ~5 sigma band
    assert len({nats_sss.arch_index(d) for d in draws}) > 3700  # 32768 configs: few repeats


def test_mutate_changes_exactly_one_layer():
    rng = random.Random(1)
    arch = (8, 8, 40, 32, 40)
    positions = Counter()
    for _ in range(500):
        child = nats_sss.mutate(arch, rng)
        diff = [k for k in range(5) if child[k] != arch[k]]
        assert len(diff) == 1 and child[diff[0]] in nats_sss.CHANNELS
        positions[diff[0]] += 1
    assert set(positions) == set(range(5))
    nbrs = nats_sss.neighbours(arch)
    assert len(nbrs) == len(set(nbrs)) == 35
    assert all(sum(a != b for a, b in zip(n, arch)) == 1 for n in nbrs)


def test_registered_space():
    space = get_space("nats_sss")
    assert space.name == "nats_sss" and space.size == 32768
    arch = space.sample(random.Random(3))
    assert space.decode(space.encode(arch)) == arch
    assert space.cell == ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
                          "|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")


def _torch_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_network_params_equal_the_real_records(records):
    for i, rec in records.items():
        hp90 = rec["90"]
        arch = hp90["arch_str"]
        for ds, k in NUM_CLASSES.items():
            want = hp90["all_results"][(ds, 777)]["params"]
            model = build_nats_sss(arch, num_classes=k)
            assert _torch_params(model) / 1e6 == pytest.approx(want, abs=5e-7), (i, ds)
            assert count_params(arch, k) == _torch_params(model)
    assert _torch_params(build_nats_sss("8:8:40:32:40")) == 144834  # 0.144834 MB, MANIFEST §2


def test_analytic_count_equals_torch_on_random_configs():
    rng = random.Random(5)
    for _ in range(12):
        arch = nats_sss.sample(rng)
        k = rng.choice((10, 100, 120))
        assert count_params(arch, k) == _torch_params(build_nats_sss(arch, k)), arch


def test_network_structure_and_forward():
    model = get_space("nats_sss").build("16:24:32:40:48", num_classes=100)
    assert isinstance(model, ShapeTinyNetwork) and model.channels == (16, 24, 32, 40, 48)
    assert [type(c).__name__ for c in model.cells] == ["InferCell", "ResNetBasicblock", "InferCell",
                                                       "ResNetBasicblock", "InferCell"]
    # the cell's skip from its input becomes Conv1x1+BN where the width changes (24 -> 32), identity otherwise
    assert type(model.cells[2].layers[3]).__name__ == "FactorizedReduce"
    assert isinstance(model.cells[0].layers[3], nn.Identity)
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 100)
        assert model(torch.randn(1, 3, 16, 16)).shape == (1, 100)  # ImageNet16-120 resolution
    with pytest.raises(NwotError, match="3N\\+2"):
        ShapeTinyNetwork((8, 8, 8, 8))


def _independent_naswot(model: nn.Module, images: torch.Tensor) -> float:
    """Slow re-implementation: binary codes of every nn.ReLU, K = c c^T + (1-c)(1-c)^T, numpy slogdet."""
    codes = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: codes.append((out > 0).flatten(1).double().numpy()))
             for m in model.modules() if isinstance(m, nn.ReLU)]
    model.train()
    with torch.no_grad():
        model(images)
    for h in hooks:
        h.remove()
    c = np.concatenate(codes, axis=1)
    K = c @ c.T + (1 - c) @ (1 - c).T
    sign, logdet = np.linalg.slogdet(K)
    assert sign > 0
    return float(logdet)


def test_naswot_scores_sss_networks():
    from nwot.data.datasets import scoring_batch
    from nwot.proxies.naswot import naswot_score
    from nwot.seeding import torch_seed

    images = scoring_batch("cifar10", batch_size=8, seed=0)
    scores = {}
    for arch in ("8:8:8:8:8", "8:8:40:32:40"):
        with torch_seed(0):
            model = build_nats_sss(arch)
        scores[arch] = naswot_score(model, images)
        assert np.isfinite(scores[arch])
        assert scores[arch] == pytest.approx(_independent_naswot(model, images), abs=1e-9)
    assert scores["8:8:40:32:40"] > scores["8:8:8:8:8"]  # more units, more distinct codes
