"""Process memory tuning for scoring many networks on the CPU: reuse freed activation buffers.

One NB201 forward pass at batch 128 allocates and frees a few hundred tensors of 0.5–8 MB. With its
default settings glibc serves such requests with fresh ``mmap`` calls, or hands freed heap memory
back to the kernel (trim), so every new tensor page-faults its memory in again: ~80,000 minor page
faults per scored cell, about a quarter of the scoring time on the 2-core machine of
``benchmarks/results/PERFORMANCE.md``. :func:`keep_freed_memory` sets glibc's ``M_MMAP_THRESHOLD``
to 32 MB (its maximum) and ``M_TRIM_THRESHOLD`` to 1 GB, so those buffers come from, and go back to,
the heap. Peak memory is unchanged (the heap only keeps what the process already used at its peak)
and no arithmetic changes: PyTorch's CPU tensors stay 64-byte aligned, and the tests compare scores
with and without it.

It is process-wide, applied once, and only on Linux with glibc (elsewhere it does nothing).
Whether it is applied is decided by timing (:func:`nwot.machine.calibration.allocator_choice`);
``NWOT_KEEP_FREED_MEMORY=0`` / ``1`` in the environment forces it off / on.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import platform

#: glibc ``mallopt`` parameters (``malloc.h``).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Requests up to this size come from the heap (glibc's maximum on 64-bit: HEAP_MAX_SIZE / 2).
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Free memory kept at the top of the heap before it is returned to the kernel.
TRIM_THRESHOLD = 1024 * 1024 * 1024
ENV_SWITCH = "NWOT_KEEP_FREED_MEMORY"
#: glibc's documented defaults of both thresholds (128 KiB), restored by :func:`release_freed_memory`.
GLIBC_DEFAULT_THRESHOLD = 128 * 1024


def available() -> bool:
    """Whether this process runs on Linux with glibc (where ``mallopt`` exists)."""
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _mallopt(param: int, value: int) -> bool:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return bool(libc.mallopt(param, value))


@functools.cache
def keep_freed_memory() -> bool:
    """Tune glibc's allocator as described in the module docstring; True if it was applied.

    Idempotent (the first call decides). False on non-glibc platforms or when ``NWOT_KEEP_FREED_MEMORY=0``.
    """
    if os.environ.get(ENV_SWITCH, "1") == "0" or not available():
        return False
    ok_trim = _mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    ok_mmap = _mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return bool(ok_trim and ok_mmap)


def release_freed_memory() -> bool:
    """Set both thresholds to glibc's 128 KiB starting values, *fixed* from then on (glibc's dynamic adjustment
    of the mmap threshold stays off once it has been set): not glibc's default behaviour, and measured 2x
    slower on an NB201 forward pass, so the calibration never calls it (it times the tuned allocator in a
    forked process instead). For experiments only. True if applied."""
    if not available():
        return False
    keep_freed_memory.cache_clear()
    return _mallopt(M_TRIM_THRESHOLD, GLIBC_DEFAULT_THRESHOLD) and _mallopt(M_MMAP_THRESHOLD, GLIBC_DEFAULT_THRESHOLD)
