"""The real-training evaluator: config, augmentation, FLOPs counter, training on real CIFAR-10, resume."""
from __future__ import annotations

import math
import random

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from nwot.data.training import cutout, random_crop_flip, split_indices
from nwot.errors import NwotError
from nwot.evaluators.train import PRESETS, TrainConfig, TrainEvaluator, TrainingInterrupted, cosine_lr, train_preset
from nwot.spaces import get_space
from nwot.spaces.complexity import count_flops, count_params

CELL = ((1, "sep_conv_3x3", 1, "max_pool_3x3"), (0, "identity", 2, "sep_conv_3x3"))
TINY = dict(epochs=2, batch_size=32, lr=0.05, train_size=160, val_size=96)


@pytest.fixture(scope="module")
def cifar(cifar10_sample):
    """Real CIFAR-10 training images: the 1,280 embedded in nwot (the first of the staged JPEG-derived
    data_batch_1; conftest)."""
    return cifar10_sample


@pytest.fixture(scope="module")
def space():
    return get_space("pnas", num_blocks=2, ops=("sep_conv_3x3", "identity", "max_pool_3x3"))


def test_config_rejects_bad_values():
    with pytest.raises(NwotError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(NwotError, match="lr"):
        TrainConfig(lr=-1.0)
    with pytest.raises(NwotError, match="device"):
        TrainConfig(device="tpu")
    with pytest.raises(NwotError, match="'nope'"):
        train_preset("nope")


def test_presets():
    tiny = PRESETS["cpu_tiny"]
    assert (tiny.epochs, tiny.train_size) == (1, 2000)
    proxy = PRESETS["pnas_proxy"]
    assert (proxy.epochs, proxy.val_size, proxy.train_size) == (20, 5000, 45000)
    assert train_preset("cpu_tiny", epochs=3).epochs == 3


def test_cosine_schedule_hand_values():
    cfg = TrainConfig(lr=0.1, lr_min=0.0)
    assert cosine_lr(cfg, 0, 100) == pytest.approx(0.1)
    assert cosine_lr(cfg, 50, 100) == pytest.approx(0.05)
    assert cosine_lr(cfg, 75, 100) == pytest.approx(0.1 * (1 - math.sqrt(0.5)) / 2)


def test_split_is_disjoint_and_seeded():
    tr, va = split_indices(1000, 300, 200, seed=3)
    assert len(tr) == 300 and len(va) == 200 and not set(tr.tolist()) & set(va.tolist())
    tr2, va2 = split_indices(1000, 300, 200, seed=3)
    assert torch.equal(tr, tr2) and torch.equal(va, va2)
    with pytest.raises(NwotError, match="1000 images"):
        split_indices(1000, 900, 200, seed=0)


def test_random_crop_flip_is_a_shifted_window_of_the_padded_image():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8) + 1
    gen = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(20):
        out = random_crop_flip(x, gen, padding=2)
        padded = F.pad(x, (2, 2, 2, 2))
        for b in range(2):
            matches = [(dy, dx, f) for dy in range(5) for dx in range(5) for f in (0, 1)
                       if torch.equal(out[b], (padded[b, :, dy:dy + 8, dx:dx + 8].flip(2) if f else
                                               padded[b, :, dy:dy + 8, dx:dx + 8]))]
            assert len(matches) == 1
            seen.add(matches[0])
    assert len(seen) > 20  # many different offsets and both flips occur


def test_cutout_zeroes_one_clipped_square():
    x = torch.ones(64, 1, 32, 32)
    out = cutout(x, 8, torch.Generator().manual_seed(1))
    for img in out[:, 0]:
        zero = (img == 0).nonzero()
        rows, cols = zero[:, 0], zero[:, 1]
        h, w = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
        assert len(zero) == h * w and 4 <= h <= 8 and 4 <= w <= 8  # a rectangle, 8x8 unless clipped


def test_flop_counter_hand_count():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1, groups=8, stride=2),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
    # 32*32*8*3*9 (conv) + 16*16*8*1*9 (depthwise, stride 2) + 8*10 (linear)
    assert count_flops(net) == 221_184 + 18_432 + 80
    assert count_params(net) == (3 * 8 * 9 + 8) + (8 * 9 + 8) + (8 * 10 + 10)


def test_training_on_real_cifar_and_independent_accuracy(cifar, space, tmp_path):
    cfg = TrainConfig(**TINY)
    ev = TrainEvaluator(space, cfg, cifar, build_kwargs=dict(C=4, N=1), checkpoint_dir=tmp_path)
    e = ev(CELL)
    assert e.cost > 0 and e.info["epochs"] == 2 and not e.info["cached"]
    model = ev.build(CELL)
    assert e.info["params"] == count_params(model)
    # independent accuracy: reload the saved weights and count correct predictions image by image
    state = torch.load(ev.checkpoint_path(CELL) / "state.pt", weights_only=True)
    model.load_state_dict(state["model"])
    model.eval()
    mean = torch.tensor(cifar.mean).view(3, 1, 1)
    std = torch.tensor(cifar.std).view(3, 1, 1)
    correct = 0
    with torch.no_grad():
        for i in ev.val_idx.tolist():
            x = ((cifar.images[i].float() / 255 - mean) / std)[None]
            correct += int(model(x).argmax(1).item() == int(cifar.labels[i]))
    assert e.signal == pytest.approx(100 * correct / len(ev.val_idx))
    assert len(ev.val_idx) == 96 and len(ev.train_idx) == 160


def test_checkpoint_resume_gives_the_uninterrupted_weights(cifar, space, tmp_path):
    cfg = TrainConfig(**TINY)
    full = TrainEvaluator(space, cfg, cifar, build_kwargs=dict(C=4, N=1), checkpoint_dir=tmp_path / "full")
    e_full = full(CELL)

    def kill_after_first_epoch(enc, epoch, stats):
        if epoch == 1:
            raise TrainingInterrupted("simulated kill")

    killed = TrainEvaluator(space, cfg, cifar, build_kwargs=dict(C=4, N=1), checkpoint_dir=tmp_path / "resumed",
                            epoch_callback=kill_after_first_epoch)
    with pytest.raises(TrainingInterrupted):
        killed(CELL)
    folder = killed.checkpoint_path(CELL)
    assert torch.load(folder / "state.pt", weights_only=True)["epoch"] == 1
    assert not (folder / "result.json").exists()

    epochs_run = []
    resumed = TrainEvaluator(space, cfg, cifar, build_kwargs=dict(C=4, N=1), checkpoint_dir=tmp_path / "resumed",
                             epoch_callback=lambda enc, epoch, stats: epochs_run.append(epoch))
    e_res = resumed(CELL)
    assert epochs_run == [2] and e_res.info["resumed_from_epoch"] == 1
    a = torch.load(full.checkpoint_path(CELL) / "state.pt", weights_only=True)["model"]
    b = torch.load(folder / "state.pt", weights_only=True)["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert e_res.signal == e_full.signal

    # a finished candidate is not retrained: same evaluation, no epoch run
    again = resumed(CELL)
    assert epochs_run == [2] and again.info["cached"] and (again.signal, again.cost) == (e_res.signal, e_res.cost)


def test_checkpoint_key_separates_configs(cifar, space, tmp_path):
    a = TrainEvaluator(space, TrainConfig(**TINY), cifar, build_kwargs=dict(C=4, N=1), checkpoint_dir=tmp_path)
    b = TrainEvaluator(space, TrainConfig(**{**TINY, "epochs": 3}), cifar, build_kwargs=dict(C=4, N=1),
                       checkpoint_dir=tmp_path)
    c = TrainEvaluator(space, TrainConfig(**TINY), cifar, build_kwargs=dict(C=8, N=1), checkpoint_dir=tmp_path)
    other = space.mutate(CELL, random.Random(0))
    paths = {a.checkpoint_path(CELL), b.checkpoint_path(CELL), c.checkpoint_path(CELL), a.checkpoint_path(other)}
    assert len(paths) == 4


def test_run_trained_search_reports_test_accuracy(cut_data, tmp_path):
    from nwot.search.run import run_trained_search

    # the cut's CIFAR-10 folder: 200 training images (64 train + 50 validation used), 100 test images
    (res,) = run_trained_search("random", "pnas", evaluations=2, seed=0, data_dir=cut_data.path,
                                checkpoint_dir=tmp_path,
                                train_overrides=dict(train_size=64, val_size=50, batch_size=32),
                                space_kwargs=dict(num_blocks=1, ops=("identity", "max_pool_3x3")),
                                build_kwargs=dict(C=4, N=1), test_images=100)
    assert res.n_evals == 2 and res.config["evaluator"] == "train" and res.final["test_images"] == 100
    assert float(res.final["test_accuracy"]).is_integer()  # k correct of 100 test images, in %
    assert res.best_signal == max(r.signal for r in res.trace) and (res.best_signal * 50 / 100).is_integer()
