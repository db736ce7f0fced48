"""Small C kernels compiled for this machine on first use, cached, and loaded with :mod:`ctypes`.

nwot is a pure-Python package; where no torch / numpy operation does a job well (the bit-packed
popcount Gram product of :mod:`nwot.proxies.bitgram`), a few dozen lines of C shipped beside the
module are compiled with the machine's C compiler (``$CC``, default ``cc``) as
``$CC -O3 -march=native -fPIC -shared``, tuned for the CPU they run on, which is the CPU they are
compiled on. The library is cached in :func:`cache_dir` under a name that hashes the
source, the command, the compiler's version and the CPU model and flags, so a changed source, compiler or CPU
builds anew; the file is written under a temporary name and renamed, so concurrent processes never
load a half-written library.

A kernel that cannot be built (no compiler, a compile error, a read-only cache) is *unavailable*, with
the reason: the measured choices (:mod:`nwot.machine.calibration`) then time only the candidates
that exist, ``nwot info`` prints the reason, and forcing the kernel raises it. ``NWOT_NO_NATIVE=1``
makes every kernel unavailable without trying the compiler.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

ENV_NO_NATIVE = "NWOT_NO_NATIVE"
#: Environment variable naming nwot's cache folder of compiled kernels.
CACHE_DIR_ENV = "NWOT_CACHE_DIR"
FLAGS = ("-O3", "-march=native", "-fPIC", "-shared")
COMPILE_TIMEOUT_S = 120


@dataclass(frozen=True)
class Native:
    """A compiled kernel library, or why there is none."""

    name: str
    lib: Optional[ctypes.CDLL]
    path: Optional[Path]
    reason: str  # "compiled <path>", "cached <path>", or why it is unavailable

    @property
    def available(self) -> bool:
        return self.lib is not None


def _cpu_signature() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            lines = [ln for ln in fh if ln.startswith(("model name", "flags", "Features", "CPU part"))]
        return "".join(sorted(set(lines)))
    except OSError:
        return platform.processor() + platform.machine()


def _compiler_version(cc: str) -> str:
    try:
        out = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.splitlines()[0] if out.stdout else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def cache_dir() -> Path:
    """``$NWOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/nwot``, else ``~/.cache/nwot`` (created when a kernel is built)."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "nwot"


@functools.cache
def load(source: Path) -> Native:
    """Build (or reuse) and load the C file ``source`` as a shared library; see the module docstring."""
    name = source.stem
    if os.environ.get(ENV_NO_NATIVE, "0") == "1":
        return Native(name, None, None, f"{ENV_NO_NATIVE}=1")
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        return Native(name, None, None, f"no C compiler: {cc!r} is not on PATH (set CC to one)")
    try:
        text = source.read_bytes()
    except OSError as e:
        return Native(name, None, None, f"cannot read {source}: {e}")
    parts = [text, " ".join((cc,) + FLAGS).encode(), _compiler_version(cc).encode(), _cpu_signature().encode(),
             platform.machine().encode()]
    key = hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]
    folder = cache_dir()
    target = folder / f"{name}-{key}.so"
    how = "cached"
    if not target.exists():
        how = "compiled"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".so", dir=folder)
            os.close(fd)
        except OSError as e:
            return Native(name, None, None, f"cannot write the kernel cache {folder}: {e} (set NWOT_CACHE_DIR)")
        try:
            out = subprocess.run([cc, *FLAGS, "-o", tmp, str(source)], capture_output=True, text=True,
                                 timeout=COMPILE_TIMEOUT_S)
            if out.returncode != 0:
                first = (out.stderr.strip().splitlines() or ["(no message)"])[0]
                return Native(name, None, None, f"{cc} failed on {source.name} (exit {out.returncode}): {first}")
            os.replace(tmp, target)
        except (OSError, subprocess.SubprocessError) as e:
            return Native(name, None, None, f"{cc} could not build {source.name}: {e}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    try:
        lib = ctypes.CDLL(str(target))
    except OSError as e:
        return Native(name, None, None, f"cannot load {target}: {e}")
    return Native(name, lib, target, f"{how} {target}")
