"""Provenance of a saved result: the machine, the software versions and the git state that made it.

Every benchmark script stores these beside its numbers (the developers' guide: "save results with the
exact command and machine"), so that a figure can be traced back to the commit and hardware it came from.
"""
from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

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


def machine(device: Optional[str] = None, threads: Optional[int] = None) -> Dict[str, Any]:
    """Host, CPU, Python / torch / numpy versions; the GPU's name when ``device`` is a CUDA device."""
    import numpy
    import torch

    out: Dict[str, Any] = {"node": platform.node(), "platform": platform.platform(),
                           "python": platform.python_version(), "cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
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
