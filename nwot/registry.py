"""A tiny name -> factory registry (timm ``_registry.py`` / pycls ``builders.py`` style).

One registry per concept (spaces, benchmarks, strategies); a duplicate name raises.
"""
from __future__ import annotations

from typing import Callable, Dict, Generic, List, TypeVar

from nwot.errors import NwotError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: Dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._items:
                raise NwotError(f"{self.kind} {name!r} is already registered")
            self._items[name] = factory
            return factory

        return deco

    def get(self, name: str) -> Callable[..., T]:
        if name not in self._items:
            raise NwotError(f"unknown {self.kind} {name!r}; allowed: {', '.join(sorted(self._items))}")
        return self._items[name]

    def create(self, name: str, *args, **kwargs) -> T:
        return self.get(name)(*args, **kwargs)

    def names(self) -> List[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items
