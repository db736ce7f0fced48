"""What the benchmark scripts share: where their results go (``python benchmarks/x.py`` puts this folder
on ``sys.path``, so a script imports it as ``_common``)."""
from __future__ import annotations

from pathlib import Path

#: The committed results of the scripts.
RESULTS = Path(__file__).resolve().parent / "results"
#: Git-ignored scratch (score stores, resumable run files, checkpoints).
WORK = RESULTS / "work"
#: The score store the NB201 scoring scripts fill.
STORE = WORK / "nb201_scores.sqlite"
#: The clean full-space NB201 CIFAR-10 scores (batch 128, seeds 0).
CLEAN_EXPORT = RESULTS / "nb201_cifar10_naswot_clean_seed0.csv.xz"
