"""The score store survives ``kill -9`` of a real scoring process: nothing committed is lost, the
resumed job adds exactly the missing cells, and the result equals an uninterrupted run's."""
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIMIT = 40


def _cmd(store):
    return [sys.executable, "-m", "nwot.cli.main", "score-space", "--limit", str(LIMIT), "--batch-size", "16",
            "--chunk-size", "4", "--threads", "1", "--device", "cpu", "--quiet", "--store", str(store)]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _count(store) -> int:
    if not Path(store).exists():
        return 0
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    except sqlite3.OperationalError:  # table not created yet
        return 0
    finally:
        con.close()


def _rows(store):
    con = sqlite3.connect(str(store))
    try:
        rows = con.execute("SELECT arch, arch_index, value FROM scores ORDER BY arch_index").fetchall()
        distinct = con.execute("SELECT COUNT(DISTINCT arch) FROM scores").fetchone()[0]
    finally:
        con.close()
    return rows, distinct


def test_kill_9_then_resume_equals_uninterrupted_run(tmp_path):
    killed, clean = tmp_path / "killed.sqlite", tmp_path / "clean.sqlite"
    # the uninterrupted run goes alongside the one we kill (two processes use both cores)
    ref = subprocess.Popen(_cmd(clean), cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    victim = subprocess.Popen(_cmd(killed), cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    seen = 0
    while time.monotonic() < deadline and victim.poll() is None:
        seen = _count(killed)
        if seen >= 8:
            break
        time.sleep(0.02)
    assert victim.poll() is None, f"scoring process ended before it could be killed (rc={victim.returncode}, " \
                                  f"{seen} rows, stderr={victim.stderr.read()[-2000:]!r})"
    assert 8 <= seen < LIMIT, f"{seen} rows committed when the kill was due"
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait(timeout=30) == -signal.SIGKILL
    victim.stderr.close()

    after_kill = _count(killed)
    assert seen <= after_kill < LIMIT  # every row seen committed before the kill survived it
    rows, distinct = _rows(killed)
    assert len(rows) == distinct == after_kill

    out = subprocess.run(_cmd(killed), cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"{LIMIT} cells: {after_kill} already stored, {LIMIT - after_kill} scored" in out.stdout

    ref_out, ref_err = ref.communicate(timeout=300)
    assert ref.returncode == 0, ref_err[-2000:]
    assert f"{LIMIT} cells: 0 already stored, {LIMIT} scored" in ref_out

    resumed, n_distinct = _rows(killed)
    uninterrupted, _ = _rows(clean)
    assert len(resumed) == n_distinct == LIMIT  # exact count, no duplicates
    assert [r[1] for r in resumed] == list(range(LIMIT))  # the first LIMIT NB201 indices
    assert resumed == uninterrupted  # same archs, indices and scores, bit for bit

