"""Regression tests of the fresh-clone report (issue #14 item 7): one-line errors instead of tracebacks,
op vectors for ``nwot score``, streamed per-run output, named time columns, ``bench query`` without --hp,
and ``score-space --export`` feeding ``search --scores`` (issue #15)."""
from __future__ import annotations

import csv
import io
import json
import os
import sqlite3

import pytest
import torch

from nwot.cli.main import main
from nwot.scores.files import read_scores


def _err(capsys, argv):
    rc = main(argv)
    return rc, capsys.readouterr().err


def test_search_with_zero_runs_is_a_one_line_error(capsys):
    rc, err = _err(capsys, ["search", "--runs", "0", "-n", "5", "--quiet"])
    assert rc == 2 and "runs must be an int >= 1, got 0" in err and "Traceback" not in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only build's message")
def test_cuda_device_on_a_cpu_build_is_a_one_line_error(capsys):
    rc, err = _err(capsys, ["score", "6111", "--device", "cuda", "--batch-size", "8"])
    assert rc == 2 and "device 'cuda' asked for, but this torch" in err and "use --device cpu" in err


def test_store_in_a_missing_folder_is_refused_not_created(capsys, tmp_path):
    missing = tmp_path / "nonexistent" / "dir"
    rc, err = _err(capsys, ["score-space", "--store", str(missing / "x.sqlite"), "--limit", "1", "--quiet"])
    assert rc == 2 and f"folder {missing} does not exist" in err and not missing.exists()


def test_store_in_a_read_only_folder(capsys, tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere (as on a read-only mount, the kernel would refuse): fake the check
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m: False if str(p) == str(ro) else real(p, m))
    try:
        rc, err = _err(capsys, ["score-space", "--store", str(ro / "x.sqlite"), "--limit", "1", "--quiet"])
    finally:
        ro.chmod(0o755)
    assert rc == 2 and "is not writable" in err and not (ro / "x.sqlite").exists()


def test_store_on_a_read_only_file_system_message():
    from nwot.scores.store import _describe

    msg = _describe(__import__("pathlib").Path("/ro/x.sqlite"), sqlite3.OperationalError("attempt to write a "
                                                                                        "readonly database"))
    assert "cannot be written" in msg and "writable --store" in msg


def test_a_file_that_is_not_a_database(capsys, tmp_path):
    bad = tmp_path / "notes.sqlite"
    bad.write_text("these are not the scores you are looking for\n" * 100)
    rc, err = _err(capsys, ["score-space", "--store", str(bad), "--limit", "1", "--quiet"])
    assert rc == 2 and "is not an SQLite database" in err


def test_a_truncated_store(capsys, tmp_path):
    from nwot.scores.store import ScoreRow, ScoreStore, StoreKey

    path = tmp_path / "s.sqlite"
    key = StoreKey("nb201", "cifar10", 0, 8, 0)
    with ScoreStore(path) as st:
        st.put(key, [ScoreRow(f"a{i}", float(i), 0.1, i) for i in range(3000)])
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for side in (path.with_name("s.sqlite-wal"), path.with_name("s.sqlite-shm")):
        side.unlink(missing_ok=True)
    rc, err = _err(capsys, ["score-space", "--store", str(path), "--limit", "1", "--quiet"])
    assert rc == 2 and "is damaged" in err


def test_score_accepts_an_op_vector(capsys):
    assert main(["score", "4,2,1,2,1,1", "--batch-size", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["arch"] == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
    assert out["index"] == 0


def test_bench_query_defaults_to_the_full_schedule(capsys):
    assert main(["bench", "query", "6111", "--dataset", "cifar10", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["hp"] == "200" and round(doc["splits"]["ori-test"]["accuracy"], 2) == 94.37


def test_search_streams_one_csv_row_per_run_with_named_times(capsys):
    assert main(["search", "-n", "2", "--runs", "2", "--batch-size", "8", "--csv", "--quiet"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["seed"] for r in rows] == ["0", "1"] and "wall_seconds" in rows[0] and "time" not in rows[0]
    assert main(["search", "--strategy", "random", "--budget", "2000", "--csv", "--quiet"]) == 0
    (row,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert float(row["simulated_seconds"]) <= 2000 and float(row["wall_seconds"]) < 60


def test_search_text_lines_name_the_clock(capsys):
    assert main(["search", "--strategy", "random", "--budget", "2000", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "simulated" in out[0] and "wall" in out[0] and out[-1].startswith("cifar10 test accuracy over 1 run(s)")


def test_progress_lines_when_stderr_is_not_a_terminal(capsys):
    assert main(["search", "-n", "3", "--batch-size", "8"]) == 0
    err = capsys.readouterr().err
    assert "evaluating: 3/3 (100%) cells" in err


def test_score_space_export_feeds_search_scores(capsys, tmp_path):
    """The file ``score-space --export`` writes is the file ``search --scores`` reads (issue #15 item 1)."""
    import random

    import nwot
    from nwot.adapters.embedded import nb201_arch_strings, nb201_index_of
    from nwot.scores.scorer import ScoreConfig, store_key
    from nwot.scores.store import ScoreRow, ScoreStore

    store, export = tmp_path / "s.sqlite", tmp_path / "scores.csv.xz"
    archs = nb201_arch_strings()
    # a store holding every cell (score = 0.5 * index, so the best of a sample is its highest index): score-space
    # finds nothing to score and only exports
    with ScoreStore(store) as st:
        st.put(store_key("nb201", ScoreConfig(batch_size=8)),
               [ScoreRow(a, 0.5 * i, 0.25, i, "cpu") for i, a in enumerate(archs)])
    assert main(["score-space", "--store", str(store), "--batch-size", "8", "--quiet", "--export", str(export)]) == 0
    assert "15625 cells: 15625 already stored, 0 scored" in capsys.readouterr().out
    df = read_scores(export)
    assert len(df) == 15_625 and df["score"].iat[6111] == 0.5 * 6111 and list(df.columns) == ["arch", "score",
                                                                                              "seconds"]
    assert json.loads(export.with_name(export.name + ".json").read_text())["key"]["batch_size"] == 8
    assert main(["search", "--scores", str(export), "-n", "5", "--runs", "2", "--seed", "3", "--json", "--quiet"]) == 0
    doc = json.loads(capsys.readouterr().out)
    space = nwot.get_space("nb201")
    for run in doc["runs"]:
        rng = random.Random(run["seed"])
        best = max(nb201_index_of(space.encode(space.sample(rng))) for _ in range(5))
        assert run["index"] == best and run["best_signal"] == 0.5 * best and run["wall_seconds"] == 5 * 0.25


def test_readme_pnas_real_training_example_is_progressive(capsys, cut_data, tmp_path):
    """Options reach the real-training path: beam and space from the CLI make PNAS progress past level 1
    (issue #15: the README example used to train random one-block cells only). Images: the committed cut's
    CIFAR-10 batches (200 training images: 128 train + 64 validation used; 100 test images)."""
    argv = ["search", "--strategy", "pnas", "--space", "pnas", "--evaluator", "train", "--evaluations", "7",
            "-o", "beam=2", "-o", "surrogate='mlp'", "--space-option", "ops=('sep_conv_3x3',)",
            "--space-option", "num_blocks=3", "--train-option", "train_size=128", "--train-option", "val_size=64",
            "--data-dir", str(cut_data / "cifar10" / "jpeg_derived"), "--checkpoint-dir", str(tmp_path),
            "--json", "--quiet"]
    assert main(argv) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    levels = run["config"]["levels"]
    # one op, two cell inputs: 3 one-block cells (level 1), then beams of 2 at levels 2 and 3: 3 + 2 + 2 = 7
    assert [b["level"] for b in levels][:2] == [2, 3] and levels[0]["trained_so_far"] == 3
    assert run["n_evals"] == 7 and run["config"]["beam"] == 2


def test_workers_means_scoring_processes_or_async_workers_and_nothing_else(capsys):
    """``--workers`` is K candidates at once: scoring processes for live scoring (no score changes), Ray
    workers with ``--evaluator train``; on a table strategy, or ``--address`` without training, it is refused."""
    assert main(["search", "--strategy", "rea", "--budget", "3000", "--workers", "2", "--quiet"]) == 2
    assert "--workers applies to live scoring" in capsys.readouterr().err
    assert main(["search", "-n", "4", "--workers", "2", "--address", "auto", "--quiet"]) == 2
    assert "--evaluator train --workers K" in capsys.readouterr().err
    runs = {}
    for w in ("1", "2"):
        assert main(["search", "-n", "6", "--batch-size", "16", "--workers", w, "--json", "--quiet"]) == 0
        runs[w] = json.loads(capsys.readouterr().out)["runs"][0]
    assert (runs["1"]["index"], runs["1"]["best_signal"]) == (runs["2"]["index"], runs["2"]["best_signal"])
