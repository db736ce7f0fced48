"""README and ``--help`` stay in step: every ``nwot`` command the README shows parses with the real CLI."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from nwot.cli.main import build_parser

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_commands() -> list:
    text = README.read_text()
    out = []
    for lang, block in re.findall(r"```([A-Za-z]*)\n(.*?)```", text, flags=re.S):
        if lang not in ("", "bash", "console", "sh", "shell"):
            continue
        lines = block.replace("\\\n", " ").splitlines()
        for line in lines:
            line = line.strip().removeprefix("$ ")
            if line.startswith("nwot "):
                cmd = line.split("  #")[0].split(" # ")[0]
                out.append(re.split(r" [>|] ", cmd)[0].strip())  # drop shell redirections and pipes
    return out


def test_the_readme_shows_the_main_commands():
    cmds = readme_commands()
    assert len(cmds) >= 8
    for sub in ("score", "search", "bench", "score-space"):
        assert any(c.split()[1] == sub for c in cmds), sub


@pytest.mark.parametrize("cmd", readme_commands())
def test_readme_command_parses(cmd):
    argv = shlex.split(cmd)[1:]
    args = build_parser().parse_args(argv)  # argparse exits (SystemExit 2) on an unknown option or bad choice
    assert args is not None
