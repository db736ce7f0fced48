"""nwot.machine.calibration: choices are made by timing (faked here), can be forced, and are cached.

No test asserts on wall time: the measured ones check that the choice is the fastest of its *own*
measurements; the decision rules are checked with fake timings, so a slow method loses whatever the
CPU flags say. ``test_winner_per_dispatch_level`` reruns the real calibration at torch's default
dispatch and at AVX2 with the int8 product run as on a CPU without AVX-512 VNNI, and prints the
winners (``pytest -s``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nwot.errors import NwotError
from nwot.machine import calibration
from nwot.proxies import gram, gram_choice
from nwot.scores import parallel
from nwot.spaces.nb201 import pooling

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    for var in (gram_choice.ENV_GRAM, pooling.ENV_POOL, calibration.ENV_ALLOCATOR, calibration.ENV_THREADS,
                calibration.ENV_WORKERS):
        monkeypatch.delenv(var, raising=False)
    calibration.reset()
    yield
    calibration.reset()


def fake_timer(seconds):
    """A timer that runs the method (so its result is checked) but reports ``seconds[method]``."""
    def timer(method, fn, repeats):
        return seconds[method], fn()

    return timer


@pytest.mark.parametrize("slow", ["int8", "float32_syrk"])
def test_the_gram_method_is_picked_by_time_not_by_flags(slow):
    methods = gram.methods_for(torch.device("cpu"))
    seconds = {m: 1e-3 * (i + 1) for i, m in enumerate(methods)}  # int8 fastest, float64 slowest ...
    seconds[slow] = 1.0  # ... unless it is made slow, like int8 on a CPU without AVX-512 VNNI
    c = gram_choice.measure_gram(methods, timer=fake_timer(seconds))
    expected = min((m for m in methods if m != slow), key=seconds.get)
    assert c.chosen == expected and c.source == "measured"
    assert slow in c.screen and slow not in c.seconds  # screened out: never timed on the full block
    assert set(c.screen) == set(methods)


def test_an_inexact_method_is_caught_even_when_screened_out(monkeypatch):
    """The chosen method is checked against every method on the screening block, also those too slow to be
    timed on the full block (on an AVX2 CPU bitpack alone passes the screening)."""
    methods = gram.methods_for(torch.device("cpu"))
    seconds = {m: 1e-3 for m in methods}
    seconds["float64"] = 1.0  # screened out ...
    real = gram.layer_gram
    monkeypatch.setattr(gram, "layer_gram", lambda t, m, relu_output=False: real(t, m, relu_output)
                        + (1 if m == "float64" else 0))  # ... and off by one
    with pytest.raises(NwotError, match=r"\['float64'\] disagree with .* on the screening block"):
        gram_choice.measure_gram(methods, timer=fake_timer(seconds))


def test_a_fast_float64_would_win_too():
    methods = gram.methods_for(torch.device("cpu"))
    seconds = {m: 0.01 for m in methods}
    seconds["float64"] = 0.001
    assert gram_choice.measure_gram(methods, timer=fake_timer(seconds)).chosen == "float64"


def test_measured_gram_choice_is_the_fastest_of_its_own_timings():
    c = gram_choice.gram_choice("cpu")
    assert c.source == "measured" and c.chosen in gram.GRAM_METHODS
    assert c.chosen == min(c.seconds, key=c.seconds.get)
    assert gram_choice.gram_choice("cpu") is c  # measured once per process
    assert c.cost_s > 0


@pytest.mark.parametrize("method", gram.GRAM_METHODS)
def test_every_method_can_be_forced(method, monkeypatch):
    monkeypatch.setenv(gram_choice.ENV_GRAM, method)
    c = gram_choice.gram_choice("cpu")
    assert (c.chosen, c.source, c.seconds) == (method, f"NWOT_GRAM_METHOD={method}", {})
    from nwot.proxies.naswot import gram_method, kernel_from_codes

    assert gram_method(torch.device("cpu")) == method
    codes = torch.tensor([[1, 0, 1, 1], [0, 0, 1, 1]], dtype=torch.bool)
    assert kernel_from_codes(codes).tolist() == [[4, 3], [3, 4]]  # 4 units, one disagreement


def test_a_bad_forced_method_names_the_allowed_ones(monkeypatch):
    monkeypatch.setenv(gram_choice.ENV_GRAM, "bfloat16")
    with pytest.raises(NwotError, match="NWOT_GRAM_METHOD='bfloat16'.*'int8'.*'float32'"):
        gram_choice.gram_choice("cpu")


def test_other_devices_use_float64():
    c = gram_choice.gram_choice("cuda")  # needs no GPU: nothing is timed
    assert c.chosen == "float64" and "only exact method" in c.source


def test_emulated_int8_without_vnni_gives_the_same_integers(monkeypatch):
    monkeypatch.setattr(gram, "EMULATE_INT8_WITHOUT_VNNI", True)
    t = gram_choice.gram_workload(columns=300, batch=9)
    assert torch.equal(gram.layer_gram(t, "int8", relu_output=True),
                       gram.layer_gram(t, "float64", relu_output=True).to(torch.int64))
    assert torch.backends.mkldnn.enabled  # switched off around the call only


def test_pool_choice_measured_forced_and_rejected(monkeypatch):
    c = pooling.pool_choice()
    assert c.source == "measured" and c.chosen == min(c.seconds, key=c.seconds.get)
    assert set(c.seconds) == set(pooling.POOL_METHODS)
    calibration.reset()
    monkeypatch.setenv(pooling.ENV_POOL, "aten")
    assert pooling.pool_method() == "aten"
    from nwot.spaces.nb201.model import Pooling

    x = torch.randn((2, 3, 5, 5), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(Pooling(3, 3, 1)(x), torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
    calibration.reset()
    monkeypatch.setenv(pooling.ENV_POOL, "numpy")
    with pytest.raises(NwotError, match="'shift_add', 'aten'"):
        pooling.pool_choice()


def test_allocator_forced_off_and_bad_values(monkeypatch):
    monkeypatch.setenv(calibration.ENV_ALLOCATOR, "0")
    c = calibration.allocator_choice()
    assert (c.chosen, c.source) == ("glibc_default", "NWOT_KEEP_FREED_MEMORY=0")
    calibration.reset()
    monkeypatch.setenv(calibration.ENV_ALLOCATOR, "yes")
    with pytest.raises(NwotError, match="'1'.*'0'"):
        calibration.allocator_choice()


def test_allocator_measured_choice_is_the_faster():
    c = calibration.allocator_choice()
    if c.source == "measured":  # Linux + glibc
        assert set(c.seconds) == set(calibration.ALLOCATOR_SETTINGS)
        assert c.chosen == min(c.seconds, key=c.seconds.get)


@pytest.mark.parametrize("tuned_s, chosen, applied", [(1.0, "glibc_default", 0), (0.0, "keep_freed_memory", 1)])
def test_allocator_is_changed_only_to_the_winner(monkeypatch, tuned_s, chosen, applied):
    """The tuned allocator is timed in a forked process: this process's allocator is changed only when the
    tuning wins, and never 'released' (fixed 128 KiB thresholds are not glibc's default: 2x slower)."""
    from nwot.machine import allocator

    if not allocator.available():
        pytest.skip("allocator tuning exists only on Linux with glibc")
    calls = []
    monkeypatch.delenv(calibration.ENV_ALLOCATOR, raising=False)
    monkeypatch.setattr(calibration, "_tuned_allocator_seconds", lambda: tuned_s)
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append("keep") or True)
    monkeypatch.setattr(allocator, "release_freed_memory", lambda: pytest.fail("release_freed_memory called"))
    c = calibration._allocator_choice()
    assert (c.chosen, len(calls)) == (chosen, applied) and c.seconds["keep_freed_memory"] == tuned_s


def test_tuned_allocator_is_timed_in_a_child_process():
    from nwot.machine import allocator

    if not allocator.available():
        pytest.skip("allocator tuning exists only on Linux with glibc")
    assert 0 < calibration._tuned_allocator_seconds() < 60


def test_parallel_decision_rule():
    plan = parallel.decide_parallel({"serial": 1.0, "threads=2": 0.8, "workers=2": 0.52}, cores=2)
    assert (plan.threads, plan.workers, plan.mode) == (1, 2, "workers")
    plan = parallel.decide_parallel({"serial": 1.0, "threads=2": 0.4, "workers=2": 0.6}, cores=2)
    assert (plan.threads, plan.workers, plan.mode) == (1, 2, "workers")  # threads only when asked for
    plan = parallel.decide_parallel({"serial": 1.0, "threads=2": 0.4, "workers=2": 0.95}, cores=2)
    assert plan.mode == "serial"
    plan = parallel.decide_parallel({"serial": 1.0, "threads=2": 0.95, "workers=2": 0.97}, cores=2)
    assert plan.mode == "serial"  # less than PARALLEL_MIN_GAIN: a busy machine


@pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes are timed as forked processes")
def test_workers_are_timed_as_forked_processes_interleaved_with_serial_rounds():
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    calls = ctx.Value("i", 0)  # steps run in the children, counted across the fork
    order = []

    def step():
        with calls.get_lock():
            calls.value += 1

    out = parallel.process_rounds(step, 2, rounds=3, between=lambda: order.append(calls.value), steps=4)
    assert len(out) == 3 and all(s > 0 for s in out)
    # each child: one warm-up step, then 4 steps per round; `between` ran before each round, in this process,
    # when the children had finished the previous round and were waiting
    assert calls.value == 2 * (1 + 3 * 4)
    assert order == [2, 2 + 8, 2 + 16]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes are timed as forked processes")
def test_a_timing_process_that_dies_is_an_error_not_a_hang():
    parent = os.getpid()

    def step():
        if os.getpid() != parent:
            os._exit(3)

    with pytest.raises(NwotError, match=r"timing process .* died \(exit code 3\).*--workers"):
        parallel.process_rounds(step, 2, rounds=2)


def test_parallel_plan_options_env_and_errors(monkeypatch):
    assert parallel.parallel_plan("cpu", workers=3).workers == 3
    assert parallel.parallel_plan("cpu", threads=2).threads == 2
    with pytest.raises(NwotError, match="workers must be a positive int"):
        parallel.parallel_plan("cpu", workers=0)
    monkeypatch.setenv(calibration.ENV_WORKERS, "2")
    p = parallel.parallel_plan("cpu")
    assert (p.threads, p.workers, p.choice.source) == (1, 2, "NWOT_WORKERS=2")
    monkeypatch.setenv(calibration.ENV_WORKERS, "two")
    with pytest.raises(NwotError, match="NWOT_WORKERS='two'; allowed: a positive integer"):
        parallel.parallel_plan("cpu")
    monkeypatch.delenv(calibration.ENV_WORKERS)
    monkeypatch.setattr(parallel, "available_cores", lambda: 1)
    assert parallel.parallel_plan("cpu").choice.source == "one core"
    assert parallel.parallel_plan("cuda").workers == 1


def test_measured_parallel_plan_is_consistent():
    p = parallel.parallel_plan("cpu")
    if p.choice.source == "measured":
        s = p.choice.seconds
        assert set(s) == {"serial", f"threads={parallel.available_cores()}",
                          f"workers={parallel.available_cores()}"}
        assert p.mode == ("serial" if p.choice.chosen == "serial" else p.choice.chosen.split("=")[0])
        assert p.mode in parallel.AUTO_MODES


def test_info_reports_the_choices(capsys):
    from nwot.cli.main import main

    assert main(["info", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["torch"]["version"] == torch.__version__
    assert r["torch"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert r["choices"]["gram"]["chosen"] in gram.GRAM_METHODS
    assert r["choices"]["parallel"]["mode"] in ("serial", "threads", "workers")
    assert r["cpu"]["int8_product"].startswith(("oneDNN", "scalar loop", "unavailable"))
    assert r["calibration_s"] >= 0
    assert main(["info"]) == 0
    text = capsys.readouterr().out
    assert "Gram method" in text and "CPU flags" in text and "threads / workers" in text


def _info_json(env) -> dict:
    r = subprocess.run([sys.executable, "-m", "nwot.cli", "info", "--json"], cwd=REPO, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **env}, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def test_winner_per_dispatch_level():
    """The real calibration at the default dispatch and at AVX2 without VNNI int8 (printed with -s)."""
    levels = {"default": {}, "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
                                       "NWOT_EMULATE_INT8_WITHOUT_VNNI": "1"}}
    for name, env in levels.items():
        r = _info_json(env)
        g = r["choices"]["gram"]
        assert g["chosen"] == min(g["seconds"], key=g["seconds"].get)
        if name == "avx2":
            assert r["torch"]["cpu_capability"] == "AVX2" and r["cpu"]["int8_product"].startswith("scalar loop")
        print(f"\n{name}: {r['cpu']['model']} [{' '.join(r['cpu']['speed_flags'])}], "
              f"torch {r['torch']['cpu_capability']}, int8 {r['cpu']['int8_product']}: Gram {g['chosen']} ("
              + ", ".join(f"{m} {s * 1e3:.2f} ms" for m, s in g["seconds"].items()) + ")")
