"""NAS-Bench-101 from the official ``.tfrecord`` files.

:mod:`.tfrecord` (file format), :mod:`.cache` (SQLite cache), :mod:`.benchmark` (registered backend)."""

from nwot.adapters.nb101.benchmark import NB101Benchmark

__all__ = ["NB101Benchmark"]
