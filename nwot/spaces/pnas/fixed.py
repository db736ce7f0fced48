"""The PNAS cell space restricted to cells of exactly B blocks, as a product of categorical choices.

The RL baseline PNAS compares against (NAS, Zoph et al., CVPR 2018, searched by an RNN controller) samples a
whole cell of B blocks as a sequence of ``(input_1, op_1, input_2, op_2)`` decisions per block (Liu et al., ECCV
2018, §5.3 compares both on the same space). This view exposes that sequence: an arch is the flat tuple
``(i1_0, op1_0, i2_0, op2_0, i1_1, ...)`` of ``4 B`` values, block ``b``'s inputs in ``0 .. b + 1``, so
factorised-policy strategies (:mod:`nwot.search.reinforce`) can search it.

Identity is the cell: :meth:`FixedBlocksView.encode` is the PNAS space's canonical string (the two halves of a
block in canonical order), so the same cell sampled as ``(a, b)`` or ``(b, a)`` is one cell (same checkpoint, same
name ``pnas``: cells trained by a PNAS search are reused); :meth:`decode` returns the canonical flat tuple.
Uniform draws per position give an unordered block with two different halves twice the probability of one with
two equal halves (as a controller emitting each half independently does).
"""
from __future__ import annotations

import random
from typing import Any, Tuple

from nwot.errors import OutOfSpaceError
from nwot.spaces.pnas.codec import NUM_CELL_INPUTS
from nwot.spaces.pnas.space import PNASCellSpace


class FixedBlocksView:
    """``space`` (a :class:`PNASCellSpace`) seen as flat tuples of exactly ``space.num_blocks`` blocks."""

    def __init__(self, space: PNASCellSpace) -> None:
        if not isinstance(space, PNASCellSpace):
            raise OutOfSpaceError(f"FixedBlocksView views a PNAS cell space, got {type(space).__name__}")
        self.inner = space
        self.name = space.name
        self.num_blocks = space.num_blocks

    @property
    def choices(self) -> Tuple[Tuple[Any, ...], ...]:
        out = []
        for b in range(self.num_blocks):
            inputs = tuple(range(b + NUM_CELL_INPUTS))
            out += [inputs, tuple(self.inner.ops), inputs, tuple(self.inner.ops)]
        return tuple(out)

    def blocks(self, flat: Any) -> Tuple[Tuple[Any, ...], ...]:
        vals = tuple(flat)
        if len(vals) != 4 * self.num_blocks:
            raise OutOfSpaceError(f"a {self.num_blocks}-block PNAS cell is a flat tuple of {4 * self.num_blocks} "
                                  f"values, got {len(vals)}: {flat!r}")
        return tuple(vals[4 * b: 4 * b + 4] for b in range(self.num_blocks))

    def flat(self, blocks: Any) -> Tuple[Any, ...]:
        return tuple(v for blk in blocks for v in blk)

    def encode(self, arch: Any) -> str:
        return self.inner.encode(self.blocks(arch))

    def decode(self, s: str) -> Tuple[Any, ...]:
        cell = self.inner.decode(s)
        if len(cell) != self.num_blocks:
            raise OutOfSpaceError(f"{s!r} has {len(cell)} blocks; this view holds cells of exactly {self.num_blocks}")
        return self.flat(cell)

    def sample(self, rng: random.Random) -> Tuple[Any, ...]:
        return tuple(rng.choice(c) for c in self.choices)

    def mutate(self, arch: Any, rng: random.Random) -> Tuple[Any, ...]:
        return self.flat(self.inner.mutate(self.blocks(arch), rng))

    def build(self, arch: Any, num_classes: int = 10, *, compat: str = "clean", **kwargs: Any):
        return self.inner.build(self.blocks(arch), num_classes, compat=compat, **kwargs)
