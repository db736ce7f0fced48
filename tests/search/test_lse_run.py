"""run_lse end to end on real CIFAR-10: presets, test report, checkpoint replay."""
from __future__ import annotations

import warnings

import pytest

from nwot.data.training import cifar10_data
from nwot.errors import NwotError
from nwot.search.lse_run import LSE_PRESETS, lse_preset, run_lse
from nwot.spaces import SearchSpace, get_space

SMALL = dict(population_size=4, train_size=200, val_size=100, epochs=1)


@pytest.fixture(scope="module")
def cifar(cifar10_sample, cut_data):
    """Training: the 1,280 CIFAR-10 images shipped in nwot; test: the committed cut's 100 test images."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cifar10_sample, cifar10_data(cut_data / "cifar10" / "jpeg_derived", train=False)


def test_presets_follow_the_paper():
    gpu = LSE_PRESETS["gpu"]
    steps = gpu.train.epochs * (gpu.train.train_size // gpu.train.batch_size)
    assert steps == 25_600 and gpu.train.batch_size == 50 and gpu.population_size == 1000  # Real et al. §3.3
    assert (gpu.train.momentum, gpu.train.lr, gpu.train.lr_min, gpu.train.val_size) == (0.9, 0.1, 0.1, 5000)
    tiny = lse_preset("cpu_tiny", population_size=4, epochs=1)
    assert (tiny.population_size, tiny.train.epochs, tiny.train.batch_size) == (4, 1, 50)
    with pytest.raises(NwotError, match="unknown LSE preset override"):
        lse_preset("cpu_tiny", epochz=3)
    with pytest.raises(NwotError, match="'tpu'"):
        lse_preset("tpu")
    assert isinstance(get_space("lse"), SearchSpace)


def test_run_lse_reports_and_replays_from_checkpoints(cifar, tmp_path):
    train, test = cifar
    kw = dict(seed=1, data=train, evaluations=14, overrides=SMALL, checkpoint_dir=tmp_path, test=test, test_images=100)
    a = run_lse("cpu_tiny", **kw)
    evals = [r for r in a.trace if r.kind == "eval"]
    assert a.n_evals == 14 and a.best_signal == max(r.signal for r in evals)
    space = get_space("lse")
    inds = [space.decode(r.arch) for r in evals]
    assert all(not i.parent for i in inds[:4]) and all(i.parent for i in inds[4:])
    assert {i.parent for i in inds[4:]} <= {i.uid for i in inds}  # every parent was trained earlier in the run
    assert float(a.final["test_accuracy"]).is_integer() and a.final["test_images"] == 100
    assert a.config["inherit"] and a.config["train_config"]["seed"] == 1
    b = run_lse("cpu_tiny", **kw)  # a rerun replays every finished candidate from its checkpoint
    assert [(r.arch, r.signal, r.cost) for r in b.trace] == [(r.arch, r.signal, r.cost) for r in a.trace]
    assert b.final == a.final
    # a longer rerun (a resumed search) replays the 14, then trains children of replayed parents: their trained
    # weights come back from the checkpoints into the weight store
    c = run_lse("cpu_tiny", **{**kw, "evaluations": 18})
    assert [(r.arch, r.signal, r.cost) for r in c.trace[:14]] == [(r.arch, r.signal, r.cost) for r in a.trace]
    assert c.n_evals == 18


def test_the_cli_runs_lse_through_the_one_driver(cifar, cut_data, tmp_path, capsys):
    """``nwot search --strategy lse --space lse --evaluator train`` = run_lse (issue #15: one driver for real
    training too): the same individuals and validation accuracies, weight inheritance on, weights kept under
    the checkpoint dir; the lse space gets no C / N build options."""
    import json

    from nwot.cli import main

    data_dir = cut_data / "cifar10" / "jpeg_derived"
    over = dict(population_size=4, train_size=128, val_size=64, epochs=1)
    argv = ["search", "--strategy", "lse", "--space", "lse", "--evaluator", "train", "--preset", "lse_cpu_tiny",
            "--evaluations", "9", "-o", "population_size=4", "--data-dir", str(data_dir), "--checkpoint-dir",
            str(tmp_path / "cli"), "--json", "--quiet"]
    for k in ("train_size", "val_size", "epochs"):
        argv += ["--train-option", f"{k}={over[k]}"]
    assert main(argv) == 0
    (cli,) = json.loads(capsys.readouterr().out)["runs"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train = cifar10_data(data_dir)
    lib = run_lse("cpu_tiny", seed=0, data=train, evaluations=9, overrides=over, checkpoint_dir=tmp_path / "lib",
                  test=cifar[1], test_images=100)
    assert cli["n_evals"] == 9 and (cli["best_arch"], cli["best_signal"]) == (lib.best_arch, lib.best_signal)
    assert cli["test_accuracy"] == lib.final["test_accuracy"] and cli["test_images"] == 100
    ev_cfg = cli["config"]["search_evaluator"]
    assert ev_cfg["build_kwargs"] == {} and ev_cfg["hook"] == {"hook": "lse-lineage", "inherit": True}
    assert cli["config"]["inherit"] is True and cli["config"]["population_size"] == 4
    weights = {p.stem for p in (tmp_path / "cli" / "weights").glob("*.pt")}
    assert len(weights) == 9  # every trained individual's weights, by uid
    assert get_space("lse").decode(cli["best_arch"]).uid in weights
