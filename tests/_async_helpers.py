"""Helpers of the asynchronous-controller tests, importable by Ray workers (the tests put ``tests/`` on their path).

* :class:`ToyEval` -- a deterministic evaluator of any space: signal from the sha1 of the encoding;
* :class:`Crash` / :class:`CrashAfter` -- a controller "killed" after N evaluations (a BaseException the
  inline pool does not catch, so the controller stops there with its state on disk);
* :class:`EpochLog` -- a TrainEvaluator ``epoch_callback`` appending ``<encoding>\\t<epoch>\\t<pid>`` per
  trained epoch to a file: what was trained, and how often;
* :class:`Flaky` -- an evaluator whose first attempt on chosen archs raises or kills its worker process,
  or that always raises on others (marker files in a folder count the attempts across processes).
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from nwot.evaluators.base import Evaluation


class ToyEval:
    """``signal = sha1(encoding) mod 1000 / 10`` (0..99.9), cost 1 s (or ``cost(encoding)``), info flops."""

    cost_kind = "wall"

    def __init__(self, space, cost=None) -> None:
        self.space, self.cost = space, cost
        self.calls = []

    def value(self, arch) -> float:
        return int(hashlib.sha1(self.space.encode(arch).encode()).hexdigest(), 16) % 1000 / 10

    def __call__(self, arch) -> Evaluation:
        enc = self.space.encode(arch)
        self.calls.append(enc)
        cost = 1.0 if self.cost is None else float(self.cost(enc))
        return Evaluation(self.value(arch), cost, {"flops": 1000 + len(enc)})

    def config(self):
        return {"evaluator": "toy"}


class Crash(BaseException):
    """The controller dies here (not an Exception: no pool catches it)."""


class CrashAfter:
    """``inner`` that raises :class:`Crash` on its ``n``-th call (1-based), once; later calls go through."""

    def __init__(self, inner, n: int) -> None:
        self.inner, self.n, self.calls = inner, n, 0

    def __call__(self, arch):
        self.calls += 1
        if self.calls == self.n:
            raise Crash(f"controller killed at evaluation {self.n}")
        return self.inner(arch)

    def config(self):
        return self.inner.config()


class EpochLog:
    """TrainEvaluator ``epoch_callback``: one line per trained epoch (see the module docstring); ``delay``
    seconds of sleep after each epoch stand for a longer training (so a test can kill a controller mid-run)."""

    def __init__(self, path, delay: float = 0.0) -> None:
        self.path, self.delay = str(path), delay

    def __call__(self, encoding, epoch, stats) -> None:
        with open(self.path, "a") as f:
            f.write(f"{encoding}\t{epoch}\t{os.getpid()}\n")
        if self.delay:
            time.sleep(self.delay)


def trained_epochs(path):
    """``[(encoding, epoch)]`` of every line :class:`EpochLog` wrote (empty if none)."""
    p = Path(path)
    if not p.is_file():
        return []
    return [tuple(line.split("\t")[:2]) for line in p.read_text().splitlines() if line]


class Flaky:
    """``inner``, but an arch whose encoding is in ``raise_once`` raises on its first attempt, in ``die_once``
    kills its worker process on its first attempt, in ``always`` raises every time."""

    def __init__(self, inner, folder, raise_once=(), die_once=(), always=()) -> None:
        self.inner, self.folder = inner, str(folder)
        self.raise_once, self.die_once, self.always = set(raise_once), set(die_once), set(always)

    @property
    def space(self):
        return self.inner.space

    def __getattr__(self, name):  # a training evaluator's checkpoints, when the inner one has them
        if name in ("checkpoint_dir", "checkpoint_path", "test_accuracy"):
            return getattr(self.__dict__["inner"], name)
        raise AttributeError(name)

    def _first(self, enc: str) -> bool:
        marker = Path(self.folder) / hashlib.sha1(enc.encode()).hexdigest()
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def __call__(self, arch):
        enc = self.space.encode(arch)
        if enc in self.always:
            raise RuntimeError(f"injected permanent failure of {enc}")
        if enc in self.raise_once and self._first(enc):
            raise RuntimeError(f"injected failure of {enc}")
        if enc in self.die_once and self._first(enc):
            os._exit(17)
        return self.inner(arch)

    def config(self):
        return {"evaluator": "flaky"}
