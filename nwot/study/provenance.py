"""Provenance of a saved result: the machine, the software versions and the git state that made it.

Every benchmark script stores these beside its numbers (the developers' guide: "save results with the
exact command and machine"), so that a figure can be traced back to the commit and hardware it came from.
"""
from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

#: Environment variables that change which CPU kernels run (recorded beside every timing).
DISPATCH_ENV = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS", "OPENBLAS_CORETYPE",
                "OMP_WAIT_POLICY", "OMP_NUM_THREADS", "NWOT_GRAM_METHOD", "NWOT_POOL_METHOD", "NWOT_KEEP_FREED_MEMORY",
                "NWOT_THREADS", "NWOT_WORKERS", "NWOT_EMULATE_INT8_WITHOUT_VNNI")
#: The repository root (this file is ``<repo>/nwot/study/provenance.py``).
REPO = Path(__file__).resolve().parents[2]


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


#: /proc/cpuinfo flags that decide which CPU kernels torch, oneDNN and OpenBLAS run (vector width, VNNI, AMX).
SPEED_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
               "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16")


def cpu_flags() -> Sequence[str]:
    """All CPU flags of ``/proc/cpuinfo`` (empty off Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return line.split(":", 1)[1].split()
    except OSError:
        pass
    return []


def speed_flags() -> Sequence[str]:
    """The :data:`SPEED_FLAGS` this CPU has, in that order."""
    have = set(cpu_flags())
    return [f for f in SPEED_FLAGS if f in have]


def machine(device: Optional[str] = None, threads: Optional[int] = None) -> Dict[str, Any]:
    """Host, CPU (model, speed-relevant flags, torch's dispatch level), Python / torch / numpy versions;
    the GPU's name when ``device`` is a CUDA device."""
    import numpy
    import torch

    out: Dict[str, Any] = {"node": platform.node(), "platform": platform.platform(),
                           "python": platform.python_version(), "cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
                           "cpu_flags": list(speed_flags()),
                           "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                           "dispatch_env": {k: os.environ[k] for k in DISPATCH_ENV if k in os.environ},
                           "torch": torch.__version__, "numpy": numpy.__version__,
                           "threads": torch.get_num_threads() if threads is None else threads}
    if device is not None:
        out["device"] = str(device)
        if str(device).startswith("cuda"):
            out["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return out


def git_state(repo: Optional[os.PathLike] = None) -> Dict[str, Any]:
    """``{"commit": HEAD sha or None, "dirty": tracked files modified}`` of the repository at ``repo``."""
    def git(*args: str) -> Optional[str]:
        try:
            r = subprocess.run(["git", *args], cwd=repo or REPO, capture_output=True, text=True)
        except OSError:
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    return {"commit": commit, "dirty": bool(commit and git("status", "--porcelain", "--untracked-files=no"))}


def command_line(script: os.PathLike, argv: Optional[Sequence[str]] = None) -> str:
    """``python <script relative to the repo> <args>``, shell-quoted: the command that regenerates a result."""
    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(script).resolve()
    try:
        rel = str(path.relative_to(REPO))
    except ValueError:
        rel = str(path)
    return " ".join(shlex.quote(a) for a in ["python", rel, *args])


def git_label(repo: Optional[os.PathLike] = None) -> str:
    """``<sha>`` or ``<sha>+dirty`` (``unknown`` outside a git checkout), for one-line provenance."""
    st = git_state(repo)
    return "unknown" if st["commit"] is None else st["commit"] + ("+dirty" if st["dirty"] else "")


def utc_date() -> str:
    """The current UTC time as ``YYYY-MM-DD HH:MM UTC`` (the date line of a report)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def versions(*modules: str) -> Dict[str, str]:
    """``{name: __version__}`` of the importable ones among ``modules`` (default: numpy, pandas, optuna)."""
    import importlib

    out = {}
    for name in modules or ("numpy", "pandas", "optuna"):
        try:
            out[name] = importlib.import_module(name).__version__
        except ModuleNotFoundError:
            continue
    return out
