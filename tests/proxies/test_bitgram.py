"""The ``bitpack`` Gram method (``nwot/proxies/bitgram.c``) and the native-kernel build (``nwot.machine.native``).

Packing is checked bit by bit on hand-written activations, the popcount products against explicit pair
counts, the fused finiteness / all-zero flags on NaN, +-inf, -0.0 and negative entries, and the build on
a missing compiler, a compile error and the cache. Skipped (failed under CI) where no C compiler exists.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nwot.errors import NwotError
from nwot.machine import calibration, native
from nwot.proxies import bitgram, gram, gram_choice
from nwot.proxies.naswot import naswot_kernel


@pytest.fixture(autouse=True)
def kernel_built():
    from conftest import require_gram_method

    require_gram_method("bitpack")


def pair_counts(codes: np.ndarray) -> list:
    n = codes.shape[0]
    return [[int(np.count_nonzero(codes[i] & codes[j])) for j in range(n)] for i in range(n)]


def test_packing_puts_unit_64w_plus_k_at_bit_k_of_word_w():
    x = torch.zeros((2, 130))
    x[0, [0, 3, 63, 64, 129]] = 1.0  # words 0 (bits 0, 3, 63), 1 (bit 0), 2 (bit 1)
    x[0, 5] = -2.0  # negative: code 0
    x[1, 127] = 0.25
    packed, finite, any_set = bitgram.pack_activation(x)
    words = packed.numpy().view(np.uint64)
    assert words.shape == (2, 3) and finite and any_set
    assert words[0].tolist() == [1 | 1 << 3 | 1 << 63, 1, 1 << 1]
    assert words[1].tolist() == [0, 1 << 63, 0]
    assert torch.equal(packed, bitgram.pack_codes(x > 0))  # bool codes pack to the same bits


@pytest.mark.parametrize("shape", [(1, 1), (5, 1), (1, 7), (3, 63), (4, 64), (6, 65), (9, 301), (17, 1000)])
def test_products_equal_pair_counts(shape):
    g = torch.Generator().manual_seed(sum(shape))
    t = torch.randn(shape, generator=g)
    codes = (t > 0).numpy()
    G, finite = bitgram.activation_gram(t)
    assert finite and G.dtype == torch.int64
    assert G.tolist() == pair_counts(codes)
    assert gram.code_gram(codes, "bitpack").tolist() == pair_counts(codes)
    assert gram.layer_gram(t.double(), "bitpack").tolist() == pair_counts(codes)  # non-float32: bool codes


def test_non_contiguous_activation_is_packed_as_its_values():
    t = torch.randn((40, 8), generator=torch.Generator().manual_seed(3)).T  # (8, 40), transposed strides
    G, _ = bitgram.activation_gram(t)
    assert G.tolist() == pair_counts((t > 0).numpy())


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("column", [5, 70, 199])  # in a full 64-unit word (vector path) and in the tail
def test_one_non_finite_entry_is_reported(bad, column):
    t = torch.rand((3, 200))
    t[2, column] = bad
    _, finite, _ = bitgram.pack_activation(t)
    assert not finite


def test_all_zero_and_negative_layers_have_no_product():
    t = torch.zeros((4, 100))
    t[1, :50] = -0.0
    t[2, :50] = -3.0
    G, finite = bitgram.activation_gram(t)
    assert G is None and finite


def test_scorer_reports_a_nan_activation_with_bitpack(monkeypatch):
    monkeypatch.setenv(gram_choice.ENV_GRAM, "bitpack")
    calibration.reset()
    try:
        model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 1))
        with torch.no_grad():
            model[0].bias[2] = float("nan")
        with pytest.raises(NwotError, match=r"module 1 \(ReLU\).*NaN or inf"):
            naswot_kernel(model, torch.randn(5, 4), device="cpu")
    finally:
        calibration.reset()


def test_calibration_checks_bitpack_against_the_other_methods():
    c = gram_choice.measure_gram(gram.methods_for(torch.device("cpu")))
    assert "bitpack" in c.screen and c.chosen in c.seconds  # timed beside the others, same integers


# ------------------------------------------------------------------------------------------------
# The build.
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def fresh_build(monkeypatch, tmp_path):
    """``native.load`` with an empty cache folder; the real kernel is reloaded afterwards."""
    monkeypatch.setenv("NWOT_CACHE_DIR", str(tmp_path / "cache"))
    native.load.cache_clear()
    yield tmp_path
    native.load.cache_clear()


def test_kernel_is_compiled_once_then_reused_from_the_cache(fresh_build):
    first = native.load(bitgram.SOURCE)
    assert first.available and first.reason.startswith("compiled ") and first.path.parent == fresh_build / "cache"
    native.load.cache_clear()
    again = native.load(bitgram.SOURCE)
    assert again.reason == f"cached {first.path}"
    assert [p.name for p in (fresh_build / "cache").iterdir()] == [first.path.name]  # no temporary left


def test_missing_compiler_makes_the_kernel_unavailable_with_the_reason(fresh_build, monkeypatch):
    monkeypatch.setenv("CC", "no-such-cc-nwot")
    k = native.load(bitgram.SOURCE)
    assert not k.available and "no C compiler: 'no-such-cc-nwot' is not on PATH" in k.reason
    assert "bitpack" not in gram.methods_for(torch.device("cpu"))
    assert "no-such-cc-nwot" in gram.unavailable_methods()["bitpack"]
    monkeypatch.setenv(gram_choice.ENV_GRAM, "bitpack")
    calibration.reset()
    try:
        with pytest.raises(NwotError, match=r"NWOT_GRAM_METHOD='bitpack': that method is unavailable here "
                                            r"\(no C compiler"):
            gram_choice.gram_choice("cpu")
        with pytest.raises(NwotError, match="gram method 'bitpack' is unavailable: no C compiler"):
            bitgram.activation_gram(torch.ones((2, 3)))
    finally:
        calibration.reset()


def test_compile_error_and_opt_out_are_reasons(fresh_build, monkeypatch):
    broken = fresh_build / "broken.c"
    broken.write_text("int f( {\n")
    k = native.load(broken)
    assert not k.available and k.reason.startswith("cc failed on broken.c (exit 1): ")
    assert not list((fresh_build / "cache").glob("*.so"))  # nothing half-written is kept
    native.load.cache_clear()
    monkeypatch.setenv(native.ENV_NO_NATIVE, "1")
    assert native.load(bitgram.SOURCE).reason == "NWOT_NO_NATIVE=1"
