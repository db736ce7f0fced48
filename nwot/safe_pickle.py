"""Allow-list unpickling for benchmark files (which users download and must not trust).

``pickle.load`` can execute arbitrary code through ``find_class``; :class:`SafeUnpickler` only
resolves the globals on an explicit allow-list (containers and numpy arrays/scalars), everything
else raises :class:`~nwot.errors.UnsafePickleError`.
"""
from __future__ import annotations

import bz2
import io
import lzma
import pickle
from pathlib import Path
from typing import Any, FrozenSet, Iterable, Optional, Tuple

from nwot.errors import BenchmarkFileError, UnsafePickleError

#: (module, name) pairs a benchmark pickle may reference. NATS-Bench records need OrderedDict and
#: numpy scalars; CIFAR batches need numpy arrays. ``numpy._core`` is numpy>=2's module name.
DEFAULT_ALLOWED: FrozenSet[Tuple[str, str]] = frozenset(
    {
        ("collections", "OrderedDict"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "slice"),
        ("builtins", "complex"),
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }
)


class SafeUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that refuses every global outside ``allowed``."""

    def __init__(self, file, *, allowed: Iterable[Tuple[str, str]] = DEFAULT_ALLOWED, **kwargs) -> None:
        super().__init__(file, **kwargs)
        self.allowed = frozenset(allowed)

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.allowed:
            raise UnsafePickleError(
                f"refusing to unpickle global {module}.{name}: not on the allow-list "
                f"({', '.join(sorted(f'{m}.{n}' for m, n in self.allowed))})"
            )
        return super().find_class(module, name)


def safe_loads(data: bytes, *, encoding: str = "ASCII", allowed: Iterable[Tuple[str, str]] = DEFAULT_ALLOWED) -> Any:
    return SafeUnpickler(io.BytesIO(data), allowed=allowed, encoding=encoding).load()


def open_maybe_compressed(path: Path):
    """Open ``path`` for binary reading, transparently decompressing ``.xz``, ``.pbz2``/``.bz2``."""
    path = Path(path)
    if path.suffix == ".xz":
        return lzma.open(path, "rb")
    if path.suffix in (".pbz2", ".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")


def safe_load(path, *, encoding: str = "ASCII", allowed: Iterable[Tuple[str, str]] = DEFAULT_ALLOWED,
              source: Optional[str] = None) -> Any:
    """Unpickle a (possibly compressed) file with the allow-list.

    Missing or corrupt files raise :class:`BenchmarkFileError` naming the file and, when given,
    ``source`` (where the official file comes from).
    """
    path = Path(path)
    hint = f" (official source: {source})" if source else ""
    if not path.is_file():
        raise BenchmarkFileError(f"benchmark file not found: {path}{hint}")
    try:
        with open_maybe_compressed(path) as f:
            return SafeUnpickler(f, allowed=allowed, encoding=encoding).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, OSError, lzma.LZMAError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as e:
        raise BenchmarkFileError(f"corrupt benchmark file {path}: {type(e).__name__}: {e}{hint}") from e
