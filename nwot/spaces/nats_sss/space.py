"""The NATS-Bench SSS space as a registered :class:`~nwot.spaces.base.SearchSpace`.

Arch maths live in :mod:`nwot.spaces.nats_sss.codec`, the network in :mod:`nwot.spaces.nats_sss.model`.
"""

from __future__ import annotations

import random
from typing import Any

from nwot.spaces.base import check_build_compat, register_space
from nwot.spaces.nats_sss.codec import (
    CHANNELS,
    FIXED_CELL,
    NUM_ARCHS,
    NUM_LAYERS,
    Arch,
    ArchLike,
    arch_index,
    format_arch,
    mutate,
    parse_arch,
    sample,
    to_arch,
)
from nwot.spaces.nats_sss.model import build_nats_sss


@register_space("nats_sss")
class NATSSizeSpace:
    """NATS-Bench size space (see module docstring)."""

    name = "nats_sss"
    channels = CHANNELS
    num_layers = NUM_LAYERS
    size = NUM_ARCHS
    cell = FIXED_CELL

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

    def index(self, arch: ArchLike) -> int:
        return arch_index(arch)

    def build(self, arch: ArchLike, num_classes: int = 10, *, compat: str = "clean", **kwargs: Any):
        """The network of ``arch`` (``compat``: one network for both scorer modes here)."""
        check_build_compat(self.name, compat)
        return build_nats_sss(to_arch(arch), num_classes=num_classes, **kwargs)
