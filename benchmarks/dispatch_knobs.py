"""Which environment knob changes which CPU kernel: micro-timings under one dispatch setting (prints JSON).

Run by ``benchmarks/perf_score.py`` once per setting, each in a fresh interpreter (the knobs are read
when torch / oneDNN / MKL start): ``ATEN_CPU_CAPABILITY`` (ATen's own vectorised kernels: BatchNorm,
elementwise, pooling), ``ONEDNN_MAX_CPU_ISA`` (oneDNN: convolutions, and the int8 GEMM where torch
uses it), ``MKL_ENABLE_INSTRUCTIONS`` (MKL: float32 / float64 ``torch.mm``). One thread, best of 5::

    ATEN_CPU_CAPABILITY=avx2 python benchmarks/dispatch_knobs.py
"""
from __future__ import annotations

import json
import os
import time


def best_ms(fn, n: int = 5) -> float:
    fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e3 * min(ts)


def main() -> None:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    x = torch.randn((128, 16, 32, 32), generator=g)
    w = torch.randn((16, 16, 3, 3), generator=g)
    codes = torch.relu(torch.randn((128, 16384), generator=g))
    b8 = codes.bool().view(torch.int8)
    f32 = torch.sign(codes)

    def int_mm_scalar():
        torch.backends.mkldnn.enabled = False  # torch's path on a CPU without AVX-512 VNNI
        try:
            return torch._int_mm(b8, b8.T)
        finally:
            torch.backends.mkldnn.enabled = True

    out = {"env": {k: os.environ[k] for k in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")
                   if k in os.environ},
           "cpu_capability": torch.backends.cpu.get_cpu_capability(),
           "ms": {"conv3x3 16->16 (oneDNN)": best_ms(lambda: F.conv2d(x, w, padding=1)),
                  "batch_norm, batch stats (ATen)": best_ms(lambda: F.batch_norm(x, None, None, training=True)),
                  "avg_pool2d 3x3 (ATen)": best_ms(lambda: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)),
                  "add (ATen)": best_ms(lambda: x + x),
                  "float32 mm 128x16384 (MKL)": best_ms(lambda: f32 @ f32.T),
                  "int8 _int_mm 128x16384 (oneDNN)": best_ms(lambda: torch._int_mm(b8, b8.T)),
                  "int8 _int_mm, oneDNN off (scalar loop)": best_ms(int_mm_scalar, 1)}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
