"""The NASWOT kernels of two NAS-Bench-201 cells for the paper's Fig. 1 (Mellor et al., ICML 2021).

``K_H[i, j] = N_A - hamming(c_i, c_j)`` over the binary ReLU codes ``c_i`` of images ``i, j`` of one
batch; in clean mode its entries are integers. The best cell (highest accuracy) and the worst cell that
has an input->output path are compared.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict

import numpy as np

from nwot.study.cells import path_mask


def kernel_cells(table, accuracy: str = "cifar10/ori-test@200") -> Dict[str, int]:
    """The two cells of the heat maps: ``high`` = best accuracy, ``low`` = worst accuracy among cells with a path."""
    acc = table[accuracy]
    paths = path_mask(table["arch"].tolist())
    return {"high": int(acc.idxmax()), "low": int(acc[paths].idxmin())}


def compute_kernels(table, path: Path, accuracy: str = "cifar10/ori-test@200") -> None:
    """K_H (int64), index and score of :func:`kernel_cells`, on the batch-128 seed-0 CIFAR-10 batch with init
    seed 0 (clean mode), saved to ``path`` (``np.savez_compressed``: ``<name>_K``, ``<name>_index``,
    ``<name>_score``)."""
    import torch

    from nwot.data.datasets import scoring_batch
    from nwot.proxies.naswot import logdet_score, naswot_kernel
    from nwot.seeding import torch_seed
    from nwot.spaces.nb201.codec import parse_arch
    from nwot.spaces.nb201.model import build_nb201

    images = scoring_batch("cifar10", batch_size=128, seed=0)
    out = {}
    for name, idx in kernel_cells(table, accuracy).items():
        with torch_seed(0):
            model = build_nb201(parse_arch(table["arch"].iat[idx]), num_classes=10)
        K = naswot_kernel(model, images, compat="clean", device="cpu").numpy()
        if not np.array_equal(K, np.round(K)):
            raise AssertionError(f"clean-mode kernel of cell {idx} has non-integer entries")
        out[f"{name}_K"] = K.astype(np.int64)
        out[f"{name}_index"] = idx
        out[f"{name}_score"] = logdet_score(torch.from_numpy(K))
    np.savez_compressed(path, **out)
