"""Progress that stays visible in logs: a tqdm bar on a terminal, dated lines otherwise."""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class LineProgress:
    """``tqdm``'s ``update`` / ``close`` interface writing one line per ``every`` seconds (and at the end),
    for stderr redirected to a file or a pipe, where a ``\\r``-redrawn bar shows nothing useful."""

    def __init__(self, total: Optional[int], desc: str, unit: str, every: float = 10.0,
                 file: Optional[TextIO] = None) -> None:
        self.total, self.desc, self.unit, self.every = total, desc, unit, every
        self.file = file or sys.stderr
        self.n, self.t0 = 0, time.perf_counter()
        self._last = self.t0

    def update(self, k: int = 1) -> None:
        self.n += k
        now = time.perf_counter()
        if now - self._last >= self.every or (self.total is not None and self.n >= self.total):
            self._last = now
            self._line(now)

    def _line(self, now: float) -> None:
        done = (f"{self.n}" if self.total is None
                else f"{self.n}/{self.total} ({100 * self.n / max(self.total, 1):.0f}%)")
        print(f"{time.strftime('%H:%M:%S')} {self.desc}: {done} {self.unit}s, {now - self.t0:.1f} s", file=self.file,
              flush=True)

    def write(self, text: str) -> None:
        print(text, file=self.file, flush=True)

    def close(self) -> None:
        if self.total is None or self.n < self.total:
            self._line(time.perf_counter())


def progress(total: Optional[int], desc: str, unit: str = "cell", quiet: bool = False):
    """A progress object with ``update(k)`` and ``close()``: tqdm on a terminal, :class:`LineProgress` otherwise,
    nothing with ``quiet``."""
    from tqdm import tqdm

    if quiet:
        return tqdm(total=total, disable=True)
    if sys.stderr.isatty():
        return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr)
    return LineProgress(total, desc, unit)
