"""NAS-Bench-201 / NATS-Bench TSS search space.

:mod:`.codec` (pure arch maths), :mod:`.model` (the network), :mod:`.space` (registered)."""

from nwot.spaces.nb201.codec import (
    EDGES,
    NUM_ARCHS,
    NUM_NODES,
    OPS,
    Arch,
    ArchLike,
    check_ops,
    format_arch,
    from_op_vector,
    has_path,
    mutate,
    neighbours,
    node_inputs,
    op_vector,
    parse_arch,
    sample,
    to_arch,
    unique_str,
)
from nwot.spaces.nb201.space import NB201Space

__all__ = [
    "Arch",
    "ArchLike",
    "EDGES",
    "NB201Space",
    "NUM_ARCHS",
    "NUM_NODES",
    "OPS",
    "check_ops",
    "format_arch",
    "from_op_vector",
    "has_path",
    "mutate",
    "neighbours",
    "node_inputs",
    "op_vector",
    "parse_arch",
    "sample",
    "to_arch",
    "unique_str",
]
