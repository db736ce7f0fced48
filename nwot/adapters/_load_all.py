"""Import every built-in backend module so that its ``@register_benchmark`` runs (an import error propagates)."""
import nwot.adapters.nats  # noqa: F401
import nwot.adapters.nb101  # noqa: F401
import nwot.adapters.nb201_api  # noqa: F401
import nwot.adapters.nds  # noqa: F401
import nwot.adapters.tables  # noqa: F401
