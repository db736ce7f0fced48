"""The committed test fixtures (tests/data/shared, cut by scripts/cut_test_fixtures.py) and the real_data rule.

* Always: every cut file is listed in PROVENANCE.md with its size and sha256, and the cut stays small.
* real_data: every cut row / record / image equals the full source's, and a fresh cut is byte-identical
  (deterministic) and equal to the committed files.
* The ``real_data`` marker (tests/conftest.py), run in a separate pytest process: skipped with a one-line
  reason when the data is missing, an error under ``CI=true``, run when present; using the full data
  without the marker is an error.
"""
from __future__ import annotations

import bz2
import hashlib
import json
import lzma
import os
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _data_roots import CUT_ROOT, REPO, cut_script

from nwot.safe_pickle import safe_load

MAX_CUT_BYTES = 2_000_000  # issue 14: "tiny" fixtures; the cut is ~1.2 MB (the CIFAR images are half of it)


def provenance_table():
    """{relative path: (bytes, sha256)} from the PROVENANCE.md table."""
    rows = {}
    for line in (CUT_ROOT / "PROVENANCE.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| `([^`]+)` \| ([\d,]+) \| `([0-9a-f]{64})` \|", line)
        if m:
            rows[m.group(1)] = (int(m.group(2).replace(",", "")), m.group(3))
    return rows


def cut_files():
    return {p.relative_to(CUT_ROOT).as_posix(): p for p in CUT_ROOT.rglob("*") if p.is_file()}


def test_provenance_lists_every_cut_file_with_its_size_and_sha256(cut_data):
    listed = provenance_table()
    files = cut_files()
    assert set(listed) == set(files) - {"PROVENANCE.md"}
    for rel, (size, sha) in listed.items():
        data = files[rel].read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, sha), rel
    text = (CUT_ROOT / "PROVENANCE.md").read_text(encoding="utf-8")
    for rel in listed:  # every row names a MANIFEST section and a licence column
        row = next(line for line in text.splitlines() if line.startswith(f"| `{rel}` |"))
        assert re.search(r"\| §\d+(\.\d+)? \|", row) and row.count("|") == 8, row
    assert "python scripts/cut_test_fixtures.py" in text


def test_cut_is_small_and_mirrors_the_shared_layout(cut_data):
    total = sum(p.stat().st_size for p in cut_files().values())
    assert total < MAX_CUT_BYTES, total
    script = cut_script()
    expected = {t.path for t in script.NB201_TABLES} | {script.NB201_ZC, script.NB101_ZC}
    expected |= {rel for rel, _ in script.CIFAR_BATCHES}
    expected |= {f"{d}/{n}.pickle.pbz2" for d in script.NATS_DIRS for n in ("meta", "000000", "000011", "000284")}
    assert set(cut_files()) == expected | {"PROVENANCE.md"}


def test_cut_nb201_tables_share_one_index_set_with_the_named_cells(cut_data):
    script = cut_script()
    sets = {t.path: list(cut_data.nb201_rows(t.path)) for t in script.NB201_TABLES}
    first = next(iter(sets.values()))
    assert all(v == first for v in sets.values()) and first == sorted(set(first))
    assert set(script.NAMED_NB201) <= set(first) and 300 < len(first) < 600
    # arch strings agree across the tables and with NATS-Bench's meta_archs (the cut holds the whole meta)
    meta = safe_load(cut_data / "nats/NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2")["meta_archs"]
    arch_columns = {"nb201/nats_bench_landscape/nats_bench.csv.xz": "ArchitectureString",
                    "nb201/nasgraph/nasbench201_cifar10.csv.xz": "arch str",
                    "nb201/robot/robot_nb201.csv.xz": "arch_str",
                    "nb201/derived/nb201_index_encodings.csv.xz": "arch_str"}
    for rel, col in arch_columns.items():
        rows = cut_data.nb201_rows(rel)
        assert all(rows[i][col] == meta[i] for i in first), rel


# --- against the full staged data ------------------------------------------------------------------------
@pytest.mark.real_data
def test_cut_rows_records_and_images_are_the_sources(cut_data, full_data):
    script = cut_script()
    for table in script.NB201_TABLES:
        cut_rows, full_rows = cut_data.nb201_rows(table.path), full_data.nb201_rows(table.path)
        assert len(full_rows) == 15625
        assert cut_rows == {i: full_rows[i] for i in cut_rows}, table.path  # the source's text, unchanged
    for rel in (script.NB201_ZC, script.NB101_ZC):
        with lzma.open(cut_data / rel, "rt") as f:
            small = json.load(f)
        with lzma.open(full_data / rel, "rt") as f:
            full = json.load(f)
        if rel == script.NB101_ZC:
            small, full = small["nasbench101"], full["nasbench101"]
        assert list(small) == list(full)
        for d in small:
            assert small[d] == {k: full[d][k] for k in small[d]}  # records unchanged
            assert list(small[d]) == [k for k in full[d] if k in small[d]]  # file order kept
    for rel, n in script.CIFAR_BATCHES:
        small = safe_load(cut_data / rel, encoding="bytes")
        full = safe_load(full_data / rel, encoding="bytes")
        assert list(small) == list(full) and small[b"batch_label"] == full[b"batch_label"]
        assert np.array_equal(small[b"data"], full[b"data"][:n]) and small[b"data"].dtype == np.uint8
        assert small[b"labels"] == full[b"labels"][:n] and small[b"filenames"] == full[b"filenames"][:n]
    for folder in script.NATS_DIRS:
        for p in (full_data / folder).glob("*.pickle.pbz2"):
            assert (cut_data / folder / p.name).read_bytes() == p.read_bytes()
            with bz2.open(p) as f:  # the records are small already: a cut would not save anything
                assert len(f.read()) < 2_000_000


def _numpy_pickle_module(path: Path) -> str:
    with lzma.open(path, "rb") as f:
        raw = f.read()
    return "numpy._core" if b"numpy._core" in raw else "numpy.core"


@pytest.mark.real_data
def test_recut_is_deterministic_and_equals_the_committed_cut(full_data, tmp_path):
    script = cut_script()
    fresh = tmp_path / "cut"
    script.cut(full_data.path, fresh)
    # --check cuts a second time into its own temporary folder and compares bytes: determinism
    assert script.main(["--check", "--shared-data", str(full_data.path), "--out", str(fresh)]) == 0
    diff = script.differences(fresh, CUT_ROOT)
    # The CIFAR batches are pickled by the running numpy, which names its module numpy._core from numpy 2 on
    # (numpy.core before): only where that name differs from the committed files' are they compared by content.
    here = "numpy._core" if b"numpy._core" in pickle.dumps(np.zeros(1, np.uint8), protocol=3) else "numpy.core"
    for rel, _ in script.CIFAR_BATCHES:
        if rel in diff and _numpy_pickle_module(CUT_ROOT / rel) != here:
            a, b = safe_load(fresh / rel, encoding="bytes"), safe_load(CUT_ROOT / rel, encoding="bytes")
            assert a.keys() == b.keys() and np.array_equal(a[b"data"], b[b"data"]) and a[b"labels"] == b[b"labels"]
            diff.remove(rel)
    assert diff == [], f"re-cut with `python scripts/cut_test_fixtures.py` and commit: {diff}"


# --- the script's errors (no data needed) ------------------------------------------------------------------
def test_cut_script_refuses_missing_data_and_foreign_folders(tmp_path, capsys):
    script = cut_script()
    assert script.main(["--shared-data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"staged shared data not found at {tmp_path / 'nowhere'}" in err and "NWOT_SHARED_DATA" in err
    fake = tmp_path / "shared"
    fake.mkdir()
    (fake / "MANIFEST.md").write_text("x")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(script.CutError, match="not empty and holds no PROVENANCE.md"):
        script.cut(fake, foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    with pytest.raises(script.CutError, match=r"source .*meta\.pickle\.pbz2 not found"):
        script.cut(fake, tmp_path / "new")  # MANIFEST.md alone: the first source named is missing


# --- the real_data marker, in a separate pytest process ------------------------------------------------------
MARKER_TESTS = textwrap.dedent('''
    import pytest

    @pytest.mark.real_data
    def test_needs_the_full_data(shared_data):
        assert (shared_data / "MANIFEST.md").is_file()

    def test_uses_the_full_data_unmarked(shared_data):
        pass

    def test_on_the_cut(cut_data):
        assert (cut_data / "PROVENANCE.md").is_file()
''')


def run_marker_tests(tmp_path: Path, shared: Path, ci: bool):
    """Run MARKER_TESTS with the repo's conftest and setup.cfg (strict markers: real_data must be registered)."""
    test_file = tmp_path / "test_marker_rule.py"
    test_file.write_text(MARKER_TESTS)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    env.update(NWOT_SHARED_DATA=str(shared), PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))
    if ci:
        env["CI"] = "true"
    cmd = [sys.executable, "-m", "pytest", "-c", str(REPO / "setup.cfg"), "--rootdir", str(tmp_path),
           "-p", "conftest", "-p", "no:cacheprovider", "--strict-markers", "-q", str(test_file)]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    counts = dict((k, int(n)) for n, k in re.findall(r"(\d+) (passed|skipped|failed|errors?)", out.splitlines()[-1]))
    counts["error"] = counts.pop("errors", counts.get("error", 0))
    return proc.returncode, counts, out


def test_real_data_marker_skips_errs_under_ci_and_runs_with_data(tmp_path):
    missing = tmp_path / "nowhere"
    reason = (f"real benchmark data not found at {missing}; set NWOT_SHARED_DATA to the shared/data folder "
              f"to run it")
    rc, counts, out = run_marker_tests(tmp_path, missing, ci=False)
    assert rc == 1 and counts == {"passed": 1, "skipped": 1, "error": 1}, out
    skip_lines = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert len(skip_lines) == 1 and skip_lines[0].endswith(reason), out  # one line, saying how to enable it
    assert "test_uses_the_full_data_unmarked uses the full staged data but is not marked" in out

    rc, counts, out = run_marker_tests(tmp_path, missing, ci=True)
    assert rc == 1 and counts == {"passed": 1, "error": 2}, out  # never skipped silently under CI
    assert f"{reason} (CI is set: real_data tests may not be skipped)" in out and "SKIPPED" not in out

    present = tmp_path / "shared"
    present.mkdir()
    (present / "MANIFEST.md").write_text("staged data\n")
    rc, counts, out = run_marker_tests(tmp_path, present, ci=True)
    assert rc == 1 and counts == {"passed": 2, "error": 1}, out  # the unmarked user still errs
