"""Large-scale evolution's open space (Real et al., ICML 2017): genome codec, network builder, mutations, space."""
from nwot.spaces.lse import space  # noqa: F401  (registers "lse")
