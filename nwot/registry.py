"""A tiny name -> factory registry (timm ``_registry.py`` / pycls ``builders.py`` style).

One registry per concept (spaces, benchmarks, evaluators, strategies, proxies); a duplicate name
raises. A registry knows the modules that hold its built-in entries (``builtins``) and imports them
on first use, so ``import nwot`` stays cheap; a built-in module that fails to import raises
:class:`~nwot.errors.NwotError` naming the module (nothing is skipped silently).
"""
from __future__ import annotations

import importlib
from typing import Callable, Dict, Generic, List, Sequence, TypeVar

from nwot.errors import NwotError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, builtins: Sequence[str] = ()) -> None:
        self.kind = kind
        self.builtins = tuple(builtins)
        self._items: Dict[str, Callable[..., T]] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._items:
                raise NwotError(f"{self.kind} {name!r} is already registered")
            self._items[name] = factory
            return factory

        return deco

    def load_builtins(self) -> None:
        """Import the modules of the built-in entries (once)."""
        if self._loaded:
            return
        self._loaded = True
        for mod in self.builtins:
            try:
                importlib.import_module(mod)
            except ImportError as e:
                self._loaded = False
                raise NwotError(f"the built-in {self.kind} module {mod} failed to import: {e}") from e

    def get(self, name: str) -> Callable[..., T]:
        self.load_builtins()
        if name not in self._items:
            raise NwotError(f"unknown {self.kind} {name!r}; allowed: {', '.join(sorted(self._items))}")
        return self._items[name]

    def create(self, name: str, *args, **kwargs) -> T:
        return self.get(name)(*args, **kwargs)

    def names(self) -> List[str]:
        self.load_builtins()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        self.load_builtins()
        return name in self._items
