"""NDS CIFAR design spaces.

:mod:`.codec` (configs), :mod:`.cell_model` / :mod:`.anynet_model` (networks), :mod:`.space` (registered)."""

from nwot.spaces.nds.codec import ANYNET_SPACES, CELL_SPACES, SPACE_NAMES, canonical_net, check_net, to_arch
from nwot.spaces.nds.space import NDSSpace

__all__ = ["ANYNET_SPACES", "CELL_SPACES", "NDSSpace", "SPACE_NAMES", "canonical_net", "check_net", "to_arch"]
