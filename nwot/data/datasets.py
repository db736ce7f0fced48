"""Image datasets used to score architectures: CIFAR-10, CIFAR-100 and ImageNet16-120.

NASWOT scores an untrained network on one mini-batch of training images (Mellor et al., ICML 2021,
arXiv:2006.04647, §4: batch size 128). This module reads the datasets in their official python-batch
formats and draws that batch reproducibly:

* CIFAR-10 / CIFAR-100 (Krizhevsky, 2009; https://www.cs.toronto.edu/~kriz/cifar.html): pickled dicts
  with ``data`` uint8 (N, 3072) = R, G, B planes of 32x32 row-major, and ``labels`` (CIFAR-10) or
  ``fine_labels`` (CIFAR-100). Files ``data_batch_1..5`` / ``test_batch`` resp. ``train`` / ``test``.
* ImageNet16-120 (Chrabaszcz et al., 2017, arXiv:1707.08819; Dong & Yang, NAS-Bench-201, ICLR 2020, §3):
  the 16x16 downsampled ImageNet, files ``train_data_batch_1..10`` / ``val_data``, ``data`` uint8 (N, 768)
  and 1-based ``labels`` in 1..1000; ImageNet16-120 keeps the images whose label is in 1..120 and shifts
  them to 0..119 (AutoDL ``ImageNet16(root, train, transform, use_num_of_class_only=120)``).

Every file may also be stored xz-compressed (``<name>.xz``). Pickles are read only through the
allow-list unpickler :func:`nwot.safe_pickle.safe_load`.

Images are returned as uint8 arrays (N, H, W, 3) with int64 labels; :func:`scoring_batch` turns a
seeded random subset into a normalised float tensor (B, 3, H, W), ``x = (pixel / 255 - mean) / std``
with NAS-Bench-201's per-dataset constants :data:`NORMALISATION`.
"""
from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from nwot.errors import BenchmarkFileError, DataNotFoundError, NwotError, UnsafePickleError, check_choice
from nwot.paths import DATA_DIR_ENV, package_data, user_data_dir
from nwot.safe_pickle import safe_load

#: Splits understood by the loaders. For ImageNet16-120, "test" is the official ``val_data`` file
#: (NAS-Bench-201 splits it into its x-valid / x-test halves).
SPLITS: Tuple[str, ...] = ("train", "test")

#: File of the embedded CIFAR-10 sample (built by ``scripts/build_package_data.py``).
SAMPLE_FILE = "cifar10_sample.npz"

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
#: The NATS-Bench / NAS-Bench-201 authors' dataset folder (README "Preparation and Download").
IMAGENET16_URL = "https://drive.google.com/drive/folders/1T3UIyZXUhMmIuJLOBMIYKAsJknAtrrO4"


@dataclass(frozen=True)
class Normalisation:
    """Per-channel (R, G, B) mean and standard deviation of pixel / 255."""

    mean: Tuple[float, float, float]  # subtracted from pixel / 255
    std: Tuple[float, float, float]  # divides (pixel / 255 - mean)


def _per_255(values: Tuple[float, float, float]) -> Tuple[float, float, float]:
    return tuple(v / 255 for v in values)  # type: ignore[return-value]


#: NAS-Bench-201's normalisation (AutoDL ``get_datasets``), the one its networks were trained with.
NORMALISATION: Dict[str, Normalisation] = {
    "cifar10": Normalisation(_per_255((125.3, 123.0, 113.9)), _per_255((63.0, 62.1, 66.7))),
    "cifar100": Normalisation(_per_255((129.3, 124.1, 112.4)), _per_255((68.2, 65.4, 70.4))),
    "ImageNet16-120": Normalisation(_per_255((122.68, 116.66, 104.01)), _per_255((63.22, 61.26, 65.09))),
}


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset's python batches live and how to read them."""

    name: str  # nwot / NAS-Bench-201 dataset name
    image_size: int  # H = W
    num_classes: int  # labels kept are 0 .. num_classes - 1 after `label_offset`
    train_files: Tuple[str, ...]  # batch files of the training split, in order
    test_files: Tuple[str, ...]  # batch files of the test split
    label_key: str  # key of the label list in each batch dict
    label_offset: int  # subtracted from stored labels (ImageNet16 labels are 1-based)
    subdirs: Tuple[str, ...]  # folders under a data dir searched for the files ("." = the dir itself)
    source: str  # where to download it
    partial_train_ok: bool = False  # accept a subset of `train_files` (with a warning)
    max_label: Optional[int] = None  # largest stored label allowed (None: num_classes - 1 + offset)


DATASETS: Dict[str, DatasetSpec] = {
    "cifar10": DatasetSpec(
        name="cifar10", image_size=32, num_classes=10,
        train_files=tuple(f"data_batch_{k}" for k in range(1, 6)), test_files=("test_batch",),
        label_key="labels", label_offset=0,
        subdirs=(".", "cifar-10-batches-py", "cifar.python/cifar-10-batches-py", "cifar10/cifar-10-batches-py",
                 "cifar10/jpeg_derived", "cifar10"),
        source=f"CIFAR-10 python version from {CIFAR_URL} (cifar-10-python.tar.gz)",
        partial_train_ok=True,
    ),
    "cifar100": DatasetSpec(
        name="cifar100", image_size=32, num_classes=100,
        train_files=("train",), test_files=("test",),
        label_key="fine_labels", label_offset=0,
        subdirs=(".", "cifar-100-python", "cifar.python/cifar-100-python", "cifar100/cifar-100-python", "cifar100"),
        source=f"CIFAR-100 python version from {CIFAR_URL} (cifar-100-python.tar.gz)",
    ),
    "ImageNet16-120": DatasetSpec(
        name="ImageNet16-120", image_size=16, num_classes=120,
        train_files=tuple(f"train_data_batch_{k}" for k in range(1, 11)), test_files=("val_data",),
        label_key="labels", label_offset=1,
        subdirs=(".", "ImageNet16", "cifar.python/ImageNet16", "ImageNet16-120", "imagenet16"),
        source=(f"ImageNet16 (train_data_batch_1..10, val_data) from the NAS-Bench-201/NATS-Bench authors' "
                f"Google Drive {IMAGENET16_URL} (folder cifar.python/ImageNet16)"),
        max_label=1000,
    ),
}


def _where_to_set() -> str:
    return (f"pass data_dir=... (CLI: --data-dir) or set ${DATA_DIR_ENV} to a folder holding the batches "
            f"or its official subfolder")


def _check_dataset(dataset: str) -> DatasetSpec:
    check_choice("dataset", dataset, DATASETS)
    return DATASETS[dataset]


def _existing(folder: Path, name: str) -> Optional[Path]:
    for candidate in (folder / name, folder / f"{name}.xz"):
        if candidate.is_file():
            return candidate
    return None


def find_batch_files(spec: DatasetSpec, root: os.PathLike, split: str) -> List[Path]:
    """The batch files of ``split`` under ``root``: the first of ``spec.subdirs`` holding any of them.

    A training split must be complete unless ``spec.partial_train_ok`` (CIFAR-10 accepts e.g. only
    ``data_batch_1``, with a warning, so a partial download still gives scoring images).
    """
    check_choice("split", split, SPLITS)
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataNotFoundError(
            f"{spec.name} data folder {root} does not exist; download the {spec.source} and {_where_to_set()}")
    names = spec.train_files if split == "train" else spec.test_files
    for sub in spec.subdirs:
        folder = root / sub
        if not folder.is_dir():
            continue
        found = {name: _existing(folder, name) for name in names}
        present = [p for p in found.values() if p is not None]
        if not present:
            continue
        missing = [name for name, p in found.items() if p is None]
        if missing:
            if not (split == "train" and spec.partial_train_ok):
                raise DataNotFoundError(
                    f"{spec.name} {split} split in {folder} is incomplete: missing {', '.join(missing)} "
                    f"(plain or .xz); download the {spec.source}")
            warnings.warn(f"{spec.name} train split in {folder} is partial: using {len(present)} of "
                          f"{len(names)} batch files (missing {', '.join(missing)})", stacklevel=3)
        return present
    tried = ", ".join(str(root / sub) for sub in spec.subdirs)
    raise DataNotFoundError(
        f"no {spec.name} {split} batch files ({', '.join(names)}, plain or .xz) found under {root} "
        f"(looked in {tried}); download the {spec.source} and {_where_to_set()}")


def _field(batch: dict, key: str):
    """A batch dict's value for ``key`` whether keys were pickled as str or bytes."""
    if key in batch:
        return batch[key]
    if key.encode() in batch:
        return batch[key.encode()]
    raise NwotError(f"batch has no {key!r} entry; keys: {sorted(map(str, batch))}")


def load_batch(path: os.PathLike, spec: DatasetSpec) -> Tuple[np.ndarray, np.ndarray]:
    """Read one python batch file -> (uint8 images (N, H, W, 3), int64 labels as stored).

    ``latin1`` decoding reads both python-2 pickles (official CIFAR, ImageNet16) and python-3 ones.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{spec.name} batch file {path} not found; download the {spec.source}")
    try:
        batch = safe_load(path, encoding="latin1", source=spec.source)
    except UnsafePickleError:
        raise
    except BenchmarkFileError as e:
        raise DataNotFoundError(f"cannot read {spec.name} batch file {path}: {e}") from e
    if not isinstance(batch, dict):
        raise NwotError(f"{path} is not a {spec.name} python batch: expected a dict, got {type(batch).__name__}")
    try:
        data = np.asarray(_field(batch, "data"))
        labels = np.asarray(_field(batch, spec.label_key))
    except NwotError as e:
        raise NwotError(f"{path} is not a {spec.name} python batch: {e}") from e
    h = spec.image_size
    pixels = 3 * h * h
    if data.ndim != 2 or data.shape[1] != pixels:
        raise NwotError(
            f"{path}: {spec.name} images must be stored as an (N, {pixels}) = (N, 3*{h}*{h}) array, "
            f"got shape {data.shape}")
    if labels.ndim != 1 or len(labels) != len(data):
        raise NwotError(f"{path}: {len(data)} images but labels of shape {labels.shape}")
    if data.dtype != np.uint8:
        if not np.issubdtype(data.dtype, np.integer) or (data.size and (data.min() < 0 or data.max() > 255)):
            raise NwotError(f"{path}: pixels must be integers in 0..255, got dtype {data.dtype}")
        data = data.astype(np.uint8)
    if not np.issubdtype(labels.dtype, np.integer):
        raise NwotError(f"{path}: labels must be integers, got dtype {labels.dtype}")
    max_label = spec.max_label if spec.max_label is not None else spec.num_classes - 1 + spec.label_offset
    if labels.size and (labels.min() < spec.label_offset or labels.max() > max_label):
        raise NwotError(f"{path}: {spec.name} labels must lie in {spec.label_offset}..{max_label}, "
                        f"got {labels.min()}..{labels.max()}")
    images = data.reshape(-1, 3, h, h).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int64)


def load_dataset(dataset: str, root: Optional[os.PathLike] = None,
                 split: str = "train") -> Tuple[np.ndarray, np.ndarray]:
    """All images of ``split`` -> (uint8 (N, H, W, 3), int64 labels in 0 .. num_classes - 1).

    ``root`` defaults to ``$NWOT_DATA_DIR``; with neither, :class:`DataNotFoundError` says where to get
    the data. ImageNet16-120 keeps stored labels 1..120 only and shifts them to 0..119. Results are
    cached per (dataset, folder, split) and returned read-only.
    """
    spec = _check_dataset(dataset)
    check_choice("split", split, SPLITS)
    folder = user_data_dir(root)
    if folder is None:
        raise DataNotFoundError(
            f"no data folder given for {dataset}: download the {spec.source} and {_where_to_set()}")
    files = find_batch_files(spec, folder, split)
    return _load_files(dataset, tuple(str(p.resolve()) for p in files))


@functools.lru_cache(maxsize=4)
def _load_files(dataset: str, files: Tuple[str, ...]) -> Tuple[np.ndarray, np.ndarray]:
    spec = DATASETS[dataset]
    images, labels = [], []
    for path in files:
        x, y = load_batch(path, spec)
        keep = (y >= spec.label_offset) & (y < spec.num_classes + spec.label_offset)
        images.append(x[keep])
        labels.append(y[keep] - spec.label_offset)
    x, y = np.concatenate(images), np.concatenate(labels)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def load_cifar10(root: Optional[os.PathLike] = None, train: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 train (``data_batch_1..5``) or test (``test_batch``) images and labels 0..9."""
    return load_dataset("cifar10", root, "train" if train else "test")


def load_cifar100(root: Optional[os.PathLike] = None, train: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """CIFAR-100 train / test images and fine labels 0..99."""
    return load_dataset("cifar100", root, "train" if train else "test")


def load_imagenet16_120(root: Optional[os.PathLike] = None, train: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """ImageNet16-120 train (``train_data_batch_1..10``) or ``val_data`` images, labels 0..119."""
    return load_dataset("ImageNet16-120", root, "train" if train else "test")


@functools.lru_cache(maxsize=1)
def load_embedded_sample() -> Tuple[np.ndarray, np.ndarray, str]:
    """The 1,280 CIFAR-10 training images shipped with nwot -> (images, labels, provenance)."""
    path = package_data(SAMPLE_FILE)
    if not path.is_file():
        raise BenchmarkFileError(f"embedded CIFAR-10 sample {path} is missing; rebuild it with "
                                 f"`python scripts/build_package_data.py`")
    try:
        with np.load(path, allow_pickle=False) as z:
            images, labels, provenance = z["images"], z["labels"], z["provenance"].item()
    except (OSError, ValueError, KeyError) as e:
        raise BenchmarkFileError(f"embedded CIFAR-10 sample {path} is corrupt ({e}); rebuild it with "
                                 f"`python scripts/build_package_data.py`") from e
    if (images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3) or len(labels) != len(images)
            or not isinstance(provenance, str)):
        raise BenchmarkFileError(f"embedded CIFAR-10 sample {path} has images {images.dtype}{images.shape}, "
                                 f"labels {labels.shape}; rebuild it with `python scripts/build_package_data.py`")
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels, provenance


def normalise(images: np.ndarray, dataset: str) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> float32 (B, 3, H, W), ``(pixel / 255 - mean_c) / std_c`` per channel c."""
    norm = NORMALISATION[_check_dataset(dataset).name]
    x = images.astype(np.float32) / np.float32(255)
    x = (x - np.asarray(norm.mean, dtype=np.float32)) / np.asarray(norm.std, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def scoring_batch(dataset: str = "cifar10", batch_size: int = 128, seed: int = 0,
                  data_dir: Optional[os.PathLike] = None, split: str = "train") -> torch.Tensor:
    """A normalised batch (B, 3, H, W) of ``batch_size`` distinct images for scoring.

    Images are the first ``batch_size`` entries of ``numpy.random.default_rng(seed).permutation(N)``
    over the N images of the split (sampling without replacement). The folder is ``data_dir``, else
    ``$NWOT_DATA_DIR``; with neither, CIFAR-10 "train" uses the 1,280-image sample embedded in the package
    (other datasets / splits raise :class:`DataNotFoundError` saying where to get them).
    """
    spec = _check_dataset(dataset)
    check_choice("split", split, SPLITS)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise NwotError(f"batch_size must be a positive int, got {batch_size!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise NwotError(f"seed must be a non-negative int, got {seed!r}")
    folder = user_data_dir(data_dir)
    if folder is None:
        if dataset != "cifar10" or split != "train":
            raise DataNotFoundError(
                f"no data folder for {dataset} {split}: only CIFAR-10 training images are embedded in nwot; "
                f"download the {spec.source} and {_where_to_set()}")
        images, _, _ = load_embedded_sample()
        where = f"the embedded CIFAR-10 sample ({len(images)} images)"
    else:
        images, _ = load_dataset(dataset, folder, split)
        where = f"{dataset} {split} in {folder} ({len(images)} images)"
    if batch_size > len(images):
        raise DataNotFoundError(
            f"batch_size {batch_size} exceeds the {len(images)} images available in {where}; use a smaller "
            f"batch or download the full {spec.source} and {_where_to_set()}")
    order = np.random.default_rng(int(seed)).permutation(len(images))[:batch_size]
    return normalise(images[order], dataset)
