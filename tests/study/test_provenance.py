"""nwot/provenance.py: what every saved result records about where it came from."""
from __future__ import annotations

import subprocess
import sys

from nwot.study.provenance import REPO, command_line, git_label, git_state, machine


def test_git_state_is_the_checkout_head(tmp_path):
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    st = git_state()
    if head.returncode != 0:  # an exported tree without .git
        assert st == {"commit": None, "dirty": False} and git_label() == "unknown"
        return
    assert st["commit"] == head.stdout.strip() and len(st["commit"]) == 40
    assert git_label() == st["commit"] + ("+dirty" if st["dirty"] else "")
    assert git_state(tmp_path) == {"commit": None, "dirty": False}  # not a repository


def test_machine_names_cpu_versions_and_device():
    import numpy
    import torch

    m = machine("cpu", threads=3)
    assert m["threads"] == 3 and m["device"] == "cpu" and "gpu" not in m
    assert m["torch"] == torch.__version__ and m["numpy"] == numpy.__version__
    assert m["cpu_count"] >= 1 and m["cpu_model"] and m["python"] == sys.version.split()[0]


def test_command_line_is_relative_to_the_repo_and_quoted():
    assert command_line(REPO / "benchmarks" / "x.py", ["--a", "b c"]) == "python benchmarks/x.py --a 'b c'"
