"""The notebooks run top to bottom on the saved results in benchmarks/results (no scoring, < 30 s)."""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
MIN_FIGURES = {"naswot_nb201.ipynb": 3, "explore_nb201.ipynb": 7, "hardware_nb201.ipynb": 3}


def test_there_are_notebooks():
    assert REPO / "notebooks" / "naswot_nb201.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, monkeypatch):
    # the kernel is a child process: it finds nwot through PYTHONPATH; ipykernel's inline backend draws
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # the figures were drawn (image/png display data); naswot_nb201: score scatter, K_H maps, search curve
    figures = sum("image/png" in o.get("data", {}) or "application/vnd.plotly.v1+json" in o.get("data", {})
                  for o in outputs)
    assert figures >= MIN_FIGURES.get(path.name, 1)
