"""Evaluators: arch -> :class:`~nwot.search.base.Evaluation` (NASWOT score, table lookup, real training)."""
