"""Exceptions raised by nwot. Every message names the bad value and what is allowed."""
from __future__ import annotations


class NwotError(ValueError):
    """Base class of all nwot errors (a ``ValueError``: bad input, not a bug)."""


class OutOfSpaceError(NwotError):
    """An architecture, index or encoding that is not a member of the search space."""


class BenchmarkFileError(NwotError, FileNotFoundError):
    """A benchmark archive/table is missing or corrupt. The message names the file and its official source."""


class DataNotFoundError(NwotError, FileNotFoundError):
    """A dataset (images) is missing. The message says where to get it."""


class StoreError(NwotError):
    """A score store that cannot be opened or written (missing folder, read-only, not a database, damaged)."""


class UnsafePickleError(NwotError):
    """A pickle tried to load a global that is not on the allow-list."""


def check_choice(name: str, value, allowed) -> None:
    """Raise ``NwotError`` unless ``value`` is in ``allowed``; the message lists what is allowed."""
    allowed = list(allowed)
    if value not in allowed:
        raise NwotError(f"unknown {name} {value!r}; allowed: {', '.join(map(repr, allowed))}")


def check_int(name: str, value, minimum: int = 0) -> int:
    """Raise ``NwotError`` unless ``value`` is an int (not a bool) ``>= minimum``; returns it as ``int``."""
    if isinstance(value, bool) or not hasattr(value, "__index__") or int(value) < minimum:
        raise NwotError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)
