"""Search spaces: one module per space, all behind :class:`~nwot.spaces.base.SearchSpace`."""
from nwot.spaces.base import SearchSpace, get_space, list_spaces, register_space  # noqa: F401
