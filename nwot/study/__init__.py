"""Studies over stored scores and searches: correlations, search replay, plots, provenance."""
