"""The open NASNet / AmoebaNet cell space as a registered search space (``nasnet``).

Arch maths in :mod:`nwot.spaces.nasnet.codec`; the network is the NDS / DARTS CIFAR network of
:mod:`nwot.spaces.nds.cell_model` (stem, ``3N + 2`` cells with reduction cells at positions ``N`` and
``2N + 1``, global pool, linear), built from :func:`~nwot.spaces.nasnet.codec.genotype`. Unlike ``nds:NASNet`` /
``nds:Amoeba`` (defined by the trained records of the NDS files), this space is open: it samples and mutates
genotypes itself, so searches with real training need no records.
"""
from __future__ import annotations

import random
from typing import Any, Optional, Sequence, Tuple

from nwot.errors import check_int
from nwot.spaces.base import check_build_compat, register_space
from nwot.spaces.nasnet import codec
from nwot.spaces.nds.cell_model import OPS as CELL_OPS
from nwot.spaces.nds.cell_model import build_nds_cell


@register_space("nasnet")
class NASNetCellSpace:
    """Normal + reduction cells of ``nodes`` pairwise combinations over ``ops`` (default: AmoebaNet's 8 ops)."""

    name = "nasnet"

    def __init__(self, nodes: int = codec.DEFAULT_NODES, ops: Optional[Sequence[str]] = None) -> None:
        self.nodes = check_int("nodes (pairwise combinations per cell)", nodes, minimum=1)
        self.ops = codec.check_ops(codec.AMOEBA_OPS if ops is None else ops,
                                   [o for o in CELL_OPS if o != "none"])

    @property
    def choices(self) -> Tuple[Tuple[Any, ...], ...]:
        """Allowed values per flat position (:func:`nwot.search.categorical.categorical_view` reads this)."""
        return codec.choices(self.nodes, self.ops)

    def check(self, arch: Any) -> codec.Arch:
        return codec.check(arch, self.nodes, self.ops)

    def is_valid(self, arch: Any) -> bool:
        try:
            self.check(arch)
            return True
        except codec.OutOfSpaceError:
            return False

    def encode(self, arch: codec.Arch) -> str:
        return codec.encode(arch, self.nodes, self.ops)

    def decode(self, s: str) -> codec.Arch:
        return codec.decode(s, self.nodes, self.ops)

    def genotype(self, arch: codec.Arch):
        """The NDS genotype dict of ``arch`` (what ``nds:NASNet`` / ``nds:Amoeba`` records hold)."""
        return codec.genotype(self.check(arch), self.nodes)

    def sample(self, rng: random.Random) -> codec.Arch:
        return codec.sample(rng, self.nodes, self.ops)

    def mutate(self, arch: codec.Arch, rng: random.Random) -> codec.Arch:
        return codec.mutate(arch, rng, self.nodes, self.ops)

    def build(self, arch: codec.Arch, num_classes: int = 10, *, compat: str = "clean", C: int = 16, N: int = 2,
              **kwargs: Any):
        """The CIFAR network of ``arch``: width ``C`` (even), ``N`` normal cells per stage (depth ``3N + 2``).
        ``compat``: one network for both scorer modes."""
        check_build_compat(self.name, compat)
        check_int("N (normal cells per stage)", N, minimum=1)
        if kwargs:
            raise codec.NwotError(f"unexpected build options for the nasnet space: {sorted(kwargs)}; allowed: C, N")
        return build_nds_cell(self.genotype(arch), width=C, depth=3 * N + 2, num_classes=num_classes)
