"""The NAS-Bench-201 / NATS-Bench TSS space as a registered :class:`~nwot.spaces.base.SearchSpace`.

Arch maths live in :mod:`nwot.spaces.nb201.codec`, the network in :mod:`nwot.spaces.nb201.model`.
"""

from __future__ import annotations

import random
from typing import Any

from nwot.spaces.base import check_build_compat, register_space
from nwot.spaces.nb201.codec import (
    EDGES,
    NUM_ARCHS,
    OPS,
    Arch,
    ArchLike,
    format_arch,
    mutate,
    parse_arch,
    sample,
    to_arch,
)
from nwot.spaces.nb201.model import build_nb201


@register_space("nb201")
class NB201Space:
    """NAS-Bench-201 / NATS-Bench TSS topology space (see module docstring)."""

    name = "nb201"
    ops = OPS
    edges = EDGES
    size = NUM_ARCHS
    #: Build kwargs of the networks trained under each training preset (others: the benchmark's C = 16, N = 5).
    train_build = {"cpu_tiny": {"C": 8, "N": 1}}

    def sample(self, rng: random.Random) -> Arch:
        return sample(rng)

    def mutate(self, arch: Arch, rng: random.Random) -> Arch:
        return mutate(arch, rng)

    def encode(self, arch: Arch) -> str:
        return format_arch(arch)

    def decode(self, s: str) -> Arch:
        return parse_arch(s)

    def to_arch(self, x: ArchLike) -> Arch:
        return to_arch(x)

    def build(self, arch: ArchLike, num_classes: int = 10, *, compat: str = "clean", **kwargs: Any):
        """The network of ``arch`` (``compat``: one network for both scorer modes here)."""
        check_build_compat(self.name, compat)
        return build_nb201(to_arch(arch), num_classes=num_classes, **kwargs)
