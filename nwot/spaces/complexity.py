"""Model size and cost: parameter count and a hook-based multiply-accumulate (MAC) counter.

What is counted (per image, one forward pass at the given input size):

* ``nn.Conv2d``: ``MACs = H_out * W_out * C_out * (C_in / groups) * k_h * k_w`` (bias adds ignored);
* ``nn.Linear``: ``MACs = in_features * out_features`` per row of the input (all leading dims);

and nothing else: BatchNorm, ReLU, pooling and elementwise adds are ignored, as in the FLOPs columns
of NAS-Bench-201 / NATS-Bench and most NAS papers, which report "FLOPs" that are in fact conv/linear
MACs. We follow that convention: :func:`count_flops` returns MACs, not 2 x MACs.
"""
from __future__ import annotations

from typing import List, Sequence

import torch
import torch.nn as nn


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters (``requires_grad``) of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class _MacCounter:
    """Running total of MACs, fed by :func:`_conv_macs_hook` / :func:`_linear_macs_hook`."""

    def __init__(self) -> None:
        self.total = 0


def _conv_macs_hook(counter: _MacCounter, module: nn.Conv2d, output: torch.Tensor) -> None:
    """``H_out W_out C_out (C_in / groups) k_h k_w`` per image."""
    k_h, k_w = module.kernel_size
    per_out = (module.in_channels // module.groups) * k_h * k_w
    counter.total += int(output[0].numel()) * per_out


def _linear_macs_hook(counter: _MacCounter, module: nn.Linear, output: torch.Tensor) -> None:
    """``in_features * out_features`` per row of the first image's output."""
    counter.total += int(output[0].numel()) * module.in_features


class _Hook:
    """A forward hook that passes (counter, module, output) to ``fn`` (a named function, no closures)."""

    def __init__(self, counter: _MacCounter, fn) -> None:
        self.counter, self.fn = counter, fn

    def __call__(self, module: nn.Module, inputs, output) -> None:
        self.fn(self.counter, module, output)


def count_flops(model: nn.Module, input_size: Sequence[int] = (3, 32, 32)) -> int:
    """Conv + linear multiply-accumulates of one forward pass on one image of ``input_size`` (C, H, W).

    Runs a zero image through ``model`` in eval mode under ``no_grad`` on the model's device and
    restores the train/eval flag afterwards. See the module docstring for what is counted.
    """
    counter = _MacCounter()
    handles: List = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(_Hook(counter, _conv_macs_hook)))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(_Hook(counter, _linear_macs_hook)))
    was_training = model.training
    try:
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *input_size), device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return counter.total
