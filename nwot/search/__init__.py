"""Search strategies on one ask/tell loop: :mod:`.base` (Strategy, registry), :mod:`.loop` (run_search,
Budget, results), :mod:`.run` (the one driver), one module per strategy."""
from nwot.search.base import Strategy, get_strategy, list_strategies, register_strategy
from nwot.search.loop import Budget, SearchReport, SearchResult, TraceRow, run_search

__all__ = ["Budget", "SearchReport", "SearchResult", "Strategy", "TraceRow", "get_strategy", "list_strategies",
           "register_strategy", "run_search"]
