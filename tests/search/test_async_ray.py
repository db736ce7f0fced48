"""Asynchronous search on Ray with real training: each strategy with 2 workers, a controller killed with
SIGKILL and resumed, failed workers retried.

One local Ray (2 CPUs) for the module. Training: tiny presets on the 1,280 CIFAR-10 images shipped in nwot
(100-200 training images, 1-2 epochs: well under a second per candidate). Every trained epoch is logged by
the evaluator's epoch callback (tests/_async_helpers.EpochLog, run inside the Ray workers), which is how the
tests count trainings: each (candidate, epoch) must appear exactly once.
"""
from __future__ import annotations

import collections
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray
from _async_driver import SETTINGS, sample_data
from _async_helpers import EpochLog, Flaky, trained_epochs

from nwot.search.async_pool import Workers
from nwot.search.async_store import AsyncStore
from nwot.search.loop import Budget
from nwot.search.run import train_setup

HERE = Path(__file__).resolve().parents[1]  # tests/
REPO = HERE.parent

#: strategy -> (space, space kwargs, build kwargs, training preset, train overrides, options, evaluations): the
#: driver's settings with one epoch per candidate
CASES = {k: (*v[:4], {**v[4], "epochs": 1}, *v[5:]) for k, v in SETTINGS.items()}


@pytest.fixture(scope="module")
def cluster():
    """A local Ray of 2 CPUs whose workers import nwot and the test helpers; yields its address."""
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=300 * 2 ** 20,
             runtime_env={"env_vars": {"PYTHONPATH": f"{REPO}{os.pathsep}{HERE}"}})
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def data():
    return sample_data()


def setup_for(strategy, data, folder):
    space, space_kw, build, preset, over, options, n = CASES[strategy]
    setup = train_setup(space, preset=preset, train_overrides=over, space_kwargs=space_kw, build_kwargs=build,
                        data=data, checkpoint_dir=folder / "ckpt", test_images=0)
    setup.evaluator.epoch_callback = EpochLog(folder / "epochs.log")
    return setup, options, n


def check_trained_once(folder, store_path, n, epochs):
    """Every candidate done; each distinct arch's epochs trained exactly once; each candidate told once."""
    with AsyncStore(store_path) as store:
        cands = store.candidates(1)
        evs = store.events(1)
    assert len(cands) == n and {c.status for c in cands.values()} == {"done"}
    counts = collections.Counter(trained_epochs(folder / "epochs.log"))
    assert set(counts.values()) == {1}, [k for k, v in counts.items() if v > 1]  # nothing trained twice
    assert {enc for enc, _ in counts} == {c.arch for c in cands.values()}  # nothing lost
    assert len(counts) == epochs * len({c.arch for c in cands.values()})
    told = [c for e in evs if e.kind == "tell" for c in e.payload["cids"]]
    assert sorted(told) == sorted(cands)
    return cands


@pytest.mark.parametrize("strategy", sorted(CASES))
def test_each_strategy_on_two_ray_workers(strategy, cluster, data, tmp_path):
    setup, options, n = setup_for(strategy, data, tmp_path)
    res = setup.run(strategy, Budget(evaluations=n), seed=0, options=options, workers=2).runs[0]
    assert res.n_evals == n and res.best_signal == max(r.signal for r in res.trace if r.kind == "eval")
    val = CASES[strategy][4]["val_size"]
    for r in res.trace:  # every signal is a real validation accuracy: a multiple of 100 / val_size
        assert abs(r.signal * val / 100 - round(r.signal * val / 100)) < 1e-9 and r.cost > 0
    cfg = res.config["asynchronous"]
    assert cfg["backend"] == "ray" and cfg["max_in_flight"] == 2 and cfg["candidates"] == {"done": n}
    cands = check_trained_once(tmp_path, tmp_path / "ckpt" / "controller.sqlite", n, 1)
    assert all(c.worker and ":" in c.worker for c in cands.values())  # host:pid of the Ray worker


def _results(path) -> int:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM events WHERE kind='result'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:  # not created yet
        return 0


@pytest.mark.parametrize("strategy, n", [("lse", 10)])
def test_a_controller_killed_with_sigkill_resumes(strategy, n, cluster, tmp_path):
    """LSE (children in flight, 2 epochs each) resumes from its snapshot. The other strategies resume by replaying
    their history: tests/search/test_async_controller.py kills each of them at three points (inline pool), and
    ``benchmarks/async_resume.py`` repeats this SIGKILL test for all six on Ray (PNAS here takes ~50 s)."""
    cmd = [sys.executable, str(HERE / "_async_driver.py"), cluster, str(tmp_path), strategy, str(n)]
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{HERE}"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while _results(tmp_path / "state.sqlite") < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, f"the controller ended before it was killed: {proc.communicate()[1][-2000:]!r}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _results(tmp_path / "state.sqlite")
    assert 3 <= before < n
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["n_evals"] == n and len(out["trace"]) == n
    assert out["asynchronous"]["sessions"] == 2 and out["asynchronous"]["candidates"] == {"done": n}
    check_trained_once(tmp_path, tmp_path / "state.sqlite", n, 2)


def test_failed_workers_are_retried_on_ray(cluster, data, tmp_path):
    """A worker that dies is re-run by Ray; a task that raises is resubmitted by the controller; one that always
    raises ends as a failed evaluation with its reason."""
    import random

    setup, _, _ = setup_for("random", data, tmp_path)
    rng = random.Random(0)
    first = [setup.space.encode(setup.space.sample(rng)) for _ in range(3)]  # random search's first draws
    (tmp_path / "marks").mkdir()
    flaky = Flaky(setup.evaluator, tmp_path / "marks", die_once=[first[0]], raise_once=[first[1]], always=[first[2]])
    from nwot.search.run import run

    res = run("random", setup.space, flaky, Budget(evaluations=5), seed=0,
              workers=Workers(2, retries=1, max_retries=2, state=str(tmp_path / "state.sqlite"))).runs[0]
    with AsyncStore(tmp_path / "state.sqlite") as store:
        by_arch = {c.arch: c for c in store.candidates(1).values()}
    died, raised, bad = (by_arch[a] for a in first)
    assert died.status == "done" and died.attempts == 1  # Ray re-ran the task of the dead worker itself
    assert raised.status == "done" and raised.attempts == 2 and "injected failure" in raised.reason
    assert bad.status == "failed" and bad.attempts == 2 and "injected permanent failure" in bad.evaluation.failure
    assert res.n_evals == 5 and any(r.failure for r in res.trace) and res.best_arch != first[2]


def test_the_cli_trains_lse_on_ray_workers(cluster, cut_data, tmp_path, capsys):
    """``nwot search ... --workers 2``: the README command, on the committed cut's 200 CIFAR-10 images."""
    from nwot.cli import main

    argv = ["search", "--strategy", "lse", "--space", "lse", "--evaluator", "train", "--preset", "lse_cpu_tiny",
            "--evaluations", "8", "-o", "population_size=4", "--train-option", "train_size=128", "--train-option",
            "val_size=64", "--train-option", "epochs=1", "--data-dir", str(cut_data / "cifar10" / "jpeg_derived"),
            "--checkpoint-dir", str(tmp_path), "--workers", "2", "--json", "--quiet"]
    assert main(argv) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    cfg = run["config"]["asynchronous"]
    assert run["n_evals"] == 8 and cfg["backend"] == "ray" and cfg["workers"] == 2
    assert cfg["state"] == str(tmp_path / "controller.sqlite") and cfg["candidates"] == {"done": 8}
    assert 0 <= run["test_accuracy"] <= 100 and run["test_images"] == 100
    assert main(argv) == 0  # the same command again: the finished search comes back from its state, untrained
    (again,) = json.loads(capsys.readouterr().out)["runs"]
    assert again["best_arch"] == run["best_arch"] and again["config"]["asynchronous"]["sessions"] == 2
