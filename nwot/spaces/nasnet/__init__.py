"""Open NASNet / AmoebaNet cell space (``nasnet``): :mod:`.codec` (pure arch maths), :mod:`.space` (registered)."""

from nwot.spaces.nasnet.codec import AMOEBA_OPS, DEFAULT_NODES, genotype
from nwot.spaces.nasnet.space import NASNetCellSpace

__all__ = ["AMOEBA_OPS", "DEFAULT_NODES", "NASNetCellSpace", "genotype"]
