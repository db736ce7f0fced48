"""The ``nwot`` command: :mod:`.main` builds the parser; one module per subcommand, each only parse-and-call."""
from nwot.cli.main import main

__all__ = ["main"]
