"""Search strategies on one ask/tell loop (:func:`~nwot.search.base.run_search`)."""
from nwot.search.base import (Budget, Evaluation, Evaluator, SearchResult, Strategy, TraceRow, get_strategy,  # noqa: F401
                   list_strategies, register_strategy, run_search)
