"""What several subcommands share: the scoring options and ``-o KEY=VALUE`` parsing."""
from __future__ import annotations

import argparse
import ast
from typing import Dict, Sequence

from nwot.errors import NwotError


def add_scoring_args(p: argparse.ArgumentParser) -> None:
    """``--dataset --batch-size --compat --device --data-dir``: how a zero-cost score is computed."""
    p.add_argument("--dataset", default="cifar10", help="image source and head size (default: cifar10)")
    p.add_argument("--batch-size", type=int, default=128, help="images in the scoring minibatch (default: 128)")
    p.add_argument("--compat", default="clean", choices=("clean", "reference"),
                   help="clean definition (default) or the paper's released-code behaviour")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA if available)")
    p.add_argument("--data-dir", default=None,
                   help="folder with the dataset's python batches (default: $NWOT_DATA_DIR, else the embedded "
                        "1,280-image CIFAR-10 sample)")


def parse_options(items: Sequence[str], flag: str = "--option") -> Dict[str, object]:
    """``KEY=VALUE`` strings -> keyword arguments (values as Python literals, else strings)."""
    out: Dict[str, object] = {}
    for it in items:
        key, sep, val = it.partition("=")
        if not sep or not key.strip().isidentifier():
            raise NwotError(f"{flag} must be KEY=VALUE (e.g. n_candidates=100), got {it!r}")
        try:
            out[key.strip()] = ast.literal_eval(val)
        except (ValueError, SyntaxError):
            out[key.strip()] = val
    return out
