"""Exact Gram products ``G = c cᵀ`` of 0/1 ReLU codes, by several methods.

Mellor et al., ICML 2021, arXiv:2006.04647, §3: with ``G = c cᵀ`` of a layer's codes
``c in {0,1}^(B x U)``, images i and j agree on ``U - G_ii - G_jj + 2 G_ij`` units, so the NASWOT
kernel needs one Gram matrix per layer (see :mod:`nwot.proxies.naswot`). Every method below gives the
same integers; which one is fastest depends on the CPU and is measured at run time
(:mod:`nwot.machine.calibration`, ``NWOT_GRAM_METHOD`` to force one):

* ``"int8"``: ``torch._int_mm`` of the bool codes reinterpreted as int8 (no copy), int32
  accumulation over column blocks of < 2^31 (exact). Torch routes it to oneDNN only on CPUs with
  AVX-512 VNNI (there ~5x faster than float32); elsewhere it is a scalar triple loop, ~20x *slower*.
* ``"float32"``: ``torch.mm`` of float 0/1 codes over column blocks of ≤ 2^24: partial sums are
  integers ≤ 2^24, exactly representable in float32 (24-bit significand).
* ``"float32_syrk"``: the same float32 codes through numpy's ``a @ a.T``, which BLAS computes as a
  symmetric rank-k update (``ssyrk``: one triangle, half the multiply-adds); CPU only, same blocks.
* ``"float64"``: ``torch.mm`` in float64 (exact up to 2^53); the CUDA method (TF32 only ever applies
  to float32, so it can never round these products).
* ``"bitpack"``: codes packed 64 to a word straight from the float32 activation, ``G_ij = Σ_w
  popcount(p_iw & p_jw)`` in integers (exact at any size); a C kernel compiled for this machine on first
  use (:mod:`nwot.proxies.bitgram`), CPU only, unavailable without a C compiler.

Codes of an ``nn.ReLU`` output ``t`` (``t >= 0``) are ``t != 0``: for int8 the bool cast ``t.bool()``,
for the float methods ``sign(t)`` (0 or 1 in one pass, ~5x cheaper than ``(t > 0).float()``). Other
activations use ``t > 0`` (``sign(relu(t))`` for the float methods). bfloat16 / float16 products are
not offered: their sums round beyond 2^8 / 2^11.
"""
from __future__ import annotations

import functools
import os
from typing import Tuple, Union

import numpy as np
import torch

from nwot.errors import NwotError, check_choice
from nwot.proxies import bitgram

#: Every exact method; :func:`methods_for` lists those a device can run.
GRAM_METHODS: Tuple[str, ...] = ("int8", "float32", "float32_syrk", "float64", "bitpack")
#: Methods that run on the CPU only (numpy / the native kernel).
CPU_ONLY_METHODS: Tuple[str, ...] = ("float32_syrk", "bitpack")
#: Methods whose Gram matrices are int64 (the others give float64).
INTEGER_METHODS: Tuple[str, ...] = ("int8", "bitpack")
#: Most columns per float32 block: partial sums of 0/1 products stay integers ≤ 2^24 (exact in float32).
FP32_EXACT_COLUMNS = 2 ** 24
#: Most columns per int8 block: int32 accumulation of 0/1 products is exact up to 2^31 - 1.
INT32_EXACT_COLUMNS = 2 ** 31 - 1

Codes = Union[np.ndarray, torch.Tensor]
#: ``NWOT_EMULATE_INT8_WITHOUT_VNNI=1`` (a measurement aid, read at import): run ``torch._int_mm`` the way
#: torch runs it on a CPU without AVX-512 VNNI, i.e. its scalar loop (torch takes oneDNN only when
#: ``userEnabledMkldnn() && is_avx512_vnni_supported()``, so oneDNN is switched off around the call).
#: Lets a VNNI machine show what the calibration picks on an AVX2 one. Same integers, ~20-100x slower.
EMULATE_INT8_WITHOUT_VNNI = os.environ.get("NWOT_EMULATE_INT8_WITHOUT_VNNI", "0") == "1"


def _int_mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    if not EMULATE_INT8_WITHOUT_VNNI or a.device.type != "cpu":
        return torch._int_mm(a, b)
    mkldnn = torch.backends.mkldnn
    before = mkldnn.enabled
    mkldnn.enabled = False
    try:
        return torch._int_mm(a, b)
    finally:
        mkldnn.enabled = before


@functools.cache
def int8_products_available() -> bool:
    """Whether this torch build multiplies int8 matrices into int32 on the CPU (``torch._int_mm``)."""
    if not hasattr(torch, "_int_mm"):
        return False
    a = torch.tensor([[1, 0, 1], [0, 1, 1]], dtype=torch.int8)
    try:
        return torch._int_mm(a, a.T).tolist() == [[2, 1], [1, 2]]
    except RuntimeError:
        return False


def methods_for(device: torch.device) -> Tuple[str, ...]:
    """The methods that can run on ``device``: on the CPU every method whose code is there (int8 if torch has
    ``_int_mm``, bitpack if its kernel built: :func:`unavailable_methods` says why not), other devices float64."""
    if device.type != "cpu":
        return ("float64",)
    missing = unavailable_methods()
    return tuple(m for m in GRAM_METHODS if m not in missing)


def unavailable_methods() -> dict:
    """CPU methods that cannot run here, with the reason (``{}`` when all can)."""
    out = {}
    if not int8_products_available():
        out["int8"] = "this torch build has no CPU torch._int_mm"
    k = bitgram.kernel()
    if not k.available:
        out["bitpack"] = k.reason
    return out


def codes_of(t: torch.Tensor, method: str, relu_output: bool) -> torch.Tensor:
    """The codes ``1[t > 0]`` of a flat (B, U) activation in the representation ``method`` multiplies.

    int8: a bool tensor (viewed as int8 by :func:`product`); float32 methods: float32 0/1; float64:
    float64 0/1; bitpack: int64 words of 64 codes (:mod:`nwot.proxies.bitgram`). ``relu_output``: ``t`` is
    an ``nn.ReLU`` output (``>= 0`` unless NaN), so ``t != 0`` (``sign(t)``) equals ``t > 0``.
    """
    if method == "bitpack":
        if t.dtype == torch.float32 and t.device.type == "cpu":
            return bitgram.pack_activation(t)[0]
        return bitgram.pack_codes(t > 0)
    if method == "int8":
        return t.bool() if relu_output else t > 0
    dtype = torch.float64 if method == "float64" else torch.float32
    if not t.is_floating_point():
        return (t > 0).to(dtype)
    x = t if relu_output else torch.relu(t)  # relu(t) > 0 <=> t > 0; sign(±0) = ±0 counts as 0
    return torch.sign(x).to(dtype) if x.dtype != dtype else torch.sign(x)


def product(codes: torch.Tensor, method: str) -> torch.Tensor:
    """``G = c cᵀ`` of codes from :func:`codes_of` (int64 for int8 and bitpack, float64 otherwise; exact)."""
    batch, units = codes.shape
    if method == "bitpack":
        if codes.device.type != "cpu":
            raise NwotError(f"gram method 'bitpack' runs on the CPU (native kernel), not on {codes.device}")
        return bitgram.gram_of_packed(codes)
    if method == "int8":
        G = torch.zeros((batch, batch), dtype=torch.int64, device=codes.device)
        for start in range(0, units, INT32_EXACT_COLUMNS):
            block = codes[:, start:start + INT32_EXACT_COLUMNS].contiguous().view(torch.int8)  # no copy
            if block.shape[1] == 1:  # (B, 1) has ambiguous strides, which _int_mm misreads: outer product
                G += block.to(torch.int64) @ block.to(torch.int64).T
            else:
                G += _int_mm(block, block.T)
        return G
    G = torch.zeros((batch, batch), dtype=torch.float64, device=codes.device)
    if method == "float32_syrk":
        if codes.device.type != "cpu":
            raise NwotError(f"gram method 'float32_syrk' runs on the CPU (numpy), not on {codes.device}")
        for start in range(0, units, FP32_EXACT_COLUMNS):
            a = np.ascontiguousarray(codes[:, start:start + FP32_EXACT_COLUMNS].numpy())
            G += torch.from_numpy(a @ a.T)  # BLAS ssyrk for a @ a.T of one buffer
        return G
    step = FP32_EXACT_COLUMNS if method == "float32" else max(units, 1)
    for start in range(0, units, step):
        block = codes[:, start:start + step]
        G += (block @ block.T).to(torch.float64)
    return G


def layer_gram(t: torch.Tensor, method: str, relu_output: bool = False) -> torch.Tensor:
    """``G = c cᵀ`` with ``c = 1[t > 0]`` of a flat (B, U) activation (see :func:`codes_of`)."""
    return product(codes_of(t, method, relu_output), method)


def as_codes(codes: Codes) -> torch.Tensor:
    if isinstance(codes, np.ndarray):
        codes = torch.from_numpy(codes)
    if not isinstance(codes, torch.Tensor):
        raise NwotError(f"codes must be a numpy array or torch tensor, got {type(codes).__name__}")
    if codes.dtype != torch.bool or codes.dim() != 2:
        raise NwotError(f"codes must be a bool (B, U) array, got {codes.dtype} of shape {tuple(codes.shape)}")
    return codes


def code_gram(codes: Codes, method: str) -> torch.Tensor:
    """``G = c cᵀ`` of bool codes (B, U) by ``method`` (one of :data:`GRAM_METHODS`); exact.

    ``G[i, j]`` = units active for both images i and j. int64 for ``"int8"`` and ``"bitpack"``, float64
    otherwise, on the codes' device.
    """
    c = as_codes(codes)
    check_choice("gram method", method, GRAM_METHODS)
    if method == "bitpack":
        if c.device.type != "cpu":
            raise NwotError(f"gram method 'bitpack' runs on the CPU (native kernel), not on {c.device}")
        return bitgram.gram_of_packed(bitgram.pack_codes(c))
    if method == "int8":
        return product(c, method)
    return product(c.to(torch.float64 if method == "float64" else torch.float32), method)
