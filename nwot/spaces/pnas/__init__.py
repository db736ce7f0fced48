"""PNAS cell search space.

:mod:`.codec` (pure arch maths), :mod:`.model` (the network), :mod:`.space` (registered)."""

from nwot.spaces.pnas.codec import (
    DEFAULT_BLOCKS,
    NUM_CELL_INPUTS,
    OPS,
    Arch,
    Block,
    canonical_block,
    count_cells,
    input_name,
)
from nwot.spaces.pnas.space import PNASCellSpace

__all__ = [
    "Arch",
    "Block",
    "DEFAULT_BLOCKS",
    "NUM_CELL_INPUTS",
    "OPS",
    "PNASCellSpace",
    "canonical_block",
    "count_cells",
    "input_name",
]
