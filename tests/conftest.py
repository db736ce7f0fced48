"""Shared pytest fixtures. Real data comes from ``$NWOT_SHARED_DATA`` (default ``<repo>/../shared/data``)."""
from __future__ import annotations

import pytest

from nwot.paths import shared_data_dir


@pytest.fixture(scope="session")
def shared_data():
    """Root of the staged real benchmark data (see its MANIFEST.md). Missing data fails loudly, never skips."""
    root = shared_data_dir()
    if not (root / "MANIFEST.md").is_file():
        pytest.fail(f"real benchmark data not found at {root}; set $NWOT_SHARED_DATA to the shared/data folder")
    return root
