"""3x3 average pooling of NB201 (stride 1, ``count_include_pad=False``): the shift-and-add kernel or ATen's,
whichever measured faster on this CPU (both give the same bits; ``NWOT_POOL_METHOD`` forces one).
"""
from __future__ import annotations

import os
import time
from typing import Tuple

import torch

from nwot.errors import NwotError
from nwot.machine.calibration import Choice, _cached, cpu_seconds

ENV_POOL = "NWOT_POOL_METHOD"
POOL_METHODS: Tuple[str, ...] = ("shift_add", "aten")


def avg_pool_3x3(x: torch.Tensor) -> torch.Tensor:
    """``AvgPool2d(3, stride 1, pad 1, count_include_pad=False)`` by shifted adds, bit-identical to ATen's CPU kernel.

    ``y[h, w] = (0 + Σ x[h + di, w + dj]) / n(h, w)``: the in-bounds pixels of the 3x3 window summed in
    row-major window order starting from ``+0``, divided by their number ``n`` -- the operations of
    ATen's kernel in the same order (so the same float32 result), done as nine vectorised adds of
    shifted sub-rectangles instead of a scalar loop per output: ~4x faster on CPU
    (``tests/proxies/test_score_fast.py`` checks equality with ``F.avg_pool2d`` bit for bit).
    """
    H, W = x.shape[-2], x.shape[-1]
    y = torch.zeros_like(x)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            y[..., max(0, -di):H - max(0, di), max(0, -dj):W - max(0, dj)] += \
                x[..., max(0, di):H - max(0, -di), max(0, dj):W - max(0, -dj)]
    rows = torch.full((H, 1), 3.0, dtype=x.dtype, device=x.device)
    cols = torch.full((1, W), 3.0, dtype=x.dtype, device=x.device)
    rows[0] -= 1
    rows[-1] -= 1
    cols[:, 0] -= 1
    cols[:, -1] -= 1
    return y.div_(rows * cols)


def pool_choice() -> Choice:
    """``"shift_add"`` (:func:`avg_pool_3x3`) or ``"aten"``: the faster on this CPU.

    Both give the same bits (tested); ``NWOT_POOL_METHOD`` forces one.
    """
    return _cached(("pool",), _pool_choice)


def _pool_choice() -> Choice:
    forced = os.environ.get(ENV_POOL)
    if forced:
        if forced not in POOL_METHODS:
            raise NwotError(f"{ENV_POOL}={forced!r}; allowed: {', '.join(map(repr, POOL_METHODS))}")
        return Choice("pool", forced, f"{ENV_POOL}={forced}")
    import torch.nn.functional as F

    t0 = time.perf_counter()
    x = torch.randn((32, 16, 32, 32), generator=torch.Generator().manual_seed(0))
    runs = {"shift_add": lambda: avg_pool_3x3(x),
            "aten": lambda: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)}
    seconds, outs = {}, {}
    for name, fn in runs.items():
        fn()
        seconds[name], outs[name] = cpu_seconds(fn, 2)
    if not torch.equal(outs["shift_add"], outs["aten"]):
        raise NwotError("the shift-and-add 3x3 average pool differs from ATen's on this machine; "
                        f"set {ENV_POOL}=aten")
    chosen = min(seconds, key=seconds.get)
    return Choice("pool", chosen, "measured", seconds, {}, "3x3 average pool of (32, 16, 32, 32), best of 2",
                  time.perf_counter() - t0)


def pool_method() -> str:
    return pool_choice().chosen
