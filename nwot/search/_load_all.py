"""Import every built-in strategy module so that its ``@register_strategy`` runs (an import error propagates)."""
import nwot.search.area  # noqa: F401
import nwot.search.blockqnn  # noqa: F401
import nwot.search.bo  # noqa: F401
import nwot.search.lse  # noqa: F401
import nwot.search.naswot  # noqa: F401
import nwot.search.pnas  # noqa: F401
import nwot.search.random  # noqa: F401
import nwot.search.rea  # noqa: F401
import nwot.search.reinforce  # noqa: F401
