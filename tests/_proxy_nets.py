"""Tiny networks with fixed weights for the proxy tests (hand-checkable)."""
from __future__ import annotations

import torch
import torch.nn as nn


class TinyNet(nn.Module):
    """Conv1x1(3->2, no bias) -> BN(2) -> ReLU -> global avg pool -> Linear(2->3, no bias).

    An AutoDL-style ``stem`` / ``cells`` split (stem = conv + BN, one cell = ReLU) lets AZ-NAS find its blocks.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 2, 1, bias=False), nn.BatchNorm2d(2))
        self.cells = nn.ModuleList([nn.Sequential(nn.ReLU())])
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(2, 3, bias=False)
        with torch.no_grad():
            self.stem[0].weight.copy_(torch.tensor([[0.5, -0.3, 0.2], [-0.4, 0.6, 0.1]]).view(2, 3, 1, 1))
            self.classifier.weight.copy_(torch.tensor([[0.7, -0.2], [0.1, 0.9], [-0.5, 0.3]]))

    def forward(self, x):
        x = self.stem(x)
        for c in self.cells:
            x = c(x)
        return self.classifier(self.global_pooling(x).flatten(1))


def tiny_batch(n: int = 128, seed: int = 0, hw: int = 4):
    from nwot.proxies import Batch

    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n, 3, hw, hw), generator=g)
    y = torch.arange(n) % 3
    return Batch(x, y, 3)


class NanNet(TinyNet):
    """TinyNet whose conv weight is NaN: every data-dependent proxy must fail as a value."""

    def __init__(self) -> None:
        super().__init__()
        with torch.no_grad():
            self.stem[0].weight.fill_(float("nan"))
