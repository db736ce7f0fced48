"""The ``nwot`` command: builds the parser from the subcommand modules and maps errors to exit codes.

Each subcommand lives in its own module (``nwot.cli.<name>``) with ``register(subparsers)``; each only
parses its arguments and calls the library (STYLE habit 12). Exit codes: 0 done, 2 bad input (one
``nwot: error: ...`` line naming the bad value), 130 interrupted (what finished is kept).
"""
from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
from typing import List, Optional

# Before torch is imported: OpenMP threads sleep instead of spinning at barriers. On a busy 2-core
# machine spinning made scoring 22x slower (39.6 s vs 1.8 s for 6 cells); on an idle one the cost is
# small. Set OMP_WAIT_POLICY yourself to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from nwot import __version__  # noqa: E402
from nwot.errors import NwotError  # noqa: E402

#: Subcommand modules of this package, each with ``register(subparsers)``, in help order.
SUBCOMMAND_MODULES = ("score", "search", "bench", "score_space", "study", "explore", "info")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nwot", description="Training-free neural architecture search (NASWOT).")
    parser.add_argument("--version", action="version", version=f"nwot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in SUBCOMMAND_MODULES:
        importlib.import_module(f"nwot.cli.{mod}").register(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.command_line = "nwot " + shlex.join(argv)  # recorded with saved results
    try:
        return int(args.func(args) or 0)
    except NwotError as e:
        print(f"nwot: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        print(f"nwot: {e}" if str(e) else "nwot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
