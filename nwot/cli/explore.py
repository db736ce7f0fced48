"""``nwot explore``: the offline explorer (:mod:`nwot.explore`); its arguments and command live there."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from nwot.explore.cli import register as register_explore

    register_explore(sub)
