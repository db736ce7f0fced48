"""Import every built-in evaluator module so that its ``@register_evaluator`` runs (an import error propagates)."""
import nwot.evaluators.benchmark  # noqa: F401
import nwot.evaluators.proxy  # noqa: F401
import nwot.evaluators.train  # noqa: F401
