"""Images: dataset loaders and scoring batches (:mod:`.datasets`), training tensors and augmentation
(:mod:`.training`)."""

from nwot.data.datasets import (
    load_cifar10,
    load_cifar100,
    load_dataset,
    load_embedded_sample,
    load_imagenet16_120,
    normalise,
    scoring_batch,
)

__all__ = [
    "load_cifar10",
    "load_cifar100",
    "load_dataset",
    "load_embedded_sample",
    "load_imagenet16_120",
    "normalise",
    "scoring_batch",
]
