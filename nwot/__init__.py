"""nwot: training-free neural architecture search (NASWOT, Mellor et al., ICML 2021)."""
__version__ = "0.1.0"
