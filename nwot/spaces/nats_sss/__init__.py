"""NATS-Bench SSS search space.

:mod:`.codec` (pure arch maths), :mod:`.model` (the network), :mod:`.space` (registered)."""

from nwot.spaces.nats_sss.codec import (
    CHANNELS,
    FIXED_CELL,
    NUM_ARCHS,
    NUM_LAYERS,
    Arch,
    ArchLike,
    arch_index,
    check_channels,
    format_arch,
    from_index,
    mutate,
    neighbours,
    parse_arch,
    sample,
    to_arch,
)
from nwot.spaces.nats_sss.space import NATSSizeSpace

__all__ = [
    "Arch",
    "ArchLike",
    "CHANNELS",
    "FIXED_CELL",
    "NATSSizeSpace",
    "NUM_ARCHS",
    "NUM_LAYERS",
    "arch_index",
    "check_channels",
    "format_arch",
    "from_index",
    "mutate",
    "neighbours",
    "parse_arch",
    "sample",
    "to_arch",
]
