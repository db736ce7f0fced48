"""The search-space interface shared by every space, and the space registry.

A space owns its architecture type ``Arch`` (a hashable value: tuple, frozen dataclass or str) and
knows how to sample, mutate, encode/decode and build one::

    space = get_space("nb201")
    arch = space.sample(random.Random(0))
    model = space.build(arch, num_classes=10)
"""
from __future__ import annotations

import random
from typing import Any, Hashable, List, Protocol, runtime_checkable

import torch.nn as nn

from nwot.errors import check_choice
from nwot.registry import Registry

Arch = Hashable


@runtime_checkable
class SearchSpace(Protocol):
    """What a space provides (STYLE.md layout). ``decode(encode(a)) == a`` for every arch."""

    name: str

    def sample(self, rng: random.Random) -> Arch: ...

    def mutate(self, arch: Arch, rng: random.Random) -> Arch: ...

    def encode(self, arch: Arch) -> str: ...

    def decode(self, s: str) -> Arch: ...

    def build(self, arch: Arch, num_classes: int = 10, *, compat: str = "clean", **kwargs: Any) -> nn.Module:
        """The untrained network of ``arch``. ``compat="reference"``: as the NASWOT authors' code built it,
        where that differs (NDS AnyNets); other spaces build one network for both modes."""
        ...


# Optional declarations a space may make (read with getattr by the search setups, never switched on names):
#
# * ``train_build``: ``{training preset name: build kwargs}`` -- the macro skeleton (e.g. ``C``, ``N``) of the
#   networks trained under that preset (nwot.evaluators.train.PRESETS); a preset not listed builds the
#   space's own defaults;
# * ``weight_inheritance = True``: archs are individuals with ``uid`` / ``parent`` / ``inherits`` and a
#   learning-rate gene; training attaches the lineage hook (children start from their parent's weights).


def train_build_kwargs(space: Any, preset: str) -> dict:
    """The build kwargs ``space`` declares for training preset ``preset`` (``{}`` when it declares none)."""
    return dict((getattr(space, "train_build", None) or {}).get(preset, {}))


#: Scorer modes a space's ``build`` accepts (``nwot.proxies.naswot.COMPAT_MODES``).
BUILD_COMPAT_MODES = ("clean", "reference")


def check_build_compat(space: str, compat: str) -> None:
    """Raise unless ``compat`` is a scorer mode (a space without a reference build uses one network for both)."""
    check_choice(f"compat of the {space} builder", compat, BUILD_COMPAT_MODES)


SPACES: Registry[SearchSpace] = Registry("search space", builtins=(
    "nwot.spaces.blockqnn",
    "nwot.spaces.lse",
    "nwot.spaces.nasnet",
    "nwot.spaces.nats_sss",
    "nwot.spaces.nb101",
    "nwot.spaces.nb201",
    "nwot.spaces.nds",
    "nwot.spaces.pnas",
))
register_space = SPACES.register


def get_space(name: str, **kwargs: Any) -> SearchSpace:
    """Instantiate the registered space ``name`` (e.g. ``"nb201"``, ``"nats_sss"``, ``"nb101"``)."""
    return SPACES.create(name, **kwargs)


def list_spaces() -> List[str]:
    return SPACES.names()
