"""README and the code stay in step: every ``nwot`` command the README shows parses with the real CLI, the
quick ones *run* (sizes shrunk where the README's would take minutes, see :data:`QUICK`), and the Python
snippet runs as a script and prints what it shows."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from nwot.cli.main import build_parser, main

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
CUT = REPO / "tests" / "data" / "shared"

#: Size options shrunk so that a README command runs in seconds (the command's meaning is unchanged).
QUICK = (("-n 100", "-n 3"), ("--runs 20", "--runs 2"), ("--runs 10", "--runs 2"), ("--runs 3", "--runs 1"),
         ("--budget 12000", "--budget 3000"), ("-o n_candidates=100", "-o n_candidates=20"),
         ("/path/to/NATS-tss-v1_0-3ffb9-simple", str(CUT / "nats" / "NATS-tss-v1_0-3ffb9-simple")),
         (" benchmarks/results/", f" {REPO / 'benchmarks' / 'results'}/"))  # commands run from a temporary folder
#: Extra options appended per subcommand so that a command stays quick or offline.
APPEND = {"score-space": ["--limit", "3", "--quiet"], "explore": ["--export", "explore.html"]}
#: README commands that parse but are not run here, and where they are run instead.
NOT_RUN = {
    "--evaluator train": ("real training (minutes); run by tests/cli/test_cli_errors.py (PNAS) and "
                          "tests/search/test_async_ray.py"),
    "--backend ray": "starts or joins a Ray cluster; the Ray backend is run by tests/scores/test_distributed.py",
}


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


def readme_python() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README shows no Python snippet"
    return blocks[0]


def quick(cmd: str) -> list:
    for a, b in QUICK:
        cmd = cmd.replace(a, b)
    argv = shlex.split(cmd)[1:]
    return argv + APPEND.get(argv[0], [])


def test_the_readme_shows_the_main_commands():
    cmds = readme_commands()
    assert len(cmds) >= 8
    for sub in ("score", "search", "bench", "score-space", "info", "explore"):
        assert any(c.split()[1] == sub for c in cmds), sub


@pytest.mark.parametrize("cmd", readme_commands())
def test_readme_command_parses(cmd):
    argv = shlex.split(cmd)[1:]
    args = build_parser().parse_args(argv)  # argparse exits (SystemExit 2) on an unknown option or bad choice
    assert args.func is not None


@pytest.mark.parametrize("cmd", readme_commands())
def test_readme_command_runs(cmd, tmp_path, monkeypatch, capsys):
    skip = [why for key, why in NOT_RUN.items() if key in cmd]
    if skip:
        pytest.skip(skip[0])
    monkeypatch.chdir(tmp_path)  # stores, exports and CSVs land here
    argv = quick(cmd)
    rc = main(argv)
    out = capsys.readouterr().out
    assert rc == 0, f"nwot {' '.join(argv)} -> rc {rc}"
    if argv[0] == "explore":
        assert (tmp_path / "explore.html").stat().st_size > 10_000
    else:
        assert out.strip(), f"nwot {' '.join(argv)} printed nothing"
    if argv[0] == "score" and argv[1] == "6111" and "--json" not in argv and "--proxy" not in argv:
        assert "94.37" in out  # the README's cell: 200-epoch CIFAR-10 test accuracy of NB201 cell 6111
    if argv[0] == "score" and "--proxy" in argv:
        for name in argv[argv.index("--proxy") + 1].split(","):
            assert f"\n{name} " in "\n" + out and " ok " in out  # one row per proxy, with its status
    if argv[0] == "score-space":
        assert "3 cells" in out and (tmp_path / argv[argv.index("--export") + 1]).is_file()
    if argv[0] == "search" and "--csv" in argv:
        assert out.splitlines()[0].startswith("strategy") or "," in out.splitlines()[0]


def test_readme_python_snippet_prints_what_it_shows(tmp_path):
    script = tmp_path / "snippet.py"
    script.write_text(readme_python())
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                       env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr[-2000:]
    assert "cell 6111: score" in r.stdout and "test accuracy 94.37" in r.stdout
    assert "test accuracy of 6111: 94.37" in r.stdout
    assert "score of any nn.Module with nn.ReLU modules:" in r.stdout
    assert "best_signal" in r.stdout  # the search runs' table


def test_readme_snippet_and_cli_agree_on_cell_6111(capsys):
    """The snippet's ``naswot_score`` of cell 6111 (seed 0 batch and init) is the CLI's ``nwot score 6111``."""
    import nwot

    assert main(["score", "6111", "--json"]) == 0
    cli = __import__("json").loads(capsys.readouterr().out)
    x = nwot.scoring_batch("cifar10", batch_size=128, seed=0)
    with nwot.torch_seed(0):
        model = nwot.get_space("nb201").build(nwot.load_nb201_table().arch[6111])
    assert nwot.naswot_score(model, x) == pytest.approx(cli["score"], rel=1e-12)
