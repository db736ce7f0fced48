"""What ``nwot info`` reports: the software, the CPU's speed-relevant features and nwot's measured choices.

Everything a reader needs to tell what to expect on their machine: torch's version, build and CPU
dispatch level, the CPU model and the flags that decide which kernels run (AVX2 / AVX-512 / VNNI /
AMX), which path ``torch._int_mm`` takes on this CPU, the environment variables that change dispatch,
numpy's BLAS, CUDA devices, and the choices of :mod:`nwot.machine.calibration` with their timings.
"""
from __future__ import annotations

import os
import platform
import time
from typing import Any, Dict, List

#: Lines of ``torch.__config__.show()`` kept in the report.
_BUILD_KEYS = ("Math Kernel Library", "MKL-DNN", "OpenMP", "CPU capability usage", "LAPACK", "NNPACK")


def torch_build() -> Dict[str, Any]:
    import torch

    show = torch.__config__.show()
    lines = [ln.strip(" -") for ln in show.splitlines()
             if any(k in ln for k in _BUILD_KEYS) and "Build settings" not in ln]
    cuda = getattr(torch.version, "cuda", None)
    return {"version": torch.__version__, "cuda_build": cuda, "build": lines,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "mkldnn_available": torch.backends.mkldnn.is_available(),
            "mkldnn_enabled": bool(torch.backends.mkldnn.enabled)}


def int8_path(flags: List[str]) -> str:
    """Which code ``torch._int_mm`` runs on this CPU (torch 2.x ``_int_mm_out_cpu``: oneDNN only with VNNI)."""
    import torch

    from nwot.proxies import gram

    if not gram.int8_products_available():
        return "unavailable in this torch build"
    if gram.EMULATE_INT8_WITHOUT_VNNI:
        return "scalar loop (emulated: NWOT_EMULATE_INT8_WITHOUT_VNNI=1)"
    if "avx512_vnni" in flags and torch.backends.mkldnn.enabled:
        return "oneDNN (AVX-512 VNNI)"
    return "scalar loop (torch uses oneDNN for int8 products only with AVX-512 VNNI)"


def bitpack_kernel() -> str:
    """Where the bitpack Gram kernel (``nwot/proxies/bitgram.c``) came from, or why it is unavailable."""
    from nwot.proxies import bitgram

    k = bitgram.kernel()
    return k.reason if k.available else f"unavailable: {k.reason}"


def blas_info() -> List[Dict[str, Any]]:
    import numpy  # noqa: F401
    from threadpoolctl import threadpool_info

    keep = ("user_api", "internal_api", "version", "num_threads", "architecture", "threading_layer")
    return [{k: d.get(k) for k in keep if d.get(k) is not None} for d in threadpool_info()]


def cuda_info() -> Dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        return {"available": False, "devices": []}
    devs = []
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        devs.append({"index": i, "name": p.name, "capability": f"{p.major}.{p.minor}",
                     "memory_gib": round(p.total_memory / 2 ** 30, 1)})
    return {"available": True, "cudnn": torch.backends.cudnn.version(), "devices": devs}


def machine_report(calibrate: bool = True) -> Dict[str, Any]:
    """The report as a dict (``nwot info --json``); ``calibrate`` runs (or reuses) every CPU measurement."""
    import nwot
    from nwot.machine import calibration
    from nwot.proxies import gram_choice
    from nwot.scores import parallel
    from nwot.spaces.nb201 import pooling
    from nwot.study.provenance import DISPATCH_ENV, cpu_flags, cpu_model, speed_flags

    flags = list(speed_flags())
    out: Dict[str, Any] = {
        "nwot": nwot.__version__, "python": platform.python_version(), "platform": platform.platform(),
        "torch": torch_build(),
        "cpu": {"model": cpu_model(), "cores_available": parallel.available_cores(), "cpu_count": os.cpu_count(),
                "speed_flags": flags, "flag_count": len(cpu_flags()), "int8_product": int8_path(flags),
                "bitpack_kernel": bitpack_kernel()},
        "env": {k: os.environ.get(k) for k in DISPATCH_ENV if os.environ.get(k) is not None},
        "blas": blas_info(), "cuda": cuda_info()}
    if calibrate:
        t0 = time.perf_counter()
        choices = {"gram": gram_choice.gram_choice("cpu"), "pool": pooling.pool_choice(),
                   "allocator": calibration.allocator_choice()}
        plan = parallel.parallel_plan("cpu")
        out["choices"] = {k: c.as_dict() for k, c in choices.items()}
        out["choices"]["parallel"] = {**plan.choice.as_dict(), "threads": plan.threads, "workers": plan.workers,
                                      "mode": plan.mode}
        out["calibration_s"] = time.perf_counter() - t0
        if out["cuda"]["available"]:
            out["choices"]["gram_cuda"] = gram_choice.gram_choice("cuda").as_dict()
    return out


def _ms(x: float) -> str:
    return f"{x * 1e3:.2f} ms"


def format_report(r: Dict[str, Any]) -> str:
    """The report as aligned text lines."""
    t, c = r["torch"], r["cpu"]
    rows = [("nwot", r["nwot"]), ("python", f"{r['python']}  ({r['platform']})"),
            ("torch", f"{t['version']}  (CUDA build: {t['cuda_build'] or 'none'})"),
            ("torch CPU capability", t["cpu_capability"])]
    rows += [("torch build", ln) for ln in t["build"]]
    rows += [("CPU", f"{c['model']}, {c['cores_available']} core(s) available of {c['cpu_count']}"),
             ("CPU flags", " ".join(c["speed_flags"]) or "(none of the vector flags)"),
             ("int8 product (_int_mm)", c["int8_product"]),
             ("bitpack kernel", c.get("bitpack_kernel", "(not reported)"))]
    for b in r["blas"]:
        desc = ", ".join(f"{k} {v}" for k, v in b.items() if k not in ("user_api",))
        rows.append((f"{b.get('user_api', 'lib')} library", desc))
    for k, v in r["env"].items():
        rows.append(("env", f"{k}={v}"))
    cuda = r["cuda"]
    if cuda["available"]:
        for d in cuda["devices"]:
            rows.append((f"CUDA device {d['index']}", f"{d['name']} (sm {d['capability']}, {d['memory_gib']} GiB), "
                                                      f"cuDNN {cuda['cudnn']}"))
    else:
        rows.append(("CUDA", "no CUDA device" + (" (CPU build of torch)" if not t["cuda_build"] else "")))
    ch = r.get("choices")
    if ch:
        for key, label in (("gram", "Gram method"), ("pool", "avg pool 3x3"), ("allocator", "allocator")):
            d = ch[key]
            timed = ", ".join(f"{m} {_ms(s)}" for m, s in sorted(d["seconds"].items(), key=lambda kv: kv[1]))
            screen = ""
            if d["screen"]:
                screen = "; screen " + ", ".join(f"{m} {_ms(s)}" for m, s in d["screen"].items())
            rows.append((label, f"{d['chosen']}  [{d['source']}]" + (f"  {timed}{screen}" if timed else "")))
        p = ch["parallel"]
        timed = ", ".join(f"{m} {_ms(s)}" for m, s in p["seconds"].items())
        rows.append(("threads / workers", f"{p['threads']} / {p['workers']} ({p['mode']})  [{p['source']}]"
                     + (f"  per step: {timed}" if timed else "")))
        if "gram_cuda" in ch:
            rows.append(("Gram method (CUDA)", f"{ch['gram_cuda']['chosen']}  [{ch['gram_cuda']['source']}]"))
        rows.append(("calibration", f"{r['calibration_s']:.3f} s"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def flags_line() -> str:
    """One line naming the CPU and its vector flags (for result files and logs)."""
    from nwot.study.provenance import cpu_model, speed_flags

    return f"{cpu_model()} [{' '.join(speed_flags())}]"

