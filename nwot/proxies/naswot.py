"""The NASWOT score: log-determinant of the ReLU-code Hamming kernel of an untrained network.

Mellor, Turner, Storkey & Crowley, "Neural Architecture Search without Training", ICML 2021,
arXiv:2006.04647, §3. Push one minibatch of B images through the untrained network. At every ReLU
unit, image i gets the bit ``c = 1[pre-activation > 0]``; concatenating the bits of all N_A units
gives the binary code ``c_i``. With ``d_H`` the Hamming distance::

    K_H[i, j] = N_A - d_H(c_i, c_j)          (B x B, integer entries in [0, N_A])
    s         = log |det K_H|                (-inf when K_H is singular)

A network whose units carve the images into distinct linear regions gets a well-conditioned
kernel and a high score; the paper (§4, Fig. 3) shows s correlates with trained accuracy.

**Accumulation.** The kernel is built layer by layer, one matrix product per ReLU call, without
storing the codes. For a layer with U units and codes ``c in {0,1}^(B x U)``, the number of units on
which images i and j agree is ``c cᵀ + (1-c)(1-c)ᵀ``. With the Gram matrix ``G = c cᵀ`` (units
active for both images) and ``r_i = G_ii`` (units active for image i) this is
``U - r_i - r_j + 2 G_ij``: one product per layer. Summing over layers, with ``S = Σ G`` and
``R = diag(S)``::

    K_H[i, j] = N_A - R_i - R_j + 2 S_ij

so the scorer only accumulates ``S`` and forms ``K_H`` once, after the forward pass.

**Exactness.** Every entry is an integer up to N_A, and every product below is exact whatever the
summation order (no rounding anywhere):

* ``G`` is formed by one of the exact methods of :mod:`nwot.proxies.gram` (int8 ``_int_mm`` with int32
  accumulation, float32 over column blocks of ≤ 2^24 by torch or by a BLAS symmetric rank-k update,
  or float64), whichever measured fastest on this machine (:mod:`nwot.machine.calibration`;
  ``NWOT_GRAM_METHOD`` forces one). ``S`` is int64 (int8) or float64 (exact up to 2^53).
* CUDA: float64 products (exact up to 2^53), so TF32, which only applies to float32, is never used.
* Repeated codes (several ReLUs of one unchanged tensor) and all-zero layers reuse or skip the
  product (see ``_KernelAccumulator``); the sum is the same integer matrix.
* ``"bitpack"`` (:mod:`nwot.proxies.bitgram`) packs the codes of a float32 CPU activation and checks it
  for NaN / inf in the same single pass, then counts ``popcount(p_i & p_j)`` in integers.

``K_H`` is returned in float64, exact up to 2^53. Each hooked activation is checked for NaN / inf
with one reduction (``aminmax``; ``amax`` for an ``nn.ReLU``'s own output, which is ``>= 0`` unless
NaN / inf, and whose codes are then the cheaper ``t != 0``); the checks are read once after the
forward pass, so a CUDA forward is never stalled by a host synchronisation per layer.

**Which units.** Clean mode counts every call of an ``nn.ReLU`` module (subclasses included), reading
the code from the hook's *output*: ``ReLU(x) > 0 <=> x > 0``, so this equals the pre-activation
test, and it stays correct for ``inplace=True`` ReLUs (whose input tensor is overwritten). Other
activations (``ReLU6``, ``LeakyReLU``, ``GELU``...) are not counted, and functional ``F.relu`` /
``torch.relu`` calls are invisible to module hooks: a model needs ``nn.ReLU`` modules. A module
called twice (a shared ``nn.ReLU``) contributes both calls.

**Network state.** As in the paper's setup (§3 and its released code), the network is untrained with
PyTorch's default init (seed it with :func:`torch_seed`) and BatchNorm normalises with the
minibatch's own statistics (train mode): with default init, eval-mode BN would be the identity. Clean
mode puts BatchNorm layers in train mode and every other module in eval mode (no dropout noise),
runs under ``torch.no_grad``, and afterwards restores each module's train/eval flag and every buffer
(BN running statistics), so scoring leaves the model as it found it, apart from the device it was
moved to. On CUDA the forward's convolutions run in IEEE float32 (cuDNN's default TF32 is switched
off for the pass) with deterministic algorithms, so GPU scores are reproducible; they can still differ
from CPU scores wherever the two devices round an activation near zero differently. Choosing the
B = 128 training images and the network's output width is the caller's job.

**compat="reference"** reproduces the authors' released code (BayesWatch/nas-without-training,
``score_networks.py`` + ``scores.py``, v2), which differs from the definition above:

1. it hooks every module whose ``str(type(module))`` contains "ReLU" — on NAS-Bench-201 that includes
   the ``ReLUConvBN`` containers, whose input is their inner ReLU's input, so those units count twice;
2. it thresholds the module's *input* at > 0;
3. the whole network is in train mode (BatchNorm with batch statistics);
4. a preliminary forward + backward of ``ones_like(logits)`` marks the hooked modules whose output
   receives a gradient; only those count in the second, scoring forward;
5. each layer's ``x xᵀ`` and ``(1-x)(1-x)ᵀ`` (``x = (inp > 0).float()``) are formed in float32 and
   added to a float64 kernel (both are exact integers while U ≤ 2^24, so such layers are accumulated
   exactly as in clean mode; wider layers take the float32 terms, rounding and all);
6. the score is slogdet's log-abs-det.

There the caller supplies the released code's inputs: 128 CIFAR-10 training images and networks with
one output unit (``num_classes=1``). When the model returns a tuple, its first element is taken as
the logits (the released ``TinyNetwork`` returns ``(logits, features)``). Deviations, none of which
changes a finite score: the released code swallows every error inside its hooks (here errors are
raised), mutates the model (``.grad``, BN statistics; here restored), and reports slogdet's rounding
noise for a numerically singular kernel (here ``-inf``, as in clean mode).
"""
from __future__ import annotations

import contextlib
import weakref
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from nwot.errors import NwotError, check_choice
from nwot.machine.device import DeviceLike, resolve_device
from nwot.proxies import bitgram as _bitgram
from nwot.proxies import gram as _gram
from nwot.proxies.gram import FP32_EXACT_COLUMNS as _FP32_EXACT_COLUMNS  # noqa: F401
from nwot.proxies.gram import GRAM_METHODS  # noqa: F401

#: ``"clean"``: the paper's definition (§3), exact. ``"reference"``: the released code's behaviour.
COMPAT_MODES: Tuple[str, ...] = ("clean", "reference")
#: Minibatch size of the paper's experiments (§4).
DEFAULT_BATCH_SIZE = 128
Codes = Union[np.ndarray, torch.Tensor]


# --------------------------------------------------------------------------------------------------
# Pure maths: codes -> kernel -> score.
# --------------------------------------------------------------------------------------------------


def _as_codes(codes: Codes) -> torch.Tensor:
    return _gram.as_codes(codes)


def gram_method(device: torch.device) -> str:
    """The exact product used for ``c cᵀ`` on ``device``: the fastest measured one (one of :data:`GRAM_METHODS`).

    On the CPU each method is timed once per process on a representative block and the fastest is kept
    (``NWOT_GRAM_METHOD`` forces one); other devices use float64. See :mod:`nwot.machine.calibration`.
    """
    from nwot.proxies.gram_choice import gram_choice

    return gram_choice(device).chosen


def code_gram(codes: Codes, method: Optional[str] = None) -> torch.Tensor:
    """``G = c cᵀ`` of bool codes (B, U): ``G[i, j]`` = units active for both images i and j (exact).

    ``method`` (default: :func:`gram_method` of the codes' device) is one of :data:`GRAM_METHODS`
    (:mod:`nwot.proxies.gram`). The result is int64 for ``"int8"``, float64 otherwise, on the codes' device.
    """
    c = _as_codes(codes)
    return _gram.code_gram(c, gram_method(c.device) if method is None else method)


def kernel_from_gram(S: torch.Tensor, n_units: int) -> torch.Tensor:
    """``K[i, j] = N_A - S_ii - S_jj + 2 S_ij`` (float64): agreements from the summed Gram matrices.

    ``S = Σ_layers c cᵀ`` over codes with ``N_A`` units in all; exact in int64 and in float64 up to 2^53.
    """
    d = S.diagonal()
    return (n_units - d[:, None] - d[None, :] + 2 * S).to(torch.float64)


def kernel_from_codes(codes: Codes) -> torch.Tensor:
    """One layer's kernel ``c cᵀ + (1-c)(1-c)ᵀ = U - r_i - r_j + 2 (c cᵀ)_ij`` (float64, exact).

    ``codes`` is a bool (B, U) array: image i's bit at unit u, ``r_i`` = image i's active units.
    Entry (i, j) is the number of units on which images i and j agree, ``U - d_H(c_i, c_j)``. The
    result is on the codes' device.
    """
    c = _as_codes(codes)
    return kernel_from_gram(code_gram(c), c.shape[1])


def hamming_kernel_update(K: torch.Tensor, codes: Codes) -> torch.Tensor:
    """``K + kernel_from_codes(codes)``: add one layer to a running kernel (a new tensor, K untouched)."""
    if not isinstance(K, torch.Tensor) or K.dtype != torch.float64:
        raise NwotError(f"K must be a float64 torch tensor, got {getattr(K, 'dtype', type(K).__name__)}")
    c = _as_codes(codes)
    if K.shape != (c.shape[0], c.shape[0]):
        raise NwotError(f"K of shape {tuple(K.shape)} does not match codes for {c.shape[0]} images")
    return K + kernel_from_codes(c.to(K.device))


def reference_layer_terms(codes: Codes) -> Tuple[torch.Tensor, torch.Tensor]:
    """The released code's layer terms ``x xᵀ`` and ``(1-x)(1-x)ᵀ``, formed in float32 (rule 5).

    ``x = codes.float()``. Both are exact (hence equal to :func:`kernel_from_codes`' sum) while
    U ≤ 2^24; they are returned separately because the released code adds them to its float64 kernel
    one after the other.
    """
    x = _as_codes(codes).to(torch.float32)
    return x @ x.T, (1.0 - x) @ (1.0 - x).T


def logdet_score(K: Union[torch.Tensor, np.ndarray]) -> float:
    """``s = log |det K|`` via float64 slogdet; ``-inf`` when K is singular.

    Singular means slogdet's sign is 0 or K's numerical rank (``torch.linalg.matrix_rank``, default
    tolerance ``max(B) * eps * sigma_max``) is below B: for such a K, slogdet would return rounding
    noise rather than a log-determinant.
    """
    if isinstance(K, np.ndarray):
        K = torch.from_numpy(K)
    if not isinstance(K, torch.Tensor) or K.dim() != 2 or K.shape[0] != K.shape[1] or K.shape[0] == 0:
        raise NwotError(f"K must be a non-empty square matrix, got {getattr(K, 'shape', type(K).__name__)}")
    K = K.detach().to(device="cpu", dtype=torch.float64)
    if not torch.isfinite(K).all():
        raise NwotError("K contains NaN or inf entries")
    sign, logabsdet = torch.linalg.slogdet(K)
    if sign.item() == 0 or not torch.isfinite(logabsdet):
        return float("-inf")
    rank = torch.linalg.matrix_rank(K, hermitian=bool(torch.equal(K, K.T)))
    if rank.item() < K.shape[0]:
        return float("-inf")
    return float(logabsdet.item())


# --------------------------------------------------------------------------------------------------
# Hooks: read codes during the forward pass and add each layer to the kernel.
# --------------------------------------------------------------------------------------------------


class _KernelAccumulator:
    """The running sum ``S = Σ c cᵀ`` of one scoring forward pass, its unit count, and deferred checks.

    Work saved, exactly (``tests/proxies/test_naswot_fast_paths.py`` compares each with the naive kernel):

    * **one product per distinct activation.** Codes that are a function of one input tensor (an
      ``nn.ReLU``'s output, or reference mode's ``input > 0``) are identical for every call on the same,
      unmodified tensor: in NB201 a node feeds up to three edges' ``ReLUConvBN``. Such a call is keyed
      by its input (the same Python tensor object, alive, with the same data pointer, shape, strides
      and version counter, so no in-place change in between) and adds the ``G`` computed for the first
      call again. (A write through ``.data`` bypasses the version counter; the scorer's own hooks never
      write, and models that do so between two ReLUs of one input are not supported.)
    * **all-zero layers.** On the CPU an ``nn.ReLU`` output whose maximum (already taken for the
      NaN / inf check) is 0 has all codes 0: ``G = 0``, no product.
    """

    def __init__(self, batch: int, device: torch.device, reference: bool) -> None:
        self.method = gram_method(device)
        integer = self.method in _gram.INTEGER_METHODS
        self.S = torch.zeros((batch, batch), dtype=torch.int64 if integer else torch.float64, device=device)
        self.rounded: Optional[torch.Tensor] = None  # reference mode, layers > 2^24 units: float32 terms
        self.batch = batch
        self.reference = reference
        self.cpu = device.type == "cpu"
        self.n_units = 0  # N_A counted in S
        self.n_calls = 0  # hooked module calls seen (counted or not)
        self.n_products = 0  # Gram products computed (the rest were repeats or all-zero layers)
        self.finite: List[Tuple[str, torch.Tensor]] = []  # (where, 0-dim bool) read after the forward
        self._seen: List[tuple] = []  # (weakref to the source tensor, its identity, G or None, units)

    @staticmethod
    def _identity(t: torch.Tensor) -> tuple:
        return t.data_ptr(), tuple(t.shape), t.stride(), t._version

    def _repeat(self, source: Optional[torch.Tensor]):
        """The cached ``(G, units)`` of an earlier call on ``source`` (unchanged since), else None."""
        if source is None:
            return None
        ident = self._identity(source)
        alive = []
        hit = None
        for entry in self._seen:
            ref = entry[0]()
            if ref is None:
                continue  # the tensor is gone: its address may be reused, so the entry is dropped
            alive.append(entry)
            if ref is source and entry[1] == ident:
                hit = entry
        self._seen = alive
        return None if hit is None else (hit[2], hit[3])

    def add(self, t, where: str, relu_output: bool = False, source: Optional[torch.Tensor] = None) -> None:
        """Add one hooked activation's codes ``t > 0``; its NaN / inf check is read in :meth:`kernel`.

        ``relu_output``: ``t`` is the output of an ``nn.ReLU`` itself (not a subclass), so every entry is
        ``>= 0``, ``+inf`` or NaN. Then ``t > 0`` equals ``t != 0`` (a 5x cheaper cast) except at NaN,
        and the maximum alone (NaN propagates) detects every non-finite entry. ``source``: the tensor
        the codes are a function of (see the class docstring), or None.
        """
        if not isinstance(t, torch.Tensor):
            raise NwotError(f"{where}: expected a tensor, got {type(t).__name__}")
        if t.dim() == 0 or t.shape[0] != self.batch:
            raise NwotError(f"{where}: activation of shape {tuple(t.shape)} has no batch dimension of {self.batch}")
        flat = t.detach().reshape(self.batch, -1)
        units = flat.shape[1]
        if units == 0:
            return
        if self.reference and units > _gram.FP32_EXACT_COLUMNS:
            self._add_rounded(flat, where)
            return
        cached = self._repeat(source)
        if cached is not None:  # same codes as an earlier call: its check is done, its G known
            if cached[0] is not None:
                self.S += cached[0]
            self.n_units += units
            return
        G = None
        if self.method == "bitpack" and flat.dtype == torch.float32 and self.cpu:
            G, finite = _bitgram.activation_gram(flat)  # one pass: codes, NaN / inf check, all-zero test
            self.finite.append((where, torch.tensor(finite)))
        elif relu_output and flat.is_floating_point():
            hi = flat.amax()
            self.finite.append((where, torch.isfinite(hi)))
            if not (self.cpu and hi.item() == 0):  # all codes 0 (an all-zero layer): G = 0
                G = _gram.layer_gram(flat, self.method, relu_output=True)
        else:
            if flat.is_floating_point():
                lo, hi = torch.aminmax(flat)  # one pass; NaN propagates, so both finite <=> all finite
                self.finite.append((where, torch.isfinite(lo) & torch.isfinite(hi)))
            G = _gram.layer_gram(flat, self.method, relu_output=False)
        if G is not None:
            self.S += G
            self.n_products += 1
        self.n_units += units
        if source is not None:
            self._seen.append((weakref.ref(source), self._identity(source), G, units))

    def _add_rounded(self, flat: torch.Tensor, where: str) -> None:
        """Reference mode, a layer of > 2^24 units: the released code's float32 terms, rounding and all."""
        if flat.is_floating_point():
            lo, hi = torch.aminmax(flat)
            self.finite.append((where, torch.isfinite(lo) & torch.isfinite(hi)))
        xx, nn_ = reference_layer_terms(flat > 0)
        if self.rounded is None:
            self.rounded = torch.zeros((self.batch, self.batch), dtype=torch.float64, device=self.S.device)
        self.rounded += xx.to(torch.float64)
        self.rounded += nn_.to(torch.float64)

    def kernel(self) -> torch.Tensor:
        """``K_H`` (float64, on the accumulator's device); raises if any activation was NaN or inf."""
        if self.finite:
            ok = torch.stack([flag for _, flag in self.finite]).cpu()  # one host synchronisation
            if not bool(ok.all()):
                where = self.finite[int((~ok).nonzero()[0])][0]
                raise NwotError(f"{where}: activation contains NaN or inf; the network diverges on this batch "
                                f"(check the images' normalisation and the weight init)")
        K = kernel_from_gram(self.S, self.n_units)
        return K if self.rounded is None else K + self.rounded


class _KernelHook:
    """Forward hook: add one call's codes (clean: output > 0; reference: input > 0) to the kernel."""

    def __init__(self, acc: _KernelAccumulator, name: str, flagged: Optional[Set[str]]) -> None:
        self.acc, self.name, self.flagged = acc, name, flagged

    def __call__(self, module: nn.Module, inputs: tuple, output) -> None:
        self.acc.n_calls += 1
        first = inputs[0] if isinstance(inputs, tuple) and inputs else inputs
        first = first if isinstance(first, torch.Tensor) else None
        exact_relu = type(module) is nn.ReLU
        if self.flagged is None:
            t = output
            source = first if exact_relu and len(inputs) == 1 else None  # nn.ReLU: output = relu(input)
        elif self.name not in self.flagged:
            return
        else:
            t = source = first  # reference mode: the codes are input > 0
            if t is None:
                t = inputs
        self.acc.add(t, f"module {self.name or '<root>'} ({type(module).__name__})",
                     relu_output=self.flagged is None and exact_relu, source=source)


class _GradientProbe:
    """Forward hook of the reference mode's preliminary pass: flags the module when its output gets a gradient.

    Like the released code's legacy module backward hook, it watches the first output tensor.
    """

    def __init__(self, flagged: Set[str], name: str) -> None:
        self.flagged, self.name = flagged, name

    def __call__(self, module: nn.Module, inputs: tuple, output) -> None:
        t = _first_tensor(output)
        if t is not None and t.requires_grad:
            t.register_hook(self.mark)

    def mark(self, grad: torch.Tensor) -> None:
        self.flagged.add(self.name)


def _first_tensor(output) -> Optional[torch.Tensor]:
    while isinstance(output, (tuple, list)) and output:
        output = output[0]
    return output if isinstance(output, torch.Tensor) else None


@contextlib.contextmanager
def _forward_hooks(modules: Sequence[Tuple[str, nn.Module]], make_hook: Callable[[str], Callable]) -> Iterator[None]:
    """Register ``make_hook(name)`` on each module for the block; always removed afterwards."""
    handles = []
    try:
        for name, module in modules:
            handles.append(module.register_forward_hook(make_hook(name)))
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def _ieee_float32_convolutions(device: torch.device) -> Iterator[None]:
    """On CUDA: cuDNN convolutions in IEEE float32 (no TF32) with a deterministic algorithm; restored after.

    PyTorch lets cuDNN use TF32 for float32 convolutions by default (Ampere and later), which rounds
    inputs to 10-bit mantissas and moves activations near zero across it, changing codes. Other
    devices are left alone.
    """
    if device.type != "cuda":
        yield
        return
    cudnn = torch.backends.cudnn
    conv = getattr(cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):  # torch >= 2.9 API
        flag, holder, ieee = "fp32_precision", conv, "ieee"
    else:
        flag, holder, ieee = "allow_tf32", cudnn, False
    saved = (getattr(holder, flag), cudnn.deterministic, cudnn.benchmark)
    setattr(holder, flag, ieee)
    cudnn.deterministic, cudnn.benchmark = True, False
    try:
        yield
    finally:
        setattr(holder, flag, saved[0])
        cudnn.deterministic, cudnn.benchmark = saved[1], saved[2]


@contextlib.contextmanager
def _scoring_state(model: nn.Module, compat: str) -> Iterator[None]:
    """Set the scoring train/eval modes; afterwards restore every module's flag and every buffer.

    BatchNorm layers normalise with batch statistics (train mode) but are switched to
    ``track_running_stats=False`` for the pass, so they never write their running statistics (the
    batch-statistics arithmetic is the same, bit for bit): their buffers need no copy. Every other
    buffer is saved and copied back.
    """
    modes: Dict[nn.Module, bool] = {m: m.training for m in model.modules()}
    untracked = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    skip = {id(b) for m in untracked for b in m.buffers(recurse=False)}
    buffers = [(b, b.detach().clone()) for b in model.buffers() if id(b) not in skip]
    try:
        if compat == "reference":
            model.train()
        else:
            model.eval()
            for m in model.modules():
                if isinstance(m, _BatchNorm):
                    m.train()
        for m in untracked:
            m.track_running_stats = False
        yield
    finally:
        for m in untracked:
            m.track_running_stats = True
        for m, training in modes.items():
            m.training = training
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)


def _hooked_modules(model: nn.Module, compat: str) -> List[Tuple[str, nn.Module]]:
    if compat == "reference":
        found = [(n, m) for n, m in model.named_modules() if "ReLU" in str(type(m))]
        what = "module whose type name contains 'ReLU'"
    else:
        found = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.ReLU)]
        what = "nn.ReLU module"
    if not found:
        raise NwotError(f"{type(model).__name__} has no {what}: NASWOT reads its codes with forward hooks on "
                        f"nn.ReLU modules, and functional F.relu / torch.relu calls are invisible to them; "
                        f"build the network with nn.ReLU modules")
    return found


def _check_inputs(model, images) -> None:
    if not isinstance(model, nn.Module):
        raise NwotError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise NwotError(f"images must be a floating-point torch tensor (B, C, H, W), got "
                        f"{getattr(images, 'dtype', type(images).__name__)}")
    if images.dim() < 2 or images.shape[0] < 1:
        raise NwotError(f"images must have a batch dimension with B >= 1, got shape {tuple(images.shape)}")
    if images.numel() and not torch.isfinite(torch.stack(torch.aminmax(images.detach()))).all():
        raise NwotError("images contain NaN or inf values")


def _tensors(model: nn.Module) -> Iterator[torch.Tensor]:
    yield from model.parameters()
    yield from model.buffers()


def _logits(output) -> torch.Tensor:
    t = output[0] if isinstance(output, (tuple, list)) and output else output
    if not isinstance(t, torch.Tensor):
        raise NwotError(f"reference mode needs the model to return a tensor of logits (or a tuple starting "
                        f"with one), got {type(output).__name__}")
    return t


def _gradient_flags(model: nn.Module, x: torch.Tensor, hooked: Sequence[Tuple[str, nn.Module]]) -> Set[str]:
    """Rule 4: names of hooked modules whose output receives a gradient from ``ones_like(logits)``.

    ``torch.autograd.grad`` over the input and every parameter runs the same backward graph as the
    released code's ``logits.backward(...)`` without writing ``.grad`` into the model.
    """
    flagged: Set[str] = set()
    leaf = x.detach().clone().requires_grad_(True)
    with torch.enable_grad(), _forward_hooks(hooked, lambda name: _GradientProbe(flagged, name)):
        logits = _logits(model(leaf.clone()))  # a non-leaf input, so an inplace first layer is allowed
        if not logits.requires_grad:
            raise NwotError("reference mode: the model's logits do not depend differentiably on its input")
        wrt = [leaf] + [p for p in model.parameters() if p.requires_grad]
        torch.autograd.grad(logits, wrt, grad_outputs=torch.ones_like(logits), allow_unused=True)
    return flagged


# --------------------------------------------------------------------------------------------------
# Public API.
# --------------------------------------------------------------------------------------------------


def naswot_kernel(model: nn.Module, images: torch.Tensor, *, compat: str = "clean",
                  device: DeviceLike = None) -> torch.Tensor:
    """The B x B kernel ``K_H[i, j] = N_A - d_H(c_i, c_j)`` of ``model`` on ``images`` (float64, on CPU).

    Mellor et al., ICML 2021, arXiv:2006.04647, §3; see the module docstring for the units counted,
    the network state, exactness and ``compat`` ("clean" or "reference"). The model is moved to
    ``device`` (None: CUDA when available) and stays there; the images are copied to it, so an
    inplace first layer cannot modify them. In clean mode ``K_H[i, i] = N_A``.
    """
    check_choice("compat", compat, COMPAT_MODES)
    _check_inputs(model, images)
    dev = resolve_device(device)
    hooked = _hooked_modules(model, compat)
    if any(t.device != dev for t in _tensors(model)):  # Module.to visits every module even when nothing moves
        model.to(dev)
    x = images.detach().to(dev, copy=True)
    acc = _KernelAccumulator(x.shape[0], dev, reference=compat == "reference")
    with _scoring_state(model, compat), _ieee_float32_convolutions(dev):
        flagged = _gradient_flags(model, x, hooked) if compat == "reference" else None
        with torch.no_grad(), _forward_hooks(hooked, lambda name: _KernelHook(acc, name, flagged)):
            model(x)
    if acc.n_calls == 0:
        names = ", ".join(n or "<root>" for n, _ in hooked[:5])
        raise NwotError(f"none of the model's {len(hooked)} hooked ReLU modules ({names}...) was called in the "
                        f"forward pass; NASWOT needs nn.ReLU modules that the forward actually uses")
    return acc.kernel().cpu()


def naswot_score(model: nn.Module, images: torch.Tensor, *, compat: str = "clean",
                 device: DeviceLike = None) -> float:
    """``s = log |det K_H|`` of ``model`` on ``images`` (higher is better); ``-inf`` if K_H is singular.

    Mellor et al., ICML 2021, arXiv:2006.04647, §3. Arguments as for :func:`naswot_kernel`; NaN or
    inf images or activations raise :class:`~nwot.errors.NwotError`.
    """
    return logdet_score(naswot_kernel(model, images, compat=compat, device=device))
