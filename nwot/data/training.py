"""Training data for the real-training evaluator: tensors, held-out split, augmentation with torch ops.

Images live as tensors (no torchvision, no DataLoader workers): uint8 pixels normalised per batch as
``(pixel / 255 - mean_c) / std_c`` (:data:`nwot.data.datasets.NORMALISATION`), or already normalised floats
from any map-style torch ``Dataset``. Augmentation (He et al., CVPR 2016, §4.2): zero-pad 4 pixels,
random 32x32 crop, horizontal flip with probability 1/2; optional cutout (DeVries & Taylor,
arXiv:1708.04552) after normalisation, as in DARTS. All randomness comes from a passed
``torch.Generator``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from nwot.errors import NwotError


@dataclass(frozen=True)
class ImageData:
    """Images + labels held as tensors.

    ``images`` is either uint8 pixels (N, 3, H, W), normalised per batch with ``mean`` / ``std``
    (of pixel / 255), or float32 (N, 3, H, W) already normalised (``mean = std = None``).
    """

    images: torch.Tensor  # (N, 3, H, W) uint8 pixels or normalised float32
    labels: torch.Tensor  # (N,) int64 class ids
    num_classes: int  # classifier width
    name: str  # identity used in checkpoint keys (dataset + source)
    mean: Optional[Tuple[float, ...]] = None  # per-channel mean of pixel / 255 (uint8 images only)
    std: Optional[Tuple[float, ...]] = None  # per-channel std of pixel / 255 (uint8 images only)

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.labels.ndim != 1 or len(self.images) != len(self.labels):
            raise NwotError(f"ImageData needs images (N, C, H, W) and labels (N,), got {tuple(self.images.shape)} "
                            f"and {tuple(self.labels.shape)}")
        if self.images.dtype == torch.uint8:
            if self.mean is None or self.std is None:
                raise NwotError("uint8 ImageData needs the normalisation mean and std")
        elif self.images.dtype != torch.float32:
            raise NwotError(f"ImageData images must be uint8 or float32, got {self.images.dtype}")
        if len(self.labels) and (int(self.labels.min()) < 0 or int(self.labels.max()) >= self.num_classes):
            raise NwotError(f"labels must lie in 0..{self.num_classes - 1}, got "
                            f"{int(self.labels.min())}..{int(self.labels.max())}")

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_shape(self) -> Tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]


def cifar10_data(root: Optional[os.PathLike] = None, train: bool = True) -> ImageData:
    """A CIFAR-10 split (python batches via :func:`nwot.data.datasets.load_cifar10`) as uint8 tensors.

    Searches use the training split (their validation images are held out of it); ``train=False``
    gives the test split for reporting the chosen cell.
    """
    from nwot.data.datasets import NORMALISATION, load_cifar10

    images, labels = load_cifar10(root, train=train)
    split = "train" if train else "test"
    return from_arrays(images, labels, num_classes=10, mean=NORMALISATION["cifar10"].mean,
                       std=NORMALISATION["cifar10"].std, name=f"cifar10-{split}:{len(labels)}")


def from_arrays(images, labels, *, num_classes: int, mean: Sequence[float], std: Sequence[float],
                name: str) -> ImageData:
    """uint8 images (N, H, W, 3) as returned by :mod:`nwot.data.datasets` -> :class:`ImageData`."""
    x = torch.as_tensor(images.copy() if hasattr(images, "copy") else images)
    if x.dtype != torch.uint8 or x.ndim != 4 or x.shape[-1] != 3:
        raise NwotError(f"expected uint8 images (N, H, W, 3), got {x.dtype} {tuple(x.shape)}")
    y = torch.tensor([int(v) for v in labels], dtype=torch.int64) if not hasattr(labels, "astype") else \
        torch.from_numpy(labels.astype("int64", copy=True))
    return ImageData(x.permute(0, 3, 1, 2).contiguous(), y, num_classes, name, tuple(mean), tuple(std))


def from_dataset(dataset: torch.utils.data.Dataset, *, num_classes: int, name: str) -> ImageData:
    """Materialise any map-style torch ``Dataset`` of ``(image (3, H, W), label)``.

    Float images must already be normalised; uint8 images are not accepted here (use
    :func:`from_arrays` with their normalisation).
    """
    xs, ys = [], []
    for i in range(len(dataset)):  # type: ignore[arg-type]
        x, y = dataset[i]
        x = torch.as_tensor(x)
        if x.dtype != torch.float32 or x.ndim != 3:
            raise NwotError(f"dataset item {i}: expected a normalised float32 image (3, H, W), got "
                            f"{x.dtype} {tuple(x.shape)}")
        xs.append(x)
        ys.append(int(y))
    return ImageData(torch.stack(xs), torch.tensor(ys, dtype=torch.int64), num_classes, name)


def split_indices(n: int, train_size: Optional[int], val_size: int, seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Seeded held-out split: ``perm = randperm(n)``; validation ``perm[:val_size]``, training the next
    ``train_size`` (or all the rest)."""
    need = val_size + (train_size or 2)
    if need > n:
        raise NwotError(f"the dataset has {n} images but val_size={val_size} + train_size={train_size} were asked for")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val = perm[:val_size]
    train = perm[val_size:] if train_size is None else perm[val_size:val_size + train_size]
    return train, val


def normalised(data: ImageData, idx: torch.Tensor) -> torch.Tensor:
    x = data.images[idx]
    if x.dtype == torch.uint8:
        mean = torch.tensor(data.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(data.std, dtype=torch.float32).view(1, -1, 1, 1)
        return (x.float() / 255.0 - mean) / std
    return x.clone()


def random_crop_flip(x: torch.Tensor, gen: torch.Generator, padding: int = 4) -> torch.Tensor:
    """Zero-pad by ``padding``, crop back to (H, W) at a uniform offset, flip with probability 1/2."""
    B, _, H, W = x.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (B,), generator=gen)
    dx = torch.randint(0, 2 * padding + 1, (B,), generator=gen)
    rows = (dy[:, None] + torch.arange(H)[None, :])[:, None, :, None]  # (B, 1, H, 1)
    cols = (dx[:, None] + torch.arange(W)[None, :])[:, None, None, :]  # (B, 1, 1, W)
    b = torch.arange(B)[:, None, None, None]
    c = torch.arange(x.shape[1])[None, :, None, None]
    out = xp[b, c, rows, cols]
    flip = torch.rand(B, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)


def cutout(x: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    """Zero a ``size`` x ``size`` square (clipped at the border) centred at a uniform pixel of each image."""
    B, _, H, W = x.shape
    cy = torch.randint(0, H, (B,), generator=gen)
    cx = torch.randint(0, W, (B,), generator=gen)
    ys, xs = torch.arange(H)[None, :], torch.arange(W)[None, :]
    in_y = (ys >= (cy - size // 2)[:, None]) & (ys < (cy - size // 2 + size)[:, None])  # (B, H)
    in_x = (xs >= (cx - size // 2)[:, None]) & (xs < (cx - size // 2 + size)[:, None])  # (B, W)
    mask = (in_y[:, :, None] & in_x[:, None, :])[:, None]  # (B, 1, H, W)
    return x.masked_fill(mask, 0.0)


def augmented_batch(data: ImageData, idx: torch.Tensor, gen: torch.Generator, *, augment: bool = True,
                    cutout_size: int = 0) -> torch.Tensor:
    """Normalised images of ``idx``: crop + flip before normalising (zero padding = black pixels, as
    torchvision on raw images), cutout after; all randomness from ``gen``."""
    x = data.images[idx]
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
        if augment:
            x = random_crop_flip(x, gen)
        mean = torch.tensor(data.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(data.std, dtype=torch.float32).view(1, -1, 1, 1)
        x = (x - mean) / std
    elif augment:
        x = random_crop_flip(x, gen)
    if cutout_size:
        x = cutout(x, cutout_size, gen)
    return x
