"""Which exact Gram product (:mod:`nwot.proxies.gram`) is fastest on this machine, measured once per process.

``torch._int_mm`` is ~5x faster than float32 on a CPU with AVX-512 VNNI and ~20x slower without it, so
the method is never chosen from flags or device type: each candidate is timed on a representative block
(:data:`GRAM_BLOCK`) and the fastest is kept, after checking that all give the same integers. The timing
and caching machinery is :mod:`nwot.machine.calibration`; ``NWOT_GRAM_METHOD`` forces a method.
"""
from __future__ import annotations

import os
import time
from typing import Callable, Dict, Optional, Tuple

import torch

from nwot.errors import NwotError
from nwot.machine.calibration import Choice, _cached, cpu_seconds, set_blas_threads, sync_blas_threads
from nwot.proxies import gram

ENV_GRAM = "NWOT_GRAM_METHOD"
#: Representative block of the Gram timing: a stage-1 NB201 ReLU output (16 x 32 x 32 units, batch 128).
GRAM_BLOCK = (128, 16384)
#: Columns of the screening block: every method is timed on it (best of 3; once if already 9x slower than
#: the fastest so far); those within :data:`SCREEN_FACTOR` of the fastest are timed again on the full
#: block (so a very slow method costs little).
SCREEN_COLUMNS = 2048
SCREEN_FACTOR = 3.0




def gram_choice(device=None) -> Choice:
    """The Gram method for ``device`` (default CPU): forced by ``NWOT_GRAM_METHOD``, else the fastest measured.

    Off the CPU only float64 is offered (exact, never TF32). The measurement times codes + product of
    a (128, 16,384) ReLU output (:data:`GRAM_BLOCK`) per method: all on a 2,048-column screening block,
    the ones within 3x of the fastest on the full block (best of 3), and checks that all of them give
    the same integers on each block (so the chosen one is checked against every other method, even when
    it alone is timed on the full block).
    """
    dev = torch.device("cpu" if device is None else device)
    return _cached(("gram", dev.type), lambda: _gram_choice(dev))


def _gram_choice(dev: torch.device) -> Choice:
    methods = gram.methods_for(dev)
    forced = os.environ.get(ENV_GRAM)
    if forced:
        if forced not in methods:
            why = gram.unavailable_methods().get(forced) if dev.type == "cpu" else None
            if why:
                raise NwotError(f"{ENV_GRAM}={forced!r}: that method is unavailable here ({why}); allowed: "
                                f"{', '.join(map(repr, methods))}")
            raise NwotError(f"{ENV_GRAM}={forced!r} is not a Gram method for {dev.type}; allowed: "
                            f"{', '.join(map(repr, methods))}")
        return Choice("gram method", forced, f"{ENV_GRAM}={forced}")
    if len(methods) == 1:
        return Choice("gram method", methods[0], f"only exact method on {dev.type}")
    return measure_gram(methods)


def gram_workload(columns: int = GRAM_BLOCK[1], batch: int = GRAM_BLOCK[0]) -> torch.Tensor:
    """A ReLU output of ``batch`` x ``columns`` units, about half of them 0 (seeded)."""
    g = torch.Generator().manual_seed(0)
    return torch.relu(torch.randn((batch, columns), generator=g))


def measure_gram(methods, timer: Optional[Callable[[str, Callable[[], object], int], Tuple[float, object]]] = None
                 ) -> Choice:
    """Time ``methods`` (see :func:`gram_choice`) with ``timer(method, fn, repeats)`` (default: wall clock),
    one torch and BLAS thread."""
    timer = timer or (lambda method, fn, repeats: cpu_seconds(fn, repeats))
    t0 = time.perf_counter()
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # per-core speed: batches of cells run one thread per core
    set_blas_threads(1)
    try:
        return _measure_gram(methods, timer, t0)
    finally:
        torch.set_num_threads(before)
        sync_blas_threads()


def _measure_gram(methods, timer, t0: float) -> Choice:
    block = gram_workload()
    small = block[:, :SCREEN_COLUMNS].contiguous()
    def run(t: torch.Tensor, m: str) -> Callable[[], torch.Tensor]:
        return lambda: gram.layer_gram(t, m, relu_output=True)

    screen: Dict[str, float] = {}
    screened: Dict[str, torch.Tensor] = {}  # every method's G on the screening block, all compared below
    for m in methods:
        run(small, m)()  # warm-up (oneDNN generates its kernels on first use)
        once, G = timer(m, run(small, m), 1)
        screened[m] = G.to(torch.int64)
        if screen and once > SCREEN_FACTOR ** 2 * min(screen.values()):
            screen[m] = once  # clearly slow: not worth repeating
        else:
            screen[m] = min(once, timer(m, run(small, m), 2)[0])
    _check_equal(screened, "screening")
    fastest = min(screen.values())
    seconds, results = {}, {}
    for m in methods:
        if screen[m] <= SCREEN_FACTOR * fastest:
            seconds[m], G = timer(m, run(block, m), 3)
            results[m] = G.to(torch.int64)
    _check_equal(results, "calibration")
    chosen = min(seconds, key=seconds.get)
    return Choice("gram method", chosen, "measured", seconds, screen,
                  f"codes + c c^T of a {GRAM_BLOCK[0]} x {GRAM_BLOCK[1]} ReLU output, best of 3 "
                  f"(screened on {SCREEN_COLUMNS} columns)", time.perf_counter() - t0)


def _check_equal(results: Dict[str, torch.Tensor], which: str) -> None:
    """Every method gave the same integers on the ``which`` block, else an error naming the ones that differ."""
    first = next(iter(results.values()))
    bad = [m for m, G in results.items() if not torch.equal(G, first)]
    if bad:
        raise NwotError(f"Gram methods {bad} disagree with {next(iter(results))} on the {which} block: "
                        f"this torch / BLAS build computes an inexact product; force {ENV_GRAM}=float64")
