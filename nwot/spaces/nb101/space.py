"""The NAS-Bench-101 space as a registered :class:`~nwot.spaces.base.SearchSpace`.

Arch maths live in :mod:`nwot.spaces.nb101.codec`, the network in :mod:`nwot.spaces.nb101.model`.
"""

from __future__ import annotations

import random
from typing import Any, Optional

from nwot.spaces.base import check_build_compat, register_space
from nwot.spaces.nb101.codec import (
    NUM_CELLS,
    OPS,
    Spec,
    SpecLike,
    decode_spec,
    encode_spec,
    is_valid,
    mutate_one,
    mutate_spec,
    random_spec,
    spec_hash,
    to_spec,
)
from nwot.spaces.nb101.model import build_nb101


@register_space("nb101")
class NB101Space:
    """NAS-Bench-101 cells (module docstring). ``mutation_rate=None``: :func:`mutate_one` (one change);
    a float: :func:`mutate_spec` with that rate (the NB101 paper's regularized evolution, rate 1.0)."""

    name = "nb101"
    ops = OPS
    size = NUM_CELLS

    def __init__(self, mutation_rate: Optional[float] = None) -> None:
        self.mutation_rate = mutation_rate

    def sample(self, rng: random.Random) -> Spec:
        return random_spec(rng)

    def mutate(self, arch: Spec, rng: random.Random) -> Spec:
        spec = to_spec(arch)
        return mutate_one(spec, rng) if self.mutation_rate is None else mutate_spec(spec, rng, self.mutation_rate)

    def encode(self, arch: Spec) -> str:
        return encode_spec(to_spec(arch))

    def decode(self, s: str) -> Spec:
        return decode_spec(s)

    def to_arch(self, x: SpecLike) -> Spec:
        return to_spec(x)

    def is_valid(self, arch: SpecLike) -> bool:
        return is_valid(to_spec(arch))

    def hash(self, arch: SpecLike) -> str:
        return spec_hash(arch)

    def build(self, arch: SpecLike, num_classes: int = 10, *, compat: str = "clean", **kwargs: Any):
        """The network of ``arch`` (``compat``: one network for both scorer modes here)."""
        check_build_compat(self.name, compat)
        return build_nb101(arch, num_classes=num_classes, **kwargs)
