"""Import every built-in space package so that its ``@register_space`` runs (an import error propagates)."""
import nwot.spaces.blockqnn  # noqa: F401
import nwot.spaces.nats_sss  # noqa: F401
import nwot.spaces.nb101  # noqa: F401
import nwot.spaces.nb201  # noqa: F401
import nwot.spaces.nds  # noqa: F401
import nwot.spaces.pnas  # noqa: F401
