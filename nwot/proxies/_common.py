"""Declarations shared by the NAS-Bench-Suite-Zero proxies (one place for their paper and batch size)."""
from __future__ import annotations

from typing import Callable, Dict

import torch

from nwot.proxies.base import Paper

#: Abdelfattah, Mehrotra, Dudziak & Lane, "Zero-Cost Proxies for Lightweight NAS", ICLR 2021: §3 turns
#: the pruning-at-init saliencies (snip, grasp, synflow, fisher) and grad_norm into network scores by
#: summing them over every weight of every conv / linear layer.
ZERO_COST_NAS = Paper("Abdelfattah, Mehrotra, Dudziak & Lane", "Zero-Cost Proxies for Lightweight NAS",
                      "ICLR 2021", "2101.08134", "§3 (sum over conv/linear weights)")
#: Krishnakumar et al., "NAS-Bench-Suite-Zero", NeurIPS 2022 Datasets & Benchmarks, arXiv:2210.03230.
SUITE_ZERO = Paper("Krishnakumar, White, Zela, Tu, Safari & Hutter",
                   "NAS-Bench-Suite-Zero: Accelerating Research on Zero Cost Proxies",
                   "NeurIPS 2022 (Datasets & Benchmarks)", "2210.03230", "Table 1")
#: Minibatch of NASLib's zero-cost runner (``naslib/runners/zc/zc_config.yaml``: ``batch_size: 32``; one
#: training batch of CIFAR-10 per architecture, ``ZeroCost``: dataload "random", 1 batch). The stored
#: NASLib values confirm it: their ``nwot`` is the log-det of a 32 x 32 kernel (NB201 index 4811: NASLib
#: 406.5; ours 405.7 at batch 32, 806.9 at 64, 1605.7 at 128) and ``jacov`` ≥ -32·(1 + log 1) scale.
SUITE_ZERO_BATCH = 32


def layer_sum(names, fn: Callable[[str], torch.Tensor]) -> float:
    """``Σ_l fn(l)`` over prunable layers, accumulated in float64."""
    total = torch.zeros((), dtype=torch.float64)
    for n in names:
        total += fn(n).detach().to(torch.float64).sum().cpu()
    return float(total)


def weights_of(d: Dict[str, torch.Tensor], name: str) -> torch.Tensor:
    return d[name].detach()
