"""Where data lives: package data shipped with nwot, and user-supplied dataset / benchmark roots."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

#: Package data built by ``scripts/build_package_data.py`` (embedded NB201 table, CIFAR-10 sample...).
PACKAGE_DATA = Path(__file__).resolve().parent / "_data"

#: Environment variable naming the root of user datasets (CIFAR-10/100 python batches, ImageNet16).
DATA_DIR_ENV = "NWOT_DATA_DIR"
#: Environment variable naming the staged real benchmark data used by tests, scripts and benchmarks
#: (the ``shared/data`` layout described in its MANIFEST.md). Default: ``<repo>/../shared/data``.
SHARED_DATA_ENV = "NWOT_SHARED_DATA"


def package_data(name: str) -> Path:
    return PACKAGE_DATA / name


def user_data_dir(explicit: Optional[os.PathLike] = None) -> Optional[Path]:
    """``explicit`` if given, else ``$NWOT_DATA_DIR`` if set, else ``None`` (use the embedded sample)."""
    if explicit is not None:
        return Path(explicit).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else None


def shared_data_dir(explicit: Optional[os.PathLike] = None) -> Path:
    """Root of the staged benchmark data (``$NWOT_SHARED_DATA``, default ``<repo>/../shared/data``)."""
    if explicit is not None:
        return Path(explicit).expanduser()
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"

