"""BlockQNN block search space.

:mod:`.codec` (pure arch maths), :mod:`.model` (the network), :mod:`.space` (registered)."""

from nwot.spaces.blockqnn.codec import (
    ADD,
    AVG_POOL,
    CONCAT,
    CONV,
    DEFAULT_MAX_LAYERS,
    IDENTITY,
    LAYER_TYPES,
    MAX_POOL,
    START,
    TERMINAL,
    Arch,
    Layer,
    density,
    layer_choices,
    output_layers,
    successors,
    terminal,
)
from nwot.spaces.blockqnn.space import BlockQNNSpace

__all__ = [
    "ADD",
    "AVG_POOL",
    "CONCAT",
    "CONV",
    "IDENTITY",
    "MAX_POOL",
    "TERMINAL",
    "Arch",
    "BlockQNNSpace",
    "DEFAULT_MAX_LAYERS",
    "LAYER_TYPES",
    "Layer",
    "START",
    "density",
    "layer_choices",
    "output_layers",
    "successors",
    "terminal",
]
