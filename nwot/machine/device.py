"""Which torch device a computation runs on: one resolver for every scorer, evaluator and job."""
from __future__ import annotations

from typing import Union

import torch

from nwot.errors import NwotError

DeviceLike = Union[None, str, torch.device]
#: Spellings of "pick for me": CUDA when a GPU is visible, else the CPU.
AUTO = (None, "auto")


def resolve_device(device: DeviceLike = None) -> torch.device:
    """``None`` / ``"auto"`` -> ``cuda`` when available, else ``cpu``; otherwise the named device, checked.

    A CUDA device on a torch build without CUDA (or with no GPU visible), or an index past the
    visible GPUs, raises :class:`~nwot.errors.NwotError` naming the device and what is available,
    instead of torch's ``AssertionError`` at the first tensor copy.
    """
    if device in AUTO:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise NwotError(f"unknown device {device!r}; allowed: 'auto', 'cpu', 'cuda', 'cuda:N'") from e
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}, no GPU visible"
            raise NwotError(f"device {device!r} asked for, but this torch ({torch.__version__}, {build}) has no CUDA "
                            f"device; use --device cpu (or install a CUDA build of torch on a GPU machine)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise NwotError(f"device {device!r} asked for, but only {torch.cuda.device_count()} CUDA device(s) are "
                            f"visible: cuda:0..cuda:{torch.cuda.device_count() - 1}")
    elif dev.type != "cpu" and dev.type not in ("mps", "xpu"):
        raise NwotError(f"device type {dev.type!r} is not supported; allowed: cpu, cuda[:N]")
    return dev
