"""The zero-cost proxy interface: what a proxy declares, what it is given, what it returns.

A **proxy** maps an untrained network and one batch of data to a number that should rank networks
like their trained accuracy. Each proxy is one small class registered under its name
(:func:`register_proxy`); it declares

* ``direction``: whether a higher value predicts a better network (:class:`Direction`);
* ``needs`` (:class:`Needs`): gradients, labels, its paper's batch size, input of ones / Gaussian
  noise instead of images, float64, what BatchNorm does, whether it must alter the weights;
* ``paper`` (:class:`Paper`): authors, venue, arXiv id and section of the equation it implements,
  and ``equation``: that equation in one line (also in the class docstring);
* ``modes``: ``"clean"`` is the paper's equation; ``"reference"`` (where offered) reproduces the
  authors' released code where it deviates from the paper, the way :func:`nwot.naswot_score`'s
  ``compat="reference"`` does for NASWOT. Each deviation is listed in the proxy's docstring.

A proxy computes from a :class:`~nwot.proxies.context.ScoringContext`, which owns the network, the
batch and the passes several proxies share (one cross-entropy forward/backward serves snip,
grad_norm, plain, fisher and grasp; one input-Jacobian serves jacov and epe_nas). It returns a
float, or raises :class:`ProxyFailure` with a :class:`Status`; :func:`nwot.proxies.score_proxies`
turns both into a :class:`ProxyResult`. A failure is a value: it is never scored 0 and never loses
the other proxies' values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Dict, List, Optional, Tuple, Type

import torch

from nwot.errors import NwotError, check_choice
from nwot.registry import Registry

#: Modes a proxy may offer: the paper's equation, or the authors' released code where it deviates.
MODES: Tuple[str, ...] = ("clean", "reference")
#: Version of the proxy implementations; part of every stored score name, so that scores computed by
#: an older implementation are never mixed with new ones. Bump a proxy's own ``version`` instead
#: when only that proxy changes.
INTERFACE_VERSION = 1


class Direction(str, Enum):
    """Whether a higher or a lower proxy value predicts a better (more accurate) network."""

    HIGHER = "higher"
    LOWER = "lower"


class Status(str, Enum):
    """Outcome of one proxy on one network (failures are values, never a silent 0)."""

    OK = "ok"  # a finite value, or -inf where -inf is the proxy's documented value (NASWOT's singular kernel)
    NAN = "nan"  # the computation produced NaN / inf (e.g. a zero-variance Jacobian row)
    SINGULAR = "singular"  # a matrix the equation inverts or takes the log-det of is singular
    NO_PATH = "no_path"  # the output does not depend on the input (no input->output path in the cell)
    ERROR = "error"  # any other exception, with its message as the reason


@dataclass(frozen=True)
class Paper:
    authors: str  # "Lee & Lee & Torr"
    title: str
    venue: str  # "ICLR 2019"
    arxiv: str  # "1810.02340"
    section: str  # where the equation is, e.g. "§3, Eq. 6"


@dataclass(frozen=True)
class Needs:
    """What a proxy needs from the network and the batch."""

    gradients: bool = False  # backward passes through the network
    labels: bool = False  # the batch's labels (a cross-entropy loss, per-class statistics)
    batch_size: Optional[int] = None  # images its paper uses (first n of the batch); None = no images
    input: str = "images"  # "images" | "ones" (a single all-ones input) | "gaussian" (N(0, 1) noise) | "none"
    dtype: str = "float32"  # "float32" | "float64" (the network is cast on a fresh copy)
    bn: str = "train"  # BatchNorm: "train" (batch statistics) | "bypass" (BN removed) | "n/a"
    alters_weights: bool = False  # works on a fresh copy whose weights it changes (|θ|, re-init)
    init: str = "default"  # "default" (the builder's PyTorch init) or the re-init it applies


@dataclass(frozen=True)
class Batch:
    """A scoring batch: normalised images (B, C, H, W), their labels (B,) and the number of classes."""

    images: torch.Tensor
    labels: Optional[torch.Tensor] = None
    num_classes: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.images, torch.Tensor) or self.images.dim() != 4:
            raise NwotError(f"Batch.images must be a (B, C, H, W) tensor, got "
                            f"{type(self.images).__name__} {tuple(getattr(self.images, 'shape', ()))}")
        if self.labels is not None:
            if not isinstance(self.labels, torch.Tensor) or self.labels.shape != (self.images.shape[0],):
                raise NwotError(f"Batch.labels must be a ({self.images.shape[0]},) tensor, got "
                                f"{tuple(getattr(self.labels, 'shape', ()))}")
            if self.labels.numel() and (int(self.labels.min()) < 0 or int(self.labels.max()) >= self.num_classes):
                raise NwotError(f"Batch.labels must lie in 0..{self.num_classes - 1}, got "
                                f"{int(self.labels.min())}..{int(self.labels.max())}")
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 1:
            raise NwotError(f"Batch.num_classes must be a positive int, got {self.num_classes!r}")

    @property
    def size(self) -> int:
        return int(self.images.shape[0])


@dataclass(frozen=True)
class ProxyResult:
    """One proxy's outcome on one network: ``value`` is NaN unless ``status`` is ok (or a documented -inf)."""

    name: str
    value: float
    status: Status = Status.OK
    reason: str = ""
    seconds: float = 0.0  # wall seconds of this proxy, including shared passes it triggered first
    config: str = ""  # the full configuration id (:meth:`Proxy.config_id`)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


class ProxyFailure(Exception):
    """Raised inside a proxy to record a failure with its status (see :class:`Status`).

    ``value`` is what is stored with the failure: NaN, or the proxy's documented sentinel (NASWOT's
    ``-inf`` for a singular kernel, which ranks below every finite score)."""

    def __init__(self, status: Status, reason: str, value: float = float("nan")) -> None:
        super().__init__(reason)
        self.status, self.reason, self.value = Status(status), reason, float(value)


def finite_or_fail(value: float, what: str) -> float:
    """``value`` as a float; a NaN / inf raises :class:`ProxyFailure` (status nan) naming ``what``."""
    v = float(value)
    if not math.isfinite(v):
        raise ProxyFailure(Status.NAN, f"{what} is {v}")
    return v


class Proxy:
    """Base class of every proxy (see the module docstring). Subclasses set the class attributes."""

    name: str = ""
    direction: Direction = Direction.HIGHER
    needs: Needs = Needs()
    paper: Optional[Paper] = None
    equation: str = ""
    modes: Tuple[str, ...] = ("clean",)
    version: int = 1  # bump when this proxy's computation changes
    #: Per-mode overrides of ``needs`` (e.g. a reference mode that re-initialises the weights).
    mode_needs: Dict[str, Needs] = {}
    #: Non-finite values that are this proxy's documented result, stored with status ok (AZ-NAS reference
    #: trainability's ``-inf`` for an identity block); any other NaN / inf is recorded as status nan.
    sentinels: Tuple[float, ...] = ()

    #: Batch size override set by :func:`score_proxies` (``batch_sizes=``); None = the paper's.
    batch_override: Optional[int] = None

    def compute(self, ctx, mode: str) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def batch_size(self) -> Optional[int]:
        """Images this proxy uses: the override if set, else its paper's (``needs.batch_size``)."""
        return self.batch_override if self.batch_override is not None else self.needs.batch_size

    def set_batch_size(self, n: int) -> None:
        """Score on ``n`` images instead of the paper's batch (only proxies that take one image batch)."""
        if self.needs.input != "images" or self.needs.batch_size is None or getattr(self, "fixed_batch", False):
            raise NwotError(f"proxy {self.name!r} has a fixed input ({self.needs.input}, batch "
                            f"{self.needs.batch_size}); its batch size cannot be changed")
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise NwotError(f"batch size of proxy {self.name!r} must be an int >= 2, got {n!r}")
        self.batch_override = n

    def needs_for(self, mode: str) -> Needs:
        self.check_mode(mode)
        return self.mode_needs.get(mode, self.needs)

    def check_mode(self, mode: str) -> None:
        check_choice(f"mode of proxy {self.name!r}", mode, self.modes)

    def resolve_mode(self, mode: str) -> str:
        """``mode`` if this proxy offers it; ``"reference"`` falls back to ``"clean"`` for a proxy
        whose released code does not deviate from its paper (it then offers only ``"clean"``)."""
        check_choice("mode", mode, MODES)
        return mode if mode in self.modes else "clean"

    def config_id(self, mode: str, batch_size: Optional[int] = None) -> str:
        """The full configuration as one string, the store's ``score_name``:
        ``name[mode=...,bs=...,input=...,dtype=...,bn=...,init=...,v=I.V]``. Two scores share a
        config id only if they were computed the same way."""
        n = self.needs_for(mode)
        bs = self.batch_size if batch_size is None else batch_size
        return (f"{self.name}[mode={mode},bs={bs if bs is not None else '-'},input={n.input},dtype={n.dtype},"
                f"bn={n.bn},init={n.init},v={INTERFACE_VERSION}.{self.version}]")

    def describe(self) -> Dict[str, object]:
        """A JSON-friendly summary (for provenance files and docs)."""
        return {"name": self.name, "direction": self.direction.value, "modes": list(self.modes),
                "needs": {m: vars(self.needs_for(m)) for m in self.modes}, "equation": self.equation,
                "paper": vars(self.paper) if self.paper else None, "version": self.version}


_PROXIES: Registry[Proxy] = Registry("proxy", builtins=tuple(f"nwot.proxies.{m}" for m in (
    "az_nas", "epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "meco", "naswot_proxy",
    "params", "plain", "snip", "swap", "synflow", "te_nas", "vkdnw", "zen", "zico",
)))


def register_proxy(cls: Type[Proxy]) -> Type[Proxy]:
    """Class decorator: register ``cls`` (a :class:`Proxy` subclass) under ``cls.name``.

    The declaration is checked here, so a proxy that forgets its direction, paper or batch size
    fails at import time, not at scoring time.
    """
    if not (isinstance(cls, type) and issubclass(cls, Proxy)):
        raise NwotError(f"register_proxy takes a Proxy subclass, got {cls!r}")
    if not cls.name or not isinstance(cls.direction, Direction) or cls.paper is None or not cls.equation:
        raise NwotError(f"proxy {cls.__name__} must declare name, direction, paper and equation")
    for m in cls.modes:
        check_choice(f"mode of proxy {cls.name!r}", m, MODES)
    if "clean" not in cls.modes:
        raise NwotError(f"proxy {cls.name!r} must offer mode 'clean' (the paper's equation)")
    _PROXIES.register(cls.name)(cls)
    return cls


def get_proxy(name: str) -> Proxy:
    """A fresh instance of the proxy registered as ``name``; an unknown name lists the known ones."""
    return _PROXIES.create(name)


def list_proxies() -> List[str]:
    """Names of all registered proxies, sorted."""
    return _PROXIES.names()


def proxy_table() -> Dict[str, Callable[[], Proxy]]:
    """Name -> factory of every registered proxy."""
    return {n: _PROXIES.get(n) for n in list_proxies()}
