"""Shared pytest fixtures. Real data comes from ``$NWOT_SHARED_DATA`` (default ``<repo>/../shared/data``)."""
from __future__ import annotations

import pytest
import torch

from nwot.paths import shared_data_dir

# One intra-op thread: test networks are tiny, and on a shared 2-core machine OpenMP spin-waiting with
# 2 threads made a forward pass 100x slower (6.7 s vs 0.04 s measured). Results are thread-independent.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shared_data():
    """Root of the staged real benchmark data (see its MANIFEST.md). Missing data fails loudly, never skips."""
    root = shared_data_dir()
    if not (root / "MANIFEST.md").is_file():
        pytest.fail(f"real benchmark data not found at {root}; set $NWOT_SHARED_DATA to the shared/data folder")
    return root
