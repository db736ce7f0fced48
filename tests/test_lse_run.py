"""run_lse end to end on real CIFAR-10: presets, test report, checkpoint replay."""
from __future__ import annotations

import warnings

import pytest

from nwot.errors import NwotError
from nwot.data.training import cifar10_data
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
