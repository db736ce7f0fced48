"""AnyNet networks of the NDS CIFAR design spaces (Vanilla, ResNet, ResNeXt-A, ResNeXt-B).

Radosavovic et al., "On Network Design Spaces for Visual Recognition", ICCV 2019 (NDS): a network
is a stem, ``S`` stages and a head; stage ``i`` stacks ``d_i`` blocks of output width ``w_i``, the
first with stride ``s_i`` (pycls ``AnyNet``, the code NDS trained with)::

    stem:  res_stem_cifar = Conv3x3(3 -> stem_w, stride 1) -> BN -> ReLU        (NDS CIFAR default)
    stage: d_i blocks, block 1: (w_{i-1} -> w_i, stride s_i), others (w_i -> w_i, stride 1)
    head:  global average pool -> Linear(w_S -> num_classes)

Blocks (``y`` = block output; every conv without bias, every BN default eps 1e-5 / momentum 0.1)::

    vanilla_block (NDS "double_plain_block", Vanilla space):
        y = ReLU(BN(Conv3x3(ReLU(BN(Conv3x3_s(x))))))
    res_basic_block (ResNet space):
        y = ReLU(shortcut(x) + BN(Conv3x3(ReLU(BN(Conv3x3_s(x))))))
    res_bottleneck_block (ResNeXt-A / -B spaces), inner width w_b = round(w_out * bm):
        y = ReLU(shortcut(x) + BN(Conv1x1(ReLU(BN(GConv3x3_s,g(ReLU(BN(Conv1x1(x)))))))))

``shortcut`` is ``BN(Conv1x1_s(x))`` when the width or the resolution changes, else ``x``;
``GConv3x3_s,g`` is a 3x3 conv with ``g`` groups.

The NDS files store a stage-wise config per record (``net``): ``block_type``, ``ds`` (depths),
``ws`` (widths), ``ss`` (strides), ``bot_muls`` (bottleneck multipliers) and ``num_gs`` (number of
groups; old pycls ``ANYNET.NUM_GS``: "Number of groups for each stage"), the last two empty for
basic / vanilla blocks. The stem is not in the record: the CIFAR default here is the one of pycls's
NDS CIFAR configs (``configs/archive/cifar/anynet/{R,V}-56_nds_1gpu.yaml``: ``STEM_TYPE:
res_stem_cifar``, ``STEM_W: 16``, ``STRIDES: [1, 2, 2]``).

``compat="reference"`` reproduces the NASWOT authors' loader instead (``nasspace.py`` ``NDS.get_network``
of BayesWatch/nas-without-training): ``stem_w = 12``, an ImageNet stem (``res_stem_in`` = Conv7x7/2 ->
BN -> ReLU -> MaxPool3x3/2 for ResNet and ResNeXt, ``simple_stem_in`` = Conv3x3/2 -> BN -> ReLU for
Vanilla), and ``num_gs`` read as a *group width* (groups ``g = w_b // num_gs``).

Weights are initialised as pycls ``init_weights``: conv ``N(0, sqrt(2 / (k*k*C_out)))``, BN weight 1 and
bias 0, linear ``N(0, 0.01)`` with bias 0, drawn from the global torch RNG (wrap the build in
``nwot.seeding.torch_seed``). Every ReLU is an out-of-place ``nn.ReLU`` module; no class name contains
"ReLU" (the NASWOT reference scorer hooks such containers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, List, Mapping, Optional, Tuple

import torch
import torch.nn as nn

from nwot.errors import NwotError, OutOfSpaceError, check_choice

BLOCK_TYPES = ("vanilla_block", "res_basic_block", "res_bottleneck_block")
#: Block names as the NDS files spell them -> pycls name.
NDS_BLOCK_ALIASES = {"double_plain_block": "vanilla_block"}
STEM_TYPES = ("res_stem_cifar", "res_stem_in", "simple_stem_in")
#: Stem used for the NDS CIFAR spaces (pycls ``*_nds_1gpu.yaml``).
CIFAR_STEM_TYPE, CIFAR_STEM_W = "res_stem_cifar", 16
#: What the NASWOT authors' loader used (module docstring).
NASWOT_STEM_W = 12
COMPATS = ("clean", "reference")
#: Keys an NDS AnyNet ``net`` config may carry (the stage lists; pycls-style names also accepted).
ANYNET_NET_KEYS = ("block_type", "ds", "ws", "ss", "bot_muls", "num_gs", "bms", "gws", "stem_type", "stem_w",
                   "se_r", "nc")


@dataclass(frozen=True)
class AnyNetConfig:
    """A fully specified AnyNet (one entry per stage in the tuples)."""

    block_type: str  # one of BLOCK_TYPES
    depths: Tuple[int, ...]  # blocks per stage (d_i)
    widths: Tuple[int, ...]  # output width of every block of the stage (w_i)
    strides: Tuple[int, ...]  # stride of the stage's first block (s_i)
    bot_muls: Optional[Tuple[float, ...]] = None  # bottleneck blocks: inner width round(w_i * bm_i)
    groups: Optional[Tuple[int, ...]] = None  # bottleneck blocks: groups of the 3x3 conv (g_i)
    stem_type: str = CIFAR_STEM_TYPE  # one of STEM_TYPES
    stem_w: int = CIFAR_STEM_W  # stem output width

    def __post_init__(self) -> None:
        check_choice("AnyNet block_type", self.block_type, BLOCK_TYPES)
        check_choice("AnyNet stem_type", self.stem_type, STEM_TYPES)
        _check_positive_int("stem_w", self.stem_w)
        n = len(self.depths)
        if n == 0:
            raise OutOfSpaceError("an AnyNet needs at least one stage (empty ds)")
        for name in ("widths", "strides"):
            if len(getattr(self, name)) != n:
                raise OutOfSpaceError(f"AnyNet {name} has {len(getattr(self, name))} entries, depths has {n}")
        for name, values in (("depths", self.depths), ("widths", self.widths), ("strides", self.strides)):
            for v in values:
                _check_positive_int(f"{name} entry", v)
        bottleneck = self.block_type == "res_bottleneck_block"
        if bottleneck:
            if self.bot_muls is None or self.groups is None or len(self.bot_muls) != n or len(self.groups) != n:
                raise OutOfSpaceError(f"res_bottleneck_block needs one bottleneck multiplier and one group count "
                                      f"per stage ({n}); got bot_muls={self.bot_muls!r}, groups={self.groups!r}")
            for w, bm, g in zip(self.widths, self.bot_muls, self.groups):
                if isinstance(bm, bool) or not isinstance(bm, (int, float)) or not bm > 0:
                    raise OutOfSpaceError(f"bottleneck multiplier must be a positive number, got {bm!r}")
                _check_positive_int("group count", g)
                w_b = bottleneck_width(w, bm)
                if w_b < 1 or w_b % g:
                    raise OutOfSpaceError(f"bottleneck width round({w} * {bm}) = {w_b} is not divisible into {g} "
                                          f"groups")
        elif self.bot_muls or self.groups:
            raise OutOfSpaceError(f"{self.block_type} takes no bottleneck multipliers / groups; got "
                                  f"bot_muls={self.bot_muls!r}, groups={self.groups!r}")

    @property
    def num_stages(self) -> int:
        return len(self.depths)


def _check_positive_int(name: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise OutOfSpaceError(f"AnyNet {name} must be a positive int, got {v!r}")


def bottleneck_width(w_out: int, bm: float) -> int:
    """``w_b = round(w_out * bm)`` (pycls ``BottleneckTransform``)."""
    return int(round(w_out * bm))


def _stage_list(net: Mapping[str, Any], key: str) -> Tuple[Any, ...]:
    v = net[key]
    if not isinstance(v, (list, tuple)):
        raise OutOfSpaceError(f"NDS AnyNet net[{key!r}] must be a list (one entry per stage), got {v!r}")
    return tuple(v)


def config_from_nds(net: Mapping[str, Any], space: Optional[str] = None, compat: str = "clean") -> AnyNetConfig:
    """Turn an NDS record's ``net`` dict into an :class:`AnyNetConfig` (module docstring for both ``compat``).

    ``space`` (``"ResNet"``, ``"ResNeXt-A"``, ``"ResNeXt-B"``, ``"Vanilla"``) only matters for
    ``compat="reference"`` (which stem the NASWOT loader picked). pycls-style keys ``bms`` / ``gws``
    (group *width*) and explicit ``stem_type`` / ``stem_w`` are honoured when a config carries them.
    """
    check_choice("compat", compat, COMPATS)
    if not isinstance(net, Mapping):
        raise OutOfSpaceError(f"an NDS AnyNet net config must be a dict, got {type(net).__name__}: {net!r}")
    missing = [k for k in ("block_type", "ds", "ws", "ss") if k not in net]
    extra = [k for k in net if k not in ANYNET_NET_KEYS]
    if missing or extra:
        raise OutOfSpaceError(f"NDS AnyNet net config needs keys block_type, ds, ws, ss (optional bot_muls, "
                              f"num_gs); missing {missing}, unexpected {extra}")
    if net.get("se_r"):
        raise OutOfSpaceError(f"squeeze-and-excitation (se_r={net['se_r']!r}) is not part of the NDS spaces")
    block_type = NDS_BLOCK_ALIASES.get(net["block_type"], net["block_type"])
    check_choice("NDS block_type", block_type, tuple(NDS_BLOCK_ALIASES) + BLOCK_TYPES)
    depths, widths, strides = (_stage_list(net, k) for k in ("ds", "ws", "ss"))
    bot_muls = _stage_list(net, "bot_muls") if "bot_muls" in net else (_stage_list(net, "bms") if "bms" in net else ())
    bot_muls_t = tuple(bot_muls) or None
    groups: Optional[Tuple[int, ...]] = None
    if block_type == "res_bottleneck_block":
        if bot_muls_t is None or len(bot_muls_t) != len(depths):
            raise OutOfSpaceError(f"res_bottleneck_block needs bot_muls with one entry per stage; got {bot_muls!r}")
        if "num_gs" in net and net["num_gs"]:
            num_gs = _stage_list(net, "num_gs")
            if compat == "reference":  # NASWOT: num_gs passed to pycls as group widths
                groups = tuple(_groups_from_width(w, bm, gw) for w, bm, gw in zip(widths, bot_muls_t, num_gs))
            else:
                groups = num_gs
        elif "gws" in net and net["gws"]:
            gws = _stage_list(net, "gws")
            groups = tuple(_groups_from_width(w, bm, gw) for w, bm, gw in zip(widths, bot_muls_t, gws))
        else:
            raise OutOfSpaceError("res_bottleneck_block needs num_gs (groups per stage) or gws (group widths)")
    elif bot_muls_t or net.get("num_gs") or net.get("gws"):
        raise OutOfSpaceError(f"{net['block_type']} takes no bot_muls / num_gs; got {dict(net)!r}")
    if compat == "reference":
        stem_type = "res_stem_in" if space is not None and space.startswith("ResN") else "simple_stem_in"
        stem_w = NASWOT_STEM_W
    else:
        stem_type = net.get("stem_type", CIFAR_STEM_TYPE)
        stem_w = net.get("stem_w", CIFAR_STEM_W)
    return AnyNetConfig(block_type, depths, widths, strides, bot_muls_t if block_type == "res_bottleneck_block"
                        else None, groups, stem_type, stem_w)


def _groups_from_width(w: Any, bm: Any, gw: Any) -> int:
    if isinstance(gw, bool) or not isinstance(gw, int) or gw < 1:
        raise OutOfSpaceError(f"group width must be a positive int, got {gw!r}")
    if isinstance(w, bool) or not isinstance(w, int) or isinstance(bm, bool) or not isinstance(bm, (int, float)):
        raise OutOfSpaceError(f"stage width / bottleneck multiplier must be numbers, got {w!r}, {bm!r}")
    g = bottleneck_width(w, bm) // gw
    if g < 1:
        raise OutOfSpaceError(f"group width {gw} exceeds the bottleneck width round({w} * {bm})")
    return g


# --------------------------------------------------------------------------------------------------
# Modules (pycls AnyNet layout: stem, s1..sS of b1..bd, head)
# --------------------------------------------------------------------------------------------------


def _conv_bn(w_in: int, w_out: int, k: int, stride: int = 1, groups: int = 1) -> List[nn.Module]:
    return [nn.Conv2d(w_in, w_out, k, stride=stride, padding=k // 2, groups=groups, bias=False), nn.BatchNorm2d(w_out)]


class ResStemCifar(nn.Module):
    """``Conv3x3(3 -> w, stride 1) -> BN -> ReLU``. Parameters ``27w + 2w``."""

    def __init__(self, w_in: int, w_out: int) -> None:
        super().__init__()
        self.f = nn.Sequential(*_conv_bn(w_in, w_out, 3), nn.ReLU(inplace=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.f(x)


class ResStemIN(nn.Module):
    """``Conv7x7(3 -> w, stride 2) -> BN -> ReLU -> MaxPool3x3/2`` (ImageNet ResNet stem)."""

    def __init__(self, w_in: int, w_out: int) -> None:
        super().__init__()
        self.f = nn.Sequential(*_conv_bn(w_in, w_out, 7, 2), nn.ReLU(inplace=False),
                               nn.MaxPool2d(3, stride=2, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.f(x)


class SimpleStemIN(nn.Module):
    """``Conv3x3(3 -> w, stride 2) -> BN -> ReLU``."""

    def __init__(self, w_in: int, w_out: int) -> None:
        super().__init__()
        self.f = nn.Sequential(*_conv_bn(w_in, w_out, 3, 2), nn.ReLU(inplace=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.f(x)


STEMS = {"res_stem_cifar": ResStemCifar, "res_stem_in": ResStemIN, "simple_stem_in": SimpleStemIN}


class VanillaBlock(nn.Module):
    """``[Conv3x3 -> BN -> ReLU] x 2`` (first conv strided). Parameters ``9*w_in*w + 2w + 9*w*w + 2w``."""

    def __init__(self, w_in: int, w_out: int, stride: int, bm: Optional[float] = None, g: Optional[int] = None) -> None:
        super().__init__()
        self.f = nn.Sequential(*_conv_bn(w_in, w_out, 3, stride), nn.ReLU(inplace=False),
                               *_conv_bn(w_out, w_out, 3), nn.ReLU(inplace=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.f(x)


class _Residual(nn.Module):
    """``ReLU(shortcut(x) + f(x))`` with a projection shortcut when the shape changes."""

    f: nn.Module

    def _init_shortcut(self, w_in: int, w_out: int, stride: int) -> None:
        self.proj = nn.Sequential(*_conv_bn(w_in, w_out, 1, stride)) if (w_in != w_out or stride != 1) else None
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = x if self.proj is None else self.proj(x)
        return self.relu(skip + self.f(x))


class ResBasicBlock(_Residual):
    """Residual basic block (He et al., CVPR 2016): ``f = Conv3x3_s -> BN -> ReLU -> Conv3x3 -> BN``."""

    def __init__(self, w_in: int, w_out: int, stride: int, bm: Optional[float] = None, g: Optional[int] = None) -> None:
        super().__init__()
        self._init_shortcut(w_in, w_out, stride)
        self.f = nn.Sequential(*_conv_bn(w_in, w_out, 3, stride), nn.ReLU(inplace=False), *_conv_bn(w_out, w_out, 3))


class ResBottleneckBlock(_Residual):
    """Residual bottleneck (Xie et al., ResNeXt, CVPR 2017).

    ``f = 1x1 -> BN -> ReLU -> G-3x3_s -> BN -> ReLU -> 1x1 -> BN`` with inner width ``round(w_out * bm)``.
    """

    def __init__(self, w_in: int, w_out: int, stride: int, bm: float = 1.0, g: int = 1) -> None:
        super().__init__()
        self._init_shortcut(w_in, w_out, stride)
        w_b = bottleneck_width(w_out, bm)
        self.f = nn.Sequential(*_conv_bn(w_in, w_b, 1), nn.ReLU(inplace=False),
                               *_conv_bn(w_b, w_b, 3, stride, groups=g), nn.ReLU(inplace=False),
                               *_conv_bn(w_b, w_out, 1))


BLOCKS = {"vanilla_block": VanillaBlock, "res_basic_block": ResBasicBlock, "res_bottleneck_block": ResBottleneckBlock}


class AnyStage(nn.Module):
    """``d`` blocks of width ``w``; the first maps ``w_in -> w`` with stride ``s``."""

    def __init__(self, block: type, w_in: int, w: int, s: int, d: int, bm: Optional[float], g: Optional[int]) -> None:
        super().__init__()
        for i in range(d):
            self.add_module(f"b{i + 1}", block(w_in if i == 0 else w, w, s if i == 0 else 1, bm, g))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.children():
            x = block(x)
        return x


class AnyNet(nn.Module):
    """The pycls AnyNet for a :class:`AnyNetConfig` (module docstring); ``forward`` returns the logits."""

    def __init__(self, cfg: AnyNetConfig, num_classes: int = 10) -> None:
        super().__init__()
        _check_positive_int("num_classes", num_classes)
        self.cfg = cfg
        self.stem = STEMS[cfg.stem_type](3, cfg.stem_w)
        block = BLOCKS[cfg.block_type]
        bms = cfg.bot_muls or (None,) * cfg.num_stages
        gs = cfg.groups or (None,) * cfg.num_stages
        w_prev = cfg.stem_w
        for i, (d, w, s, bm, g) in enumerate(zip(cfg.depths, cfg.widths, cfg.strides, bms, gs)):
            self.add_module(f"s{i + 1}", AnyStage(block, w_prev, w, s, d, bm, g))
            w_prev = w
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(w_prev, num_classes))
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self.children():
            x = module(x)
        return x


def init_weights(m: nn.Module) -> None:
    """pycls ``init_weights``: He-normal (fan-out) convs, unit BN, ``N(0, 0.01)`` linear, zero biases."""
    if isinstance(m, nn.Conv2d):
        fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
        m.weight.data.normal_(mean=0.0, std=math.sqrt(2.0 / fan_out))
    elif isinstance(m, nn.BatchNorm2d):
        m.weight.data.fill_(1.0)
        m.bias.data.zero_()
    elif isinstance(m, nn.Linear):
        m.weight.data.normal_(mean=0.0, std=0.01)
        m.bias.data.zero_()


def build_anynet(cfg: AnyNetConfig, num_classes: int = 10) -> nn.Module:
    """The AnyNet of ``cfg``; init from the global torch RNG (wrap in ``nwot.seeding.torch_seed``)."""
    if not isinstance(cfg, AnyNetConfig):
        raise NwotError(f"build_anynet needs an AnyNetConfig, got {type(cfg).__name__}; "
                        f"use config_from_nds(net) for an NDS record")
    return AnyNet(cfg, num_classes)


def build_from_net(net: Mapping[str, Any], num_classes: int = 10, space: Optional[str] = None,
                   compat: str = "clean", **overrides: Any) -> nn.Module:
    """Build from an NDS record's ``net`` dict; ``overrides`` replace config fields (e.g. ``stem_w=16``)."""
    cfg = config_from_nds(net, space=space, compat=compat)
    if overrides:
        cfg = replace(cfg, **overrides)
    return build_anynet(cfg, num_classes)


__all__ = ["AnyNetConfig", "AnyNet", "config_from_nds", "build_anynet", "build_from_net", "bottleneck_width",
           "init_weights", "BLOCK_TYPES", "STEM_TYPES", "VanillaBlock", "ResBasicBlock", "ResBottleneckBlock"]
